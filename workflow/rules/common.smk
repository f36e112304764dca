import sys
from pathlib import Path

# The workflow's root, from this file's own location: right in a checkout and when another workflow uses
# this one as a Snakemake module (workflow.basedir is then the caller's). Its package (src/) comes first.
WORKFLOW_ROOT = Path(workflow.current_basedir).resolve().parents[1]
sys.path.insert(0, str(WORKFLOW_ROOT / "src"))

import yaml
from snakemake.utils import validate

from neurolip.config import (
    canonical_results_dir,
    check_consistency,
    coerce_command_line_types,
)
from neurolip.devices import check_device
from neurolip.methods import MethodRegistry, registry_config
from neurolip.source_files import source_files, source_table_digests

if "dataset" not in config:
    # one dataset per run: its section comes whole from one file, never merged key by key with another's
    default_dataset = Path(config.get("default_dataset", "config/simulated.yaml"))
    if (
        not default_dataset.is_file()
    ):  # as a module: the path is the workflow's, not the caller's
        default_dataset = WORKFLOW_ROOT / default_dataset
    with open(default_dataset) as handle:
        config["dataset"] = yaml.safe_load(handle)["dataset"]

coerce_command_line_types(config)
# every default lives in the schema: after this, rules read config[...] directly
validate(config, schema="../schemas/config.schema.yaml", set_default=True)
check_consistency(config)
# a CUDA device asked for is checked before any job is scheduled (a training job would fail late, after its
# old outputs were removed); when a cluster executor sends jobs to GPU nodes, on the node that runs them
# (Snakemake parses the workflow there again), not on the submitting host
if workflow.local_exec or not workflow.is_main_process:
    check_device(config["training"]["device"])

DATASET = config["dataset"]["name"]
# one spelling per folder (symlinks, "..", "./" resolved): Snakemake keys an output's provenance (params,
# code, inputs) by its path as written, so another spelling of the same folder would rerun nothing after a
# changed setting (neurolip.config.canonical_results_dir)
RESULTS = canonical_results_dir(config["results_dir"])
if RESULTS != config["results_dir"].rstrip("/"):
    logger.info(
        f"results_dir {config['results_dir']!r} is the folder {RESULTS}: outputs are named by that path "
        "(name target files by it too)"
    )
BASE = f"{RESULTS}/{DATASET}"
DATA_DIR = f"{BASE}/data"
LOGS = f"{BASE}/logs"
BENCHMARKS = f"{BASE}/benchmarks"

# each per-method, per-fold path template, written once
PATHS = {
    "predictions": f"{BASE}/predictions/{{method}}/fold{{fold}}.csv",
    "selection": f"{BASE}/training/{{method}}/fold{{fold}}/selection.json",
    "validation": f"{BASE}/training/{{method}}/fold{{fold}}/validation_predictions.csv",
    "work_dir": f"{BASE}/training/{{method}}/fold{{fold}}",
    "attention": f"{BASE}/attention/{{method}}/fold{{fold}}.npz",
    "brain_patient": f"{BASE}/figures/brain/{{method}}_disease_attention_patient.png",
    "recovery": f"{BASE}/metrics/attention_recovery_{{method}}.csv",
    "seed_scores": f"{BASE}/training/{{method}}/fold{{fold}}/seed_scores.csv",
    "leakage": f"{BASE}/training/{{method}}/fold{{fold}}/leakage.csv",
    # null models for brain maps (evaluation.maps): null model perm of every fold, the training and
    # validation connectomes permuted by one cohort-wide permutation perm (one model per job)
    "null_work_dir": f"{BASE}/null/{{method}}/fold{{fold}}/perm{{perm}}",
    "null_predictions": f"{BASE}/null/{{method}}/fold{{fold}}/perm{{perm}}/predictions.csv",
    "null_scores": f"{BASE}/null/{{method}}/fold{{fold}}/perm{{perm}}/seed_scores.csv",
    "null_attention": f"{BASE}/null/{{method}}/fold{{fold}}/perm{{perm}}/attention.npz",
    "map_regions": f"{BASE}/metrics/map_regions_{{method}}.csv",
}

