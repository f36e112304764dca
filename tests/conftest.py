import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def repo():
    return REPO


def run_snakemake(args, cwd=REPO, check=True, env=None):
    """Run the workflow's snakemake (the one beside this Python) and return the completed process."""
    snakemake = shutil.which("snakemake", path=str(Path(sys.executable).parent)) or "snakemake"
    process = subprocess.run(
        [snakemake, *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    if check and process.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed:\n{process.stdout[-4000:]}\n{process.stderr[-4000:]}"
        )
    return process


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """One end-to-end run of the workflow on a tiny simulated cohort, plus its report."""
    from test_workflow import tiny_config

    tmp_path = tmp_path_factory.mktemp("workflow")
    config = tiny_config(tmp_path)
    # --cores 4: training jobs get their 4 threads (the SLURM profile's), whatever the machine has
    run_snakemake(["--cores", "4", "--nolock", "--configfile", str(config)])
    report = tmp_path / "report.html"
    run_snakemake(["--nolock", "--configfile", str(config), "--report", str(report)])
    return tmp_path / "results" / "simulated", report
