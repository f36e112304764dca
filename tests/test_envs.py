"""Conda environments of envs/: every package pinned exactly, to the version the tests run with.

Each ``envs/<name>.yaml`` holds its full locked set in its pip section (written by ``python envs/lock.py``
from the direct requirements in ``envs/<name>.in``). Conda channels are unreachable on the test machines, so
the environments are not built with conda here: the fast tests check that the ``.in`` pins, the yaml,
``constraints.txt`` and the environment running the tests agree, and that each locked set is complete; the
slow test builds each locked set into a fresh virtual environment and runs its workflow steps there."""

import os
import sys
from importlib.metadata import PackageNotFoundError, distribution, version

import pandas as pd
import pytest
import yaml
from conftest import REPO
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ENV_FILES = sorted((REPO / "envs").glob("*.yaml"))


def requirement_pins(lines):
    """{canonical name: version} of ``name==version`` lines (comments and blank lines skipped)."""
    pinned = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            name, separator, exact = line.partition("==")
            assert separator and exact.strip(), f"{line!r} is not pinned to an exact version"
            pinned[canonicalize_name(name)] = exact.strip()
    return pinned


def pins(path):
    """The environment file's spec, its conda packages and its pip section (the locked set)."""
    spec = yaml.safe_load(path.read_text())
    conda, pip = {}, {}
    for entry in spec["dependencies"]:
        if isinstance(entry, dict):
            pip.update(requirement_pins(entry.get("pip", [])))
        else:
            name, _, pinned = entry.partition("=")
            conda[name.strip()] = pinned.strip()
    return spec, conda, pip


def direct_pins(path):
    return requirement_pins(path.with_suffix(".in").read_text().splitlines())


CONSTRAINTS = requirement_pins((REPO / "constraints.txt").read_text().splitlines())


def test_every_step_has_an_environment():
    assert {p.stem for p in ENV_FILES} == {"data", "training", "evaluation", "fmriprep"}
    rules = "\n".join(p.read_text() for p in (REPO / "workflow" / "rules").glob("*.smk"))
    for env in ENV_FILES:
        assert f"envs/{env.name}" in rules, f"{env.name} is used by no rule"
        assert env.with_suffix(".in").is_file(), f"{env.name} has no direct requirements (envs/{env.stem}.in)"


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda p: p.name)
def test_pins_are_exact_and_match_the_tested_versions(path):
    spec, conda, pip = pins(path)
    assert "conda-forge" in spec["channels"] and "nodefaults" in spec["channels"]
    assert conda.get("python") == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert pip, f"{path.name} pins no packages"
    mismatches = []
    for name, pinned in pip.items():
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


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda p: p.name)
def test_direct_requirements_lock_and_constraints_cannot_drift(path):
    """Every direct pin (envs/<name>.in) is in the yaml's locked set at the same version, and every locked
    package is in constraints.txt (what `make install` uses) at the same version: so the environments agree
    with each other and with the development install on every shared package."""
    _, _, locked = pins(path)
    direct = direct_pins(path)
    assert direct, f"envs/{path.stem}.in lists no requirement"
    drift = [f"{n}: .in {v}, yaml {locked.get(n)}" for n, v in direct.items() if locked.get(n) != v]
    drift += [
        f"{n}: yaml {v}, constraints.txt {CONSTRAINTS.get(n)}"
        for n, v in locked.items()
        if CONSTRAINTS.get(n) != v
    ]
    assert not drift, f"{path.name} (rerun python envs/lock.py): " + "; ".join(drift)


@pytest.mark.parametrize("path", ENV_FILES, ids=lambda p: p.name)
def test_each_locked_set_is_complete(path):
    """Each locked package's own requirements (as its installed metadata states them, extras aside) are in
    the same locked set at a version they accept: ``pip check`` of the lock without building it."""
    _, _, locked = pins(path)
    unmet = []
    for name in locked:
        for text in distribution(name).requires or []:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            have = locked.get(canonicalize_name(requirement.name))
            if have is None or not requirement.specifier.contains(have, prereleases=True):
                unmet.append(f"{name} requires {requirement}, locked {have}")
    assert not unmet, f"{path.name}: " + "; ".join(unmet)


