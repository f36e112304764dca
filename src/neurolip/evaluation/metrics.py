"""The evaluation of every (method, fold) prediction table around one :class:`~.frame.GroupFrame`: per-fold
metrics (:mod:`.per_fold`) and each method's pooled test predictions with the groups the frame put every
subject in, for the pooled metrics (:mod:`.pooled`), paired comparisons (:mod:`.paired`) and bootstrap
(:mod:`.bootstrap`)."""

from dataclasses import dataclass

import pandas as pd

from .fold_mean import fold_inputs, fold_mean_mde_rows, fold_mean_rows, fold_seed, prediction_floor_draws
from .frame import GroupFrame
from .per_fold import grouped_fold_metrics, summarize

PER_FOLD_COLUMNS = ["method", "fold", "metric", "attribute", "value"]


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate` computes.

    Attributes
    ----------
    per_fold : pandas.DataFrame
        Long table (:data:`PER_FOLD_COLUMNS`) of every (method, fold).
    summary : pandas.DataFrame
        Mean, SD and count of each (method, metric, attribute) over folds (:func:`.per_fold.summarize`),
        with the floors of the fold means of the per-fold gaps and leakages.
    fold_mean_floors : pandas.DataFrame
        Those floors alone (:func:`.fold_mean.fold_mean_rows`: ``<metric>_fold_mean_floor_median``, ``_p95``,
        ``_p``; and ``_mde``, :func:`.fold_mean.fold_mean_mde_rows`), to append to a summary of more per-fold rows.
    pooled : dict
        {method: all folds' test predictions}, each with a ``group[<attribute>]`` column holding the group
        the frame put the subject in and the ``repeat`` of its fold (for :func:`.pooled.pooled_metrics`).
    """

    per_fold: pd.DataFrame
    summary: pd.DataFrame
    pooled: dict
    fold_mean_floors: pd.DataFrame


def evaluate(prediction_files, frame: GroupFrame, floor_draws: int = 1000) -> Evaluation:
    """Evaluate ``prediction_files`` ({(method, fold): path}) with the groups of ``frame``; each fold's
    gaps and leakages get ``floor_draws`` null draws (a generator per fold, the same for every method),
    averaged across folds into the floors of their fold means."""
    categorical = {a: str for a in frame.attributes if a not in frame.continuous}
    rows, pooled, draws, inputs = [], {}, {}, {}
    for (method, fold), path in sorted(prediction_files.items()):
        predictions = pd.read_csv(path, dtype={"subject_id": str, **categorical})
        groups, split_values = frame.groups(predictions, fold)
        for row in grouped_fold_metrics(predictions, groups, split_values):
            rows.append({"method": method, "fold": fold, **row})
        for attribute, labels in groups.items():
            floors = prediction_floor_draws(predictions, labels, floor_draws, seed=fold_seed(fold))
            for metric, pair in floors.items():
                draws.setdefault((method, attribute, metric), {})[fold] = pair
            inputs.setdefault((method, attribute), {})[fold] = fold_inputs(predictions, labels)
            predictions[f"group[{attribute}]"] = labels.to_numpy()
        predictions["repeat"] = frame.repeat(fold)
        pooled.setdefault(method, []).append(predictions)
    pooled = {method: pd.concat(frames, ignore_index=True) for method, frames in pooled.items()}
    per_fold = pd.DataFrame(rows, columns=PER_FOLD_COLUMNS)
    # each floor beside the smallest effect it detects with 80 % power at these folds' sizes (.power)
    floors = pd.concat([fold_mean_rows(draws), fold_mean_mde_rows(inputs, floor_draws)], ignore_index=True)
    return Evaluation(per_fold, summarize(per_fold, floors), pooled, floors)