# methods are data: one registry built from config 'methods', read by rules, scripts and tests
REGISTRY = MethodRegistry.from_config(config)
REGISTRY_CONFIG = registry_config(config)
METHODS = REGISTRY.trained
# with cv.n_repeats > 1, repeat r holds folds r * n_folds ... (see neurolip.folds.make_folds)
FOLDS = list(range(config["cv"]["n_folds"] * config["cv"]["n_repeats"]))
ATTENTION_METHODS = REGISTRY.with_attention
# methods that train networks of their own: they log epochs and get learning curves
NETWORK_METHODS = [m for m in METHODS if REGISTRY[m].trains_network]
# group-threshold variants of evaluation.fair_thresholds: read-out-only methods (they read their base's
# models and add a group-thresholds stage), trained by the train rule like any other
FAIR_THRESHOLDS = config["evaluation"]["fair_thresholds"]
POSTPROCESSED = REGISTRY.postprocessed
EVALUATED_METHODS = REGISTRY.evaluated
SENSITIVE = config["dataset"]["sensitive_attributes"]
MAPS = config["evaluation"]["maps"]
# a null only for methods this run trains; the others are named in the log, not silently dropped
NULL_METHODS = [m for m in MAPS["null_methods"] if m in METHODS]
if MAPS["permutations"] and len(NULL_METHODS) < len(MAPS["null_methods"]):
    logger.warning(
        f"evaluation.maps.null_methods: no permutation null for {sorted(set(MAPS['null_methods']) - set(METHODS))}, "
        "which training.methods does not train"
    )
PERMUTATIONS = list(range(MAPS["permutations"]))
# reference maps (evaluation.reference_maps) and, for a simulated cohort, its two control references
# (made by the reference_controls rule: spheres at the planted disease regions, a smooth random field)
REFERENCE_NULL = config["evaluation"]["reference_null"]
REFERENCE_CONTROLS = (
    {
        name: f"{DATA_DIR}/reference_maps/{name}.nii.gz"
        for name in ("planted_disease", "random_field")
    }
    if config["dataset"]["source"] == "simulated"
    and REFERENCE_NULL["simulated_controls"]
    else {}
)
REFERENCE_MAPS = list(config["evaluation"]["reference_maps"]) + [
    {"name": name, "path": path, "radius": REFERENCE_NULL["radius"]}
    for name, path in REFERENCE_CONTROLS.items()
]
# a plain logistic regression (objective linear, no cross-fitting, no erasure) gets its null maps in the
# disease_maps job itself: evaluation.maps.linear_permutations warm-started refits on every fold
# (neurolip.evaluation.map_null.LogisticPatternNull, the same model as the observed one, at its C)
LINEAR_NULL_METHODS = REGISTRY.linear_null_methods(NULL_METHODS)
# the others (network methods) train evaluation.maps.permutations null models on EVERY fold (null model k
# of each fold reads cohort-wide permutation k): K x n_folds trained models per method
TRAINED_NULL_METHODS = [m for m in NULL_METHODS if m not in LINEAR_NULL_METHODS]
# sources of 4-D images: their time series are extracted in one job per subject
NIFTI_SOURCE = config["dataset"]["source"] in ("fmriprep", "adhd_nilearn")
# the files the source reads (phenotype table, time series, cache index): inputs of fetch, so a changed file
# reruns what depends on it; found by directory listing only (neurolip.source_files)
SOURCE_FILES = source_files(config["dataset"])
# and the small tables among them (phenotype table, cache index) by their content too: a params entry of
# fetch, so an edit that kept the old modification time (cp -p, rsync -a, tar) reruns it
SOURCE_TABLES = source_table_digests(config["dataset"])
# what a training job needs of config 'training' (not the method list: adding a method retrains nothing)
TRAINER_SETTINGS = {
    k: v for k, v in config["training"].items() if k not in ("methods", "gpu")
}


