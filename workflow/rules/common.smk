import sys
from pathlib import Path

from snakemake.utils import validate

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
