"""One method's disease maps: the read-out's activation pattern (every method) and, for methods with TTCA,
the attention reading weight; how they agree between seeds and folds; each region z-scored against the
permutation null (within site, the observed read-out) with a max-statistic p_FWER where the method has one,
and the agreement of its maps across folds beside that of its null maps.

Which null a map is compared with (rule ``disease_maps``): a plain logistic regression (``linear_null``) is
refitted on every fold at its own C beside ``linear_permutations`` within-site null refits, mapped on the
fold's training subjects (:class:`~.map_null.LogisticPatternNull`); any other method of ``null_methods``
reads its trained null models of EVERY fold (``evaluation.maps.permutations`` = K per fold, one seed; null
model k of each fold trained on cohort-wide permutation k, within site × outer test fold), mapped on each
fold's test subjects like the fold's observed model of that seed. Each fold's map is z-scored region by
region against that fold's K null maps and compared with their leave-one-out z maxima
(:func:`~.map_null.max_statistic_test`); the across-fold stability of null maps k is the observed one's
statistic (:func:`~.map_null.fold_null_replicates`), p = (1 + #null ≥ observed) / (K + 1), resolution
1 / (K + 1). A method outside ``null_methods`` gets no null and no "above the null" statement.
"""

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import false_discovery_control

from .brainmaps import (
    attention_model_maps,
    load_attention,
    pair_agreement,
    pattern_maps,
    region_names,
    summarise_agreement,
)
from .map_null import (
    NULL_COLUMNS,
    LogisticPatternNull,
    cohort_permutations,
    fold_null_replicates,
    max_statistic_test,
    null_agreement,
    stability_against_null,
)

log = logging.getLogger(__name__)

