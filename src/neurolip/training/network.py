"""The network recipes' models: build one from a seed, train it with the epoch loop on the method's
objective (or, for a read-out-only method, load the source's finished checkpoint), and read it."""

from __future__ import annotations

import numpy as np
import torch

from ..losses.objectives import TrainingBatch
from ..models import ModelConfig, NeuroLIP
from ..models.neurolip import MAX_LOGIT_SCALE, TEMPERATURES
from ..stats import safe_auc
from . import readout
from .attention_export import test_attention
from .checkpoint import file_digest, load_finished
from .ensemble import Member, fit_ensemble, should_batch
from .leakage import attribute_codes
from .loop import fit
from .recipes import ModelSplit
from .text_features import TextFeatures


def pick_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


class FittedNetwork:
    """One trained network of a fold and what its read-outs make of it."""

    def __init__(self, fitter: NetworkFitter, split: ModelSplit, model, info: dict):
        self.fitter, self.seed, self.data, self.model, self.info = fitter, split.seed, split.data, model, info

    @property
    def erasable(self) -> list[str]:
        """The representations the recipe's read-outs read (what an erase stage fits on)."""
        return sorted({readout.READS[k] for k in self.fitter.objective.readouts})

    def representations(self, split: str, names=None, erase=None) -> dict[str, np.ndarray]:
        f = self.fitter
        names = self.erasable if names is None else names
        return readout.representations(
            self.model, self.data.x[split], names, f.prompts, f.device, erase=erase
        )

    def candidates(self, erase=None) -> tuple[dict, dict]:
        """({kind: {split: P(disease)}} of every read-out candidate on validation and test, what the
        read-outs chose on validation: {"probe_C": C of the linear probe, or None})."""
        f = self.fitter
        scores, probe_c = readout.candidate_probabilities(
            self.model, self.data, f.prompts, f.objective.readouts, f.device, self.seed, erase=erase
        )
        return scores, {"probe_C": probe_c}

    def leakage_features(
        self, choice: str, erase=None, splits=("train", "val", "test")
    ) -> tuple[str, dict[str, np.ndarray]]:
        """The representation the chosen read-out reads, per split (its name, {split: (n, D)})."""
        read = readout.representation_names(choice, self.fitter.objective.readouts)
        features = {s: self.representations(s, self.erasable, erase) for s in splits}
        return "+".join(read), {s: np.concatenate([features[s][n] for n in read], axis=1) for s in features}

    def attention(self) -> dict | None:
        f = self.fitter
        return (
            test_attention(self.model, self.data, f.texts, f.device, self.seed)
            if f.writes_attention
            else None
        )


