"""False alarms and power of the floor of a fold mean (``evaluation.fold_mean``) beside the rule it replaces
(mean per-fold gap above the mean of per-fold 95th percentiles), on simulated cohorts at ABIDE's sizes.

    PYTHONPATH=src python benchmarks/fold_mean_floor.py [--cohorts 200] [--grid-cohorts 100] [--draws 1000]

A cohort (issue 31's review setting): 1034 subjects at 19 sites of unequal size, ~15 % female, autism in
39.5 % of females and 50.5 % of males (``fairness_instruments.abide_like``'s rates), 5 folds stratified on
diagnosis × site (as ``neurolip.folds``). The score is a·diagnosis + site offset (SD 0.3) + fold offset
(SD 0.3, a fold's calibration, as ``leakage_controls.cohort``) + N(0, 1), a chosen for a within-fold AUC of
about 0.75, plus δ within-diagnosis SDs for males (δ = 0: no effect; the review's effect δ = 0.3; males, as
in ``fairness_instruments.abide_like`` and ``leakage_controls.cohort``: with females less often diagnosed
otherwise, a shift for females would narrow the DPD the base rates induce instead of widening it). Each
fold's decision is P(disease) > 0.5 after a logistic calibration fitted on the other folds. Per fold, the
DPD, DEOdds, score leakage and decision leakage get their sex-blind null draws (sex permuted within
diagnosis on the test fold, ``fold_mean.fold_floor_draws``, B draws, a generator per fold).

- new rule: p ≤ 0.05 against the floor of the fold mean (the folds' draws averaged draw by draw);
- old rule: mean over folds of the per-fold figure > mean over folds of the per-fold floors' p95.

Prints, per figure and rule, the share of cohorts that fire at δ = 0 (false alarms, target 3–7 %) and at
δ = 0.3 (power, target ≥ 20 %) with 95 % Wilson intervals, then the power of the new rule over a grid of δ
and the smallest δ of the grid it detects with 80 % power.
"""

import argparse
import time

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.linear_model import LogisticRegression

from neurolip.evaluation.fold_mean import FLOORED, fold_floor_draws, fold_mean_floor

SITE_SD = FOLD_SD = 0.3


def cohort(rng, delta, n=1034, n_sites=19, n_folds=5, female_share=0.15, auc=0.75):
    """(diagnosis, female, fold, score) of one simulated cohort (see the module's docstring)."""
    site = rng.choice(n_sites, n, p=rng.dirichlet(np.full(n_sites, 3.0)))
    female = rng.random(n) < female_share
    y = (rng.random(n) < np.where(female, 0.395, 0.505)).astype(int)
    fold = np.empty(n, dtype=int)
    for stratum in np.unique(y * n_sites + site):  # stratified on diagnosis x site
        members = rng.permutation(np.flatnonzero(y * n_sites + site == stratum))
        fold[members] = (np.arange(len(members)) + rng.integers(n_folds)) % n_folds
    sd = np.sqrt(1 + SITE_SD**2)  # within a fold and diagnosis: site offsets and noise
    separation = np.sqrt(2) * norm.ppf(auc) * sd
    score = (
        separation * y
        + rng.normal(0, SITE_SD, n_sites)[site]
        + rng.normal(0, FOLD_SD, n_folds)[fold]
        + rng.normal(0, 1, n)
        + delta * sd * ~female  # males, as the project's other simulators: it widens the DPD too
    )
    return y, female.astype(int), fold, score


def fold_decisions(y, fold, score):
    """P(disease) > 0.5 per test fold after a logistic calibration fitted on the other folds."""
    decisions = np.empty(len(y))
    for k in np.unique(fold):
        test = fold == k
        model = LogisticRegression(C=1e6).fit(score[~test, None], y[~test])
        decisions[test] = model.predict_proba(score[test, None])[:, 1] > 0.5
    return decisions