def test_dry_run_with_sdm_conda_resolves_every_environment(tmp_path):
    """README's conda dry run (`snakemake -n --sdm conda`) with `conda` on PATH: here a stand-in
    (tests/envs/conda) that answers Snakemake's checks of the installation and refuses anything else, so the
    dry run must find each rule's environment file and create nothing."""
    from conftest import run_snakemake

    calls = tmp_path / "conda_calls.log"
    process = run_snakemake(
        ["-n", "--sdm", "conda", "--cores", "8", "--nolock", "--config", f"results_dir={tmp_path}"],
        env={"PATH": f"{REPO / 'tests' / 'envs'}:{os.environ['PATH']}", "STAND_IN_CONDA_LOG": str(calls)},
    )
    for name in ("data", "training", "evaluation"):
        assert f"Conda environment envs/{name}.yaml will be created." in process.stdout + process.stderr
    assert "rule train" in process.stdout and "rule bids_derivatives" in process.stdout
    asked = calls.read_text().splitlines()
    assert "--version" in asked and not any(
        c.split()[0] in ("create", "env", "run", "activate") for c in asked
    )


# ---------------------------------------------------------------------------------------------------------
# Each environment's locked set built into a fresh virtual environment, and the steps that use it run there.

import hashlib  # noqa: E402
import json  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
from pathlib import Path  # noqa: E402

from cohort import tiny_dataset_config  # noqa: E402

from neurolip.config import section_defaults  # noqa: E402
from neurolip.methods import MethodRegistry  # noqa: E402

# built environments are kept here between local runs, keyed by their locked set's digest (CI builds from nothing)
ENV_CACHE = REPO / ".envs-cache"


def built_env(name):
    """A virtual environment holding exactly the locked set of envs/<name>.yaml (its pip section), with no
    system or project site-packages."""
    locked = "\n".join(f"{n}=={v}" for n, v in sorted(pins(REPO / "envs" / f"{name}.yaml")[2].items())) + "\n"
    digest = hashlib.sha256(locked.encode()).hexdigest()[:12]
    venv = ENV_CACHE / f"{name}-{digest}"
    python = venv / "bin" / "python"
    if not (venv / ".complete").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        (venv / "locked.txt").write_text(locked)
        pip = [str(python), "-m", "pip", "--disable-pip-version-check", "--quiet"]
        subprocess.run([*pip, "install", "--no-deps", "-r", str(venv / "locked.txt")], check=True)
        (venv / ".complete").touch()
    check = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True, text=True)
    assert check.returncode == 0, f"envs/{name}.yaml's locked set is incomplete: {check.stdout}{check.stderr}"
    return python


