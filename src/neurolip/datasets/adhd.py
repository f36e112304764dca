"""ADHD-200: the Athena release of ROI time courses, and nilearn's ``fetch_adhd`` (4-D images)."""

import re
from pathlib import Path

import pandas as pd

from ..errors import NeuroLIPInputError
from .base import MANIFEST_COLUMNS, SourceData, check_one_file_per_subject, read_table

ATHENA_SITES = {
    1: "Peking",
    2: "Brown",
    3: "KKI",
    4: "NeuroIMAGE",
    5: "NYU",
    6: "OHSU",
    7: "Pittsburgh",
    8: "WashU",
}
_ATHENA_FILE = re.compile(
    r"^sfnwmrda(?P<scan>\d+)_session_(?P<session>\d+)_rest_(?P<run>\d+)_(?P<atlas>.+)_TCs\.1D$"
)


def load_adhd_athena(root, phenotype_file=None, atlas="cc200", session=1, run=1):
    """Index an Athena ``ADHD200_<atlas>_TCs`` tree: ``<Site>/<ScanDirID>/sfnwmrda<ID>_session_1_rest_1_<atlas>_TCs.1D``.

    Subjects are matched to the phenotype table (``adhd200_preprocessed_phenotypics.tsv`` by default) by
    their numeric ScanDir ID, so leading zeros in folder names do not matter. Phenotype rows without a
    file, and files without a phenotype row, are reported as missing.
    """
    root = Path(root)
    if not root.is_dir():
        raise NeuroLIPInputError("ADHD-200 Athena folder does not exist", path=root)
    phenotype_path = Path(phenotype_file) if phenotype_file else root / "adhd200_preprocessed_phenotypics.tsv"
    if not phenotype_path.is_file():
        raise NeuroLIPInputError("ADHD-200 phenotype table not found", path=phenotype_path)
    phenotypes = read_table(phenotype_path, sep="\t", dtype=str, keep_default_na=False)
    if "ScanDir ID" not in phenotypes.columns:
        raise NeuroLIPInputError("phenotype table lacks required column 'ScanDir ID'", path=phenotype_path)
    found = []
    for path in sorted(root.glob(f"*/*/sfnwmrda*_{atlas}_TCs.1D")):
        match = _ATHENA_FILE.match(path.name)
        if (
            match
            and int(match["session"]) == session
            and int(match["run"]) == run
            and match["atlas"] == atlas
        ):
            found.append((int(match["scan"]), path))
    # one scan in two site folders, or a leading-zero copy (0010001 and 10001): an error, never a choice
    check_one_file_per_subject(found, path=root)
    files = dict(found)
    # IDs normalised once (no leading zeros: folders say 0010001, tables 10001), duplicates checked after
    scans = [
        _scan_number(raw_id, row, phenotype_path)
        for row, raw_id in enumerate(phenotypes["ScanDir ID"], start=2)
    ]
    first_row = {}
    for row, scan in enumerate(scans, start=2):
        if scan in first_row:
            raise NeuroLIPInputError(
                f"ScanDir ID {phenotypes['ScanDir ID'].iloc[row - 2]!r} (row {row}) and "
                f"{phenotypes['ScanDir ID'].iloc[first_row[scan] - 2]!r} (row {first_row[scan]}) are the same "
                f"subject {scan} once leading zeros are dropped: one scan cannot have two phenotype rows",
                path=phenotype_path,
            )
        first_row[scan] = row
    phenotypes = phenotypes.assign(**{"ScanDir ID": [str(scan) for scan in scans]})
    manifest, missing = [], []
    listed = set()
    for scan in scans:
        listed.add(scan)
        if scan in files:
            manifest.append(
                {"subject_id": str(scan), "kind": "roi_text", "path": str(files[scan]), "confounds": ""}
            )
        else:
            missing.append((str(scan), "no file", f"no {atlas} time courses for session {session} run {run}"))
    for scan, path in files.items():
        if scan not in listed:
            missing.append((str(scan), "no phenotype row", f"{path} has no row in {phenotype_path.name}"))
    if not manifest:
        raise NeuroLIPInputError(f"no '*_{atlas}_TCs.1D' files matched any phenotype row", path=root)
    return SourceData(
        pd.DataFrame(manifest, columns=MANIFEST_COLUMNS), phenotypes, str(phenotype_path), missing
    )


def _scan_number(raw_id, row, path):
    """The ScanDir ID of table row ``row`` as a number, or a clear error naming the row."""
    text = str(raw_id).strip()
    if not text.isdigit():
        raise NeuroLIPInputError(
            f"row {row}: ScanDir ID {raw_id!r} is not a number (Athena IDs are digits, e.g. 0010001)",
            path=path,
        )
    return int(text)


def load_adhd_nilearn(n_subjects=None, data_dir=None, verbose=0):
    """nilearn's 40-subject ADHD resting-state sample (4-D images + confounds), from its cache or the web."""
    from nilearn.datasets import fetch_adhd

    try:
        bunch = fetch_adhd(n_subjects=n_subjects, data_dir=data_dir, verbose=verbose)
    except Exception as exc:
        raise NeuroLIPInputError(
            f"could not fetch the ADHD sample with nilearn: {exc}. Without network access, pre-fill nilearn's "
            "cache (adhd/ADHD200_40subs_motion_parameters_and_phenotypics.csv and adhd/data/<id>/...)",
            path=data_dir,
        ) from exc
    # read the release's table ourselves: nilearn filters it by string ID, which drops rows whose Subject
    # column was parsed as a number (leading zeros lost); match on the numeric value instead
    phenotype_path = Path(bunch.func[0]).parents[2] / "ADHD200_40subs_motion_parameters_and_phenotypics.csv"
    phenotypes = pd.read_csv(phenotype_path, dtype=str, keep_default_na=False)
    by_subject = {int(s): i for i, s in enumerate(phenotypes["Subject"]) if s.strip().isdigit()}
    rows, missing, keep = [], [], []
    check_one_file_per_subject(
        [(int(Path(f).parent.name), f) for f in bunch.func if Path(f).parent.name.isdigit()],
        what="BOLD image",
        path=phenotype_path,
    )
    for func, confounds in zip(bunch.func, bunch.confounds):
        subject = Path(func).parent.name
        if int(subject) not in by_subject:
            missing.append((subject, "no phenotype row", f"{func} has no row in {phenotype_path.name}"))
            continue
        keep.append(by_subject[int(subject)])
        rows.append({"subject_id": subject, "kind": "nifti", "path": func, "confounds": confounds})
    phenotypes = phenotypes.iloc[keep].reset_index(drop=True)
    phenotypes["Subject"] = [row["subject_id"] for row in rows]
    return SourceData(pd.DataFrame(rows, columns=MANIFEST_COLUMNS), phenotypes, str(phenotype_path), missing)