def cohort_verdicts(delta, seed, n_draws=1000, alpha=0.05, **sizes) -> dict:
    """{figure: (new rule fired, old rule fired)} for one cohort."""
    rng = np.random.default_rng(seed)
    y, female, fold, score = cohort(rng, delta, **sizes)
    decisions = fold_decisions(y, fold, score)
    per_fold = {}
    for k in np.unique(fold):
        test = fold == k
        draws = fold_floor_draws(score[test], y[test], decisions[test], female[test], n_draws, seed=[seed, k])
        for metric, pair in draws.items():
            per_fold.setdefault(metric, []).append(pair)
    verdicts = {}
    for metric in FLOORED:
        pairs = per_fold.get(metric, [])
        observed = [v for v, _ in pairs]
        new = fold_mean_floor(observed, [d for _, d in pairs])
        old = np.nanmean(observed) > np.nanmean([np.nanpercentile(d, 95) for _, d in pairs])
        verdicts[metric] = (bool(new["p"] <= alpha), bool(old))
    return verdicts


def firing_rates(delta, cohorts, n_draws=1000, first_seed=0, **sizes) -> pd.DataFrame:
    """Share of ``cohorts`` cohorts in which each rule fires, per figure: columns metric, rule, fired, n."""
    hits = {(m, r): 0 for m in FLOORED for r in ("fold-mean floor", "mean of p95s")}
    for seed in range(first_seed, first_seed + cohorts):
        for metric, (new, old) in cohort_verdicts(delta, seed, n_draws, **sizes).items():
            hits[(metric, "fold-mean floor")] += new
            hits[(metric, "mean of p95s")] += old
    return pd.DataFrame(
        [{"metric": m, "rule": r, "delta": delta, "fired": k, "n": cohorts} for (m, r), k in hits.items()]
    )


def wilson(k, n, z=1.959964):
    """95 % Wilson score interval of a proportion k / n."""
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return centre - half, centre + half


def with_intervals(table: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    table["rate"] = table.fired / table.n
    low, high = wilson(table.fired.to_numpy(), table.n.to_numpy())
    table["wilson_low"], table["wilson_high"] = low, high
    return table


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cohorts", type=int, default=200, help="cohorts at delta 0 and at delta 0.3")
    parser.add_argument("--grid-cohorts", type=int, default=100, help="cohorts per delta of the power grid")
    parser.add_argument("--grid", type=float, nargs="+", default=[0.45, 0.6, 0.8, 1.0])
    parser.add_argument("--draws", type=int, default=1000)
    args = parser.parse_args()
    start = time.perf_counter()
    # the same cohort seeds at every delta (common random numbers): the rates differ by the effect only
    main_rates = pd.concat([firing_rates(d, args.cohorts, args.draws) for d in (0.0, 0.3)])
    table = with_intervals(main_rates)
    print(
        f"1. {args.cohorts} cohorts per delta, {args.draws} null draws per fold; share of cohorts that fire"
    )
    for row in table.itertuples():
        what = "false alarms" if row.delta == 0 else f"power at delta {row.delta}"
        print(
            f"  {row.metric:17s} {row.rule:16s} {what:18s} {100 * row.rate:5.1f} % "
            f"[{100 * row.wilson_low:4.1f}, {100 * row.wilson_high:4.1f}] ({row.fired}/{row.n})"
        )
    grid = pd.concat(
        [main_rates[main_rates.rule == "fold-mean floor"]]
        + [firing_rates(d, args.grid_cohorts, args.draws) for d in args.grid]
    )
    grid = with_intervals(grid[grid.rule == "fold-mean floor"])
    print(f"\n2. power of the fold-mean floor over delta ({args.grid_cohorts} cohorts per grid delta)")
    power = grid.pivot_table(index="metric", columns="delta", values="rate").reindex(list(FLOORED))
    print((100 * power).round(1).to_string())
    print("\n3. smallest delta of the grid detected with 80 % power (fold-mean floor)")
    for metric, rates in power.iterrows():
        reached = [d for d, r in rates.items() if d > 0 and r >= 0.8]
        print(f"  {metric:17s} " + (f"{min(reached):.2f}" if reached else f"> {max(rates.index):.2f}"))
    print(f"\n{time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
