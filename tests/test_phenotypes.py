import numpy as np
import pandas as pd
import pytest

from neurolip.errors import NeuroLIPInputError
from neurolip.phenotypes import normalize_phenotypes
from neurolip.subjects import check_subject_id

SPEC = {
    "columns": {
        "subject_id": "SUB_ID",
        "site": "SITE_ID",
        "diagnosis": "DX_GROUP",
        "sex": "SEX",
        "age": "AGE",
        "srs": "SRS",
    },
    "missing_values": [-9999, -999, "N/A", "pending"],
    "diagnosis_codes": {1: 1, 2: 0},
    "sex_codes": {1: "male", 2: "female"},
}


def raw_table():
    return pd.DataFrame(
        {
            "SUB_ID": ["50002", "50003", "50004", "50005"],
            "SITE_ID": ["PITT", "PITT", "NYU", "NYU"],
            "DX_GROUP": ["1", "2", "pending", "2"],
            "SEX": ["1", "2", "1", "-9999"],
            "AGE": ["12.5", "N/A", "30", "-999"],
            "SRS": ["-9999", "80", "", "20"],
            "FIQ": ["100", "110", "90", "95"],
        }
    )


def test_missing_codes_become_missing_and_no_diagnosis_is_excluded():
    table, exclusions = normalize_phenotypes(raw_table(), SPEC)
    assert table["subject_id"].tolist() == ["50002", "50003", "50005"]
    assert table["diagnosis"].tolist() == [1, 0, 0]
    assert table["sex"].tolist()[:2] == ["male", "female"] and pd.isna(table["sex"].iloc[2])
    assert np.isnan(table["age"].iloc[1]) and np.isnan(table["age"].iloc[2])
    assert np.isnan(table["srs"].iloc[0]) and table["srs"].iloc[1] == 80
    assert "raw_FIQ" in table.columns
    frame = exclusions.to_frame()
    assert frame["subject_id"].tolist() == ["50004"] and frame["reason"].tolist() == ["no diagnosis"]


def test_missing_required_column_is_an_error_naming_the_file():
    with pytest.raises(NeuroLIPInputError, match=r"pheno\.csv.*lacks required column\(s\): diagnosis"):
        normalize_phenotypes(raw_table().drop(columns="DX_GROUP"), SPEC, path="pheno.csv")


def test_duplicated_subject_ids_are_an_error():
    raw = raw_table()
    raw.loc[1, "SUB_ID"] = "50002"
    with pytest.raises(NeuroLIPInputError, match="duplicated subject IDs: 50002"):
        normalize_phenotypes(raw, SPEC, path="p.csv")


@pytest.mark.parametrize("bad", ["../x", "/etc/passwd", "a/b", "..", "", "~root", "x..y", "-rf"])
def test_subject_ids_that_would_escape_a_path_are_rejected(bad):
    with pytest.raises(NeuroLIPInputError, match="not a safe identifier"):
        check_subject_id(bad)


def test_path_like_subject_id_in_phenotypes_is_rejected():
    raw = raw_table()
    raw.loc[0, "SUB_ID"] = "../x"
    with pytest.raises(NeuroLIPInputError, match=r"'\.\./x' is not a safe identifier"):
        normalize_phenotypes(raw, SPEC)
