"""Shared by the workflow's scripts: make the package importable and send stderr/logging to the rule's log."""

import logging
import sys
from pathlib import Path

try:  # installed (make demo's virtual environment) ...
    import neurolip  # noqa: F401
except ImportError:  # ... or a conda environment of envs/, which holds the dependencies but not the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))


def log_to_file(snakemake):
    """Redirect stderr (progress bars, warnings, tracebacks) and logging to ``snakemake.log[0]``."""
    handle = open(snakemake.log[0], "a", buffering=1)
    sys.stderr = handle
    logging.basicConfig(
        stream=handle,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.captureWarnings(True)
    return handle
