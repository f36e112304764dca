"""The workflow's configuration schema as the one source of defaults, for code run outside Snakemake.

The workflow validates its config with ``snakemake.utils.validate(config, schema, set_default=True)``;
tests, benchmarks and notebooks call :func:`with_defaults` on the same schema file, so a default is
written once, in ``workflow/schemas/config.schema.yaml``.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, validators

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"


def load_schema() -> dict:
    """The schema, read once per process (every method entry is completed from it); callers get a copy."""
    return copy.deepcopy(_read_schema())


@functools.cache
def _read_schema() -> dict:
    if not SCHEMA_PATH.is_file():
        raise FileNotFoundError(
            f"the configuration schema {SCHEMA_PATH} is missing: neurolip is meant to be used from a "
            "checkout of the workflow (pip install -e .)"
        )
    # libyaml's parser when PyYAML has it (the same safe constructors): the pure-Python one takes ~0.07 s of
    # every job's start-up on this 16 kB file
    return yaml.load(SCHEMA_PATH.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def _defaulting_validator():
    """A Draft 2020-12 validator that fills in ``default`` values as it validates (jsonschema's FAQ)."""
    validate_properties = Draft202012Validator.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return validators.extend(Draft202012Validator, {"properties": set_defaults})


def section_defaults(section: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """``values`` for config section ``section`` (``training``, ``model``, ...), completed and validated by
    the schema. Unknown keys are an error, as in the workflow."""
    schema = load_schema()
    subschema = {**schema["properties"][section], "definitions": schema.get("definitions", {})}
    instance = copy.deepcopy(values or {})
    _defaulting_validator()(subschema).validate(instance)
    return instance


def subsection_defaults(path: tuple[str, ...], values: dict[str, Any] | None = None) -> dict[str, Any]:
    """``values`` for the nested config section at ``path`` (e.g. ``("evaluation", "fair_thresholds")``)
    with the schema's defaults of its missing keys (one level; not validated: the workflow validated the
    config, and the caller's own checks word its errors): the one place its defaults come from."""
    subschema = load_schema()
    for key in path:
        subschema = subschema["properties"][key]
    instance = copy.deepcopy(values or {})
    for key, spec in subschema.get("properties", {}).items():
        if "default" in spec:
            instance.setdefault(key, copy.deepcopy(spec["default"]))
    return instance


def method_entry_defaults() -> dict[str, Any]:
    """The schema's default of every ``methods.<name>`` key (None where it has none)."""
    entry = load_schema()["properties"]["methods"]["additionalProperties"]["properties"]
    return {key: spec.get("default") for key, spec in entry.items()}


def method_defaults(values: dict[str, Any] | None = None) -> dict[str, Any]:
    """One ``methods.<name>`` entry completed by the schema's defaults."""
    schema = load_schema()
    entry = {
        **schema["properties"]["methods"]["additionalProperties"],
        "definitions": schema.get("definitions", {}),
    }
    instance = copy.deepcopy(values or {})
    _defaulting_validator()(entry).validate(instance)
    return instance


def canonical_results_dir(results_dir: str, cwd: str | Path | None = None) -> str:
    """The one spelling of the results folder ``results_dir`` names: symlinks, ``..``, ``./`` and a
    trailing ``/`` resolved; relative to the working directory when the folder lies inside it (so that
    targets such as ``results/simulated/data/cohort.tsv`` keep matching), absolute otherwise.

    Snakemake keys what it knows of an output (the parameters, code and inputs that made it) by the path
    as written: the same folder reached through another spelling has no record, so a changed setting
    would rerun nothing and old results would be served as new. Every spelling of one folder gives the
    same string here, hence the same output paths and the same records.

    Parameters
    ----------
    results_dir : str
        ``config["results_dir"]`` as the user wrote it (it need not exist yet).
    cwd : str or Path, optional
        The working directory (default: the process's).

    Returns
    -------
    str
    """
    cwd = Path(cwd or Path.cwd()).resolve()
    resolved = (cwd / Path(results_dir).expanduser()).resolve()
    if resolved == cwd:
        return "."
    return str(resolved.relative_to(cwd)) if resolved.is_relative_to(cwd) else str(resolved)


def check_consistency(config: dict[str, Any]) -> None:
    """Cross-key checks the schema cannot express, run when the workflow is parsed (before any job): the
    attributes that evaluation and methods name (``primary_attribute``, ``fair_thresholds.attribute``, a
    method's protected attribute, ``erase_attribute``, ``group_thresholds.attribute``) must be among the
    dataset's sensitive attributes (the phenotypes step checks each has data), the permutation null's fold
    must exist.

    Parameters
    ----------
    config : dict
        The workflow config, validated (defaults set) or a partial one: every method of
        ``training.methods`` must be defined under ``methods``.

    Raises
    ------
    ValueError
        Naming every key at fault.
    """
    sensitive = config["dataset"].get("sensitive_attributes", ["sex"])
    evaluation = config.get("evaluation", {})
    problems = []
    if evaluation.get("primary_attribute", "sex") not in sensitive:
        problems.append(f"evaluation.primary_attribute {evaluation.get('primary_attribute', 'sex')!r}")
    thresholds = evaluation.get("fair_thresholds", {})
    if thresholds.get("methods") and thresholds.get("attribute", "sex") not in sensitive:
        problems.append(f"evaluation.fair_thresholds.attribute {thresholds.get('attribute', 'sex')!r}")
    # a disease segment's words for each class: a map without one would render its texts and class prompt
    # as the missing word
    from .text import segment_problem, uncovered_codes

    for spec in config["dataset"].get("text", {}).get("segments", []):
        if segment_problem(spec):
            raise ValueError(f"dataset.text.segments: {segment_problem(spec)}")
        uncovered = uncovered_codes(spec, (0, 1)) if spec.get("role") == "disease" else {}
        if uncovered:
            raise ValueError(
                f"dataset.text.segments: {spec['field']!r} values map {dict(spec['values'])} does not cover "
                f"diagnosis {', '.join(uncovered)} (0: control, 1: patient after dataset.phenotypes."
                "diagnosis_codes): its texts and class prompt would say 'unknown'"
            )
    training = subsection_defaults(("training",), config.get("training", {}))
    if training["min_epochs"] > training["max_epochs"]:
        raise ValueError(
            f"training.min_epochs {training['min_epochs']} exceeds training.max_epochs {training['max_epochs']}: "
            "the minimum could never be trained; lower min_epochs with it (e.g. --config 'training={max_epochs: 2, "
            "min_epochs: 1}')"
        )
    maps = evaluation.get("maps", {})
    n_folds = config.get("cv", {}).get("n_folds", 5) * config.get("cv", {}).get("n_repeats", 1)
    if maps.get("permutations", 0) > 0 and maps.get("null_fold", 0) >= n_folds:
        raise ValueError(
            f"evaluation.maps.null_fold {maps['null_fold']} is not a fold: cv.n_folds x cv.n_repeats gives folds 0 to {n_folds - 1}"
        )
    cv = config.get("cv", {})
    if cv.get("scheme") == "leave_site_out" and cv.get("n_repeats", 1) != 1:
        raise ValueError("cv.scheme leave_site_out has one split of the sites: set cv.n_repeats: 1")
    # every attribute a trained method names, read as the workflow reads methods (the registry: completed
    # entries, read-out-only methods with their source's recipe): what its training protects and what its
    # read-out stages act on (erase_attribute, group_thresholds.attribute)
    from .methods import STAGE_KINDS, MethodRegistry

    registry = MethodRegistry.from_config(config)
    stage_key = {kind.kind: kind.key for kind in STAGE_KINDS}
    for name in registry.trained:
        method = registry[name]
        protected = method.protected_attributes
        problems += [f"methods.{name} protects {a!r}" for a in protected if a not in sensitive]
        for stage in method.stages:
            attribute = stage.params.get("attribute")
            if attribute is None or attribute in sensitive:
                continue
            key = stage_key[stage.kind] + (
                ".attribute" if isinstance(method.spec.get(stage_key[stage.kind]), dict) else ""
            )
            problems.append(f"methods.{name}.{key} {attribute!r}")
        if len(set(protected)) > 1:
            raise ValueError(
                f"methods.{name}: fairclip_attribute and adversary_attribute differ ({protected}); "
                "one method protects one attribute"
            )
    if problems:
        raise ValueError(
            f"{'; '.join(problems)} not among dataset.sensitive_attributes {sensitive}: add it there "
            "(its column must be in the phenotype table) or choose one of those"
        )


def _coerce(value, schema):
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if isinstance(value, str):
        text = value.strip()
        if "boolean" in types and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if "integer" in types:
            try:
                return int(text)
            except ValueError:
                pass
        if "number" in types:
            try:
                return float(text)
            except ValueError:
                pass
        return value
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            sub = properties.get(key, extra if isinstance(extra, dict) else None)
            if sub is not None:
                value[key] = _coerce(item, sub)
    return value


def coerce_command_line_types(config: dict[str, Any]) -> dict[str, Any]:
    """Snakemake's ``--config 'training={max_epochs: 2}'`` delivers nested values as strings: turn those the
    schema types as integer, number or boolean into that type (in place), so the documented form works."""
    return _coerce(config, load_schema())
