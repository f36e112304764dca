"""Region names from the atlas's own labels: a labels file beside an image, or a nilearn fetcher's table."""

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from sklearn.utils import Bunch

from neurolip.data_stage import write_roi_coordinates
from neurolip.errors import NeuroLIPInputError
from neurolip.evaluation.brainmaps import region_names


def _labels_image(path):
    data = np.zeros((6, 6, 6), dtype=np.int16)
    data[:3, :, :] = 2  # label values need not start at 1 nor be contiguous
    data[3:, :3, :] = 5
    data[3:, 3:, :] = 7
    image = nib.Nifti1Image(data, np.eye(4))
    nib.save(image, path)
    return image


def _dataset(atlas):
    return {"source": "fmriprep", "fmriprep": {"atlas": atlas}}


def test_a_labels_table_beside_the_image_names_the_regions(tmp_path):
    image = tmp_path / "atlas.nii.gz"
    _labels_image(image)
    labels = tmp_path / "labels.tsv"
    pd.DataFrame({"index": [0, 2, 5, 7], "name": ["Background", "Left", "Front", "Back"]}).to_csv(
        labels, sep="\t", index=False
    )
    out = tmp_path / "roi_coordinates.csv"
    write_roi_coordinates(_dataset({"image": str(image), "labels": str(labels)}), tmp_path, out)
    table = pd.read_csv(out)
    assert table["roi"].tolist() == [2, 5, 7] and table["name"].tolist() == ["Left", "Front", "Back"]
    names = region_names(table, 3)
    assert names["region_name"].tolist() == ["Left", "Front", "Back"]
    assert (names["region_name_source"] == "atlas label").all()


def test_a_label_list_in_label_order_names_the_regions(tmp_path):
    image = tmp_path / "atlas.nii.gz"
    _labels_image(image)
    labels = tmp_path / "labels.txt"
    labels.write_text("Left\nFront\nBack\n")
    out = tmp_path / "roi_coordinates.csv"
    write_roi_coordinates(_dataset({"image": str(image), "labels": str(labels)}), tmp_path, out)
    assert pd.read_csv(out)["name"].tolist() == ["Left", "Front", "Back"]


def test_a_label_table_without_its_columns_is_a_clear_error(tmp_path):
    image = tmp_path / "atlas.nii.gz"
    _labels_image(image)
    labels = tmp_path / "labels.csv"
    labels.write_text("value,region\n2,Left\n")
    with pytest.raises(NeuroLIPInputError, match="'index' and 'name'"):
        write_roi_coordinates(
            _dataset({"image": str(image), "labels": str(labels)}), tmp_path, tmp_path / "out.csv"
        )


@pytest.mark.parametrize("with_lut", [True, False])
def test_a_nilearn_fetchers_labels_name_the_regions(tmp_path, monkeypatch, with_lut):
    """Harvard-Oxford as nilearn returns it (a look-up table, or a label list with the background first):
    the fetcher is replaced by one returning a local image, since no atlas server is reachable here."""
    from nilearn import datasets

    image = _labels_image(tmp_path / "ho.nii.gz")
    names = ["Background"] + [f"region {v}" for v in range(1, 8)]
    bunch = Bunch(maps=image, labels=names)
    if with_lut:
        bunch.lut = pd.DataFrame({"index": range(8), "name": names})
    monkeypatch.setattr(datasets, "fetch_atlas_harvard_oxford", lambda **kwargs: bunch, raising=False)
    out = tmp_path / "roi_coordinates.csv"
    atlas = {"fetcher": "harvard_oxford", "atlas_name": "cort-maxprob-thr25-2mm"}
    write_roi_coordinates(_dataset(atlas), tmp_path, out)
    assert pd.read_csv(out)["name"].tolist() == ["region 2", "region 5", "region 7"]