def run_step(python, tmp_path, script, **job):
    spec = {"script": str(REPO / "workflow" / "scripts" / f"{script}.py"), **job}
    spec.setdefault("log", [str(tmp_path / "logs" / f"{script}.log")])
    path = tmp_path / f"{script}-{len(list(tmp_path.glob('*.json')))}.json"
    path.write_text(json.dumps(spec))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PYTHONNOUSERSITE="1", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    process = subprocess.run(
        [str(python), str(REPO / "tests" / "envs" / "run_step.py"), str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    log = Path(spec["log"][0]).read_text() if Path(spec["log"][0]).exists() else ""
    assert process.returncode == 0, (
        f"{script} failed in its environment:\n{process.stderr[-3000:]}\n{log[-3000:]}"
    )
    return log


@pytest.mark.slow
def test_each_environment_runs_its_steps(tmp_path):
    """data -> training -> evaluation, each step in its own environment built from its locked set only."""
    data = tmp_path / "results" / "data"
    dataset = tiny_dataset_config()
    cv = {"n_folds": 3, "val_fraction": 0.2, "seed": 0}
    # data environment: the whole data stage
    python = built_env("data")
    run_step(
        python,
        tmp_path,
        "fetch",
        params={"dataset": dataset},
        output={
            "manifest": str(data / "manifest.tsv"),
            "phenotypes": str(data / "phenotypes_raw.tsv"),
            "exclusions": str(data / "exclusions_fetch.tsv"),
            "coordinates": str(data / "roi_coordinates.csv"),
            "ground_truth": str(data / "ground_truth.json"),
            "raw": str(tmp_path / "results" / "raw"),
        },
    )
    run_step(
        python,
        tmp_path,
        "timeseries",
        params={"dataset": dataset},
        input={"manifest": str(data / "manifest.tsv")},
        output={
            "timeseries": str(data / "timeseries.npz"),
            "exclusions": str(data / "exclusions_timeseries.tsv"),
        },
    )
    run_step(
        python,
        tmp_path,
        "phenotypes",
        params={"dataset": dataset},
        input={"raw": str(data / "phenotypes_raw.tsv")},
        output={
            "phenotypes": str(data / "phenotypes.tsv"),
            "exclusions": str(data / "exclusions_phenotypes.tsv"),
            "qc": str(data / "phenotype_qc.tsv"),
        },
    )
    exclusions = [str(data / f"exclusions_{s}.tsv") for s in ("fetch", "timeseries", "phenotypes")]
    run_step(
        python,
        tmp_path,
        "connectivity",
        # the rule's params: the connectivity section without harmonisation (a per-fold stage)
        params={
            "connectivity": {
                k: v
                for k, v in section_defaults("connectivity").items()
                if k not in ("harmonize", "combat_covariates")
            }
        },
        input={
            "timeseries": str(data / "timeseries.npz"),
            "phenotypes": str(data / "phenotypes.tsv"),
            "exclusions": exclusions,
        },
        output={
            "connectomes": str(data / "connectomes.npz"),
            "qc": str(data / "connectivity_qc.tsv"),
            "cohort": str(data / "cohort.tsv"),
            "exclusions": str(data / "exclusions.tsv"),
        },
    )
    run_step(
        python,
        tmp_path,
        "texts",
        params={"text": dataset["text"]},
        input={"cohort": str(data / "cohort.tsv")},
        output={"texts": str(data / "texts.jsonl"), "prompts": str(data / "class_prompts.json")},
    )
    run_step(
        python,
        tmp_path,
        "folds",
        params={
            "cv": cv,
            "group_thresholds_attribute": "sex",
            "sensitive_attributes": ["sex"],
            "trained_attributes": [],
        },
        input={"cohort": str(data / "cohort.tsv")},
        output={"folds": str(data / "folds.tsv")},
    )

    # training environment: text features and one fold of the linear baseline and of NeuroLIP
    python = built_env("training")
    text_encoder = section_defaults("text_encoder")
    run_step(
        python,
        tmp_path,
        "text_features",
        params={"encoder": text_encoder},
        input={"texts": str(data / "texts.jsonl"), "prompts": str(data / "class_prompts.json")},
        output={"features": str(data / "text_features.safetensors")},
    )
    shipped = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    training = {
        k: v
        for k, v in section_defaults("training", {"max_epochs": 2, "min_epochs": 1}).items()
        if k not in ("methods", "gpu")
    }
    model = section_defaults("model", {"d_model": 16, "n_heads": 2, "embed_dim": 16, "n_clusters": 4})
    trained = ["linear_fc", "neurolip", "neurolip_sexblind"]
    # a method defined here: NeuroLIP with read-out erasure, so the training env's concept-erasure is used
    specs = {
        **shipped["methods"],
        "neurolip_sexblind": {
            **shipped["methods"]["neurolip"],
            "erase_attribute": "sex",
            "reference": False,
            "paper": {},
        },
    }
    # the jobs resolve their methods from the run's config, as the workflow does (neurolip.methods.job_method)
    registry_config = {
        "methods": {m: specs[m] for m in trained},
        "training": {"methods": trained},
        "evaluation": {"fair_thresholds": {"methods": ["neurolip"], "attribute": "sex"}},
    }
    registry = MethodRegistry.from_config(registry_config)
    for method in trained:
        for fold in range(3):
            out = tmp_path / "results"
            work = out / "training" / method / f"fold{fold}"
            output = {
                "predictions": str(out / "predictions" / method / f"fold{fold}.csv"),
                "selection": str(work / "selection.json"),
                "validation": str(work / "validation_predictions.csv"),
                "seed_scores": str(work / "seed_scores.csv"),
                "leakage": str(work / "leakage.csv"),
            }
            if specs[method].get("calt"):
                output["attention"] = str(out / "attention" / method / f"fold{fold}.npz")
            run_step(
                python,
                tmp_path,
                "train",
                threads=1,
                config=registry_config,
                output=output,
                input={
                    "connectomes": str(data / "connectomes.npz"),
                    "cohort": str(data / "cohort.tsv"),
                    "folds": str(data / "folds.tsv"),
                    "text_features": str(data / "text_features.safetensors"),
                },
                params={
                    "method": method,
                    "fold": fold,
                    "method_fingerprint": registry[method].fingerprint,
                    "training": training,
                    "model": model,
                    "text_encoder": text_encoder,
                    "sensitive": dataset["sensitive_attributes"],
                    "work_dir": str(out / "training" / method / f"fold{fold}"),
                },
            )

    # group thresholds: a read-out-only method of neurolip (the train step, reading neurolip's models)
    variant = registry["neurolip_fairthr_dp"]
    for fold in range(3):
        out = tmp_path / "results"
        work = out / "training" / variant.name / f"fold{fold}"
        run_step(
            python,
            tmp_path,
            "train",
            threads=1,
            config=registry_config,
            output={
                "predictions": str(out / "predictions" / variant.name / f"fold{fold}.csv"),
                "selection": str(work / "selection.json"),
                "validation": str(work / "validation_predictions.csv"),
                "seed_scores": str(work / "seed_scores.csv"),
                "leakage": str(work / "leakage.csv"),
            },
            input={
                "connectomes": str(data / "connectomes.npz"),
                "cohort": str(data / "cohort.tsv"),
                "folds": str(data / "folds.tsv"),
                "text_features": str(data / "text_features.safetensors"),
            },
            params={
                "method": variant.name,
                "fold": fold,
                "method_fingerprint": variant.fingerprint,
                "training": training,
                "model": model,
                "text_encoder": text_encoder,
                "sensitive": dataset["sensitive_attributes"],
                "work_dir": str(work),
                "models_from": str(out / "training" / "neurolip" / f"fold{fold}"),
            },
        )

    # evaluation environment: metrics, tables, figures, brain maps, recovery
    python = built_env("evaluation")
    out = tmp_path / "results"
    registry = registry_config
    evaluated = [*trained, variant.name]
    keys = [[m, f] for m in evaluated for f in range(3)]
    metrics = out / "metrics"
    run_step(
        python,
        tmp_path,
        "evaluate",
        input={
            "predictions": [str(out / "predictions" / m / f"fold{f}.csv") for m, f in keys],
            "leakage": [str(out / "training" / m / f"fold{f}" / "leakage.csv") for m, f in keys],
            "cohort": str(data / "cohort.tsv"),
            "folds": str(data / "folds.tsv"),
        },
        output={
            "per_fold": str(metrics / "per_fold.csv"),
            "summary": str(metrics / "summary.csv"),
            "paired": str(metrics / "paired_comparison.csv"),
            "pooled": str(metrics / "pooled.csv"),
            "paired_pooled": str(metrics / "paired_pooled.csv"),
            "probe_pairs": str(metrics / "probe_pairs.csv"),
        },
        params={
            "method_folds": keys,
            "leakage_keys": keys,
            "attributes": dataset["sensitive_attributes"],
            "continuous": ["age", "srs"],
            "reference": "neurolip",
            "gap_pairs": [["neurolip", "linear_fc"]],
            "postprocessed": {variant.name: variant.base},
            "unerased": {},
        },
    )
    run_step(
        python,
        tmp_path,
        "probe_pairs_figure",
        input={"pairs": str(metrics / "probe_pairs.csv")},
        output={
            "png": str(out / "figures" / "probe_pairs.png"),
            "pdf": str(out / "figures" / "probe_pairs.pdf"),
        },
        params={"labels": {}, "attribute": "sex"},
    )
    tables = out / "tables"
    run_step(
        python,
        tmp_path,
        "tables",
        input={
            "summary": str(metrics / "summary.csv"),
            "pooled": str(metrics / "pooled.csv"),
            "cohort": str(data / "cohort.tsv"),
            "threshold_predictions": [
                str(out / "predictions" / variant.name / f"fold{f}.csv") for f in range(3)
            ],
        },
        output={
            f"{t}{suffix}": str(tables / f"{t}.{ext}")
            for t in ("table1", "table2")
            for suffix, ext in (("", "csv"), ("_md", "md"), ("_tex", "tex"))
        }
        | {"table1_paper": str(tables / "table1_paper.csv")},
        params={
            "dataset": "simulated",
            "paper": "",
            "attributes": ["sex", "srs"],
            "continuous": ["age", "srs"],
            "registry": registry,
            "threshold_folds": [[variant.name, f] for f in range(3)],
        },
    )
    figures = out / "figures"
    trained_keys = [[m, f] for m in trained for f in range(3)]
    run_step(
        python,
        tmp_path,
        "figures",
        input={
            "predictions": [str(out / "predictions" / m / f"fold{f}.csv") for m, f in trained_keys],
            "per_fold": str(metrics / "per_fold.csv"),
        },
        output={
            name: str(figures / f"{name}.png")
            for name in ("roc", "tradeoff", "groups", "fold_auc", "calibration")
        },
        params={
            "method_folds": trained_keys,
            "attribute": "sex",
            "attributes": ["sex", "site"],
            "registry": registry,
        },
    )
    attention = [str(out / "attention" / "neurolip" / f"fold{f}.npz") for f in range(3)]
    brain = figures / "brain"
    run_step(
        python,
        tmp_path,
        "brain_maps",
        input={"attention": attention, "coordinates": str(data / "roi_coordinates.csv")},
        output={
            "control": str(brain / "c.png"),
            "patient": str(brain / "p.png"),
            "html": str(brain / "p.html"),
            "top": str(metrics / "top.csv"),
            "stability": str(metrics / "stab.csv"),
            "stability_figure": str(figures / "stab.png"),
        },
        params={
            "top_k": 5,
            "method": "neurolip",
            "folds": [0, 1, 2],
            "registry": registry,
            "models_from": "",
            "simulated": True,
        },
    )
    seed_scores = {
        m: [str(out / "training" / m / f"fold{f}" / "seed_scores.csv") for f in range(3)] for m in trained
    }
    run_step(
        python,
        tmp_path,
        "attention_recovery",
        input={
            "attention": attention,
            "seed_scores": seed_scores["neurolip"],
            "connectomes": str(data / "connectomes.npz"),
            "truth": str(data / "ground_truth.json"),
        },
        output={"table": str(metrics / "recovery.csv"), "figure": str(figures / "recovery.png")},
        params={"method": "neurolip", "folds": [0, 1, 2], "registry": registry, "models_from": ""},
    )
    for method in ("linear_fc", "neurolip"):
        run_step(
            python,
            tmp_path,
            "disease_maps",
            input={
                "seed_scores": seed_scores[method],
                "connectomes": str(data / "connectomes.npz"),
                "coordinates": str(data / "roi_coordinates.csv"),
                "attention": attention if method == "neurolip" else [],
                "null_scores": [],
                "null_attention": [],
                # linear_fc: within-site null refits on every fold at its observed C
                "selections": [
                    str(out / "training" / method / f"fold{f}" / "selection.json") for f in range(3)
                ]
                if method == "linear_fc"
                else [],
                "folds": str(data / "folds.tsv"),
                "cohort": str(data / "cohort.tsv"),
            },
            output={
                "agreement": str(metrics / f"agreement_{method}.csv"),
                "null_stability": str(metrics / f"null_stability_{method}.csv"),
                "regions": str(metrics / f"regions_{method}.csv"),
                "figure": str(brain / f"{method}_pattern.png"),
            },
            params={
                "method": method,
                "folds": [0, 1, 2],
                "top_k": 5,
                "null_fold": 0,
                "seed": 0,
                "alpha": 0.05,
                "linear_null": method == "linear_fc",
                "linear_permutations": 5,
                "tail_approximation": True,
                "null_methods": ["linear_fc"],
                "registry": registry,
                "simulated": True,
            },
        )
    run_step(
        python,
        tmp_path,
        "map_stability",
        input={
            "agreement": [str(metrics / f"agreement_{m}.csv") for m in ("linear_fc", "neurolip")],
            "null_stability": [str(metrics / f"null_stability_{m}.csv") for m in ("linear_fc", "neurolip")],
            "connectomes": str(data / "connectomes.npz"),
        },
        output={"table": str(metrics / "map_stability.csv"), "figure": str(figures / "map_stability.png")},
        params={"top_k": 5, "n_rois": dataset["n_rois"], "registry": registry, "models_from": {}},
    )
    run_step(
        python,
        tmp_path,
        "attention_overlap",
        input={"attention": attention},
        output={"table": str(metrics / "overlap.csv"), "figure": str(figures / "overlap.png")},
        params={
            "method_folds": [["neurolip", f] for f in range(3)],
            "top_k": 5,
            "registry": registry,
            "models_from": {},
        },
    )
    table1 = (tables / "table1.csv").read_text()
    assert "NeuroLIP" in table1 and "Logistic regression on FC" in table1 and "Probe AUC (sex)" in table1
    assert "Note — srs" in (tables / "table1.md").read_text()
    leakage = pd.read_csv(out / "training" / "neurolip_sexblind" / "fold0" / "leakage.csv")
    assert set(leakage.attribute) == {"sex", "diagnosis"} and leakage.probe_score.notna().all()
    for name in ("roc", "tradeoff", "groups", "fold_auc", "calibration"):
        assert (figures / f"{name}.png").stat().st_size > 5000, name
