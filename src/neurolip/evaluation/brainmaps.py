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
