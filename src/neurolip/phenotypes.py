"""Normalising a dataset's phenotype table to ``subject_id, site, diagnosis, sex, age, srs`` (+ raw columns)."""

import numpy as np
import pandas as pd

from .errors import NeuroLIPInputError
from .exclusions import ExclusionLog
from .subjects import check_subject_id, check_unique

NORMALIZED_COLUMNS = ["subject_id", "site", "diagnosis", "sex", "age", "srs"]
REQUIRED_FIELDS = ("subject_id", "site", "diagnosis")


def _code_key(value):
    """Codes in the config are written as strings or numbers; compare them as normalised strings."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


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
    missing_codes = {_code_key(v) for v in spec.get("missing_values", [])}

    def clean(series):
        keys = series.map(_code_key)
        return series.where(~(series.isna() | keys.isin(missing_codes) | (keys == "")))

    out = pd.DataFrame(index=raw.index)
    out["subject_id"] = [check_subject_id(s, path=path) for s in raw[columns["subject_id"]]]
    check_unique(out["subject_id"], path=path)

    site = clean(raw[columns["site"]])
    site_codes = {_code_key(k): str(v) for k, v in (spec.get("site_codes") or {}).items()}
    out["site"] = site.map(lambda v: site_codes.get(_code_key(v), _code_key(v)) if pd.notna(v) else np.nan)

    diagnosis_codes = {_code_key(k): int(v) for k, v in spec["diagnosis_codes"].items()}
    out["diagnosis"] = (
        clean(raw[columns["diagnosis"]])
        .map(lambda v: diagnosis_codes.get(_code_key(v), np.nan) if pd.notna(v) else np.nan)
        .astype("Float64")
    )

    sex_codes = {_code_key(k): str(v) for k, v in (spec.get("sex_codes") or {}).items()}
    if "sex" in columns and columns["sex"] in raw.columns:
        out["sex"] = clean(raw[columns["sex"]]).map(
            lambda v: sex_codes.get(_code_key(v), np.nan) if pd.notna(v) else np.nan
        )
    else:
        out["sex"] = np.nan
    for field in ("age", "srs"):
        if field in columns and columns[field] in raw.columns:
            out[field] = pd.to_numeric(clean(raw[columns[field]]), errors="coerce")
        else:
            out[field] = np.nan

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


def read_phenotypes(path):
    """Read a normalised phenotype table written by :func:`normalize_phenotypes`."""
    table = pd.read_csv(path, sep="\t", dtype={"subject_id": str, "site": str, "sex": str}, low_memory=False)
    table["diagnosis"] = table["diagnosis"].astype(int)
    return table