wildcard_constraints:
    dataset=DATASET,
    method="|".join(EVALUATED_METHODS),
    fold=r"\d+",
    subject=r"[A-Za-z0-9][A-Za-z0-9._-]*",


FMRIPREP = config["fmriprep_run"]


def fmriprep_shell_command(participant, threads, mem_mb):
    from neurolip.fmriprep import shell_command

    return shell_command(
        FMRIPREP,
        participant,
        FMRIPREP["output_dir"],
        f"{FMRIPREP['work_dir']}/sub-{participant}",
        threads,
        mem_mb,
    )


def fmriprep_targets():
    """fMRIPrep reports the data stage waits for, when fMRIPrep runs inside the workflow."""
    if not FMRIPREP["enabled"]:
        return []
    return [f"{FMRIPREP['output_dir']}/sub-{p}.html" for p in FMRIPREP["participants"]]


def manifest_subjects():
    """Subject IDs of the fetched manifest (known once the fetch checkpoint has run)."""
    import pandas as pd

    manifest = checkpoints.fetch.get().output.manifest
    # several rows for a subject with several runs: one job per subject
    return (
        pd.read_csv(manifest, sep="\t", dtype=str, keep_default_na=False)["subject_id"]
        .drop_duplicates()
        .tolist()
    )


def trained_attributes():
    """Attributes the trained methods protect during training (FairCLIP, adversary): the folds step checks
    that the cohort has two groups of each."""
    return REGISTRY.protected_attributes()


# a group-level connectivity (neurolip.connectivity.GROUP_KINDS: tangent) has a reference fitted per fold on the
# fold's training subjects: rule fold_connectomes writes each fold's matrices, which its models read
# site harmonisation (connectivity.harmonize) is fitted per fold on its training subjects too: a fold's own file
HARMONIZE = {
    "method": config["connectivity"]["harmonize"],
    "covariates": config["connectivity"]["combat_covariates"],
}
GROUP_CONNECTIVITY = (
    config["connectivity"]["kind"] == "tangent" or HARMONIZE["method"] != "none"
)
# what builds the connectomes (the harmonisation keys left out: they act per fold, in fold_connectomes)
CONNECTIVITY = {
    k: v
    for k, v in config["connectivity"].items()
    if k not in ("harmonize", "combat_covariates")
}
# what makes the folds: the leave-site-out keys only under that scheme, so stratified folds keep their params
CV = (
    config["cv"]
    if config["cv"]["scheme"] == "leave_site_out"
    else {
        k: v for k, v in config["cv"].items() if k not in ("scheme", "leave_site_out")
    }
)


def fold_connectomes(fold):
    """The connectomes the models of ``fold`` read."""
    if GROUP_CONNECTIVITY:
        return f"{DATA_DIR}/fold_connectomes/fold{fold}.npz"
    return f"{DATA_DIR}/connectomes.npz"


def every_fold_connectomes():
    """The connectomes of FOLDS, in their order, each file once (one file for subject-level kinds)."""
    return list(dict.fromkeys(fold_connectomes(fold) for fold in FOLDS))


def _methods_regex(methods):
    # a pattern that matches nothing when the list is empty, so a rule can never claim every method
    return "|".join(methods) if methods else "(?!x)x"


def plain_method_pattern():
    """Methods without attention maps, group-threshold variants included."""
    return _methods_regex([m for m in EVALUATED_METHODS if m not in ATTENTION_METHODS])


def ttca_method_pattern():
    """Methods with TTCA (NeuroLIP and its ablations) also write attention maps."""
    return _methods_regex(ATTENTION_METHODS)


def models_source(method):
    """The method whose trained models ``method`` reads (``models_from``), or None."""
    return REGISTRY[method].models_from


def models_from_input(wildcards):
    """A method that reads another's models waits for that method's training of the fold."""
    source = models_source(wildcards.method)
    return (
        PATHS["selection"].format(method=source, fold=wildcards.fold) if source else []
    )


