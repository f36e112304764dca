"""Per-site results (issue 33): site AUCs equal sklearn's, a one-class site is missing with a reason (no crash),
ES-AUC over sites is the paper's ES-AUC with site as the attribute, the heterogeneity test holds its level and
finds a planted spread, and the per-site table, forest plot and glance cells come out of a simulated cohort's
predictions under stratified and leave-site-out folds."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from cohort import REPO, tiny_dataset_config
from sklearn.metrics import roc_auc_score

from neurolip import data_stage
from neurolip.evaluation.figures import per_site_forest_figure
from neurolip.evaluation.glance import glance_markdown, glance_table
from neurolip.evaluation.per_fold import fairness_metrics
from neurolip.evaluation.per_site import (
    ALL_SITES,
    hanley_mcneil_variance,
    null_site_codes,
    per_site_metrics,
    pooled_predictions,
    site_aucs,
    site_heterogeneity,
)
from neurolip.phenotypes import read_phenotypes
from neurolip.stats import auc_standard_error

sys.path.insert(0, str(REPO / "benchmarks"))
import per_site as benchmark  # noqa: E402


def _frame(rng, n=300, n_sites=6, effect=1.0):
    site = rng.integers(0, n_sites, n)
    y = rng.integers(0, 2, n)
    return pd.DataFrame(
        {
            "subject_id": [f"s{i}" for i in range(n)],
            "y_true": y,
            # rounded: ties inside sites, counted one half
            "p_disease": np.round(1 / (1 + np.exp(-(effect * y + rng.normal(0, 1, n)))), 2),
            "site": [f"S{k}" for k in site],
            "fold": rng.integers(0, 5, n),
        }
    )


def test_site_aucs_are_sklearns_with_ties_and_nan_for_a_one_class_site(rng):
    frame = _frame(rng)
    y, s = frame["y_true"].to_numpy().copy(), frame["p_disease"].to_numpy()
    codes = frame["site"].str[1:].astype(int).to_numpy()
    y[codes == 2] = 0
    aucs = site_aucs(s, y, np.stack([codes, rng.permutation(codes)]), 6)
    for k in range(6):
        expected = np.nan if k == 2 else roc_auc_score(y[codes == k], s[codes == k])
        np.testing.assert_allclose(aucs[0, k], expected)
    assert np.isfinite(aucs[1]).all()  # the permuted labeling: every pseudo-site holds both classes
    for auc, n1, n0 in ((0.7, 12, 30), (0.95, 3, 40)):
        assert hanley_mcneil_variance(auc, n1, n0) == pytest.approx(auc_standard_error(auc, n1, n0) ** 2)


def test_a_one_class_site_is_missing_with_a_reason_and_es_auc_is_the_papers_with_site_as_attribute(rng):
    frame = _frame(rng)
    frame.loc[frame["site"] == "S3", "y_true"] = 1
    table = per_site_metrics({"m": frame}, n_boot=200, n_perm=100)
    sites = table[table["site"] != ALL_SITES].set_index("site")
    assert np.isnan(sites.at["S3", "auc"]) and "one class" in sites.at["S3", "reason"]
    assert sites.at["S3", "n_control"] == 0 and sites.at["S3", "n"] == (frame["site"] == "S3").sum()
    defined = sites.drop(index="S3")
    assert (defined["ci_low"] <= defined["auc"]).all() and (defined["auc"] <= defined["ci_high"]).all()
    summary = table[table["site"] == ALL_SITES].iloc[0]
    assert summary["n_sites"] == 6 and summary["n_sites_with_auc"] == 5
    assert summary["auc"] == pytest.approx(roc_auc_score(frame["y_true"], frame["p_disease"]))
    assert summary["worst_site"] == defined["auc"].idxmin()
    assert summary["worst_site_auc"] == pytest.approx(defined["auc"].min())
    assert summary["auc_sd"] == pytest.approx(defined["auc"].std(ddof=1))
    # the per-fold ES-AUC of sex, read with site as the attribute: the same number
    metrics = dict(
        fairness_metrics(
            "site",
            frame["y_true"].to_numpy(),
            frame["p_disease"].to_numpy(),
            (frame["p_disease"] > 0.5).to_numpy().astype(float),
            frame["site"],
        )
    )
    assert summary["es_auc_site"] == pytest.approx(metrics["es_auc"])
    assert 0 < summary["p_q"] <= 1 and 0 < summary["p_sd"] <= 1


def test_a_single_site_has_no_spread_and_says_so(rng):
    frame = _frame(rng, n_sites=1)
    summary = per_site_metrics({"m": frame}, n_boot=50, n_perm=50).iloc[-1]
    assert summary["n_sites_with_auc"] == 1 and "no spread" in summary["reason"] and np.isnan(summary["p_q"])


def test_heterogeneity_holds_its_level_and_finds_a_planted_spread():
    rng = np.random.default_rng(7)
    null = benchmark.rejections(rng, lambda r: np.full(20, benchmark.BASE_AUC), 60, 100, "stratified")
    lso = benchmark.rejections(rng, lambda r: np.full(20, benchmark.BASE_AUC), 60, 100, "leave_site_out")
    assert null.max() <= 0.15 and lso.max() <= 0.15  # 5 % nominal; 60 cohorts: 15 % is > 3 binomial SE
    pattern = benchmark.spread_pattern()
    planted = benchmark.rejections(
        rng, lambda r: benchmark.BASE_AUC + 0.15 * r.permutation(pattern), 20, 100, "stratified"
    )
    assert planted[0] >= 0.8  # Q finds a between-site SD of 0.15 (the MDE at ABIDE's sizes is ~0.1)


def test_the_null_keeps_each_sites_patients_and_controls(rng):
    frame = _frame(rng, n=400)
    y, s = frame["y_true"].to_numpy().copy(), frame["p_disease"].to_numpy()
    codes = frame["site"].str[1:].astype(int).to_numpy()
    # a site of patients only: under a permutation ignoring diagnosis it would get controls and an AUC
    y[codes == 0] = 1
    null = null_site_codes(codes, y, 50, seed=3)
    for c in (0, 1):
        expected = np.bincount(codes[y == c], minlength=6)
        assert all((np.bincount(row[y == c], minlength=6) == expected).all() for row in null)
    assert (null != codes).any(axis=1).all()  # and it does permute
    het = site_heterogeneity(s, y, codes, 6, n_perm=200)
    assert het["n_sites_with_auc"] == 5 and np.isfinite(het["p_q"])


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """A simulated cohort through the data stage (4 sites), with its stratified folds."""
    d = tmp_path_factory.mktemp("per_site")
    dataset = tiny_dataset_config(n_subjects=160)
    data_stage.fetch(
        dataset,
        d / "raw",
        d / "manifest.tsv",
        d / "raw.tsv",
        d / "ex_fetch.tsv",
        ground_truth_path=d / "gt.json",
    )
    data_stage.prepare_phenotypes(dataset, d / "raw.tsv", d / "cohort.tsv", d / "ex_ph.tsv")
    data_stage.write_folds({"n_folds": 3, "val_fraction": 0.2, "seed": 0}, d / "cohort.tsv", d / "folds.tsv")
    return (
        d,
        read_phenotypes(d / "cohort.tsv"),
        pd.read_csv(d / "folds.tsv", sep="\t", dtype={"subject_id": str}),
    )


def _write_predictions(directory, cohort, test_of, methods=("a", "b"), seed=0):
    """A stand-in learner's test predictions of every fold (``test_of``: {fold: test subject ids}); method
    ``b`` is blind at the cohort's first site (its scores there are noise)."""
    rng = np.random.default_rng(seed)
    by_id = cohort.set_index("subject_id")
    first_site = sorted(cohort["site"].astype(str))[0]
    files = {}
    for method in methods:
        for fold, ids in test_of.items():
            y = by_id.loc[ids, "diagnosis"].astype(int).to_numpy()
            blind = (by_id.loc[ids, "site"].astype(str) == first_site).to_numpy() & (method == "b")
            z = np.where(blind, 0, 1.5 * y) + rng.normal(0, 1, len(ids))
            p = 1 / (1 + np.exp(-z))
            path = directory / f"{method}_fold{fold}.csv"
            pd.DataFrame(
                {
                    "subject_id": ids,
                    "fold": fold,
                    "y_true": y,
                    "p_disease": p,
                    "y_pred": (p > 0.5).astype(int),
                }
            ).to_csv(path, index=False)
            files[(method, fold)] = path
    return files


