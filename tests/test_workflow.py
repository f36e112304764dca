"""The Snakemake workflow itself: schema validation, dry runs of every shipped config, lint, and an
end-to-end run on a tiny simulated cohort that produces every table, figure and the report."""

import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml
from cohort import TINY_MODEL
from conftest import REPO, run_snakemake

SHIPPED = sorted(p.name for p in (REPO / "config").glob("*.yaml") if p.name != "config.yaml")


# a method that exists only in this test's config: it must train, be evaluated and reach the tables
EXTRA_METHOD = {
    "clip_global_half": {
        "global_loss": "clip",
        "global_weight": 0.5,
        "label": "CLIP, global weight 0.5",
        "tables": ["table1"],
    }
}


def tiny_config(tmp_path, **training):
    with open(REPO / "config" / "simulated.yaml") as handle:
        dataset = yaml.safe_load(handle)["dataset"]
    dataset["n_rois"] = 20
    dataset["simulated"].update(
        n_subjects=72,
        n_rois=20,
        n_disease_regions=4,
        n_sensitive_regions=4,
        disease_effect=0.5,
        sensitive_effect=0.5,
    )
    config = {
        "results_dir": str(tmp_path / "results"),
        "dataset": dataset,
        "cv": {"n_folds": 3, "val_fraction": 0.2, "seed": 0},
        "model": TINY_MODEL,
        # 4 threads per training job, as the SLURM profile gives them: the SLURM test compares both runs
        "training": {
            "max_epochs": 3,
            "min_epochs": 1,
            "patience": 2,
            "batch_size": 16,
            "threads": 4,
            **training,
        },
        "methods": EXTRA_METHOD,
        # three trained null models per mapped network method (the fewest the max-statistic test takes) and
        # 19 within-site null refits of linear_fc on every fold (p_FWER 0.05 reachable)
        # (the demo's config tests linear_fc's maps only; the tiny run tests neurolip's too)
        "evaluation": {
            "maps": {"permutations": 3, "linear_permutations": 19, "null_methods": ["linear_fc", "neurolip"]}
        },
    }
    if "methods" not in training:
        shipped = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
        config["training"]["methods"] = shipped["training"]["methods"] + list(EXTRA_METHOD)
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_schema_rejects_a_bad_config(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"cv": {"n_folds": 1}}))
    process = run_snakemake(["-n", "--configfile", str(bad)], check=False)
    assert process.returncode != 0
    assert "n_folds" in process.stdout + process.stderr and "minimum" in process.stdout + process.stderr


def test_schema_rejects_an_unknown_source(tmp_path):
    with open(REPO / "config" / "simulated.yaml") as handle:
        dataset = yaml.safe_load(handle)["dataset"]
    dataset["source"] = "openneuro"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"dataset": dataset}))
    process = run_snakemake(["-n", "--configfile", str(bad)], check=False)
    assert process.returncode != 0 and "openneuro" in process.stdout + process.stderr


def config_layers(name):
    """The config files a shipped config is used with, in order: a config that documents its usage as layered
    after another (``--configfile config/<base>.yaml config/<name>``) is dry-run after that base."""
    text = (REPO / "config" / name).read_text()
    base = re.search(r"--configfile config/(\S+\.yaml) config/" + re.escape(name), text)
    return ([f"config/{base.group(1)}"] if base else []) + [f"config/{name}"]


@pytest.mark.parametrize("name", SHIPPED)
def test_dry_run_of_every_shipped_config(name, tmp_path):
    process = run_snakemake(
        ["-n", "--configfile", *config_layers(name), "--config", f"results_dir={tmp_path}"]
    )
    assert "train" in process.stdout and "evaluate" in process.stdout


def test_network_null_models_are_trained_on_every_fold_one_per_job(tmp_path):
    """evaluation.maps.permutations = K null models per fold: K x n_folds train_null jobs per network method
    of null_methods (none for a method outside it), each its own fold<f>/perm<k> folder."""
    process = run_snakemake(
        ["-n", "--configfile", str(tiny_config(tmp_path)), "--config", f"results_dir={tmp_path}/results"]
    )
    jobs = re.findall(r"rule train_null\w*:", process.stdout)
    outputs = set(re.findall(r"/null/(\w+/fold\d+/perm\d+)/seed_scores\.csv", process.stdout))
    # tiny config: neurolip in null_methods, 3 folds, 3 permutations; linear_fc refits inside disease_maps
    assert len(jobs) == 9
    assert outputs == {f"neurolip/fold{f}/perm{k}" for f in range(3) for k in range(3)}


