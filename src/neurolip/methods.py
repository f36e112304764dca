"""The method registry: every method is one object built from its ``methods:`` config entry.

A method is a **training recipe** plus an ordered list of **read-out stages** (docs/method.md, "Recipes and
stages"). The recipe is the objective with its own keys and the splitter that makes validation scores (one
validation split, or ``cross_fit`` inner folds); the stages turn the trained models into decisions: erase an
attribute, choose a read-out, calibrate, group thresholds. A *read-out-only* entry (``models_from``) names
the method whose trained models it reads, takes its recipe from there and adds stages: it trains nothing.

A :class:`Method` also knows how it is shown (label, tables, published numbers, whether it is the reference
of the paired comparison). Tables, figures, paired comparisons, the workflow and the tests read methods from
a :class:`MethodRegistry`; no method name is written anywhere else in the code.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .config import method_defaults, method_entry_defaults, subsection_defaults
from .method_entries import (  # noqa: F401 (STAGE_KINDS, StageKind: the registry's vocabulary, re-exported)
    DISPLAY_KEYS,
    READOUT_ONLY_KEYS,
    STAGE_KEYS,
    STAGE_KINDS,
    StageKind,
    ignored_keys,
)

# group-threshold variants of evaluation.fair_thresholds are named "<method><suffix>_<short constraint>"
# (deterministic mode) or "<method><suffix>_<short constraint>_rand" (randomised), whatever else is listed
GROUP_THRESHOLDS_SUFFIX = "_fairthr"
THRESHOLD_MODES = ("deterministic", "randomised")
MODE_SUFFIX = {"deterministic": "", "randomised": "_rand"}
CONSTRAINT_SHORT = {
    "demographic_parity": "dp",
    "equalized_odds": "eo",
    "true_positive_rate_parity": "tpr",
    "false_positive_rate_parity": "fpr",
}


@dataclass(frozen=True)
class Stage:
    """One read-out stage of a method: its kind, its estimator's parameters and where the estimator lives
    (built by :func:`neurolip.training.stages.pipeline`)."""

    kind: str  # erase | choose_readout | calibrate | group_thresholds
    params: Mapping[str, Any] = field(default_factory=dict)
    estimator: str = ""


@dataclass(frozen=True)
class Method:
    """One method: its completed entry (``spec``: recipe, stage and ``models_from`` keys) and its display.
    ``base``: for a group-threshold variant of ``evaluation.fair_thresholds``, the method it re-decides."""

    name: str
    spec: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""
    tables: tuple[str, ...] = ()
    paper: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    reference: bool = False
    base: str | None = None

    @classmethod
    def from_entry(cls, name: str, entry: Mapping[str, Any]) -> Method:
        """From a ``methods.<name>`` entry (completed by the schema's defaults); a key that does nothing for
        the entry's recipe or stages is an error naming it."""
        values = method_defaults(dict(entry))
        problems = ignored_keys(name, values)
        if problems:
            raise ValueError("; ".join(problems))
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
        """The :class:`~neurolip.losses.objectives.Objective` of this method's recipe (imported here: tables
        and figures read the registry without needing PyTorch)."""
        from .losses.objectives import build_objective

        return build_objective(self.spec)

    @property
    def training_spec(self) -> dict[str, Any]:
        """The recipe: what shapes the trained models (the spec without the read-out-only keys)."""
        return {k: v for k, v in self.spec.items() if k not in READOUT_ONLY_KEYS}

    @property
    def models_from(self) -> str | None:
        """The method whose trained models this read-out-only method reads, or None (it trains its own)."""
        return self.spec.get("models_from") or None

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The read-out stages in the order they act (:data:`STAGE_KINDS`): those every method has, and those
        its entry switches on."""
        stages = []
        for kind in STAGE_KINDS:
            value = self.spec.get(kind.key) if kind.key else {}
            if kind.key and not value:
                continue
            params = dict(value) if isinstance(value, Mapping) else {kind.param: value}
            stages.append(Stage(kind.kind, params, kind.estimator))
        return tuple(stages)

    @property
    def fingerprint(self) -> dict[str, Any]:
        """What shapes this method's outputs on a fold, without its display (a relabelled method retrains
        nothing): the completed recipe and stage keys, ``models_from``, and the base of a variant."""
        return {"spec": copy.deepcopy(dict(self.spec)), "base": self.base}

    @property
    def refits_linear_null(self) -> bool:
        """A plain logistic regression (linear recipe, no cross-fitting, no erasure): its permutation-null
        maps are warm-started refits in the map job itself, not trained null models."""
        spec = self.spec
        return spec["objective"] == "linear" and not spec.get("cross_fit") and not spec["erase_attribute"]

    @property
    def protected_attributes(self) -> tuple[str, ...]:
        """Attributes this method's training protects (FairCLIP's and the adversary's)."""
        spec = self.spec
        return tuple(
            spec[attribute]
            for weight, attribute in (
                ("fairclip_weight", "fairclip_attribute"),
                ("adversary_weight", "adversary_attribute"),
            )
            if spec.get(weight) and spec.get(attribute)
        )

    @property
    def trains_network(self) -> bool:
        """Trains networks of its own (not a read-out-only entry, not the logistic regression): it logs epochs
        and gets learning curves."""
        return not self.models_from and self.spec["objective"] != "linear"

    @property
    def writes_attention(self) -> bool:
        """Methods with TTCA (``calt: true``) export attention maps of their test subjects (group-threshold
        variants would only repeat their base's)."""
        return self.base is None and bool(self.spec.get("calt", False))


