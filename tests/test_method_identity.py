"""One method identity: the Method a training or evaluation job resolves (neurolip.methods.job_method /
job_registry, from the run's config as Snakemake hands it to the job) is the registry's own, field for
field, for every method of every shipped config (issue 30)."""

import dataclasses
import pickle
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from snakemake.utils import validate
from test_registry import _merged  # Snakemake's merge of --configfile layers, written once

from neurolip.config import SCHEMA_PATH, check_consistency
from neurolip.methods import MethodRegistry, job_method, job_registry, registry_config

REPO = Path(__file__).resolve().parents[1]
SHIPPED = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
# each shipped dataset config, and the layered ones, as a user passes them after config/config.yaml
LAYERS = [
    ["simulated"],
    ["abide"],
    ["abide", "abide_fairness"],
    ["adhd200"],
    ["adhd200_aal"],
    ["adhd_nilearn"],
    ["fmriprep"],
]


class Params(dict):
    """The part of Snakemake's Namedlist a job's params offer: attributes, .get and .keys."""

    __getattr__ = dict.__getitem__


def workflow_config(layers):
    """The config as common.smk leaves it: --configfile layers merged, validated with the schema's defaults."""
    config = SHIPPED
    for name in layers:
        config = _merged(config, yaml.safe_load((REPO / "config" / f"{name}.yaml").read_text()))
    validate(config, schema=str(SCHEMA_PATH), set_default=True)
    check_consistency(config)
    return config


@pytest.mark.parametrize("layers", LAYERS, ids=["+".join(x) for x in LAYERS])
def test_every_jobs_method_is_the_registrys_own(layers):
    config = workflow_config(layers)
    registry = MethodRegistry.from_config(config)  # what common.smk builds
    # what a job receives: the config pickled to the job, and the rule's params (training.smk, evaluation.smk)
    job_config = pickle.loads(pickle.dumps(config))
    for name in registry.evaluated:
        train_job = SimpleNamespace(
            config=job_config,
            params=Params(
                method=name, method_fingerprint=pickle.loads(pickle.dumps(registry[name].fingerprint))
            ),
        )
        resolved = job_method(train_job)
        for field in dataclasses.fields(resolved):
            assert getattr(resolved, field.name) == getattr(registry[name], field.name), (name, field.name)
        assert resolved.stages == registry[name].stages
        assert resolved.writes_attention == registry[name].writes_attention
        evaluation_job = SimpleNamespace(config={}, params=Params(registry=registry_config(config)))
        assert job_registry(evaluation_job)[name] == registry[name]


def test_a_group_threshold_variant_keeps_its_base_inside_the_job():
    """The disagreement issue 30 found: the job's copy of neurolip_fairthr_dp had base None and wrote
    attention; the registry's has base neurolip and does not."""
    config = workflow_config(["simulated"])
    config["evaluation"]["fair_thresholds"]["methods"] = ["neurolip"]
    registry = MethodRegistry.from_config(config)
    job = SimpleNamespace(
        config=config,
        params=Params(
            method="neurolip_fairthr_dp", method_fingerprint=registry["neurolip_fairthr_dp"].fingerprint
        ),
    )
    variant = job_method(job)
    assert variant.base == "neurolip" and not variant.writes_attention
    assert [s.kind for s in variant.stages][-1] == "group_thresholds"


def test_a_job_whose_config_resolves_another_method_stops():
    config = workflow_config(["simulated"])
    scheduled = MethodRegistry.from_config(config)["neurolip"].fingerprint
    changed = pickle.loads(pickle.dumps(config))
    changed["methods"]["neurolip"]["calt_weight"] = 2.5
    job = SimpleNamespace(config=changed, params=Params(method="neurolip", method_fingerprint=scheduled))
    with pytest.raises(ValueError, match="the workflow scheduled"):
        job_method(job)
