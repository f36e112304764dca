"""Does site harmonisation remove planted site effects, and leave a cohort without them alone?

linear_fc's model (logistic regression on the connectome's edges, C chosen on the inner validation split:
neurolip.training.linear.fit_logistic_on_val) on the project's stratified folds (neurolip.folds.make_folds),
with connectivity.harmonize (neurolip.harmonize) fitted on each fold's training subjects; pooled AUC of the
test scores, under stratified and leave-site-out folds. Cohorts (COHORTS): planted site effects, the
generator's own site differences only, and none at all (one site dealt into random pseudo-sites). One row
per (cohort, scheme, seed) and the mean lift of site_standardize per (cohort, scheme).

    PYTHONPATH=src python benchmarks/site_harmonization.py --seeds 0 1 2
"""

import argparse
import tempfile
import time

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

from neurolip.datasets.simulated import simulate_cohort, simulated_connectomes
from neurolip.folds import make_folds, make_site_folds
from neurolip.harmonize import harmonize_features
from neurolip.training.linear import fit_logistic_on_val

COHORTS = {
    # planted additive + multiplicative site effects on top of the generator's own site differences
    "site_effect": {"n_sites": 4, "site_effect": 1.0},
    # the generator's own site differences only (scan length, noise level, global signal)
    "base": {"n_sites": 4, "site_effect": 0.0},
    # no site effect at all: one site, its subjects dealt at random into four pseudo-sites
    "no_site_effect": {"n_sites": 1, "site_effect": 0.0},
}
DISEASE_EFFECT = 0.15  # off the AUC ceiling in every cohort


def pooled_auc(edges, diagnosis, sites, subject_ids, method, n_folds=5, seed=0, scheme="stratified"):
    """Pooled test AUC of linear_fc's model over ``n_folds`` stratified folds (or leave-site-out folds),
    ``method`` harmonising."""
    cohort = pd.DataFrame({"subject_id": subject_ids, "site": sites, "diagnosis": diagnosis})
    if scheme == "leave_site_out":
        folds = make_site_folds(cohort, n_folds=len(set(sites)), seed=seed, settings={"min_site_size": 2})
    else:
        folds = make_folds(cohort, n_folds=n_folds, seed=seed)
    position = {s: i for i, s in enumerate(subject_ids)}
    scores = np.full(len(subject_ids), np.nan)
    for _, part in folds.groupby("fold"):
        idx = {split: [position[s] for s in rows["subject_id"]] for split, rows in part.groupby("split")}
        features = edges
        if method != "none":
            train_ids = [subject_ids[i] for i in idx["train"]]
            features, _ = harmonize_features(edges, subject_ids, train_ids, cohort, method, ())
        model, _, _ = fit_logistic_on_val(
            features[idx["train"]], diagnosis[idx["train"]], features[idx["val"]], diagnosis[idx["val"]]
        )
        scores[idx["test"]] = model.predict_proba(features[idx["test"]])[:, 1]
    return roc_auc_score(diagnosis, scores)


def cohort_lift(setting, seed, scheme, n_subjects=240, n_rois=30):
    """(AUC without harmonisation, AUC with site_standardize) on one simulated cohort under ``scheme``."""
    options = COHORTS[setting]
    with tempfile.TemporaryDirectory() as folder:
        simulate_cohort(
            folder, n_subjects=n_subjects, n_rois=n_rois, seed=seed, disease_effect=DISEASE_EFFECT, **options
        )
        edges, diagnosis, sites, _, ids = simulated_connectomes(folder)
    if options["n_sites"] == 1:
        sites = np.random.default_rng(seed).choice([f"PSEUDO{k}" for k in range(4)], size=len(ids))
    return tuple(
        pooled_auc(edges, diagnosis, sites, ids, m, seed=seed, scheme=scheme)
        for m in ("none", "site_standardize")
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--subjects", type=int, default=240)
    parser.add_argument("--rois", type=int, default=30)
    args = parser.parse_args()
    print("cohort,scheme,seed,auc_none,auc_site_standardize,lift,seconds")
    for setting in COHORTS:
        for scheme in ("stratified", "leave_site_out"):
            lifts = []
            for seed in args.seeds:
                start = time.perf_counter()
                none, standardised = cohort_lift(setting, seed, scheme, args.subjects, args.rois)
                lifts.append(standardised - none)
                seconds = time.perf_counter() - start
                print(
                    f"{setting},{scheme},{seed},{none:.3f},{standardised:.3f},{lifts[-1]:+.3f},{seconds:.1f}",
                    flush=True,
                )
            spread = np.std(lifts, ddof=1) if len(lifts) > 1 else 0.0
            print(
                f"# {setting} {scheme}: mean lift {np.mean(lifts):+.3f}, SD {spread:.3f}, "
                f"range {min(lifts):+.3f} to {max(lifts):+.3f} over {len(lifts)} seeds",
                flush=True,
            )


if __name__ == "__main__":
    main()
