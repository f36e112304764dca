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


def test_job_costs_sums_benchmark_files_per_rule_and_names_the_largest_job(tmp_path):
    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    for path, s, rss, cpu in (
        ("train/a/fold0.tsv", 10.0, 500.0, 8.0),
        ("train/a/fold1.tsv", 12.0, 900.0, 9.0),
        ("evaluate.tsv", 30.0, 9000.0, 25.0),
    ):
        target = tmp_path / "benchmarks" / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(header + f"{s}\t0:00:{int(s)}\t{rss}\t0\t0\t0\t0\t0\t90\t{cpu}\n")
    out = run_script("benchmarks/job_costs.py", str(tmp_path), "--top", "1")
    per_rule = out.split("\nall ")[0]  # the table before the top-jobs lists
    rows = {
        line.split()[0]: line.split()
        for line in per_rule.splitlines()
        if line.startswith(("train ", "evaluate "))
    }
    assert rows["train"][1:5] == ["2", "22.0", "17.0", "900.0"] and rows["train"][5] == "train/a/fold1"
    assert rows["evaluate"][1:5] == ["1", "30.0", "25.0", "9000.0"]
    assert "all 3 jobs: 52 s of job wall time, 42 s CPU" in out
    missing = subprocess.run(
        [sys.executable, "benchmarks/job_costs.py", str(tmp_path / "nothing")],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert missing.returncode != 0 and "no benchmarks folder" in missing.stderr