@pytest.mark.parametrize("scheme", ["stratified", "leave_site_out"])
def test_per_site_table_figure_and_glance_from_a_simulated_cohort(simulated, tmp_path, scheme):
    d, cohort, folds = simulated
    sites = sorted(cohort["site"].astype(str).unique())
    if scheme == "stratified":
        test_of = {
            f: rows.loc[rows["split"] == "test", "subject_id"].tolist() for f, rows in folds.groupby("fold")
        }
    else:  # each site one test fold
        test_of = {f: cohort.loc[cohort["site"] == s, "subject_id"].tolist() for f, s in enumerate(sites)}
        folds = pd.DataFrame(
            [{"subject_id": i, "fold": f, "split": "test"} for f, ids in test_of.items() for i in ids]
        )
    files = _write_predictions(tmp_path, cohort, test_of)
    table = per_site_metrics(pooled_predictions(files, cohort, folds), n_boot=200, n_perm=200)
    rows = table[table["site"] != ALL_SITES]
    assert sorted(rows["site"].unique()) == sites and len(rows) == 2 * len(sites)
    assert rows.groupby("method")["n"].sum().eq(len(cohort)).all()
    expected_folds = 1 if scheme == "leave_site_out" else folds["fold"].nunique()
    assert (rows["n_folds"] == expected_folds).all()
    site_auc = rows.set_index(["method", "site"])["auc"]
    assert site_auc[("b", sites[0])] < site_auc[("a", sites[0])]  # the planted blind site
    summary = table[table["site"] == ALL_SITES].set_index("method")
    assert summary.at["b", "worst_site"] == sites[0]
    # the forest plot: PNG and PDF; the glance cells name the worst site beside its null
    per_site_forest_figure(table, tmp_path / "per_site_auc.png")
    assert (tmp_path / "per_site_auc.png").stat().st_size > 0 and (tmp_path / "per_site_auc.pdf").exists()
    pooled = pd.DataFrame(
        [
            {"method": m, "metric": "auc", "attribute": "", "value": 0.7, "ci_low": 0.6, "ci_high": 0.8}
            for m in "ab"
        ]
    )
    glance = glance_table(pooled, ["a", "b"], {}, "sex", table).set_index("Method")
    assert glance.loc["b", "Worst site AUC"].startswith(
        f"{summary.at['b', 'worst_site_auc']:.3f} ({sites[0]}; null p05"
    )
    assert "ES-AUC (site)" in glance_markdown(glance.reset_index(), "demo", "sex")


