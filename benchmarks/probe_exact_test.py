"""False alarms, power and minimum detectable effect of the held-out probe's exact test (issue 31 item 1),
on simulated cohorts at ABIDE's sizes.

    PYTHONPATH=src:benchmarks python benchmarks/probe_exact_test.py [--cohorts 200] [--grid-cohorts 100] [--draws 500]
        [--across-parts] [--symmetric]

A cohort is ``fold_mean_floor.cohort``'s (1034 subjects, 19 sites of unequal size, ~15 % female, autism in
39.5 % of females and 50.5 % of males, 5 folds stratified on diagnosis × site). Its representation has 16
dimensions: N(0, 1) noise, a site offset (SD 0.3 per dimension), the diagnosis along one direction (a
within-fold AUC of about 0.75) and, for females, a shift δ along another direction, δ chosen so that the
*oracle* projection on it separates the sexes within diagnosis with the planted AUC (0.5: no residual sex).
Per fold, the validation subjects are 15 % of the training folds; the probe is cross-fitted over validation +
test subjects as in the workflow (``training.stages.probe.cross_fitted_scores``: five parts of the test fold,
part j scored by a probe fitted on the validation subjects and parts 0 … j − 1; ``--symmetric``: on all
other parts, the first design; ``--across-parts``: subjects of different parts compared too), with a stand-in learner (a
shrinkage LDA, closed form; the workflow's probe is a logistic regression with C chosen by inner CV, too slow
for thousands of cohorts; the test's validity does not depend on the learner). Its scores are tested by
``evaluation.probe_test.probe_exact_test`` (within-diagnosis AUC, fold mean; sex permuted within diagnosis ×
fold, B draws).

Prints the share of cohorts that fire (p ≤ 0.05) at planted AUC 0.5 (false alarms, target 3–7 %) and 0.66
(power, target ≥ 50 %) with 95 % Wilson intervals, the power over a grid of planted AUCs, the planted AUC at
80 % power (interpolated: the MDE in the representation's terms) and, beside it, the mean statistic there and
the analytic MDE of the statistic (``probe_test.probe_mde``) that pooled.csv and Table 1 print.
"""

import argparse
import time

import numpy as np
import pandas as pd
from fold_mean_floor import cohort
from scipy.stats import norm

from neurolip.evaluation.probe_test import probe_exact_test
from neurolip.training.stages.probe import cross_fitted_scores

DIM, SITE_SD, VAL_SHARE = 16, 0.3, 0.15
ACROSS_PARTS = False  # --across-parts: compare subjects of different cross-fit parts too (the first design)
SYMMETRIC = False  # --symmetric: each part's probe fitted on all other parts (the first design)


class ShrinkageLDA:
    """Stand-in probe: w = (S + λ·I)⁻¹(m₁ − m₀) on standardised features."""

    def __init__(self, shrinkage=1.0):
        self.shrinkage = shrinkage

    def fit(self, x, z):
        self.mean_, self.sd_ = x.mean(0), x.std(0) + 1e-12
        x = (x - self.mean_) / self.sd_
        centred = np.concatenate([x[z == g] - x[z == g].mean(0) for g in (0, 1)])
        covariance = centred.T @ centred / len(x) + self.shrinkage * np.eye(x.shape[1]) / np.sqrt(len(x))
        self.w_ = np.linalg.solve(covariance, x[z == 1].mean(0) - x[z == 0].mean(0))
        return self

    def decision_function(self, x):
        return ((x - self.mean_) / self.sd_) @ self.w_


def representation(rng, planted_auc, n=1034):
    """(diagnosis, female, fold, x) of one cohort; ``planted_auc``: the oracle's within-diagnosis sex AUC."""
    y, female, fold, _ = cohort(rng, 0.0, n=n)
    site = rng.choice(19, n)  # the representation's site offsets (sex and diagnosis independent of them)
    sd = np.sqrt(1 + SITE_SD**2)
    x = rng.normal(0, 1, (n, DIM)) + rng.normal(0, SITE_SD, (19, DIM))[site]
    x[:, 0] += np.sqrt(2) * norm.ppf(0.75) * sd * y
    x[:, 1] += np.sqrt(2) * norm.ppf(planted_auc) * sd * female
    return y, female, fold, x