def readout_from_input(wildcards):
    """A group-threshold variant fits its thresholds on its base's read-out of the fold (kept beside the
    base's selection.json): it waits for the base, and a retrained base redoes it."""
    base = REGISTRY.postprocessed.get(wildcards.method)
    if base is None:
        return {}
    files = {
        "base_selection": PATHS["selection"],
        "base_seed_scores": PATHS["seed_scores"],
    }
    if base in ATTENTION_METHODS:
        files["base_attention"] = PATHS["attention"]
    return {
        name: path.format(method=base, fold=wildcards.fold)
        for name, path in files.items()
    }


def models_from_dir(wildcards):
    source = models_source(wildcards.method)
    return (
        PATHS["work_dir"].format(method=source, fold=wildcards.fold) if source else ""
    )


def null_inputs(template, method):
    """The permutation-null files of ``method``, fold-major (every fold's K null models; none when it has
    no trained null)."""
    if method not in TRAINED_NULL_METHODS:
        return []
    return expand(template, method=method, fold=FOLDS, perm=PERMUTATIONS)


def observed_selection(wildcards):
    """The observed model's selection.json of the null model's fold: a linear method's null models reuse
    its C, a network method's null models its read-out."""
    return PATHS["selection"].format(method=wildcards.method, fold=wildcards.fold)


def linear_null_selections(wildcards):
    """Every fold's selection.json of a method whose null maps disease_maps fits itself (their C)."""
    if wildcards.method not in LINEAR_NULL_METHODS or not MAPS["linear_permutations"]:
        return []
    return expand(PATHS["selection"], method=wildcards.method, fold=FOLDS)


# `snakemake --report`: a report of what exists. After a failed or unfinished run, an output that is not
# there is left out of the report (Snakemake would otherwise stop on it) and listed in report_missing.md,
# the report's first entry.
REPORT_MODE = "--report" in sys.argv
MISSING_FROM_REPORT = []


# The report's sections in reading order. Snakemake lists them alphabetically, so each name carries its
# place ("01 At a glance" first, the data last); the job graph stays behind the menu's "Workflow".
REPORT_SECTIONS = (
    "At a glance",
    "Tables",
    "Classification",
    "Fairness",
    "Brain maps",
    "{method} attention",
    "{method} maps",
    "Text robustness",
    "Training",
    "Metrics",
    "Data",
)


def report_section(name):
    """The report subcategory of section ``name`` (one of REPORT_SECTIONS), numbered in reading order."""
    if name not in REPORT_SECTIONS:
        raise ValueError(f"report section {name!r} is not one of {REPORT_SECTIONS}")
    return f"{REPORT_SECTIONS.index(name) + 1:02d} {name}"


def report_file(path, caption, subcategory, methods=()):
    """An output shown in the Snakemake report: ``caption`` names workflow/report/<caption>.rst; a
    per-method output names the ``methods`` its rule makes it for."""
    if REPORT_MODE:
        expected = expand(path, method=methods) if "{method}" in path else [path]
        missing = [p for p in expected if not Path(p).exists()]
        if missing:
            MISSING_FROM_REPORT.extend(missing)
            return path
    return report(
        path,
        caption=f"../report/{caption}.rst",
        category=DATASET,
        subcategory=report_section(subcategory),
    )


def report_missing_targets():
    """In report mode, the note listing outputs the report lacks (written now: no job makes it)."""
    from neurolip.reporting import write_missing_note

    if not REPORT_MODE:
        return []
    note = f"{BASE}/report_missing.md"
    write_missing_note(note, MISSING_FROM_REPORT)
    return [note]


def per_method_fold(template, methods):
    """``template`` expanded over ``methods`` x FOLDS, method-major; see method_fold_keys."""
    return expand(template, method=methods, fold=FOLDS)


def method_fold_keys(methods):
    """The (method, fold) of each path of per_method_fold(..., methods), in the same order: scripts get
    their keys as params instead of parsing paths."""
    return [[m, f] for m in methods for f in FOLDS]


