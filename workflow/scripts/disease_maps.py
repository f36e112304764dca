"""One method's disease maps: the read-out's activation pattern (every method) and, for methods with TTCA,
the attention reading weight; how they agree between seeds and folds; each region z-scored against the
permutation null (within site, the observed read-out) with a max-statistic p_FWER where the method has one,
and the agreement of its maps across folds beside that of its null maps."""

from _logging import log_to_file

log_to_file(snakemake)

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control

from neurolip.data_stage import FoldConnectomes
from neurolip.evaluation.brainmaps import (
    attention_model_maps,
    load_attention,
    pair_agreement,
    pattern_maps,
    region_names,
    summarise_agreement,
)
from neurolip.evaluation.figures import region_significance_figure
from neurolip.evaluation.map_null import (
    NULL_COLUMNS,
    LogisticPatternNull,
    cohort_permutations,
    fold_null_replicates,
    max_statistic_test,
    null_agreement,
    same_fold_null_replicates,
    stability_against_null,
)
from neurolip.methods import job_registry
from neurolip.phenotypes import read_phenotypes

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

# each region against the null. A plain logistic regression: on every fold, the observed model refitted
# at its own C (selection.json) beside linear_permutations within-site null refits, mapped on the fold's
# training subjects (map_null.LogisticPatternNull). Other methods: the model the trained null models copy
# (null fold, first seed) on test subjects. Each region is z-scored against its own null and compared with
# the null maps' leave-one-out z maxima (max_statistic_test).
coordinates = pd.read_csv(snakemake.input.coordinates)
if len(coordinates) != n_rois:
    coordinates = None
region_ids = coordinates["roi"].to_numpy() if coordinates is not None else np.arange(1, n_rois + 1)
names = region_names(coordinates, n_rois)
label = job_registry(snakemake).label(params.method)
null_key = (params.null_fold, params.seed)


def linear_null_maps():
    """{fold: LogisticPatternNull} of every fold (the observed C of the first seed). Null refit k of every
    fold reads the same cohort-wide permutation k (within site × outer test fold,
    map_null.cohort_permutations), restricted to the fold's training subjects: the folds' null models share
    their labels as the observed models do."""
    folds = pd.read_csv(snakemake.input.folds, sep="\t", dtype={"subject_id": str})
    cohort = read_phenotypes(snakemake.input.cohort).set_index("subject_id")
    null_labels = {}  # repeat -> (subject ids, (P, n) permuted diagnoses of the whole cohort)
    for repeat, rows in folds[folds["split"] == "test"].groupby("repeat"):
        ids = rows["subject_id"].tolist()
        index = cohort_permutations(
            cohort.loc[ids, "site"].astype(str).to_numpy(),
            rows["fold"].to_numpy(),
            params.linear_permutations,
            seed=int(repeat),
        )
        null_labels[repeat] = (ids, cohort.loc[ids, "diagnosis"].astype(int).to_numpy()[index])
    fitted = {}
    for fold, selection in zip(params.folds, snakemake.input.selections, strict=True):
        seeds = json.loads(Path(selection).read_text())["seeds"]
        c = float(next((s for s in seeds if int(s["seed"]) == params.seed), seeds[0])["C"])
        rows = folds[(folds["fold"] == fold) & (folds["split"] == "train")]
        train = rows["subject_id"].tolist()
        ids, labels = null_labels[rows["repeat"].iloc[0]]
        position = pd.Series(range(len(ids)), index=ids)
        edges = connectomes.edges_function(int(fold))(train)
        fitted[fold] = LogisticPatternNull(C=c, n_permutations=params.linear_permutations).fit(
            edges,
            cohort.loc[train, "diagnosis"].astype(int).to_numpy(),
            cohort.loc[train, "site"].astype(str).to_numpy(),
            edges,
            n_rois,
            null_labels=labels[:, position.loc[train].to_numpy()],
        )
        logging.info(
            "fold %s: %d null refits (cohort-wide within-site permutations) at C=%g, %.3f s each",
            fold,
            params.linear_permutations,
            c,
            fitted[fold].seconds_per_null_,
        )
    return fitted


def region_table(observed, null):
    if len(null) >= 3:
        table = max_statistic_test(observed, null, alpha=params.alpha)
        table["null_max"] = null.max(0)
        table["q_fdr"] = false_discovery_control(table["p_uncorrected"])
        return table.drop(columns=["region", "n_null"])
    table = pd.DataFrame({"observed": observed})
    for column in ("null_mean", "null_sd", "z", "p_uncorrected", "p_fwer", "null_max", "q_fdr"):
        table[column] = np.nan
    table["beats_null"] = False
    return table


def trained_null_maps():
    """{(estimator, "test"): (P, R)} maps of the trained null models (the null fold, one seed each), on
    the test subjects only: a null model's validation connectomes are permuted, so its validation scores
    cannot be mapped on the subjects they are written under."""
    null = {}
    if snakemake.input.null_scores:
        null[("pattern", "test")] = np.array(
            [
                next(iter(fold_pattern_maps(read_scores([path]), "test").values()))
                for path in snakemake.input.null_scores
            ]
        )
    if snakemake.input.null_attention:
        null[("attention", "test")] = np.array(
            [
                attention_model_maps(load_attention({0: path}))[(0, params.seed)]
                for path in snakemake.input.null_attention
            ]
        )
    return null


def subjects_of(split):
    """{fold: subject ids} of a split, as the trained models' maps were taken on them."""
    part = scores[scores["split"] == split]
    return {int(f): rows["subject_id"].drop_duplicates().tolist() for f, rows in part.groupby("fold")}


