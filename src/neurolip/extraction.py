"""ROI time series from 4-D BOLD images with a nilearn labels masker and confound regression."""

import numpy as np

from .errors import NeuroLIPInputError


def load_atlas(atlas_spec):
    """A labels image from ``{image: path}`` or ``{fetcher: name, ...kwargs}`` (nilearn's atlas fetchers)."""
    if atlas_spec.get("image"):
        return atlas_spec["image"]
    return _fetch_atlas(atlas_spec).maps


def atlas_region_names(atlas_spec, values):
    """{label value: region name} of an atlas, for ``values`` (the image's non-zero labels), or {} when the
    atlas names none: from ``atlas.labels`` (a file with one name per line in label order, or a table with
    columns ``index`` and ``name``) or from the nilearn fetcher's look-up table or label list (Harvard-Oxford,
    AAL, Schaefer, ...). Background entries are never a region's name."""
    import pandas as pd

    values = [int(v) for v in values]
    if atlas_spec.get("labels"):
        path = atlas_spec["labels"]
        with open(path) as handle:
            first = handle.readline()
        if "\t" in first or "," in first:
            table = pd.read_csv(path, sep=None, engine="python")
            if not {"index", "name"} <= set(table.columns):
                raise NeuroLIPInputError("an atlas label table needs columns 'index' and 'name'", path=path)
            lookup = dict(zip(table["index"].astype(int), table["name"].astype(str)))
        else:
            with open(path) as handle:
                names = [line.strip() for line in handle if line.strip()]
            lookup = dict(zip(values, names)) if len(names) == len(values) else dict(enumerate(names))
    elif atlas_spec.get("fetcher"):
        bunch = _fetch_atlas(atlas_spec)
        lut = getattr(bunch, "lut", None)
        if lut is not None and {"index", "name"} <= set(lut.columns):
            lookup = dict(zip(lut["index"].astype(int), lut["name"].astype(str)))
        else:
            names = [str(n) for n in (getattr(bunch, "labels", None) or [])]
            # older fetchers list names in label order with or without the background first
            lookup = dict(zip(values, names)) if len(names) == len(values) else dict(enumerate(names))
    else:
        return {}
    return {v: lookup[v] for v in values if v in lookup and lookup[v].lower() != "background"}


def _fetch_atlas(atlas_spec):
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
    kwargs.pop("labels", None)
    try:
        return fetcher(**kwargs)
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
