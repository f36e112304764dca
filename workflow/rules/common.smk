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


wildcard_constraints:
    dataset=DATASET,


def data_targets():
    return [
        f"{DATA_DIR}/connectomes.npz",
        f"{DATA_DIR}/texts.jsonl",
        f"{DATA_DIR}/class_prompts.json",
        f"{DATA_DIR}/folds.tsv",
        f"{DATA_DIR}/exclusions.tsv",
    ]


def all_targets():
    return data_targets()
