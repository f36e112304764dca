"""Every data source that can run offline, on small fixture files the tests generate: the ABIDE and ADHD
fetchers of nilearn against a pre-filled cache, the Athena ADHD-200 layout, and fMRIPrep derivatives."""

import json

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO

from neurolip import data_stage
from neurolip.errors import NeuroLIPInputError


def dataset_config(name, **source_options):
    with open(REPO / "config" / f"{name}.yaml") as handle:
        dataset = yaml.safe_load(handle)["dataset"]
    dataset[dataset["source"]].update(source_options)
    return dataset


def run_data_stage(dataset, out):
    out.mkdir(parents=True, exist_ok=True)
    data_stage.fetch(
        dataset,
        out / "raw",
        out / "manifest.tsv",
        out / "raw_ph.tsv",
        out / "ex1.tsv",
        out / "coords.csv",
        out / "truth.json",
    )
    data_stage.extract_timeseries(dataset, out / "manifest.tsv", out / "ts.npz", out / "ex2.tsv")
    data_stage.prepare_phenotypes(dataset, out / "raw_ph.tsv", out / "ph.tsv", out / "ex3.tsv")
    data_stage.build_connectomes(
        {"kind": "correlation"},
        out / "ts.npz",
        out / "ph.tsv",
        [out / "ex1.tsv", out / "ex2.tsv", out / "ex3.tsv"],
        out / "conn.npz",
        out / "qc.tsv",
        out / "exclusions.tsv",
        out / "cohort.tsv",
    )
    subject_ids, matrices = data_stage.load_connectomes(out / "conn.npz")
    return subject_ids, matrices, pd.read_csv(out / "exclusions.tsv", sep="\t", dtype=str)


# ------------------------------------------------------------------ ABIDE through nilearn's fetcher
def write_abide_cache(root, rng, n=6, n_rois=200):
    base = root / "ABIDE_pcp"
    (base / "cpac" / "filt_global").mkdir(parents=True)
    rows = []
    for i in range(n):
        sub = 50000 + i
        file_id = f"SITEX_{sub:07d}" if i < n - 1 else "no_filename"
        rows.append(
            {
                "SUB_ID": sub,
                "FILE_ID": file_id,
                "SITE_ID": "SITEX" if i % 2 else "SITEY",
                "DX_GROUP": 1 + i % 2,
                "SEX": 1,
                "AGE_AT_SCAN": 20.0,
                "SRS_RAW_TOTAL": 40 + i if i % 2 else -9999,  # missing for some, as in the release
            }
        )
        if file_id != "no_filename":
            values = rng.standard_normal((100 if i != 2 else 30, n_rois))
            header = "\t".join(f"#{k + 1}" for k in range(n_rois))
            np.savetxt(
                base / "cpac" / "filt_global" / f"{file_id}_rois_cc200.1D",
                values,
                delimiter="\t",
                header=header,
                comments="",
                fmt="%.4f",
            )
    pd.DataFrame(rows).to_csv(base / "Phenotypic_V1_0b_preprocessed1.csv")  # index column, like the release


def test_abide_fetcher_runs_offline_from_a_prefilled_cache(tmp_path, rng, monkeypatch):
    write_abide_cache(tmp_path / "nilearn_data", rng)
    monkeypatch.setenv("NILEARN_DATA", str(tmp_path / "nilearn_data"))
    dataset = dataset_config("abide")
    subject_ids, matrices, exclusions = run_data_stage(dataset, tmp_path / "out")
    assert sorted(subject_ids) == ["50000", "50001", "50003", "50004"]
    assert matrices.shape == (4, 200, 200)
    reasons = dict(zip(exclusions.subject_id, exclusions.reason))
    assert reasons == {"50005": "no file", "50002": "too few volumes"}
    assert len(pd.read_csv(tmp_path / "out" / "coords.csv")) == 200


