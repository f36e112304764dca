"""fMRIPrep derivatives of a BIDS dataset: preprocessed BOLD in a template space plus the confounds TSV of
each run, found with nilearn's BIDS helpers (:func:`nilearn.interfaces.bids.get_bids_files`).

Sessions and runs: every ``ses-``/``run-`` of a subject that matches ``task``, ``space`` and ``filters``
is listed (optionally only the ``sessions`` and ``runs`` given) and, with ``combine_runs: concatenate``
(default), their ROI time series (each run cleaned and standardised on its own by the masker) are joined in
session and run order into one series, so each subject gets one connectome; ``combine_runs: first`` keeps
only the first session's first run. Two files for the same session and run that differ in another entity
(``acq-``, ``rec-``, ``echo-``, ``res-``, ...) are ambiguous: an error names them and the entity to set in
``filters``.
"""

import logging
from pathlib import Path

import pandas as pd

from ..errors import NeuroLIPInputError
from .base import MANIFEST_COLUMNS, SourceData, read_table

log = logging.getLogger(__name__)
# entities that name the acquisition of a run, shared by its BOLD and confounds files
RUN_ENTITIES = ("ses", "task", "acq", "ce", "rec", "dir", "run", "echo")
COMBINE_RUNS = ("concatenate", "first")


def _find(derivatives_dir, label, file_tag, file_type, filters):
    """``get_bids_files`` for one subject's func folders. nilearn looks only in ``ses-*`` folders as soon as
    one subject of the dataset has them; a subject's own ``func`` folder (no session) is searched too."""
    from nilearn.interfaces.bids import get_bids_files

    found = set(
        get_bids_files(
            derivatives_dir,
            file_tag=file_tag,
            file_type=file_type,
            sub_label=label,
            modality_folder="func",
            filters=filters,
        )
    )
    own_func = Path(derivatives_dir) / f"sub-{label}" / "func"
    if own_func.is_dir():
        found |= set(
            get_bids_files(
                own_func, file_tag=file_tag, file_type=file_type, filters=filters, sub_folder=False
            )
        )
    return sorted(found)


def _run_key(entities):
    """Session, then run (numerically where it is a number): the order runs are joined in."""
    run = entities.get("run") or ""
    return (entities.get("ses") or "", int(run) if run.isdigit() else -1, run)


def _same_label(value, wanted):
    """``run-01`` is run 1: labels compare as numbers when both are numbers."""
    value, wanted = str(value), str(wanted)
    return int(value) == int(wanted) if value.isdigit() and wanted.isdigit() else value == wanted


def subject_runs(derivatives_dir, label, *, task, space, filters=None, sessions=None, runs=None):
    """The preprocessed BOLD runs of ``sub-<label>`` in session and run order, each with its confounds
    file (``None`` when missing), as ``[(bold, confounds), ...]``. Ambiguous files raise."""
    from nilearn.interfaces.bids import parse_bids_filename

    wanted = [("task", task), ("space", space), ("desc", "preproc")]
    wanted += [(entity, str(value)) for entity, value in (filters or {}).items()]
    bolds = {}
    for path in _find(derivatives_dir, label, "bold", "nii*", wanted):
        entities = parse_bids_filename(path)["entities"]
        if sessions is not None and not any(_same_label(entities.get("ses", ""), s) for s in sessions):
            continue
        if runs is not None and not any(_same_label(entities.get("run", ""), r) for r in runs):
            continue
        bolds.setdefault(_run_key(entities), []).append((path, entities))
    runs_found = []
    for key in sorted(bolds):
        candidates = bolds[key]
        if len(candidates) > 1:
            names = [Path(p).name for p, _ in candidates]
            differing = sorted(
                {e for _, ents in candidates for e in ents if len({str(c.get(e)) for _, c in candidates}) > 1}
            )
            raise NeuroLIPInputError(
                f"{len(candidates)} preprocessed BOLD files for the same session and run differ in "
                f"{', '.join(differing) or 'their extension'}: {', '.join(names)}; choose one with "
                f"dataset.fmriprep.filters (e.g. {{{differing[0] if differing else 'res'}: <label>}})",
                path=Path(candidates[0][0]).parent,
                subject=label,
            )
        bold, entities = candidates[0]
        # the confounds of this run: the same acquisition entities, no other (absent ones must stay absent)
        same_run = [(e, entities.get(e) or "") for e in RUN_ENTITIES if e != "task"] + [("task", task)]
        confounds = _find(derivatives_dir, label, "timeseries", "tsv", [("desc", "confounds"), *same_run])
        runs_found.append((bold, confounds[0] if len(confounds) == 1 else None))
    return runs_found


