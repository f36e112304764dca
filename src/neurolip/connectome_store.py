"""Reading the data stage's connectome files: what the training and evaluation layers load (a subject-level
file as written; a group-level kind's reference fitted per fold on its training subjects)."""

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import NeuroLIPInputError

log = logging.getLogger(__name__)


def load_connectomes(path, folds_path=None, fold=None):
    """Subject IDs and their (n, N, N) connectomes.

    Subject-level kinds are read as written. A group-level kind (tangent) is computed here, per fold: its
    reference is fitted on the ``train`` subjects of ``fold`` in ``folds_path`` and applied to every
    subject, so a test subject's matrix depends on its own scan and the training subjects only. Reading such
    a file without a fold is an error rather than a silent transductive fit.
    """
    with np.load(path) as data:
        subject_ids = data["subject_ids"].astype(str)
        if "connectomes" in data.files:
            return subject_ids, data["connectomes"]
        if folds_path is None or fold is None:
            raise NeuroLIPInputError(
                "these connectomes have a group-level reference (connectivity.kind: tangent), fitted per fold "
                "on its training subjects: read them with a fold (load_connectomes(path, folds_path, fold))",
                path=path,
            )
        settings = json.loads(str(data["settings"]))
        bounds = np.cumsum(data["n_volumes"])[:-1]
        subject_series = np.split(data["series"].astype(np.float64), bounds)
    folds = pd.read_csv(folds_path, sep="\t", dtype={"subject_id": str})
    part = folds[(folds["fold"] == int(fold)) & (folds["split"] == "train")]
    if part.empty:
        raise NeuroLIPInputError(f"fold {fold} has no training subjects", path=folds_path)
    from .connectivity import ConnectomeBuilder

    position = {s: i for i, s in enumerate(subject_ids)}
    builder = ConnectomeBuilder(**settings).fit([subject_series[position[s]] for s in part["subject_id"]])
    return subject_ids, builder.transform(subject_series)


def write_fold_connectomes(connectomes_path, folds_path, fold, out_path, harmonize=None, cohort_path=None):
    """One fold's connectomes (a group-level kind's reference fitted on the fold's training subjects; with
    ``harmonize`` {method, covariates}, site harmonisation fitted on them too, :mod:`.harmonize`), written
    as subject-level connectomes: what the fold's models and evaluation read."""
    subject_ids, matrices = load_connectomes(connectomes_path, folds_path, fold)
    if harmonize and harmonize.get("method", "none") != "none":
        from .harmonize import harmonize_matrices
        from .phenotypes import read_phenotypes

        if cohort_path is None:
            raise NeuroLIPInputError(
                "harmonisation needs the cohort table (site, covariates)", path=connectomes_path
            )
        folds = pd.read_csv(folds_path, sep="\t", dtype={"subject_id": str})
        train = folds[(folds["fold"] == int(fold)) & (folds["split"] == "train")]["subject_id"]
        try:
            matrices, _ = harmonize_matrices(
                matrices,
                subject_ids,
                train.tolist(),
                read_phenotypes(cohort_path),
                harmonize["method"],
                harmonize.get("covariates", ()),
            )
        except ValueError as exc:
            raise NeuroLIPInputError(
                f"connectivity.harmonize {harmonize['method']}: {exc}", path=cohort_path
            ) from exc
        log.info(
            "fold %s: connectomes harmonised (%s) on %d training subjects",
            fold,
            harmonize["method"],
            len(train),
        )
    Path(out_path).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out_path, subject_ids=subject_ids, connectomes=matrices)
    log.info(
        "fold %s: connectomes of %d subjects, fitted (reference, harmonisation) on its training subjects only",
        fold,
        len(subject_ids),
    )


class FoldConnectomes:
    """The connectomes each fold's models read ({fold: path}: the data stage's file for every fold, or each
    fold's own for a group-level kind), each file read once: what evaluation scripts use to vectorise the
    subjects a fold's model scored."""

    def __init__(self, paths_by_fold):
        self.paths_by_fold = {int(fold): str(path) for fold, path in paths_by_fold.items()}
        self._by_path = {}

    @classmethod
    def of_folds(cls, folds, paths):
        """From the workflow's list: one path per fold, or one path (a list of one, or the path itself) for
        every fold (subject-level kinds)."""
        paths = [paths] if isinstance(paths, str | Path) else list(paths)
        if len(paths) == 1:
            paths = paths * len(folds)
        if len(paths) != len(folds):
            raise ValueError(f"{len(paths)} connectome files for {len(folds)} folds")
        return cls(dict(zip(folds, paths)))

    @property
    def n_rois(self):
        return self.matrices(next(iter(self.paths_by_fold)))[1].shape[-1]

    def matrices(self, fold):
        path = self.paths_by_fold[int(fold)]
        if path not in self._by_path:
            ids, matrices = load_connectomes(path)
            self._by_path[path] = ({s: i for i, s in enumerate(ids)}, matrices)
        return self._by_path[path]

    def edges_function(self, fold):
        """``subject_ids -> (n, E)`` vectorised upper triangles of ``fold``'s connectomes."""
        from .connectivity import upper_triangle

        def edges_of(subject_ids):
            position, matrices = self.matrices(fold)
            return upper_triangle(matrices[[position[s] for s in subject_ids]])

        return edges_of
