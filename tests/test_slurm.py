"""The workflow through profiles/slurm on a real SLURM scheduler (started by tests/slurm/start_cluster.sh,
which .ci/run calls): jobs must be COMPLETED in sacct and the results equal a local run's."""

import os
import re
import shutil
import subprocess
import time

import pandas as pd
import pytest
from conftest import run_snakemake


def cluster_is_up():
    if not (shutil.which("sinfo") and shutil.which("sacct")):
        return False
    ok = subprocess.run(["sinfo", "-h"], capture_output=True).returncode == 0
    return ok and subprocess.run(["sacct", "-n"], capture_output=True).returncode == 0


REQUIRED = os.environ.get("NEUROLIP_REQUIRE_SLURM") == "1"
pytestmark = [pytest.mark.slurm, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster():
    if not cluster_is_up():
        if REQUIRED:
            pytest.fail(
                "NEUROLIP_REQUIRE_SLURM=1 but no SLURM cluster answers (run tests/slurm/start_cluster.sh)"
            )
        pytest.skip("no SLURM cluster on this machine: bash tests/slurm/start_cluster.sh starts one")


def test_workflow_through_the_slurm_profile(cluster, tiny_run, tmp_path):
    local_results, _ = tiny_run
    config = local_results.parents[1] / "tiny.yaml"
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    t0 = time.perf_counter()
    process = run_snakemake(
        [
            "--profile",
            "profiles/slurm",
            "--nolock",
            "--configfile",
            str(config),
            "--config",
            f"results_dir={tmp_path / 'results'}",
            "--default-resources",
            "slurm_partition=debug",
            "slurm_account=neurolip",
            "mem_mb=1500",
            "runtime=30",
            "--set-resources",
            "train:gpu=0",
            "train_ttca:gpu=0",
            "train:mem_mb=2500",
            "train_ttca:mem_mb=2500",
            "--set-threads",
            "train=1",
            "train_ttca=1",
            "--jobs",
            "4",
            "--slurm-init-seconds-before-status-checks",
            "2",
            "--slurm-keep-successful-logs",
        ]
    )
    elapsed = time.perf_counter() - t0
    print(f"SLURM workflow wall time: {elapsed:.0f} s")
    output = process.stdout + process.stderr
    job_ids = sorted(set(re.findall(r"SLURM jobid (\d+)", output)), key=int)
    assert len(job_ids) >= 20, output[-3000:]  # every training job, plus the data and evaluation steps
    accounting = subprocess.run(
        ["sacct", "-n", "-X", "-P", "-o", "JobID,State", "-S", started, "-j", ",".join(job_ids)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    states = dict(line.split("|") for line in accounting.strip().splitlines())
    assert set(states) == set(job_ids), (states, job_ids)
    assert set(states.values()) == {"COMPLETED"}, states

    slurm_results = tmp_path / "results" / "simulated"
    for local_file in sorted((local_results / "predictions").glob("*/fold*.csv")):
        remote_file = slurm_results / local_file.relative_to(local_results)
        pd.testing.assert_frame_equal(
            pd.read_csv(local_file), pd.read_csv(remote_file), check_exact=False, rtol=1e-6
        )
    pd.testing.assert_frame_equal(
        pd.read_csv(local_results / "metrics" / "summary.csv"),
        pd.read_csv(slurm_results / "metrics" / "summary.csv"),
        check_exact=False,
        rtol=1e-6,
    )
