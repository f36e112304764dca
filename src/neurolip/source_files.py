"""The files a data source reads, found cheaply when the workflow is parsed, so that they are inputs of the
``fetch`` checkpoint: editing a phenotype row or rewriting a time-series file then reruns what depends on it
(Snakemake's modification-time and input-set triggers), and an unchanged source reruns nothing.

Only directory listings and the paths of known layouts: no file is opened, so a no-change rerun stays fast
on a 1000-subject release. This module imports nothing heavy (it runs on every ``snakemake`` invocation).
"""

import os
from pathlib import Path

ABIDE_PHENOTYPE_FILE = "Phenotypic_V1_0b_preprocessed1.csv"
ADHD_NILEARN_TABLE = "ADHD200_40subs_motion_parameters_and_phenotypics.csv"


def nilearn_data_dirs(data_dir=None):
    """The folders nilearn's fetchers search, in their order (``nilearn.datasets.get_data_dirs``: the given
    folder, ``NILEARN_SHARED_DATA``, ``NILEARN_DATA``, ``~/nilearn_data``), without importing nilearn, whose
    import alone takes seconds."""
    dirs = [str(data_dir)] if data_dir else []
    for variable in ("NILEARN_SHARED_DATA", "NILEARN_DATA"):
        dirs += [d for d in os.environ.get(variable, "").split(os.pathsep) if d]
    dirs.append(str(Path("~/nilearn_data").expanduser()))
    return [Path(d).expanduser() for d in dirs]


def _abide(options):
    root = next(
        (
            d / "ABIDE_pcp"
            for d in nilearn_data_dirs(options.get("data_dir"))
            if (d / "ABIDE_pcp" / ABIDE_PHENOTYPE_FILE).is_file()
        ),
        None,
    )
    if root is None:  # nothing cached yet: fetch downloads, and the next run sees the files
        return []
    strategy = ("filt_" if options.get("band_pass_filtering", True) else "nofilt_") + (
        "global" if options.get("global_signal_regression", True) else "noglobal"
    )
    derivative = options.get("derivative", "rois_cc200")
    folder = root / options.get("pipeline", "cpac") / strategy
    return [root / ABIDE_PHENOTYPE_FILE, *sorted(folder.glob(f"*_{derivative}.1D"))]


def _adhd_athena(options):
    root = Path(options["root"])
    table = Path(options.get("phenotype_file") or root / "adhd200_preprocessed_phenotypics.tsv")
    atlas = options.get("atlas", "cc200")
    return [table, *sorted(root.glob(f"*/*/sfnwmrda*_{atlas}_TCs.1D"))] if table.is_file() else []


def _adhd_nilearn(options):
    root = next(
        (
            d / "adhd"
            for d in nilearn_data_dirs(options.get("data_dir"))
            if (d / "adhd" / ADHD_NILEARN_TABLE).is_file()
        ),
        None,
    )
    if root is None:
        return []
    return [root / ADHD_NILEARN_TABLE, *sorted((root / "data").glob("*/*"))]


def _fmriprep(options):
    derivatives = Path(options["derivatives_dir"])
    participants = options.get("participants_file")
    candidates = [Path(participants)] if participants else [derivatives / "participants.tsv"]
    candidates.append(derivatives.parent.parent / "participants.tsv")
    table = next((c for c in candidates if c.is_file()), None)
    if table is None or not derivatives.is_dir():
        return []
    task, space = options.get("task", "rest"), options.get("space", "MNI152NLin2009cAsym")
    images = [
        *derivatives.glob(f"sub-*/func/*_task-{task}_*space-{space}*_desc-preproc_bold.nii*"),
        *derivatives.glob(f"sub-*/ses-*/func/*_task-{task}_*space-{space}*_desc-preproc_bold.nii*"),
        *derivatives.glob(f"sub-*/func/*_task-{task}_*desc-confounds_timeseries.tsv"),
        *derivatives.glob(f"sub-*/ses-*/func/*_task-{task}_*desc-confounds_timeseries.tsv"),
    ]
    return [table, *sorted(images)]


def source_files(dataset):
    """The files ``dataset``'s source reads (phenotype table or cache index first, then the time-series or
    image files), as sorted paths; [] for the simulated cohort (made by ``fetch`` from its settings, which
    rerun it as parameters) and for a nilearn cache that is not filled yet."""
    source = dataset["source"]
    options = dataset.get(source, {}) or {}
    finders = {
        "abide": _abide,
        "adhd_athena": _adhd_athena,
        "adhd_nilearn": _adhd_nilearn,
        "fmriprep": _fmriprep,
    }
    if source not in finders:
        return []
    configured = [Path(p) for p in [dataset.get("roi_coordinates")] if p and Path(p).is_file()]
    return [str(p) for p in finders[source](options) + configured]
