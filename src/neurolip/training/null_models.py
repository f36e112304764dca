"""The permutation-null models of a method (evaluation.maps): one fold, the training and validation
connectomes shuffled, each null model fitted, read out through the method's pipeline and written like any
fold (``null/<method>/perm<p>/``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pandas as pd

from ..methods import Method
from .fold_io import FoldData, copy_fold, load_fold, permute_connectomes
from .fold_writer import FoldOutputs
from .linear import LinearNullFitter
from .network import NetworkFitter
from .recipes import Recipe
from .trainer import FoldInputs, fit_fold, read_out_and_write, settings_of


def train_null_models(
    *,
    method: Method,
    fold: int,
    training: dict,
    model: dict,
    text_encoder: dict,
    inputs: FoldInputs,
    outputs: dict[int, FoldOutputs],
    sensitive_attributes=("sex",),
    observed_selection: Path | None = None,
    permute: Callable[[FoldData, int], None] = permute_connectomes,
) -> dict[int, pd.DataFrame]:
    """The permutation-null models of ``method`` on ``fold``, one per key of ``outputs`` (the permutation
    number -> where that null model's files go), in one process: the data, the text features and the
    libraries load once. Each null model is exactly what ``train_fold(..., permutation=p)`` makes, except
    that a linear recipe reuses the observed model's C and a network recipe the observed model's read-out
    (from ``observed_selection``, the observed model's selection.json of this fold; without it a linear C
    is chosen once on the unpermuted validation split) and warm-starts each
    permutation's fit from the previous one's coefficients (one standardisation shared by all).

    ``permute(data, p)``: shuffles the connectomes of a copy of the fold in place (default: among the
    training and among the validation subjects, :func:`permute_connectomes`); the workflow passes the
    within-site :func:`permute_connectomes_within_site`. Returns {p: test predictions}.
    """
    settings = settings_of(training)
    observed = load_fold(inputs.connectomes, inputs.folds, inputs.cohort, fold)
    recipe = Recipe.of(method, settings.n_seeds)

    def permuted_fold(permutation):
        data = copy_fold(observed)
        permute(data, permutation)
        work_dir = Path(outputs[permutation].work_dir)
        work_dir.mkdir(parents=True, exist_ok=True)
        splits = [
            replace(split, permutation=permutation)
            for split in recipe.splits(data, settings.seed, work_dir, inputs.models_from)
        ]
        return data, splits

    readout_choice = None
    if recipe.objective.trains_network:
        # one fitter for all: the null models of a batchable objective train as one ensemble (on a GPU)
        fitter = NetworkFitter(method, settings, model, text_encoder, inputs)
        # the null models read what the observed model of this fold chose, not their own best read-out
        readout_choice = _observed_readout(observed_selection) if observed_selection is not None else None
    else:
        chosen = _observed_c(observed_selection) if observed_selection is not None else None
        # C of each model: chosen on the unpermuted split of the same model (seed), once per fold
        fitter = LinearNullFitter(chosen).for_observed(
            recipe.splits(observed, settings.seed, Path("."), None)
        )
    # models that train as one ensemble need all their permuted copies at once; otherwise each permutation
    # is permuted, fitted, read out and written before the next, so memory holds one permuted copy of the
    # fold (40 copies of ABIDE's training connectomes held 7.4 GB)
    together = getattr(fitter, "trains_together", lambda: False)()
    chunks = [list(outputs)] if together else [[p] for p in outputs]
    results = {}
    for chunk in chunks:
        permuted = {p: permuted_fold(p) for p in chunk}
        models = fit_fold(fitter, [split for _, splits in permuted.values() for split in splits])
        for permutation, (data, splits) in permuted.items():
            own, models = models[: len(splits)], models[len(splits) :]
            results[permutation] = read_out_and_write(
                method,
                settings,
                recipe,
                own,
                data,
                splits,
                outputs[permutation],
                sensitive_attributes,
                readout_choice,
            )
    return results


def _observed_c(selection: Path) -> dict[int, float]:
    """{seed: C} of the observed linear models, from their selection.json."""
    info = json.loads(Path(selection).read_text())
    return {int(entry["seed"]): float(entry["C"]) for entry in info["seeds"]}


def _observed_readout(selection: Path) -> str | None:
    """The read-out the observed model of this fold chose (its selection.json): null models read the same."""
    return json.loads(Path(selection).read_text()).get("readout")
