"""Attention brain maps: group maps per class, top-k regions, stability across folds, planted-region recovery."""

import itertools

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score


def load_attention(paths):
    """Concatenate the per-fold attention files: {field: (n, N)}, subject_ids, y_true, fold and seed of each
    row (a fold trained with several seeds holds one row per subject and seed)."""
    parts = []
    for fold, path in sorted(paths.items()):
        with np.load(path, allow_pickle=False) as data:
            fields = [str(f) for f in data["segment_fields"]]
            roles = [str(r) for r in data["segment_roles"]]
            n_rows = len(data["subject_ids"])
            seed = data["seed"] if "seed" in data.files else np.zeros(n_rows, dtype=int)
            parts.append(
                {
                    "fold": np.full(n_rows, fold),
                    "seed": seed,
                    "subject_ids": data["subject_ids"].astype(str),
                    "y_true": data["y_true"],
                    **{f: data[f] for f in fields},
                }
            )
    merged = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    merged["fields"], merged["roles"] = fields, roles
    return merged


def disease_field(attention):
    return next(f for f, r in zip(attention["fields"], attention["roles"]) if r == "disease")


def fold_maps(attention, field=None, cls=None):
    """Mean attention of each trained model's test subjects (of class ``cls`` only, when given) -> {key: (N,)}.

    One model per fold gives {fold: map}; several seeds per fold give {"fold<f>-seed<s>": map}, one map per
    model, because averaging attention over seeds could cancel a region one seed attends more and another less.
    """
    field = field or disease_field(attention)
    keep = np.ones(len(attention["fold"]), dtype=bool) if cls is None else attention["y_true"] == cls
    seeds = attention.get("seed", np.zeros(len(attention["fold"]), dtype=int))
    models = sorted({(int(f), int(s)) for f, s in zip(attention["fold"][keep], seeds[keep])})
    several = len({s for _, s in models}) > 1
    return {
        (f"fold{f}-seed{s}" if several else f): attention[field][
            keep & (attention["fold"] == f) & (seeds == s)
        ].mean(0)
        for f, s in models
    }


def reading_weight(attention):
    """How much each region weighs in what a text reads through TTCA: |A_n - 1/N|.

    With centred values the TTCA output is sum_n (A_n - 1/N) v_n: a region is read by attending to it more
    *or less* than uniformly, and the two give the same output up to the sign of W_v, so which one training
    lands on is arbitrary. Maps, ranking, stability and recovery use this magnitude; the top-k table and the
    raw-attention recovery keep the direction.
    """
    attention = np.asarray(attention, dtype=float)
    return np.abs(attention - 1.0 / attention.shape[-1])


def pooled_reading_weight(maps):
    """Mean over folds (and seeds) of each fold map's reading weight: folds that read a region in opposite directions
    (more attention in one, less in another) add up instead of cancelling."""
    return np.mean([reading_weight(m) for m in maps.values()], axis=0)


NEAREST_AAL = "nearest AAL-116 region"


def region_names(coordinates, n_rois) -> pd.DataFrame:
    """Each region's name for figures and tables (columns roi, region_name, region_name_source).

    The atlas's own labels where the coordinate table has them (a ``name`` or ``label`` column: AAL-116,
    a labelled custom atlas); otherwise, with MNI centroids (CC200 has no labels), the AAL-116 region whose
    centroid is nearest, stated as such in ``region_name_source`` (with the distance); without
    coordinates, no name.
    """
    from ..datasets.base import aal_labels, roi_coordinates

    if coordinates is None or len(coordinates) != n_rois:
        return pd.DataFrame(
            {"roi": np.arange(1, n_rois + 1), "region_name": "", "region_name_source": "no atlas coordinates"}
        )
    for column in ("name", "label"):
        if column in coordinates.columns and coordinates[column].notna().all():
            names = coordinates[column].astype(str).to_numpy()
            if all(names):
                return pd.DataFrame(
                    {
                        "roi": coordinates["roi"].to_numpy(),
                        "region_name": names,
                        "region_name_source": "atlas label",
                    }
                )
    aal = roi_coordinates(atlas="aal")
    xyz = ["x_mni", "y_mni", "z_mni"]
    distance = np.linalg.norm(
        coordinates[xyz].to_numpy(dtype=float)[:, None, :] - aal[xyz].to_numpy(dtype=float)[None, :, :],
        axis=-1,
    )
    nearest = distance.argmin(1)
    names = aal_labels().set_index("roi").loc[aal["roi"].to_numpy()[nearest], "name"].to_numpy()
    return pd.DataFrame(
        {
            "roi": coordinates["roi"].to_numpy(),
            "region_name": names,
            "region_name_source": [f"{NEAREST_AAL} ({d:.0f} mm between centroids)" for d in distance.min(1)],
        }
    )


