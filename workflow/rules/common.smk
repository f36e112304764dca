import sys
from pathlib import Path

# the package lives in src/: importable here even when it is not installed (e.g. a conda environment)
sys.path.insert(0, str(Path(workflow.basedir) / "src"))

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

# group-aware decision thresholds fitted on validation (fairlearn ThresholdOptimizer), applied to the
# test predictions of these methods; each appears in the tables as "<method>_fairthr"
from neurolip.evaluation.tables import FAIR_THRESHOLDS_SUFFIX

FAIR_THRESHOLDS = config.get("evaluation", {}).get("fair_thresholds", {})
untrained = [m for m in FAIR_THRESHOLDS.get("methods", []) if m not in METHODS]
if untrained:
    raise ValueError(
        f"evaluation.fair_thresholds.methods names {untrained}, which training.methods does not train: "
        "list a subset of training.methods there, or [] to turn group thresholds off"
    )
POSTPROCESSED = {
    f"{m}{FAIR_THRESHOLDS_SUFFIX}": m for m in FAIR_THRESHOLDS.get("methods", [])
}
EVALUATED_METHODS = METHODS + list(POSTPROCESSED)

unknown_methods = [m for m in METHODS if m not in config["methods"]]
if unknown_methods:
    raise ValueError(
        f"training.methods names {unknown_methods}, which config 'methods' does not define"
    )


wildcard_constraints:
    dataset=DATASET,
    method="|".join(EVALUATED_METHODS),
    fold=r"\d+",


FMRIPREP = config.get("fmriprep_run", {"enabled": False})


def fmriprep_shell_command(participant):
    from neurolip.fmriprep import shell_command

    return shell_command(
        FMRIPREP,
        participant,
        FMRIPREP["output_dir"],
        f"{FMRIPREP.get('work_dir', 'work/fmriprep')}/sub-{participant}",
        FMRIPREP.get("threads", 8),
        FMRIPREP.get("mem_mb", 16000),
    )


def fmriprep_targets():
    """fMRIPrep reports the data stage waits for, when fMRIPrep runs inside the workflow."""
    if not FMRIPREP.get("enabled", False):
        return []
    return [f"{FMRIPREP['output_dir']}/sub-{p}.html" for p in FMRIPREP["participants"]]


def method_spec(method):
    return config["methods"][method]


def _methods_regex(methods):
    # a pattern that matches nothing when the list is empty, so a rule can never claim every method
    return "|".join(methods) if methods else "(?!x)x"


def plain_method_pattern():
    return _methods_regex([m for m in METHODS if m not in ATTENTION_METHODS])


def ttca_method_pattern():
    """Methods with TTCA (NeuroLIP and its ablations) also write attention maps."""
    return _methods_regex(ATTENTION_METHODS)


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


def evaluated_prediction_targets():
    """Test predictions of every trained method and of every post-processed one."""
    return expand(
        f"{RESULTS}/{DATASET}/predictions/{{method}}/fold{{fold}}.csv",
        method=EVALUATED_METHODS,
        fold=FOLDS,
    )


def postprocessed_method_pattern():
    return _methods_regex(list(POSTPROCESSED))


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
