"""Controls of the brain-map null (``neurolip.evaluation.map_null``) on the demo's simulated cohort generator.

    .venv/bin/python benchmarks/map_null_fwer.py [--runs 60] [--permutations 100] [--subjects 120] [--rois 30]

1. Power: the ``make demo`` cohort (240 subjects, 100 ROIs, 10 planted disease regions); on each of its five
   folds a linear_fc-style logistic regression (C = 0.01) and ``--permutations`` null models permuted within
   site, mapped on the fold's training subjects; prints how many planted and other regions beat the null at
   p_FWER <= 0.05 (and how many of the 10 planted sex regions, associated with the diagnosis through the
   cohort's sex imbalance), the cost per null model, and the stability of the fold maps beside the null models'.
2. Family-wise error: ``--runs`` small cohorts without a disease effect (sex equally common in both classes);
   prints the share of runs in which any region beats the null, with its Clopper-Pearson 95 % interval, and
   the same for cohorts that keep the generator's sex imbalance between classes (its planted sex regions are
   then truly associated with the diagnosis), permuted within site and within site x sex (the conditional
   question: does a region carry the diagnosis beyond sex?).
Asserts: >= 8 planted regions on every fold; the no-effect error rate's interval reaches down to 5 % or
below and its point estimate is at most 10 %.
"""

import argparse
import tempfile
import time

import numpy as np
from scipy.stats import binomtest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from neurolip.datasets.simulated import simulate_cohort, simulated_connectomes
from neurolip.evaluation.map_null import (
    LogisticPatternNull,
    cohort_permutations,
    max_statistic_test,
    stability_against_null,
)


def power(permutations):
    with tempfile.TemporaryDirectory() as folder:
        truth = simulate_cohort(folder, seed=0)
        edges, y, site, sex, _ = simulated_connectomes(folder)
    planted = truth["disease_regions"]
    folds = list(
        StratifiedKFold(5, shuffle=True, random_state=0).split(edges, np.char.add(y.astype(str), site))
    )
    # as disease_maps fits them: null refit k of every fold reads one cohort-wide permutation k
    test_fold = np.zeros(len(y), dtype=int)
    for fold, (_, test) in enumerate(folds):
        test_fold[test] = fold
    null_labels = y[cohort_permutations(site, test_fold, permutations, seed=0)]
    observed, null, found = {}, {}, []
    print(f"power: demo cohort {edges.shape[0]} subjects, {truth['n_rois']} ROIs, {permutations} null models")
    print("fold  planted_found  sex_regions  other_regions  min_p_fwer  ms_per_null_fit  seconds")
    for fold, (train, _) in enumerate(folds):
        started = time.perf_counter()
        fitted = LogisticPatternNull(C=0.01, n_permutations=permutations).fit(
            edges[train],
            y[train],
            site[train],
            edges[train],
            truth["n_rois"],
            null_labels=null_labels[:, train],
        )
        regions = max_statistic_test(fitted.observed_map_, fitted.null_maps_)
        hits = int(regions.loc[planted, "beats_null"].sum())
        sex_hits = int(regions.loc[truth["sensitive_regions"], "beats_null"].sum())
        others = int(regions["beats_null"].sum()) - hits - sex_hits
        found.append(hits)
        observed[fold], null[fold] = fitted.observed_map_, fitted.null_maps_
        print(
            f"{fold:4d}  {hits:13d}  {sex_hits:11d}  {others:13d}  {regions['p_fwer'].min():10.4f}  "
            f"{fitted.seconds_per_null_ * 1000:15.1f}  {time.perf_counter() - started:7.1f}"
        )
    print(stability_against_null(observed, null).round(3).to_string(index=False))
    scaler = StandardScaler().fit(edges[train])
    started = time.perf_counter()
    with threadpool_limits(1):
        LogisticRegression(C=0.01, max_iter=5000, tol=1e-6).fit(scaler.transform(edges[train]), y[train])
    print(
        f"for comparison, one plain lbfgs fit on the {edges.shape[1]} edges: {time.perf_counter() - started:.2f} s"
    )
    return found


def family_wise_error(runs, permutations, subjects, rois, same_sex_ratio, within_sex=False):
    sexes = {"p_male_given_disease": 0.65, "p_male_given_control": 0.65} if same_sex_ratio else {}
    alarms = 0
    started = time.perf_counter()
    for run in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            simulate_cohort(
                folder,
                n_subjects=subjects,
                n_rois=rois,
                n_sites=3,
                disease_effect=0.0,
                seed=1000 + run,
                **sexes,
            )
            edges, y, site, sex, _ = simulated_connectomes(folder)
        blocks = np.char.add(site.astype(str), sex.astype(str)) if within_sex else site
        fitted = LogisticPatternNull(C=0.01, n_permutations=permutations, seed=run).fit(
            edges, y, blocks, edges, rois
        )
        alarms += bool(max_statistic_test(fitted.observed_map_, fitted.null_maps_)["beats_null"].any())
    interval = binomtest(alarms, runs).proportion_ci(0.95, method="exact")
    label = "sex equally common in both classes" if same_sex_ratio else "generator's sex imbalance kept"
    label += ", permuted within site x sex" if within_sex else ", permuted within site"
    print(
        f"no disease effect ({label}): any region beats the null in {alarms}/{runs} runs = "
        f"{alarms / runs:.3f}, Clopper-Pearson 95 % [{interval.low:.3f}, {interval.high:.3f}] "
        f"({time.perf_counter() - started:.0f} s)"
    )
    return alarms / runs, interval


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--permutations", type=int, default=100)
    parser.add_argument("--subjects", type=int, default=120)
    parser.add_argument("--rois", type=int, default=30)
    args = parser.parse_args()
    found = power(args.permutations)
    rate, interval = family_wise_error(args.runs, args.permutations, args.subjects, args.rois, True)
    family_wise_error(args.runs, args.permutations, args.subjects, args.rois, False)
    family_wise_error(args.runs, args.permutations, args.subjects, args.rois, False, within_sex=True)
    assert min(found) >= 8, f"planted regions found per fold: {found}"
    assert interval.low <= 0.05 and rate <= 0.10, f"family-wise error {rate:.3f} {interval}"
    print("controls passed")


if __name__ == "__main__":
    main()