def test_abide_without_cache_or_network_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("NILEARN_DATA", str(tmp_path / "empty"))
    import nilearn.datasets._utils as utils

    def no_network(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(utils, "fetch_single_file", no_network)
    with pytest.raises(NeuroLIPInputError, match="could not fetch ABIDE PCP.*pre-fill nilearn's cache"):
        data_stage.load_source(dataset_config("abide"), tmp_path / "raw")


# ------------------------------------------------------------------ ADHD-200, Athena layout
def write_athena(root, rng, n_rois=190):
    rows = [
        {"ScanDir ID": "1018959", "Site": "3", "Gender": "1", "Age": "9.5", "DX": "0"},
        {"ScanDir ID": "0010001", "Site": "5", "Gender": "0", "Age": "10.1", "DX": "1"},
        {"ScanDir ID": "0010002", "Site": "5", "Gender": "1", "Age": "-999", "DX": "3"},
        {"ScanDir ID": "0010003", "Site": "5", "Gender": "1", "Age": "12", "DX": "pending"},
        {"ScanDir ID": "0010004", "Site": "5", "Gender": "0", "Age": "12", "DX": "0"},  # no file
        {"ScanDir ID": "1000804", "Site": "3", "Gender": "N/A", "Age": "11", "DX": "2"},
    ]
    pd.DataFrame(rows).to_csv(root / "adhd200_preprocessed_phenotypics.tsv", sep="\t", index=False)
    files = {"KKI": ["1018959", "1000804", "2026113"], "NYU": ["0010001", "0010002", "0010003"]}
    for site, ids in files.items():
        for scan in ids:
            folder = root / site / scan
            folder.mkdir(parents=True)
            values = rng.standard_normal((120, n_rois))
            if scan == "1000804":
                values[:, 5] = 0.0  # ROI outside the field of view
            lines = ["File\tSub-brick\t" + "\t".join(f"Mean_{k + 1}" for k in range(n_rois))]
            lines += [
                f"/x/sfnwmrda{scan}.nii.gz\t{t}[?]\t" + "\t".join(f"{v:.4f}" for v in row)
                for t, row in enumerate(values)
            ]
            (folder / f"sfnwmrda{scan}_session_1_rest_1_cc200_TCs.1D").write_text("\n".join(lines) + "\n")


def test_adhd_athena_layout(tmp_path, rng):
    write_athena(tmp_path, rng)
    subject_ids, matrices, exclusions = run_data_stage(
        dataset_config("adhd200", root=str(tmp_path)), tmp_path / "out"
    )
    # IDs are normalised once: folder 0010001 and table row 10001 are subject 10001
    assert sorted(subject_ids) == ["10001", "10002", "1000804", "1018959"]
    reasons = dict(zip(exclusions.subject_id, exclusions.reason))
    assert reasons["10004"] == "no file"
    assert reasons["2026113"] == "no phenotype row"
    assert reasons["10003"] == "no diagnosis"
    cohort = pd.read_csv(tmp_path / "out" / "cohort.tsv", sep="\t", dtype={"subject_id": str}).set_index(
        "subject_id"
    )
    assert cohort.loc["10002", "diagnosis"] == 1 and cohort.loc["1018959", "site"] == "KKI"
    assert cohort.loc["10001", "sex"] == "female" and pd.isna(cohort.loc["1000804", "sex"])
    qc = pd.read_csv(tmp_path / "out" / "qc.tsv", sep="\t", dtype={"subject_id": str}).set_index("subject_id")
    assert qc.loc["1000804", "n_zero_variance_rois"] == 1


# ------------------------------------------------------------------ NIfTI sources
def labels_atlas(path, shape=(8, 8, 8)):
    labels = np.zeros(shape, dtype=np.int16)
    labels[:4, :4, :] = 1
    labels[4:, :4, :] = 2
    labels[:4, 4:, :] = 3
    labels[4:, 4:, :] = 4
    affine = np.diag([4.0, 4.0, 4.0, 1.0])
    affine[:3, 3] = -16
    nib.save(nib.Nifti1Image(labels, affine), path)
    return affine


def bold_image(path, affine, rng, n_volumes=80, shape=(8, 8, 8)):
    signals = rng.standard_normal((n_volumes, 4))
    data = np.zeros(shape + (n_volumes,), dtype=np.float32)
    for k, (xs, ys) in enumerate(
        [
            (slice(0, 4), slice(0, 4)),
            (slice(4, 8), slice(0, 4)),
            (slice(0, 4), slice(4, 8)),
            (slice(4, 8), slice(4, 8)),
        ]
    ):
        data[xs, ys, :, :] = 100 + signals[:, k] + 0.1 * rng.standard_normal((4, 4, shape[2], n_volumes))
    nib.save(nib.Nifti1Image(data, affine), path)


def write_fmriprep_derivatives(tmp_path, rng):
    """Four participants (one without images, one with a short scan, one without diagnosis); returns the
    dataset section that reads them."""
    derivatives = tmp_path / "bids" / "derivatives" / "fmriprep"
    affine = labels_atlas(tmp_path / "atlas.nii.gz")
    participants = pd.DataFrame(
        {
            "participant_id": ["sub-01", "sub-02", "sub-03", "sub-04"],
            "site": ["A", "A", "B", "B"],
            "diagnosis": ["patient", "control", "patient", "n/a"],
            "sex": ["F", "M", "M", "F"],
            "age": ["30", "n/a", "40", "22"],
        }
    )
    (tmp_path / "bids").mkdir(parents=True)
    participants.to_csv(tmp_path / "bids" / "participants.tsv", sep="\t", index=False)
    for sub in ("01", "02", "04"):
        func = derivatives / f"sub-{sub}" / "func"
        func.mkdir(parents=True)
        bold_image(
            func / f"sub-{sub}_task-rest_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz",
            affine,
            rng,
            n_volumes=80 if sub != "02" else 40,
        )
        n = 80 if sub != "02" else 40
        motion = [
            f"{b}_{a}{suffix}"
            for b in ("trans", "rot")
            for a in "xyz"
            for suffix in ("", "_derivative1", "_power2", "_derivative1_power2")
        ]
        columns = motion + ["white_matter", "csf", "cosine00"]
        confounds = pd.DataFrame(rng.standard_normal((n, len(columns))) * 0.1, columns=columns)
        confounds.to_csv(func / f"sub-{sub}_task-rest_desc-confounds_timeseries.tsv", sep="\t", index=False)
        (func / f"sub-{sub}_task-rest_desc-confounds_timeseries.json").write_text(json.dumps({}))
    return dataset_config(
        "fmriprep",
        derivatives_dir=str(derivatives),
        participants_file=str(tmp_path / "bids" / "participants.tsv"),
        atlas={"image": str(tmp_path / "atlas.nii.gz")},
    )


def test_fmriprep_derivatives(tmp_path, rng):
    dataset = write_fmriprep_derivatives(tmp_path, rng)
    subject_ids, matrices, exclusions = run_data_stage(dataset, tmp_path / "out")
    assert list(subject_ids) == ["01"]
    assert matrices.shape == (1, 4, 4)
    reasons = dict(zip(exclusions.subject_id, exclusions.reason))
    assert reasons == {"03": "no file", "02": "too few volumes", "04": "no diagnosis"}
    assert len(pd.read_csv(tmp_path / "out" / "coords.csv")) == 4


def test_nilearn_fetch_adhd_from_a_prefilled_cache(tmp_path, rng, monkeypatch):
    from nilearn.datasets.func import adhd_ids

    ids = adhd_ids()[:3]
    base = tmp_path / "nilearn_data" / "adhd"
    (base / "data").mkdir(parents=True)
    pd.DataFrame(
        {
            "Subject": [int(i) for i in ids],
            "site": ["NYU", "NYU", "Peking"],
            "sex": ["M", "F", "M"],
            "age": [10, 11, 12],
            "adhd": [1, 0, 1],
        }
    ).to_csv(base / "ADHD200_40subs_motion_parameters_and_phenotypics.csv", index=False)
    affine = labels_atlas(tmp_path / "atlas.nii.gz")
    for subject in ids:
        folder = base / "data" / subject
        folder.mkdir()
        bold_image(folder / f"{subject}_rest_tshift_RPI_voreg_mni.nii.gz", affine, rng)
        np.savetxt(
            folder / f"{subject}_regressors.csv",
            rng.standard_normal((80, 3)),
            delimiter="\t",
            header="motion-x\tmotion-y\tmotion-z",
            comments="",
        )
    monkeypatch.setenv("NILEARN_DATA", str(tmp_path / "nilearn_data"))
    dataset = dataset_config("adhd_nilearn", n_subjects=3, atlas={"image": str(tmp_path / "atlas.nii.gz")})
    subject_ids, matrices, exclusions = run_data_stage(dataset, tmp_path / "out")
    assert sorted(subject_ids) == sorted(ids)
    assert matrices.shape == (3, 4, 4) and np.isfinite(matrices).all()
    assert exclusions.empty


# ------------------------------------------------------------------ bad files in the data stage
@pytest.fixture
def simulated_raw(tmp_path):
    from cohort import tiny_dataset_config

    dataset = tiny_dataset_config(n_subjects=20, n_rois=8)
    out = tmp_path / "out"
    out.mkdir()
    data_stage.fetch(dataset, out / "raw", out / "manifest.tsv", out / "raw_ph.tsv", out / "ex1.tsv")
    return dataset, out


def test_bad_files_are_excluded_with_their_reason(simulated_raw):
    dataset, out = simulated_raw
    ts = out / "raw" / "timeseries"
    (ts / "sim0001_rois.1D").write_text("#1\t#2\n0.1\tabc\n")
    values = np.loadtxt(ts / "sim0002_rois.1D", skiprows=1)
    np.savetxt(ts / "sim0002_rois.1D", values[:, :5], delimiter="\t")
    values = np.loadtxt(ts / "sim0003_rois.1D", skiprows=1)
    values[3, 3] = np.nan
    np.savetxt(ts / "sim0003_rois.1D", values, delimiter="\t")
    data_stage.extract_timeseries(dataset, out / "manifest.tsv", out / "ts.npz", out / "ex2.tsv")
    exclusions = pd.read_csv(out / "ex2.tsv", sep="\t", dtype=str).set_index("subject_id")
    assert "non-numeric value 'abc'" in exclusions.loc["sim0001", "detail"]
    assert "wrong column count: 5 ROI columns, the atlas has 8" in exclusions.loc["sim0002", "detail"]
    assert "NaN" in exclusions.loc["sim0003", "detail"]
    assert set(exclusions.loc[["sim0001", "sim0002", "sim0003"], "reason"]) == {
        "unreadable or invalid time series"
    }
    kept = np.load(out / "ts.npz").files
    assert "sim0001" not in kept and "sim0004" in kept


def test_bad_file_stops_the_run_when_asked(simulated_raw):
    dataset, out = simulated_raw
    (out / "raw" / "timeseries" / "sim0001_rois.1D").write_text("#1\t#2\n0.1\tabc\n")
    with pytest.raises(NeuroLIPInputError, match=r"sim0001_rois\.1D, subject sim0001: non-numeric value"):
        data_stage.extract_timeseries(
            {**dataset, "on_bad_file": "error"}, out / "manifest.tsv", out / "ts.npz", out / "ex2.tsv"
        )


def test_unsafe_or_duplicated_ids_in_a_manifest_are_errors(simulated_raw):
    dataset, out = simulated_raw
    manifest = pd.read_csv(out / "manifest.tsv", sep="\t", dtype=str, keep_default_na=False)
    manifest.loc[0, "subject_id"] = "../escape"
    manifest.to_csv(out / "bad.tsv", sep="\t", index=False)
    with pytest.raises(NeuroLIPInputError, match="not a safe identifier"):
        data_stage.extract_timeseries(dataset, out / "bad.tsv", out / "ts.npz", out / "ex2.tsv")
    raw = pd.read_csv(out / "raw_ph.tsv", sep="\t", dtype=str, keep_default_na=False)
    pd.concat([raw, raw.iloc[[1]]]).to_csv(out / "dup.tsv", sep="\t", index=False)
    with pytest.raises(NeuroLIPInputError, match="duplicated subject IDs: sim0002"):
        data_stage.prepare_phenotypes(dataset, out / "dup.tsv", out / "ph.tsv", out / "ex3.tsv")
    raw.drop(columns="dx").to_csv(out / "nodx.tsv", sep="\t", index=False)
    with pytest.raises(
        NeuroLIPInputError, match=r"nodx\.tsv: phenotype table lacks required column\(s\): diagnosis"
    ):
        data_stage.prepare_phenotypes(dataset, out / "nodx.tsv", out / "ph.tsv", out / "ex3.tsv")


@pytest.mark.slow
def test_nifti_time_series_are_extracted_in_one_job_per_subject(tmp_path, rng):
    """4-D sources scatter: one timeseries_subject job per fetched subject, joined by the timeseries job."""
    from conftest import run_snakemake

    dataset = write_fmriprep_derivatives(tmp_path, rng)
    dataset["n_rois"] = 4
    # a second run of sub-01 (its first renamed run-1, as fMRIPrep names several runs): still one job for
    # the subject, whose runs are joined
    func = tmp_path / "bids" / "derivatives" / "fmriprep" / "sub-01" / "func"
    for path in func.iterdir():
        path.rename(func / path.name.replace("_task-rest_", "_task-rest_run-1_"))
    affine = labels_atlas(tmp_path / "atlas.nii.gz")
    write_run(
        tmp_path / "bids" / "derivatives" / "fmriprep" / "sub-01" / "func",
        "sub-01_task-rest_run-2",
        affine,
        rng,
    )
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"results_dir": str(tmp_path / "results"), "dataset": dataset}))
    data = tmp_path / "results" / dataset["name"] / "data"
    run_snakemake([str(data / "timeseries.npz"), "--cores", "2", "--configfile", str(config)])
    logs = sorted(p.stem for p in (data.parent / "logs" / "timeseries").glob("*.log"))
    assert logs == ["01", "02", "04"]  # one job each; 03 has no images (a fetch exclusion)
    with np.load(data / "timeseries.npz") as series:
        assert sorted(series.files) == ["01", "04"] and series["01"].shape == (80 + 40, 4)
    exclusions = pd.read_csv(data / "exclusions_timeseries.tsv", sep="\t", dtype=str)
    assert dict(zip(exclusions.subject_id, exclusions.reason)) == {"02": "too few volumes"}
    assert not list(data.glob("timeseries/*.npz"))  # the per-subject parts are temporary


