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


def stratified_bootstrap(statistics, strata, n_resamples, rng, confidence=0.95):
    """Percentile intervals of several statistics of one sample of subjects, subjects resampled with
    replacement within each stratum (e.g. diagnosis), by ``scipy.stats.bootstrap`` with each stratum as one
    of its independent samples. Every statistic is computed on the same resamples.

    ``statistics``: a list of functions of an index array (into the subjects) returning a float;
    ``strata``: the stratum of each subject; ``rng``: a numpy Generator (the same seed gives the same
    intervals). Returns a list of (low, high); resamples where a statistic is undefined (NaN, e.g. a group
    drawn empty) are left out of its interval, and it is (NaN, NaN) when no resample defines it.
    """
    import warnings

    from scipy.stats import bootstrap

    strata = np.asarray(strata)
    samples = tuple(np.flatnonzero(strata == s) for s in np.unique(strata))

    def vector(*parts, axis=-1):
        # vectorized: each part is (batch, n_stratum) indices; one row per resample
        indices = np.concatenate(parts, axis=-1)
        return np.array([[f(row) for row in indices.reshape(-1, indices.shape[-1])] for f in statistics])

    with warnings.catch_warnings():
        # the interval is taken below from the resamples themselves; scipy's warnings about degenerate
        # (NaN or constant) distributions concern its own interval
        warnings.simplefilter("ignore")
        result = bootstrap(
            samples,
            vector,
            n_resamples=n_resamples,
            vectorized=True,
            method="percentile",
            confidence_level=confidence,
            rng=rng,
        )
    tail = 50 * (1 - confidence)
    intervals = []
    for values in np.atleast_2d(result.bootstrap_distribution):
        finite = values[np.isfinite(values)]
        intervals.append(
            tuple(np.percentile(finite, [tail, 100 - tail])) if len(finite) else (np.nan, np.nan)
        )
    return intervals
