"""The files a data source reads, found cheaply when the workflow is parsed, so that they are inputs of the
``fetch`` checkpoint: editing a phenotype row or rewriting a time-series file then reruns what depends on it
(Snakemake's modification-time and input-set triggers), and an unchanged source reruns nothing.

Only directory listings and the paths of known layouts: no time-series or image file is opened, so a
no-change rerun stays fast on a 1000-subject release. The small tables a source reads (phenotype table,
cache index, ``participants.tsv``, a configured ROI table) are also known by their content
(:func:`source_table_digests`, a ``params:`` entry of ``fetch``): a row edited by a copy that keeps the old
modification time (``cp -p``, ``rsync -a``, ``tar``) reruns ``fetch`` too. This module imports nothing heavy
(it runs on every ``snakemake`` invocation).
"""

import hashlib
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


def _abide(options, tables_only=False):
    root = next(
        (
            d / "ABIDE_pcp"
            for d in nilearn_data_dirs(options.get("data_dir"))
            if (d / "ABIDE_pcp" / ABIDE_PHENOTYPE_FILE).is_file()
        ),
        None,
    )
    if root is None:  # nothing cached yet: fetch downloads, and the next run sees the files
        return [], []
    if tables_only:
        return [root / ABIDE_PHENOTYPE_FILE], []
    strategy = ("filt_" if options.get("band_pass_filtering", True) else "nofilt_") + (
        "global" if options.get("global_signal_regression", True) else "noglobal"
    )
    derivative = options.get("derivative", "rois_cc200")
    folder = root / options.get("pipeline", "cpac") / strategy
    return [root / ABIDE_PHENOTYPE_FILE], sorted(folder.glob(f"*_{derivative}.1D"))


def _adhd_athena(options, tables_only=False):
    root = Path(options["root"])
    table = Path(options.get("phenotype_file") or root / "adhd200_preprocessed_phenotypics.tsv")
    atlas = options.get("atlas", "cc200")
    if not table.is_file():
        return [], []
    return [table], [] if tables_only else sorted(root.glob(f"*/*/sfnwmrda*_{atlas}_TCs.1D"))


def _adhd_nilearn(options, tables_only=False):
    root = next(
        (
            d / "adhd"
            for d in nilearn_data_dirs(options.get("data_dir"))
            if (d / "adhd" / ADHD_NILEARN_TABLE).is_file()
        ),
        None,
    )
    if root is None:
        return [], []
    return [root / ADHD_NILEARN_TABLE], [] if tables_only else sorted((root / "data").glob("*/*"))


def _fmriprep(options, tables_only=False):
    derivatives = Path(options["derivatives_dir"])
    participants = options.get("participants_file")
    candidates = [Path(participants)] if participants else [derivatives / "participants.tsv"]
    candidates.append(derivatives.parent.parent / "participants.tsv")
    table = next((c for c in candidates if c.is_file()), None)
    if table is None or not derivatives.is_dir():
        return [], []
    if tables_only:
        return [table], []
    task, space = options.get("task", "rest"), options.get("space", "MNI152NLin2009cAsym")
    images = [
        *derivatives.glob(f"sub-*/func/*_task-{task}_*space-{space}*_desc-preproc_bold.nii*"),
        *derivatives.glob(f"sub-*/ses-*/func/*_task-{task}_*space-{space}*_desc-preproc_bold.nii*"),
        *derivatives.glob(f"sub-*/func/*_task-{task}_*desc-confounds_timeseries.tsv"),
        *derivatives.glob(f"sub-*/ses-*/func/*_task-{task}_*desc-confounds_timeseries.tsv"),
    ]
    return [table], sorted(images)


_FINDERS = {
    "abide": _abide,
    "adhd_athena": _adhd_athena,
    "adhd_nilearn": _adhd_nilearn,
    "fmriprep": _fmriprep,
}


def _found(dataset, tables_only):
    source = dataset["source"]
    if source not in _FINDERS:
        return [], []
    tables, others = _FINDERS[source](dataset.get(source, {}) or {}, tables_only)
    configured = [Path(p) for p in [dataset.get("roi_coordinates")] if p and Path(p).is_file()]
    return [*tables, *configured], others


def source_files(dataset):
    """The files ``dataset``'s source reads (phenotype table or cache index first, then the time-series or
    image files, then a configured ROI table), as paths; [] for the simulated cohort (made by ``fetch``
    from its settings, which rerun it as parameters) and for a nilearn cache that is not filled yet."""
    tables, others = _found(dataset, tables_only=False)
    return [str(p) for p in [*tables[:1], *others, *tables[1:]]]


def source_tables(dataset):
    """The small tables among :func:`source_files`: the phenotype table or cache index
    (``participants.tsv`` for fMRIPrep) and a configured ``roi_coordinates`` table; never the time-series,
    image or confounds files (thousands of them, large)."""
    return [str(p) for p in _found(dataset, tables_only=True)[0]]


def source_table_digests(dataset):
    """``{path: SHA-256 of its content}`` of :func:`source_tables`, computed when the workflow is parsed: a
    ``params:`` entry of ``fetch``, so that an edited table reruns it even when the edit kept the file's
    old modification time (Snakemake's modification-time trigger misses those)."""
    digests = {}
    for path in source_tables(dataset):
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digests[path] = digest.hexdigest()
    return digests