# ------------------------------------------------------------------ fMRIPrep: sessions and runs
def write_run(func, stem, affine, rng, n_volumes=40):
    """One fMRIPrep run: preprocessed BOLD in MNI space and its confounds (``stem`` holds sub/ses/task/run)."""
    func.mkdir(parents=True, exist_ok=True)
    bold_image(func / f"{stem}_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz", affine, rng, n_volumes)
    motion = [
        f"{b}_{a}{suffix}"
        for b in ("trans", "rot")
        for a in "xyz"
        for suffix in ("", "_derivative1", "_power2", "_derivative1_power2")
    ]
    columns = motion + ["white_matter", "csf", "cosine00"]
    confounds = pd.DataFrame(rng.standard_normal((n_volumes, len(columns))) * 0.1, columns=columns)
    confounds.to_csv(func / f"{stem}_desc-confounds_timeseries.tsv", sep="\t", index=False)
    (func / f"{stem}_desc-confounds_timeseries.json").write_text("{}")


@pytest.fixture
def sessions_and_runs(tmp_path, rng):
    """sub-01: two sessions, three runs of 40 volumes; sub-02: one session, one run without a run entity,
    plus an unrelated task; sub-03: no session folder (a mixed layout); sub-04: a run without confounds."""
    derivatives = tmp_path / "bids" / "derivatives" / "fmriprep"
    affine = labels_atlas(tmp_path / "atlas.nii.gz")
    for stem in ("ses-1_task-rest_run-1", "ses-1_task-rest_run-2", "ses-2_task-rest_run-1"):
        write_run(derivatives / "sub-01" / stem[:5] / "func", f"sub-01_{stem}", affine, rng)
    write_run(derivatives / "sub-02" / "ses-1" / "func", "sub-02_ses-1_task-rest", affine, rng, 70)
    write_run(derivatives / "sub-02" / "ses-1" / "func", "sub-02_ses-1_task-nback", affine, rng)
    write_run(derivatives / "sub-03" / "func", "sub-03_task-rest", affine, rng, 65)
    write_run(derivatives / "sub-04" / "ses-1" / "func", "sub-04_ses-1_task-rest_run-1", affine, rng, 70)
    write_run(derivatives / "sub-04" / "ses-1" / "func", "sub-04_ses-1_task-rest_run-2", affine, rng, 70)
    (
        derivatives
        / "sub-04"
        / "ses-1"
        / "func"
        / "sub-04_ses-1_task-rest_run-2_desc-confounds_timeseries.tsv"
    ).unlink()
    participants = pd.DataFrame(
        {
            "participant_id": ["sub-01", "sub-02", "sub-03", "sub-04"],
            "site": ["A", "A", "B", "B"],
            "diagnosis": ["patient", "control", "patient", "control"],
            "sex": ["F", "M", "M", "F"],
            "age": ["30", "31", "40", "22"],
        }
    )
    participants.to_csv(tmp_path / "bids" / "participants.tsv", sep="\t", index=False)

    def dataset(**options):
        return dataset_config(
            "fmriprep",
            derivatives_dir=str(derivatives),
            participants_file=str(tmp_path / "bids" / "participants.tsv"),
            atlas={"image": str(tmp_path / "atlas.nii.gz")},
            **options,
        )

    return dataset, derivatives, affine


