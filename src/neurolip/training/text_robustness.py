"""The same trained models read out with changed texts (docs/method.md, "Text robustness"): a fold's kept
models of one method are loaded once (their checkpoints' fingerprints checked against the texts they were
trained on), then for every text variant the method's whole read-out pipeline runs again with that
variant's class prompts (the read-out the method chose is kept; calibration, erasure and thresholds are
refitted on validation/training subjects as the method does), and the test subjects' attention maps are
taken over their variant texts. No test subject's text ever makes a prediction; only the class prompts do.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from . import readout
from .attention_export import stack_seeds
from .fold_io import load_fold, predictions_frame
from .network import NetworkFitter
from .recipes import Recipe
from .stages import Pipeline
from .stages.calibrate import PlattCalibration
from .text_features import TextFeatures
from .trainer import fit_fold, settings_of

FOLD_LEVEL = -1  # the ``seed`` of the fold's reported prediction (all its models combined)


def disease_maps(attention: dict | None) -> dict[int, np.ndarray]:
    """{seed: the disease segment's attention over regions, averaged over the test subjects} of an attention
    record (:func:`~.attention_export.test_attention`, seeds stacked); {} without attention."""
    if not attention:
        return {}
    fields, roles = list(attention["segment_fields"]), list(attention["segment_roles"])
    field = fields[roles.index("disease")]
    seeds = np.asarray(attention["seed"])
    return {int(s): np.asarray(attention[field])[seeds == s].mean(axis=0) for s in np.unique(seeds)}


def rescore_fold(
    *,
    method,
    fold,
    training,
    model,
    text_encoder,
    inputs,
    unchanged,
    variants: dict,
    sensitive,
    readout_choice,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """``method``'s kept models of ``fold`` (``inputs.models_from``: the work folder holding them;
    ``inputs.text_features``: the features they were trained on) read out under each of ``variants``
    ({name: text-features file}).

    The read-out is the method's, fitted once with the ``unchanged`` texts (the config's wording) and then
    frozen: the read-out ``readout_choice`` the method chose, its erasure (fitted on training subjects), its
    calibration (on validation) and each model's own calibration; only the texts change. (Refitting the
    calibration on validation under a variant would undo any monotone change, a swap of the class words
    included, and measure nothing.)

    Returns (test predictions of every variant: the fold's reported ones, ``seed`` -1, and each model's own
    calibrated prediction, ``seed`` = its seed; columns ``variant``, ``seed``, ``subject_id``, ``y_true``,
    ``p_disease``, ``y_pred``, ``score`` and the sensitive attributes),
    {"<variant>/seed<s>": disease attention map (N,)} for methods with TTCA."""
    settings = settings_of(training)
    pipeline = Pipeline.of(method, settings)
    if pipeline.thresholds is not None:
        raise ValueError(
            f"text robustness: {method.name} has group thresholds; list the method they re-decide"
        )
    data = load_fold(inputs.connectomes, inputs.folds, inputs.cohort, fold)
    recipe = Recipe.of(method, settings.n_seeds)
    if not recipe.objective.trains_network:
        raise ValueError(f"text robustness: {method.name} reads no text (its recipe is linear)")
    fitter = NetworkFitter(method, settings, model, text_encoder, inputs)
    with tempfile.TemporaryDirectory() as scratch:
        splits = recipe.splits(data, settings.seed, Path(scratch), inputs.models_from)
        models = fit_fold(fitter, splits)

    def use_texts(name, path):
        fitter.texts = TextFeatures(path)
        missing = set(data.subject_ids["test"]) - set(fitter.texts.subject_ids)
        if missing:
            raise ValueError(
                f"text variant {name}: {path} has no text of test subjects {sorted(missing)[:5]}"
            )
        fitter.prompts = fitter.texts.prompts()

    # the read-out fitted once, with the config's texts
    use_texts("unchanged", unchanged)
    erasers = [pipeline.eraser_for(m) for m in models]
    fitted = pipeline.run(models, recipe, data, splits, sensitive, readout_choice)
    choose, calibration = pipeline.estimators["choose_readout"], pipeline.estimators["calibrate"]
    own_calibrations = [
        PlattCalibration().fit(scores["val"], own.y["val"]) for _, own, scores in fitted.seed_scores
    ]
    frames, maps = [], {}
    for name, path in variants.items():
        use_texts(name, path)
        per_model = [m.candidates(erase)[0] for m, erase in zip(models, erasers, strict=True)]
        validation, test, covered = recipe.combine(data, splits, per_model)
        score = choose.transform(test)
        p = calibration.transform(score)
        if recipe.cross_fit:
            members = readout.cross_fitted_member_scores(per_model, validation, choose.choice_)
            p = np.mean([calibration.transform(s) for s in members], axis=0)
        frames.append(
            predictions_frame(covered, fold, "test", p, score, sensitive).assign(
                variant=name, seed=FOLD_LEVEL
            )
        )
        chosen = readout.per_seed_choice(per_model, choose.choice_)
        for (seed, own, _), own_calibration, scores in zip(
            fitted.seed_scores, own_calibrations, chosen, strict=True
        ):
            frame = predictions_frame(
                own, fold, "test", own_calibration.transform(scores["test"]), scores["test"], sensitive
            )
            frames.append(frame.assign(variant=name, seed=seed))
        attention = stack_seeds([a for a in (m.attention() for m in models) if a is not None])
        for seed, vector in disease_maps(attention).items():
            maps[f"{name}/seed{seed}"] = vector
    return pd.concat(frames, ignore_index=True), maps
