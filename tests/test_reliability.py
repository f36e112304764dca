"""No silent wrong results: each case of docs/reliability.md builds its own bad input here."""

import re
import time

import numpy as np
import pandas as pd
import pytest
import yaml
from cohort import build_tiny_cohort, train
from conftest import REPO, run_snakemake
from test_sources import dataset_config, run_data_stage, write_abide_cache, write_athena

from neurolip import data_stage
from neurolip.errors import NeuroLIPInputError
from neurolip.phenotypes import normalize_phenotypes

TRAINING = {"max_epochs": 4, "min_epochs": 4, "patience": 4, "batch_size": 16, "lr": 0.002}
MODEL = {"d_model": 16, "n_heads": 2, "n_clusters": 4, "embed_dim": 16}


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    return build_tiny_cohort(tmp_path_factory.mktemp("reliability_cohort"))


# 1 ------------------------------------------------------------------ a changed config never resumes
@pytest.mark.parametrize("change", [{"training": {"lr": 0.01}}, {"model": {"d_model": 8}}])
def test_a_changed_setting_trains_afresh_instead_of_resuming(cohort, tmp_path, change):
    train(cohort, "clip", tmp_path / "run", training=TRAINING, model=MODEL)
    training = {**TRAINING, **change.get("training", {})}
    model = {**MODEL, **change.get("model", {})}
    rerun = train(cohort, "clip", tmp_path / "run", training=training, model=model)
    fresh = train(cohort, "clip", tmp_path / "fresh", training=training, model=model)
    pd.testing.assert_frame_equal(rerun, fresh)
    epochs = pd.read_csv(tmp_path / "run" / "work" / "seed0" / "epochs.csv")
    assert epochs.epoch.tolist() == [1, 2, 3, 4]  # the old run's epochs are gone, not appended to


def test_an_unchanged_setting_resumes(cohort, tmp_path, caplog):
    first = train(cohort, "clip", tmp_path / "run", training=TRAINING, model=MODEL)
    with caplog.at_level("INFO"):
        again = train(cohort, "clip", tmp_path / "run", training=TRAINING, model=MODEL)
    assert "resuming" in caplog.text and "other settings" not in caplog.text
    pd.testing.assert_frame_equal(first, again)


# 2 ------------------------------------------------------------------ codes, fields and attributes
SPEC = {
    "columns": {"subject_id": "ID", "site": "Site", "diagnosis": "DX", "sex": "Gender"},
    "missing_values": [""],
    "diagnosis_codes": {0: 0, 1: 1},
    "sex_codes": {0: "female", 1: "male"},
}


def test_float_written_codes_match_integer_code_maps():
    # pandas writes an integer column that holds one blank as 0.0 / 1.0
    raw = pd.DataFrame(
        {
            "ID": ["a", "b", "c", "d"],
            "Site": ["1.0"] * 4,
            "DX": ["0.0", "1.0", "1", "0"],
            "Gender": ["0.0", "1.0", "", "1"],
        }
    )
    table, _ = normalize_phenotypes(raw, SPEC)
    assert table.sex.tolist()[:2] == ["female", "male"] and pd.isna(table.sex[2]) and table.sex[3] == "male"
    assert table.diagnosis.tolist() == [0, 1, 1, 0]
    assert table.site.tolist() == ["1"] * 4


def test_a_code_map_that_matches_nothing_names_column_values_and_map():
    raw = pd.DataFrame({"ID": ["a", "b"], "Site": ["x", "x"], "DX": ["0", "1"], "Gender": ["F", "M"]})
    with pytest.raises(
        NeuroLIPInputError, match=r"sex_codes .* matches none of the values of column 'Gender'.*'F'"
    ):
        normalize_phenotypes(raw, SPEC)


def phenotype_files(tmp_path, segments=None, sensitive=("sex",), gender=("0", "1", "1", "0")):
    raw = pd.DataFrame(
        {"ID": list("abcd"), "Site": ["s"] * 4, "DX": ["0", "1", "0", "1"], "Gender": list(gender)}
    )
    raw.to_csv(tmp_path / "raw.tsv", sep="\t", index=False)
    dataset = {
        "phenotypes": SPEC,
        "sensitive_attributes": list(sensitive),
        "text": {
            "segments": segments or [{"field": "diagnosis", "role": "disease", "template": "Dx: {value}."}]
        },
    }
    return dataset, [tmp_path / "raw.tsv", tmp_path / "ph.tsv", tmp_path / "ex.tsv", tmp_path / "qc.tsv"]


def test_a_text_field_absent_from_the_data_is_an_error(tmp_path):
    segments = [
        {"field": "diagnosis", "role": "disease", "template": "Dx: {value}."},
        {"field": "hand", "role": "other", "template": "Hand: {value}."},
    ]
    dataset, paths = phenotype_files(tmp_path, segments)
    with pytest.raises(NeuroLIPInputError, match="text segment field 'hand' is not a phenotype field"):
        data_stage.prepare_phenotypes(dataset, *paths)


def test_a_template_with_another_placeholder_is_an_error(tmp_path):
    for template in ("Dx: {value} {other}.", "Dx: {value:99999999999}."):
        dataset, paths = phenotype_files(
            tmp_path, [{"field": "diagnosis", "role": "disease", "template": template}]
        )
        with pytest.raises(NeuroLIPInputError, match="exactly one plain"):
            data_stage.prepare_phenotypes(dataset, *paths)


def test_a_sensitive_attribute_without_data_is_an_error_and_qc_lists_missingness(tmp_path):
    dataset, paths = phenotype_files(tmp_path, sensitive=("sex", "age"))
    with pytest.raises(NeuroLIPInputError, match="sensitive attribute 'age'.*known for none"):
        data_stage.prepare_phenotypes(dataset, *paths)
    dataset, paths = phenotype_files(tmp_path, gender=("0", "1", "", "7"))
    with pytest.raises(NeuroLIPInputError, match=r"sex \(column 'Gender'\): 1 of 3 non-missing values"):
        data_stage.prepare_phenotypes(dataset, *paths)
    dataset["phenotypes"] = {**SPEC, "on_lost_values": "warn"}  # a known unknown code: logged, kept missing
    data_stage.prepare_phenotypes(dataset, *paths)
    qc = pd.read_csv(paths[3], sep="\t", keep_default_na=False).set_index("field")
    assert int(qc.loc["sex", "n_known"]) == 2 and int(qc.loc["sex", "n_missing"]) == 2
    assert qc.loc["sex", "unmatched_codes"] == "7"


# 3 ------------------------------------------------------------------ IDs normalised once
def test_leading_zeros_do_not_bind_two_rows_to_one_scan(tmp_path, rng):
    write_athena(tmp_path, rng)
    table = pd.read_csv(tmp_path / "adhd200_preprocessed_phenotypics.tsv", sep="\t", dtype=str)
    extra = table.iloc[[1]].assign(**{"ScanDir ID": "10001", "DX": "0"})
    pd.concat([table, extra]).to_csv(tmp_path / "adhd200_preprocessed_phenotypics.tsv", sep="\t", index=False)
    with pytest.raises(
        NeuroLIPInputError, match=r"'10001' \(row 8\) and '0010001' \(row 3\) are the same subject"
    ):
        run_data_stage(dataset_config("adhd200", root=str(tmp_path)), tmp_path / "out")


