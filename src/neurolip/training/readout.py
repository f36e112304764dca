"""Read-outs: P(disease) of a trained model without any subject text, the choice among candidates on the
validation split, and Platt calibration there. The test split never shapes a choice."""

from __future__ import annotations

import numpy as np
import torch
from scipy import special

from .linear import fit_logistic_on_val, logit_ensemble, standardised_logit

ENSEMBLE = "ensemble"


@torch.no_grad()
def embed(model, x, device, batch_size=256, erase=None) -> torch.Tensor:
    """Global fMRI embeddings v_g of connectomes ``x`` (after ``erase``, when given)."""
    model.eval()
    chunks = [
        model.encode_image(x[i : i + batch_size].to(device))[0].float().cpu()
        for i in range(0, len(x), batch_size)
    ]
    embeddings = torch.cat(chunks)
    return erase("global", embeddings) if erase is not None else embeddings


# the representation each read-out reads: the global embedding v_g, or the TTCA outputs under the class
# prompts' diagnosis words (the ensemble reads those of all its members)
READS = {"head": "global", "zero_shot": "global", "linear_probe": "global", "ttca": "ttca"}


def representation_names(choice: str, candidates) -> list[str]:
    """The representations a chosen read-out reads, in a fixed order."""
    kinds = candidates if choice == ENSEMBLE else [choice]
    return sorted({READS[k] for k in kinds})


@torch.no_grad()
def representations(model, x, names, prompts, device, batch_size=256, erase=None) -> dict[str, np.ndarray]:
    """{name: (n, D)} of connectomes ``x``: ``global`` (v_g) and/or ``ttca`` (the image-side TTCA outputs
    of every class prompt, concatenated), after ``erase`` when given."""
    model.eval()
    out = {name: [] for name in names}
    if "ttca" in names:
        prompts = prompts.to(device)
        prompt_states = model.token_states(prompts)
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size].to(device)
        if "global" in names:
            image_global = model.encode_image(xb)[0].float().cpu()
            out["global"].append(erase("global", image_global) if erase is not None else image_global)
        if "ttca" in names:
            image_side, _ = model.ttca_outputs(xb, prompt_states, prompts.mask, prompts.segment_masks)
            image_side = image_side.float().cpu()
            if erase is not None:
                image_side = erase("ttca", image_side)
            out["ttca"].append(image_side.flatten(1))
    return {name: torch.cat(chunks).numpy() for name, chunks in out.items()}


def per_seed_choice(per_seed: list[dict], choice: str) -> list[dict]:
    """Each seed's own probabilities of the chosen read-out ({split: p}); for the ensemble, each seed's
    standardised-logit ensemble of its candidates."""
    if choice != ENSEMBLE:
        return [seed[choice] for seed in per_seed]
    out = []
    for seed in per_seed:
        kinds = list(seed)
        references = [seed[k]["val"] for k in kinds]
        out.append({s: logit_ensemble([seed[k][s] for k in kinds], references) for s in ("val", "test")})
    return out


@torch.no_grad()
def probabilities(model, x, kind, prompts, device, batch_size=256, erase=None) -> np.ndarray:
    """P(disease) of read-out ``kind``: ``head`` (supervised classifier), ``zero_shot`` (class prompts'
    global embeddings) or ``ttca`` (the class prompts' diagnosis words querying the regions)."""
    model.eval()
    if kind != "head":
        prompts = prompts.to(device)
        prompt_states = model.token_states(prompts)
    out = []
    for i in range(0, len(x), batch_size):
        xb = x[i : i + batch_size].to(device)
        if kind == "head":
            image_global = model.encode_image(xb)[0]
            logits = model.classifier(erase("global", image_global) if erase is not None else image_global)
        elif kind == "ttca":
            logits = model.ttca_logits(xb, prompt_states, prompts.mask, prompts.segment_masks, erase)
        else:
            logits = model.zero_shot_logits(xb, prompt_states, prompts.mask, erase)
        # double precision: confident read-outs stay distinct instead of rounding to exactly 0 or 1
        out.append(torch.softmax(logits.double(), dim=-1)[:, 1].cpu())
    return torch.cat(out).numpy()


