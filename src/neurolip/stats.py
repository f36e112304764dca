"""Small statistics shared by training (model selection on validation) and evaluation."""

import numpy as np
from sklearn.metrics import roc_auc_score


def safe_auc(y_true, y_score) -> float:
    """ROC AUC, or NaN when ``y_true`` holds a single class."""
    if len(np.unique(y_true)) < 2:
        return float("nan")
    return roc_auc_score(y_true, y_score)


def auc_standard_error(auc: float, n_positive: int, n_negative: int) -> float:
    """Hanley & McNeil (1982) standard error of an AUC estimated from n_positive and n_negative subjects."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = auc * (1 - auc) + (n_positive - 1) * (q1 - auc**2) + (n_negative - 1) * (q2 - auc**2)
    return float(np.sqrt(max(variance, 0.0) / (n_positive * n_negative)))