def cohort_test(planted_auc, seed, n_draws=500, n=1034) -> dict:
    """The exact test of one cohort's cross-fitted probe scores: p, statistic, analytic MDE."""
    rng = np.random.default_rng(seed)
    y, female, fold, x = representation(rng, planted_auc, n=n)
    frames = []
    for k in np.unique(fold):
        test = np.flatnonzero(fold == k)
        training = np.flatnonzero(fold != k)
        val = rng.choice(training, int(round(VAL_SHARE * len(training))), replace=False)
        scores, parts, _ = cross_fitted_scores(
            x[val],
            female[val],
            x[test],
            female[test],
            2 * female[test] + y[test],
            seed=seed,
            make_probe=ShrinkageLDA,
        )
        frames.append(
            pd.DataFrame(
                {
                    "fold": k,
                    "seed": 0,
                    "subject_id": test.astype(str),
                    "code": female[test],
                    "diagnosis": y[test],
                    "probe_score": scores,
                }
            ).assign(**({} if ACROSS_PARTS else {"part": parts}))
        )
    result = probe_exact_test(pd.concat(frames, ignore_index=True), n_draws=n_draws, seed=seed)
    return {"p": result["p_floor"], "value": result["value"], "mde": result["mde"]}


def firing(planted_auc, cohorts, n_draws=500, first_seed=0, n=1034) -> pd.DataFrame:
    return pd.DataFrame([cohort_test(planted_auc, first_seed + c, n_draws, n) for c in range(cohorts)])


def wilson(k, n, z=1.96):
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--cohorts", type=int, default=200)
    parser.add_argument("--grid-cohorts", type=int, default=100)
    parser.add_argument("--draws", type=int, default=500)
    parser.add_argument("--grid", type=float, nargs="+", default=[0.56, 0.58, 0.60, 0.62, 0.64])
    parser.add_argument("--across-parts", action="store_true")
    parser.add_argument("--symmetric", action="store_true")
    args = parser.parse_args()
    global ACROSS_PARTS, SYMMETRIC
    ACROSS_PARTS, SYMMETRIC = args.across_parts, args.symmetric
    start = time.time()
    rows = {}
    for planted, seed in ((0.5, 0), (0.66, 100_000)):
        result = firing(planted, args.cohorts, args.draws, first_seed=seed)
        fired = int((result.p <= 0.05).sum())
        low, high = wilson(fired, args.cohorts)
        rows[planted] = (fired / args.cohorts, result.value.mean(), result.mde.mean())
        print(
            f"planted within-diagnosis sex AUC {planted:.2f}: fired in {fired}/{args.cohorts} = "
            f"{fired / args.cohorts:.3f} [{low:.3f}, {high:.3f}] of cohorts; mean statistic {result.value.mean():.4f}; "
            f"analytic MDE of the statistic {result.mde.mean():.4f}"
        )
    grid = {}
    for i, planted in enumerate(args.grid):
        result = firing(planted, args.grid_cohorts, args.draws, first_seed=200_000 + 10_000 * i)
        grid[planted] = ((result.p <= 0.05).mean(), result.value.mean())
    grid[0.66] = rows[0.66][:2]
    grid[0.5] = rows[0.5][:2]
    print("power over planted AUCs (grid cohorts; 0.5 and 0.66 from the runs above):")
    for planted in sorted(grid):
        print(f"  planted {planted:.2f}: power {grid[planted][0]:.3f}, mean statistic {grid[planted][1]:.4f}")
    planted = np.array(sorted(grid))
    power = np.maximum.accumulate(np.array([grid[a][0] for a in planted]))
    statistic = np.array([grid[a][1] for a in planted])
    if power[-1] >= 0.8:
        mde = float(np.interp(0.8, power, planted))
        print(
            f"MDE (80 % power): planted within-diagnosis AUC {mde:.3f}; mean statistic there "
            f"{np.interp(mde, planted, statistic):.4f} against the analytic MDE {rows[0.5][2]:.4f}"
        )
    else:
        print("MDE: beyond the grid (power < 80 % at its largest effect)")
    print(f"elapsed {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
