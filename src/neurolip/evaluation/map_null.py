"""Brain maps against the right chance level, with a region statistic that has power.

Three parts, each usable on its own:

1. **Null models permuted within site** (``within_block_permutations``): labels are shuffled only among
   subjects of the same site (exchangeability blocks, Winkler et al. 2014), so a null model keeps what site
   explains and loses only the label.
2. **Cheap null maps for linear models.** The map of a model is the activation pattern of its score
   (Haufe et al. 2014), reduced to regions as ``brainmaps.region_pattern`` does (per edge the correlation
   of edge and score; per region the root mean square over its edges); ``region_patterns`` computes it for
   many scores at once. ``LogisticPatternNull`` refits a logistic regression at the observed model's C on
   each permutation, warm-started from the previous fit; ``ridge_scores`` gives the scores of a ridge
   (closed form, dual) model for all permutations with one factorisation.
3. **A region statistic with power and family-wise control** (``max_statistic_test``): the raw pattern
   inherits the edge-correlation structure, so some regions have large values under any label; each region
   is z-scored against its own null distribution (mean and SD over the null maps) and the observed z is
   compared with the maximum over regions of each null map's z, that null map standardised leave-one-out
   against the others (a max-T, Nichols & Holmes 2002). p_FWER = (1 + #null maxima ≥ observed z) /
   (1 + n_null): 0.05 needs ≥ 19 null models, 0.01 ≥ 99. With ``tail_approximation`` the p of a region
   beyond the null maxima's upper quarter comes from a generalised Pareto distribution fitted to the
   exceedances of the null maxima (``tail_p_values``, Knijnenburg et al. 2009, Winkler et al. 2016), so
   it is no longer bounded below by 1 / (1 + n_null); where an Anderson-Darling check rejects the fit, the
   empirical p stays.
4. **Stability against null stability** (``stability_against_null``): the agreement (Spearman) of observed
   maps across folds beside that of null maps (same estimator, same folds, permutation k of each fold
   compared with permutation k of the others), and the agreement of the standardised (z) maps.

Controls (``tests/test_map_null.py``, ``benchmarks/map_null_fwer.py``): on the simulated cohort of
``make demo`` at least 8 of the 10 planted disease regions beat the null at p_FWER ≤ 0.05 for a
``linear_fc``-style logistic regression with 100 null models; on cohorts without a disease effect the
procedure reports any region in about 5 % of runs.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import pandas as pd
from scipy.stats import genpareto, rankdata, spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

# cohort_permutations moved below training and evaluation (training draws it too); still importable here
from ..permutations import cohort_permutations, within_block_permutations  # noqa: F401


def region_incidence(n_rois: int) -> np.ndarray:
    """(n_rois, E) 0/1 matrix: which regions each upper-triangle edge (row-major, k=1) joins."""
    rows, cols = np.triu_indices(n_rois, k=1)
    incidence = np.zeros((n_rois, len(rows)))
    edges = np.arange(len(rows))
    incidence[rows, edges] = 1
    incidence[cols, edges] = 1
    return incidence


def region_patterns(edges, scores, n_rois: int) -> np.ndarray:
    """Region activation patterns of many scores at once: (P, n_rois) for ``scores`` (n, P) (or (n,)).

    The same statistic as ``brainmaps.region_pattern``: per edge the correlation of edge and score over the
    subjects, per region the root mean square over its n_rois − 1 edges (a test checks they agree)."""
    edges = np.asarray(edges, dtype=float)
    scores = np.asarray(scores, dtype=float).reshape(len(edges), -1)
    spread = edges.std(0)
    z_edges = (edges - edges.mean(0)) / np.where(spread > 0, spread, np.inf)
    score_spread = scores.std(0)
    z_scores = (scores - scores.mean(0)) / np.where(score_spread > 0, score_spread, np.inf)
    correlation = z_edges.T @ z_scores / len(edges)  # (E, P)
    return np.sqrt(region_incidence(n_rois) @ correlation**2 / (n_rois - 1)).T


def ridge_scores(train_edges, train_labels, map_edges, alpha: float = 1.0) -> np.ndarray:
    """Scores on ``map_edges`` of ridge models fitted on ``train_edges`` (standardised) for every label
    vector in ``train_labels`` (n_train, P) at once: one Cholesky factorisation of the n_train × n_train
    kernel serves all P (dual form, cheap when edges outnumber subjects)."""
    scaler = StandardScaler().fit(train_edges)
    x_train, x_map = scaler.transform(train_edges), scaler.transform(map_edges)
    labels = np.asarray(train_labels, dtype=float).reshape(len(x_train), -1)
    centred = labels - labels.mean(0)
    kernel = x_train @ x_train.T
    factor = np.linalg.cholesky(kernel + alpha * np.eye(len(kernel)))
    dual = np.linalg.solve(factor.T, np.linalg.solve(factor, centred))
    return x_map @ (x_train.T @ dual)


class LogisticPatternNull:
    """Null region maps of a logistic-regression read-out (``linear_fc``), at the observed model's C.

    ``C``: the observed model's inverse regularisation (chosen by the observed fit's own validation; null
    models reuse it, as they must reuse the observed read-out); ``n_permutations``; ``seed``. ``fit``
    standardises the edges on the training subjects, fits the observed model and one model per
    within-block permutation of the training labels (each warm-started from the previous one), and maps
    each model's logit on ``map_edges``.

    Why it is cheap: the L2-penalised logistic solution lies in the row space of the training data
    (representer theorem), so with the SVD X = U S Vᵀ of the standardised training edges the model is
    fitted on the n_train columns of U S and w = V β: the same model (a test checks the scores against a
    plain fit on the edges) at the cost of an n_train-dimensional Newton fit (13-20 ms on the demo cohort
    against 60 ms for lbfgs on its 4950 edges; ``benchmarks/map_null_fwer.py``).

    Which subjects to map on: the map is a permutation statistic whatever subjects it is computed on (the
    observed model and the null models are mapped alike), but its power grows with them. On the demo cohort
    a map on the fold's ~190 training subjects finds all 10 planted regions; on its ~47 test subjects, 1.

    Fitted: ``observed_map_`` (n_rois,), ``null_maps_`` (n_permutations, n_rois), ``permutations_``,
    ``observed_scores_`` (logits on ``map_edges``), ``seconds_per_null_`` (wall time of one null fit),
    ``scaler_`` and ``weights_`` (E, 1 + n_permutations: the observed model's and each null model's weights
    on the standardised edges; ``maps_on`` maps them on other subjects).
    """

    def __init__(self, C: float = 0.01, n_permutations: int = 100, seed: int = 0, max_iter: int = 5000):
        self.C = C
        self.n_permutations = n_permutations
        self.seed = seed
        self.max_iter = max_iter

    def fit(
        self, train_edges, train_labels, blocks, map_edges, n_rois: int, null_labels=None
    ) -> LogisticPatternNull:
        """``null_labels`` (n_permutations, n_train): the null models' label vectors (e.g. a cohort-wide
        permutation restricted to these training subjects, :func:`cohort_permutations`); None: permute
        ``train_labels`` within ``blocks``."""
        # hundreds of small fits: one BLAS thread each is several times faster than a contended pool
        with threadpool_limits(1):
            return self._fit(train_edges, train_labels, blocks, map_edges, n_rois, null_labels)

    def _fit(self, train_edges, train_labels, blocks, map_edges, n_rois, null_labels):
        scaler = StandardScaler().fit(train_edges)
        x_train, x_map = scaler.transform(train_edges), scaler.transform(map_edges)
        u, s, vt = np.linalg.svd(x_train, full_matrices=False)
        keep = s > s.max() * 1e-10
        reduced, basis = u[:, keep] * s[keep], vt[keep].T  # x_train = reduced @ basis.T
        map_reduced = x_map @ basis
        labels = np.asarray(train_labels).astype(int)
        model = LogisticRegression(
            C=self.C, solver="newton-cholesky", max_iter=self.max_iter, warm_start=True, tol=1e-8
        )
        model.fit(reduced, labels)
        scores, coefs = [model.decision_function(map_reduced)], [model.coef_.ravel().copy()]
        if null_labels is None:
            self.permutations_ = within_block_permutations(blocks, self.n_permutations, self.seed)
            null_labels = labels[self.permutations_]
        null_labels = np.asarray(null_labels).astype(int)
        started = time.perf_counter()
        for permuted in null_labels:
            model.fit(reduced, permuted)
            scores.append(model.decision_function(map_reduced))
            coefs.append(model.coef_.ravel().copy())
        self.seconds_per_null_ = (time.perf_counter() - started) / max(1, len(null_labels))
        self.observed_scores_ = scores[0]
        maps = region_patterns(map_edges, np.column_stack(scores), n_rois)
        self.observed_map_, self.null_maps_ = maps[0], maps[1:]
        # each model's weights on the standardised edges (E, 1 + P): maps on other subjects without a refit
        self.scaler_ = scaler
        self.weights_ = basis @ np.column_stack(coefs)
        return self

    def maps_on(self, edges, n_rois: int):
        """(observed map, null maps (P, R)) of the fitted models' scores on other subjects' ``edges``
        (e.g. the fold's validation or test subjects, where the trained model's own maps are taken)."""
        with threadpool_limits(1):
            maps = region_patterns(edges, self.scaler_.transform(edges) @ self.weights_, n_rois)
        return maps[0], maps[1:]


def standardise_against_null(maps, null) -> np.ndarray:
    """``maps`` (..., R) as z-scores against the null maps (P, R): (map − null mean) / null SD per region."""
    null = np.asarray(null, dtype=float)
    sd = null.std(0, ddof=1)
    return (np.asarray(maps, dtype=float) - null.mean(0)) / np.where(sd > 0, sd, np.inf)


def leave_one_out_z(null) -> np.ndarray:
    """(P, R): each null map standardised against the other P − 1 null maps."""
    null = np.asarray(null, dtype=float)
    n = len(null)
    total, total_sq = null.sum(0), (null**2).sum(0)
    mean = (total - null) / (n - 1)
    variance = (total_sq - null**2 - (n - 1) * mean**2) / (n - 2)
    sd = np.sqrt(np.clip(variance, 0, None))
    return (null - mean) / np.where(sd > 0, sd, np.inf)


def _anderson_darling(cdf_values) -> np.ndarray:
    """Anderson-Darling statistics A² of probability-integral transforms (..., n), one per row."""
    u = np.clip(np.sort(cdf_values, axis=-1), 1e-12, 1 - 1e-12)
    n = u.shape[-1]
    k = np.arange(1, n + 1)
    return -n - np.mean((2 * k - 1) * (np.log(u) + np.log1p(-u[..., ::-1])), axis=-1)


def gpd_pwm(exceedances):
    """(shape, scale) of a generalised Pareto distribution (location 0, scipy's sign of the shape) by
    probability-weighted moments (Hosking & Wallis 1987: preferred to maximum likelihood below ~50
    exceedances, and closed form); rows of a 2-D array are fitted each."""
    x = np.sort(np.asarray(exceedances, dtype=float), axis=-1)
    n = x.shape[-1]
    a0 = x.mean(-1)
    a1 = (x * (n - np.arange(1, n + 1)) / (n - 1)).mean(-1)
    hosking_k = a0 / (a0 - 2 * a1) - 2
    return -hosking_k, 2 * a0 * a1 / (a0 - 2 * a1)


def gpd_tail_fit(
    null_statistics,
    tail_fraction: float = 0.25,
    min_tail: int = 10,
    gof_alpha: float = 0.05,
    n_gof: int = 999,
    seed: int = 0,
) -> dict | None:
    """A generalised Pareto fit to the upper tail of ``null_statistics`` (Knijnenburg et al. 2009):
    the threshold sits between the largest ``n_tail`` = max(``min_tail``, ``tail_fraction`` × N) values
    and the rest; the exceedances over it are fitted by probability-weighted moments (:func:`gpd_pwm`).
    The fit is checked by a parametric-bootstrap Anderson-Darling test (``n_gof`` samples from the fitted
    distribution, each refitted); while it is rejected at ``gof_alpha`` the tail shrinks by 10 % of N and
    the fit is retried (not below ``min_tail``). Returns {threshold, shape, scale, n_tail, n, gof_p} or
    None (fewer than ``min_tail`` + 1 null values, or every fit rejected: callers keep the empirical p)."""
    values = np.sort(np.asarray(null_statistics, dtype=float))
    values = values[np.isfinite(values)]
    n = len(values)
    n_tail = max(min_tail, int(round(tail_fraction * n)))
    rng = np.random.default_rng(seed)
    while min_tail <= n_tail < n:
        threshold = (values[n - n_tail - 1] + values[n - n_tail]) / 2
        exceedances = values[n - n_tail :] - threshold
        shape, scale = gpd_pwm(exceedances)
        if np.isfinite(shape) and scale > 0:
            observed_a2 = _anderson_darling(genpareto.cdf(exceedances, shape, 0, scale))
            draws = genpareto.rvs(shape, 0, scale, size=(n_gof, n_tail), random_state=rng)
            shapes, scales = gpd_pwm(draws)
            ok = np.isfinite(shapes) & (scales > 0)
            bootstrap = _anderson_darling(genpareto.cdf(draws[ok], shapes[ok, None], 0, scales[ok, None]))
            gof_p = (1 + np.sum(bootstrap >= observed_a2)) / (1 + ok.sum())
            if gof_p > gof_alpha:
                return {
                    "threshold": float(threshold),
                    "shape": float(shape),
                    "scale": float(scale),
                    "n_tail": n_tail,
                    "n": n,
                    "gof_p": float(gof_p),
                }
        step = max(1, int(round(0.1 * n)))
        if n_tail - step < min_tail:
            return None
        n_tail -= step
    return None


def tail_p_values(null_statistics, observed, fit: dict | None = None, **fit_options) -> np.ndarray:
    """P-values of ``observed`` against ``null_statistics`` with a generalised Pareto tail: the empirical
    (1 + #null ≥ x) / (1 + N) up to the fit's threshold, beyond it ((n_tail + 1) / (N + 1)) × the
    survival function of the exceedance x − threshold under a tail refitted with x among the n_tail null
    exceedances (as x counts in the empirical p's numerator; without it the plug-in p was liberal: 6.8 %
    of pure-null draws at p ≤ 0.05 with 40 null models, 5.2 % with it; benchmarks/map_null_fwer.py
    --calibration). Just above the threshold it is about the empirical p just below it; the refit makes
    monotonicity in x an empirical property, not a guarantee (tests/test_map_tail.py checks it on a grid).
    ``fit``: a :func:`gpd_tail_fit` result on the null values alone (None: fitted here with
    ``fit_options``); where no fit is accepted the empirical p is returned. A region beyond the end point of a fitted tail with
    negative shape gets p = 0 in the fit; it is floored at 1e-12."""
    null_statistics = np.asarray(null_statistics, dtype=float)
    shape_out = np.shape(observed)
    observed = np.asarray(observed, dtype=float).ravel()
    n = len(null_statistics)
    empirical = (1 + (null_statistics[:, None] >= observed[None, :]).sum(0)) / (1 + n)
    if fit is None:
        fit = gpd_tail_fit(null_statistics, **fit_options)
    if fit is None:
        return empirical.reshape(shape_out)
    beyond = observed > fit["threshold"]
    # the observed value is exchangeable with the null ones under the null hypothesis: it joins the
    # exceedances it is scored against (as it joins the count in the empirical 1 + #null ≥ x), which
    # keeps the fitted tail from being lighter than the draw it judges
    tail_values = np.sort(null_statistics)[n - fit["n_tail"] :] - fit["threshold"]
    excess = observed[beyond] - fit["threshold"]
    augmented = np.column_stack([np.broadcast_to(tail_values, (len(excess), len(tail_values))), excess])
    shapes, scales = gpd_pwm(augmented)
    tail = (fit["n_tail"] + 1) / (n + 1) * genpareto.sf(excess, shapes, 0, scales)
    p = empirical.copy()
    p[beyond] = np.maximum(np.nan_to_num(tail, nan=1.0), 1e-12)
    return p.reshape(shape_out)


def max_statistic_test(
    observed, null, alpha: float = 0.05, two_sided: bool = False, tail_approximation: bool = False
) -> pd.DataFrame:
    """Each region's observed map value against its own null, with family-wise control over regions.

    ``observed`` (R,), ``null`` (P, R) from models of the same estimator on permuted labels. ``z``: observed
    standardised against the null; ``p_uncorrected``: (1 + #null maps whose leave-one-out z reaches it)
    / (1 + P) at that region; ``p_fwer``: (1 + #null maps whose largest leave-one-out z reaches the region's z) / (1 + P).
    ``two_sided`` uses |z| (for signed statistics; the region pattern is a magnitude, so one-sided).
    ``tail_approximation``: p_fwer from :func:`tail_p_values` on the null maxima (a generalised Pareto
    tail; the empirical p where the fit is rejected); ``p_fwer_empirical`` keeps the permutation p and
    ``tail_fit`` says whether a fit was used ("gpd" or "empirical")."""
    observed = np.asarray(observed, dtype=float)
    null = np.asarray(null, dtype=float)
    n_null = len(null)
    if n_null < 3:
        raise ValueError("the max-statistic test needs at least 3 null maps")
    z = standardise_against_null(observed, null)
    null_z = leave_one_out_z(null)
    if two_sided:
        z_test, null_test = np.abs(z), np.abs(null_z)
    else:
        z_test, null_test = z, null_z
    exceed = (null_test >= z_test[None, :]).sum(0)
    null_max = null_test.max(1)
    p_fwer = (1 + (null_max[:, None] >= z_test[None, :]).sum(0)) / (1 + n_null)
    extra = {}
    if tail_approximation:
        fit = gpd_tail_fit(null_max)
        extra = {"p_fwer_empirical": p_fwer, "tail_fit": "gpd" if fit is not None else "empirical"}
        p_fwer = tail_p_values(null_max, z_test, fit=fit)
    return pd.DataFrame(
        {
            "region": np.arange(len(observed)),
            "observed": observed,
            "null_mean": null.mean(0),
            "null_sd": null.std(0, ddof=1),
            "z": z,
            "p_uncorrected": (1 + exceed) / (1 + n_null),
            "p_fwer": p_fwer,
            "beats_null": p_fwer <= alpha,
            "n_null": n_null,
            **extra,
        }
    )


def _mean_pairwise_spearman(maps) -> float:
    pairs = list(itertools.combinations(range(len(maps)), 2))
    return float(np.mean([spearmanr(maps[a], maps[b]).statistic for a, b in pairs]))


def _top_k_jaccard(a, b, k: int) -> float:
    top_a, top_b = set(np.argsort(a)[::-1][:k]), set(np.argsort(b)[::-1][:k])
    return len(top_a & top_b) / len(top_a | top_b)


def _mean_pairwise_jaccard(maps, k: int) -> float:
    return float(np.mean([_top_k_jaccard(a, b, k) for a, b in itertools.combinations(maps, 2)]))


# the chance-level columns beside every map-agreement figure (metrics/map_agreement_*.csv, map_stability.csv)
NULL_COLUMNS = [
    "null_agreement",
    "null_agreement_p95",
    "null_jaccard",
    "null_jaccard_p95",
    "p_vs_null",
    "p_vs_null_jaccard",
    "p_resolution",
    "n_null",
    "null_source",
]


def null_agreement(
    observed_spearman: float,
    observed_jaccard: float,
    spearman_replicates,
    jaccard_replicates,
    source: str,
    n_null_models: int | None = None,
    min_p: float | None = None,
) -> dict:
    """The columns a stability figure carries beside it: the mean and 95th percentile of the agreement of
    null models' maps (Spearman; top-k Jaccard) and ``p_vs_null`` (``p_vs_null_jaccard``) = (1 + #replicates
    ≥ observed) / (1 + #replicates), never below ``min_p`` (replicates drawn as overlapping groups of the
    same null models are not independent: the honest resolution is that of disjoint groups); ``n_null``
    the number of null models behind them and ``null_source`` what they are."""
    spearman = np.asarray(spearman_replicates, dtype=float)
    jaccard = np.asarray(jaccard_replicates, dtype=float)

    def p_value(replicates, observed):
        p = float((1 + np.sum(replicates >= observed - 1e-12)) / (1 + len(replicates)))
        return max(p, min_p) if min_p is not None else p

    return {
        "null_agreement": float(spearman.mean()),
        "null_agreement_p95": float(np.percentile(spearman, 95)),
        "null_jaccard": float(jaccard.mean()),
        "null_jaccard_p95": float(np.percentile(jaccard, 95)),
        "p_vs_null": p_value(spearman, observed_spearman),
        "p_vs_null_jaccard": p_value(jaccard, observed_jaccard),
        # the smallest p the null can give: 1 / (1 + independent replicates)
        "p_resolution": float(max(1 / (1 + len(spearman)), min_p or 0.0)),
        "n_null": int(n_null_models if n_null_models is not None else len(spearman)),
        "null_source": source,
    }


def fold_null_replicates(null_maps: dict, k: int = 10):
    """Replicates of the across-fold agreement under the null: for each permutation k, the mean pairwise
    Spearman (and top-k Jaccard) of null map k of each fold. ``null_maps`` {fold: (P, R)}, ≥ 2 folds."""
    folds = sorted(null_maps)
    if len(folds) < 2:
        raise ValueError("across-fold agreement needs null maps of at least two folds")
    n_null = min(len(null_maps[f]) for f in folds)
    spearman = np.array([_mean_pairwise_spearman([null_maps[f][i] for f in folds]) for i in range(n_null)])
    jaccard = np.array([_mean_pairwise_jaccard([null_maps[f][i] for f in folds], k) for i in range(n_null)])
    return spearman, jaccard


def same_fold_null_replicates(null_maps, group_size: int, k: int = 10, n_draws: int = 1000, seed: int = 0):
    """Replicates of the agreement of ``group_size`` maps under the null: the mean pairwise Spearman (and
    top-k Jaccard) of ``group_size`` null models' maps of one fold, drawn without replacement ``n_draws``
    times from ``null_maps`` (P, R), P ≥ group_size ≥ 2. The draws overlap: they estimate the null's mean
    and spread, but a p-value from them resolves no better than 1 / (1 + P // group_size) (pass that as
    ``null_agreement``'s ``min_p``). Null models each have their own labels: this is no null for models
    that share their labels (seeds of one fold)."""
    null_maps = np.asarray(null_maps, dtype=float)
    n_null = len(null_maps)
    if group_size < 2 or n_null < group_size:
        raise ValueError(f"{group_size} models per draw need at least as many null maps (have {n_null})")
    spearman = np.corrcoef(np.apply_along_axis(rankdata, 1, null_maps))
    jaccard = np.ones((n_null, n_null))
    for a, b in itertools.combinations(range(n_null), 2):
        jaccard[a, b] = jaccard[b, a] = _top_k_jaccard(null_maps[a], null_maps[b], k)
    rng = np.random.default_rng(seed)
    upper = np.triu_indices(group_size, 1)
    draws = [rng.choice(n_null, group_size, replace=False) for _ in range(n_draws)]
    return (
        np.array([spearman[np.ix_(d, d)][upper].mean() for d in draws]),
        np.array([jaccard[np.ix_(d, d)][upper].mean() for d in draws]),
    )


def stability_against_null(observed_maps: dict, null_maps: dict) -> pd.DataFrame:
    """Agreement across folds of the observed maps beside the agreement of null maps (the chance level).

    ``observed_maps`` {fold: (R,)}, ``null_maps`` {fold: (P, R)} of the same estimator (P equal across
    folds). Rows: ``raw`` (the maps as they are) and ``standardised`` (each map z-scored against its own
    fold's null; null maps leave-one-out). Columns: ``observed`` (mean Spearman over fold pairs),
    ``null_mean``, ``null_p95`` (over the P null replicates: permutation k of each fold against permutation
    k of the others), ``p_value`` = (1 + #replicates ≥ observed) / (1 + P) and its ``p_resolution``
    1 / (1 + P)."""
    folds = sorted(observed_maps)
    if len(folds) < 2:
        raise ValueError("stability needs maps of at least two folds")
    n_null = min(len(null_maps[f]) for f in folds)
    standard = {f: standardise_against_null(observed_maps[f], null_maps[f]) for f in folds}
    null_standard = {f: leave_one_out_z(null_maps[f]) for f in folds}
    rows = []
    for kind, observed, null in (
        ("raw", observed_maps, null_maps),
        ("standardised", standard, null_standard),
    ):
        value = _mean_pairwise_spearman([observed[f] for f in folds])
        replicates = fold_null_replicates({f: null[f][:n_null] for f in folds})[0]
        rows.append(
            {
                "maps": kind,
                "observed": value,
                "null_mean": float(replicates.mean()),
                "null_p95": float(np.percentile(replicates, 95)),
                "p_value": float((1 + (replicates >= value).sum()) / (1 + n_null)),
                "p_resolution": 1 / (1 + n_null),
                "n_folds": len(folds),
                "n_null": n_null,
            }
        )
    return pd.DataFrame(rows)
