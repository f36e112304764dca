"""A fold's read-out before group thresholds, kept so that a group-threshold variant
(``<method>_fairthr_<short>``) fits its thresholds on the same predictions without loading and reading the
models again (docs/method.md, Recipes and stages).

The base method's train job writes the state beside its ``selection.json``. A variant uses it only when
the state was written together with the base's current ``selection.json`` (its text's hash) and by a
method whose recipe, stages and training settings are the variant's own without the thresholds; otherwise
it says why in its log and reads the models again, which gives the same predictions more slowly.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
from dataclasses import asdict
from pathlib import Path

log = logging.getLogger(__name__)

STATE_NAME = "readout_state.pkl"
# settings that change how fast, not what: a state written under other values still holds
_RESULT_NEUTRAL_SETTINGS = ("threads",)


def settings_key(settings) -> dict:
    """The training settings a read-out depends on (a TrainingConfig without its thread count)."""
    return {k: v for k, v in asdict(settings).items() if k not in _RESULT_NEUTRAL_SETTINGS}


def _digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_state(work_dir, *, method, settings, frames: dict, members, info: dict) -> Path:
    """Keep ``method``'s fold read-out (validation and test prediction frames before thresholds, the
    cross-fitted members' calibrated test probabilities or None, the selection info) in ``work_dir``,
    tied to the ``selection.json`` just written there."""
    work_dir = Path(work_dir)
    state = {
        "method": method.name,
        "spec": dict(method.spec),
        "settings": settings_key(settings),
        "selection_sha256": _digest(work_dir / "selection.json"),
        "frames": frames,
        "members": members,
        "info": info,
    }
    path = work_dir / STATE_NAME
    with open(path, "wb") as handle:
        pickle.dump(state, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def _without(spec: dict, *keys) -> dict:
    return {k: v for k, v in spec.items() if k not in keys}


def matching_state(base_selection, *, variant, settings) -> dict | None:
    """The base's kept read-out for ``variant`` (a group-threshold method), or None with the reason logged
    when there is none or it does not belong to the base's current selection or to the variant's recipe."""
    base_selection = Path(base_selection)
    path = base_selection.parent / STATE_NAME
    if not path.exists():
        log.info("%s: no kept read-out in %s; reading the models again", variant.name, path.parent)
        return None
    with open(path, "rb") as handle:
        state = pickle.load(handle)
    base_spec = state["spec"]
    reasons = []
    if state["selection_sha256"] != _digest(base_selection):
        reasons.append(f"it was written with another {base_selection.name}")
    if _without(variant.spec, "group_thresholds", "models_from") != _without(base_spec, "models_from"):
        reasons.append(f"{state['method']}'s recipe or stages differ from {variant.name}'s")
    if variant.spec.get("models_from") != (base_spec.get("models_from") or state["method"]):
        reasons.append(f"{variant.name} reads other models than {state['method']}")
    if state["settings"] != settings_key(settings):
        reasons.append("the training settings differ")
    if reasons:
        log.info(
            "%s: kept read-out %s not used (%s); reading the models again",
            variant.name,
            path,
            "; ".join(reasons),
        )
        return None
    log.info("%s: group thresholds on the kept read-out of %s (%s)", variant.name, state["method"], path)
    return state
