"""The method registry: methods are data, read from config 'methods' by everything that needs them."""

import re

import pytest
import yaml
from cohort import REPO

from neurolip.config import method_defaults, section_defaults
from neurolip.methods import GROUP_THRESHOLDS_SUFFIX, MethodRegistry

SHIPPED = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
# global_loss values that happen to share a method's name: a loss is not a method
LOSS_NAMES = {"clip", "siglip"}


def test_registry_reads_tables_labels_reference_and_published_numbers_from_config():
    registry = MethodRegistry.from_config(SHIPPED)
    assert registry.trained == SHIPPED["training"]["methods"]
    assert registry.reference == next(m for m, e in SHIPPED["methods"].items() if e.get("reference"))
    for name, entry in SHIPPED["methods"].items():
        assert registry[name].label == entry.get("label", name)
        for table in ("table1", "table2"):
            # a table lists the methods the run trains (defined-only ones, like ablations, wait for a config
            # that trains them)
            listed = table in entry.get("tables", []) and name in registry.trained
            assert (registry[name] in registry.table(table)) == listed
    for base in SHIPPED["evaluation"]["fair_thresholds"]["methods"]:
        variant = registry[f"{base}{GROUP_THRESHOLDS_SUFFIX}_dp"]
        assert variant.base == base and variant.label == registry[base].label + " + group thresholds"
        assert variant in registry.table("table1") and variant not in registry.table("table2")
        # a read-out-only entry: the base's recipe and models, plus a group-thresholds stage
        assert variant.training_spec == registry[base].training_spec
        assert variant.models_from == (registry[base].models_from or base)
        assert [s.kind for s in variant.stages][-1] == "group_thresholds"
    assert registry.with_attention == [m for m in registry.trained if registry[m].spec["calt"]]
    # a read-out-only entry takes its recipe from the method it names
    erase = registry["neurolip_erase"]
    assert erase.training_spec == registry["neurolip_textmask"].training_spec
    assert [s.kind for s in erase.stages] == ["erase", "choose_readout", "calibrate"]


def test_objective_terms_and_readouts_follow_the_entry():
    registry = MethodRegistry.from_config(SHIPPED)
    for name in registry.trained:
        objective = registry[name].objective
        assert objective.readouts, name
        if registry[name].writes_attention:
            assert objective.readouts[0] == "ttca"


def test_two_references_are_refused():
    config = {
        "methods": {"a": {"reference": True}, "b": {"reference": True}},
        "training": {"methods": ["a", "b"]},
    }
    with pytest.raises(ValueError, match="at most one method is the reference"):
        MethodRegistry.from_config(config)


def test_unknown_method_key_is_refused():
    from jsonschema import ValidationError

    with pytest.raises(ValidationError, match="global_wieght"):
        method_defaults({"global_wieght": 0.5})


def test_schema_defaults_match_the_shipped_config():
    """config/config.yaml spells out the defaults; the schema holds them: the two never disagree."""
    for section in ("connectivity", "cv", "text_encoder", "model", "training"):
        assert section_defaults(section) == SHIPPED[section], section


def test_no_method_name_is_written_in_the_code():
    """Method names live in config/, the registry, tests and docs: never in the library or the workflow."""
    names = set(SHIPPED["methods"]) | set(SHIPPED["training"]["methods"])
    offenders = []
    files = [
        *(REPO / "src").rglob("*.py"),
        *(REPO / "workflow").rglob("*.py"),
        *(REPO / "workflow").rglob("*.smk"),
    ]
    files.append(REPO / "Snakefile")
    for path in files:
        literals = set(re.findall(r"[\"']([A-Za-z0-9_]+)[\"']", path.read_text()))
        found = literals & names
        if path.name == "objectives.py":
            found -= LOSS_NAMES
        offenders += [f"{path.relative_to(REPO)}: {name}" for name in sorted(found)]
    assert not offenders, offenders


def test_several_threshold_constraints_are_evaluated_side_by_side():
    config = {
        **SHIPPED,
        "evaluation": {
            "fair_thresholds": {
                "methods": ["linear_fc"],
                "constraint": ["demographic_parity", "equalized_odds"],
            }
        },
    }
    registry = MethodRegistry.from_config(config)
    dp, eo = (registry[f"linear_fc{GROUP_THRESHOLDS_SUFFIX}_{short}"] for short in ("dp", "eo"))
    assert dp.spec["group_thresholds"]["constraint"] == "demographic_parity"
    assert eo.spec["group_thresholds"]["constraint"] == "equalized_odds"
    assert eo.label.endswith("+ group thresholds (equalized odds)") and dp.base == eo.base == "linear_fc"
    assert registry.evaluated[-2:] == [dp.name, eo.name]
    # output names do not depend on which other constraints are listed
    single = MethodRegistry.from_config(SHIPPED)
    assert single[dp.name].spec == dp.spec and f"linear_fc{GROUP_THRESHOLDS_SUFFIX}" not in single
    for bad in (["equalized_odds", "equalized_odds"], [], "parity"):
        config["evaluation"]["fair_thresholds"]["constraint"] = bad
        with pytest.raises(ValueError, match="fair_thresholds.constraint"):
            MethodRegistry.from_config(config)


