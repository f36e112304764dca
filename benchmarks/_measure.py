"""Wall time and peak memory of a command or of a block of Python code."""

import resource
import subprocess
import sys
import time


def peak_rss_mb(children=False):
    usage = resource.getrusage(resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF)
    return usage.ru_maxrss / 1024  # kilobytes on Linux


def run(command, **kwargs):
    """Run ``command``; return (wall seconds, peak RSS in MB of the largest child process)."""
    started = time.perf_counter()
    process = subprocess.run(command, **kwargs)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(f"command failed ({process.returncode}): {' '.join(map(str, command))}")
    return wall, peak_rss_mb(children=True)


def machine():
    import os
    import platform

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
