"""Does LEACE erasure of the linear baseline's edges hold on new subjects? A planted-truth simulation of the
``linear_fc_erase_crossfit`` read-out, and of the orders of scaling and erasing that an independent review
proposed (its item 6; docs/method.md, "Recipes and stages", has the figures).

    PYTHONPATH=src .venv/bin/python benchmarks/linear_erasure.py [--seeds 3] [--edges 3000] [--train 300]
        [--sex-pattern edges|factors] [--sex-shift 0.8] [--overlap 0.7]

Cohorts: ``--edges`` edges with heterogeneous SDs (log-normal, sigma 0.5) and 10 shared factors; diagnosis
(prevalence 0.5 in both sexes, so erasing sex marginally also erases it within diagnosis) shifts 5 % of the
edges by 0.3 SD; sex shifts ``--overlap`` of those disease edges (same sign) and 10 % of the others (random
sign) by ``--sex-shift`` SD (``edges``), or moves two of the shared factors by ``--sex-shift`` factor SD
and the disease edges by 0.3 of it (``factors``). ``--train`` training, 100 validation (C chosen on their
AUC, as the workflow does) and 1000 test subjects, half female. Read-outs, each scored on the test
subjects by the within-diagnosis sex AUC of its decision score (the mean over diagnosis classes of the AUC
of the score for male vs female; 0.5 = sex-blind) and by its diagnosis AUC:

- ``unerased``: StandardScaler + logistic regression (``linear_fc``; the positive control);
- ``erase_then_scale``: LEACE in the row space of the training edges, then StandardScaler + logistic
  regression (``linear_fc_erase_crossfit``'s models: ``FittedLinear.candidates`` with an eraser);
- ``erase_no_scaler``: the same erasure, logistic regression without a scaler;
- ``scale_then_erase``: StandardScaler fitted on the training edges, LEACE in the row space of the
  standardised training edges, logistic regression without a second scaler (its weights stay in the span
  the eraser acts on);
- ``scale_then_project``: standardised, then the orthogonal projection that removes the training groups'
  mean difference (exact on training like LEACE, no whitening; deterministic on new subjects).

Prints one row per seed and read-out, then min-max per read-out. No assertion (a comparison); the controls
with a band are in tests/test_linear_erasure.py.
"""

import argparse

import numpy as np
import pandas as pd
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from neurolip.training.linear import C_GRID, fit_logistic_on_val
from neurolip.training.stages.erase import RepresentationEraser


def planted(n_edges, sex_pattern, sex_shift, rng, n_factors=10, overlap=0.7):
    """The cohort's truth: loadings, per-edge SDs, disease and sex mean shifts (``overlap``: the share of
    disease edges that sex shifts too, ``edges`` pattern)."""
    loadings = rng.normal(0, 0.5, (n_factors, n_edges))
    disease_edges = rng.random(n_edges) < 0.05
    disease = np.where(disease_edges, 0.3, 0.0)
    if sex_pattern == "edges":
        shifted = np.where(disease_edges, rng.random(n_edges) < overlap, rng.random(n_edges) < 0.1)
        sex = np.where(shifted, sex_shift, 0.0) * np.where(disease_edges, 1, rng.choice([-1, 1], n_edges))
    else:
        # sex moves two shared factors, and the disease edges too (so the diagnosis score reads sex)
        sex = sex_shift * (loadings[0] + loadings[1]) + np.where(disease_edges, 0.3 * sex_shift, 0.0)
    return {"loadings": loadings, "sd": rng.lognormal(0, 0.5, n_edges), "disease": disease, "sex": sex}


def cohort(n, truth, rng):
    male = (rng.random(n) < 0.5).astype(int)
    y = (rng.random(n) < 0.5).astype(int)
    factors = rng.normal(size=(n, len(truth["loadings"])))
    noise = rng.normal(size=(n, truth["loadings"].shape[1]))
    x = (factors @ truth["loadings"] + noise) * truth["sd"] + y[:, None] * truth["disease"]
    return x + male[:, None] * truth["sex"] * truth["sd"], y, male


def within_diagnosis_sex_auc(score, y, male):
    return float(np.mean([roc_auc_score(male[y == c], score[y == c]) for c in (0, 1)]))


def standardised(x):
    scaler = StandardScaler().fit(x["train"])
    return {s: scaler.transform(v) for s, v in x.items()}


def erased(x, male):
    """The workflow's erase stage of the linear recipe: LEACE in the row space of the training edges."""
    eraser = RepresentationEraser("sex", row_space=True)
    eraser.fit({"connectome": torch.from_numpy(x["train"])}, male)
    return {s: eraser("connectome", torch.from_numpy(v)).numpy() for s, v in x.items()}


def fit_on_val(features, y, seed, scaler):
    """``fit_logistic_on_val`` (the workflow's: StandardScaler + logistic regression, C on validation AUC),
    or the same without the scaler."""
    if scaler:
        return fit_logistic_on_val(features["train"], y["train"], features["val"], y["val"], seed=seed)[0]
    fits = [
        LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(features["train"], y["train"])
        for c in C_GRID
    ]
    return max(fits, key=lambda m: roc_auc_score(y["val"], m.decision_function(features["val"])))


def projected(x, male):
    """Standardised by the training subjects, then the orthogonal projection that removes the training
    groups' mean difference (equal group means on training, like LEACE, but no whitening)."""
    scaled = standardised(x)
    train = scaled["train"]
    direction = train[male == 1].mean(0) - train[male == 0].mean(0)
    direction /= np.linalg.norm(direction)
    return {s: v - np.outer(v @ direction, direction) for s, v in scaled.items()}


def readouts(x, y, male_train, seed):
    """{read-out: test decision scores}."""
    out = {}
    for name, features, scaler in (
        ("unerased", x, True),
        ("erase_then_scale", erased(x, male_train), True),
        ("erase_no_scaler", erased(x, male_train), False),
        ("scale_then_erase", erased(standardised(x), male_train), False),
        ("scale_then_project", projected(x, male_train), False),
    ):
        out[name] = fit_on_val(features, y, seed, scaler).decision_function(features["test"])
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--edges", type=int, default=3000)
    parser.add_argument("--train", type=int, default=300)
    parser.add_argument("--sex-pattern", choices=("edges", "factors"), default="edges")
    parser.add_argument("--sex-shift", type=float, default=0.8)
    parser.add_argument("--overlap", type=float, default=0.7)
    args = parser.parse_args()
    rows = []
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        truth = planted(args.edges, args.sex_pattern, args.sex_shift, rng, overlap=args.overlap)
        split = {s: cohort(n, truth, rng) for s, n in (("train", args.train), ("val", 100), ("test", 1000))}
        x = {s: v[0] for s, v in split.items()}
        y = {s: v[1] for s, v in split.items()}
        scores = readouts(x, y, split["train"][2], seed)
        for name, score in scores.items():
            rows.append(
                {
                    "seed": seed,
                    "readout": name,
                    "sex_auc_within_dx": within_diagnosis_sex_auc(score, y["test"], split["test"][2]),
                    "diagnosis_auc": roc_auc_score(y["test"], score),
                }
            )
        print(pd.DataFrame(rows[-len(scores) :]).to_string(index=False, float_format="%.3f"), flush=True)
    table = pd.DataFrame(rows)
    print(f"\n{args.sex_pattern}, shift {args.sex_shift}: {args.edges} edges, {args.train} training subjects")
    summary = table.groupby("readout", sort=False)[["sex_auc_within_dx", "diagnosis_auc"]].agg(["min", "max"])
    print(summary.to_string(float_format="%.3f"))


if __name__ == "__main__":
    main()
