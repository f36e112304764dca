"""The choose-read-out stage: which of a model's read-out candidates to report, chosen on validation (or
out-of-fold) scores only."""

from __future__ import annotations

import numpy as np

from ...stats import auc_standard_error, safe_auc
from ..readout import ENSEMBLE


class ChooseReadout:
    """The read-out stage: which candidate to report, chosen from validation scores only.

    ``setting``: ``training.readout`` (``zero_shot`` means the recipe's direct read-out ``direct``, ``auto``
    the one-standard-error rule). A recipe with a single candidate reports it whatever the setting.
    Fitted: ``choice_`` and the candidates' validation AUCs ``val_auc_``."""

    def __init__(self, setting: str = "auto", direct: str | None = None):
        self.setting = setting
        self.direct = direct

    @classmethod
    def from_stage(cls, params, method, settings) -> ChooseReadout:
        """``training.readout`` and the recipe's direct read-out."""
        return cls(settings.readout, method.objective.readouts[0])

    def fit(self, validation: dict, y_val) -> ChooseReadout:
        self.val_auc_ = {k: safe_auc(y_val, v) for k, v in validation.items()}
        if len(validation) == 1:
            self.choice_ = next(iter(validation))
        elif self.setting == "auto":
            self.choice_ = one_standard_error_choice(self.val_auc_, y_val)
        else:
            self.choice_ = self.direct if self.setting == "zero_shot" else self.setting
        return self

    def transform(self, scores: dict):
        """The chosen candidate's scores from {kind: scores}."""
        return scores[self.choice_]


def one_standard_error_choice(val_auc: dict, y_val) -> str:
    """The best validation AUC, unless it beats the ensemble by no more than its own standard error: on
    a small validation split the single best read-out is often best by chance, and the average of the
    candidates is the lower-variance choice (the one-standard-error rule)."""
    scores = {k: np.nan_to_num(v, nan=-1.0) for k, v in val_auc.items()}
    best = max(scores, key=scores.get)
    if best == ENSEMBLE or ENSEMBLE not in scores:
        return best
    n_positive, n_negative = int((y_val == 1).sum()), int((y_val == 0).sum())
    if scores[best] - scores[ENSEMBLE] <= auc_standard_error(scores[best], n_positive, n_negative):
        return ENSEMBLE
    return best
