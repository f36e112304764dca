"""Phenotype -> text, with the character span and role of every segment.

A template is a list of segments, each ``{field, role, template, values?, bins?, labels?}``. The token
roles come from these segments, never from searching the rendered string afterwards.

Missing-field rule (documented in config/README.md): a segment whose field is missing is rendered with
the template's ``missing`` word (default ``"unknown"``), so every subject has every segment and the
segment's role span is always defined; the diagnosis can never be missing (such subjects are excluded).
A *known* value that a segment's ``values`` map does not cover is never rendered as the missing word: it is
an error naming the code, the field and the file (:func:`check_segments`), and a disease map must cover
every class (:func:`class_prompts`, and ``neurolip.config.check_consistency`` when the workflow is parsed).
"""

import math
import string
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

ROLES = ("disease", "sensitive", "other")


@dataclass
class Segment:
    field: str
    role: str
    start: int
    end: int
    text: str


@dataclass
class PhenotypeText:
    subject_id: str
    text: str
    segments: list = field(default_factory=list)

    def spans(self, role):
        return [(s.start, s.end) for s in self.segments if s.role == role]

    def to_record(self):
        return {
            "subject_id": self.subject_id,
            "text": self.text,
            "segments": [s.__dict__ for s in self.segments],
        }

    @classmethod
    def from_record(cls, record):
        return cls(record["subject_id"], record["text"], [Segment(**s) for s in record["segments"]])


def _is_missing(value):
    return (
        value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT
    )


def uncovered_codes(segment_spec, values):
    """The codes among ``values`` (missing ones skipped) that the segment's ``values`` map does not cover,
    as {code: count}, in order of first appearance; {} for a segment without a map."""
    if "values" not in segment_spec:
        return {}
    from .phenotypes import code_key

    covered = {code_key(k) for k in segment_spec["values"]}
    uncovered = {}
    for value in values:
        if not _is_missing(value) and code_key(value) not in covered:
            uncovered[code_key(value)] = uncovered.get(code_key(value), 0) + 1
    return uncovered


def render_value(segment_spec, value):
    """The words that stand for ``value`` in this segment."""
    missing_word = segment_spec.get("missing", "unknown")
    if _is_missing(value):
        return missing_word
    if "values" in segment_spec:
        from .phenotypes import code_key

        mapping = {code_key(k): v for k, v in segment_spec["values"].items()}
        return mapping.get(code_key(value), missing_word)
    if "bins" in segment_spec:
        # bins are fixed, documented cut points (not learnt from the data), so rendering leaks nothing
        index = int(
            np.searchsorted(np.asarray(segment_spec["bins"], dtype=float), float(value), side="right")
        )
        return segment_spec["labels"][index]
    if isinstance(value, (float, np.floating)):
        return f"{value:.{segment_spec.get('decimals', 0)}f}"
    return str(value)


def render_text(subject_id, row, segment_specs, separator=" "):
    """Render one subject's text; ``row`` maps field names to values."""
    parts, segments, cursor = [], [], 0
    for spec in segment_specs:
        if spec["role"] not in ROLES:
            raise ValueError(f"segment {spec['field']!r} has role {spec['role']!r}; roles are {ROLES}")
        words = render_value(spec, row.get(spec["field"]))
        piece = spec["template"].format(value=words)
        if parts:
            cursor += len(separator)
        segments.append(Segment(spec["field"], spec["role"], cursor, cursor + len(piece), piece))
        parts.append(piece)
        cursor += len(piece)
    text = separator.join(parts)
    for seg in segments:
        assert text[seg.start : seg.end] == seg.text
    return PhenotypeText(str(subject_id), text, segments)


def segment_problem(spec):
    """What is wrong with one segment's spec alone (no data needed), or None: ``bins`` with a label for each
    of their ``len(bins) + 1`` intervals, in increasing order."""
    if "bins" not in spec and "labels" not in spec:
        return None
    bins, labels = list(spec.get("bins") or []), list(spec.get("labels") or [])
    if len(labels) != len(bins) + 1:
        return (
            f"text segment {spec['field']!r}: {len(bins)} bins {bins} cut {len(bins) + 1} intervals, but "
            f"{len(labels)} labels {labels} are given: give one label per interval"
        )
    if any(low >= high for low, high in zip(bins, bins[1:])):
        return f"text segment {spec['field']!r}: bins {bins} must increase"
    return None


def check_segments(segment_specs, phenotypes, *, path=None):
    """Every segment's template holds exactly one plain ``{value}``, and its field is a phenotype column with
    a known value for at least one subject: otherwise every text would silently say "unknown"."""
    from .errors import NeuroLIPInputError

    for spec in segment_specs:
        problem = segment_problem(spec)
        if problem:
            raise NeuroLIPInputError(problem, path=path)
        fields = list(string.Formatter().parse(spec["template"]))
        placeholders = [(name, fmt, conv) for _, name, fmt, conv in fields if name is not None]
        if placeholders != [("value", "", None)]:
            raise NeuroLIPInputError(
                f"text segment {spec['field']!r}: template {spec['template']!r} must hold exactly one plain "
                "'{value}' (no other placeholder, format spec or conversion)",
                path=path,
            )
        if spec["field"] not in phenotypes.columns:
            shown = ", ".join(c for c in phenotypes.columns if not c.startswith("raw_"))
            raise NeuroLIPInputError(
                f"text segment field {spec['field']!r} is not a phenotype field (fields: {shown}; map a raw "
                "column to it under dataset.phenotypes.columns)",
                path=path,
            )
        uncovered = uncovered_codes(spec, phenotypes[spec["field"]])
        if uncovered:
            raise NeuroLIPInputError(
                f"text segment {spec['field']!r}: its values map {dict(spec['values'])} does not cover the "
                f"code(s) {list(uncovered)} ({sum(uncovered.values())} subjects): their texts would say "
                f"{spec.get('missing', 'unknown')!r}; add the code(s) to the map under dataset.text.segments "
                "(or to dataset.phenotypes.missing_values if they mean missing)",
                path=path,
            )
        if phenotypes[spec["field"]].isna().all():
            raise NeuroLIPInputError(
                f"text segment field {spec['field']!r} is missing for all {len(phenotypes)} subjects: every text "
                "would say it is unknown; check dataset.phenotypes.columns and its code map",
                path=path,
            )


def render_texts(phenotypes, segment_specs, *, path=None):
    check_segments(segment_specs, phenotypes, path=path)
    return [render_text(row["subject_id"], row, segment_specs) for row in phenotypes.to_dict("records")]


def class_prompts(segment_specs, classes=(0, 1)):
    """One prompt per diagnosis class: the template with only the disease segment(s) filled."""
    disease_specs = [s for s in segment_specs if s["role"] == "disease"]
    if not disease_specs:
        raise ValueError("the text template has no segment with role 'disease'; class prompts need one")
    for spec in disease_specs:
        uncovered = uncovered_codes(spec, classes)
        if uncovered:
            raise ValueError(
                f"text segment {spec['field']!r}: its values map {dict(spec['values'])} does not cover class "
                f"{', '.join(uncovered)}: the class prompt would say {spec.get('missing', 'unknown')!r}"
            )
    prompts = []
    for cls in classes:
        row = {s["field"]: cls for s in disease_specs}
        prompts.append(render_text(f"class{cls}", row, disease_specs))
    return prompts
