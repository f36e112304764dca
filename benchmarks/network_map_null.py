"""The across-fold stability null of a network method's brain maps: one cohort-wide permutation per null
model index, shared by every fold (the design of ``evaluation.maps.permutations`` since issue 31), beside
the former fold-0 design (null models of one fold only, each its own permutation, drawn in groups of
n_folds).

    PYTHONPATH=src .venv/bin/python benchmarks/network_map_null.py [--null-cohorts 100] [--effect-cohorts 40]
        [--permutations 40] [--subjects 1000] [--sites 19] [--rois 40] [--effect 0.12]

Simulated cohorts at ABIDE's sizes (1000 subjects, 19 sites, 5 stratified folds, ``--rois`` regions): edges
share a low-rank structure (so maps have structure under any label) and a site offset; no-effect cohorts
have a diagnosis unrelated to the edges, effect cohorts add ``--effect`` (in edge SDs) × diagnosis to the
edges of 5 planted regions. Stand-in learner: a ridge read-out on the standardised edges (dual closed form,
``map_null.ridge_scores``), mapped as a network method's map is made (``brainmaps.region_pattern``: the
activation pattern of its score on the fold's test subjects, per region the RMS edge-score correlation).

New design: null model k of EVERY fold is trained on one cohort-wide permutation k (within site × outer test
fold, ``permutations.cohort_permutation``), so null map k's across-fold stability is the observed one's
statistic (``map_null.fold_null_replicates``); p = (1 + #null ≥ observed) / (K + 1). Old design: K null
models of fold 0, each its own within-site permutation of fold 0's training labels, compared in groups of 5
(``map_null.same_fold_null_replicates``). A false alarm: p ≤ 0.05 (new), observed above the null's 95th
percentile (both; the old p could not go below 1 / (1 + K // 5)). Also prints the max-T region test (every
fold against its own K null maps): share of no-effect cohorts with any region at p_FWER ≤ 0.05 in fold 0,
and planted regions found in effect cohorts.
Asserts: the new null's false-alarm rate ≤ 10 % and its Clopper-Pearson interval reaches 5 %.
"""

import argparse
import time

import numpy as np
from scipy.stats import binomtest
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from neurolip.evaluation.map_null import (
    fold_null_replicates,
    max_statistic_test,
    region_patterns,
    ridge_scores,
)
from neurolip.permutations import cohort_permutation, within_block_permutations

N_FOLDS = 5
PLANTED = 5


def simulate(seed, subjects, sites, rois, effect):
    """(edges (n, E), diagnosis, site, planted regions) of one cohort."""
    rng = np.random.default_rng(seed)
    n_edges = rois * (rois - 1) // 2
    site = rng.integers(0, sites, subjects)
    y = rng.integers(0, 2, subjects)
    loadings = rng.normal(size=(n_edges, 8))
    edges = rng.normal(size=(subjects, 8)) @ loadings.T / np.sqrt(8) + rng.normal(size=(subjects, n_edges))
    edges += 0.5 * rng.normal(size=(sites, n_edges))[site]
    planted = rng.choice(rois, PLANTED, replace=False)
    rows, cols = np.triu_indices(rois, 1)
    touched = np.isin(rows, planted) | np.isin(cols, planted)
    edges[:, touched] += effect * y[:, None]
    return edges, y, site, planted


def one_cohort(seed, args, effect):
    edges, y, site, planted = simulate(seed, args.subjects, args.sites, args.rois, effect)
    strata = np.char.add(y.astype(str), site.astype(str))
    folds = list(StratifiedKFold(N_FOLDS, shuffle=True, random_state=seed).split(edges, strata))
    test_fold = np.empty(len(y), dtype=int)
    for fold, (_, test) in enumerate(folds):
        test_fold[test] = fold
    # the workflow's train_null jobs: permutation k alone, from (seed, k), the same for every fold
    cohort_index = np.array(
        [cohort_permutation(site, test_fold, k, seed=0) for k in range(args.permutations)]
    )
    observed, null = {}, {}
    for fold, (train, test) in enumerate(folds):
        labels = np.column_stack([y[train], y[cohort_index][:, train].T])
        maps = region_patterns(
            edges[test], ridge_scores(edges[train], labels, edges[test], args.alpha), args.rois
        )
        observed[fold], null[fold] = maps[0], maps[1:]
    value = np.mean(
        [np.corrcoef(*[np.argsort(np.argsort(observed[f])) for f in pair])[0, 1] for pair in _pairs()]
    )
    new = fold_null_replicates(null)[0]
    # the former design: fold 0's K null models, each its own within-site permutation, in groups of 5
    train, test = folds[0]
    own = y[train][within_block_permutations(site[train], args.permutations, seed=seed + 1)]
    old_maps = region_patterns(
        edges[test], ridge_scores(edges[train], own.T, edges[test], args.alpha), args.rois
    )
    old = same_fold_spearman(old_maps, seed)
    regions = max_statistic_test(observed[0], null[0])
    return {
        "observed": value,
        "new_p": (1 + np.sum(new >= value - 1e-12)) / (1 + len(new)),
        "new_p95": np.percentile(new, 95),
        "new_mean": new.mean(),
        "old_p95": np.percentile(old, 95),
        "old_mean": old.mean(),
        "any_region": bool(regions["beats_null"].any()),
        "planted_found": int(regions.loc[planted, "beats_null"].sum()),
        "other_found": int(regions["beats_null"].sum() - regions.loc[planted, "beats_null"].sum()),
    }


