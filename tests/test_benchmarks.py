"""The benchmark scripts run (on tiny inputs) and print one row per measurement: refactors of the trainer
cannot break them silently. Their figures are not checked here: timings belong to docs/benchmarks.md."""

import subprocess
import sys

import pytest
from cohort import REPO, build_tiny_cohort


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return build_tiny_cohort(tmp_path_factory.mktemp("bench_cohort"))


def run_script(*args):
    process = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert process.returncode == 0, process.stderr[-3000:]
    return process.stdout


def test_training_benchmark_prints_a_row_per_method(cohort):
    out = run_script(
        "benchmarks/training.py",
        "--data",
        str(cohort["dir"]),
        "--epochs",
        "1",
        "--methods",
        "linear_fc",
        "neurolip",
    )
    rows = {
        line.split()[0]: line.split()[1:]
        for line in out.splitlines()
        if line.startswith(("linear_fc", "neurolip"))
    }
    assert set(rows) == {"linear_fc", "neurolip"}
    assert float(rows["neurolip"][0]) > 0 and rows["linear_fc"][0] == "-"


def test_scaling_benchmark_prints_a_row_per_grid_point():
    out = run_script("benchmarks/scaling.py", "--grid", "40x16,80x16", "--epochs", "1")
    rows = [line.split() for line in out.splitlines() if line.strip() and line.split()[0].isdigit()]
    assert [(int(r[0]), int(r[1])) for r in rows] == [(40, 16), (80, 16)]
    assert all(float(r[2]) > 0 for r in rows)


def test_ensemble_benchmark_prints_a_row_per_ensemble_size():
    out = run_script("benchmarks/ensemble.py", "--sizes", "demo", "--members", "1", "2", "--threads", "1")
    rows = [line.split() for line in out.splitlines() if line.startswith("demo")]
    assert [(r[1], r[2]) for r in rows] == [("1", "1"), ("1", "2")]
    assert all(float(r[3]) > 0 and float(r[4]) > 0 and float(r[6]) > 0 for r in rows)


def test_linear_nulls_benchmark_prints_both_paths():
    out = run_script("benchmarks/linear_nulls.py", "--size", "demo", "--permutations", "2")
    assert "separate (C re-chosen)" in out and "shared C + warm start" in out
