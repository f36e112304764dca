"""Training of one method on one cross-validation fold: wires the method's objective, the epoch loop, the
read-outs and the outputs. Nothing here depends on which method it is."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import StratifiedKFold

from ..connectivity import upper_triangle
from ..folds import strata_labels
from ..losses.objectives import TrainingBatch
from ..methods import Method
from ..models import ModelConfig, NeuroLIP
from ..stats import safe_auc
from . import readout
from .attention_export import stack_seeds, test_attention
from .checkpoint import file_digest, load_finished
from .erasure import RepresentationEraser
from .fold_io import FoldData, load_fold, permute_connectomes, predictions_frame, write_attention, write_csv
from .leakage import attribute_codes, leakage_rows
from .linear import PlattCalibration, fit_linear_baseline
from .loop import LoopSettings, fit
from .text_features import TextFeatures

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingConfig:
    """The config section ``training`` without its workflow-only keys (defaults: the workflow's schema;
    unknown keys are an error)."""

    max_epochs: int
    min_epochs: int
    patience: int
    batch_size: int
    lr: float
    weight_decay: float
    seed: int
    device: str
    readout: str
    n_seeds: int
    threads: int

    # which methods to train and whether to ask the scheduler for a GPU: the workflow's business
    WORKFLOW_KEYS = ("methods", "gpu")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainingConfig:
        values = {k: v for k, v in values.items() if k not in cls.WORKFLOW_KEYS}
        known = {f.name for f in fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown training configuration keys: {sorted(unknown)}")
        return cls(**values)

    @property
    def seeds(self) -> list[int]:
        """Independently initialised models per fold: seed, seed + 1, ..."""
        return [self.seed + i for i in range(self.n_seeds)]

    @property
    def loop(self) -> LoopSettings:
        return LoopSettings(self.max_epochs, self.min_epochs, self.patience, self.batch_size)


@dataclass(frozen=True)
class FoldInputs:
    connectomes: Path
    text_features: Path
    folds: Path
    cohort: Path
    models_from: Path | None = None  # work dir of the method whose trained models this one reads


@dataclass(frozen=True)
class FoldOutputs:
    work_dir: Path  # selection.json, per-seed checkpoints and epoch logs
    predictions: Path
    validation: Path | None = None
    attention: Path | None = None
    seed_scores: Path | None = None  # each seed's own read-out probabilities (val, test), for brain maps
    leakage: Path | None = None  # sensitive-attribute probe AUCs on the predicting representation


@dataclass
class TrainedModel:
    """One trained model of a fold: its seed, the split it was trained on, its read-out candidates'
    probabilities ({kind: {split: p}}), the representations they read ({split: {name: array}}), its
    selection info and its test subjects' attention (or None)."""

    seed: int
    data: FoldData
    scores: dict
    features: dict
    info: dict
    attention: dict | None = None


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def train_fold(
    *,
    method: Method,
    fold: int,
    training: dict,
    model: dict,
    text_encoder: dict,
    inputs: FoldInputs,
    outputs: FoldOutputs,
    sensitive_attributes=("sex",),
    permutation: int | None = None,
) -> pd.DataFrame:
    """Train ``method`` on ``fold``; write its test predictions (and validation predictions, the test
    subjects' attention for methods with TTCA, per-seed scores and the leakage probe, where ``outputs``
    asks). Returns the test predictions.

    ``permutation``: a null model for brain maps: the training and validation subjects' connectomes are
    shuffled among them (seeded by the number), so nothing the texts or labels say is in the images.
    """
    settings = TrainingConfig.from_dict(training)
    torch.set_num_threads(max(1, int(settings.threads)))
    torch.use_deterministic_algorithms(True, warn_only=True)
    work_dir = Path(outputs.work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    data = load_fold(inputs.connectomes, inputs.folds, inputs.cohort, fold)
    if permutation is not None:
        permute_connectomes(data, permutation)
    objective = method.objective
    cross_fit = method.spec.get("cross_fit")
    attention = None
    if objective.trains_network:
        network = FoldNetwork(
            method, settings, model, text_encoder, data, inputs, work_dir, sensitive_attributes, permutation
        )
        if cross_fit:
            scores, info, attention, data = network.train_cross_fitted(int(cross_fit))
        else:
            scores, info, attention = network.train()
        seed_scores, leakage = network.seed_scores, network.leakage
    else:
        scores, info, seed_scores, leakage, data = linear_fold(
            data, settings.seed, cross_fit, sensitive_attributes if outputs.leakage is not None else ()
        )
    calibration = PlattCalibration().fit(scores["val"], data.y["val"])
    info = {**info, "calibration": calibration.describe()}
    (work_dir / "selection.json").write_text(json.dumps(info, indent=2))
    frames = {
        split: predictions_frame(
            data, fold, split, calibration.transform(scores[split]), scores[split], sensitive_attributes
        )
        for split in ("val", "test")
    }
    write_csv(frames["test"], outputs.predictions)
    if outputs.validation is not None:
        write_csv(frames["val"], outputs.validation)
    if outputs.seed_scores is not None:
        write_csv(seed_score_frame(fold, seed_scores), outputs.seed_scores)
    if outputs.leakage is not None:
        columns = ["fold", "seed", "attribute", "representation", "probe_auc", "probe_auc_val", "probe_C"]
        write_csv(pd.DataFrame(leakage, columns=columns), outputs.leakage)
    if outputs.attention is not None:
        if attention is None:
            raise ValueError(f"method {method.name} computes no TTCA attention; it has no attention output")
        write_attention(attention, outputs.attention)
    return frames["test"]


def seed_score_frame(fold: int, seed_scores) -> pd.DataFrame:
    """Long table of each model's read-out probability for its validation and the test subjects;
    ``seed_scores``: [(seed, FoldData the model was trained on, {split: p})]."""
    frames = [
        pd.DataFrame(
            {
                "subject_id": data.subject_ids[split],
                "fold": fold,
                "split": split,
                "seed": seed,
                "p_disease": np.asarray(scores[split], dtype=float),
            }
        )
        for seed, data, scores in seed_scores
        for split in ("val", "test")
    ]
    return pd.concat(frames, ignore_index=True)


def linear_fold(data: FoldData, seed: int, cross_fit=None, sensitive_attributes=()):
    """``linear_fc`` on one fold, once or cross-fitted over the inner folds of the training portion.
    Returns (scores {val, test}, info, seed scores, leakage rows, the FoldData whose ``val`` the scores
    cover)."""
    parts = inner_folds(data, int(cross_fit), seed) if cross_fit else [data]
    per_model, infos, seed_scores, leakage = [], [], [], []
    for k, part in enumerate(parts):
        model_seed = seed + k
        scores, info = fit_linear_baseline(part, seed=model_seed)
        per_model.append({"logistic_regression": scores})
        infos.append({"seed": model_seed, **info})
        seed_scores.append((model_seed, part, scores))
        if sensitive_attributes:  # the probe reads the connectome itself
            edges = {s: upper_triangle(part.x[s].numpy()) for s in part.x}
            leakage += leakage_rows(part, edges, sensitive_attributes, "connectome", model_seed, data.fold)
    if not cross_fit:
        return scores, infos[0], seed_scores, leakage, data
    validation, test = readout.combine_cross_fitted(per_model)
    combined = out_of_fold_data(data, parts)
    kind = "logistic_regression"
    info = {
        "readout": kind,
        "cross_fit": int(cross_fit),
        "val_auc": safe_auc(combined.y["val"], validation[kind]),
        "inner": infos,
    }
    return {"val": validation[kind], "test": test[kind]}, info, seed_scores, leakage, combined


def inner_folds(data: FoldData, n_inner: int, seed: int) -> list[FoldData]:
    """The fold's training portion (train and val) cut into ``n_inner`` folds stratified on diagnosis x
    site; part k trains on the others and validates (early stopping, C, read-out) on fold k. The test
    subjects are the fold's own in every part."""
    ids = data.subject_ids["train"] + data.subject_ids["val"]
    x = torch.cat([data.x["train"], data.x["val"]])
    y = np.concatenate([data.y["train"], data.y["val"]])
    if n_inner < 2 or n_inner > int(np.bincount(y, minlength=2).min()):
        raise ValueError(
            f"cross_fit {n_inner}: fold {data.fold}'s training portion ({len(ids)} subjects, "
            f"{int(np.bincount(y, minlength=2).min())} in its smaller class) cannot be cut into that many "
            "inner folds holding both diagnoses"
        )
    site = (
        data.cohort.loc[ids, "site"].astype(str).to_numpy() if "site" in data.cohort else np.zeros(len(ids))
    )
    splitter = StratifiedKFold(n_splits=n_inner, shuffle=True, random_state=seed)
    parts = []
    strata = strata_labels(y, site, n_inner)
    # a diagnosis's pooled rare sites can still be fewer than the inner folds: stratify those on diagnosis
    labels, counts = np.unique(strata, return_counts=True)
    too_small = np.isin(strata, labels[counts < n_inner])
    strata[too_small] = y[too_small].astype(str)
    for fit_idx, val_idx in splitter.split(ids, strata):
        parts.append(
            FoldData(
                subject_ids={
                    "train": [ids[i] for i in fit_idx],
                    "val": [ids[i] for i in val_idx],
                    "test": list(data.subject_ids["test"]),
                },
                x={"train": x[fit_idx], "val": x[val_idx], "test": data.x["test"]},
                y={"train": y[fit_idx], "val": y[val_idx], "test": data.y["test"]},
                cohort=data.cohort,
                fold=data.fold,
            )
        )
    return parts


def out_of_fold_data(data: FoldData, parts: list[FoldData]) -> FoldData:
    """The fold with ``val`` = every training-portion subject, in the parts' order (their out-of-fold
    scores), for calibration, group thresholds and the validation predictions file."""
    return FoldData(
        subject_ids={
            "train": [],
            "val": [s for part in parts for s in part.subject_ids["val"]],
            "test": data.subject_ids["test"],
        },
        x={"val": torch.cat([part.x["val"] for part in parts]), "test": data.x["test"]},
        y={"val": np.concatenate([part.y["val"] for part in parts]), "test": data.y["test"]},
        cohort=data.cohort,
        fold=data.fold,
    )


class FoldNetwork:
    """The network methods' half of :func:`train_fold`: ``n_seeds`` models trained by the epoch loop on
    the method's objective, their read-outs averaged, one read-out chosen on validation."""

    def __init__(
        self,
        method,
        settings,
        model_config,
        text_encoder,
        data: FoldData,
        inputs,
        work_dir,
        sensitive_attributes=(),
        permutation=None,
    ):
        self.method = method
        self.objective = method.objective
        self.settings = settings
        self.model_config = model_config
        self.text_encoder = text_encoder
        self.data = data
        self.inputs = inputs
        self.work_dir = work_dir
        self.device = pick_device(settings.device)
        self.texts = TextFeatures(inputs.text_features)
        self.finetune_text = bool(text_encoder["finetune"]) and self.objective.uses_text
        self.sensitive_attributes = list(sensitive_attributes)
        self.permutation = permutation
        self.seed_scores, self.leakage = [], []

    def train(self):
        """Train the seeds' models, average their read-outs, choose one on validation. Returns (scores
        {val, test} of the chosen read-out, selection info, the test subjects' attention or None)."""
        models = self.fit_models()
        validation, test = readout.average_seeds([m.scores for m in models])
        return self.choose(models, validation, test, self.data.y["val"], {})

    def train_cross_fitted(self, n_inner: int):
        """One model per inner fold of the training portion (model k: seed + k, validated on inner fold
        k); the validation scores are every training-portion subject's out-of-fold score, the test scores
        the models' mean. Returns (scores, info, attention, the FoldData whose ``val`` they cover)."""
        parts = inner_folds(self.data, n_inner, self.settings.seed)
        models = []
        for k, part in enumerate(parts):
            models_from = self.inputs.models_from
            inner = FoldNetwork(
                self.method,
                replace(self.settings, seed=self.settings.seed + k, n_seeds=1),
                self.model_config,
                self.text_encoder,
                part,
                replace(self.inputs, models_from=Path(models_from) / f"inner{k}" if models_from else None),
                self.work_dir / f"inner{k}",
                self.sensitive_attributes,
                self.permutation,
            )
            models += inner.fit_models()
        validation, test = readout.combine_cross_fitted([m.scores for m in models])
        combined = out_of_fold_data(self.data, parts)
        scores, info, attention = self.choose(
            models, validation, test, combined.y["val"], {"cross_fit": n_inner}
        )
        return scores, info, attention, combined

    def fit_models(self) -> list[TrainedModel]:
        """One :class:`TrainedModel` per seed: its read-out candidates' scores on validation and test, the
        representations those read-outs read (for the leakage probe) and its attention."""
        models = []
        names = sorted({readout.READS[k] for k in self.objective.readouts})
        prompts = self.texts.prompts()
        for seed in self.settings.seeds:
            model, state = self._fit(seed)
            erase = self._eraser(model, names) if self.method.spec.get("erase_attribute") else None
            scores, probe_c = readout.candidate_probabilities(
                model, self.data, prompts, self.objective.readouts, self.device, seed, erase=erase
            )
            features = {
                split: readout.representations(
                    model, self.data.x[split], names, prompts, self.device, erase=erase
                )
                for split in ("train", "val", "test")
            }
            info = {
                "seed": seed,
                "best_epoch": state["best_epoch"],
                "best_val_auc": state["best_val"],
                "epochs_run": state["epoch"],
                "probe_C": probe_c,
            }
            attention = (
                test_attention(model, self.data, self.texts, self.device, seed)
                if self.method.writes_attention
                else None
            )
            models.append(TrainedModel(seed, self.data, scores, features, info, attention))
        return models

    def choose(self, models, validation, test, y_val, info):
        """The read-out chosen on ``validation`` ({kind: p}, labels ``y_val``); fills ``seed_scores`` and
        ``leakage`` from ``models``. Returns (scores {val, test}, selection info, attention)."""
        choice, val_auc = readout.choose_readout(
            self.settings.readout, validation, y_val, self.objective.readouts[0]
        )
        per_seed = [m.info for m in models]
        info = {
            **info,
            "readout": choice,
            **{f"val_auc_{k}": v for k, v in val_auc.items()},
            "seeds": per_seed,
        }
        chosen = readout.per_seed_choice([m.scores for m in models], choice)
        self.seed_scores = [(m.seed, m.data, scores) for m, scores in zip(models, chosen, strict=True)]
        read = readout.representation_names(choice, self.objective.readouts)
        for m in models:
            joined = {s: np.concatenate([m.features[s][n] for n in read], axis=1) for s in m.features}
            self.leakage += leakage_rows(
                m.data, joined, self.sensitive_attributes, "+".join(read), m.seed, m.data.fold
            )
        if len(per_seed) == 1:
            info.update({k: v for k, v in per_seed[0].items() if k != "seed"})
        attention = stack_seeds([m.attention for m in models if m.attention is not None])
        return {"val": validation[choice], "test": test[choice]}, info, attention

    def _eraser(self, model, names):
        """LEACE erasers of ``erase_attribute`` for the representations the read-outs read, fitted on the
        training subjects (their attribute, never their diagnosis or any test subject)."""
        attribute = self.method.spec["erase_attribute"]
        train_ids = self.data.subject_ids["train"]
        codes = attribute_codes(self.data.cohort, train_ids, attribute)
        raw = readout.representations(model, self.data.x["train"], names, self.texts.prompts(), self.device)
        return RepresentationEraser.fit({n: torch.from_numpy(v) for n, v in raw.items()}, codes)

    def _build(self, seed):
        torch.manual_seed(seed)
        config = ModelConfig.from_dict(
            self.model_config, n_rois=self.data.x["train"].shape[-1], text_hidden=self.texts.hidden_size
        )
        model = NeuroLIP(config, seed=seed)
        codes = self._group_codes(self.objective.group_attribute)
        n_groups = int(codes.max()) + 1 if codes is not None else 0
        auxiliary = self.objective.auxiliary_module(config.embed_dim, max(n_groups, 2))
        if auxiliary is not None:
            model.attach_auxiliary(auxiliary)
        groups = [{"params": list(model.parameters())}]
        if self.finetune_text:
            from ..models.text_encoder import HFTextEncoder

            # the pretrained encoder joins the model (checkpoints hold it) and trains at a lower rate
            backbone = HFTextEncoder(self.text_encoder["name"])
            model.attach_text_backbone(backbone)
            groups.append(
                {
                    "params": list(backbone.parameters()),
                    "lr": self.settings.lr * self.text_encoder["lr_scale"],
                }
            )
        model = model.to(self.device)
        optimizer = torch.optim.AdamW(groups, lr=self.settings.lr, weight_decay=self.settings.weight_decay)
        return model, optimizer

    def _fit(self, seed):
        """One model from ``seed``, early-stopped on the direct read-out's validation AUC."""
        model, optimizer = self._build(seed)
        positions = self.texts.positions(self.data.subject_ids["train"])
        groups = self._group_codes(self.objective.group_attribute)
        device = self.device
        autocast = (
            torch.autocast("cuda", dtype=torch.bfloat16)
            if device.type == "cuda"
            else torch.autocast("cpu", enabled=False)
        )

        def step(batch):
            x = self.data.x["train"][batch].to(device)
            y = torch.as_tensor(self.data.y["train"][batch.numpy()], device=device)
            training_batch = TrainingBatch(
                x=x, y=y, groups=groups[batch].to(device) if groups is not None else None
            )
            if self.objective.uses_text:
                training_batch.tokens = self.texts.batch(positions[batch]).to(device)
                training_batch.text_ids = self.texts.rows[positions[batch]].to(device)
                training_batch.segment_value_ids = self.texts.segment_value_ids[positions[batch]].to(device)
                training_batch.segment_fields = tuple(self.texts.segment_fields)
                training_batch.segment_roles = tuple(self.texts.segment_roles)
            with autocast:
                return self.objective.terms(model, training_batch)

        direct = self.objective.readouts[0]
        prompts = self.texts.prompts()

        def validate():
            p = readout.probabilities(model, self.data.x["val"], direct, prompts, device)
            return float(np.nan_to_num(safe_auc(self.data.y["val"], p), nan=0.0))

        if self.inputs.models_from is not None:
            # the same training as another method (models_from): read its models, train nothing
            state = load_finished(
                Path(self.inputs.models_from) / f"seed{seed}" / "checkpoint", model, self._fingerprint(seed)
            )
            return model, state
        state = fit(
            model,
            optimizer,
            step,
            validate,
            n_train=len(positions),
            settings=self.settings.loop,
            seed=seed,
            work_dir=self.work_dir / f"seed{seed}",
            fingerprint=self._fingerprint(seed),
            after_step=model.clamp_temperatures,
            description=f"{self.method.name} seed {seed}",
        )
        return model, state

    def _group_codes(self, attribute):
        """Integer codes of a sensitive attribute for the training subjects (-1 unknown), or None."""
        if attribute is None or attribute not in self.data.cohort:
            return None
        return torch.from_numpy(attribute_codes(self.data.cohort, self.data.subject_ids["train"], attribute))

    def _fingerprint(self, seed):
        """Everything that made a checkpoint: a checkpoint with another fingerprint is never resumed."""
        # where and how fast it runs, and what happens after training, do not change a model
        ignored = ("threads", "device", "n_seeds", "readout", "seed")
        settings = {k: v for k, v in self.settings.__dict__.items() if k not in ignored}
        return {
            "method": self.method.training_spec,
            "model": dict(self.model_config),
            "training": settings,
            "seed": seed,
            "text_encoder": {k: self.text_encoder[k] for k in ("name", "max_length", "finetune", "lr_scale")},
            "subjects": {split: self.data.subject_ids[split] for split in ("train", "val")},
            "connectomes": file_digest(self.inputs.connectomes),
            "text_features": file_digest(self.inputs.text_features),
            "cohort": file_digest(self.inputs.cohort),
            **({"permutation": self.permutation} if self.permutation is not None else {}),
        }
