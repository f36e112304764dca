"""Conda environments of envs/: every package pinned exactly, to the version the tests run with.

Conda channels are unreachable on the test machines, so the environments are not built here; this checks
their structure and that each pin equals the version installed in the environment running the tests."""

import sys
from importlib.metadata import PackageNotFoundError, version

import pytest
import yaml
from conftest import REPO

ENV_FILES = sorted((REPO / "envs").glob("*.yaml"))


def pins(path):
    spec = yaml.safe_load(path.read_text())
    conda, pip = {}, {}
    for entry in spec["dependencies"]:
        if isinstance(entry, dict):
            for requirement in entry.get("pip", []):
                name, _, pinned = requirement.partition("==")
                pip[name.strip()] = pinned.strip()
        else:
            name, _, pinned = entry.partition("=")
            conda[name.strip()] = pinned.strip()
    return spec, conda, pip


def test_every_step_has_an_environment():
    assert {p.stem for p in ENV_FILES} == {"data", "training", "evaluation"}
    rules = "\n".join(p.read_text() for p in (REPO / "workflow" / "rules").glob("*.smk"))
    for env in ENV_FILES:
        assert f"envs/{env.name}" in rules, f"{env.name} is used by no rule"


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda p: p.name)
def test_pins_are_exact_and_match_the_tested_versions(path):
    spec, conda, pip = pins(path)
    assert "conda-forge" in spec["channels"] and "nodefaults" in spec["channels"]
    assert conda.get("python") == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert pip, f"{path.name} pins no packages"
    mismatches = []
    for name, pinned in pip.items():
        assert pinned, f"{path.name}: {name} is not pinned to an exact version"
        try:
            installed = version(name).split("+")[
                0
            ]  # torch's "+cpu" local tag names the build, not the version
        except PackageNotFoundError:
            mismatches.append(f"{name}: pinned {pinned}, not installed in the test environment")
            continue
        if installed != pinned:
            mismatches.append(f"{name}: pinned {pinned}, tests run with {installed}")
    assert not mismatches, f"{path.name}: " + "; ".join(mismatches)