@pytest.mark.parametrize("bad_id", ["../1018959", "KKI/1018959", "abc", ""])
def test_an_unusable_scan_id_names_its_row(tmp_path, rng, bad_id):
    write_athena(tmp_path, rng)
    table = pd.read_csv(
        tmp_path / "adhd200_preprocessed_phenotypics.tsv", sep="\t", dtype=str, keep_default_na=False
    )
    table.loc[2, "ScanDir ID"] = bad_id
    table.to_csv(tmp_path / "adhd200_preprocessed_phenotypics.tsv", sep="\t", index=False)
    with pytest.raises(NeuroLIPInputError, match="row 4: ScanDir ID .* is not a number"):
        run_data_stage(dataset_config("adhd200", root=str(tmp_path)), tmp_path / "out")


# 4 ------------------------------------------------------------------ failing before training
def small_config(tmp_path, **overrides):
    with open(REPO / "config" / "simulated.yaml") as handle:
        dataset = yaml.safe_load(handle)["dataset"]
    config = {"results_dir": str(tmp_path / "results"), "dataset": dataset, **overrides}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True))
    return path


@pytest.mark.parametrize(
    "evaluation, message",
    [
        ({"primary_attribute": "srs"}, "evaluation.primary_attribute 'srs'"),
        ({"fair_thresholds": {"attribute": "srs"}}, "evaluation.fair_thresholds.attribute 'srs'"),
    ],
)
def test_attributes_named_by_evaluation_must_be_sensitive_attributes(tmp_path, evaluation, message):
    config = small_config(tmp_path, evaluation=evaluation)
    process = run_snakemake(
        ["-n", "--configfile", str(config), "--config", "dataset={sensitive_attributes: [sex]}"], check=False
    )
    output = process.stdout + process.stderr
    assert (
        process.returncode != 0 and message in output and "not among dataset.sensitive_attributes" in output
    )


def test_group_thresholds_that_cannot_be_fitted_stop_the_data_stage(tmp_path):
    from neurolip.folds import check_group_thresholds_feasible

    cohort = pd.DataFrame(
        {
            "subject_id": list("abcdef"),
            "diagnosis": [0, 1, 0, 1, 1, 1],
            "sex": ["male", "male", "male", "male", "female", "female"],
        }
    )
    with pytest.raises(ValueError, match="two groups holding both diagnoses; groups with both: \\['male'\\]"):
        check_group_thresholds_feasible(cohort, "sex")


def test_more_folds_than_the_smaller_class_is_an_error():
    from neurolip.folds import make_folds

    cohort = pd.DataFrame(
        {"subject_id": [str(i) for i in range(20)], "diagnosis": [1] * 3 + [0] * 17, "site": "s"}
    )
    with pytest.raises(ValueError, match="smaller diagnosis class has 3 subjects, fewer than cv.n_folds=5"):
        make_folds(cohort, n_folds=5)


# 5 ------------------------------------------------------------------ brain maps for any atlas
def test_abide_aal_gets_the_shipped_aal_centroids(tmp_path, rng, monkeypatch):
    write_abide_cache(tmp_path / "nilearn_data", rng, n_rois=116)
    for path in (tmp_path / "nilearn_data").rglob("*_rois_cc200.1D"):
        path.rename(str(path).replace("rois_cc200", "rois_aal"))
    monkeypatch.setenv("NILEARN_DATA", str(tmp_path / "nilearn_data"))
    dataset = dataset_config("abide", derivative="rois_aal")
    dataset["n_rois"] = 116
    run_data_stage(dataset, tmp_path / "out")
    coordinates = pd.read_csv(tmp_path / "out" / "coords.csv")
    assert len(coordinates) == 116 and coordinates.label.iloc[0] == "PreCG.L"


def test_brain_maps_without_coordinates_fall_back_to_region_index_tables(tmp_path):
    from neurolip.evaluation.brainmaps import top_regions
    from neurolip.evaluation.figures import region_index_figure

    rng = np.random.default_rng(0)
    maps = {f"fold{i}": rng.dirichlet(np.ones(12)) for i in range(3)}
    table = top_regions(maps, None, k=4)
    assert table.roi.between(1, 12).all() and table.x_mni.isna().all() and len(table) == 4
    region_index_figure(maps["fold0"], "t", tmp_path / "map.png", tmp_path / "map.html", k=4, note="no atlas")
    assert (tmp_path / "map.png").stat().st_size > 1000 and "no atlas" in (tmp_path / "map.html").read_text()


# 6 ------------------------------------------------------------------ corrupt files
def test_a_non_utf8_byte_deep_in_a_time_series_file_is_excluded_with_its_name(tmp_path, rng):
    write_athena(tmp_path, rng)
    path = next(tmp_path.rglob("sfnwmrda0010001_*_TCs.1D"))
    data = path.read_bytes()
    assert len(data) > 9000
    path.write_bytes(data[:9000] + b"\xff\xfe" + data[9000:])
    _, _, exclusions = run_data_stage(dataset_config("adhd200", root=str(tmp_path)), tmp_path / "out")
    row = exclusions[exclusions.subject_id == "10001"]
    assert row.reason.iloc[0] == "unreadable or invalid time series" and "not a UTF-8" in row.detail.iloc[0]
    assert str(path) in row.detail.iloc[0]


def test_a_non_utf8_phenotype_table_names_the_file(tmp_path, rng):
    write_athena(tmp_path, rng)
    table = tmp_path / "adhd200_preprocessed_phenotypics.tsv"
    table.write_bytes(table.read_bytes() + b"9999\t5\t\xff\t1\t0\n")
    with pytest.raises(NeuroLIPInputError, match="adhd200_preprocessed_phenotypics.tsv.*not a UTF-8"):
        run_data_stage(dataset_config("adhd200", root=str(tmp_path)), tmp_path / "out")


def test_one_garbage_file_in_the_abide_cache_is_excluded_not_fatal(tmp_path, rng, monkeypatch):
    write_abide_cache(tmp_path / "nilearn_data", rng)
    garbage = next((tmp_path / "nilearn_data").rglob("SITEX_0050001_rois_cc200.1D"))
    garbage.write_text("#1\t#2\nnot\tnumbers\tat all\n")
    monkeypatch.setenv("NILEARN_DATA", str(tmp_path / "nilearn_data"))
    subject_ids, _, exclusions = run_data_stage(dataset_config("abide"), tmp_path / "out")
    assert "50001" not in subject_ids and "50000" in subject_ids
    row = exclusions[exclusions.subject_id == "50001"]
    assert row.reason.iloc[0] == "unreadable or invalid time series" and str(garbage) in row.detail.iloc[0]


def test_an_abide_file_id_never_reads_outside_the_cache(tmp_path, rng, monkeypatch):
    write_abide_cache(tmp_path / "nilearn_data", rng)
    table_path = tmp_path / "nilearn_data" / "ABIDE_pcp" / "Phenotypic_V1_0b_preprocessed1.csv"
    table = pd.read_csv(table_path, index_col=0)
    table.loc[0, "FILE_ID"] = "../../../outside/evil"
    table.to_csv(table_path)
    monkeypatch.setenv("NILEARN_DATA", str(tmp_path / "nilearn_data"))
    with pytest.raises(NeuroLIPInputError, match="FILE_ID '../../../outside/evil' is not a safe file name"):
        run_data_stage(dataset_config("abide"), tmp_path / "out")


