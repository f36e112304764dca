"""ABIDE I Preprocessed (PCP) through nilearn's fetcher."""

import logging
import re
from pathlib import Path

import pandas as pd

from ..errors import NeuroLIPInputError
from .base import MANIFEST_COLUMNS, SourceData, check_one_file_per_subject, read_table

log = logging.getLogger(__name__)
PHENOTYPE_FILE = "Phenotypic_V1_0b_preprocessed1.csv"
_SAFE_FILE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _sub_id(value, row, path):
    """ABIDE SUB_ID as the digits string, or a clear error naming the row."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is None or not number.is_integer() or number < 0:
        raise NeuroLIPInputError(f"row {row}: SUB_ID {value!r} is not a subject number", path=path)
    return str(int(number))


def load_abide(
    data_dir=None,
    pipeline="cpac",
    band_pass_filtering=True,
    global_signal_regression=True,
    derivative="rois_cc200",
    quality_checked=False,
    verbose=0,
):
    """Fetch (or find in nilearn's cache) the ABIDE PCP ROI time series and phenotypes.

    With ``data_dir=None`` nilearn resolves the folder itself (``NILEARN_DATA``, then ``~/nilearn_data``).
    Offline, everything must already be in that cache; a failed download is reported with what to do.
    """
    from nilearn.datasets import fetch_abide_pcp

    if not derivative.startswith("rois_"):
        raise NeuroLIPInputError(
            f"ABIDE derivative {derivative!r} is not a ROI time-series derivative (rois_*)"
        )
    from nilearn.datasets import get_data_dirs

    roots = [Path(d) / "ABIDE_pcp" for d in get_data_dirs(data_dir)]
    cached = next((r for r in roots if (r / PHENOTYPE_FILE).is_file()), None)
    try:
        bunch = fetch_abide_pcp(
            data_dir=data_dir,
            pipeline=pipeline,
            band_pass_filtering=band_pass_filtering,
            global_signal_regression=global_signal_regression,
            derivatives=[derivative],
            quality_checked=quality_checked,
            verbose=verbose,
        )
        phenotypes = pd.DataFrame(bunch.phenotypic).reset_index(drop=True)
    except Exception as exc:  # network errors surface from deep inside urllib/requests
        if cached is None or quality_checked:
            raise NeuroLIPInputError(
                f"could not fetch ABIDE PCP ({pipeline}, {derivative}) with nilearn: {exc}. Without network "
                "access, pre-fill nilearn's cache (set NILEARN_DATA or data_dir to a folder that holds "
                "ABIDE_pcp/...)",
                path=data_dir,
            ) from exc
        # nilearn loads every cached file at once, so one corrupt file fails them all without a name: index
        # the cache instead; the time-series step then reads each file and names (or excludes) a bad one
        log.warning(
            "fetch_abide_pcp failed on the cache at %s (%s); indexing the cached files directly", cached, exc
        )
        phenotypes = read_table(cached / PHENOTYPE_FILE, keep_default_na=False)
        if "FILE_ID" in phenotypes.columns:
            phenotypes = phenotypes[phenotypes["FILE_ID"].astype(str) != "no_filename"].reset_index(drop=True)
    # the fetcher returns loaded arrays, not paths: find the files where it cached them, so that the
    # time-series step reads (and validates) each one and names it in any error
    strategy = ("filt_" if band_pass_filtering else "nofilt_") + (
        "global" if global_signal_regression else "noglobal"
    )
    root = cached or roots[0]
    for column in ("SUB_ID", "FILE_ID"):
        if column not in phenotypes.columns:
            raise NeuroLIPInputError(
                f"ABIDE phenotype table lacks required column {column!r} (columns: {list(phenotypes.columns)[:20]})",
                path=root / PHENOTYPE_FILE,
            )
    subject_ids = [
        _sub_id(value, row, root / PHENOTYPE_FILE) for row, value in enumerate(phenotypes["SUB_ID"], start=2)
    ]
    # FILE_ID becomes part of a path: a value that could leave the cache (../, /) is refused
    files = []
    for row, file_id in enumerate(phenotypes["FILE_ID"], start=2):
        if not _SAFE_FILE_ID.match(str(file_id)) or ".." in str(file_id):
            raise NeuroLIPInputError(
                f"row {row}: FILE_ID {file_id!r} is not a safe file name (letters, digits, '_', '-', '.')",
                path=root / PHENOTYPE_FILE,
            )
        files.append(str(root / pipeline / strategy / f"{file_id}_{derivative}.1D"))
    # two rows of one subject (SUB_ID 0050002 and 50002, two FILE_IDs): an error naming both files here,
    # before any extraction, rather than a bare duplicated ID later
    check_one_file_per_subject(zip(subject_ids, files), path=root / PHENOTYPE_FILE)
    manifest = pd.DataFrame(
        {
            "subject_id": subject_ids,
            "kind": "roi_text",
            "path": files,
            "confounds": "",
        },
        columns=MANIFEST_COLUMNS,
    )
    missing = []
    phenotype_path = ""
    if files:
        # the release's full table lists subjects without files too: log them rather than drop them silently
        phenotype_path = str(root / PHENOTYPE_FILE)
        full = pd.read_csv(phenotype_path)
        listed = set(manifest["subject_id"])
        for _, row in full.iterrows():
            sid = str(int(row["SUB_ID"]))
            if sid in listed:
                continue
            if str(row.get("FILE_ID")) == "no_filename":
                missing.append((sid, "no file", "FILE_ID is no_filename in the release's phenotype table"))
            elif quality_checked:
                missing.append(
                    (sid, "failed quality check", "excluded by fetch_abide_pcp(quality_checked=True)")
                )
            else:
                missing.append(
                    (sid, "no file", f"not returned by fetch_abide_pcp (FILE_ID={row.get('FILE_ID')})")
                )
    return SourceData(manifest, phenotypes, phenotype_path, missing)
