"""What a ``methods:`` entry may hold: its display keys, its read-out stages (in the order they act), the
keys each recipe reads, and the check that refuses a key that does nothing for the entry (docs/method.md,
"Recipes and stages")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .config import method_entry_defaults

DISPLAY_KEYS = ("label", "tables", "reference", "paper")


@dataclass(frozen=True)
class StageKind:
    """One kind of read-out stage: ``kind``; ``key``: the method entry key that switches it on (None: every
    method has it); ``param``: the estimator parameter a scalar value of ``key`` is passed as (a mapping
    value is passed whole); ``estimator``: ``"<module>:<class>"`` under ``neurolip.training.stages``, named
    here as data (the registry sits below the training package and never imports it)."""

    kind: str
    key: str | None
    param: str | None
    estimator: str


# The read-out stages in the order they act, one line each. Adding a stage is its schema key, its module
# under neurolip/training/stages/ and one line here (docs/method.md, "Adding a stage").
STAGE_KINDS = (
    StageKind("erase", "erase_attribute", "attribute", "erase:RepresentationEraser"),
    StageKind("choose_readout", None, None, "choose_readout:ChooseReadout"),
    StageKind("calibrate", None, None, "calibrate:PlattCalibration"),
    StageKind("group_thresholds", "group_thresholds", None, "group_thresholds:GroupThresholds"),
)
# keys of read-out stages: they change how trained models are read, not how they are trained, so they stay
# out of checkpoint fingerprints and a read-out-only entry may add them to another method's recipe
STAGE_KEYS = tuple(s.key for s in STAGE_KINDS if s.key)
READOUT_ONLY_KEYS = (*STAGE_KEYS, "models_from")
# the keys each objective reads; a contrastive key in brackets only counts when its switch is on
RECIPE_KEYS = {
    "linear": ("objective", "cross_fit"),
    "supervised": ("objective", "cross_fit"),
    "contrastive": (
        "objective",
        "cross_fit",
        "global_loss",
        "global_weight",
        "calt",
        "global_text",
        "text_templates",
        "fairclip_weight",
        "adversary_weight",
    ),
}
# key -> (the switch it depends on, the condition in words, test on the entry)
CONDITIONAL_KEYS = {
    "calt_weight": ("calt: true", lambda e: e["calt"]),
    "negative_gradient": ("calt: true", lambda e: e["calt"]),
    "attn_beta": ("calt: true", lambda e: e["calt"]),
    "sensitive_mode": (
        "calt: true and negative_gradient: true",
        lambda e: e["calt"] and e["negative_gradient"],
    ),
    "fairclip_attribute": ("fairclip_weight > 0", lambda e: e["fairclip_weight"] > 0),
    "fairclip_reg": ("fairclip_weight > 0", lambda e: e["fairclip_weight"] > 0),
    "adversary_attribute": ("adversary_weight > 0", lambda e: e["adversary_weight"] > 0),
    "adversary_on": ("adversary_weight > 0", lambda e: e["adversary_weight"] > 0),
}
# stages a recipe can carry (the linear recipe erases from the vectorised connectome it reads)
STAGES_OF = {
    "linear": STAGE_KEYS,
    "supervised": STAGE_KEYS,
    "contrastive": STAGE_KEYS,
}


def ignored_keys(name: str, spec: Mapping[str, Any]) -> list[str]:
    """Keys of a completed entry that do nothing for its recipe or stages (a key at its schema default asks
    for nothing and passes): one line per key, naming the key and the method."""
    defaults = method_entry_defaults()
    objective = spec["objective"]
    problems = []
    for key, value in spec.items():
        if key in DISPLAY_KEYS or key == "models_from" or value == defaults.get(key):
            continue
        if key in STAGE_KEYS:
            if key not in STAGES_OF[objective]:
                problems.append(f"methods.{name}.{key}: a {objective} recipe has no such read-out stage")
        elif key in CONDITIONAL_KEYS:
            words, applies = CONDITIONAL_KEYS[key]
            if objective != "contrastive" or not applies(spec):
                problems.append(
                    f"methods.{name}.{key}: does nothing for a {objective} recipe without {words}"
                )
        elif key not in RECIPE_KEYS[objective]:
            problems.append(f"methods.{name}.{key}: does nothing for a {objective} recipe")
    return problems
