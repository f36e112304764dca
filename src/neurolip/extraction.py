"""ROI time series from 4-D BOLD images with a nilearn labels masker and confound regression."""

import numpy as np

from .errors import NeuroLIPInputError


def load_atlas(atlas_spec):
    """A labels image from ``{image: path}`` or ``{fetcher: name, ...kwargs}`` (nilearn's atlas fetchers)."""
    if atlas_spec.get("image"):
        return atlas_spec["image"]
    name = atlas_spec.get("fetcher")
    if not name:
        raise NeuroLIPInputError(
            "the atlas needs either 'image' (a labels NIfTI) or 'fetcher' (a nilearn atlas)"
        )
    from nilearn import datasets

    fetcher = getattr(datasets, f"fetch_atlas_{name}", None)
    if fetcher is None:
        raise NeuroLIPInputError(f"nilearn has no atlas fetcher fetch_atlas_{name}")
    kwargs = {k: v for k, v in atlas_spec.items() if k not in ("fetcher", "image")}
    try:
        return fetcher(**kwargs).maps
    except Exception as exc:
        raise NeuroLIPInputError(
            f"could not fetch atlas {name!r} with nilearn ({exc}); set atlas.image to a local file"
        ) from exc


class RoiExtractor:
    """Wraps :class:`nilearn.maskers.NiftiLabelsMasker`; confounds come from a plain file or, for
    fMRIPrep, from :func:`nilearn.interfaces.fmriprep.load_confounds` with the configured strategy."""

    def __init__(
        self,
        atlas_image,
        standardize="zscore_sample",
        detrend=True,
        low_pass=None,
        high_pass=None,
        t_r=None,
        confound_strategy=("motion", "high_pass", "wm_csf"),
    ):
        self.atlas_image = atlas_image
        self.standardize = standardize
        self.detrend = detrend
        self.low_pass = low_pass
        self.high_pass = high_pass
        self.t_r = t_r
        self.confound_strategy = tuple(confound_strategy)

    def fit(self):
        from nilearn.maskers import NiftiLabelsMasker

        self.masker_ = NiftiLabelsMasker(
            labels_img=self.atlas_image,
            standardize=self.standardize,
            detrend=self.detrend,
            low_pass=self.low_pass,
            high_pass=self.high_pass,
            t_r=self.t_r,
        ).fit()
        return self

    def transform_one(self, image, confounds=None, *, fmriprep=False, subject_id=None):
        sample_mask = None
        if confounds and fmriprep:
            from nilearn.interfaces.fmriprep import load_confounds

            try:
                confounds, sample_mask = load_confounds(image, strategy=self.confound_strategy)
            except Exception as exc:
                raise NeuroLIPInputError(
                    f"could not load fMRIPrep confounds ({exc})", path=image, subject=subject_id
                ) from exc
        try:
            values = self.masker_.transform(
                image,
                confounds=None
                if confounds is None or (isinstance(confounds, str) and not confounds)
                else confounds,
                sample_mask=sample_mask,
            )
        except Exception as exc:
            raise NeuroLIPInputError(
                f"ROI extraction failed ({exc})", path=image, subject=subject_id
            ) from exc
        return np.asarray(values, dtype=float)
