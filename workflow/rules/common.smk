import sys
from pathlib import Path

import yaml
from snakemake.utils import validate

if "dataset" not in config:
    # one dataset per run: its section comes whole from one file, never merged key by key with another's
    with open(config.get("default_dataset", "config/simulated.yaml")) as handle:
        config["dataset"] = yaml.safe_load(handle)["dataset"]

validate(config, schema="../schemas/config.schema.yaml")

DATASET = config["dataset"]["name"]
RESULTS = config.get("results_dir", "results")
DATA_DIR = f"{RESULTS}/{DATASET}/data"
LOGS = f"{RESULTS}/{DATASET}/logs"
BENCHMARKS = f"{RESULTS}/{DATASET}/benchmarks"


METHODS = config["training"]["methods"]
FOLDS = list(range(config["cv"]["n_folds"]))
ATTENTION_METHODS = [
    m for m in METHODS if config["methods"].get(m, {}).get("calt", False)
]

unknown_methods = [m for m in METHODS if m not in config["methods"]]
if unknown_methods:
    raise ValueError(
        f"training.methods names {unknown_methods}, which config 'methods' does not define"
    )


wildcard_constraints:
    dataset=DATASET,
    method="|".join(METHODS),
    fold=r"\d+",


def method_spec(method):
    return config["methods"][method]


def _pattern(methods):
    # a pattern that matches nothing when the list is empty, so a rule can never claim every method
    return "|".join(methods) if methods else "(?!x)x"


def plain_method_pattern():
    return _pattern([m for m in METHODS if m not in ATTENTION_METHODS])


def ttca_method_pattern():
    """Methods with TTCA (NeuroLIP and its ablations) also write attention maps."""
    return _pattern(ATTENTION_METHODS)


def data_targets():
    return [
        f"{DATA_DIR}/connectomes.npz",
        f"{DATA_DIR}/texts.jsonl",
        f"{DATA_DIR}/class_prompts.json",
        f"{DATA_DIR}/folds.tsv",
        f"{DATA_DIR}/exclusions.tsv",
    ]


def prediction_targets():
    return expand(
        f"{RESULTS}/{DATASET}/predictions/{{method}}/fold{{fold}}.csv",
        method=METHODS,
        fold=FOLDS,
    )


def evaluation_targets():
    base = f"{RESULTS}/{DATASET}"
    targets = [
        f"{base}/metrics/summary.csv",
        f"{base}/metrics/paired_comparison.csv",
        f"{base}/tables/table1.csv",
        f"{base}/tables/table2.csv",
        f"{base}/figures/roc.png",
    ]
    targets += expand(
        f"{base}/figures/brain/{{method}}_disease_attention_patient.png",
        method=ATTENTION_METHODS,
    )
    if config["dataset"]["source"] == "simulated" and ATTENTION_METHODS:
        targets.append(f"{base}/metrics/attention_recovery.csv")
    return targets


def all_targets():
    return data_targets() + prediction_targets() + evaluation_targets()
