"""Linear read-outs: the ``linear_fc`` baseline and the linear probe on fMRI embeddings.

The inverse regularisation strength C is chosen on the inner validation split, never on the test fold.
"""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

C_GRID = (0.001, 0.01, 0.1, 1.0)


def safe_auc(y, p):
    return roc_auc_score(y, p) if len(np.unique(y)) == 2 else float("nan")


def auc_standard_error(auc, n_positive, n_negative):
    """Hanley & McNeil (1982) standard error of an AUC estimated from n_positive and n_negative subjects."""
    q1, q2 = auc / (2 - auc), 2 * auc**2 / (1 + auc)
    variance = (auc * (1 - auc) + (n_positive - 1) * (q1 - auc**2) + (n_negative - 1) * (q2 - auc**2))
    return float(np.sqrt(max(variance, 0.0) / (n_positive * n_negative)))


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