def top_regions(maps, coordinates, k=10, labels=None):
    """The k regions with the largest pooled reading weight of the fold maps, with MNI coordinates, the mean
    attention and in how many folds the region drew more attention than uniform."""
    weight = pooled_reading_weight(maps)
    stacked = np.array(list(maps.values()))
    n_rois = stacked.shape[1]
    order = np.argsort(weight)[::-1][:k]
    if coordinates is None or len(coordinates) != n_rois:
        # no atlas coordinates: regions by their 1-based column index in the ROI time series
        coordinates = pd.DataFrame(
            {"roi": np.arange(1, n_rois + 1), "x_mni": np.nan, "y_mni": np.nan, "z_mni": np.nan}
        )
    if labels is None and "label" in coordinates.columns:
        labels = coordinates["label"].tolist()
    table = coordinates.iloc[order][["roi", "x_mni", "y_mni", "z_mni"]].copy()
    table.insert(0, "rank", np.arange(1, len(order) + 1))
    table["reading_weight_ratio_to_uniform"] = weight[order] * n_rois
    table["attention_ratio_to_uniform"] = stacked.mean(0)[order] * n_rois
    table["folds_above_uniform"] = [
        f"{int((stacked[:, i] > 1.0 / n_rois).sum())}/{len(stacked)}" for i in order
    ]
    table["label"] = [labels[i] for i in order] if labels is not None else ""
    return table.reset_index(drop=True)


def stability(maps, k=10):
    """Pairwise Jaccard overlap of the top-k regions and Spearman correlation between fold maps (reading weights)."""
    rows = []
    for (fa, a), (fb, b) in itertools.combinations(sorted(maps.items()), 2):
        a, b = reading_weight(a), reading_weight(b)
        top_a, top_b = set(np.argsort(a)[::-1][:k]), set(np.argsort(b)[::-1][:k])
        rows.append(
            {
                "fold_a": fa,
                "fold_b": fb,
                "jaccard_top_k": len(top_a & top_b) / len(top_a | top_b),
                "spearman": spearmanr(a, b).statistic,
                "k": k,
            }
        )
    return pd.DataFrame(rows)


def map_recovery(maps, planted_regions, n_rois, measure):
    """AUROC of each model map ({(fold, seed): values}, larger = more read) against the planted-region mask."""
    mask = np.zeros(n_rois, dtype=int)
    mask[list(planted_regions)] = 1
    several = len({seed for _, seed in maps}) > 1  # keys as fold_maps writes them
    return pd.DataFrame(
        [
            {
                "fold": f"fold{f}-seed{s}" if several else f,
                "measure": measure,
                "auroc": roc_auc_score(mask, values),
            }
            for (f, s), values in sorted(maps.items())
        ]
    )