AGREEMENT_COLUMNS = [
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
STABILITY_COLUMNS = [
    "method",
    "estimator",
    "maps",
    "observed",
    "null_mean",
    "null_p95",
    "p_value",
    "p_resolution",
    "n_folds",
    "n_null",
    "null_source",
]
# what a method outside evaluation.maps.null_methods says instead of a null (no "above the null" statement)
NOT_TESTED = "no null: not tested (the method is not in evaluation.maps.null_methods)"
# the region table of a map without a null of at least three maps: its observed values only
_NULL_REGION_COLUMNS = ("null_mean", "null_sd", "z", "p_uncorrected", "p_fwer", "null_max", "q_fdr")


@dataclass(frozen=True)
class MapSettings:
    """The ``disease_maps`` rule's parameters of one method (``evaluation.maps`` of the config)."""

    method: str
    folds: list
    top_k: int
    null_fold: int
    seed: int
    alpha: float
    null_methods: list
    linear_permutations: int
    tail_approximation: bool = False


def _fold_and_perm(path) -> tuple[int, int]:
    """(fold, permutation) of a trained null model's file (``null/<method>/fold<f>/perm<p>/...``)."""
    found = re.search(r"fold(\d+)/perm(\d+)/", str(path))
    if found is None:
        raise ValueError(f"{path}: a null model's file must lie under fold<f>/perm<p>/")
    return int(found.group(1)), int(found.group(2))


def _by_fold(maps: dict) -> dict:
    """{fold: (K, R)} of {(fold, perm): map}, rows in permutation order; every fold must have the same
    permutations (null map k of every fold is permutation k)."""
    folds = sorted({f for f, _ in maps})
    perms = {f: sorted(p for g, p in maps if g == f) for f in folds}
    if any(perms[f] != perms[folds[0]] for f in folds):
        raise ValueError(f"the folds' null models are not the same permutations: {perms}")
    return {f: np.array([maps[(f, p)] for p in perms[f]]) for f in folds}


def read_scores(paths) -> pd.DataFrame:
    """The seed-score files of ``paths``, one table."""
    return pd.concat([pd.read_csv(p, dtype={"subject_id": str}) for p in paths], ignore_index=True)


def region_table(observed, null, alpha, tail_approximation=False) -> pd.DataFrame:
    """Each region of ``observed`` against ``null`` ((P, R) null maps): z, p_uncorrected, p_FWER of the
    max-statistic test (with ``tail_approximation``, from a generalised Pareto tail of the null maxima,
    beside ``p_fwer_empirical``), the null maps' maximum and the FDR q-value; with fewer than three null
    maps, the observed map alone (no region beats the null)."""
    if len(null) >= 3:
        table = max_statistic_test(observed, null, alpha=alpha, tail_approximation=tail_approximation)
        table["null_max"] = null.max(0)
        table["q_fdr"] = false_discovery_control(table["p_uncorrected"])
        return table.drop(columns=["region", "n_null"])
    table = pd.DataFrame({"observed": observed})
    for column in _NULL_REGION_COLUMNS:
        table[column] = np.nan
    table["beats_null"] = False
    return table


def region_labels(coordinates: pd.DataFrame, n_rois: int):
    """(coordinates, region ids, region names) of the atlas: coordinates that do not match the connectomes'
    regions are not used (None; regions numbered 1..R)."""
    if len(coordinates) != n_rois:
        coordinates = None
    region_ids = coordinates["roi"].to_numpy() if coordinates is not None else np.arange(1, n_rois + 1)
    return coordinates, region_ids, region_names(coordinates, n_rois)


class DiseaseMaps:
    """The maps of one method's trained models and the nulls they are compared with.

    Parameters
    ----------
    settings : MapSettings
        The rule's parameters.
    scores : pandas.DataFrame
        Every fold's seed scores (:func:`read_scores`).
    connectomes
        The folds' connectomes: ``edges_function(fold)`` (``subject_ids -> (n, E)`` edges) and ``n_rois``
        (``neurolip.data_stage.FoldConnectomes``).
    """

    def __init__(self, settings: MapSettings, scores: pd.DataFrame, connectomes):
        self.settings = settings
        self.scores = scores
        self.connectomes = connectomes
        self.n_rois = connectomes.n_rois

    def fold_pattern_maps(self, scores, split) -> dict:
        """pattern_maps fold by fold: each fold's model reads its own fold's connectomes."""
        maps = {}
        for fold, rows in scores.groupby("fold", sort=True):
            maps.update(pattern_maps(self.connectomes.edges_function(int(fold)), rows, split, self.n_rois))
        return maps

    def observed_maps(self, attention_paths=()) -> dict:
        """{(estimator, split): {(fold, seed): map}}: the activation pattern on validation and test subjects
        and, with ``attention_paths`` (one file per fold), the attention reading weight on test subjects."""
        maps = {
            (estimator, split): self.fold_pattern_maps(self.scores, split)
            for estimator, split in [("pattern", "val"), ("pattern", "test")]
        }
        if attention_paths:
            attention = load_attention(dict(zip(self.settings.folds, attention_paths, strict=True)))
            maps[("attention", "test")] = attention_model_maps(attention)
        return maps

    def agreement(self, maps) -> pd.DataFrame:
        """Agreement of the models' maps of each (estimator, split) between seeds and folds
        (:data:`AGREEMENT_COLUMNS`)."""
        agreement = []
        for (estimator, split), model_maps in maps.items():
            pairs = pair_agreement(model_maps, k=self.settings.top_k)
            if pairs.empty:
                log.info("%s %s: one model, no pair to compare", estimator, split)
                continue
            agreement.append(
                summarise_agreement(pairs).assign(
                    method=self.settings.method, estimator=estimator, split=split
                )
            )
        if not agreement:
            return pd.DataFrame(columns=AGREEMENT_COLUMNS)
        return pd.concat(agreement, ignore_index=True)[AGREEMENT_COLUMNS]

    def linear_null_maps(self, folds, cohort, selections) -> dict:
        """{fold: LogisticPatternNull} of every fold (the observed C of the first seed, from the fold's
        ``selections`` file). Null refit k of every fold reads the same cohort-wide permutation k (within
        site × outer test fold, map_null.cohort_permutations), restricted to the fold's training subjects:
        the folds' null models share their labels as the observed models do. ``cohort`` is indexed by
        subject id."""
        settings = self.settings
        null_labels = {}  # repeat -> (subject ids, (P, n) permuted diagnoses of the whole cohort)
        for repeat, rows in folds.groupby("repeat"):
            # every subject of the repeat, by its outer test fold; -1 for a subject never tested (a
            # leave-site-out train_only site): its own block, still permuted within its site
            # (tested subjects first, in the folds file's order: stratified folds keep their permutations)
            test_fold = rows[rows["split"] == "test"].set_index("subject_id")["fold"]
            ids = list(dict.fromkeys([*test_fold.index, *rows["subject_id"]]))
            index = cohort_permutations(
                cohort.loc[ids, "site"].astype(str).to_numpy(),
                test_fold.reindex(ids).fillna(-1).astype(int).to_numpy(),
                settings.linear_permutations,
                seed=int(repeat),
            )
            null_labels[repeat] = (ids, cohort.loc[ids, "diagnosis"].astype(int).to_numpy()[index])
        fitted = {}
        for fold, selection in zip(settings.folds, selections, strict=True):
            seeds = json.loads(Path(selection).read_text())["seeds"]
            c = float(next((s for s in seeds if int(s["seed"]) == settings.seed), seeds[0])["C"])
            rows = folds[(folds["fold"] == fold) & (folds["split"] == "train")]
            train = rows["subject_id"].tolist()
            ids, labels = null_labels[rows["repeat"].iloc[0]]
            position = pd.Series(range(len(ids)), index=ids)
            edges = self.connectomes.edges_function(int(fold))(train)
            fitted[fold] = LogisticPatternNull(C=c, n_permutations=settings.linear_permutations).fit(
                edges,
                cohort.loc[train, "diagnosis"].astype(int).to_numpy(),
                cohort.loc[train, "site"].astype(str).to_numpy(),
                edges,
                self.n_rois,
                null_labels=labels[:, position.loc[train].to_numpy()],
            )
            log.info(
                "fold %s: %d null refits (cohort-wide within-site permutations) at C=%g, %.3f s each",
                fold,
                settings.linear_permutations,
                c,
                fitted[fold].seconds_per_null_,
            )
        return fitted

    def trained_null_maps(self, null_scores=(), null_attention=()) -> dict:
        """{(estimator, "test"): {fold: (K, R)}} maps of the trained null models of every fold (one seed each,
        null model k of each fold at row k: the files' ``fold<f>/perm<k>`` paths say which), on each fold's
        test subjects only: a null model's validation connectomes are permuted, so its validation scores
        cannot be mapped on the subjects they are written under."""
        null = {}
        if null_scores:
            maps = {}
            for path in null_scores:
                fold, perm = _fold_and_perm(path)
                (model_map,) = self.fold_pattern_maps(read_scores([path]), "test").values()
                maps[(fold, perm)] = model_map
            null[("pattern", "test")] = _by_fold(maps)
        if null_attention:
            maps = {}
            for path in null_attention:
                fold, perm = _fold_and_perm(path)
                maps[(fold, perm)] = attention_model_maps(load_attention({fold: path}))[
                    (fold, self.settings.seed)
                ]
            null[("attention", "test")] = _by_fold(maps)
        return null

    def subjects_of(self, split) -> dict:
        """{fold: subject ids} of a split, as the trained models' maps were taken on them."""
        part = self.scores[self.scores["split"] == split]
        return {int(f): rows["subject_id"].drop_duplicates().tolist() for f, rows in part.groupby("fold")}

    def null_columns(self, row, fitted, trained_null) -> dict:
        """Each stability figure's chance level: the agreement of null models' maps of the same estimator
        taken the same way (map_null.null_agreement), or a row that says why there is none."""
        settings = self.settings
        if row.pair == "same fold, other seed" and row.spearman > 1 - 1e-9:
            return {"null_source": "none: the models' maps are identical (a deterministic fit)"}
        if row.estimator == "pattern" and fitted and row.pair == "other fold":
            # linear null refits, mapped on the same subjects as the trained models' maps of each fold
            null = {
                f: fitted[f].maps_on(self.connectomes.edges_function(f)(ids), self.n_rois)[1]
                for f, ids in self.subjects_of(row.split).items()
            }
            spearman, jaccard = fold_null_replicates(null, k=settings.top_k)
            return null_agreement(
                row.spearman,
                row.jaccard_top_k,
                spearman,
                jaccard,
                f"{len(spearman)} null refits per fold (cohort-wide permutations), same subjects",
            )
        if settings.method not in settings.null_methods:
            return {"null_source": NOT_TESTED}
        if row.pair == "same fold, other seed":
            # the seeds of a fold fit the same labels (and their noise); null models each fit their own
            return {"null_source": "none: the seeds share their labels, each null model has its own"}
        null = trained_null.get((row.estimator, row.split))
        if null is None:
            return {"null_source": f"none: the null models are mapped on test subjects only ({row.split})"}
        if row.pair != "other fold" or len(null) < 2:
            return {"null_source": f"none: null models of {len(null)} fold(s), pair {row.pair}"}
        # null map k of every fold (cohort-wide permutation k), compared across folds as the observed maps are
        spearman, jaccard = fold_null_replicates(null, k=settings.top_k)
        return null_agreement(
            row.spearman,
            row.jaccard_top_k,
            spearman,
            jaccard,
            f"{len(spearman)} trained null models per fold (cohort-wide permutation k on every fold), "
            "test subjects",
        )

    def with_null_columns(self, agreement, fitted, trained_null) -> pd.DataFrame:
        """``agreement`` with each row's chance level (:data:`~.map_null.NULL_COLUMNS`)."""
        chance = pd.DataFrame(
            [self.null_columns(row, fitted, trained_null) for row in agreement.itertuples()],
            index=agreement.index,
        )
        return pd.concat([agreement, chance.reindex(columns=NULL_COLUMNS)], axis=1)

    def null_runs(self, estimator, model_maps, fitted, trained_null) -> dict:
        """{fold: (observed map, (P, R) null maps, what they were mapped on)} of one estimator's test maps:
        every fold's linear refits, or the null fold's model beside the trained null models (the pooled map
        over models where that model is missing, with no null)."""
        if estimator == "pattern" and fitted:
            return {
                fold: (null.observed_map_, null.null_maps_, "training subjects, refit at observed C")
                for fold, null in fitted.items()
            }
        # every fold's model of the null models' seed against that fold's K null maps
        null = trained_null.get((estimator, "test"), {})
        runs = {
            fold: (
                model_maps[(fold, self.settings.seed)],
                fold_null,
                "test subjects, trained null models of this fold",
            )
            for fold, fold_null in null.items()
            if (fold, self.settings.seed) in model_maps
        }
        if self.settings.null_fold not in runs:
            # the figure's fold: its model's map, or the pooled map over models where that model is missing
            observed = model_maps.get((self.settings.null_fold, self.settings.seed))
            pooled = np.mean(list(model_maps.values()), axis=0)
            runs[self.settings.null_fold] = (
                observed if observed is not None else pooled,
                np.empty((0, len(pooled))),
                "test subjects, no null models",
            )
        return dict(sorted(runs.items()))

    def null_phrase(self, estimator, null, fitted, model_maps) -> str:
        """What a map figure's title says about the map and its null, true in each case: the subjects it is
        mapped on and the null it was tested against, or why it was not tested."""
        settings = self.settings
        if estimator == "pattern" and fitted:
            return f"refit at the observed C on the training subjects; null: {len(null)} permutation refits"
        mapped = "test subjects"
        if (settings.null_fold, settings.seed) not in model_maps:
            mapped = f"no model of fold {settings.null_fold}, seed {settings.seed}: mean over models"
        if len(null) >= 3:
            return (
                f"{mapped}; null: {len(null)} trained null models of this fold "
                "(cohort-wide permutations within site × outer fold)"
            )
        if settings.method not in settings.null_methods:
            return f"{mapped}; {NOT_TESTED}"
        if len(null):
            return f"{mapped}; untested: {len(null)} null models, the test needs at least 3"
        return f"{mapped}; untested: no null model maps to test against"

    def trained_stability(self, estimator, model_maps, null) -> pd.DataFrame | None:
        """Across-fold stability of the folds' models of the null models' seed (test subjects) beside that of
        null maps k of every fold (:func:`~.map_null.stability_against_null`), raw and standardised; None
        with fewer than two such folds or three null models per fold."""
        seed = self.settings.seed
        folds = [f for f in sorted(null) if (f, seed) in model_maps and len(null[f]) >= 3]
        if len(folds) < 2:
            return None
        return stability_against_null(
            {f: model_maps[(f, seed)] for f in folds}, {f: null[f] for f in folds}
        ).assign(
            method=self.settings.method,
            estimator=estimator,
            null_source=f"trained null models per fold (cohort-wide permutations), seed {seed}, test subjects",
        )

    def regions(self, maps, agreement, fitted, trained_null, coordinates, label):
        """The region tables of every test map against its null, the fold agreement of the linear refits
        against theirs, and what the significance figure draws.

        Returns
        -------
        regions : pandas.DataFrame
            One row per (estimator, fold, region).
        null_stability : pandas.DataFrame
            :data:`STABILITY_COLUMNS` (empty without linear refits).
        figure : dict or None
            ``table``, ``title`` and ``stability`` of the activation pattern on the null fold, for
            :func:`~.figures.brain.region_significance_figure`.
        """
        settings = self.settings
        coordinates, region_ids, names = region_labels(coordinates, self.n_rois)
        tables, null_stability, figure = [], [], None
        for estimator in ("pattern", "attention"):
            if (estimator, "test") not in maps:
                continue
            model_maps = maps[(estimator, "test")]
            pooled = np.mean(list(model_maps.values()), axis=0)
            if estimator == "pattern" and fitted:
                null_stability.append(
                    stability_against_null(
                        {f: n.observed_map_ for f, n in fitted.items()},
                        {f: n.null_maps_ for f, n in fitted.items()},
                    ).assign(
                        method=settings.method,
                        estimator=estimator,
                        null_source="null refits per fold (cohort-wide permutations), training subjects",
                    )
                )
            elif trained_null.get((estimator, "test")):
                trained = self.trained_stability(estimator, model_maps, trained_null[(estimator, "test")])
                if trained is not None:
                    null_stability.append(trained)
            for fold, (observed, null, mapped_on) in self.null_runs(
                estimator, model_maps, fitted, trained_null
            ).items():
                table = region_table(observed, null, settings.alpha, settings.tail_approximation)
                table.insert(0, "region", region_ids)
                table.insert(0, "fold", fold)
                table.insert(0, "estimator", estimator)
                table["pooled_over_models"] = pooled
                table["label"] = (
                    coordinates["label"].to_numpy()
                    if coordinates is not None and "label" in coordinates
                    else ""
                )
                table["region_name"] = names["region_name"].to_numpy()
                table["region_name_source"] = names["region_name_source"].to_numpy()
                table["n_null_models"] = len(null)
                table["mapped_on"] = mapped_on
                tables.append(table)
                if estimator == "pattern" and fold == settings.null_fold:
                    stable = agreement[(agreement["estimator"] == estimator) & (agreement["split"] == "test")]
                    figure = {
                        "table": table,
                        "title": f"{label}: activation pattern of the disease read-out (fold {fold}; "
                        + self.null_phrase(estimator, null, fitted, model_maps)
                        + ")",
                        "stability": "; ".join(
                            f"{row.pair}: Spearman {row.spearman:.2f}, Jaccard {row.jaccard_top_k:.2f}"
                            for row in stable.itertuples()
                        ),
                        "coordinates": coordinates,
                        "names": names,
                    }
        regions = pd.concat(tables, ignore_index=True)
        regions.insert(0, "method", settings.method)
        stability = (
            pd.concat(null_stability, ignore_index=True)[STABILITY_COLUMNS]
            if null_stability
            else pd.DataFrame(columns=STABILITY_COLUMNS)
        )
        return regions, stability, figure
