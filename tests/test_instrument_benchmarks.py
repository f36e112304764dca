"""The issue-22 benchmark scripts run on small settings and their own assertions hold (their figures at
full size are in docs/benchmarks.md)."""

import subprocess
import sys

import pytest
from cohort import REPO


def run_script(*args):
    process = subprocess.run([sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert process.returncode == 0, process.stderr[-3000:]
    return process.stdout


@pytest.mark.slow
def test_map_null_benchmark_runs_and_its_controls_pass():
    out = run_script("benchmarks/map_null_fwer.py", "--runs", "4", "--permutations", "20")
    assert "planted_found" in out and "Clopper-Pearson" in out and out.strip().endswith("controls passed")


@pytest.mark.slow
def test_network_map_null_benchmark_runs_and_its_controls_pass():
    out = run_script(
        "benchmarks/network_map_null.py",
        *("--null-cohorts", "5", "--effect-cohorts", "2", "--permutations", "19", "--subjects", "400"),
    )
    assert "old (fold 0 only" in out and "95 % CI" in out and out.strip().endswith("controls passed")


@pytest.mark.slow
def test_fairness_instruments_benchmark_runs_and_its_controls_pass():
    out = run_script("benchmarks/fairness_instruments.py", "--seeds", "1", "--cohorts", "40")
    assert (
        "held_out_probe_auc" in out and "randomised_share" in out and out.strip().endswith("controls passed")
    )


def test_linear_erasure_and_crossfit_vote_benchmarks_run():
    out = run_script("benchmarks/linear_erasure.py", "--seeds", "1", "--edges", "300", "--train", "100")
    assert all(
        name in out for name in ("unerased", "erase_then_scale", "scale_then_erase", "sex_auc_within_dx")
    )
    out = run_script("benchmarks/crossfit_vote.py", "--reps", "2", "--test", "500")
    assert "majority_vote_deodds" in out and "one_member_balanced_accuracy" in out and "fit_violation" in out


def test_leakage_controls_benchmark_fires_with_a_planted_shift_only():
    out = run_script("benchmarks/leakage_controls.py", "--cohorts", "20")
    fired = {
        line.split(":")[0]: float(line.rsplit("floor in ", 1)[1].split("%")[0])
        for line in out.strip().splitlines()
    }
    assert fired["planted shift 0.4"] >= 80 and fired["planted shift 0.0"] <= 25