def same_fold_spearman(null_maps, seed, n_draws=1000):
    """``map_null.same_fold_null_replicates``'s Spearman replicates (its top-k Jaccard loop skipped)."""
    spearman = np.corrcoef(np.argsort(np.argsort(null_maps, axis=1), axis=1))
    rng = np.random.default_rng(seed)
    upper = np.triu_indices(N_FOLDS, 1)
    draws = [rng.choice(len(null_maps), N_FOLDS, replace=False) for _ in range(n_draws)]
    return np.array([spearman[np.ix_(d, d)][upper].mean() for d in draws])


def _pairs():
    return [(a, b) for a in range(N_FOLDS) for b in range(a + 1, N_FOLDS)]


def rate(hits, n):
    interval = binomtest(int(hits), n).proportion_ci(0.95)
    return f"{hits}/{n} = {hits / n:.3f} [95 % CI {interval.low:.3f}, {interval.high:.3f}]"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--null-cohorts", type=int, default=100)
    parser.add_argument("--effect-cohorts", type=int, default=40)
    parser.add_argument("--permutations", type=int, default=40)
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--sites", type=int, default=19)
    parser.add_argument("--rois", type=int, default=40)
    parser.add_argument("--effect", type=float, default=0.4)
    parser.add_argument("--alpha", type=float, default=1000.0, help="ridge penalty on standardised edges")
    args = parser.parse_args()
    started = time.perf_counter()
    print(
        f"{args.subjects} subjects, {args.sites} sites, {N_FOLDS} folds, {args.rois} ROIs, "
        f"K = {args.permutations} null models per fold (p resolution 1/{args.permutations + 1} = "
        f"{1 / (args.permutations + 1):.3f}); old design: {args.permutations} null models of fold 0, groups of "
        f"{N_FOLDS} (p resolution 1/{1 + args.permutations // N_FOLDS})"
    )
    for label, n, effect in (
        ("no effect", args.null_cohorts, 0.0),
        ("planted effect", args.effect_cohorts, args.effect),
    ):
        results = [one_cohort(1000 * (effect > 0) + seed, args, effect) for seed in range(n)]

        def get(key, results=results):
            return np.array([r[key] for r in results])

        observed = get("observed")
        print(f"\n{label} ({n} cohorts, effect {effect} SD on the edges of {PLANTED} regions):")
        print(
            f"  observed across-fold Spearman: mean {observed.mean():.3f}; new null mean {get('new_mean').mean():.3f}, "
            f"p95 {get('new_p95').mean():.3f}; old null mean {get('old_mean').mean():.3f}, p95 {get('old_p95').mean():.3f}"
        )
        new_p = (get("new_p") <= 0.05).sum()
        print(f"  new (cohort-wide permutation k on every fold), p <= 0.05:   {rate(new_p, n)}")
        print(
            f"  new, observed > null p95:                                   {rate((observed > get('new_p95')).sum(), n)}"
        )
        print(
            f"  old (fold 0 only, groups of {N_FOLDS}), observed > null p95:     {rate((observed > get('old_p95')).sum(), n)}"
        )
        print(
            f"  max-T regions, fold 0 vs its {args.permutations} null maps, any region p_FWER <= 0.05: {rate(get('any_region').sum(), n)}"
        )
        print(
            f"  planted regions found (fold 0): mean {get('planted_found').mean():.2f} of {PLANTED}; "
            f"other regions: mean {get('other_found').mean():.2f}"
        )
        if effect == 0:
            false_alarm = new_p / n
            low = binomtest(int(new_p), n).proportion_ci(0.95).low
    print(f"\n{time.perf_counter() - started:.0f} s")
    assert false_alarm <= 0.10 and low <= 0.05, "the cohort-wide null's false-alarm rate exceeds its bound"
    print("controls passed")


if __name__ == "__main__":
    # thousands of small factorisations: one BLAS thread each (a contended pool spins)
    with threadpool_limits(1):
        main()
