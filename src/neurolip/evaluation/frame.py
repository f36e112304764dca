"""The group-aware frame every evaluation module reads (in the manner of fairlearn's ``MetricFrame``): the
sensitive groups of each subject, coded once from the cohort and the folds.

Sensitive attributes: categorical ones (sex, site) are used as they are; continuous ones (age, SRS) are
split at the median of the *training* subjects of the same fold (train + val splits), so the test fold
never shapes its own groups. Subjects whose attribute is unknown are left out of that attribute's
fairness metrics (and only of those). The held-out probe reads cohort-wide codes (:meth:`GroupFrame.codes`):
a label has the same code in every fold. A gap between two groups reads :func:`two_group_codes` of the
groups its subjects hold.
"""

import numpy as np
import pandas as pd

CONTINUOUS = ("age", "srs")


def training_median(train_values):
    return float(np.nanmedian(pd.to_numeric(pd.Series(train_values), errors="coerce")))


def attribute_groups(attribute, test_values, train_values, continuous=CONTINUOUS):
    """Group labels of the test subjects for one attribute; NaN where unknown."""
    test_values = pd.Series(test_values).reset_index(drop=True)
    if attribute in continuous:
        numeric = pd.to_numeric(test_values, errors="coerce")
        threshold = training_median(train_values)
        # stable names across folds (each fold has its own median, recorded as metric "split_value")
        labels = np.where(
            numeric.isna(), None, np.where(numeric > threshold, "above median", "at or below median")
        )
        return pd.Series(labels, dtype=object)
    return test_values.astype(object).where(test_values.notna(), None)


def group_codes(groups) -> np.ndarray:
    """Integer codes of the groups a set of subjects holds (sorted labels map to 0, 1, ...; -1 unknown): the
    coding every gap, floor and bootstrap statistic reads."""
    groups = pd.Series(groups, dtype=object).reset_index(drop=True)
    known = groups.notna().to_numpy()
    codes = np.full(len(groups), -1)
    codes[known] = np.unique(groups[known].astype(str).to_numpy(), return_inverse=True)[1]
    return codes


def two_group_codes(groups):
    """0/1 codes of a two-group attribute (:func:`group_codes`), or None for any other number of groups."""
    codes = group_codes(groups)
    return codes if codes.max(initial=-1) == 1 else None


def decision_values(predictions) -> np.ndarray:
    """The decision every method makes, per subject: its decision probability ``p_decision`` where the
    predictions have one (group thresholds: 0/1 for a deterministic rule, in between for a subject of
    fairlearn's randomised rule whose decision is a coin flip), else the decision ``y_pred``. Gaps and
    leakage of these values are those of the expected decisions, not of one randomisation draw."""
    column = "p_decision" if "p_decision" in predictions.columns else "y_pred"
    return predictions[column].to_numpy(dtype=float)


def score_values(predictions) -> np.ndarray:
    """The continuous score every method outputs, per subject: the calibrated P(disease) (thresholded rows
    keep their base method's), or, in a file without it, the read-out's score."""
    column = next(c for c in ("p_disease", "score") if c in predictions.columns)
    return predictions[column].to_numpy(dtype=float)


class GroupFrame:
    """The sensitive groups of the cohort's subjects, coded once for every evaluation module.

    Parameters
    ----------
    cohort : pandas.DataFrame
        The phenotypes, one row per subject (``subject_id`` column).
    folds : pandas.DataFrame
        The folds table (``subject_id``, ``fold``, ``split`` and, for repeated cross-validation, ``repeat``).
    attributes : list of str
        The sensitive attributes, in the order the metrics are written.
    continuous : sequence of str
        Attributes split at each fold's training median (:func:`attribute_groups`).
    """

    def __init__(self, cohort, folds, attributes, continuous=CONTINUOUS):
        self.cohort = cohort.set_index("subject_id")
        self.folds = folds
        self.attributes = list(attributes)
        self.continuous = continuous
        # repeated cross-validation (cv.n_repeats): which repeat each fold belongs to (folds files without the
        # column come from a single split)
        self._repeat_of = folds.groupby("fold")["repeat"].first() if "repeat" in folds.columns else None
        # cohort-wide labels (sorted values map to 0, 1, ...): a label has the same code in every fold,
        # whichever labels a fold happens to hold
        self.labels = {
            a: sorted({str(v) for v in self.cohort[a].dropna()}) for a in self.attributes if a in self.cohort
        }

    def training_values(self, fold) -> dict:
        """{attribute: values of the fold's training subjects (train + val splits)}."""
        folds = self.folds
        train_ids = folds.loc[(folds["fold"] == fold) & (folds["split"] != "test"), "subject_id"].astype(str)
        return {a: self.cohort.loc[train_ids, a].to_numpy() for a in self.attributes if a in self.cohort}

    def repeat(self, fold) -> int:
        """The cross-validation repeat ``fold`` belongs to (0 for a single split)."""
        return int(self._repeat_of[fold]) if self._repeat_of is not None else 0

    def groups(self, predictions, fold) -> tuple[dict, dict]:
        """The groups of a fold's test predictions: ({attribute: group labels per row, None unknown}, for the
        attributes the predictions hold; {continuous attribute: the fold's training median it splits at})."""
        training_values = self.training_values(fold)
        groups = {
            a: attribute_groups(a, predictions[a], training_values.get(a, []), self.continuous)
            for a in self.attributes
            if a in predictions.columns
        }
        split_values = {
            a: training_median(training_values.get(a, [])) for a in groups if a in self.continuous
        }
        return groups, split_values

    def codes(self, attribute, subject_ids) -> np.ndarray:
        """Cohort-wide integer codes of ``attribute`` for ``subject_ids`` (-1 unknown)."""
        index = {v: i for i, v in enumerate(self.labels[attribute])}
        values = self.cohort.loc[subject_ids, attribute]
        return np.array([index[str(v)] if pd.notna(v) else -1 for v in values])
