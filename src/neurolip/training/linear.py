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
