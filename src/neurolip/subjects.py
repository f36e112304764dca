"""Subject identifiers: checked before they ever become part of a path."""

import re

from .errors import NeuroLIPInputError

# Letters, digits, dot, dash and underscore; must start with a letter or digit so that
# "..", "/abs", "~user" or an empty string can never escape the results folder.
_SAFE_SUBJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def check_subject_id(subject_id, *, path=None):
    """Return ``subject_id`` as a string, or raise if it is unsafe as a file-name component."""
    text = str(subject_id).strip()
    if not _SAFE_SUBJECT_ID.match(text) or ".." in text:
        raise NeuroLIPInputError(
            f"subject ID {subject_id!r} is not a safe identifier (allowed: letters, digits, '.', '_', '-', "
            "starting with a letter or digit, no '..'); it would be unsafe as part of a path",
            path=path,
        )
    return text


def check_unique(subject_ids, *, path=None):
    """Raise naming the duplicated IDs if any subject appears twice."""
    seen, duplicated = set(), []
    for sid in subject_ids:
        if sid in seen and sid not in duplicated:
            duplicated.append(sid)
        seen.add(sid)
    if duplicated:
        shown = ", ".join(map(str, duplicated[:10]))
        raise NeuroLIPInputError(f"duplicated subject IDs: {shown}", path=path)
