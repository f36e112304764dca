from _logging import log_to_file

log_to_file(snakemake)

import pandas as pd

from neurolip.evaluation.tables import build_table, paper_columns, proxy_notes, threshold_notes, write_table
from neurolip.methods import job_registry
from neurolip.phenotypes import read_phenotypes

registry = job_registry(snakemake)
summary = pd.read_csv(snakemake.input.summary, keep_default_na=False, na_values=[""])
summary["attribute"] = summary["attribute"].fillna("")
pooled = pd.read_csv(snakemake.input.pooled, keep_default_na=False, na_values=[""])
pooled["attribute"] = pooled["attribute"].fillna("")
paper = snakemake.params.paper or None
attributes = snakemake.params.attributes
name = snakemake.params.dataset
notes = proxy_notes(read_phenotypes(snakemake.input.cohort), attributes, snakemake.params.continuous)
variants = {}
for (method, _), path in zip(
    snakemake.params.threshold_folds, snakemake.input.threshold_predictions, strict=True
):
    variants.setdefault(method, []).append(pd.read_csv(path, usecols=["fold", "decision"]))
labels = {m: registry.label(m) for m in variants}
notes += threshold_notes({m: pd.concat(f) for m, f in variants.items()}, labels)
note = "".join(f"\n\nNote — {n}." for n in notes)
captions = {
    "table1": (
        f"Table 1 ({name}): methods, percent, mean ± std over folds; per-fold gaps, leakages and the probe "
        f"beside the sex-blind floor of their fold mean (each fold's null draws averaged across folds draw "
        f"by draw: median; 95th percentile; * p ≤ 0.05); pooled gaps beside the floor of sex-blind "
        f"decisions (median; 95th percentile; * above it). The floor permutes sex within "
        f"diagnosis: the DPD floor is centred on the DPD that the groups' different diagnosis rates induce, "
        f"not on 0, so a method thresholded for demographic parity is expected to sit below it. Randomised "
        f"thresholds (_rand): the gap of expected rates (of the decision probabilities) with its floor, then "
        f"the expected gap over randomisation draws (exact) with the realised gap's 5–95 % range. Score "
        f"leakage: sex from P(disease), decision leakage: sex from the decision, within diagnosis (AUC, "
        f"max(AUC, 1 − AUC)). Probe AUC: the held-out sex probe's within-diagnosis AUC (its scores are "
        f"out of sample, cross-fitted over the subjects the model did not train on), tested exactly against "
        f"sex permuted within diagnosis × fold on its own scores. MDE: the smallest effect each floor or "
        f"test detects with 80 % power at this run's sizes (a gap, a leakage AUC or a probe AUC); a cell "
        f"within its floor says what that rules out: an effect of the MDE or more would have been seen "
        f"with 80 % power; a smaller one would not{note}"
    ),
    "table2": (
        f"Table 2 ({name}): ablations, percent, mean ± std over folds; per-fold gaps and leakages beside "
        f"the sex-blind floor of their fold mean (median; 95th percentile; MDE at 80 % power; * p ≤ 0.05)"
        f"{note}"
    ),
}
for table, caption in captions.items():
    frame = build_table(
        summary, registry.table(table), attributes, paper, pooled=pooled, pooled_gaps=table == "table1"
    )
    write_table(frame, getattr(snakemake.output, table)[: -len(".csv")], caption)
    if table == "table1":
        # the report shows the paper's columns; every column stays in table1.csv
        paper_columns(frame, attributes[0] if attributes else "sex").to_csv(
            snakemake.output.table1_paper, index=False
        )
