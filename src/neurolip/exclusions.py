"""The exclusion log: every subject dropped, with the step and the reason."""

import logging

import pandas as pd

COLUMNS = ["subject_id", "step", "reason", "detail"]
log = logging.getLogger(__name__)


class ExclusionLog:
    """Collects exclusions as they happen and writes them as a TSV."""

    def __init__(self, step):
        self.step = step
        self.rows = []

    def add(self, subject_id, reason, detail=""):
        log.warning("excluding subject %s at step %s: %s %s", subject_id, self.step, reason, detail)
        self.rows.append(
            {"subject_id": str(subject_id), "step": self.step, "reason": reason, "detail": str(detail)}
        )

    def __len__(self):
        return len(self.rows)

    def __contains__(self, subject_id):
        return any(row["subject_id"] == str(subject_id) for row in self.rows)

    def to_frame(self):
        return pd.DataFrame(self.rows, columns=COLUMNS)

    def write(self, path):
        self.to_frame().to_csv(path, sep="\t", index=False)


def read_exclusions(path):
    return pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
