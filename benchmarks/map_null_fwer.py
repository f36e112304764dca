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

    .venv/bin/python benchmarks/map_null_fwer.py --abide [--cohorts 1] [--null-cohorts 100] [--permutations 40]

3. At ABIDE's sizes (1000 subjects, 200 regions, 19 sites, 5 folds; ``simulated_connectome_arrays``) for
   both signal settings of the generator ("generous", the demo's; "realistic": shared edge variance,
   weaker effect): linear_fc's test AUC (logistic regression at C = 0.01 on the standardised edges), the
   mean number of the 10 planted regions found at p_FWER <= 0.05 and each planted region's power (share
   of cohort x fold maps finding it), with the empirical max-T p (resolution 1 / (1 + permutations)) and
   with the generalised Pareto tail (``tail_approximation``); then the family-wise error over
   ``--null-cohorts`` cohorts without a disease effect (fold 0 of each), both p-values, with
   Clopper-Pearson intervals.
4. ``--calibration``: the tail p of one exchangeable draw against 40 others (maxima over 200 regions of
   Gaussian maps), 2000 draws: the share at p <= 0.01, 0.05, 0.1 and below the permutation floor 1/41.
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

from neurolip.datasets.simulated import simulate_cohort, simulated_connectome_arrays, simulated_connectomes
from neurolip.evaluation.map_null import (
    LogisticPatternNull,
    cohort_permutations,
    max_statistic_test,
    stability_against_null,
    tail_p_values,
)
from neurolip.stats import safe_auc

ABIDE = {"n_subjects": 1000, "n_rois": 200, "n_sites": 19}
SMALL = {"n_subjects": 120, "n_rois": 30, "n_sites": 3}  # --small-null: the family-wise error at low cost


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


def _fold_maps(edges, y, site, folds, permutations, fold_ids, seed, n_rois=ABIDE["n_rois"]):
    """Per fold: (test AUC, max-T table with the tail p) of a C = 0.01 logistic read-out mapped on its
    training subjects against ``permutations`` cohort-wide within-site x fold null refits."""
    test_fold = np.zeros(len(y), dtype=int)
    for fold, (_, test) in enumerate(folds):
        test_fold[test] = fold
    null_labels = y[cohort_permutations(site, test_fold, permutations, seed=seed)]
    for fold in fold_ids:
        train, test = folds[fold]
        fitted = LogisticPatternNull(C=0.01, n_permutations=permutations).fit(
            edges[train],
            y[train],
            site[train],
            edges[train],
            n_rois,
            null_labels=null_labels[:, train],
        )
        test_scores = fitted.scaler_.transform(edges[test]) @ fitted.weights_[:, 0]
        yield (
            safe_auc(y[test], test_scores),
            max_statistic_test(fitted.observed_map_, fitted.null_maps_, tail_approximation=True),
        )


def abide_power(signal, cohorts, permutations):
    aucs, found, found_tail, per_region, per_region_tail, others, others_tail = [], [], [], [], [], [], []
    started = time.perf_counter()
    for cohort in range(cohorts):
        truth, edges, y, site, _ = simulated_connectome_arrays(signal=signal, seed=cohort, **ABIDE)
        planted = truth["disease_regions"]
        strata = np.char.add(y.astype(str), site.astype(str))
        folds = list(StratifiedKFold(5, shuffle=True, random_state=cohort).split(edges, strata))
        for auc, table in _fold_maps(edges, y, site, folds, permutations, range(5), seed=cohort):
            hit_tail = table["p_fwer"] <= 0.05
            hit = table["p_fwer_empirical"] <= 0.05
            aucs.append(auc)
            found.append(int(hit[planted].sum()))
            found_tail.append(int(hit_tail[planted].sum()))
            per_region.append(hit[planted].to_numpy())
            per_region_tail.append(hit_tail[planted].to_numpy())
            others.append(int(hit.sum()) - found[-1])
            others_tail.append(int(hit_tail.sum()) - found_tail[-1])
    maps = len(found)
    print(
        f"{signal}: {cohorts} cohort(s) x 5 folds at ABIDE's sizes, {permutations} null refits per fold "
        f"(empirical p resolution 1/{permutations + 1} = {1 / (permutations + 1):.3f}); "
        f"linear_fc test AUC {np.mean(aucs):.3f} (folds {np.min(aucs):.3f}-{np.max(aucs):.3f})"
    )
    for label, counts, regions, other in (
        ("empirical max-T p", found, per_region, others),
        ("GPD tail p", found_tail, per_region_tail, others_tail),
    ):
        print(
            f"  {label:18s}: planted regions found per map {np.mean(counts):.2f} of 10 (min {min(counts)}, "
            f"max {max(counts)}); per-region power over {maps} maps "
            f"{np.round(np.mean(regions, 0), 2).tolist()}; other regions per map {np.mean(other):.2f}"
        )
    print(f"  ({time.perf_counter() - started:.0f} s)")


