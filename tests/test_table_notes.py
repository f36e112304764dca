"""Tables say when a row rests on fewer folds, or on thresholds that were never fitted (issue 35)."""

import io

import pandas as pd

from neurolip.evaluation.paired import PAIRED_COLUMNS, paired_comparison
from neurolip.evaluation.tables import build_table, threshold_notes
from neurolip.methods import Method


def _summary():
    rows = [
        ("m", "auc", "", 0.8, 0.02, 3),
        ("m", "dpd", "sex", 0.10, 0.0, 1),  # one of three folds had both sexes among its test subjects
        ("m", "deodds", "sex", 0.20, 0.05, 3),
    ]
    return pd.DataFrame(rows, columns=["method", "metric", "attribute", "mean", "std", "n_folds"])


def test_a_cell_from_fewer_folds_than_the_run_says_how_many():
    table = build_table(_summary(), [Method("m", label="M")], ["sex"]).set_index("Method")
    assert table.loc["M", "DPD (sex)"].endswith("[1 of 3 folds]")
    assert "folds]" not in table.loc["M", "DEOdds (sex)"] and "folds]" not in table.loc["M", "AUC"]


def _decisions(fitted_per_fold):
    frames = [
        pd.DataFrame({"fold": fold, "decision": ["group thresholds" if fitted else "calibrated 0.5 (x)"] * 4})
        for fold, fitted in enumerate(fitted_per_fold)
    ]
    return pd.concat(frames)


def test_group_threshold_rows_say_in_how_many_folds_their_thresholds_were_fitted():
    notes = threshold_notes(
        {
            "a": _decisions([True, True, True]),
            "b": _decisions([True, False, True]),
            "c": _decisions([False] * 3),
        },
        {"b": "B + group thresholds"},
    )
    assert notes == [
        "B + group thresholds: its thresholds were fitted in 2 of 3 folds (the others keep the calibrated decisions)",
        "c: its thresholds were fitted in no fold: the row repeats the plain method's decisions",
    ]


def test_no_paired_comparison_still_writes_a_header():
    buffer = io.StringIO()
    paired_comparison(pd.DataFrame(columns=["method", "fold", "metric", "attribute", "value"]), None).to_csv(
        buffer, index=False
    )
    assert buffer.getvalue().strip() == ",".join(PAIRED_COLUMNS)
    assert list(pd.read_csv(io.StringIO(buffer.getvalue())).columns) == PAIRED_COLUMNS


def test_the_report_table_has_the_papers_columns_only():
    from neurolip.evaluation.tables import paper_columns

    full = build_table(_summary(), [Method("m", label="M")], ["sex", "srs"])
    assert len(full.columns) > 12
    shown = paper_columns(full, "sex")
    assert list(shown.columns) == [
        "Method",
        "Source",
        "AUC",
        "ACC",
        "SEN",
        "SPE",
        "DPD (sex)",
        "DEOdds (sex)",
        "ES-AUC (sex)",
    ]