def candidate_probabilities(model, data, prompts, readouts, device, seed, erase=None):
    """P(disease) of every read-out candidate on the validation and test splits; ``linear_probe`` is a
    logistic regression on the embeddings whose C is chosen on validation. ``erase``: a transform of the
    representations every read-out reads (:class:`~neurolip.training.stages.erase.RepresentationEraser`).
    Returns ({kind: {split: probabilities}}, probe C)."""
    scores = {}
    for kind in readouts:
        if kind != "linear_probe":
            scores[kind] = {
                s: probabilities(model, data.x[s], kind, prompts, device, erase=erase)
                for s in ("val", "test")
            }
    probe_c = None
    if "linear_probe" in readouts:
        splits = ("train", "val", "test")
        embeddings = {s: embed(model, data.x[s], device, erase=erase).numpy() for s in splits}
        probe, probe_c, _ = fit_logistic_on_val(
            embeddings["train"], data.y["train"], embeddings["val"], data.y["val"], seed=seed
        )
        scores["linear_probe"] = {s: probe.predict_proba(embeddings[s])[:, 1] for s in ("val", "test")}
    return scores, probe_c


def average_seeds(per_seed: list[dict]) -> tuple[dict, dict]:
    """Each candidate's probabilities averaged over the seeds' models, plus the standardised-logit
    ``ensemble`` of the candidates when there are several (scaled by their validation scores, labels unused).
    ``per_seed``: [{kind: {split: probabilities}}]. Returns (validation, test), each {kind: probabilities}."""
    kinds = list(per_seed[0])
    validation = {k: np.mean([s[k]["val"] for s in per_seed], axis=0) for k in kinds}
    test = {k: np.mean([s[k]["test"] for s in per_seed], axis=0) for k in kinds}
    if len(kinds) > 1:
        references = [validation[k] for k in kinds]
        validation[ENSEMBLE] = logit_ensemble([validation[k] for k in kinds], references)
        test[ENSEMBLE] = logit_ensemble([test[k] for k in kinds], references)
    return validation, test


def combine_cross_fitted(per_model: list[dict]) -> tuple[dict, dict]:
    """Cross-fitted models (model k validated on inner fold k) into fold-level scores: each candidate's
    scores put on one scale per model (the standardised logit against its own validation scores, labels
    unused, so models with different temperatures line up), the validation subjects' out-of-fold scores
    concatenated in the models' order and the test scores averaged over the models; plus the ``ensemble``
    of the candidates when there are several. Returns (validation, test), each {kind: probabilities}."""
    kinds = list(per_model[0])
    validation = {
        k: special.expit(np.concatenate([standardised_logit(m[k]["val"], m[k]["val"]) for m in per_model]))
        for k in kinds
    }
    test = {
        k: special.expit(np.mean([standardised_logit(m[k]["test"], m[k]["val"]) for m in per_model], axis=0))
        for k in kinds
    }
    if len(kinds) > 1:
        references = [validation[k] for k in kinds]
        validation[ENSEMBLE] = logit_ensemble([validation[k] for k in kinds], references)
        test[ENSEMBLE] = logit_ensemble([test[k] for k in kinds], references)
    return validation, test


def cross_fitted_member_scores(per_model: list[dict], validation: dict, choice: str) -> list[np.ndarray]:
    """Each cross-fitted model's own test probabilities of the chosen read-out, on the scale of the
    out-of-fold scores the calibration and the thresholds are fitted on: model k's standardised logit against
    its own validation scores (what its out-of-fold block of ``validation`` holds), and for the ``ensemble``
    the same standardised-logit ensemble as the out-of-fold one (references: the joined ``validation``).
    The fold's combined test score (:func:`combine_cross_fitted`) averages logits over K models and so is
    less spread than any one model's out-of-fold score; these are not."""
    kinds = list(per_model[0])
    members = []
    for model in per_model:
        own = {k: special.expit(standardised_logit(model[k]["test"], model[k]["val"])) for k in kinds}
        if choice == ENSEMBLE:
            members.append(logit_ensemble([own[k] for k in kinds], [validation[k] for k in kinds]))
        else:
            members.append(own[choice])
    return members
