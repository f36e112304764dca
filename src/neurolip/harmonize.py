"""Site harmonisation of connectome edges, fitted on a fold's training subjects only
(``connectivity.harmonize``).

``site_standardize``
    Each edge z-scored within each site: a site's mean and SD come from its training subjects; a site no
    training subject comes from (every test site under leave-site-out) is standardised on its own subjects,
    unlabelled (its edges only, never its diagnoses).
``combat``
    ComBat (Johnson et al. 2007; Fortin et al. 2018) through ``neuroCombat`` 0.2.12, fitted on the training
    subjects with site as batch and ``connectivity.combat_covariates`` (age, sex: known at test time; never
    diagnosis) kept. Subjects of a training site are adjusted with the fitted (empirical-Bayes) site
    location and scale and their own covariates. A site unseen in training gets its location and scale
    estimated on its own unlabelled subjects, from their residuals after the training fit's covariate
    effects (ComBat's location/scale step without empirical-Bayes pooling), then put on the training fit's
    pooled scale.

Neither fit is ever given a diagnosis: :func:`harmonization_covariates` builds the only table a fit sees
(site and the covariates) and refuses ``diagnosis``.
"""

import contextlib
import io
import logging

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

METHODS = ("none", "site_standardize", "combat")


def harmonization_covariates(cohort, subject_ids, covariates=()):
    """The table a harmonisation fit or transform reads: ``site`` and ``covariates`` of ``subject_ids``,
    nothing else. ``diagnosis`` is refused; a subject missing a covariate is an error naming it."""
    covariates = list(covariates)
    if "diagnosis" in covariates:
        raise ValueError(
            "connectivity.combat_covariates lists 'diagnosis': harmonisation must not see labels (test "
            "subjects have none); keep fields known at test time (age, sex)"
        )
    missing = [c for c in ["site", *covariates] if c not in cohort.columns]
    if missing:
        raise ValueError(f"connectivity.combat_covariates: {missing} are not phenotype fields")
    table = cohort.assign(subject_id=cohort["subject_id"].astype(str)).set_index("subject_id")
    table = table.loc[[str(s) for s in subject_ids], ["site", *covariates]]
    blank = table[covariates].isna().any(axis=1) if covariates else pd.Series(False, index=table.index)
    if blank.any():
        raise ValueError(
            f"connectivity.combat_covariates {covariates}: subjects {sorted(table.index[blank])[:10]} "
            f"({int(blank.sum())} in all) lack a value; ComBat needs every covariate: drop the field or "
            "use connectivity.harmonize: site_standardize"
        )
    table["site"] = table["site"].astype(str)
    return table.reset_index(drop=True)


class SiteStandardizer:
    """Per-site z-scoring of features; unseen sites standardised on their own subjects."""

    def fit(self, features, covars):
        sites = covars["site"].to_numpy(dtype=str)
        self.params_ = {s: _mean_sd(features[sites == s]) for s in np.unique(sites)}
        return self

    def transform(self, features, covars):
        sites = covars["site"].to_numpy(dtype=str)
        out = np.empty_like(features, dtype=np.float64)
        for site in np.unique(sites):
            rows = sites == site
            if site in self.params_:
                mean, sd = self.params_[site]
            else:
                log.info(
                    "site %s: no training subject; standardised on its own %d subjects", site, rows.sum()
                )
                mean, sd = _mean_sd(features[rows])
            out[rows] = (features[rows] - mean) / sd
        return out

    def state(self):
        """The fitted parameters, as arrays (what a test compares)."""
        return {f"{s}/{k}": v for s, (m, sd) in self.params_.items() for k, v in (("mean", m), ("sd", sd))}


def _mean_sd(features):
    mean = features.mean(axis=0)
    sd = features.std(axis=0)
    return mean, np.where(sd > 0, sd, 1.0)


