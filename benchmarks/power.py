"""Minimum detectable effects (80 % power, α = 0.05) of every instrument at a run's sizes, and a check of
``evaluation.power``'s shift approximation against effects planted in simulated cohorts.

    PYTHONPATH=src python benchmarks/power.py [--cohorts 100] [--null-cohorts 200] [--draws 1000]
    PYTHONPATH=src python benchmarks/power.py --results results/abide   # the MDEs a run wrote

Without ``--results``: cohorts at ABIDE's sizes (``fold_mean_floor.cohort``: 1034 subjects, 19 sites, 5
folds, ~15 % female, score AUC ~0.75, sex-blind; each fold's decision P(disease) > 0.5 after a logistic
calibration on the other folds). In each cohort the MDE of every instrument is computed on the sex-blind
cohort (``evaluation.power``), then an effect of the instrument's own kind is planted at 0.5 × and 1 × that
MDE in the planting ``power`` found worst, and the instrument's own test is run:

- pooled DPD / DEOdds against the sex-blind floor (``floors.gap_floor``): females' selection rate (DPD) or
  TPR / FPR (DEOdds) moved by Δ (decisions flipped at random within the cell, the groups' overall rates
  moved in opposite directions so that the cohort's rate stays);
- the fold means of the per-fold DPD / DEOdds against their floor (``fold_mean``): the same, in every fold;
- score leakage: females' scores shifted within each fold and diagnosis so that the within-diagnosis AUC is
  0.5 + Δ (√2·Φ⁻¹(0.5 + Δ) within-cell SDs); decision leakage: females' TPR and FPR moved by 2Δ (the AUC of a
  0/1 decision between groups is 0.5 + half the rate difference);
- paired gap differences: two sex-blind classifiers with independent noise (A, B); A's gap widened by Δ;
  the paired bootstrap interval (excludes 0?) beside the per-subject swap permutation test (p ≤ 0.05).

Prints, per instrument, the median MDE over cohorts and the share of cohorts that detect the planted effect
at 0 (false alarms), 0.5 × and 1 × the MDE (target ~80 %) with 95 % Wilson intervals; then the paired
tests' false alarms over ``--null-cohorts`` cohorts (target 3–7 %).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

sys.path.insert(0, str(Path(__file__).parent))
from fold_mean_floor import cohort, fold_decisions, wilson  # noqa: E402

from neurolip.evaluation import power  # noqa: E402
from neurolip.evaluation.floors import gap_floor, paired_gap_difference, paired_gap_permutation  # noqa: E402
from neurolip.evaluation.fold_mean import fold_floor_draws, fold_mean_floor  # noqa: E402
from neurolip.evaluation.probes import decision_leakage_floor  # noqa: E402
from neurolip.group_rates import signed_rate_differences

CELLS = {"selection": None, "tpr": 1, "fpr": 0}
FACTORS = (0.0, 0.5, 1.0)


def plant_rate(rng, decisions, y, female, fold, component, delta):
    """Decisions with females' rate of ``component`` minus males' moved by ``delta`` in every fold (random
    flips within the cell; females moved by δ·n_m/n, males by −δ·n_f/n, the cell's rate kept)."""
    out = decisions.copy()
    for k in np.unique(fold):
        cell = fold == k
        if CELLS[component] is not None:
            cell &= y == CELLS[component]
        n_f, n_m = (cell & (female == 1)).sum(), (cell & (female == 0)).sum()
        for group, change in ((1, delta * n_m / (n_f + n_m)), (0, -delta * n_f / (n_f + n_m))):
            members = np.flatnonzero(cell & (female == group))
            rate = out[members].mean()
            if change > 0:  # negatives become positive with the probability that raises the rate by change
                p = min(1.0, change / max(1 - rate, 1e-9))
                flip = (out[members] == 0) & (rng.random(len(members)) < p)
                out[members[flip]] = 1
            elif change < 0:
                p = min(1.0, -change / max(rate, 1e-9))
                flip = (out[members] == 1) & (rng.random(len(members)) < p)
                out[members[flip]] = 0
    return out


def plant_score(score, y, female, fold, delta):
    """Scores with females shifted within each fold × diagnosis so that their within-cell AUC is 0.5 + δ."""
    out = score.copy()
    for k in np.unique(fold):
        for c in (0, 1):
            cell = (fold == k) & (y == c)
            shift = np.sqrt(2) * norm.ppf(0.5 + delta) * score[cell].std()
            out[cell & (female == 1)] += shift
    return out


def worst(by_planting):
    """(component, sign) of the largest MDE."""
    return max(by_planting, key=by_planting.get)


def fold_mean_fires(y, female, fold, decisions, score, metric, draws, seed):
    pairs = [
        fold_floor_draws(
            score[fold == k], y[fold == k], decisions[fold == k], female[fold == k], draws, [seed, k]
        )
        for k in np.unique(fold)
    ]
    pairs = [p[metric] for p in pairs if p]
    return fold_mean_floor([v for v, _ in pairs], [d for _, d in pairs])["p"] <= 0.05


def cohort_checks(seed, draws):
    """{(instrument, factor): fired} and {instrument: MDE} for one cohort."""
    rng = np.random.default_rng(seed)
    y, female, fold, score = cohort(rng, 0.0)
    decisions = fold_decisions(y, fold, score)
    folds = np.unique(fold)
    mde, fired = {}, {}
    # pooled gaps
    by_planting = power.gap_mde(y, decisions, female, fold, draws, seed, by_planting=True)
    # fold-mean gaps: the planting of the pooled gap's worst direction
    inputs = [(y[fold == k], decisions[fold == k], female[fold == k]) for k in folds]
    fold_mean = power.fold_mean_gap_mde(inputs, draws, seed)
    paired_b = fold_decisions(y, fold, score + rng.normal(0, 0.7, len(y)))
    paired_a = fold_decisions(y, fold, score + rng.normal(0, 0.7, len(y)))
    paired = power.paired_mde(y, paired_a, paired_b, female, draws, seed)
    for gap in ("dpd", "deodds"):
        component, sign = worst(by_planting[gap])
        mde[f"pooled {gap}"] = by_planting[gap][(component, sign)]
        mde[f"fold-mean {gap}"] = fold_mean[gap]
        mde[f"paired {gap}"] = paired[gap]
        # A's gap widened: in the direction of its sex-blind gap (DPD: the base rates'; DEOdds: its TPR gap)
        part = "selection" if gap == "dpd" else "tpr"
        widen = np.sign(signed_rate_differences(paired_a, y, female)[part]) or 1.0
        for factor in FACTORS:
            planted = plant_rate(
                rng, decisions, y, female, fold, component, sign * factor * mde[f"pooled {gap}"]
            )
            row = gap_floor(y, planted, female, fold, n_draws=draws, seed=seed).set_index("gap")
            fired[(f"pooled {gap}", factor)] = bool(row.at[gap, "above_floor"])
            planted = plant_rate(rng, decisions, y, female, fold, component, sign * factor * fold_mean[gap])
            fired[(f"fold-mean {gap}", factor)] = fold_mean_fires(
                y, female, fold, planted, score, gap, draws, seed
            )
            planted = plant_rate(rng, paired_a, y, female, fold, part, widen * factor * paired[gap])
            boot = paired_gap_difference(y, planted, paired_b, female, n_boot=draws, seed=seed).set_index(
                "gap"
            )
            fired[(f"paired {gap} bootstrap", factor)] = bool(
                boot.at[gap, "ci_low"] > 0 or boot.at[gap, "ci_high"] < 0
            )
            perm = paired_gap_permutation(y, planted, paired_b, female, n_draws=draws, seed=seed).set_index(
                "gap"
            )
            fired[(f"paired {gap} permutation", factor)] = bool(perm.at[gap, "p_permutation"] <= 0.05)
    # leakage
    mde["pooled score_leakage"] = power.leakage_mde(score, female, y, fold, draws, seed)
    mde["pooled decision_leakage"] = power.leakage_mde(decisions, female, y, fold, draws, seed)
    for factor in FACTORS:
        shifted = plant_score(score, y, female, fold, factor * (mde["pooled score_leakage"] - 0.5))
        floor = decision_leakage_floor(shifted, female, y, fold, n_draws=draws, seed=seed)
        fired[("pooled score_leakage", factor)] = bool(floor["above_floor"])
        delta = 2 * factor * (mde["pooled decision_leakage"] - 0.5)
        planted = plant_rate(
            rng, plant_rate(rng, decisions, y, female, fold, "tpr", delta), y, female, fold, "fpr", delta
        )
        floor = decision_leakage_floor(planted, female, y, fold, n_draws=draws, seed=seed)
        fired[("pooled decision_leakage", factor)] = bool(floor["above_floor"])
    return fired, mde


def simulate(cohorts, draws, first_seed=0):
    """(firing rates per instrument × factor with Wilson intervals, MDEs per cohort)."""
    fired, mdes = [], []
    for seed in range(first_seed, first_seed + cohorts):
        hits, mde = cohort_checks(seed, draws)
        fired += [{"instrument": i, "factor": f, "fired": v} for (i, f), v in hits.items()]
        mdes += [{"instrument": i, "mde": v} for i, v in mde.items()]
    table = pd.DataFrame(fired).groupby(["instrument", "factor"], sort=False)["fired"].agg(["sum", "count"])
    table["rate"] = table["sum"] / table["count"]
    table["low"], table["high"] = wilson(table["sum"].to_numpy(), table["count"].to_numpy())
    return table.reset_index(), pd.DataFrame(mdes)


def paired_null(cohorts, draws, first_seed=10_000):
    """False alarms of the paired bootstrap and permutation tests: two sex-blind classifiers with independent
    noise (exchangeable), and a harder null for DEOdds (A more accurate than B, both sex-blind: both true
    TPR / FPR gaps 0, the methods not exchangeable)."""
    hits = {}
    for seed in range(first_seed, first_seed + cohorts):
        rng = np.random.default_rng(seed)
        y, female, fold, score = cohort(rng, 0.0)
        b = fold_decisions(y, fold, score + rng.normal(0, 0.7, len(y)))
        for null, noise in (("exchangeable", 0.7), ("A more accurate", 0.0)):
            a = fold_decisions(y, fold, score + rng.normal(0, noise, len(y)))
            boot = paired_gap_difference(y, a, b, female, n_boot=draws, seed=seed).set_index("gap")
            perm = paired_gap_permutation(y, a, b, female, n_draws=draws, seed=seed).set_index("gap")
            for gap in ("dpd", "deodds") if null == "exchangeable" else ("deodds",):
                key = (null, gap)
                boot_hit = boot.at[gap, "ci_low"] > 0 or boot.at[gap, "ci_high"] < 0
                hits.setdefault(key, [0, 0, 0])
                hits[key][0] += bool(boot_hit)
                hits[key][1] += bool(perm.at[gap, "p_permutation"] <= 0.05)
                hits[key][2] += 1
    return hits


def from_results(results: Path):
    """Print the MDE columns a run wrote (metrics/pooled.csv, summary.csv, paired_pooled.csv)."""
    metrics = results / "metrics"
    pooled = pd.read_csv(metrics / "pooled.csv")
    if "mde" not in pooled.columns:
        sys.exit(f"{metrics / 'pooled.csv'} has no mde column: evaluate the run with this version")
    shown = pooled.dropna(subset=["floor_p95"])
    print("pooled (metrics/pooled.csv): value, floor p95, MDE")
    print(
        shown[["method", "metric", "attribute", "value", "floor_p95", "mde"]].round(4).to_string(index=False)
    )
    summary = pd.read_csv(metrics / "summary.csv")
    rows = summary[summary.metric.str.endswith("_fold_mean_floor_mde")]
    print("\nfold means (metrics/summary.csv): MDE of the floor of each fold mean")
    print(rows[["method", "metric", "attribute", "mean"]].round(4).to_string(index=False))
    paired = metrics / "paired_pooled.csv"
    if paired.exists():
        table = pd.read_csv(paired)
        print("\npaired gap differences (metrics/paired_pooled.csv)")
        print(table.round(4).to_string(index=False))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--results", type=Path, help="a run's results directory: print the MDEs it wrote")
    parser.add_argument("--cohorts", type=int, default=100, help="cohorts of the planted-effect check")
    parser.add_argument("--null-cohorts", type=int, default=200, help="cohorts of the paired tests' null")
    parser.add_argument("--draws", type=int, default=1000, help="null draws / bootstrap resamples")
    args = parser.parse_args()
    if args.results:
        from_results(args.results)
        return
    start = time.perf_counter()
    if args.cohorts:
        planted_check(args.cohorts, args.draws)
    if args.null_cohorts:
        null_check(args.null_cohorts, args.draws)
    print(f"\n{time.perf_counter() - start:.0f} s")


def planted_check(cohorts, draws):
    table, mdes = simulate(cohorts, draws)
    print(f"1. MDE at 80 % power at ABIDE's sizes (median [5–95 %] over {cohorts} cohorts, {draws} draws)")
    for instrument, values in mdes.groupby("instrument", sort=False)["mde"]:
        low, mid, high = np.percentile(values, [5, 50, 95])
        print(f"  {instrument:26s} {mid:.3f} [{low:.3f}–{high:.3f}]")
    print("\n2. share of cohorts whose instrument detects an effect planted at 0, 0.5 and 1 × its MDE")
    for row in table.itertuples():
        print(
            f"  {row.instrument:30s} {row.factor:.1f} × MDE {100 * row.rate:5.1f} % "
            f"[{100 * row.low:4.1f}, {100 * row.high:4.1f}] ({row.sum}/{row.count})"
        )


def null_check(cohorts, draws):
    print(f"\n3. paired tests under the null ({cohorts} cohorts, {draws} draws): false alarms")
    for (null, gap), (boot, perm, n) in paired_null(cohorts, draws).items():
        (bl, bh), (pl, ph) = wilson(boot, n), wilson(perm, n)
        print(
            f"  {null:16s} {gap:7s} bootstrap {100 * boot / n:4.1f} % [{100 * bl:4.1f}, {100 * bh:4.1f}]"
            f"   permutation {100 * perm / n:4.1f} % [{100 * pl:4.1f}, {100 * ph:4.1f}]"
        )


if __name__ == "__main__":
    main()
