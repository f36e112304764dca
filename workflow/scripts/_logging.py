"""Shared by the workflow's scripts: make the package importable and send stderr/logging to the rule's log."""

import logging
import sys
from pathlib import Path
from traceback import format_exception_only

# The workflow's own package comes first: the src/ beside this script, whether the workflow runs from a
# checkout, from a conda environment of envs/ (which holds the dependencies, not the package) or as a
# Snakemake module of another workflow (scripts then run from the caller's working directory).
# (Snakemake's preamble may already list it, after site-packages: move it to the front.)
WORKFLOW_SRC = Path(__file__).resolve().parents[2] / "src"
if WORKFLOW_SRC.is_dir():
    sys.path[:] = [str(WORKFLOW_SRC)] + [p for p in sys.path if p != str(WORKFLOW_SRC)]


def _report_on_console(console, log_path, rule):
    """An excepthook: the traceback goes to the rule's log, as everything else; the error's own line (the
    project's message, naming the file and the problem) also goes to the console, where Snakemake would
    otherwise show only that the script failed."""

    def hook(kind, error, traceback):
        sys.__excepthook__(kind, error, traceback)  # to sys.stderr: the log
        summary = "".join(format_exception_only(kind, error)).strip()
        console.write(f"NeuroLIP error in rule {rule}: {summary}\n(full traceback: {log_path})\n")
        console.flush()

    return hook


def log_to_file(snakemake):
    """Redirect stderr (progress bars, warnings, tracebacks) and logging to ``snakemake.log[0]``; an
    uncaught error's summary line is printed on the console too."""
    handle = open(snakemake.log[0], "a", buffering=1)
    sys.excepthook = _report_on_console(sys.stderr, snakemake.log[0], snakemake.rule)
    sys.stderr = handle
    logging.basicConfig(
        stream=handle,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.captureWarnings(True)
    import neurolip

    logging.getLogger(neurolip.__name__).info("neurolip package: %s", Path(neurolip.__file__).parent)
    return handle