def read_out_variant(name: str, variant: Method, source: Method) -> Method:
    """``variant`` (a ``models_from`` entry) with ``source``'s recipe: recipe keys it gives must agree with
    the source's (a key at its default is not given)."""
    defaults = method_entry_defaults()
    recipe, own = source.training_spec, variant.training_spec
    differ = sorted(
        k
        for k in set(recipe) | set(own)
        if own.get(k, defaults.get(k)) not in (recipe.get(k), defaults.get(k))
    )
    if differ:
        raise ValueError(
            f"methods.{name}.models_from {source.name!r}: the two methods train differently ({differ}); a "
            f"read-out-only method takes its recipe from its source and adds only {list(STAGE_KEYS)}"
        )
    spec = {**recipe, **{k: variant.spec[k] for k in READOUT_ONLY_KEYS if k in variant.spec}}
    problems = ignored_keys(name, spec)
    if problems:
        raise ValueError("; ".join(problems))
    return Method(name, spec, variant.label, variant.tables, variant.paper, variant.reference, variant.base)


class MethodRegistry:
    """The methods of one run, in config order: trained (``training.methods``, read-out-only ones included)
    and the group-threshold variants of ``evaluation.fair_thresholds``."""

    def __init__(self, methods: Mapping[str, Method], trained: list[str], postprocessed: Mapping[str, str]):
        self._methods = dict(methods)
        self.trained = list(trained)
        self.postprocessed = dict(postprocessed)  # "<method>_fairthr_<short>" -> "<method>"

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
            source = methods[name].models_from
            if source is None:
                continue
            if source not in trained or methods[source].models_from:
                raise ValueError(
                    f"methods.{name}.models_from {source!r} must name a method of training.methods that "
                    "trains its own models"
                )
            methods[name] = read_out_variant(name, methods[name], methods[source])
        references = [m for m in trained if methods[m].reference]
        if len(references) > 1:
            raise ValueError(
                f"methods {references} all set reference: true; at most one method is the reference"
            )
        thresholds = subsection_defaults(
            ("evaluation", "fair_thresholds"), config.get("evaluation", {}).get("fair_thresholds", {})
        )
        postprocessed = {}
        for variant in group_threshold_variants(methods, trained, thresholds):
            if variant.name in methods:
                raise ValueError(
                    f"method {variant.name!r} clashes with the group-threshold version of {variant.base!r}; "
                    "rename it"
                )
            methods[variant.name] = variant
            postprocessed[variant.name] = variant.base
        return cls(methods, trained, postprocessed)

    def __getitem__(self, name: str) -> Method:
        return self._methods[name]

    def __contains__(self, name: str) -> bool:
        return name in self._methods

    @property
    def evaluated(self) -> list[str]:
        """Every method with test predictions: the trained ones, then the group-threshold variants."""
        return self.trained + list(self.postprocessed)

    @property
    def with_attention(self) -> list[str]:
        return [m for m in self.trained if self._methods[m].writes_attention]

    @property
    def reference(self) -> str | None:
        """The trained method the paired comparison measures every other against, if one is marked."""
        return next((m for m in self.trained if self._methods[m].reference), None)

    def protected_attributes(self) -> list[str]:
        """Attributes the trained methods protect during training: the folds step checks that the cohort
        has two groups of each."""
        return sorted({a for m in self.trained for a in self._methods[m].protected_attributes})

    def linear_null_methods(self, names) -> list[str]:
        """Those of ``names`` whose null maps are linear refits (:attr:`Method.refits_linear_null`)."""
        return [m for m in names if self._methods[m].refits_linear_null]

    def label(self, name: str) -> str:
        return self._methods[name].label if name in self._methods else name

    @property
    def unerased(self) -> dict[str, str]:
        """{trained method with an erase stage: its unerased counterpart among the trained methods}: the
        method whose models it reads (``models_from``), or else the one whose spec is its own without the
        erasure; an erasing method with neither is left out (its probes are shown without a reference)."""
        out = {}
        for name in self.trained:
            spec = dict(self._methods[name].spec)
            if not spec.get("erase_attribute"):
                continue
            source = spec.get("models_from")
            if source and not self._methods[source].spec.get("erase_attribute"):
                out[name] = source
                continue
            plain = {**spec, "erase_attribute": None}
            for other in self.trained:
                theirs = dict(self._methods[other].spec)
                if (
                    other != name
                    and not theirs.get("erase_attribute")
                    and {**theirs, "erase_attribute": None} == plain
                ):
                    out[name] = other
                    break
        return out

    def table(self, table: str) -> list[Method]:
        """Methods listed in ``table`` (``table1``/``table2``): trained ones in config order, then the
        group-threshold variants."""
        return [self._methods[m] for m in self.evaluated if table in self._methods[m].tables]


