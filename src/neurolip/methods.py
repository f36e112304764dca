"""The method registry: every method is one object built from its ``methods:`` config entry.

A :class:`Method` knows what it optimises (its :class:`~neurolip.losses.objectives.Objective`, which also
names its read-out candidates) and how it is shown (label, tables, published numbers, whether it is the
reference of the paired comparison). Tables, figures, paired comparisons, the workflow and the tests read
methods from a :class:`MethodRegistry`; no method name is written anywhere else in the code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .config import method_defaults

# a method's test predictions re-decided by group thresholds fitted on its validation split
# (evaluation.fair_thresholds) are evaluated as a method of their own, "<method><suffix>"
GROUP_THRESHOLDS_SUFFIX = "_fairthr"
# short names of fairlearn's constraints, for "<method>_fairthr_<short>" when several are evaluated
CONSTRAINT_SHORT = {
    "demographic_parity": "dp",
    "equalized_odds": "eo",
    "true_positive_rate_parity": "tpr",
    "false_positive_rate_parity": "fpr",
}
# method keys that change how a trained model is read, not how it is trained: they stay out of checkpoint
# fingerprints, and a method may take its trained models from another that differs only in them
READOUT_ONLY_KEYS = ("erase_attribute", "models_from")


@dataclass(frozen=True)
class Method:
    """One trained method, or one post-processed version of a trained method (``base`` set)."""

    name: str
    spec: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""
    tables: tuple[str, ...] = ()
    paper: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    reference: bool = False
    base: str | None = None

    @classmethod
    def from_entry(cls, name: str, entry: Mapping[str, Any]) -> Method:
        values = method_defaults(dict(entry))
        display = {key: values.pop(key) for key in ("tables", "paper", "reference")}
        label = values.pop("label", name)
        return cls(
            name=name,
            spec=values,
            label=label,
            tables=tuple(display["tables"]),
            paper=display["paper"],
            reference=display["reference"],
        )

    @property
    def objective(self):
        """The :class:`~neurolip.losses.objectives.Objective` this method trains (imported here: tables and
        figures read the registry without needing PyTorch)."""
        from .losses.objectives import build_objective

        if self.base is not None:
            raise ValueError(f"{self.name} is post-processed from {self.base}; it is not trained itself")
        return build_objective(self.spec)

    @property
    def training_spec(self) -> dict[str, Any]:
        """What shapes the trained models (the spec without the read-out-only keys)."""
        return {k: v for k, v in self.spec.items() if k not in READOUT_ONLY_KEYS}

    @property
    def writes_attention(self) -> bool:
        """Methods with TTCA (``calt: true``) also export attention maps of their test subjects."""
        return self.base is None and bool(self.spec.get("calt", False))


class MethodRegistry:
    """The methods of one run, in config order: trained (``training.methods``) and post-processed."""

    def __init__(self, methods: Mapping[str, Method], trained: list[str], postprocessed: Mapping[str, str]):
        self._methods = dict(methods)
        self.trained = list(trained)
        self.postprocessed = dict(postprocessed)  # "<method>_fairthr" -> "<method>"

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MethodRegistry:
        """From a workflow config (or any mapping with ``methods``, ``training.methods`` and optionally
        ``evaluation.fair_thresholds``)."""
        entries = config["methods"]
        methods = {name: Method.from_entry(name, entry) for name, entry in entries.items()}
        trained = list(config["training"]["methods"])
        unknown = [m for m in trained if m not in methods]
        if unknown:
            raise ValueError(f"training.methods names {unknown}, which config 'methods' does not define")
        for name in trained:
            source = methods[name].spec.get("models_from", "")
            if not source:
                continue
            if source not in trained or methods[source].spec.get("models_from"):
                raise ValueError(
                    f"methods.{name}.models_from {source!r} must name a method of training.methods that "
                    "trains its own models"
                )
            if methods[source].training_spec != methods[name].training_spec:
                differ = sorted(
                    k
                    for k in set(methods[source].training_spec) | set(methods[name].training_spec)
                    if methods[source].training_spec.get(k) != methods[name].training_spec.get(k)
                )
                raise ValueError(
                    f"methods.{name}.models_from {source!r}: the two methods train differently ({differ}); "
                    f"only {list(READOUT_ONLY_KEYS)} may differ"
                )
        references = [m for m in trained if methods[m].reference]
        if len(references) > 1:
            raise ValueError(
                f"methods {references} all set reference: true; at most one method is the reference"
            )
        thresholds = config.get("evaluation", {}).get("fair_thresholds", {})
        untrained = [m for m in thresholds.get("methods", []) if m not in trained]
        if untrained:
            raise ValueError(
                f"evaluation.fair_thresholds.methods names {untrained}, which training.methods does not train: "
                "list a subset of training.methods there, or [] to turn group thresholds off"
            )
        postprocessed = {}
        constraints = threshold_constraints(thresholds)
        for base in thresholds.get("methods", []):
            for constraint in constraints:
                # one constraint keeps the plain name; several are told apart by a short suffix
                suffix = "" if len(constraints) == 1 else f"_{CONSTRAINT_SHORT[constraint]}"
                name = f"{base}{GROUP_THRESHOLDS_SUFFIX}{suffix}"
                if name in methods:
                    raise ValueError(
                        f"method {name!r} clashes with the group-threshold version of {base!r}; rename it"
                    )
                words = "" if len(constraints) == 1 else f" ({constraint.replace('_', ' ')})"
                methods[name] = Method(
                    name=name,
                    spec={"constraint": constraint},
                    label=f"{methods[base].label} + group thresholds{words}",
                    tables=tuple(thresholds.get("tables", ["table1"])),
                    base=base,
                )
                postprocessed[name] = base
        return cls(methods, trained, postprocessed)

    def __getitem__(self, name: str) -> Method:
        return self._methods[name]

    def __contains__(self, name: str) -> bool:
        return name in self._methods

    @property
    def evaluated(self) -> list[str]:
        """Every method with test predictions: the trained ones, then the post-processed ones."""
        return self.trained + list(self.postprocessed)

    @property
    def with_attention(self) -> list[str]:
        return [m for m in self.trained if self._methods[m].writes_attention]

    @property
    def reference(self) -> str | None:
        """The trained method the paired comparison measures every other against, if one is marked."""
        return next((m for m in self.trained if self._methods[m].reference), None)

    def label(self, name: str) -> str:
        return self._methods[name].label if name in self._methods else name

    def table(self, table: str) -> list[Method]:
        """Methods listed in ``table`` (``table1``/``table2``): trained ones in config order, then the
        post-processed ones."""
        return [self._methods[m] for m in self.evaluated if table in self._methods[m].tables]


def registry_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a workflow config the registry is built from: what a rule passes to its script as
    ``params`` (so a changed label or published number re-runs the tables)."""
    return {
        "methods": config["methods"],
        "training": {"methods": config["training"]["methods"]},
        "evaluation": {"fair_thresholds": config.get("evaluation", {}).get("fair_thresholds", {})},
    }


def threshold_constraints(thresholds: Mapping[str, Any]) -> list[str]:
    """``evaluation.fair_thresholds.constraint`` as a list: one fairlearn constraint, or several (each then
    evaluated as a method of its own, e.g. demographic parity beside equalized odds)."""
    constraint = thresholds.get("constraint", "demographic_parity")
    constraints = [constraint] if isinstance(constraint, str) else list(constraint)
    unknown = [c for c in constraints if c not in CONSTRAINT_SHORT]
    if unknown or not constraints or len(set(constraints)) < len(constraints):
        raise ValueError(
            f"evaluation.fair_thresholds.constraint {constraint!r}: give one or several distinct of "
            f"{sorted(CONSTRAINT_SHORT)}"
        )
    return constraints
