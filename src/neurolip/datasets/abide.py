"""ABIDE I Preprocessed (PCP) through nilearn's fetcher."""

from pathlib import Path

import pandas as pd

from ..errors import NeuroLIPInputError
from .base import SourceData

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
        raise NeuroLIPInputError(f"ABIDE derivative {derivative!r} is not a ROI time-series derivative (rois_*)")
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
    files = list(bunch[derivative])
    phenotypes = pd.DataFrame(bunch.phenotypic).reset_index(drop=True)
    if len(files) != len(phenotypes):
        raise NeuroLIPInputError(
            f"nilearn returned {len(files)} files but {len(phenotypes)} phenotype rows", path=data_dir
        )
    manifest = pd.DataFrame(
        {"subject_id": phenotypes["SUB_ID"].astype(int).astype(str), "kind": "roi_text", "path": files, "confounds": ""}
    )
    missing = []
    phenotype_path = ""
    if files:
        # ABIDE_pcp/<pipeline>/<strategy>/<file>: the release's full table lists subjects without files too
        phenotype_path = str(Path(files[0]).parents[2] / PHENOTYPE_FILE)
        full = pd.read_csv(phenotype_path)
        listed = set(manifest["subject_id"])
        for _, row in full.iterrows():
            sid = str(int(row["SUB_ID"]))
            if sid in listed:
                continue
            if str(row.get("FILE_ID")) == "no_filename":
                missing.append((sid, "no file", "FILE_ID is no_filename in the release's phenotype table"))
            elif quality_checked:
                missing.append((sid, "failed quality check", "excluded by fetch_abide_pcp(quality_checked=True)"))
            else:
                missing.append((sid, "no file", f"not returned by fetch_abide_pcp (FILE_ID={row.get('FILE_ID')})"))
    return SourceData(manifest, phenotypes, phenotype_path, missing)
