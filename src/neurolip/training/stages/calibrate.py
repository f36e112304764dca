"""The calibrate stage: Platt scaling of the chosen read-out, fitted on validation (or out-of-fold) scores."""

from __future__ import annotations

from sklearn.linear_model import LogisticRegression

from ..linear import logit


class PlattCalibration:
    """Platt scaling of a read-out's probabilities, fitted on the validation split.

    Zero-shot and TTCA read-outs are softmaxes at a learnt temperature: they rank well but their 0.5 point
    can sit far from the class boundary (e.g. 1 % predicted positive at a base rate of 50 %). A logistic
    fit of the label on logit(p) moves the decision threshold to where validation puts it; it is monotone,
    so AUC does not change.
    """

    def __init__(self, eps=1e-12):
        self.eps = eps

    @classmethod
    def from_stage(cls, params, method, settings) -> PlattCalibration:
        return cls(**params)

    def _logit(self, p):
        return logit(p, self.eps)[:, None]

    def fit(self, p_val, y_val):
        # a weak penalty keeps the fit finite when validation separates perfectly
        self.model_ = LogisticRegression(C=100.0, max_iter=1000).fit(self._logit(p_val), y_val)
        return self

    def transform(self, p):
        return self.model_.predict_proba(self._logit(p))[:, 1]

    def describe(self):
        return {"slope": float(self.model_.coef_[0, 0]), "intercept": float(self.model_.intercept_[0])}
