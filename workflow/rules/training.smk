rule text_features:
    input:
        texts=rules.texts.output.texts,
        prompts=rules.texts.output.prompts,
    output:
        features=f"{DATA_DIR}/text_features.safetensors",
    log:
        f"{LOGS}/text_features.log",
    benchmark:
        f"{BENCHMARKS}/text_features.tsv"
    conda:
        "../../envs/training.yaml"
    params:
        encoder=config["text_encoder"],
    script:
        "../scripts/text_features.py"


# Every method with test predictions: one that trains its models, and a read-out-only one (models_from,
# e.g. the group-threshold variants <method>_fairthr_<short>), which reads its source's models and trains
# nothing; both run the method's read-out stages (neurolip.training.trainer).
rule train:
    input:
        unpack(readout_from_input),
        connectomes=lambda wc: fold_connectomes(wc.fold),
        cohort=rules.connectivity.output.cohort,
        folds=rules.folds.output.folds,
        # the config's texts, or a text_templates variant's (text_robustness)
        text_features=lambda wc: text_features_of(wc.method),
        models_from=models_from_input,
    output:
        predictions=PATHS["predictions"],
        selection=PATHS["selection"],
        validation=PATHS["validation"],
        seed_scores=PATHS["seed_scores"],
        leakage=PATHS["leakage"],
    log:
        f"{LOGS}/train/{{method}}/fold{{fold}}.log",
    benchmark:
        f"{BENCHMARKS}/train/{{method}}/fold{{fold}}.tsv"
    wildcard_constraints:
        method=plain_method_pattern(),
    conda:
        "../../envs/training.yaml"
    threads: config["training"]["threads"]
    resources:
        gpu=1 if config["training"]["gpu"] else 0,
        mem_mb=4000,
    params:
        method=lambda wc: wc.method,
        fold=lambda wc: int(wc.fold),
        # what shapes the method's outputs, not its label: relabelling retrains nothing
        method_fingerprint=lambda wc: REGISTRY[wc.method].fingerprint,
        training=TRAINER_SETTINGS,
        model=config["model"],
        text_encoder=config["text_encoder"],
        sensitive=SENSITIVE,
        work_dir=lambda wc: PATHS["work_dir"].format(method=wc.method, fold=wc.fold),
        models_from=models_from_dir,
    script:
        "../scripts/train.py"


# Methods with TTCA (calt: true) also write the attention maps of their test subjects.
use rule train as train_ttca with:
    output:
        predictions=PATHS["predictions"],
        selection=PATHS["selection"],
        validation=PATHS["validation"],
        seed_scores=PATHS["seed_scores"],
        leakage=PATHS["leakage"],
        attention=PATHS["attention"],
    wildcard_constraints:
        method=ttca_method_pattern(),


# Null models for brain maps (evaluation.maps): one fold, one seed, the training and validation
# connectomes shuffled among subjects of the same site; their maps give each region's null distribution. All permutations of
# a method in one job (one start-up, one data load; null models reuse the observed model's C or read-out), each
# writing its own null/<method>/perm<p>/ folder.
if PERMUTATIONS:

    rule train_null:
        input:
            connectomes=fold_connectomes(MAPS["null_fold"]),
            cohort=rules.connectivity.output.cohort,
            folds=rules.folds.output.folds,
            text_features=lambda wc: text_features_of(wc.method),
            observed=observed_selection,
        output:
            predictions=null_outputs(PATHS["null_predictions"]),
            seed_scores=null_outputs(PATHS["null_scores"]),
        log:
            f"{LOGS}/train_null/{{method}}.log",
        benchmark:
            f"{BENCHMARKS}/train_null/{{method}}.tsv"
        wildcard_constraints:
            method=plain_method_pattern(),
        # the longest training job of a run (all permutations): started first, it does not end the run alone
        priority: 1
        conda:
            "../../envs/training.yaml"
        threads: config["training"]["threads"]
        resources:
            gpu=1 if config["training"]["gpu"] else 0,
            mem_mb=4000,
        params:
            method=lambda wc: wc.method,
            fold=MAPS["null_fold"],
            permutations=PERMUTATIONS,
            method_fingerprint=lambda wc: REGISTRY[wc.method].fingerprint,
            training={**TRAINER_SETTINGS, "n_seeds": 1},
            model=config["model"],
            text_encoder=config["text_encoder"],
            sensitive=SENSITIVE,
            work_dirs=lambda wc: expand(
                PATHS["null_work_dir"], method=wc.method, perm=PERMUTATIONS
            ),
        script:
            "../scripts/train_null.py"

    use rule train_null as train_null_ttca with:
        output:
            predictions=null_outputs(PATHS["null_predictions"]),
            seed_scores=null_outputs(PATHS["null_scores"]),
            attention=null_outputs(PATHS["null_attention"]),
        wildcard_constraints:
            method=ttca_method_pattern(),
