"""Cross-fitted deterministic group thresholds on test subjects: the majority vote of the K members'
decisions (the workflow's rule) against one member per subject (member = a stable hash of the subject id
mod K). The thresholds are fitted on out-of-fold scores, where each subject has one member's score; the
tolerance is guaranteed there only (docs/method.md, "Group thresholds"; review items 4 and 14).

    PYTHONPATH=src .venv/bin/python benchmarks/crossfit_vote.py [--reps 40] [--test 4000]

Simulation: K = 5 members whose scores share a subject effect (SD 0.8) and differ by a member effect
(SD 0.6); diagnosis moves the score by +-0.75, males score +0.4 higher; 15 % females, autism in 39.5 % of
females and 50.5 % of males; 828 out-of-fold fit subjects; equalized-odds thresholds, tolerance 0.05.
Prints mean and 5-95 % over repetitions of: the fit-set violation, and per rule the test DEOdds, DPD and
balanced accuracy. No assertion (a comparison, not a control).
"""

import argparse
import zlib

import numpy as np
import pandas as pd

from neurolip.evaluation.floors import two_group_gaps
from neurolip.training.stages.deterministic_thresholds import DeterministicGroupThresholds

K = 5


def subjects(n, rng, first_id=0):
    female = rng.random(n) < 157 / 1035
    y = (rng.random(n) < np.where(female, 0.395, 0.505)).astype(int)
    shared = 0.75 * (2 * y - 1) + 0.4 * ~female + rng.normal(0, 0.8, n)
    members = shared[None, :] + rng.normal(0, 0.6, (K, n))  # (K, n)
    ids = [f"sub-{first_id + i:05d}" for i in range(n)]
    return y, np.where(female, "F", "M"), members, ids


def balanced_accuracy(y, decision):
    return 0.5 * (decision[y == 1].mean() + 1 - decision[y == 0].mean())


def one_rep(rep, n_fit, n_test, tolerance):
    rng = np.random.default_rng(rep)
    y, sex, members, _ = subjects(n_fit, rng)
    out_of_fold = members[np.arange(n_fit) % K, np.arange(n_fit)]  # each fit subject: one member's score
    thresholds = DeterministicGroupThresholds("equalized_odds", tolerance).fit(out_of_fold, y, sex)
    y, sex, members, ids = subjects(n_test, rng, first_id=n_fit)
    decisions = np.array([thresholds.predict(m, sex) for m in members])  # (K, n)
    assigned = np.array([zlib.crc32(i.encode()) % K for i in ids])
    rules = {
        "majority_vote": (decisions.sum(0) >= (K + 1) // 2).astype(int),
        "one_member": decisions[assigned, np.arange(n_test)],
    }
    row = {"rep": rep, "fit_violation": thresholds.violation_}
    for name, decision in rules.items():
        gaps = two_group_gaps(decision, y, sex == "M")
        row[f"{name}_deodds"] = float(gaps["deodds"])
        row[f"{name}_dpd"] = float(gaps["dpd"])
        row[f"{name}_balanced_accuracy"] = balanced_accuracy(y, decision)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=40)
    parser.add_argument("--fit", type=int, default=828)
    parser.add_argument("--test", type=int, default=4000)
    parser.add_argument("--tolerance", type=float, default=0.05)
    args = parser.parse_args()
    table = pd.DataFrame([one_rep(r, args.fit, args.test, args.tolerance) for r in range(args.reps)])
    summary = table.drop(columns="rep").agg(["mean", lambda v: v.quantile(0.05), lambda v: v.quantile(0.95)])
    summary.index = ["mean", "p5", "p95"]
    print(
        f"K = {K}, {args.fit} fit subjects, {args.test} test subjects, tolerance {args.tolerance}, "
        f"{args.reps} repetitions"
    )
    print(summary.T.to_string(float_format="%.3f"))


if __name__ == "__main__":
    main()