# 7, 8 ------------------------------------------------------------------ unsafe paths and config holes
@pytest.mark.parametrize(
    "override, message",
    [
        ({"resluts_dir": "x"}, "Additional properties are not allowed ('resluts_dir'"),
        ({"results_dir": ""}, "should be non-empty"),
        ({"methods": {"../../../x": {"label": "x"}}}, "does not match"),
    ],
)
def test_config_holes_are_refused_by_the_schema(tmp_path, override, message):
    config = small_config(tmp_path, **override)
    process = run_snakemake(["-n", "--configfile", str(config)], check=False)
    assert process.returncode != 0 and message in process.stdout + process.stderr


def test_a_dataset_key_typo_and_a_name_with_a_newline_are_refused(tmp_path):
    with open(REPO / "config" / "simulated.yaml") as handle:
        dataset = yaml.safe_load(handle)["dataset"]
    for bad, message in (
        ({"nmae": "x"}, "'nmae' was unexpected"),
        ({"name": "sim\n"}, "should not be valid"),
    ):
        path = tmp_path / "c.yaml"
        path.write_text(yaml.safe_dump({"results_dir": str(tmp_path), "dataset": {**dataset, **bad}}))
        process = run_snakemake(["-n", "--configfile", str(path)], check=False)
        assert process.returncode != 0 and message in process.stdout + process.stderr, bad


def test_a_hostile_results_dir_reaches_the_fmriprep_shell_quoted(tmp_path):
    hostile = str(tmp_path / "r; touch PWNED $(touch PWNED2)")
    config = yaml.safe_load((REPO / "config" / "fmriprep.yaml").read_text())
    config["fmriprep_run"].update(
        enabled=True,
        bids_dir=str(tmp_path),
        output_dir=str(tmp_path / "out"),
        participants=["01"],
        fs_license=str(tmp_path / "license.txt"),
    )
    config["results_dir"] = hostile
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    process = run_snakemake(["-n", "-p", "--configfile", str(path)], cwd=REPO)
    line = next(x for x in process.stdout.splitlines() if "fmriprep-docker " in x)
    assert "> '" in line and "PWNED $(touch PWNED2)/" in line  # the log path is one quoted word
    assert not (REPO / "PWNED").exists() and not (REPO / "PWNED2").exists()


def test_numeric_command_line_overrides_are_accepted(tmp_path):
    from neurolip.config import coerce_command_line_types

    config = {"training": {"max_epochs": "2", "lr": "0.01", "gpu": "true"}, "cv": {"n_folds": "3"}}
    assert coerce_command_line_types(config) == {
        "training": {"max_epochs": 2, "lr": 0.01, "gpu": True},
        "cv": {"n_folds": 3},
    }
    process = run_snakemake(
        [
            "-n",
            "--configfile",
            str(small_config(tmp_path)),
            "--config",
            "training={max_epochs: 2, min_epochs: 1}",
        ],
        check=False,
    )
    assert process.returncode == 0, process.stderr[-2000:]


def test_users_declare_their_own_sensitive_attributes(tmp_path):
    """Any phenotype column can be a sensitive attribute: categorical as it is, continuous median-split."""
    from neurolip.evaluation.per_fold import fold_metrics

    spec = {**SPEC, "columns": {**SPEC["columns"], "hand": "Handedness", "iq": "FIQ"}}
    raw = pd.DataFrame(
        {
            "ID": list("abcdefgh"),
            "Site": ["s"] * 8,
            "DX": list("01010101"),
            "Gender": list("01100110"),
            "Handedness": list("12121122"),
            "FIQ": ["90", "110", "100", "120", "95", "105", "130", "85"],
        }
    )
    table, _ = normalize_phenotypes(raw, spec)
    assert table.hand.tolist() == list("12121122") and table.iq.iloc[1] == "110"
    predictions = table.assign(
        y_true=table.diagnosis.astype(int), y_pred=[0, 1, 1, 1, 0, 0, 0, 1], score=np.linspace(0.1, 0.9, 8)
    )
    rows = fold_metrics(predictions, {"iq": [90, 100, 110, 120]}, ["hand", "iq"], continuous=("iq",))
    found = {(r["metric"], r["attribute"]): r["value"] for r in rows}
    assert ("dpd", "hand") in found and ("dpd", "iq") in found
    assert found[("split_value", "iq")] == 105.0 and ("split_value", "hand") not in found
    assert {k[0] for k in found if k[1] == "hand"} >= {"auc[1]", "auc[2]"}


def test_a_table_with_float_written_codes_and_a_blank_runs_through_the_data_stage(tmp_path, rng):
    """The ADHD-200 case end to end through the data stage: Gender written 0.0/1.0 with one blank."""
    write_athena(tmp_path, rng)
    path = tmp_path / "adhd200_preprocessed_phenotypics.tsv"
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    table["Gender"] = ["1.0", "0.0", "1.0", "1.0", "0.0", ""]
    table["DX"] = [f"{float(v):.1f}" if v not in ("pending",) else v for v in table["DX"]]
    table.to_csv(path, sep="\t", index=False)
    subject_ids, _, _ = run_data_stage(dataset_config("adhd200", root=str(tmp_path)), tmp_path / "out")
    cohort = pd.read_csv(tmp_path / "out" / "cohort.tsv", sep="\t", dtype={"subject_id": str}).set_index(
        "subject_id"
    )
    assert cohort.loc["1018959", "sex"] == "male" and cohort.loc["10001", "sex"] == "female"
    assert pd.isna(cohort.loc["1000804", "sex"])  # the blank
    assert cohort.sex.notna().sum() == len(cohort) - 1
    assert cohort.loc["10002", "diagnosis"] == 1  # DX 3.0: inattentive ADHD


# issue 24 ------------------------------------------------------------------ stale or degraded results
def athena_workflow_config(tmp_path, rng, **dataset_overrides):
    """A tiny Athena release under tmp_path/athena and a workflow config that reads it."""
    root = tmp_path / "athena"
    root.mkdir()
    write_athena(root, rng)
    config = yaml.safe_load((REPO / "config" / "adhd200.yaml").read_text())
    config["dataset"]["adhd_athena"]["root"] = str(root)
    config["dataset"].update(dataset_overrides)
    config["results_dir"] = str(tmp_path / "results")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return root, path, tmp_path / "results" / "adhd200" / "data" / "cohort.tsv"


def planned_jobs(config, target):
    """The rules a dry run of ``target`` would run (nothing when the results are up to date)."""
    process = run_snakemake(["-n", "--nolock", "--configfile", str(config), "--", str(target)])
    return sorted(set(re.findall(r"^(?:rule|checkpoint) (\w+):", process.stdout, flags=re.M))), process.stdout


