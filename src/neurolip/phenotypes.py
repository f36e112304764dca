"""Normalising a dataset's phenotype table to ``subject_id, site, diagnosis, sex, age, srs`` (+ raw columns)."""

import logging
import math

import numpy as np
import pandas as pd

from .errors import NeuroLIPInputError
from .exclusions import ExclusionLog
from .subjects import check_subject_id, check_unique

log = logging.getLogger(__name__)

NORMALIZED_COLUMNS = ["subject_id", "site", "diagnosis", "sex", "age", "srs"]
REQUIRED_FIELDS = ("subject_id", "site", "diagnosis")
# a field may lose at most this share of its non-missing raw values in normalisation (units in a numeric
# field, codes the map lacks) before the phenotypes step stops (phenotypes.max_lost_share / on_lost_values)
DEFAULT_MAX_LOST_SHARE = 0.05
# ages in years outside this range are an error (phenotypes.age_range)
DEFAULT_AGE_RANGE = (0, 120)


def code_key(value):
    """Codes in the config and in tables are written as strings or numbers, and a table's integer column
    comes back as ``1.0`` once it holds a blank: compare them as normalised strings, so ``1``, ``"1"``,
    ``1.0`` and ``"1.0"`` are one code."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isfinite(number) and number.is_integer():
        return str(int(number))
    return text


def match_key(value):
    """The key a raw value is looked up by in code maps and missing codes: :func:`code_key`, case-folded
    (``m``, ``M`` and `` M `` are one code)."""
    return code_key(value).casefold()


def code_lookup(codes, map_name, path=None):
    """A code map keyed by :func:`match_key`; two keys that differ only by case cannot be told apart that way
    and are an error naming them."""
    lookup, spelled = {}, {}
    for key, value in codes.items():
        folded = match_key(key)
        if folded in lookup and lookup[folded] != value:
            raise NeuroLIPInputError(
                f"phenotypes.{map_name} has codes {spelled[folded]!r} and {key!r} that differ only by case or "
                "spaces; codes are matched ignoring both: give them distinct codes",
                path=path,
            )
        lookup[folded], spelled[folded] = value, key
    return lookup


def _mapped(values, codes, map_name, column, path):
    """``values`` through a code map; a map that matches none of the column's known values is an error
    naming the column, the values seen and the map (e.g. codes written 0/1 against a column of 0.0/1.0)."""
    lookup = code_lookup(codes, map_name, path)
    mapped = values.map(lambda v: lookup.get(match_key(v), np.nan) if pd.notna(v) else np.nan)
    known = values.dropna()
    if len(known) and mapped.notna().sum() == 0:
        seen = sorted({code_key(v) for v in known})[:12]
        raise NeuroLIPInputError(
            f"phenotypes.{map_name} {dict(codes)} matches none of the values of column {column!r} "
            f"(values seen: {seen}): fix the map or the column",
            path=path,
        )
    return mapped


def phenotype_qc(raw, table, spec):
    """Per normalised field: its raw column, subjects with a known value, missing, and raw values that no
    code map matched (they count as missing)."""
    columns = spec["columns"]
    maps = {"diagnosis": spec.get("diagnosis_codes") or {}, "sex": spec.get("sex_codes") or {}}
    missing_codes = {match_key(v) for v in spec.get("missing_values", [])}
    rows = []
    for field in NORMALIZED_COLUMNS[1:]:
        column = columns.get(field, "")
        present = bool(column) and column in raw.columns
        known = int(table[field].notna().sum()) if field in table else 0
        unmatched = ""
        if present and field in maps and maps[field]:
            keys = {match_key(k) for k in maps[field]}
            unmatched = ", ".join(
                sorted(
                    {
                        code_key(v)
                        for v in raw[column]
                        if code_key(v) and match_key(v) not in keys and match_key(v) not in missing_codes
                    }
                )
            )
        rows.append(
            {
                "field": field,
                "column": column if present else f"{column} (absent)" if column else "(not configured)",
                "n_subjects": len(table),
                "n_known": known,
                "n_missing": len(table) - known,
                "unmatched_codes": unmatched,
            }
        )
    return pd.DataFrame(rows)


def normalize_phenotypes(raw, spec, *, path=None):
    """Return (normalised table, exclusion log) from a raw phenotype table and the dataset's phenotype spec.

    ``spec`` holds ``columns`` (normalised name -> raw column name), ``missing_values`` (codes that mean
    missing), ``diagnosis_codes`` (raw code -> 0/1; codes absent from the map are missing), ``sex_codes``
    (raw code -> ``male``/``female``) and optionally ``site_codes`` (raw code -> site name).
    Subjects without a diagnosis are excluded and logged; a missing required column, an unsafe or a
    duplicated subject ID is an error naming the file.
    """
    columns = spec["columns"]
    for field in REQUIRED_FIELDS:
        if field not in columns:
            raise NeuroLIPInputError(
                f"the phenotype spec maps no column to required field {field!r}", path=path
            )
    absent = [f"{field} (column {name!r})" for field, name in columns.items() if name not in raw.columns]
    required_absent = [a for a in absent if a.split(" ")[0] in REQUIRED_FIELDS]
    if required_absent:
        raise NeuroLIPInputError(
            "phenotype table lacks required column(s): "
            + ", ".join(required_absent)
            + f"; available columns: {', '.join(map(str, raw.columns[:30]))}",
            path=path,
        )
    missing_codes = {match_key(v) for v in spec.get("missing_values", [])}

    def clean(series):
        keys = series.map(match_key)
        return series.where(~(series.isna() | keys.isin(missing_codes) | (keys == "")))

    out = pd.DataFrame(index=raw.index)
    out["subject_id"] = [check_subject_id(s, path=path) for s in raw[columns["subject_id"]]]
    check_unique(out["subject_id"], path=path)

    site = clean(raw[columns["site"]])
    site_codes = {code_key(k): str(v) for k, v in (spec.get("site_codes") or {}).items()}
    site_lookup = code_lookup(site_codes, "site_codes", path)
    out["site"] = site.map(lambda v: site_lookup.get(match_key(v), code_key(v)) if pd.notna(v) else np.nan)
    if site_codes:  # a map given: a code it lacks would silently become a site named by the code
        unmapped = site.dropna()[~site.dropna().map(match_key).isin(site_lookup)]
        if len(unmapped):
            counts = unmapped.map(code_key).value_counts()
            raise NeuroLIPInputError(
                f"phenotypes.site_codes {dict(site_codes)} lacks the code(s) "
                f"{', '.join(f'{c!r} ({n} subjects)' for c, n in counts.items())} of column {columns['site']!r}: "
                "add them to the map (or to missing_values)",
                path=path,
            )

    diagnosis_codes = {code_key(k): int(v) for k, v in spec["diagnosis_codes"].items()}
    out["diagnosis"] = _mapped(
        clean(raw[columns["diagnosis"]]), diagnosis_codes, "diagnosis_codes", columns["diagnosis"], path
    ).astype("Float64")

    sex_codes = {code_key(k): str(v) for k, v in (spec.get("sex_codes") or {}).items()}
    if "sex" in columns and columns["sex"] in raw.columns:
        out["sex"] = _mapped(clean(raw[columns["sex"]]), sex_codes, "sex_codes", columns["sex"], path)
    else:
        out["sex"] = np.nan
    for field in ("age", "srs"):
        if field in columns and columns[field] in raw.columns:
            out[field] = pd.to_numeric(clean(raw[columns[field]]), errors="coerce")
        else:
            out[field] = np.nan
    check_lost_values(raw, out, spec, clean, path)
    check_age_range(out, spec.get("age_range", DEFAULT_AGE_RANGE), columns.get("age"), path)
    # further fields (e.g. a subtype, handedness) are copied as cleaned codes, for text segments and attributes
    for field, column in columns.items():
        if field not in NORMALIZED_COLUMNS and column in raw.columns:
            out[field] = clean(raw[column]).map(lambda v: code_key(v) if pd.notna(v) else np.nan)

    exclusions = ExclusionLog("phenotypes")
    keep = np.ones(len(out), dtype=bool)
    for i, (sid, dx, site_value) in enumerate(zip(out["subject_id"], out["diagnosis"], out["site"])):
        if pd.isna(dx):
            raw_value = raw[columns["diagnosis"]].iloc[i]
            exclusions.add(sid, "no diagnosis", f"{columns['diagnosis']}={raw_value!r}")
            keep[i] = False
        elif pd.isna(site_value):
            exclusions.add(sid, "no site", f"{columns['site']} is missing")
            keep[i] = False
    out["diagnosis"] = out["diagnosis"].astype("Int64")
    raw_extra = raw.drop(columns=[c for c in columns.values() if c in raw.columns]).add_prefix("raw_")
    result = pd.concat([out, raw_extra], axis=1)[keep].reset_index(drop=True)
    return result, exclusions


def check_age_range(table, age_range, column=None, path=None):
    """Ages (years) outside ``age_range`` (``phenotypes.age_range``, default 0 to 120) are an error naming
    the subjects, their ages and the file: a sign or unit slip (-5, months) would otherwise enter the texts
    and the age attribute as a value."""
    low, high = (float(a) for a in age_range)
    ages = table["age"]
    out_of_range = ages.notna() & ((ages < low) | (ages > high))
    if out_of_range.any():
        shown = ", ".join(
            f"{sid} ({age:g})" for sid, age in zip(table["subject_id"][out_of_range], ages[out_of_range])
        )
        raise NeuroLIPInputError(
            f"age (column {column!r}) outside phenotypes.age_range [{low:g}, {high:g}] years for "
            f"{int(out_of_range.sum())} subject(s): {shown[:500]}: fix the table, add the code to "
            "phenotypes.missing_values, or widen phenotypes.age_range",
            path=path,
        )


def check_lost_values(raw, table, spec, clean, path=None):
    """A field whose normalisation turned more than ``max_lost_share`` of its non-missing raw values into
    missing ones (``12 years`` in a numeric field, codes the map lacks) is an error naming the field, the
    count and example raw values, or a warning with ``on_lost_values: warn``."""
    share = float(spec.get("max_lost_share", DEFAULT_MAX_LOST_SHARE))
    problems = []
    for field in ("diagnosis", "sex", "age", "srs"):
        column = spec["columns"].get(field)
        if column is None or column not in raw.columns:
            continue
        present = clean(raw[column]).notna()
        lost = present & table[field].isna()
        if present.sum() and lost.sum() > share * present.sum():
            examples = sorted({str(v) for v in raw[column][lost]})[:5]
            problems.append(
                f"{field} (column {column!r}): {int(lost.sum())} of {int(present.sum())} non-missing values "
                f"became missing, e.g. {examples}"
            )
    if not problems:
        return
    message = (
        "phenotype values lost in normalisation: "
        + "; ".join(problems)
        + f" (more than phenotypes.max_lost_share={share}): fix the table, add the codes to the field's map "
        "or phenotypes.missing_values, or set phenotypes.on_lost_values: warn"
    )
    if spec.get("on_lost_values", "error") == "warn":
        log.warning("%s", message)
    else:
        raise NeuroLIPInputError(message, path=path)


def read_phenotypes(path):
    """Read a normalised phenotype table written by :func:`normalize_phenotypes`."""
    table = pd.read_csv(path, sep="\t", dtype={"subject_id": str, "site": str, "sex": str}, low_memory=False)
    table["diagnosis"] = table["diagnosis"].astype(int)
    return table