def test_a_method_key_its_recipe_ignores_stops_the_dry_run(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"methods": {"linear_fc": {"objective": "linear", "attn_beta": 0.001}}}))
    process = run_snakemake(
        ["-n", "--configfile", str(bad), "--config", f"results_dir={tmp_path}"], check=False
    )
    output = process.stdout + process.stderr
    assert process.returncode != 0 and "methods.linear_fc.attn_beta: does nothing" in output


def test_lint_reports_no_problem():
    process = run_snakemake(["--lint"], check=False)
    assert process.returncode == 0, process.stdout + process.stderr
    assert "Congratulations" in process.stdout + process.stderr


@pytest.mark.slow
def test_end_to_end_outputs(tiny_run):
    results, report = tiny_run
    shipped = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    # one group-threshold variant per listed method and constraint (default: demographic parity, "dp")
    postprocessed = {f"{m}_fairthr_dp": m for m in shipped["evaluation"]["fair_thresholds"]["methods"]}
    methods = shipped["training"]["methods"] + list(EXTRA_METHOD) + list(postprocessed)
    for method in methods:
        for fold in range(3):
            frame = pd.read_csv(results / "predictions" / method / f"fold{fold}.csv")
            assert {"subject_id", "fold", "y_true", "p_disease", "y_pred", "score", "sex"} <= set(
                frame.columns
            )
            if method in postprocessed:
                trained = pd.read_csv(results / "predictions" / postprocessed[method] / f"fold{fold}.csv")
                pd.testing.assert_series_equal(frame.p_disease, trained.p_disease)
                assert frame.decision.notna().all()
                # deterministic thresholds (the default): every decision probability is 0 or 1
                assert (frame.p_decision == frame.y_pred).all()
    exclusions = pd.read_csv(results / "data" / "exclusions.tsv", sep="\t")
    assert {"no file", "too few volumes", "no diagnosis"} <= set(exclusions.reason)
    summary = pd.read_csv(results / "metrics" / "summary.csv")
    auc = summary[(summary.metric == "auc") & summary.attribute.isna()]
    assert set(auc.method) == set(methods) and (auc.n_folds == 3).all()
    assert {"dpd", "deodds", "es_auc"} <= set(summary.metric)
    for name in ("table1", "table2"):
        for suffix in ("csv", "md", "tex"):
            assert (results / "tables" / f"{name}.{suffix}").stat().st_size > 100
    for figure in (
        "roc.png",
        "fairness_accuracy.png",
        "group_auc.png",
        "brain/neurolip_disease_attention_patient.png",
    ):
        assert (results / "figures" / figure).stat().st_size > 5000
    recovery = pd.read_csv(results / "metrics" / "attention_recovery.csv")
    assert recovery.auroc.between(0, 1).all() and len(recovery) >= 3
    # representation leakage: a sex probe per trained method, in the summary and the tables
    probe = summary[summary.metric == "probe_auc"]
    assert set(shipped["training"]["methods"]) <= set(probe.method) and probe["mean"].between(0, 1).all()
    table1 = pd.read_csv(results / "tables" / "table1.csv")
    assert {
        "Probe AUC (sex)",
        "Score leakage AUC (sex)",
        "Decision leakage AUC (sex)",
        "Pooled DEOdds (sex)",
    } <= set(table1.columns)
    # thresholded rows have no representation probe; every row has decision-level leakage
    assert not set(postprocessed) & set(probe.method)
    # each probed method's pair: what it gives away (sex, beside its exact test and MDE), what it keeps
    pairs = pd.read_csv(results / "metrics" / "probe_pairs.csv")
    assert set(pairs.method) == set(probe.method) and pairs.diagnosis_probe_auc.between(0, 1).all()
    assert pairs.attribute_p.between(0, 1).all() and pairs.attribute_mde.gt(0.5).all()
    assert (results / "figures" / "probe_pairs.png").stat().st_size > 20000
    for metric in ("score_leakage", "decision_leakage"):
        leakage = summary[(summary.metric == metric) & (summary.attribute == "sex")]
        assert set(methods) <= set(leakage.method)
    # every pooled gap beside its floor, and the paired gap differences of evaluation.gap_pairs
    pooled = pd.read_csv(results / "metrics" / "pooled.csv").set_index(["method", "metric", "attribute"])
    for gap in ("dpd", "deodds", "tpr_gap", "fpr_gap"):
        assert pooled.loc[("neurolip", gap, "sex"), "floor_p95"] > 0
    paired_pooled = pd.read_csv(results / "metrics" / "paired_pooled.csv")
    assert {("neurolip", "linear_fc"), ("neurolip_fairthr_dp", "linear_fc_fairthr_dp")} <= set(
        zip(paired_pooled.method, paired_pooled.baseline)
    )
    # brain maps: stability of every method's map beside random maps, the null, the L_attn overlap
    stability = pd.read_csv(results / "metrics" / "map_stability.csv")
    assert set(shipped["training"]["methods"]) <= set(stability.method) and "random" in set(stability.method)
    assert {"pattern", "attention"} <= set(stability.estimator)
    # beside every stability figure: whether its pairs share subjects, and the agreement of the method's null
    # models' maps (linear_fc: its refits on every fold, mapped on the same subjects, raw and standardised
    # against the null; neurolip: its trained null models), or a null_source that says why there is none
    assert {"shares_subjects", "null_agreement", "null_agreement_p95", "p_vs_null", "null_source"} <= set(
        stability.columns
    )
    assert stability.loc[stability.pair == "same fold, other seed", "shares_subjects"].all()
    assert stability.null_source.fillna("").str.len().gt(0).all()
    linear = stability[stability.method == "linear_fc"]
    assert linear.null_agreement.notna().all() and set(linear.split) == {"train", "val", "test"}
    assert linear.estimator.str.contains("standardised").any()
    assert linear.null_agreement.between(-1, 1).all() and (linear.n_null == 19).all()
    assert linear.p_vs_null.between(1 / 20, 1).all()
    # neurolip's 3 trained null models on every fold (null model k of each fold: cohort-wide permutation
    # k): its across-fold test rows get a null with p resolution 1/4; validation maps have none (the null
    # models' validation connectomes are permuted); each row says which
    network = stability[stability.method == "neurolip"]
    across = network[(network.split == "test") & (network.pair == "other fold")]
    assert len(across) and across.null_agreement.notna().all() and (across.n_null == 3).all()
    assert np.allclose(across.p_resolution, 1 / 4) and across.p_vs_null.between(1 / 4, 1).all()
    assert network[network.split == "val"].null_source.str.contains("test subjects only").all()
    unmapped = stability[~stability.method.isin(["linear_fc", "neurolip", "random"])]
    assert unmapped.null_agreement.isna().all()
    assert unmapped.null_source.str.startswith("no null: not tested").all()
    regions = pd.read_csv(results / "metrics" / "map_regions_neurolip.csv")
    assert (regions.n_null_models == 3).all() and regions.p_fwer.between(1 / 4, 1).all()
    assert set(regions.loc[regions.estimator == "pattern", "fold"]) == {0, 1, 2}
    assert set(regions.estimator) == {"pattern", "attention"} and np.isfinite(regions.z).all()
    # linear_fc: each region's z against its own null and a max-statistic p_FWER, on every fold
    linear_regions = pd.read_csv(results / "metrics" / "map_regions_linear_fc.csv")
    assert set(linear_regions.fold) == {0, 1, 2} and (linear_regions.n_null_models == 19).all()
    assert np.isfinite(linear_regions.z).all() and linear_regions.p_fwer.between(1 / 20, 1).all()
    assert (linear_regions.beats_null == (linear_regions.p_fwer <= 0.05)).all()
    # region names: the simulated cohort has CC200 centroids, named after the nearest AAL-116 region
    assert regions.region_name.str.len().gt(0).all()
    assert regions.region_name_source.str.startswith("nearest AAL-116 region").all()
    overlap = pd.read_csv(results / "metrics" / "attention_overlap.csv")
    assert {"diagnosis vs sex", "diagnosis vs srs"} <= set(overlap.fields)
    for figure in ("map_stability.png", "attention_overlap.png", "brain/linear_fc_disease_pattern.png"):
        assert (results / "figures" / figure).stat().st_size > 5000
        # a vector copy beside each PNG
        assert (results / "figures" / figure).with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    assert report.stat().st_size > 100_000
    # disk (keep_checkpoints: false): finished folds keep the best weights and final state only, and
    # neurolip_erase still read neurolip_textmask's models after their cleanup (its predictions exist above)
    checkpoints = list((results / "training").glob("*/fold*/**/checkpoint"))
    assert checkpoints and not list((results / "training").glob("**/last.safetensors"))
    assert all((c / "best.safetensors").is_file() and (c / "last.json").is_file() for c in checkpoints)
    # the BIDS derivative dataset reads back equal to the stacked connectomes
    from neurolip.bids_derivatives import read_bids_derivatives
    from neurolip.data_stage import load_connectomes

    derivatives = read_bids_derivatives(results / "data" / "bids")
    subject_ids, matrices = load_connectomes(results / "data" / "connectomes.npz")
    assert sorted(derivatives) == sorted(subject_ids)
    for sid, matrix in zip(subject_ids, matrices):
        assert np.array_equal(derivatives[sid]["relmat"].astype(matrix.dtype), matrix)