def null_columns(row, fitted, trained_null):
    """Each stability figure's chance level: the agreement of null models' maps of the same estimator
    taken the same way (map_null.null_agreement), or a row that says why there is none."""
    if row.pair == "same fold, other seed" and row.spearman > 1 - 1e-9:
        return {"null_source": "none: the models' maps are identical (a deterministic fit)"}
    if row.estimator == "pattern" and fitted and row.pair == "other fold":
        # linear null refits, mapped on the same subjects as the trained models' maps of each fold
        null = {
            f: fitted[f].maps_on(connectomes.edges_function(f)(ids), n_rois)[1]
            for f, ids in subjects_of(row.split).items()
        }
        spearman, jaccard = fold_null_replicates(null, k=params.top_k)
        return null_agreement(
            row.spearman,
            row.jaccard_top_k,
            spearman,
            jaccard,
            f"{len(spearman)} null refits per fold (cohort-wide permutations), same subjects",
        )
    if params.method not in params.null_methods:
        return {"null_source": "none: not in evaluation.maps.null_methods"}
    if row.pair == "same fold, other seed":
        # the seeds of a fold fit the same labels (and their noise); null models each fit their own
        return {"null_source": "none: the seeds share their labels, each null model has its own"}
    null = trained_null.get((row.estimator, row.split))
    if null is None:
        return {"null_source": f"none: the null models are mapped on test subjects only ({row.split})"}
    size = len(params.folds)
    if len(null) < 2 * size:
        return {"null_source": f"none: {len(null)} null models, fewer than two groups of {size}"}
    spearman, jaccard = same_fold_null_replicates(null, size, k=params.top_k, seed=params.null_fold)
    # groups of null models of one fold (no null models on the others): they share their test subjects,
    # the observed folds' models share most training labels; neither bias is bounded, so it is approximate
    return null_agreement(
        row.spearman,
        row.jaccard_top_k,
        spearman,
        jaccard,
        f"approximate: {len(null)} trained null models of fold {params.null_fold}, groups of {size}",
        n_null_models=len(null),
        min_p=1 / (1 + len(null) // size),
    )


tables, null_stability = [], []
linear = bool(params.linear_null) and len(snakemake.input.selections) > 0
fitted = linear_null_maps() if linear else {}
trained_null = trained_null_maps()
chance = pd.DataFrame(
    [null_columns(row, fitted, trained_null) for row in agreement.itertuples()], index=agreement.index
)
agreement = pd.concat([agreement, chance.reindex(columns=NULL_COLUMNS)], axis=1)
agreement.to_csv(snakemake.output.agreement, index=False)
for estimator in ("pattern", "attention"):
    if (estimator, "test") not in maps:
        continue
    model_maps = maps[(estimator, "test")]
    pooled = np.mean(list(model_maps.values()), axis=0)
    if estimator == "pattern" and fitted:
        runs = {
            fold: (null.observed_map_, null.null_maps_, "training subjects, refit at observed C")
            for fold, null in fitted.items()
        }
        null_stability.append(
            stability_against_null(
                {f: n.observed_map_ for f, n in fitted.items()}, {f: n.null_maps_ for f, n in fitted.items()}
            ).assign(method=params.method, estimator=estimator)
        )
    else:
        observed = model_maps.get(null_key)
        # one map per null model (each file: the null fold, one seed)
        null = trained_null.get((estimator, "test"), []) if observed is not None else []
        runs = {
            params.null_fold: (
                observed if observed is not None else pooled,
                np.array(null),
                "test subjects, trained null models",
            )
        }
    for fold, (observed, null, mapped_on) in runs.items():
        table = region_table(observed, null)
        table.insert(0, "region", region_ids)
        table.insert(0, "fold", fold)
        table.insert(0, "estimator", estimator)
        table["pooled_over_models"] = pooled
        table["label"] = (
            coordinates["label"].to_numpy() if coordinates is not None and "label" in coordinates else ""
        )
        table["region_name"] = names["region_name"].to_numpy()
        table["region_name_source"] = names["region_name_source"].to_numpy()
        table["n_null_models"] = len(null)
        table["mapped_on"] = mapped_on
        tables.append(table)
        stable = agreement[(agreement["estimator"] == estimator) & (agreement["split"] == "test")]
        summary = "; ".join(
            f"{row.pair}: Spearman {row.spearman:.2f}, Jaccard {row.jaccard_top_k:.2f}"
            for row in stable.itertuples()
        )
        if estimator == "pattern" and fold == params.null_fold:
            # regions are marked only where they beat the max-statistic null (p_FWER <= alpha)
            region_significance_figure(
                table,
                coordinates,
                f"{label}: activation pattern of the disease read-out (fold {fold}, {mapped_on})"
                + ("" if len(null) else " — no permutation null configured"),
                snakemake.output.figure,
                stability=summary,
                k=params.top_k * 2,
                names=names,
            )
regions = pd.concat(tables, ignore_index=True)
regions.insert(0, "method", params.method)
regions.to_csv(snakemake.output.regions, index=False)
stability_columns = [
    "method",
    "estimator",
    "maps",
    "observed",
    "null_mean",
    "null_p95",
    "p_value",
    "n_folds",
    "n_null",
]
(
    pd.concat(null_stability, ignore_index=True)[stability_columns]
    if null_stability
    else pd.DataFrame(columns=stability_columns)
).to_csv(snakemake.output.null_stability, index=False)