def test_a_changed_source_file_reruns_exactly_what_depends_on_it(tmp_path, rng):
    root, config, cohort = athena_workflow_config(tmp_path, rng)
    run_snakemake(["--cores", "1", "--nolock", "--configfile", str(config), "--", str(cohort)])
    assert planned_jobs(config, cohort)[0] == []
    # a file the source does not read (another atlas) changes nothing
    (root / "KKI" / "1018959" / "sfnwmrda1018959_session_1_rest_1_aal_TCs.1D").write_text("x\n")
    assert planned_jobs(config, cohort)[0] == []
    # one phenotype row edited: the subject's age
    table_path = root / "adhd200_preprocessed_phenotypics.tsv"
    time.sleep(1.1)  # modification times of coarse file systems
    table = pd.read_csv(table_path, sep="\t", dtype=str, keep_default_na=False)
    table.loc[table["ScanDir ID"] == "1018959", "Age"] = "10.5"
    table.to_csv(table_path, sep="\t", index=False)
    jobs, output = planned_jobs(config, cohort)
    assert jobs == ["connectivity", "fetch", "phenotypes", "timeseries"]
    assert "adhd200_preprocessed_phenotypics.tsv" in output
    run_snakemake(["--cores", "1", "--nolock", "--configfile", str(config), "--", str(cohort)])
    ages = pd.read_csv(cohort, sep="\t", dtype={"subject_id": str}).set_index("subject_id")["age"]
    assert ages["1018959"] == 10.5
    # one time-series file rewritten
    time.sleep(1.1)
    series = root / "NYU" / "0010001" / "sfnwmrda0010001_session_1_rest_1_cc200_TCs.1D"
    series.write_text(series.read_text().replace("\t1.", "\t2.", 5))
    jobs, output = planned_jobs(config, cohort)
    assert jobs == ["connectivity", "fetch", "phenotypes", "timeseries"] and str(series) in output


def write_scans(path, scans):
    np.savez(path, **{sid: values.astype(np.float32) for sid, values in scans.items()})


def connectome_inputs(tmp_path, scans, connectivity):
    """build_connectomes on hand-made scans (diagnosis alternating, one site); returns the output paths."""
    ids = list(scans)
    write_scans(tmp_path / "ts.npz", scans)
    pd.DataFrame({"subject_id": ids, "site": "s", "diagnosis": [i % 2 for i in range(len(ids))]}).to_csv(
        tmp_path / "ph.tsv", sep="\t", index=False
    )
    pd.DataFrame(columns=["subject_id", "step", "reason", "detail"]).to_csv(
        tmp_path / "ex0.tsv", sep="\t", index=False
    )
    out = {k: tmp_path / f"{k}.tsv" for k in ("qc", "exclusions", "cohort")}
    data_stage.build_connectomes(
        connectivity,
        tmp_path / "ts.npz",
        tmp_path / "ph.tsv",
        [tmp_path / "ex0.tsv"],
        tmp_path / "conn.npz",
        out["qc"],
        out["exclusions"],
        out["cohort"],
    )
    return tmp_path / "conn.npz", out


@pytest.mark.parametrize("share, kept", [(None, ["a", "b", "c"]), (0.9, ["a", "b", "c", "d"])])
def test_a_scan_with_most_rois_unusable_is_excluded_with_its_reason(tmp_path, rng, share, kept):
    scans = {sid: rng.standard_normal((80, 20)) for sid in "abcd"}
    scans["b"][:, :3] = 0.0  # a few ROIs outside the field of view: kept
    scans["d"][:, :16] = 0.0  # 16 of 20 ROIs all zero: unusable by default
    scans["d"][:, 16] = 1.0  # constant, not zero
    connectivity = {"kind": "correlation"} | ({} if share is None else {"max_unusable_roi_share": share})
    _, out = connectome_inputs(tmp_path, scans, connectivity)
    cohort = pd.read_csv(out["cohort"], sep="\t", dtype={"subject_id": str})
    assert cohort.subject_id.tolist() == kept
    exclusions = pd.read_csv(out["exclusions"], sep="\t", dtype=str)
    if "d" in kept:
        assert exclusions.empty
    else:
        row = exclusions.set_index("subject_id").loc["d"]
        assert row.reason == "unusable scan" and "17 of 20 ROIs have zero variance" in row.detail


def test_tangent_connectomes_are_fitted_on_each_folds_training_subjects(tmp_path, rng):
    scans = {f"s{i:02d}": rng.standard_normal((60, 6)) @ rng.standard_normal((6, 6)) for i in range(12)}
    scans["s11"][:, 2] = 0.0  # a dead ROI in a test subject: its own noise, nobody else's
    folds = pd.DataFrame(
        {"subject_id": list(scans), "fold": 0, "split": ["train"] * 6 + ["val"] * 2 + ["test"] * 4}
    )
    folds.to_csv(tmp_path / "folds.tsv", sep="\t", index=False)
    connectivity = {"kind": "tangent", "fisher_z": True, "shrinkage": "auto"}
    path, _ = connectome_inputs(tmp_path / "", scans, connectivity)
    with pytest.raises(NeuroLIPInputError, match="fitted per fold"):
        data_stage.load_connectomes(path)
    ids, before = data_stage.load_connectomes(path, tmp_path / "folds.tsv", 0)
    # other test subjects change (s08 another scan, s09 dead ROIs): a test subject's matrix does not
    (tmp_path / "changed").mkdir()
    changed = dict(scans, s08=rng.standard_normal((60, 6)), s09=scans["s09"].copy())
    changed["s09"][:, :2] = 0.0
    path, _ = connectome_inputs(tmp_path / "changed", changed, connectivity)
    _, after = data_stage.load_connectomes(path, tmp_path / "folds.tsv", 0)
    for sid in ("s10", "s11"):
        i = list(ids).index(sid)
        np.testing.assert_array_equal(before[i], after[i])
    assert not np.allclose(before[list(ids).index("s08")], after[list(ids).index("s08")])
    # a training subject changes the reference, and so every matrix
    (tmp_path / "train").mkdir()
    path, _ = connectome_inputs(
        tmp_path / "train", dict(scans, s00=rng.standard_normal((60, 6))), connectivity
    )
    _, other_reference = data_stage.load_connectomes(path, tmp_path / "folds.tsv", 0)
    assert not np.allclose(before[list(ids).index("s10")], other_reference[list(ids).index("s10")])
    # the workflow writes each fold's matrices once (rule fold_connectomes); load_fold (what every trained
    # method reads) and the brain-map scripts (FoldConnectomes) read them
    from neurolip.training.fold_io import load_fold

    data_stage.write_fold_connectomes(path, tmp_path / "folds.tsv", 0, tmp_path / "fold0.npz")
    pd.read_csv(tmp_path / "train" / "cohort.tsv", sep="\t").to_csv(
        tmp_path / "cohort.tsv", sep="\t", index=False
    )
    data = load_fold(tmp_path / "fold0.npz", tmp_path / "folds.tsv", tmp_path / "cohort.tsv", 0)
    np.testing.assert_array_equal(data.x["test"].numpy(), other_reference[8:])
    edges = data_stage.FoldConnectomes.of_folds([0], [tmp_path / "fold0.npz"]).edges_function(0)(["s10"])
    assert edges.shape == (1, 15) and np.allclose(edges[0], other_reference[10][np.triu_indices(6, 1)])


def test_tangent_connectivity_trains_every_fold_on_its_own_connectomes(tmp_path):
    config = small_config(tmp_path)
    planned = {}
    for kind in ("correlation", "tangent"):
        process = run_snakemake(
            [
                "-n",
                "--quiet",
                "rules",
                "--configfile",
                str(config),
                "--config",
                f"connectivity={{kind: {kind}}}",
            ]
        )
        planned[kind] = process.stdout
    assert "fold_connectomes" not in planned["correlation"]
    assert re.search(r"fold_connectomes\s+5", planned["tangent"]), planned["tangent"]