@pytest.mark.slow
def test_a_method_defined_only_in_config_is_trained_evaluated_and_tabled(tiny_run):
    results, _ = tiny_run
    name, entry = next(iter(EXTRA_METHOD.items()))
    selection = json.loads((results / "training" / name / "fold0" / "selection.json").read_text())
    assert selection["readout"] in ("zero_shot", "linear_probe", "ensemble")
    table1 = pd.read_csv(results / "tables" / "table1.csv", keep_default_na=False)
    row = table1[table1.Method == entry["label"]]
    assert len(row) == 1 and row.AUC.iloc[0].count("±") == 1
    table2 = pd.read_csv(results / "tables" / "table2.csv", keep_default_na=False)
    assert entry["label"] not in set(table2.Method)
    paired = pd.read_csv(results / "metrics" / "paired_comparison.csv")
    assert name in set(paired.baseline)


@pytest.mark.slow
def test_rerun_has_nothing_to_do(tiny_run):
    results, _ = tiny_run
    config = results.parents[1] / "tiny.yaml"
    process = run_snakemake(["-n", "--nolock", "--configfile", str(config)])
    assert "Nothing to be done" in process.stdout + process.stderr


def test_fair_thresholds_of_an_untrained_method_is_a_clear_error(tmp_path):
    config = tiny_config(tmp_path, methods=["clip"])
    process = run_snakemake(["-n", "--configfile", str(config)], check=False)
    assert process.returncode != 0
    assert "fair_thresholds.methods names ['linear_fc', 'neurolip']" in process.stdout + process.stderr