def test_fmriprep_sessions_and_runs_are_joined_per_subject(sessions_and_runs, tmp_path):
    dataset, derivatives, _ = sessions_and_runs
    manifest = data_stage.load_source(dataset(), tmp_path / "raw").manifest
    runs = manifest[manifest.subject_id == "01"]["path"].map(lambda p: p.split("/")[-1][:24]).tolist()
    assert runs == ["sub-01_ses-1_task-rest_r", "sub-01_ses-1_task-rest_r", "sub-01_ses-2_task-rest_r"]
    assert [p.split("_run-")[1][0] for p in manifest[manifest.subject_id == "01"]["path"]] == ["1", "2", "1"]
    subject_ids, matrices, exclusions = run_data_stage(dataset(), tmp_path / "out")
    # three runs of 40 volumes pass min_volumes (60) together; the nback task is not read
    assert sorted(subject_ids) == ["01", "02", "03"]
    with np.load(tmp_path / "out" / "ts.npz") as series:
        assert (
            series["01"].shape == (120, 4) and series["02"].shape == (70, 4) and series["03"].shape == (65, 4)
        )
    reasons = dict(zip(exclusions.subject_id, exclusions.reason))
    assert reasons == {"04": "no confounds file"}
    detail = exclusions.set_index("subject_id").loc["04", "detail"]
    assert "sub-04_ses-1_task-rest_run-2_space-MNI152NLin2009cAsym_desc-preproc_bold.nii.gz" in detail


