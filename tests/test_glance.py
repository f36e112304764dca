"""Results at a glance: every cell comes from pooled.csv, each gap says whether it is above its floor."""

import pandas as pd

from neurolip.evaluation.glance import glance_markdown, glance_rst, glance_table


def _pooled():
    rows = [
        ("a", "auc", None, 0.81, 0.75, 0.86, None, None),
        ("a", "dpd", "sex", 0.30, None, None, 0.20, 1.0),
        ("a", "deodds", "sex", 0.05, None, None, 0.12, 0.0),
        ("a", "probe_auc", "sex", 0.55, None, None, 0.60, 0.0),
        ("b", "auc", None, 0.70, 0.60, 0.79, None, None),
        ("b", "dpd", "sex", 0.10, None, None, None, None),  # no floor: the value alone
        ("b", "dpd", "age", 0.99, None, None, 0.10, 1.0),  # another attribute: not shown
    ]
    columns = ["method", "metric", "attribute", "value", "ci_low", "ci_high", "floor_p95", "above_floor"]
    return pd.DataFrame(rows, columns=columns)


def test_each_gap_is_shown_beside_its_floor_and_verdict():
    table = glance_table(_pooled(), ["b", "a", "missing"], {"a": "Method A"}, "sex").set_index("Method")
    assert list(table.index) == ["b", "Method A"]  # config order, methods without rows left out
    assert table.loc["Method A", "AUC [95% CI]"] == "0.810 [0.750, 0.860]"
    assert table.loc["Method A", "DPD"] == "0.300 (floor 0.200: ABOVE)"
    assert table.loc["Method A", "DEOdds"] == "0.050 (floor 0.120: within)"
    assert table.loc["Method A", "Probe AUC"] == "0.550 (floor 0.600: within)"
    assert table.loc["b", "DPD"] == "0.100" and table.loc["b", "DEOdds"] == "–"


def test_the_markdown_names_the_attribute_and_has_one_line_per_method():
    text = glance_markdown(glance_table(_pooled(), ["a", "b"], {}, "sex"), "demo", "sex")
    assert "results at a glance: demo" in text and "**sex**" in text
    assert sum(line.startswith("| a |") or line.startswith("| b |") for line in text.splitlines()) == 2


def test_the_probe_shows_the_smallest_auc_its_test_detects():
    pooled = _pooled().assign(mde=lambda f: f.metric.map({"probe_auc": 0.565}))
    table = glance_table(pooled, ["a"], {}, "sex").set_index("Method")
    assert (
        table.loc["a", "Probe AUC"]
        == "0.550 (floor 0.600: within; an effect ≥ 0.565 would have been seen with 80 % power)"
    )
    assert table.loc["a", "DPD"] == "0.300 (floor 0.200: ABOVE)"  # no MDE on a gap's row


def test_the_report_landing_table_is_valid_restructuredtext_with_one_row_per_method():
    """The report's first screen includes glance_rst's table: docutils must read it without a complaint, and a
    label's markup characters (``_``, ``*``, ``|``) must come out as text, not as markup."""
    from docutils.core import publish_parts

    labels = {"a": "NeuroLIP *erased* |x| linear_fc_"}
    text = glance_rst(glance_table(_pooled(), ["a", "b"], labels, "sex"), "sex")
    html = publish_parts(text, writer_name="html", settings_overrides={"report_level": 1, "halt_level": 2})[
        "html_body"
    ]
    assert "system-message" not in html
    assert html.count("<tr>") == 3  # the header and one row per method
    assert "NeuroLIP *erased* |x| linear_fc_" in html
    assert "0.300 (floor 0.200: ABOVE)" in html and 'class="glance' in html
