"""The paper's Table 1 (methods x metrics) and Table 2 (ablations), as CSV, Markdown and LaTeX,
with the published numbers in labelled rows beside ours (values in percent, mean ± std over folds)."""

import numpy as np
import pandas as pd

# Published NeuroLIP figures (arXiv 2503.21964; METHOD.md section 7), in percent.
PAPER = {
    "abide": {"neurolip": {"AUC": 72.43, "DPD": 7.92},
              "neurolip_no_attn": {"DPD": 11.60}, "neurolip_no_neggrad": {"DPD": 9.36}},
    "adhd200": {"neurolip": {"AUC": 62.74, "DPD": 8.59}},
}
# a method's test predictions re-decided by group thresholds fitted on its validation split
# (evaluation.fair_thresholds; see postprocessing.py) are evaluated as "<method>_fairthr"
FAIR_THRESHOLDS_SUFFIX = "_fairthr"
TRAINED_TABLE1 = ["linear_fc", "brainnettf", "clip", "siglip", "fairclip", "neurolip"]
TABLE1_METHODS = TRAINED_TABLE1 + [m + FAIR_THRESHOLDS_SUFFIX for m in TRAINED_TABLE1]
TABLE2_METHODS = ["neurolip", "neurolip_no_attn", "neurolip_no_neggrad"]
LABELS = {
    "linear_fc": "Logistic regression on FC", "brainnettf": "BrainNetTF", "clip": "CLIP", "siglip": "SigLIP",
    "fairclip": "FairCLIP", "neurolip": "NeuroLIP", "neurolip_no_attn": "NeuroLIP − L_attn",
    "neurolip_no_neggrad": "NeuroLIP − negative gradient",
}


def method_label(method):
    if method.endswith(FAIR_THRESHOLDS_SUFFIX):
        base = method[: -len(FAIR_THRESHOLDS_SUFFIX)]
        return f"{LABELS.get(base, base)} + group thresholds"
    return LABELS.get(method, method)


OVERALL = [("auc", "AUC"), ("accuracy", "ACC"), ("sensitivity", "SEN"), ("specificity", "SPE")]
FAIRNESS = [("dpd", "DPD"), ("deodds", "DEOdds"), ("es_auc", "ES-AUC")]


def _cell(summary, method, metric, attribute):
    row = summary[(summary["method"] == method) & (summary["metric"] == metric) & (summary["attribute"] == attribute)]
    if row.empty or np.isnan(row["mean"].iloc[0]):
        return ""
    mean, std = 100 * row["mean"].iloc[0], 100 * row["std"].iloc[0]
    return f"{mean:.2f} ± {std:.2f}" if not np.isnan(std) else f"{mean:.2f}"


def build_table(summary, methods, attributes, paper_key=None, fairness_only=False):
    """One row per method (ours), then the paper's published rows, labelled as such."""
    columns = [] if fairness_only else list(OVERALL)
    columns = [(m, label, "") for m, label in columns]
    for attribute in attributes:
        columns += [(m, f"{label} ({attribute})", attribute) for m, label in FAIRNESS]
    present = [m for m in methods if m in set(summary["method"])]
    rows = []
    for method in present:
        row = {"Method": method_label(method), "Source": "this run"}
        row.update({label: _cell(summary, method, metric, attribute) for metric, label, attribute in columns})
        rows.append(row)
    for method, values in (PAPER.get(paper_key, {}) if paper_key else {}).items():
        if method not in methods:
            continue
        row = {"Method": LABELS.get(method, method), "Source": "paper (published)"}
        for metric, label, attribute in columns:
            short = label.split(" (")[0]
            # the paper reports one DPD, for its own sensitive attribute: put it under the first attribute
            first_attribute = attributes[0] if attributes else ""
            if short in values and (attribute in ("", first_attribute)):
                row[label] = f"{values[short]:.2f}"
            else:
                row.setdefault(label, "")
        rows.append(row)
    return pd.DataFrame(rows, columns=["Method", "Source"] + [label for _, label, _ in columns])


def write_table(table, stem, caption):
    """Write ``stem``.csv, .md and .tex."""
    table.to_csv(f"{stem}.csv", index=False)
    with open(f"{stem}.md", "w") as handle:
        handle.write(f"{caption}\n\n")
        handle.write("| " + " | ".join(table.columns) + " |\n")
        handle.write("|" + "---|" * len(table.columns) + "\n")
        for _, row in table.iterrows():
            handle.write("| " + " | ".join(str(v) for v in row.to_numpy()) + " |\n")
    latex = table.replace({"±": r"$\\pm$", "−": "-", "L_attn": r"$L_{attn}$"}, regex=True)
    latex.to_latex(f"{stem}.tex", index=False, caption=caption, escape=False, na_rep="")