@pytest.mark.slow
def test_paired_comparison_against_any_method_of_a_finished_run(tiny_run):
    import subprocess
    import sys

    results, _ = tiny_run
    process = subprocess.run(
        [
            sys.executable,
            "benchmarks/paired.py",
            "--results",
            str(results),
            "--reference",
            "neurolip_erase",
            "--methods",
            "neurolip",
            "linear_fc",
            "--metrics",
            "auc:",
            "probe_auc:sex",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert process.returncode == 0, process.stderr[-2000:]
    rows = [line.split() for line in process.stdout.splitlines()[1:]]
    assert {(r[0], r[1]) for r in rows} == {
        (m, k) for m in ("neurolip", "linear_fc") for k in ("auc", "probe_auc")
    }


@pytest.mark.slow
def test_a_report_after_an_unfinished_run_shows_what_exists_and_lists_what_is_missing(tiny_run, tmp_path):
    """Issue 35: after a failed job `snakemake --report` exited 1; now it builds and says what is missing."""
    results, _ = tiny_run
    copy = tmp_path / "results" / "simulated"
    shutil.copytree(results, copy)
    for lost in ("figures/roc.png", "figures/learning_curves/neurolip.png"):
        (copy / lost).unlink()
    config = yaml.safe_load((results.parent.parent / "tiny.yaml").read_text())
    config["results_dir"] = str(tmp_path / "results")
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(config))
    report = tmp_path / "report.html"
    run_snakemake(["--nolock", "--configfile", str(path), "--report", str(report)])
    assert report.stat().st_size > 100_000
    note = (copy / "report_missing.md").read_text()
    assert "2 outputs are missing" in note
    assert str(copy / "figures" / "roc.png") in note and "learning_curves/neurolip.png" in note