class Combat:
    """ComBat fitted with neuroCombat on training subjects; applied to any subject with its covariates."""

    def __init__(self, covariates=("age", "sex")):
        self.covariates = list(covariates)

    def _covariate_design(self, covars):
        columns = []
        for name in self.covariates:
            values = covars[name]
            if name in self.categorical_:
                levels = self.categorical_[name]
                unknown = sorted(set(values.astype(str)) - set(levels))
                if unknown:
                    raise ValueError(
                        f"ComBat covariate {name}: values {unknown} absent from the training subjects"
                    )
                columns += [(values.astype(str) == level).to_numpy(float) for level in levels[1:]]
            else:
                columns.append(values.to_numpy(dtype=float))
        return np.column_stack(columns) if columns else np.zeros((len(covars), 0))

    def fit(self, features, covars):
        from neuroCombat import neuroCombat

        numeric = [c for c in self.covariates if pd.api.types.is_numeric_dtype(covars[c])]
        categorical = [c for c in self.covariates if c not in numeric]
        self.categorical_ = {c: sorted(covars[c].astype(str).unique()) for c in categorical}
        frame = covars.copy()
        for c in categorical:
            frame[c] = frame[c].astype(str)
        with contextlib.redirect_stdout(io.StringIO()):  # neuroCombat prints its steps
            result = neuroCombat(
                dat=np.asarray(features, dtype=np.float64).T,
                covars=frame,
                batch_col="site",
                categorical_cols=categorical,
                continuous_cols=numeric,
            )
        estimates, info = result["estimates"], result["info"]
        self.sites_ = [str(s) for s in np.unique(covars["site"].to_numpy(dtype=str))]
        self.grand_mean_ = np.asarray(estimates["stand.mean"])[:, 0]
        self.var_pooled_ = np.asarray(estimates["var.pooled"]).ravel()
        self.gamma_ = np.asarray(estimates["gamma.star"])
        self.delta_ = np.asarray(estimates["delta.star"])
        design = self._covariate_design(covars)
        if design.shape[1]:  # the covariate effects: mod.mean = (design_cov @ B_cov).T, recovered exactly
            mod_mean = np.asarray(estimates["mod.mean"]).T
            self.beta_ = np.linalg.lstsq(design, mod_mean, rcond=None)[0]
        else:
            self.beta_ = np.zeros((0, len(self.grand_mean_)))
        self.n_batch_ = info["n_batch"]
        return self

    def transform(self, features, covars):
        sites = covars["site"].to_numpy(dtype=str)
        stand = self.grand_mean_ + self._covariate_design(covars) @ self.beta_
        scale = np.sqrt(self.var_pooled_)
        standardised = (np.asarray(features, dtype=np.float64) - stand) / scale
        out = np.empty_like(standardised)
        for site in np.unique(sites):
            rows = sites == site
            if site in self.sites_:
                k = self.sites_.index(site)
                gamma, delta = self.gamma_[k], self.delta_[k]
            else:
                log.info(
                    "site %s: no training subject; ComBat location/scale from its own %d subjects",
                    site,
                    rows.sum(),
                )
                gamma = standardised[rows].mean(axis=0)
                delta = standardised[rows].var(axis=0, ddof=1) if rows.sum() > 1 else np.ones_like(gamma)
                delta = np.where(delta > 0, delta, 1.0)
            out[rows] = (standardised[rows] - gamma) / np.sqrt(delta)
        return out * scale + stand

    def state(self):
        return {
            "grand_mean": self.grand_mean_,
            "var_pooled": self.var_pooled_,
            "gamma": self.gamma_,
            "delta": self.delta_,
            "beta": self.beta_,
        }


def make_harmonizer(method, covariates=("age", "sex")):
    if method == "site_standardize":
        return SiteStandardizer()
    if method == "combat":
        return Combat(covariates)
    raise ValueError(f"connectivity.harmonize {method!r}: one of {METHODS}")


def harmonize_features(features, subject_ids, train_ids, cohort, method, covariates=("age", "sex")):
    """``features`` (n, F) of ``subject_ids`` harmonised by ``method``, fitted on ``train_ids`` only.
    Returns the harmonised features and the fitted harmonizer."""
    subject_ids = [str(s) for s in subject_ids]
    used = list(covariates) if method == "combat" else []
    covars = harmonization_covariates(cohort, subject_ids, used)
    train = np.isin(subject_ids, [str(s) for s in train_ids])
    if not train.any():
        raise ValueError("harmonisation: no training subject among the connectomes")
    harmonizer = make_harmonizer(method, used).fit(features[train], covars[train].reset_index(drop=True))
    return harmonizer.transform(features, covars), harmonizer


def harmonize_matrices(matrices, subject_ids, train_ids, cohort, method, covariates=("age", "sex")):
    """(n, N, N) connectomes with their upper-triangle edges harmonised (:func:`harmonize_features`) and
    mirrored; the diagonal kept."""
    n = matrices.shape[-1]
    rows, cols = np.triu_indices(n, k=1)
    edges, harmonizer = harmonize_features(
        matrices[:, rows, cols].astype(np.float64), subject_ids, train_ids, cohort, method, covariates
    )
    out = np.array(matrices, dtype=np.float64, copy=True)
    out[:, rows, cols] = edges
    out[:, cols, rows] = edges
    return out.astype(matrices.dtype), harmonizer
