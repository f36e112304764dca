"""Linear read-outs: the ``linear_fc`` baseline and the linear probe on fMRI embeddings.

The inverse regularisation strength C is chosen on the inner validation split, never on the test fold.
"""

from __future__ import annotations

import numpy as np
from scipy import special
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ..connectivity import upper_triangle
from ..stats import safe_auc

C_GRID = (0.001, 0.01, 0.1, 1.0)


def fit_logistic_on_val(x_train, y_train, x_val, y_val, c_grid=C_GRID, seed=0):
    """Fit one model per C on the training split; keep the best validation AUC. Returns (model, C, val AUC)."""
    best = (None, None, -np.inf)
    for c in c_grid:
        model = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000, random_state=seed))
        model.fit(x_train, y_train)
        auc = safe_auc(y_val, model.predict_proba(x_val)[:, 1])
        if auc > best[2] or best[0] is None:
            best = (model, c, auc)
    return best


def fit_linear_baseline(data, seed=0):
    """Logistic regression on the vectorised connectome (upper triangle), C chosen on validation.
    Returns ({split: P(disease)} for val and test, selection info)."""
    features = {s: upper_triangle(data.x[s].numpy()) for s in data.x}
    model, c, val_auc = fit_logistic_on_val(
        features["train"], data.y["train"], features["val"], data.y["val"], seed=seed
    )
    scores = {s: model.predict_proba(features[s])[:, 1] for s in ("val", "test")}
    return scores, {"readout": LINEAR_READOUT, "C": c, "val_auc": val_auc}


LINEAR_READOUT = "logistic_regression"


class FittedLinear:
    """The linear recipe's model of one :class:`~neurolip.training.recipes.ModelSplit`, read like a
    network's: one read-out candidate, the vectorised connectome as its representation (an erase stage
    erases the attribute from it before the logistic regression is fitted: fitted on the training subjects'
    edges, in their span), and the leakage probe reads it. It stores no checkpoint: a read-out-only method
    of a linear recipe fits it again (deterministic); the fit waits for :meth:`candidates`."""

    erasable: list[str] = ["connectome"]
    erase_in_row_space = True

    def __init__(self, split, fitted=None):
        """``fitted``: ({split: P(disease)}, info) already made (a null model's); default: fitted when
        :meth:`candidates` asks (on erased edges when the method erases)."""
        self.seed, self.data = split.seed, split.data
        self._fitted = fitted
        self.info = {"seed": split.seed}

    def representations(self, split: str, names=None, erase=None) -> dict[str, np.ndarray]:
        edges = upper_triangle(self.data.x[split].numpy())
        if erase is not None:
            import torch

            edges = erase("connectome", torch.from_numpy(edges)).numpy()
        return {"connectome": edges}

    def candidates(self, erase=None) -> tuple[dict, dict]:
        if erase is None:
            scores, info = self._fitted or fit_linear_baseline(self.data, seed=self.seed)
        else:
            if self._fitted is not None:
                raise ValueError(
                    "a linear model fitted beforehand (a null model) cannot be read with erasure"
                )
            features = {s: self.representations(s, erase=erase)["connectome"] for s in self.data.x}
            model, c, val_auc = fit_logistic_on_val(
                features["train"], self.data.y["train"], features["val"], self.data.y["val"], seed=self.seed
            )
            scores = {s: model.predict_proba(features[s])[:, 1] for s in ("val", "test")}
            info = {"readout": LINEAR_READOUT, "C": c, "val_auc": val_auc}
        self.info.update(info)
        return {LINEAR_READOUT: scores}, {}

    def leakage_features(self, choice, erase=None, splits=("train", "val", "test")):
        return "connectome", {s: self.representations(s, erase=erase)["connectome"] for s in splits}

    def attention(self):
        return None


class LinearFitter:
    """The linear recipe's fitter: each model with its own C chosen on its validation split."""

    def fit(self, split) -> FittedLinear:
        return FittedLinear(split)


class LinearNullFitter:
    """Null models of the linear recipe (connectomes permuted among subjects) without re-choosing C: each
    model (seed) keeps the C of the observed model of the same split, and each fit starts from the
    previous permutation's coefficients (lbfgs warm start; the null solutions differ, their scale does not).

    ``chosen``: {seed: C} of the observed models (their selection.json), or None: chosen here once per
    model on the unpermuted split (:meth:`for_observed`), exactly as the observed model chose it.
    """

    def __init__(self, chosen: dict[int, float] | None = None):
        self.chosen = dict(chosen or {})
        self._estimators: dict[int, LogisticRegression] = {}

    def for_observed(self, observed_splits) -> LinearNullFitter:
        """Make sure every model of the fold has its observed C (choosing it on ``observed_splits``, the
        unpermuted data, where the observed selection was not given)."""
        for split in observed_splits:
            if split.seed not in self.chosen:
                features = {s: upper_triangle(split.data.x[s].numpy()) for s in ("train", "val")}
                _, c, _ = fit_logistic_on_val(
                    features["train"],
                    split.data.y["train"],
                    features["val"],
                    split.data.y["val"],
                    seed=split.seed,
                )
                self.chosen[split.seed] = c
        return self

    def fit(self, split) -> FittedLinear:
        if split.seed not in self.chosen:
            raise ValueError(
                f"linear null model: no observed C for seed {split.seed}; call for_observed first"
            )
        c = self.chosen[split.seed]
        features = {s: upper_triangle(split.data.x[s].numpy()) for s in ("train", "val", "test")}
        scaler = StandardScaler().fit(features["train"])
        estimator = self._estimators.setdefault(
            split.seed, LogisticRegression(C=c, max_iter=2000, random_state=split.seed, warm_start=True)
        )
        estimator.fit(scaler.transform(features["train"]), split.data.y["train"])
        scores = {s: estimator.predict_proba(scaler.transform(features[s]))[:, 1] for s in ("val", "test")}
        val_auc = safe_auc(split.data.y["val"], scores["val"])
        return FittedLinear(
            split, (scores, {"readout": LINEAR_READOUT, "C": c, "val_auc": val_auc, "C_from": "observed"})
        )


def logit(p, eps=1e-12):
    """scipy's logit of p clipped away from 0 and 1, so saturated probabilities stay finite."""
    return special.logit(np.clip(np.asarray(p, dtype=float), eps, 1 - eps))


def standardised_logit(p, reference):
    """logit(p) centred and scaled by the mean and SD of logit(``reference``), the same read-out's scores on
    the validation subjects (no labels used): read-outs whose softmax temperatures differ get equal weight
    in an ensemble, instead of the most extreme one dominating a mean of probabilities."""
    reference = logit(reference)
    return (logit(p) - reference.mean()) / max(float(reference.std()), 1e-9)


def logit_ensemble(members, references):
    """P = sigmoid(mean of the members' standardised logits); ``members`` and ``references`` are lists."""
    return special.expit(np.mean([standardised_logit(p, r) for p, r in zip(members, references)], axis=0))