def group_threshold_variants(methods: Mapping[str, Method], trained, thresholds) -> list[Method]:
    """``evaluation.fair_thresholds`` as read-out-only entries: for each listed method and constraint,
    ``<method>_fairthr_<short>``, which reads the method's models and adds a group-thresholds stage."""
    untrained = [m for m in thresholds["methods"] if m not in trained]
    if untrained:
        raise ValueError(
            f"evaluation.fair_thresholds.methods names {untrained}, which training.methods does not train: "
            "list a subset of training.methods there, or [] to turn group thresholds off"
        )
    constraints = threshold_constraints(thresholds)
    modes = threshold_modes(thresholds)
    variants = []
    for base in thresholds["methods"]:
        source = methods[base]
        if source.spec.get("group_thresholds"):
            raise ValueError(f"evaluation.fair_thresholds.methods: {base} already has group thresholds")
        for constraint, mode in [(c, m) for c in constraints for m in modes]:
            # the label names the constraint (and mode) only where several are shown side by side
            said = [constraint.replace("_", " ")] if len(constraints) > 1 else []
            said += [mode] if len(modes) > 1 else []
            words = f" ({', '.join(said)})" if said else ""
            stage = {
                "attribute": thresholds["attribute"],
                "constraint": constraint,
                "objective": thresholds["objective"],
                "mode": mode,
                "tolerance": thresholds["tolerance"],
            }
            variants.append(
                Method(
                    name=f"{base}{GROUP_THRESHOLDS_SUFFIX}_{CONSTRAINT_SHORT[constraint]}{MODE_SUFFIX[mode]}",
                    spec={
                        **source.spec,
                        "models_from": source.models_from or base,
                        "group_thresholds": stage,
                    },
                    label=f"{source.label} + group thresholds{words}",
                    tables=tuple(thresholds["tables"]),
                    base=base,
                )
            )
    return variants


def threshold_modes(thresholds: Mapping[str, Any]) -> list[str]:
    """``evaluation.fair_thresholds.mode`` as a list (default deterministic: a diagnosis should not be a coin
    flip; docs/method.md)."""
    mode = thresholds["mode"]
    modes = [mode] if isinstance(mode, str) else list(mode)
    if not modes or any(m not in THRESHOLD_MODES for m in modes) or len(set(modes)) < len(modes):
        raise ValueError(
            f"evaluation.fair_thresholds.mode {mode!r}: give one or both of {list(THRESHOLD_MODES)}"
        )
    return modes


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
    constraint = thresholds["constraint"]
    constraints = [constraint] if isinstance(constraint, str) else list(constraint)
    unknown = [c for c in constraints if c not in CONSTRAINT_SHORT]
    if unknown or not constraints or len(set(constraints)) < len(constraints):
        raise ValueError(
            f"evaluation.fair_thresholds.constraint {constraint!r}: give one or several distinct of "
            f"{sorted(CONSTRAINT_SHORT)}"
        )
    return constraints


def job_registry(job) -> MethodRegistry:
    """The registry inside a Snakemake job (``job``: its ``snakemake`` object), resolved as the workflow
    resolved it: from the rule's ``params.registry`` (:func:`registry_config`, tracked so that a changed label
    or published number reruns the job) where the rule passes it, otherwise from the run's validated config
    (training jobs: a relabelled or added method retrains nothing). The one way a job gets its methods."""
    params = job.params
    source = params.get("registry") if "registry" in params.keys() else None
    return MethodRegistry.from_config(source if source is not None else job.config)


def job_method(job) -> Method:
    """The registry's own :class:`Method` of a training job (``params.method``), checked against the recipe
    and stages the workflow scheduled (``params.method_fingerprint``): a job never runs a method rebuilt
    differently from the one its rule was made for."""
    method = job_registry(job)[job.params.method]
    scheduled = job.params.get("method_fingerprint")
    if scheduled is not None and method.fingerprint != scheduled:
        raise ValueError(
            f"method {method.name}: the job's config resolves to {method.fingerprint}, the workflow scheduled "
            f"{scheduled}; rerun the workflow with the same config"
        )
    return method
