"""Does AUC differ across sites beyond chance? False alarms and power of the per-site heterogeneity test
(neurolip.evaluation.per_site: Cochran's Q of the per-site AUCs and their plain SD, each against site labels
permuted within diagnosis over the pooled predictions) at ABIDE's sizes: 1034 subjects, 20 sites of 27–184
subjects, 5 folds.

Each cohort's out-of-fold P(disease) comes from a stand-in learner: a latent score z = d_site · y + noise with
d_site = √2 Φ⁻¹(AUC_site) (binormal, so the site's true AUC is AUC_site), a site offset shared by both classes
(site shifts scores, not AUC), and each test fold's own calibration sigmoid(a_f z + b_f). Two fold schemes:
``stratified`` (5 folds stratified on site × diagnosis: a site's subjects spread over the 5 fold models) and
``leave_site_out`` (each site one fold: one model per site).

* Null: every site at AUC 0.70; false alarms at α = 0.05 should be 3–7 %.
* Power, spread: per-site AUC 0.70 + τ·z_s with z a fixed standardised pattern (mean 0, SD 1) dealt to the
  sites at random, so τ is exactly the SD of the true per-site AUCs; the MDE is the τ at 80 % power
  (interpolated on the grid).
* Power, degradation: 3 random sites at 0.70 − δ, the rest at 0.70.

Run: ``PYTHONPATH=src python benchmarks/per_site.py [--null N] [--power N] [--perm N]``.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from scipy.stats import norm

from neurolip.evaluation.per_site import site_heterogeneity

# ABIDE-like site sizes (20 sites of 27–184, 1034 subjects; the UCLA/UM/NYU-sized sites large, most
# small); the patient share of each site is drawn per cohort
SITE_SIZES = np.array([37, 27, 48, 28, 34, 52, 184, 28, 34, 56, 30, 36, 40, 49, 98, 27, 86, 35, 67, 38])
BASE_AUC = 0.70
N_FOLDS = 5


def cohort(rng, site_auc, scheme):
    """(scores, y, site codes) of one simulated cohort with true per-site AUCs ``site_auc``."""
    sites = np.repeat(np.arange(len(SITE_SIZES)), SITE_SIZES)
    share = rng.uniform(0.35, 0.6, len(SITE_SIZES))
    y = (rng.random(len(sites)) < share[sites]).astype(int)
    d = np.sqrt(2) * norm.ppf(np.clip(site_auc, 0.001, 0.999))
    z = d[sites] * y + rng.normal(0, 1, len(sites)) + rng.normal(0, 0.5, len(SITE_SIZES))[sites]
    if scheme == "leave_site_out":
        folds = sites
    else:  # stratified on site x diagnosis: each stratum dealt round-robin over the folds from a random start
        folds = np.empty(len(sites), int)
        for stratum in np.unique(sites * 2 + y):
            where = rng.permutation(np.flatnonzero(sites * 2 + y == stratum))
            folds[where] = (np.arange(len(where)) + rng.integers(N_FOLDS)) % N_FOLDS
    n_models = folds.max() + 1
    a, b = rng.uniform(0.6, 1.4, n_models), rng.normal(0, 0.3, n_models)
    scores = 1 / (1 + np.exp(-(a[folds] * z + b[folds])))
    return scores, y, sites


def rejections(rng, site_auc_draw, n_cohorts, n_perm, scheme, alpha=0.05):
    """Share of cohorts where p_q and p_sd are ≤ alpha."""
    hits = np.zeros(2)
    for i in range(n_cohorts):
        scores, y, sites = cohort(rng, site_auc_draw(rng), scheme)
        het = site_heterogeneity(scores, y, sites, len(SITE_SIZES), n_perm=n_perm, seed=i)
        hits += [het["p_q"] <= alpha, het["p_sd"] <= alpha]
    return hits / n_cohorts


def wilson(rate, n, z=1.96):
    """95 % Wilson interval of a share ``rate`` of ``n`` cohorts, in percent."""
    centre = (rate + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(rate * (1 - rate) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return f"[{100 * (centre - half):.1f}, {100 * (centre + half):.1f}]"


def spread_pattern():
    z = np.random.default_rng(12345).standard_normal(len(SITE_SIZES))
    return (z - z.mean()) / z.std(ddof=1)


def mde(grid, power, target=0.8):
    above = np.flatnonzero(np.asarray(power) >= target)
    if not len(above):
        return float("nan")
    i = above[0]
    if i == 0:
        return float(grid[0])
    x0, x1, p0, p1 = grid[i - 1], grid[i], power[i - 1], power[i]
    return float(x0 + (target - p0) * (x1 - x0) / (p1 - p0))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--null", type=int, default=400, help="null cohorts per fold scheme")
    parser.add_argument("--power", type=int, default=100, help="planted cohorts per grid point")
    parser.add_argument("--perm", type=int, default=200, help="site permutations per cohort")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    start = time.time()
    rng = np.random.default_rng(args.seed)
    pattern = spread_pattern()
    print(
        f"cohort: {SITE_SIZES.sum()} subjects, {len(SITE_SIZES)} sites of {SITE_SIZES.min()}–{SITE_SIZES.max()}"
    )
    print(f"true AUC {BASE_AUC}; {args.perm} within-diagnosis site permutations per cohort; α = 0.05\n")
    results = {}
    for scheme in ("stratified", "leave_site_out"):
        null = rejections(rng, lambda r: np.full(len(SITE_SIZES), BASE_AUC), args.null, args.perm, scheme)
        se = np.sqrt(0.05 * 0.95 / args.null)
        print(
            f"[{scheme}] null ({args.null} cohorts): false alarms Q {100 * null[0]:.1f} % "
            f"{wilson(null[0], args.null)}, SD {100 * null[1]:.1f} % {wilson(null[1], args.null)} "
            f"(nominal 5 %, binomial SE {100 * se:.1f} %)"
        )
        grid = [0.025, 0.05, 0.075, 0.1, 0.125, 0.15]
        power = [
            rejections(
                rng, lambda r, t=t: BASE_AUC + t * r.permutation(pattern), args.power, args.perm, scheme
            )
            for t in grid
        ]
        for t, p in zip(grid, power, strict=True):
            print(
                f"  spread τ = {t:.3f} (SD of true site AUCs): power Q {100 * p[0]:.0f} %, SD {100 * p[1]:.0f} %"
            )
        q_mde, sd_mde = (mde(grid, [p[k] for p in power]) for k in (0, 1))
        print(f"  MDE at 80 % power: τ = {q_mde:.3f} (Q), {sd_mde:.3f} (SD)")

        def degraded(r, delta):
            auc = np.full(len(SITE_SIZES), BASE_AUC)
            auc[r.choice(len(SITE_SIZES), 3, replace=False)] -= delta
            return auc

        for delta in (0.1, 0.2, 0.3):
            p = rejections(rng, lambda r, d=delta: degraded(r, d), args.power, args.perm, scheme)
            print(
                f"  3 random sites at AUC {BASE_AUC - delta:.2f}: power Q {100 * p[0]:.0f} %, SD {100 * p[1]:.0f} %"
            )
        results[scheme] = {"null": null, "mde_q": q_mde, "mde_sd": sd_mde}
        print()
    print(f"wall time {time.time() - start:.0f} s")
    ok = all(0.03 <= r["null"][0] <= 0.07 for r in results.values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