def test_a_prediction_of_a_subject_the_cohort_lacks_is_an_error_naming_it(simulated, tmp_path):
    _, cohort, folds = simulated
    path = tmp_path / "p.csv"
    pd.DataFrame({"subject_id": ["nobody"], "fold": [0], "y_true": [1], "p_disease": [0.5]}).to_csv(
        path, index=False
    )
    with pytest.raises(ValueError, match=r"p\.csv.*nobody"):
        pooled_predictions({("a", 0): path}, cohort, folds)


def test_a_missing_score_is_an_error_naming_the_method_and_subject(rng):
    frame = _frame(rng)
    frame.loc[3, "p_disease"] = np.nan
    with pytest.raises(ValueError, match=r"'m'.*s3"):
        per_site_metrics({"m": frame}, n_boot=10, n_perm=10)


def test_repeated_cv_averages_each_sites_auc_over_repeats(rng):
    a, b = _frame(rng).assign(repeat=0), _frame(rng).assign(repeat=1)
    both = per_site_metrics({"m": pd.concat([a, b])}, n_boot=50, n_perm=50).set_index("site")
    one = {r: per_site_metrics({"m": f}, n_boot=50, n_perm=50).set_index("site") for r, f in ((0, a), (1, b))}
    assert both.at["S1", "auc"] == pytest.approx((one[0].at["S1", "auc"] + one[1].at["S1", "auc"]) / 2)
    worst = {one[r].at[ALL_SITES, "worst_site"] for r in (0, 1)}
    expected = worst.pop() if len(worst) == 1 else "varies over repeats"
    assert both.at[ALL_SITES, "worst_site"].startswith(expected)
    # two repeats' p-values combine as twice their mean (a valid p under any dependence), never their mean
    mean_p = (one[0].at[ALL_SITES, "p_q"] + one[1].at[ALL_SITES, "p_q"]) / 2
    assert both.at[ALL_SITES, "p_q"] == pytest.approx(min(1.0, 2 * mean_p))