def data_targets():
    return [
        f"{DATA_DIR}/connectomes.npz",
        f"{DATA_DIR}/texts.jsonl",
        f"{DATA_DIR}/class_prompts.json",
        f"{DATA_DIR}/folds.tsv",
        f"{DATA_DIR}/fold_sites.tsv",
        f"{DATA_DIR}/exclusions.tsv",
        f"{DATA_DIR}/bids",
    ]


def evaluation_targets():
    targets = [
        f"{BASE}/summary.md",
        f"{BASE}/metrics/summary.csv",
        f"{BASE}/metrics/paired_comparison.csv",
        f"{BASE}/tables/table1.csv",
        f"{BASE}/tables/table2.csv",
        f"{BASE}/figures/roc.png",
        f"{BASE}/figures/per_site_auc.png",
        f"{BASE}/figures/probe_pairs.png",
    ]
    targets += expand(PATHS["brain_patient"], method=ATTENTION_METHODS)
    targets += [f"{BASE}/metrics/map_stability.csv"]
    targets += expand(
        f"{BASE}/figures/learning_curves/{{method}}.png", method=NETWORK_METHODS
    )
    targets += expand(PATHS["map_regions"], method=METHODS)
    if ATTENTION_METHODS:
        targets.append(f"{BASE}/metrics/attention_overlap.csv")
    if REFERENCE_MAPS:
        targets.append(f"{BASE}/metrics/reference_agreement.csv")
    if config["dataset"]["source"] == "simulated" and ATTENTION_METHODS:
        targets.append(f"{BASE}/metrics/attention_recovery.csv")
    return targets


def all_targets():
    return (
        data_targets()
        + per_method_fold(PATHS["predictions"], METHODS)
        + evaluation_targets()
        + text_robustness_targets()
    )


def print_glance(path):
    """The run's compact results table on the console, when the run has one."""
    if Path(path).is_file():
        print(f"\n{Path(path).read_text()}\n(written to {path})")


# Text robustness (docs/method.md, Text robustness): the methods re-scored with changed texts, those of
# text_robustness.methods (and of its trained variants) that this run trains and that read text
TEXT_ROBUSTNESS = config["text_robustness"]


def text_robustness_methods():
    from neurolip.text_variants import check_variant

    for variant in TEXT_ROBUSTNESS["variants"]:
        check_variant(
            variant,
            config["dataset"]["text"]["segments"],
            TEXT_ROBUSTNESS["paraphrases"],
        )
    wanted = list(TEXT_ROBUSTNESS["methods"])
    wanted += [m for pair in TEXT_ROBUSTNESS["trained_variants"] for m in pair]
    wanted = list(dict.fromkeys(wanted))
    reads_text = [
        m
        for m in wanted
        if m in METHODS
        and REGISTRY[m].spec["objective"] == "contrastive"
        and not REGISTRY[m].spec.get("group_thresholds")
    ]
    if len(reads_text) < len(wanted):
        logger.warning(
            f"text_robustness: no re-scoring of {sorted(set(wanted) - set(reads_text))} (not trained by "
            "training.methods, or reading no text)"
        )
    return reads_text


TEXT_ROBUSTNESS_METHODS = text_robustness_methods()
TEXT_ROBUSTNESS_PAIRS = [
    pair
    for pair in TEXT_ROBUSTNESS["trained_variants"]
    if all(m in TEXT_ROBUSTNESS_METHODS for m in pair)
]


def text_features_of(method):
    """The text features ``method`` trains on: the config's texts, or its text_templates variant's."""
    templates = REGISTRY[method].spec.get("text_templates", "config")
    if templates == "config":
        return f"{DATA_DIR}/text_features.safetensors"
    return f"{DATA_DIR}/text_variants/{templates}.safetensors"


def text_robustness_targets():
    """metrics/text_robustness.csv, when some method is re-scored (add to `all` to run it by default)."""
    return [f"{BASE}/metrics/text_robustness.csv"] if TEXT_ROBUSTNESS_METHODS else []
