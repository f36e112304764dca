"""Leakage of a sensitive attribute measured out of sample, at the representation and at the decision.

**Why not the training split.** LEACE (``training/erasure.py``) makes the *training* representations exactly
uncorrelated with the attribute; a probe fitted on those erased training representations
(``training/leakage.py``) has weights ~0 and reads AUC ~0.5 whatever the test representations carry.
``HeldOutProbe`` is fitted on subjects that neither the model nor the eraser was fitted on (inner-validation
or out-of-fold subjects and the other parts of the test fold, passed through the training-fitted eraser),
its C chosen by inner cross-validation on that same fit set; each test subject is scored by a probe not
fitted on it, and the scores are tested exactly (:mod:`.probe_test`). The workflow probes each model's own representation
(before the read-out's normalisation; a cross-fitted recipe's K models have K representation spaces, so
there is no K-model mean to probe) and averages the models' AUCs; the K-model decision is covered by the
decision-level leakage.

**Decision-level leakage** (``decision_leakage``): how well the attribute is predicted from the final score
within each diagnosis class (AUC per fold and pooled). It applies to every method, thresholded ones included
(whose decisions use the attribute directly; they inherit no representation probe). Within a class, AUC 0.5
means the score says nothing about sex beyond the diagnosis; ``leakage_auc`` = max(AUC, 1 − AUC) measures it
without its direction, and so reads above 0.5 for pure noise: it is reported beside its sex-blind floor
(:func:`decision_leakage_floor`). The evaluation applies both to the continuous P(disease) (score leakage)
and to the decision (decision leakage); pooled over folds, the AUC is fold-stratified (only subjects of the
same fold are compared), so calibration differences between folds do not read as leakage.

Controls (``tests/test_probes.py``): an erased representation that still carries sex out of sample reads
≥ 0.75 on the held-out probe, a sex-free one ≤ 0.58, and the training-split probe reads ~0.5 for both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata


def _within_stratum_ranks(scores, strata) -> np.ndarray:
    """Ranks of ``scores`` within each stratum (ties get mid-ranks, as ``roc_auc_score`` counts them)."""
    ranks = np.empty(len(scores))
    for stratum in np.unique(strata):
        members = np.flatnonzero(strata == stratum)
        ranks[members] = rankdata(scores[members])
    return ranks


def permuted_within_strata(labels, strata, n_draws, rng) -> np.ndarray:
    """(n_draws, n) copies of ``labels``, each permuted within every stratum."""
    permuted = np.tile(labels, (n_draws, 1))
    for stratum in np.unique(strata):
        members = np.flatnonzero(strata == stratum)
        permuted[:, members] = rng.permuted(permuted[:, members], axis=1)
    return permuted


def _stratified_auc(second, ranks, strata) -> np.ndarray:
    """Fold-stratified AUC of the second group from within-stratum ``ranks``, vectorised over the leading
    axes of ``second`` (permutations): the Mann-Whitney U summed over strata divided by the pairs summed over
    strata, i.e. the mean of within-stratum AUCs weighted by their pairs. Only pairs of subjects of the same
    stratum are compared, so a stratum-wide shift of the scores (a fold's calibration) cannot create an AUC
    away from 0.5 however the groups are spread over the strata. NaN without any pair."""
    u, pairs = 0.0, 0
    for stratum in np.unique(strata):
        members = strata == stratum
        # permutations within a stratum keep its group counts: the first draw's count is every draw's
        n1 = int(np.ravel(second[..., members].sum(-1))[0])
        n0 = int(members.sum()) - n1
        if n1 == 0 or n0 == 0:
            continue
        u = u + (second[..., members] * ranks[members]).sum(-1) - n1 * (n1 + 1) / 2
        pairs += n1 * n0
    return np.asarray(u, dtype=float) / pairs if pairs else np.full(second.shape[:-1], np.nan)


def decision_leakage(scores, codes, y_true, folds=None) -> pd.DataFrame:
    """AUC of the attribute (``codes`` 0/1, -1 unknown) from ``scores`` within each diagnosis class, per fold
    (when ``folds`` is given) and pooled over all subjects. With ``folds`` the pooled AUC is fold-stratified
    (:func:`_stratified_auc`: only subjects of the same fold are compared), so differences in calibration
    between folds combined with different group shares per fold do not read as leakage. Rows: scope
    (``fold <k>`` or ``pooled``), diagnosis, n, n_second_group, auc, leakage_auc = max(auc, 1 − auc)."""
    scores = np.asarray(scores, dtype=float)
    codes = np.asarray(codes).astype(int)
    y_true = np.asarray(y_true).astype(int)
    strata = np.zeros(len(scores)) if folds is None else np.asarray(folds)
    scopes = [("pooled", np.ones(len(scores), dtype=bool))]
    if folds is not None:
        scopes = [(f"fold {f}", strata == f) for f in np.unique(strata)] + scopes
    rows = []
    for scope, member in scopes:
        for diagnosis in np.unique(y_true):
            keep = member & (y_true == diagnosis) & (codes >= 0)
            second = codes[keep] == 1
            auc = float(
                _stratified_auc(second, _within_stratum_ranks(scores[keep], strata[keep]), strata[keep])
            )
            rows.append(
                {
                    "scope": scope,
                    "diagnosis": int(diagnosis),
                    "n": int(keep.sum()),
                    "n_second_group": int(second.sum()),
                    "auc": auc,
                    "leakage_auc": max(auc, 1 - auc) if np.isfinite(auc) else np.nan,
                }
            )
    return pd.DataFrame(rows)


def decision_leakage_floor(scores, codes, y_true, folds=None, n_draws: int = 1000, seed: int = 0) -> dict:
    """The sex-blind floor of :func:`decision_leakage`'s pooled ``leakage_auc`` (averaged over the diagnosis
    classes; fold-stratified when ``folds`` is given): the same scores with the attribute permuted within
    diagnosis (× fold when ``folds`` is given), ``n_draws`` times. max(AUC, 1 − AUC) reads above 0.5 for pure
    noise (about 0.56 per test fold at ABIDE's sizes), so the value means something only beside this floor.
    Returns ``observed``, ``floor_median``, ``floor_p95``, ``p_floor``, ``above_floor`` and the null
    ``draws`` (``n_draws``; :mod:`.fold_mean` averages them across folds); NaN when a class lacks one of the
    two groups."""
    scores = np.asarray(scores, dtype=float)
    codes = np.asarray(codes).astype(int)
    y_true = np.asarray(y_true).astype(int)
    folds = np.zeros(len(scores)) if folds is None else np.asarray(folds)
    rng = np.random.default_rng(seed)
    observed, null = [], []
    for diagnosis in (0, 1):
        keep = (y_true == diagnosis) & (codes >= 0)
        second = codes[keep] == 1
        if second.all() or not second.any():
            missing = {k: np.nan for k in ("observed", "floor_median", "floor_p95", "p_floor", "above_floor")}
            return {**missing, "draws": np.full(n_draws, np.nan)}
        strata = folds[keep]
        ranks = _within_stratum_ranks(scores[keep], strata)
        # each draw permutes the group labels within each fold; the rank sums give the stratified AUC
        permuted = permuted_within_strata(second, strata, n_draws, rng)
        auc_null = _stratified_auc(permuted, ranks, strata)
        auc = float(_stratified_auc(second, ranks, strata))
        observed.append(max(auc, 1 - auc))
        null.append(np.maximum(auc_null, 1 - auc_null))
    value, floor = float(np.mean(observed)), np.mean(null, axis=0)
    return {
        "observed": value,
        "floor_median": float(np.median(floor)),
        "floor_p95": float(np.percentile(floor, 95)),
        "p_floor": float((1 + np.sum(floor >= value - 1e-12)) / (1 + n_draws)),
        "above_floor": bool(value > np.percentile(floor, 95)),
        "draws": floor,
    }