def test_fmriprep_session_run_selection_and_first_run(sessions_and_runs, tmp_path):
    dataset, _, _ = sessions_and_runs
    only = data_stage.load_source(dataset(sessions=["2"]), tmp_path / "raw")
    assert only.manifest.subject_id.tolist() == ["01"] and "ses-2" in only.manifest.path[0]
    assert {m[0]: m[1] for m in only.missing}["02"] == "no file"
    first = data_stage.load_source(dataset(combine_runs="first"), tmp_path / "raw").manifest
    assert first.subject_id.tolist() == ["01", "02", "03", "04"]
    assert "ses-1_task-rest_run-1_" in first.path[0]
    second_runs = data_stage.load_source(dataset(runs=[2]), tmp_path / "raw")  # run-2 is "2" and 2
    assert second_runs.manifest.subject_id.tolist() == ["01"] and "run-2" in second_runs.manifest.path[0]


def test_fmriprep_ambiguous_runs_are_an_error_until_filtered(sessions_and_runs, tmp_path, rng):
    dataset, derivatives, affine = sessions_and_runs
    func = derivatives / "sub-03" / "func"
    bold_image(
        func / "sub-03_task-rest_space-MNI152NLin2009cAsym_res-2_desc-preproc_bold.nii.gz", affine, rng, 65
    )
    with pytest.raises(
        NeuroLIPInputError, match=r"sub-03.*differ in res.*dataset\.fmriprep\.filters"
    ) as error:
        data_stage.load_source(dataset(), tmp_path / "raw")
    assert "res-2_desc-preproc_bold.nii.gz" in str(error.value)
    # "" = the entity must be absent: the native-resolution file only
    chosen = data_stage.load_source(dataset(filters={"res": ""}), tmp_path / "raw").manifest
    assert "res-2" not in chosen[chosen.subject_id == "03"].path.iloc[0]
