"""One method's disease maps: the read-out's activation pattern (every method) and, for methods with TTCA,
the attention reading weight; how they agree between seeds and folds; each region against the permutation
null where the method has one."""

from _logging import log_to_file

log_to_file(snakemake)

import logging

import numpy as np
import pandas as pd

from neurolip.data_stage import FoldConnectomes
from neurolip.evaluation.brainmaps import (
    attention_model_maps,
    load_attention,
    pair_agreement,
    pattern_maps,
    permutation_test,
    region_names,
    summarise_agreement,
)
from neurolip.evaluation.figures import region_significance_figure
from neurolip.methods import MethodRegistry

params = snakemake.params
connectomes = FoldConnectomes.of_folds(snakemake.params.folds, snakemake.input.connectomes)
n_rois = connectomes.n_rois


def read_scores(paths):
    return pd.concat([pd.read_csv(p, dtype={"subject_id": str}) for p in paths], ignore_index=True)


def fold_pattern_maps(scores, split):
    """pattern_maps fold by fold: each fold's model reads its own fold's connectomes."""
    maps = {}
    for fold, rows in scores.groupby("fold", sort=True):
        maps.update(pattern_maps(connectomes.edges_function(int(fold)), rows, split, n_rois))
    return maps


scores = read_scores(snakemake.input.seed_scores)
maps = {
    (estimator, split): fold_pattern_maps(scores, split)
    for estimator, split in [("pattern", "val"), ("pattern", "test")]
}
if snakemake.input.attention:
    attention = load_attention(dict(zip(params.folds, snakemake.input.attention, strict=True)))
    maps[("attention", "test")] = attention_model_maps(attention)

agreement = []
for (estimator, split), model_maps in maps.items():
    pairs = pair_agreement(model_maps, k=params.top_k)
    if pairs.empty:
        logging.info("%s %s: one model, no pair to compare", estimator, split)
        continue
    agreement.append(
        summarise_agreement(pairs).assign(method=params.method, estimator=estimator, split=split)
    )
columns = [
    "method",
    "estimator",
    "split",
    "pair",
    "spearman",
    "spearman_sd",
    "jaccard_top_k",
    "jaccard_sd",
    "n_pairs",
]
agreement = pd.concat(agreement, ignore_index=True)[columns] if agreement else pd.DataFrame(columns=columns)
agreement.to_csv(snakemake.output.agreement, index=False)

# each region against the null: the model the null models copy (null fold, first seed) on test subjects
coordinates = pd.read_csv(snakemake.input.coordinates)
if len(coordinates) != n_rois:
    coordinates = None
region_ids = coordinates["roi"].to_numpy() if coordinates is not None else np.arange(1, n_rois + 1)
names = region_names(coordinates, n_rois)
label = MethodRegistry.from_config(params.registry).label(params.method)
null_key = (params.null_fold, params.seed)
tables = []
for estimator in ("pattern", "attention"):
    if (estimator, "test") not in maps:
        continue
    model_maps = maps[(estimator, "test")]
    pooled = np.mean(list(model_maps.values()), axis=0)
    observed = model_maps.get(null_key)
    null = []
    if snakemake.input.null_scores and observed is not None:
        if estimator == "pattern":
            # one map per null model (each file: the null fold, one seed)
            null = [
                next(iter(fold_pattern_maps(read_scores([path]), "test").values()))
                for path in snakemake.input.null_scores
            ]
        else:
            null = [
                attention_model_maps(load_attention({0: path}))[(0, params.seed)]
                for path in snakemake.input.null_attention
            ]
    if len(null):
        table = permutation_test(observed, np.array(null), alpha=params.alpha)
    else:
        table = pd.DataFrame({"observed": observed if observed is not None else pooled})
        for column in ("null_mean", "null_max", "p_uncorrected", "p_fwer", "q_fdr"):
            table[column] = np.nan
        table["beats_null"] = False
    table.insert(0, "region", region_ids)
    table.insert(0, "estimator", estimator)
    table["pooled_over_models"] = pooled
    table["label"] = (
        coordinates["label"].to_numpy() if coordinates is not None and "label" in coordinates else ""
    )
    table["region_name"] = names["region_name"].to_numpy()
    table["region_name_source"] = names["region_name_source"].to_numpy()
    table["n_null_models"] = len(null)
    tables.append(table)
    stable = agreement[(agreement["estimator"] == estimator) & (agreement["split"] == "test")]
    summary = "; ".join(
        f"{row.pair}: Spearman {row.spearman:.2f}, Jaccard {row.jaccard_top_k:.2f}"
        for row in stable.itertuples()
    )
    if estimator == "pattern":
        region_significance_figure(
            table,
            coordinates,
            f"{label}: activation pattern of the disease read-out (fold {params.null_fold})"
            + ("" if len(null) else " — no permutation null configured"),
            snakemake.output.figure,
            stability=summary,
            k=params.top_k * 2,
            names=names,
        )
regions = pd.concat(tables, ignore_index=True)
regions.insert(0, "method", params.method)
regions.to_csv(snakemake.output.regions, index=False)
