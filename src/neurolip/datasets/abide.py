"""ABIDE I Preprocessed (PCP) through nilearn's fetcher."""

from pathlib import Path

import pandas as pd

from ..errors import NeuroLIPInputError
from .base import MANIFEST_COLUMNS, SourceData

PHENOTYPE_FILE = "Phenotypic_V1_0b_preprocessed1.csv"


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
    except Exception as exc:  # network errors surface from deep inside urllib/requests
        raise NeuroLIPInputError(
            f"could not fetch ABIDE PCP ({pipeline}, {derivative}) with nilearn: {exc}. Without network access, "
            "pre-fill nilearn's cache (set NILEARN_DATA or data_dir to a folder that holds ABIDE_pcp/...)",
            path=data_dir,
        ) from exc
    phenotypes = pd.DataFrame(bunch.phenotypic).reset_index(drop=True)
    # the fetcher returns loaded arrays, not paths: find the files where it cached them, so that the
    # time-series step reads (and validates) each one and names it in any error
    from nilearn.datasets import get_data_dirs

    strategy = ("filt_" if band_pass_filtering else "nofilt_") + (
        "global" if global_signal_regression else "noglobal"
    )
    roots = [Path(d) / "ABIDE_pcp" for d in get_data_dirs(data_dir)]
    root = next((r for r in roots if (r / PHENOTYPE_FILE).is_file()), roots[0])
    files = [
        str(root / pipeline / strategy / f"{file_id}_{derivative}.1D") for file_id in phenotypes["FILE_ID"]
    ]
    manifest = pd.DataFrame(
        {
            "subject_id": phenotypes["SUB_ID"].astype(int).astype(str),
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