def abide_family_wise_error(null_cohorts, permutations, sizes=ABIDE):
    alarms = {"empirical": 0, "tail": 0}
    started = time.perf_counter()
    for cohort in range(null_cohorts):
        _, edges, y, site, _ = simulated_connectome_arrays(
            signal="realistic", disease_effect=0.0, seed=5000 + cohort, **sizes
        )
        strata = np.char.add(y.astype(str), site.astype(str))
        folds = list(StratifiedKFold(5, shuffle=True, random_state=cohort).split(edges, strata))
        (_, table), *_ = _fold_maps(
            edges, y, site, folds, permutations, [0], seed=cohort, n_rois=sizes["n_rois"]
        )
        alarms["empirical"] += bool((table["p_fwer_empirical"] <= 0.05).any())
        alarms["tail"] += bool((table["p_fwer"] <= 0.05).any())
        print(
            f"  null cohort {cohort}: empirical {alarms['empirical']}, tail {alarms['tail']} "
            f"({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    for label, count in alarms.items():
        interval = binomtest(count, null_cohorts).proportion_ci(0.95, method="exact")
        print(
            f"no disease effect, {sizes}, {permutations} null refits, {label} p: any region at "
            f"p_FWER <= 0.05 in {count}/{null_cohorts} cohorts = {count / null_cohorts:.3f}, "
            f"Clopper-Pearson 95 % [{interval.low:.3f}, {interval.high:.3f}]"
        )
    print(f"  ({time.perf_counter() - started:.0f} s)")


def tail_calibration(n_null=40, draws=2000):
    rng = np.random.default_rng(1)
    p = []
    for draw in range(draws):
        values = rng.standard_normal((n_null + 1, 200)).max(1)
        p.append(float(tail_p_values(values[1:], values[:1], seed=draw)[0]))
    p = np.array(p)
    for level in (0.01, 0.05, 0.1):
        count = int((p <= level).sum())
        interval = binomtest(count, draws).proportion_ci(0.95, method="exact")
        print(
            f"tail p of a pure-null draw against {n_null} null maxima: P(p <= {level}) = {count / draws:.4f} "
            f"[{interval.low:.4f}, {interval.high:.4f}] ({draws} draws)"
        )
    print(f"below the permutation floor 1/{n_null + 1}: {np.mean(p < 1 / (n_null + 1)):.4f}")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--permutations", type=int, default=100)
    parser.add_argument("--subjects", type=int, default=120)
    parser.add_argument("--rois", type=int, default=30)
    parser.add_argument("--abide", action="store_true", help="section 3 only (ABIDE's sizes)")
    parser.add_argument("--cohorts", type=int, default=1)
    parser.add_argument("--null-cohorts", type=int, default=100)
    parser.add_argument("--signals", default="generous,realistic")
    parser.add_argument("--calibration", action="store_true", help="section 4 only")
    parser.add_argument("--small-null", action="store_true", help="section 3's no-effect runs at 120 x 30")
    args = parser.parse_args()
    if args.calibration:
        tail_calibration()
        return
    if args.abide:
        for signal in [s for s in args.signals.split(",") if s]:
            abide_power(signal, args.cohorts, args.permutations)
        if args.null_cohorts:
            sizes = SMALL if args.small_null else ABIDE
            abide_family_wise_error(args.null_cohorts, args.permutations, sizes)
        return
    found = power(args.permutations)
    rate, interval = family_wise_error(args.runs, args.permutations, args.subjects, args.rois, True)
    family_wise_error(args.runs, args.permutations, args.subjects, args.rois, False)
    family_wise_error(args.runs, args.permutations, args.subjects, args.rois, False, within_sex=True)
    assert min(found) >= 8, f"planted regions found per fold: {found}"
    assert interval.low <= 0.05 and rate <= 0.10, f"family-wise error {rate:.3f} {interval}"
    print("controls passed")


if __name__ == "__main__":
    main()