def test_threshold_modes_have_names_of_their_own():
    config = {
        **SHIPPED,
        "evaluation": {
            "fair_thresholds": {
                "methods": ["linear_fc"],
                "constraint": "equalized_odds",
                "mode": ["deterministic", "randomised"],
            }
        },
    }
    registry = MethodRegistry.from_config(config)
    deterministic, randomised = registry["linear_fc_fairthr_eo"], registry["linear_fc_fairthr_eo_rand"]
    assert deterministic.spec["group_thresholds"]["mode"] == "deterministic"
    assert randomised.spec["group_thresholds"]["mode"] == "randomised"
    assert randomised.label.endswith("(randomised)")
    # the default mode is deterministic, under the same name whatever else is listed
    config["evaluation"]["fair_thresholds"].pop("mode")
    alone = MethodRegistry.from_config(config)
    assert (
        alone["linear_fc_fairthr_eo"].spec == deterministic.spec and "linear_fc_fairthr_eo_rand" not in alone
    )
    for bad in (["randomised", "randomised"], [], "coin"):
        config["evaluation"]["fair_thresholds"]["mode"] = bad
        with pytest.raises(ValueError, match="fair_thresholds.mode"):
            MethodRegistry.from_config(config)


def _merged(base, overlay):
    """Snakemake's merge of a --configfile over the workflow's config: mappings key by key, the rest replaced."""
    out = dict(base)
    for key, value in overlay.items():
        out[key] = (
            _merged(base[key], value)
            if isinstance(value, dict) and isinstance(base.get(key), dict)
            else value
        )
    return out


@pytest.mark.parametrize("name", ["abide", "adhd200", "adhd200_aal", "adhd_nilearn", "fmriprep", "simulated"])
def test_every_shipped_dataset_config_validates_and_builds_its_registry(name):
    """What the workflow does with `--configfile config/<name>.yaml` before any job: schema (with defaults),
    the cross-key checks and the method registry; a shipped config that fails here would stop the run."""
    from jsonschema import Draft202012Validator

    from neurolip.config import check_consistency, load_schema

    config = _merged(SHIPPED, yaml.safe_load((REPO / "config" / f"{name}.yaml").read_text()))
    errors = sorted(Draft202012Validator(load_schema()).iter_errors(config), key=str)
    assert not errors, [e.message for e in errors]
    check_consistency(config)
    registry = MethodRegistry.from_config(config)
    assert set(registry.trained) <= set(config["methods"])
    if name == "abide":
        # the project's fairness method, and both threshold constraints beside each other
        for short in ("eo", "dp"):
            assert f"neurolip_erase_crossfit{GROUP_THRESHOLDS_SUFFIX}_{short}" in registry.evaluated


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ({"objective": "linear", "attn_beta": 0.001}, "attn_beta"),
        ({"objective": "linear", "global_loss": "siglip"}, "global_loss"),
        ({"objective": "supervised", "attn_beta": 0.001}, "attn_beta"),
        ({"objective": "supervised", "calt": True}, "calt"),
        ({"global_loss": "clip", "calt_weight": 4.0}, "calt_weight"),
        ({"global_loss": "clip", "fairclip_attribute": "site"}, "fairclip_attribute"),
        ({"calt": True, "negative_gradient": False, "sensitive_mode": "reverse"}, "sensitive_mode"),
    ],
)
def test_a_key_its_recipe_or_stage_ignores_is_refused_naming_key_and_method(entry, key):
    config = {"methods": {"bad_method": entry}, "training": {"methods": ["bad_method"]}}
    with pytest.raises(
        ValueError, match=rf"methods\.bad_method\.{key}: does nothing|methods\.bad_method\.{key}: a "
    ):
        MethodRegistry.from_config(config)


def test_keys_at_their_default_and_keys_behind_an_active_switch_are_accepted():
    config = {
        "methods": {
            "lin": {"objective": "linear", "attn_beta": 0.0, "cross_fit": 3, "label": "L"},
            "fair": {"fairclip_weight": 0.1, "fairclip_attribute": "sex", "fairclip_reg": 0.2},
            "rev": {"calt": True, "sensitive_mode": "reverse", "attn_beta": 0.001},
            "lin_thr": {"models_from": "lin", "group_thresholds": {"constraint": "equalized_odds"}},
        },
        "training": {"methods": ["lin", "fair", "rev", "lin_thr"]},
    }
    registry = MethodRegistry.from_config(config)
    assert registry["lin_thr"].training_spec == registry["lin"].training_spec
    assert registry["lin_thr"].spec["group_thresholds"] == {
        "attribute": "sex",
        "constraint": "equalized_odds",
        "objective": "balanced_accuracy_score",
        "mode": "deterministic",
        "tolerance": 0.05,
    }
    # the linear recipe erases from the connectome it reads: a read-out-only entry of it may erase
    config["methods"]["lin_thr"]["erase_attribute"] = "sex"
    assert [s.kind for s in MethodRegistry.from_config(config)["lin_thr"].stages][0] == "erase"