def multi_site_cohort(rng, n=200, n_sites=17):
    sites = [f"site{i:02d}" for i in rng.integers(0, n_sites, size=n)]
    sites[0] = "lonely"  # a stratum of one subject
    return pd.DataFrame(
        {"subject_id": [f"{i:04d}" for i in range(n)], "diagnosis": rng.integers(0, 2, size=n), "site": sites}
    )


@pytest.mark.parametrize("n, n_sites, n_folds", [(200, 17, 5), (200, 17, 10), (60, 12, 3)])
def test_folds_of_a_multi_site_cohort_fall_back_to_what_it_supports(rng, caplog, n, n_sites, n_folds):
    from neurolip.folds import make_folds

    cohort = multi_site_cohort(rng, n, n_sites)
    with caplog.at_level("INFO", logger="neurolip.folds"):
        folds = make_folds(cohort, n_folds=n_folds, val_fraction=0.15)
    assert "stratified on diagnosis only" in caplog.text
    for fold, part in folds.groupby("fold"):
        assert sorted(part.subject_id) == sorted(cohort.subject_id)  # every subject once per fold
        for split in ("train", "val", "test"):
            dx = cohort.set_index("subject_id").loc[part.subject_id[part.split == split], "diagnosis"]
            assert set(dx) == {0, 1}, (fold, split)
    assert (folds[folds.split == "test"].groupby("subject_id").size() == 1).all()


def test_an_impossible_validation_split_is_a_clear_error_before_training(tmp_path):
    cohort = pd.DataFrame({"subject_id": list("abcdefgh"), "diagnosis": [0, 1] * 4, "site": "s"})
    cohort.to_csv(tmp_path / "cohort.tsv", sep="\t", index=False)
    cv = {"n_folds": 4, "val_fraction": 0.1, "seed": 0}
    with pytest.raises(NeuroLIPInputError, match=r"cohort.tsv.*validation split would hold 1 of 6"):
        data_stage.write_folds(cv, tmp_path / "cohort.tsv", tmp_path / "folds.tsv")


