"""Shared by the workflow's scripts: make the package importable and send stderr/logging to the rule's log."""

import logging
import sys
from pathlib import Path

# The workflow's own package comes first: the src/ beside this script, whether the workflow runs from a
# checkout, from a conda environment of envs/ (which holds the dependencies, not the package) or as a
# Snakemake module of another workflow (scripts then run from the caller's working directory).
# (Snakemake's preamble may already list it, after site-packages: move it to the front.)
WORKFLOW_SRC = Path(__file__).resolve().parents[2] / "src"
if WORKFLOW_SRC.is_dir():
    sys.path[:] = [str(WORKFLOW_SRC)] + [p for p in sys.path if p != str(WORKFLOW_SRC)]


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
    import neurolip

    logging.getLogger(neurolip.__name__).info("neurolip package: %s", Path(neurolip.__file__).parent)
    return handle
