"""Representation leakage: how well a logistic probe reads a sensitive attribute from the representation a
method's prediction reads. AUC 0.5 means the attribute cannot be read linearly ("disentangled"), 1.0 that
it is fully there.

The workflow's probe (:func:`held_out_leakage_rows`) is fitted *out of sample*: on each model's validation
subjects (for a cross-fitted recipe, model k's inner fold k: its out-of-fold subjects), which neither the
model nor the eraser was fitted on, passed through the training-fitted eraser, C chosen by inner
cross-validation on them (:class:`~neurolip.evaluation.probes.HeldOutProbe`), scored on the test fold. The
training-split probe (:func:`probe`, fitted on the training subjects' representations, C on validation)
reads ~0.5 for any LEACE-erased representation by construction (docs/method.md); it is kept for comparison.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from ..stats import safe_auc
from .linear import fit_logistic_on_val

log = logging.getLogger(__name__)


def attribute_codes(cohort: pd.DataFrame, subject_ids, attribute: str) -> np.ndarray:
    """Integer codes of an attribute for ``subject_ids`` (-1 unknown). The label -> code map is built from
    the whole cohort's values (sorted values map to 0, 1, ...), so a label has the same code in every split,
    whichever labels a split happens to hold."""
    values = cohort.loc[subject_ids, attribute]
    labels = sorted({str(v) for v in cohort[attribute].dropna()})
    index = {v: i for i, v in enumerate(labels)}
    return np.array([index[str(v)] if pd.notna(v) else -1 for v in values])


def probe(features: dict[str, np.ndarray], codes: dict[str, np.ndarray], seed: int = 0) -> dict:
    """Probe AUCs on validation and test from ``features``/``codes`` per split (train, val, test)."""
    known = {s: codes[s] >= 0 for s in codes}
    model, c, val_auc = fit_logistic_on_val(
        features["train"][known["train"]],
        codes["train"][known["train"]],
        features["val"][known["val"]],
        codes["val"][known["val"]],
        seed=seed,
    )
    test = features["test"][known["test"]]
    test_auc = safe_auc(codes["test"][known["test"]], model.predict_proba(test)[:, 1])
    return {"probe_auc": test_auc, "probe_auc_val": val_auc, "probe_C": c}


def leakage_rows(data, features, attributes, representation: str, seed: int, fold: int) -> list[dict]:
    """One row per two-valued attribute of the cohort (others are logged and skipped: a logistic probe and
    its AUC need two groups)."""
    rows = []
    for attribute in attributes:
        if attribute not in data.cohort.columns:
            continue
        codes = {s: attribute_codes(data.cohort, data.subject_ids[s], attribute) for s in data.subject_ids}
        n_groups = {s: len(set(c[c >= 0])) for s, c in codes.items()}
        # the probe reads the same two labels in every split (codes are cohort-wide: see attribute_codes)
        same_labels = len({frozenset(c[c >= 0].tolist()) for c in codes.values()}) == 1
        if any(n != 2 for n in n_groups.values()) or not same_labels:
            log.info("no leakage probe for %s: groups per split %s (two needed)", attribute, n_groups)
            continue
        rows.append(
            {
                "fold": fold,
                "seed": seed,
                "attribute": attribute,
                "representation": representation,
                **probe(features, codes, seed=seed),
            }
        )
    return rows