def folds_as_before(cohort, n_folds, val_fraction, seed):
    """The fold maker as it was before the fall-back (diagnosis x site, rare sites merged)."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    from neurolip.folds import strata_labels

    ids, dx, site = (cohort[c].to_numpy() for c in ("subject_id", "diagnosis", "site"))
    dx = dx.astype(int)
    rows = []
    outer = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for k, (train_idx, test_idx) in enumerate(outer.split(ids, strata_labels(dx, site, n_folds))):
        fit, val = train_test_split(
            train_idx,
            test_size=val_fraction,
            stratify=strata_labels(dx[train_idx], site[train_idx], 2),
            random_state=seed + k,
        )
        rows += [(ids[i], k, s) for s, idx in (("train", fit), ("val", val), ("test", test_idx)) for i in idx]
    return sorted(rows)


def test_folds_of_cohorts_that_support_site_strata_are_unchanged(tmp_path, rng):
    from cohort import shipped_dataset_config

    from neurolip.folds import make_folds

    dataset = shipped_dataset_config()  # the demo's cohort, through the data stage
    d = tmp_path
    data_stage.fetch(dataset, d / "raw", d / "m.tsv", d / "raw.tsv", d / "e1.tsv")
    data_stage.extract_timeseries(dataset, d / "m.tsv", d / "ts.npz", d / "e2.tsv")
    data_stage.prepare_phenotypes(dataset, d / "raw.tsv", d / "ph.tsv", d / "e3.tsv")
    data_stage.build_connectomes(
        {"kind": "correlation"},
        d / "ts.npz",
        d / "ph.tsv",
        [d / "e1.tsv", d / "e2.tsv", d / "e3.tsv"],
        *(d / name for name in ("c.npz", "qc.tsv", "ex.tsv", "cohort.tsv")),
    )
    demo = pd.read_csv(d / "cohort.tsv", sep="\t", dtype={"subject_id": str, "site": str})
    # and a larger multi-site cohort whose every diagnosis x site stratum holds enough subjects
    sites = rng.choice([f"S{i}" for i in range(8)], size=500)
    large = pd.DataFrame(
        {"subject_id": [f"{i}" for i in range(500)], "diagnosis": rng.integers(0, 2, 500), "site": sites}
    )
    for cohort, n_folds, val_fraction, seed in ((demo, 5, 0.15, 0), (demo, 3, 0.2, 7), (large, 5, 0.15, 0)):
        folds = make_folds(cohort, n_folds=n_folds, val_fraction=val_fraction, seed=seed)
        assert sorted(zip(folds.subject_id, folds.fold, folds.split)) == folds_as_before(
            cohort, n_folds, val_fraction, seed
        )


def test_values_lost_in_normalisation_are_an_error_naming_field_count_and_examples(caplog):
    spec = {**SPEC, "columns": {**SPEC["columns"], "age": "Age"}}
    raw = pd.DataFrame(
        {
            "ID": list("abcdef"),
            "Site": ["s"] * 6,
            "DX": ["0", "1", "0", "1", "0", ""],
            "Gender": ["0", "1", "1", "0", "1", "0"],
            "Age": ["12 years", "9.5 years", "11", "10", "", "n/a"],
        }
    )
    with pytest.raises(
        NeuroLIPInputError,
        match=r"age \(column 'Age'\): 3 of 5 non-missing values .*'12 years', '9.5 years', 'n/a'",
    ):
        normalize_phenotypes(raw, spec)
    with caplog.at_level("WARNING"):
        table, _ = normalize_phenotypes(raw, {**spec, "on_lost_values": "warn"})
    assert "age (column 'Age'): 3 of 5" in caplog.text and table.age.notna().sum() == 2
    # missing-value codes are not lost values, whatever their case
    table, _ = normalize_phenotypes(
        raw.assign(Age=["12", "9.5", "11", "10", "", "n/a"]), {**spec, "missing_values": ["", "N/A"]}
    )
    assert table.age.notna().sum() == 4


def test_codes_match_ignoring_case_and_surrounding_spaces():
    spec = {**SPEC, "sex_codes": {"F": "female", "M": "male"}, "diagnosis_codes": {"ASD": 1, "TD": 0}}
    raw = pd.DataFrame(
        {
            "ID": list("abcd"),
            "Site": ["s"] * 4,
            "DX": ["asd", " TD", "Asd ", "td"],
            "Gender": ["m", " F", "M ", "f"],
        }
    )
    table, exclusions = normalize_phenotypes(raw, spec)
    assert table.sex.tolist() == ["male", "female", "male", "female"] and table.diagnosis.tolist() == [
        1,
        0,
        1,
        0,
    ]
    assert len(exclusions) == 0
    with pytest.raises(NeuroLIPInputError, match="differ only by case"):
        normalize_phenotypes(raw, {**spec, "sex_codes": {"m": "male", "M": "female"}})


def test_a_cuda_device_the_machine_lacks_stops_the_workflow_before_any_job(tmp_path, monkeypatch):
    import torch

    from neurolip.devices import check_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(
        NeuroLIPInputError, match="training.device: cuda:1 asks for CUDA device 1.*0 CUDA device"
    ):
        check_device("cuda:1")
    check_device("auto")
    check_device("cpu")
    # the workflow runs on this machine's own torch: a device no machine has
    config = small_config(tmp_path, training={"device": "cuda:99"})
    process = run_snakemake(["-n", "--configfile", str(config)], check=False)
    output = process.stdout + process.stderr
    assert process.returncode != 0 and "training.device: cuda:99 asks for CUDA device 99" in output
    assert "rule train" not in process.stdout and "fetch" not in process.stdout


def evaluation_inputs(tmp_path, rng, cohort):
    """Prediction and (empty) leakage files of two methods x three folds, as training writes them."""
    from neurolip.training.stages.probe import LEAKAGE_COLUMNS

    folds = pd.DataFrame(
        {"subject_id": cohort.subject_id, "fold": np.arange(len(cohort)) % 3, "split": "test", "repeat": 0}
    )
    folds = pd.concat([folds] + [folds[folds.fold != k].assign(fold=k, split="train") for k in range(3)])
    predictions, leakage = {}, {}
    for method in ("ref", "base"):
        for fold in range(3):
            test = cohort[
                folds.set_index("subject_id").loc[cohort.subject_id, "fold"].to_numpy()[: len(cohort)] == fold
            ]
            p = rng.random(len(test))
            frame = pd.DataFrame(
                {
                    "subject_id": test.subject_id,
                    "fold": fold,
                    "y_true": test.diagnosis,
                    "p_disease": p,
                    "y_pred": (p > 0.5).astype(int),
                    "score": p,
                }
            )
            for attribute in ("sex", "age", "site"):
                frame[attribute] = test[attribute].to_numpy()
            predictions[(method, fold)] = tmp_path / f"{method}{fold}.csv"
            frame.to_csv(predictions[(method, fold)], index=False)
            leakage[(method, fold)] = tmp_path / f"{method}{fold}_leak.csv"
            pd.DataFrame(columns=LEAKAGE_COLUMNS).to_csv(leakage[(method, fold)], index=False)
    return folds, predictions, leakage


@pytest.mark.parametrize("attributes", [["sex"], ["age", "site"]])
def test_evaluation_works_when_no_attribute_has_two_groups(tmp_path, rng, attributes, caplog):
    from neurolip.evaluation.frame import GroupFrame
    from neurolip.evaluation.metrics import evaluate
    from neurolip.evaluation.paired import paired_comparison, test_train_ratio
    from neurolip.evaluation.per_fold import leakage_per_fold
    from neurolip.evaluation.pooled import pooled_metrics

    n = 30
    cohort = pd.DataFrame(
        {
            "subject_id": [f"{i:03d}" for i in range(n)],
            "diagnosis": np.arange(n) % 2,
            "sex": "male",  # an all-male cohort
            "age": rng.uniform(8, 30, n).round(1),
            "site": [f"site{i % 5}" for i in range(n)],  # five sites: no two-group attribute
        }
    )
    folds, predictions, leakage = evaluation_inputs(tmp_path, rng, cohort)
    # the same sequence as workflow/scripts/evaluate.py
    evaluation = evaluate(predictions, GroupFrame(cohort, folds, attributes, continuous=("age",)))
    assert not pooled_metrics(evaluation.pooled, attributes, n_boot=20, floor_draws=20).empty
    per_fold = pd.concat([evaluation.per_fold, leakage_per_fold(leakage)], ignore_index=True)
    comparisons = [("auc", ""), ("accuracy", "")] + [
        (m, a) for a in attributes for m in ("dpd", "deodds", "probe_auc")
    ]
    with caplog.at_level("WARNING"):
        paired = paired_comparison(per_fold, "ref", comparisons, test_train_ratio=test_train_ratio(folds))
    assert set(paired.metric) >= {"auc", "accuracy"} and paired.mean_difference.notna().all()
    assert "probe_auc" not in set(paired.metric)
    if attributes == ["sex"]:
        assert "no fairness comparison" in caplog.text and "sex" in caplog.text


def test_an_attribute_methods_train_on_needs_two_groups_before_training(tmp_path, caplog):
    cohort = pd.DataFrame(
        {"subject_id": [f"{i}" for i in range(20)], "diagnosis": [0, 1] * 10, "site": "s", "sex": "male"}
    )
    cohort.to_csv(tmp_path / "cohort.tsv", sep="\t", index=False)
    cv = {"n_folds": 2, "val_fraction": 0.2, "seed": 0}
    with pytest.raises(NeuroLIPInputError, match=r"train on attribute 'sex'.*groups \['male'\]"):
        data_stage.write_folds(cv, tmp_path / "cohort.tsv", tmp_path / "f.tsv", None, ["sex"], ["sex"])
    with caplog.at_level("WARNING"):
        data_stage.write_folds(cv, tmp_path / "cohort.tsv", tmp_path / "f.tsv", None, ["sex"], [])
    assert "'sex' has fewer than two groups" in caplog.text and (tmp_path / "f.tsv").is_file()
    # the workflow passes the attributes its methods protect
    process = run_snakemake(["-n", "--configfile", str(small_config(tmp_path)), "-p"], check=False)
    assert process.returncode == 0, process.stderr[-2000:]


def test_the_projects_error_line_reaches_the_console(tmp_path, rng):
    root, config, cohort = athena_workflow_config(tmp_path, rng)
    table_path = root / "adhd200_preprocessed_phenotypics.tsv"
    table = pd.read_csv(table_path, sep="\t", dtype=str, keep_default_na=False)
    table.loc[2, "ScanDir ID"] = "abc"
    table.to_csv(table_path, sep="\t", index=False)
    process = run_snakemake(
        ["--cores", "1", "--nolock", "--configfile", str(config), "--", str(cohort)], check=False
    )
    console = process.stdout + process.stderr
    assert process.returncode != 0
    assert "NeuroLIP error in rule fetch: neurolip.errors.NeuroLIPInputError" in console
    assert "row 4: ScanDir ID 'abc' is not a number" in console and "logs/fetch.log" in console


@pytest.mark.parametrize("source", ["abide", "adhd_athena", "fmriprep"])
def test_every_file_a_source_reads_is_an_input_of_fetch(tmp_path, rng, monkeypatch, source):
    from test_sources import write_fmriprep_derivatives

    from neurolip.source_files import source_files

    if source == "abide":
        write_abide_cache(tmp_path / "nilearn_data", rng)
        monkeypatch.setenv("NILEARN_DATA", str(tmp_path / "nilearn_data"))
        dataset = dataset_config("abide")
    elif source == "adhd_athena":
        write_athena(tmp_path, rng)
        dataset = dataset_config("adhd200", root=str(tmp_path))
    else:
        dataset = write_fmriprep_derivatives(tmp_path, rng)
    loaded = data_stage.load_source(dataset, tmp_path / "raw")
    read = {loaded.phenotype_path, *loaded.manifest["path"], *loaded.manifest["confounds"]} - {""}
    found = source_files(dataset)
    assert read <= set(found) and len(found) == len(set(found))


# issue 35 ------------------------------------------------------------------ constant scans, duplicates, reruns
@pytest.mark.parametrize("level", [0.1, 3.3, 1234.567])
def test_a_scan_with_most_rois_constant_but_not_zero_is_excluded(tmp_path, rng, level):
    scans = {sid: rng.standard_normal((80, 20)) * 50 + 1000 for sid in "abcd"}
    scans["d"][:, :17] = (
        level  # 17 of 20 ROIs constant (not zero): stored as float32 like the time-series step
    )
    _, out = connectome_inputs(tmp_path, scans, {"kind": "correlation"})
    cohort = pd.read_csv(out["cohort"], sep="\t", dtype={"subject_id": str})
    assert cohort.subject_id.tolist() == ["a", "b", "c"]
    row = pd.read_csv(out["exclusions"], sep="\t", dtype=str).set_index("subject_id").loc["d"]
    assert row.reason == "unusable scan" and "17 of 20 ROIs have zero variance" in row.detail


def test_the_constant_roi_test_is_relative_to_the_columns_magnitude():
    from neurolip.timeseries import zero_variance_rois

    values = np.random.default_rng(0).standard_normal((100, 4))
    values[:, 1] = 1234.567  # constant, float32 rounding leaves a spread of ~1e-3
    values[:, 2] = 1e-9 * values[:, 0]  # tiny but varying: a signal, not a constant
    values[:, 3] = 0.0
    for dtype in (np.float64, np.float32):
        assert zero_variance_rois(values.astype(dtype)).tolist() == [1, 3], dtype


@pytest.mark.parametrize("copy", ["NYU/10001", "Peking/0010001"])
def test_a_subjects_time_series_found_twice_is_an_error_naming_both_files(tmp_path, rng, copy):
    from neurolip.datasets.adhd import load_adhd_athena

    write_athena(tmp_path, rng)
    original = tmp_path / "NYU" / "0010001" / "sfnwmrda0010001_session_1_rest_1_cc200_TCs.1D"
    duplicate = tmp_path / copy / original.name.replace("0010001", copy.split("/")[1])
    duplicate.parent.mkdir(parents=True)
    duplicate.write_text(original.read_text())
    with pytest.raises(NeuroLIPInputError, match="subject 10001") as error:
        load_adhd_athena(tmp_path)
    assert str(original) in str(error.value) and str(duplicate) in str(error.value)


def test_an_abide_subject_listed_twice_names_both_files(tmp_path, rng, monkeypatch):
    from neurolip.datasets.abide import load_abide

    write_abide_cache(tmp_path / "nilearn_data", rng)
    monkeypatch.setenv("NILEARN_DATA", str(tmp_path / "nilearn_data"))
    base = tmp_path / "nilearn_data" / "ABIDE_pcp"
    table = pd.read_csv(base / "Phenotypic_V1_0b_preprocessed1.csv", index_col=0, dtype=str)
    copy = table.iloc[[1]].assign(SUB_ID="0050001", FILE_ID="SITEZ_0050001")
    pd.concat([table, copy], ignore_index=True).to_csv(base / "Phenotypic_V1_0b_preprocessed1.csv")
    folder = base / "cpac" / "filt_global"
    (folder / "SITEZ_0050001_rois_cc200.1D").write_text((folder / "SITEX_0050001_rois_cc200.1D").read_text())
    with pytest.raises(NeuroLIPInputError, match="subject 50001") as error:
        load_abide()
    assert "SITEX_0050001_rois_cc200.1D" in str(error.value) and "SITEZ_0050001_rois_cc200.1D" in str(
        error.value
    )


def test_a_changed_setting_reruns_through_any_spelling_of_the_results_folder(tmp_path):
    # the data stage of a tiny simulated cohort (a few seconds), then dry runs of the default target only
    from test_workflow import tiny_config

    config = tiny_config(tmp_path)
    settings = yaml.safe_load(config.read_text())
    settings["dataset"]["simulated"].update(
        n_subjects=40, n_rois=8, n_disease_regions=2, n_sensitive_regions=2
    )
    settings["dataset"]["n_rois"] = 8
    config.write_text(yaml.safe_dump(settings))
    folds = tmp_path / "results" / "simulated" / "data" / "folds.tsv"
    run_snakemake(["--cores", "1", "--nolock", "--configfile", str(config), "--", str(folds)])
    (tmp_path / "link").symlink_to(tmp_path / "results")
    for spelling in (tmp_path / "link", tmp_path / "sub" / ".." / "results"):
        for seed, reruns in ((0, False), (7, True)):
            settings.update(results_dir=f"{spelling}/", cv={**settings["cv"], "seed": seed})
            config.write_text(yaml.safe_dump(settings))
            dry = run_snakemake(["-n", "--nolock", "--configfile", str(config)]).stdout
            jobs = set(re.findall(r"^(?:rule|checkpoint) (\w+):", dry, flags=re.M))
            assert ("folds" in jobs) == reruns and "fetch" not in jobs, (spelling, seed, dry[-3000:])
            # every spelling names the same files: the resolved folder
            assert f"{tmp_path}/results/simulated/" in dry and f"{spelling}/simulated" not in dry


def test_every_spelling_of_a_results_folder_is_one_path(tmp_path):
    from neurolip.config import canonical_results_dir

    (tmp_path / "work").mkdir()
    (tmp_path / "scratch").mkdir()
    (tmp_path / "work" / "linked").symlink_to(tmp_path / "scratch")
    (tmp_path / "work" / "inside").symlink_to(tmp_path / "work" / "results")
    cwd = tmp_path / "work"
    for spelling in ("results", "./results/", f"{cwd}/results", "inside", "x/../results"):
        assert canonical_results_dir(spelling, cwd) == "results", spelling
    assert canonical_results_dir("linked", cwd) == str(tmp_path / "scratch")
    assert canonical_results_dir("r; touch PWNED", cwd) == "r; touch PWNED"


def test_an_edited_phenotype_table_with_its_old_modification_time_reruns_fetch(tmp_path, rng):
    import os

    root, config, cohort = athena_workflow_config(tmp_path, rng)
    run_snakemake(["--cores", "1", "--nolock", "--configfile", str(config), "--", str(cohort)])
    table_path = root / "adhd200_preprocessed_phenotypics.tsv"
    before = table_path.stat()
    table = pd.read_csv(table_path, sep="\t", dtype=str, keep_default_na=False)
    table.loc[table["ScanDir ID"] == "1018959", "Age"] = "10.5"
    table.to_csv(table_path, sep="\t", index=False)
    os.utime(table_path, ns=(before.st_atime_ns, before.st_mtime_ns))  # what cp -p or rsync -a do
    jobs, output = planned_jobs(config, cohort)
    assert "fetch" in jobs and "Params have changed" in output
    run_snakemake(["--cores", "1", "--nolock", "--configfile", str(config), "--", str(cohort)])
    ages = pd.read_csv(cohort, sep="\t", dtype={"subject_id": str}).set_index("subject_id")["age"]
    assert ages["1018959"] == 10.5
    assert planned_jobs(config, cohort)[0] == []


def test_only_the_small_tables_of_a_source_are_hashed(tmp_path, rng):
    from neurolip.source_files import source_files, source_table_digests

    write_athena(tmp_path, rng)
    dataset = {"source": "adhd_athena", "adhd_athena": {"root": str(tmp_path)}}
    table = str(tmp_path / "adhd200_preprocessed_phenotypics.tsv")
    digests = source_table_digests(dataset)
    assert list(digests) == [table] and len(digests[table]) == 64
    assert source_files(dataset)[0] == table and len(source_files(dataset)) == 7


def test_folds_whose_validation_split_holds_no_patient_stop_the_folds_step(tmp_path):
    # 6 patients of 60, two sites: the stratified validation split of fold 0 (4 subjects) draws no patient
    cohort = pd.DataFrame(
        {
            "subject_id": [f"{i:03d}" for i in range(60)],
            "diagnosis": [1] * 6 + [0] * 54,
            "site": [f"s{i % 2}" for i in range(60)],
        }
    )
    cohort.to_csv(tmp_path / "cohort.tsv", sep="\t", index=False)
    cv = {"n_folds": 3, "val_fraction": 0.1, "seed": 0}
    with pytest.raises(
        NeuroLIPInputError,
        match=r"cohort.tsv.*fold 0: the val split holds 4 subjects, 4 controls \(diagnosis 0\) and 0 patients",
    ):
        data_stage.write_folds(cv, tmp_path / "cohort.tsv", tmp_path / "folds.tsv")
    assert not (tmp_path / "folds.tsv").exists()


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"objective": "linear", "erase_attribute": "handedness"}, "methods.m.erase_attribute 'handedness'"),
        (
            {"objective": "linear", "group_thresholds": {"attribute": "handedness"}},
            "methods.m.group_thresholds.attribute 'handedness'",
        ),
        ({"fairclip_weight": 0.1, "fairclip_attribute": "handedness"}, "methods.m protects 'handedness'"),
    ],
)
def test_every_attribute_a_method_names_is_checked_when_the_workflow_is_parsed(tmp_path, entry, message):
    config = small_config(
        tmp_path,
        methods={"m": entry},
        training={"methods": ["m"]},
        evaluation={"fair_thresholds": {"methods": []}},
    )
    process = run_snakemake(["-n", "--configfile", str(config)], check=False)
    output = process.stdout + process.stderr
    assert process.returncode != 0 and message in output, output[-2000:]
    assert "not among dataset.sensitive_attributes" in output and "rule fetch" not in output


def test_a_text_map_missing_a_code_is_an_error_naming_code_field_and_file(tmp_path):
    from neurolip.config import check_consistency
    from neurolip.text import class_prompts

    diagnosis = {"field": "diagnosis", "role": "disease", "template": "Dx: {value}.", "values": {1: "ASD"}}
    dataset, paths = phenotype_files(tmp_path, [diagnosis])
    with pytest.raises(
        NeuroLIPInputError, match=r"raw\.tsv.*text segment 'diagnosis'.*does not cover.*\['0'\]"
    ):
        data_stage.prepare_phenotypes(dataset, *paths)
    with pytest.raises(ValueError, match="'diagnosis'.*class 0"):
        class_prompts([diagnosis])
    config = {
        "dataset": {"sensitive_attributes": ["sex"], "text": {"segments": [diagnosis]}},
        "training": {"methods": []},
        "methods": {},
    }
    with pytest.raises(ValueError, match=r"dataset.text.segments: 'diagnosis'.*does not cover.*0"):
        check_consistency(config)
    # an optional field's map missing a code is an error too
    sex = {"field": "sex", "role": "sensitive", "template": "Sex: {value}.", "values": {"male": "boy"}}
    dataset, paths = phenotype_files(tmp_path, [{**diagnosis, "values": {0: "TD", 1: "ASD"}}, sex])
    with pytest.raises(NeuroLIPInputError, match=r"text segment 'sex'.*\['female'\] \(2 subjects\)"):
        data_stage.prepare_phenotypes(dataset, *paths)


# issue 35, low ------------------------------------------------------------------ config and table holes
@pytest.mark.parametrize(
    "override, message",
    [
        ({"evaluation": {"fair_thresholds": {"methdos": []}}}, "methdos"),
        ({"fmriprep_run": {"enabeld": True}}, "enabeld"),
        ({"training": {"methods": ["linear_fc", "linear_fc"]}}, "non-unique|has non-unique elements"),
        (
            {"training": {"min_epochs": 9, "max_epochs": 3}},
            "training.min_epochs 9 exceeds training.max_epochs 3",
        ),
    ],
)
def test_nested_typos_duplicate_methods_and_epoch_bounds_are_refused_at_parse_time(
    tmp_path, override, message
):
    config = small_config(tmp_path, **override)
    process = run_snakemake(["-n", "--configfile", str(config)], check=False)
    output = process.stdout + process.stderr
    assert process.returncode != 0 and re.search(message, output), output[-2000:]


def test_a_text_key_typo_is_refused_by_the_schema(tmp_path):
    dataset = yaml.safe_load((REPO / "config" / "simulated.yaml").read_text())["dataset"]
    dataset["text"]["segmnets"] = []
    config = small_config(tmp_path, dataset=dataset)
    process = run_snakemake(["-n", "--configfile", str(config)], check=False)
    assert process.returncode != 0 and "segmnets" in process.stdout + process.stderr


def test_bins_and_labels_of_different_lengths_are_a_clear_error(tmp_path):
    from neurolip.config import check_consistency

    srs = {
        "field": "age",
        "role": "other",
        "template": "Age: {value}.",
        "bins": [10, 20],
        "labels": ["a", "b"],
    }
    config = {
        "dataset": {"sensitive_attributes": ["sex"], "text": {"segments": [srs]}},
        "training": {"methods": []},
        "methods": {},
    }
    with pytest.raises(ValueError, match=r"2 bins \[10, 20\] cut 3 intervals, but 2 labels"):
        check_consistency(config)
    raw = pd.DataFrame(
        {"ID": list("ab"), "Site": "s", "DX": ["0", "1"], "Gender": ["0", "1"], "Age": ["8", "30"]}
    )
    table, _ = normalize_phenotypes(raw, {**SPEC, "columns": {**SPEC["columns"], "age": "Age"}})
    with pytest.raises(NeuroLIPInputError, match="cut 3 intervals"):
        data_stage.render_texts(table, [{**srs, "role": "disease"}], path="cohort.tsv")


@pytest.mark.parametrize("age", ["-5", "250"])
def test_an_impossible_age_names_the_subject_and_file(age):
    raw = pd.DataFrame(
        {"ID": list("ab"), "Site": "s", "DX": ["0", "1"], "Gender": ["0", "1"], "Age": ["9", age]}
    )
    spec = {**SPEC, "columns": {**SPEC["columns"], "age": "Age"}}
    with pytest.raises(NeuroLIPInputError, match=rf"pheno.tsv.*age \(column 'Age'\) outside .* b \({age}\)"):
        normalize_phenotypes(raw, spec, path="pheno.tsv")
    table, _ = normalize_phenotypes(raw, {**spec, "age_range": [-10, 300]})
    assert table.age.tolist() == [9.0, float(age)]


def test_a_site_code_the_site_map_lacks_is_an_error():
    raw = pd.DataFrame({"ID": list("abc"), "Site": ["1", "2", "9"], "DX": ["0", "1", "0"], "Gender": "0"})
    with pytest.raises(NeuroLIPInputError, match=r"site_codes .* lacks the code\(s\) '9' \(1 subjects\)"):
        normalize_phenotypes(raw, {**SPEC, "site_codes": {1: "KKI", 2: "NYU"}}, path="pheno.tsv")
    table, _ = normalize_phenotypes(raw, SPEC)  # no map: the codes are the sites
    assert table.site.tolist() == ["1", "2", "9"]


def test_a_byte_order_mark_at_the_start_of_a_time_series_file_is_read(tmp_path):
    from neurolip.timeseries import read_roi_timeseries

    values = np.arange(12.0).reshape(4, 3)
    for header in ("#1\t#2\t#3\n", ""):
        path = tmp_path / "bom.1D"
        text = header + "\n".join("\t".join(f"{v:.1f}" for v in row) for row in values) + "\n"
        path.write_bytes(b"\xef\xbb\xbf" + text.encode())
        np.testing.assert_array_equal(read_roi_timeseries(path, n_rois=3), values)