class NetworkFitter:
    """Fits the network models of one method on one fold (``fit``, one :class:`ModelSplit` at a time)."""

    def __init__(self, method, settings, model_config, text_encoder, inputs, permutation=None):
        self.method = method
        self.objective = method.objective
        self.settings = settings
        self.model_config = model_config
        self.text_encoder = text_encoder
        self.inputs = inputs
        self.permutation = permutation
        self.device = pick_device(settings.device)
        self.texts = TextFeatures(inputs.text_features)
        self.prompts = self.texts.prompts()
        self.finetune_text = bool(text_encoder["finetune"]) and self.objective.uses_text
        self.writes_attention = method.writes_attention

    def fit_all(self, splits: list[ModelSplit]) -> list[FittedNetwork]:
        """The models of ``splits``: those that can train as one ensemble (``training.ensemble``, a batchable
        objective, no text fine-tuning, as many training subjects each) do; the others one at a time."""
        fitted = [None] * len(splits)
        for group in self._ensemble_groups(splits):
            if len(group) == 1:
                fitted[group[0]] = self.fit(splits[group[0]])
                continue
            for i, model in zip(group, self._fit_ensemble([splits[i] for i in group]), strict=True):
                fitted[i] = model
        return fitted

    def trains_together(self) -> bool:
        """Whether models of this method and fold can train as one stacked ensemble here."""
        return (
            should_batch(self.settings.ensemble, self.device)
            and self.objective.batchable
            and not self.finetune_text  # the text backbone's parameter group and size: sequential
        )

    def _ensemble_groups(self, splits) -> list[list[int]]:
        """Indices of ``splits`` that train together; a model alone trains on the sequential path."""
        if not self.trains_together():
            return [[i] for i in range(len(splits))]
        by_size = {}
        for i, split in enumerate(splits):
            by_size.setdefault(len(split.data.subject_ids["train"]), []).append(i)
        return list(by_size.values())

    def _fit_ensemble(self, splits) -> list[FittedNetwork]:
        built = [self._build(split) for split in splits]
        fingerprints = [{**self._fingerprint(split), "ensemble": True} for split in splits]
        if splits[0].source_dir is not None:
            states = [
                load_finished(split.source_dir / "checkpoint", model, fingerprint)
                for split, (model, _), fingerprint in zip(splits, built, fingerprints, strict=True)
            ]
        else:
            members = [
                Member(
                    model=model,
                    optimizer=optimizer,
                    seed=split.seed,
                    work_dir=split.work_dir,
                    fingerprint=fingerprint,
                    x_train=split.data.x["train"],
                    y_train=torch.as_tensor(split.data.y["train"]),
                    validate=self._validator(split, model),
                    description=f"{self.method.name} seed {split.seed} (ensemble of {len(splits)})",
                )
                for split, (model, optimizer), fingerprint in zip(splits, built, fingerprints, strict=True)
            ]
            objective = self.objective

            def terms(model, x, y):
                return objective.terms(model, TrainingBatch(x=x, y=y))

            states = fit_ensemble(
                members, terms, self.settings.loop, self.device, TEMPERATURES, MAX_LOGIT_SCALE
            )
        return [
            FittedNetwork(self, split, model, self._info(split, state))
            for split, (model, _), state in zip(splits, built, states, strict=True)
        ]

    def _validator(self, split, model):
        data = split.data

        def validate():
            p = readout.probabilities(
                model, data.x["val"], self.objective.readouts[0], self.prompts, self.device
            )
            return float(np.nan_to_num(safe_auc(data.y["val"], p), nan=0.0))

        return validate

    @staticmethod
    def _info(split, state):
        return {
            "seed": split.seed,
            "best_epoch": state["best_epoch"],
            "best_val_auc": state["best_val"],
            "epochs_run": state["epoch"],
        }

    def fit(self, split: ModelSplit) -> FittedNetwork:
        """The model of ``split``, early-stopped on the direct read-out's validation AUC; a read-out-only
        method loads the source's finished checkpoint of the same model instead (fingerprints must match)."""
        model, optimizer = self._build(split)
        fingerprint = self._fingerprint(split)
        if split.source_dir is not None:
            state = load_finished(split.source_dir / "checkpoint", model, fingerprint)
        else:
            state = self._train(split, model, optimizer, fingerprint)
        info = {
            "seed": split.seed,
            "best_epoch": state["best_epoch"],
            "best_val_auc": state["best_val"],
            "epochs_run": state["epoch"],
        }
        return FittedNetwork(self, split, model, info)

    def _build(self, split):
        torch.manual_seed(split.seed)
        data = split.data
        config = ModelConfig.from_dict(
            self.model_config, n_rois=data.x["train"].shape[-1], text_hidden=self.texts.hidden_size
        )
        model = NeuroLIP(config, seed=split.seed)
        codes = self._group_codes(data)
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

    def _train(self, split, model, optimizer, fingerprint):
        data, device, texts, objective = split.data, self.device, self.texts, self.objective
        positions = texts.positions(data.subject_ids["train"])
        groups = self._group_codes(data)
        autocast = (
            torch.autocast("cuda", dtype=torch.bfloat16)
            if device.type == "cuda"
            else torch.autocast("cpu", enabled=False)
        )

        def step(batch):
            x = data.x["train"][batch].to(device)
            y = torch.as_tensor(data.y["train"][batch.numpy()], device=device)
            training_batch = TrainingBatch(
                x=x, y=y, groups=groups[batch].to(device) if groups is not None else None
            )
            if objective.uses_text:
                training_batch.tokens = texts.batch(positions[batch]).to(device)
                training_batch.text_ids = texts.rows[positions[batch]].to(device)
                training_batch.segment_value_ids = texts.segment_value_ids[positions[batch]].to(device)
                training_batch.segment_fields = tuple(texts.segment_fields)
                training_batch.segment_roles = tuple(texts.segment_roles)
            with autocast:
                return objective.terms(model, training_batch)

        def validate():
            p = readout.probabilities(model, data.x["val"], objective.readouts[0], self.prompts, device)
            return float(np.nan_to_num(safe_auc(data.y["val"], p), nan=0.0))

        return fit(
            model,
            optimizer,
            step,
            validate,
            n_train=len(positions),
            settings=self.settings.loop,
            seed=split.seed,
            work_dir=split.work_dir,
            fingerprint=fingerprint,
            after_step=model.clamp_temperatures,
            description=f"{self.method.name} seed {split.seed}",
        )

    def _group_codes(self, data):
        """Integer codes of the objective's group attribute for the training subjects (-1 unknown), or None."""
        attribute = self.objective.group_attribute
        if attribute is None or attribute not in data.cohort:
            return None
        return torch.from_numpy(attribute_codes(data.cohort, data.subject_ids["train"], attribute))

    def _fingerprint(self, split):
        """Everything that made a checkpoint: a checkpoint with another fingerprint is never resumed."""
        # where and how fast it runs, and what happens after training, do not change a model
        # (an ensemble's member adds "ensemble": its dropout draws are not a sequential run's)
        ignored = ("threads", "device", "n_seeds", "readout", "seed", "ensemble")
        permutation = split.permutation if split.permutation is not None else self.permutation
        settings = {k: v for k, v in self.settings.__dict__.items() if k not in ignored}
        return {
            "method": self.method.training_spec,
            "model": dict(self.model_config),
            "training": settings,
            "seed": split.seed,
            "text_encoder": {k: self.text_encoder[k] for k in ("name", "max_length", "finetune", "lr_scale")},
            "subjects": {s: split.data.subject_ids[s] for s in ("train", "val")},
            "connectomes": file_digest(self.inputs.connectomes),
            "text_features": file_digest(self.inputs.text_features),
            "cohort": file_digest(self.inputs.cohort),
            **({"permutation": permutation} if permutation is not None else {}),
        }