def recovery(maps, planted_regions, n_rois):
    """AUROC of each fold's map against the planted-region mask (1 for planted, 0 otherwise), for the reading
    weight |A - 1/N| and for the raw attention A (which also says whether planted regions drew more attention)."""
    mask = np.zeros(n_rois, dtype=int)
    mask[list(planted_regions)] = 1
    rows = []
    for fold, values in sorted(maps.items()):
        rows.append(
            {
                "fold": fold,
                "measure": "reading weight |A - 1/N|",
                "auroc": roc_auc_score(mask, reading_weight(values)),
            }
        )
        rows.append({"fold": fold, "measure": "attention A", "auroc": roc_auc_score(mask, values)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------------------
# Maps of what the disease read-out reads, for every method, and whether they reproduce
# ---------------------------------------------------------------------------------------------------------


def region_pattern(edges: np.ndarray, scores: np.ndarray, n_rois: int) -> np.ndarray:
    """Activation pattern of a read-out (Haufe et al. 2014) reduced to regions.

    ``edges`` (n, E) are the subjects' vectorised connectomes (upper triangle, row-major), ``scores`` (n,)
    the read-out's logit for them. Each edge's pattern is its correlation with the score (Haufe's
    cov(x, s) per unit of edge and score variance, so models and folds compare on one scale); a region's
    value is the root mean square over its edges. For a linear model s = w.x this is the Haufe-transformed
    weight vector; for any other model, the pattern of its output, which depends on what it predicts and
    not on how its parameters happen to be arranged.
    """
    edges = np.asarray(edges, dtype=float)
    scores = np.asarray(scores, dtype=float)
    z_edges = (edges - edges.mean(0)) / np.where(edges.std(0) > 0, edges.std(0), np.inf)
    spread = scores.std()
    if spread == 0:
        return np.zeros(n_rois)
    z_scores = (scores - scores.mean()) / spread
    correlation = z_edges.T @ z_scores / len(scores)
    rows, cols = np.triu_indices(n_rois, k=1)
    squared = np.zeros((n_rois, n_rois))
    squared[rows, cols] = correlation**2
    squared += squared.T
    return np.sqrt(squared.sum(1) / (n_rois - 1))


def pattern_maps(edges_of, seed_scores: pd.DataFrame, split: str, n_rois: int) -> dict:
    """{(fold, seed): region pattern} of each trained model on ``split`` (val or test) subjects.

    ``edges_of(subject_ids)`` returns their vectorised connectomes; ``seed_scores`` holds subject_id, fold,
    split, seed and p_disease (the model's own read-out probability).
    """
    from scipy.special import logit

    maps = {}
    part = seed_scores[seed_scores["split"] == split]
    for (fold, seed), rows in part.groupby(["fold", "seed"], sort=True):
        p = np.clip(rows["p_disease"].to_numpy(dtype=float), 1e-9, 1 - 1e-9)
        maps[(int(fold), int(seed))] = region_pattern(edges_of(rows["subject_id"].tolist()), logit(p), n_rois)
    return maps


def attention_model_maps(attention, field=None) -> dict:
    """{(fold, seed): reading weight |A - 1/N|} of each model's test subjects (the TTCA estimator)."""
    field = field or disease_field(attention)
    seeds = attention.get("seed", np.zeros(len(attention["fold"]), dtype=int))
    maps = {}
    for fold, seed in sorted({(int(f), int(s)) for f, s in zip(attention["fold"], seeds)}):
        keep = (attention["fold"] == fold) & (seeds == seed)
        maps[(fold, seed)] = reading_weight(attention[field][keep].mean(0))
    return maps


def _agreement(a, b, k):
    top_a, top_b = set(np.argsort(a)[::-1][:k]), set(np.argsort(b)[::-1][:k])
    return spearmanr(a, b).statistic, len(top_a & top_b) / len(top_a | top_b)


def pair_agreement(maps: dict, k: int = 10) -> pd.DataFrame:
    """Spearman and top-k Jaccard of every pair of model maps ({(fold, seed): map}), each pair labelled
    ``same fold, other seed`` or ``other fold``."""
    rows = []
    for (a, map_a), (b, map_b) in itertools.combinations(sorted(maps.items()), 2):
        spearman, jaccard = _agreement(map_a, map_b, k)
        rows.append(
            {
                "model_a": f"fold{a[0]}-seed{a[1]}",
                "model_b": f"fold{b[0]}-seed{b[1]}",
                "pair": "same fold, other seed" if a[0] == b[0] else "other fold",
                "spearman": spearman,
                "jaccard_top_k": jaccard,
            }
        )
    return pd.DataFrame(rows, columns=["model_a", "model_b", "pair", "spearman", "jaccard_top_k"])


def summarise_agreement(pairs: pd.DataFrame) -> pd.DataFrame:
    """Mean (and SD) Spearman and top-k Jaccard per pair type, with the number of pairs."""
    grouped = pairs.groupby("pair", sort=True)
    return grouped.agg(
        spearman=("spearman", "mean"),
        spearman_sd=("spearman", "std"),
        jaccard_top_k=("jaccard_top_k", "mean"),
        jaccard_sd=("jaccard_top_k", "std"),
        n_pairs=("spearman", "size"),
    ).reset_index()


def random_agreement(n_rois: int, k: int = 10, n_pairs: int = 2000, seed: int = 0) -> dict:
    """Chance level: the agreement of independent random maps over ``n_rois`` regions."""
    rng = np.random.default_rng(seed)
    values = [_agreement(rng.random(n_rois), rng.random(n_rois), k) for _ in range(n_pairs)]
    spearman, jaccard = np.array(values).T
    return {
        "spearman": spearman.mean(),
        "spearman_sd": spearman.std(ddof=1),
        "jaccard_top_k": jaccard.mean(),
        "jaccard_sd": jaccard.std(ddof=1),
        "n_pairs": n_pairs,
    }


def permutation_test(observed: np.ndarray, null: np.ndarray, alpha: float = 0.05) -> pd.DataFrame:
    """Each region's map value against its permutation null (``null`` (P, N): one map per null model).

    ``p_uncorrected`` counts null models whose value at that region reaches the observed one;
    ``p_fwer`` counts those whose *largest* value over all regions does (the max-statistic, Westfall and
    Young), which controls the family-wise error over regions and is attainable with 20 permutations
    (p >= 1/21); ``q_fdr`` is Benjamini-Hochberg over the uncorrected p-values. A region beats the null
    when ``p_fwer <= alpha``.

    ``p_fwer`` is the voxel-level family-wise p-value of ``nilearn.mass_univariate.permuted_ols`` (same
    formula, one-sided; tests/test_brainmaps.py checks they agree on an OLS case). permuted_ols itself
    cannot make these nulls: it permutes a regressor and refits an OLS t per region, whereas a null map
    here is a whole model retrained on shuffled diagnoses (the statistic is a trained read-out's or
    attention's map, not a mass-univariate t).
    """
    from scipy.stats import false_discovery_control

    observed = np.asarray(observed, dtype=float)
    null = np.atleast_2d(np.asarray(null, dtype=float))
    n_null = len(null)
    exceed = (null >= observed[None, :]).sum(0)
    exceed_max = (null.max(1)[:, None] >= observed[None, :]).sum(0)
    p_uncorrected = (1 + exceed) / (n_null + 1)
    p_fwer = (1 + exceed_max) / (n_null + 1)
    return pd.DataFrame(
        {
            "observed": observed,
            "null_mean": null.mean(0),
            "null_max": null.max(0),
            "p_uncorrected": p_uncorrected,
            "p_fwer": p_fwer,
            "q_fdr": false_discovery_control(p_uncorrected),
            "beats_null": p_fwer <= alpha,
        }
    )


def field_overlap(attention, field_a: str, field_b: str, k: int = 10) -> pd.DataFrame:
    """Per model: how much two segments' maps (reading weights) overlap, e.g. the disease and sex words."""
    maps_a = attention_model_maps(attention, field_a)
    maps_b = attention_model_maps(attention, field_b)
    rows = []
    for key in sorted(maps_a):
        spearman, jaccard = _agreement(maps_a[key], maps_b[key], k)
        rows.append(
            {
                "fold": key[0],
                "seed": key[1],
                "fields": f"{field_a} vs {field_b}",
                "spearman": spearman,
                "jaccard_top_k": jaccard,
            }
        )
    return pd.DataFrame(rows)
