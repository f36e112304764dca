"""Connectivity matrices from ROI time series, via nilearn's ConnectivityMeasure."""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from .timeseries import zero_variance_rois

KINDS = ("correlation", "partial correlation", "tangent")
# kinds whose matrices depend on a group-level reference: fitted per cross-validation fold on its training
# subjects (neurolip.data_stage.load_connectomes), never on the test subjects
GROUP_KINDS = ("tangent",)
# a scan with more than this share of constant ROIs is excluded (connectivity.max_unusable_roi_share)
DEFAULT_MAX_UNUSABLE_ROI_SHARE = 0.5


class ConnectomeBuilder(TransformerMixin, BaseEstimator):
    """Per-subject connectivity matrices with Fisher z and explicit handling of zero-variance ROIs.

    Parameters
    ----------
    kind : {"correlation", "partial correlation", "tangent"}
        Passed to :class:`nilearn.connectome.ConnectivityMeasure`.
    fisher_z : bool
        Apply arctanh to the off-diagonal of correlation / partial-correlation matrices; the diagonal is
        set to 0 (it carries no information and arctanh(1) is infinite).
    shrinkage : {"auto", "none", "ledoit_wolf"}
        Covariance estimator. ``auto`` uses the empirical covariance for ``correlation`` (the paper's
        Pearson correlation) and Ledoit-Wolf for the others, which need an invertible covariance.

    After ``transform``, ``n_zero_variance_`` holds, per subject, how many ROIs were constant; their
    rows and columns are set to 0 because their correlation is undefined.
    """

    def __init__(self, kind="correlation", fisher_z=True, shrinkage="auto"):
        self.kind = kind
        self.fisher_z = fisher_z
        self.shrinkage = shrinkage

    def _measure(self):
        # imported here: nilearn.connectome loads nibabel and scikit-learn's test utilities (pytest), start-up
        # that every job importing upper_triangle (training) would pay for nothing (benchmarks/startup.py)
        from nilearn.connectome import ConnectivityMeasure
        from sklearn.covariance import EmpiricalCovariance, LedoitWolf

        if self.kind not in KINDS:
            raise ValueError(f"unknown connectivity kind {self.kind!r}; choose one of {KINDS}")
        use_lw = self.shrinkage == "ledoit_wolf" or (self.shrinkage == "auto" and self.kind != "correlation")
        estimator = (
            LedoitWolf(store_precision=False) if use_lw else EmpiricalCovariance(store_precision=False)
        )
        return ConnectivityMeasure(kind=self.kind, cov_estimator=estimator, standardize="zscore_sample")

    @staticmethod
    def _prepare(series):
        """Give constant ROIs tiny independent noise so every estimator stays defined; remember them.
        The noise comes from a generator of each subject's own (seeded alike), so one subject's matrix never
        depends on which other subjects are transformed with it."""
        prepared, masks = [], []
        for values in series:
            dead = zero_variance_rois(values)
            values = np.array(values, dtype=float, copy=True)
            if dead.size:
                rng = np.random.default_rng(0)
                values[:, dead] = rng.standard_normal((values.shape[0], dead.size)) * 1e-6
            prepared.append(values)
            masks.append(dead)
        return prepared, masks

    def fit(self, series, y=None):
        prepared, _ = self._prepare(series)
        self.measure_ = self._measure()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=DeprecationWarning)
            self.measure_.fit(prepared)
        return self

    def transform(self, series):
        prepared, masks = self._prepare(series)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=DeprecationWarning)
            matrices = self.measure_.transform(prepared)
        matrices = np.asarray(matrices, dtype=np.float64)
        self.n_zero_variance_ = np.array([m.size for m in masks])
        for matrix, dead in zip(matrices, masks):
            matrix[dead, :] = 0.0
            matrix[:, dead] = 0.0
        if self.fisher_z and self.kind in ("correlation", "partial correlation"):
            diag = np.arange(matrices.shape[1])
            matrices = np.arctanh(np.clip(matrices, -0.999999, 0.999999))
            matrices[:, diag, diag] = 0.0
        matrices[~np.isfinite(matrices)] = 0.0
        return matrices.astype(np.float32)


def upper_triangle(matrices):
    """Vectorise the strict upper triangle of each (N, N) matrix: the features of the linear baseline."""
    n = matrices.shape[-1]
    rows, cols = np.triu_indices(n, k=1)
    return matrices[..., rows, cols]