def test_glance_without_per_site_keeps_its_columns():
    pooled = pd.DataFrame(
        [{"method": "a", "metric": "auc", "attribute": "", "value": 0.7, "ci_low": 0.6, "ci_high": 0.8}]
    )
    assert "Worst site AUC" not in glance_table(pooled, ["a"], {}, "sex").columns
    assert Path(REPO / "workflow" / "report" / "per_site_figure.rst").exists()


def test_the_per_site_and_glance_scripts_run_as_jobs(simulated, tmp_path):
    """workflow/scripts/per_site.py and glance.py run as Snakemake runs them (tests/envs/run_step.py): the
    table, the PNG and PDF, and the glance summary with the site columns."""
    import json
    import subprocess

    import yaml

    from neurolip.methods import registry_config

    d, cohort, folds = simulated
    test_of = {
        f: rows.loc[rows["split"] == "test", "subject_id"].tolist() for f, rows in folds.groupby("fold")
    }
    files = _write_predictions(tmp_path, cohort, test_of, methods=("neurolip", "linear_fc"))
    out = tmp_path / "results"
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())

    def run(script, **job):
        spec = tmp_path / f"{script}.json"
        spec.write_text(json.dumps({"script": str(REPO / "workflow" / "scripts" / f"{script}.py"), **job}))
        process = subprocess.run(
            [sys.executable, str(REPO / "tests" / "envs" / "run_step.py"), str(spec)],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert process.returncode == 0, process.stderr[-3000:]

    run(
        "per_site",
        input={
            "predictions": [str(p) for p in files.values()],
            "cohort": str(d / "cohort.tsv"),
            "folds": str(d / "folds.tsv"),
        },
        output={
            "table": str(out / "per_site.csv"),
            "figure": str(out / "per_site_auc.png"),
            "figure_pdf": str(out / "per_site_auc.pdf"),
        },
        params={
            "method_folds": [list(k) for k in files],
            "methods": ["neurolip", "linear_fc"],
            "registry": registry_config(config),
            "n_boot": 100,
            "n_perm": 100,
        },
        log=[str(tmp_path / "per_site.log")],
    )
    table = pd.read_csv(out / "per_site.csv")
    assert set(table["method"]) == {"neurolip", "linear_fc"} and (out / "per_site_auc.pdf").exists()
    pooled = pd.DataFrame(
        [
            {"method": m, "metric": "auc", "attribute": "", "value": 0.7, "ci_low": 0.6, "ci_high": 0.8}
            for m in ("neurolip", "linear_fc")
        ]
    )
    pooled.to_csv(out / "pooled.csv", index=False)
    run(
        "glance",
        input={"pooled": str(out / "pooled.csv"), "per_site": str(out / "per_site.csv")},
        output={"summary": str(out / "summary.md"), "landing": str(out / "summary.rst")},
        params={
            "dataset": "simulated",
            "methods": ["neurolip", "linear_fc"],
            "labels": {},
            "attribute": "sex",
        },
        log=[str(tmp_path / "glance.log")],
    )
    summary = (out / "summary.md").read_text()
    assert "| Worst site AUC | ES-AUC (site) |" in summary and "null p05" in summary
    landing = (out / "summary.rst").read_text()  # the report's first screen: the same table in rst
    assert ".. list-table::" in landing and "     - ES-AUC (site)" in landing