def load_fmriprep(
    derivatives_dir,
    participants_file=None,
    task="rest",
    space="MNI152NLin2009cAsym",
    filters=None,
    sessions=None,
    runs=None,
    combine_runs="concatenate",
):
    """Manifest of every listed participant's preprocessed BOLD runs (one row per run, in the order they
    are joined) and the ``participants.tsv`` phenotypes.

    ``participants.tsv`` is looked up in the derivatives folder and in its BIDS root two levels up when not
    given. A participant without a matching run, or with a run lacking its confounds file, is reported
    missing (an exclusion with the reason).
    """
    derivatives_dir = Path(derivatives_dir)
    if not derivatives_dir.is_dir():
        raise NeuroLIPInputError("fMRIPrep derivatives folder does not exist", path=derivatives_dir)
    if combine_runs not in COMBINE_RUNS:
        raise NeuroLIPInputError(
            f"dataset.fmriprep.combine_runs must be one of {COMBINE_RUNS}, not {combine_runs!r}"
        )
    if participants_file is None:
        candidates = [
            derivatives_dir / "participants.tsv",
            derivatives_dir.parent.parent / "participants.tsv",
        ]
        participants_file = next((c for c in candidates if c.is_file()), candidates[0])
    participants_file = Path(participants_file)
    if not participants_file.is_file():
        raise NeuroLIPInputError(
            "participants.tsv not found (set dataset.fmriprep.participants_file)", path=participants_file
        )
    phenotypes = read_table(participants_file, sep="\t", dtype=str, keep_default_na=False)
    if "participant_id" not in phenotypes.columns:
        raise NeuroLIPInputError(
            "participants.tsv lacks required column 'participant_id'", path=participants_file
        )
    selection = [f"task-{task}", f"space-{space}"] + [f"{k}-{v}" for k, v in (filters or {}).items()]
    selection += [f"sessions {sessions}"] if sessions is not None else []
    selection += [f"runs {runs}"] if runs is not None else []
    manifest, missing = [], []
    for participant in phenotypes["participant_id"]:
        label = participant.strip().removeprefix("sub-")
        found = subject_runs(
            derivatives_dir, label, task=task, space=space, filters=filters, sessions=sessions, runs=runs
        )
        if not found:
            missing.append(
                (
                    label,
                    "no file",
                    f"no {' '.join(selection)} preprocessed BOLD under {derivatives_dir / f'sub-{label}'}",
                )
            )
            continue
        if combine_runs == "first":
            found = found[:1]
        no_confounds = [Path(bold).name for bold, confounds in found if confounds is None]
        if no_confounds:
            missing.append(
                (
                    label,
                    "no confounds file",
                    f"no desc-confounds_timeseries.tsv for {', '.join(no_confounds)}",
                )
            )
            continue
        if len(found) > 1:
            log.info("sub-%s: %d runs joined in session and run order", label, len(found))
        manifest += [
            {"subject_id": label, "kind": "nifti", "path": str(bold), "confounds": str(confounds)}
            for bold, confounds in found
        ]
    phenotypes["participant_id"] = phenotypes["participant_id"].str.replace(r"^sub-", "", regex=True)
    return SourceData(
        pd.DataFrame(manifest, columns=MANIFEST_COLUMNS), phenotypes, str(participants_file), missing
    )
