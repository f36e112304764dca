"""fMRIPrep derivatives of a BIDS dataset: preprocessed BOLD in MNI space plus the confounds TSV."""

import re
from pathlib import Path

import pandas as pd

from ..errors import NeuroLIPInputError
from .base import MANIFEST_COLUMNS, SourceData, read_table


def load_fmriprep(derivatives_dir, participants_file=None, task="rest", space="MNI152NLin2009cAsym"):
    """Index ``sub-*/[ses-*/]func/*_task-<task>_*space-<space>*_desc-preproc_bold.nii[.gz]``.

    The first run found per subject is used. ``participants.tsv`` is looked up in the derivatives folder
    and in its BIDS root two levels up when not given.
    """
    derivatives_dir = Path(derivatives_dir)
    if not derivatives_dir.is_dir():
        raise NeuroLIPInputError("fMRIPrep derivatives folder does not exist", path=derivatives_dir)
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
    pattern = re.compile(
        rf"_task-{re.escape(task)}_.*space-{re.escape(space)}.*_desc-preproc_bold\.nii(\.gz)?$"
    )
    manifest, missing = [], []
    for participant in phenotypes["participant_id"]:
        label = participant.strip()
        label = label if label.startswith("sub-") else f"sub-{label}"
        bolds = sorted(p for p in (derivatives_dir / label).glob("**/func/*") if pattern.search(p.name))
        if not bolds:
            missing.append(
                (
                    label[4:],
                    "no file",
                    f"no task-{task} space-{space} preprocessed BOLD under {derivatives_dir / label}",
                )
            )
            continue
        bold = bolds[0]
        confounds = Path(re.sub(r"_space-.*$", "_desc-confounds_timeseries.tsv", str(bold)))
        if not confounds.is_file():
            missing.append((label[4:], "no confounds file", f"{confounds} is missing"))
            continue
        manifest.append(
            {"subject_id": label[4:], "kind": "nifti", "path": str(bold), "confounds": str(confounds)}
        )
    phenotypes["participant_id"] = phenotypes["participant_id"].str.replace(r"^sub-", "", regex=True)
    return SourceData(
        pd.DataFrame(manifest, columns=MANIFEST_COLUMNS), phenotypes, str(participants_file), missing
    )
