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


# Null models for brain maps (evaluation.maps): null model {perm} of EVERY fold, one seed, its training and
# validation connectomes permuted by cohort-wide permutation {perm} (within site x outer test fold, drawn from
# (training.seed, perm) alone: the same brain-label pairs on every fold); their maps give each fold's region
# null and the across-fold stability null. One model per job (a stopped run resumes where it was), writing
# null/<method>/fold<f>/perm<p>/; null models reuse the observed model's C or read-out of their fold.
if PERMUTATIONS:

    rule train_null:
        input:
            connectomes=lambda wc: fold_connectomes(int(wc.fold)),
            cohort=rules.connectivity.output.cohort,
            folds=rules.folds.output.folds,
            text_features=lambda wc: text_features_of(wc.method),
            observed=observed_selection,
        output:
            predictions=[PATHS["null_predictions"]],
            seed_scores=[PATHS["null_scores"]],
        log:
            f"{LOGS}/train_null/{{method}}/fold{{fold}}/perm{{perm}}.log",
        benchmark:
            f"{BENCHMARKS}/train_null/{{method}}/fold{{fold}}/perm{{perm}}.tsv"
        wildcard_constraints:
            method=plain_method_pattern(),
            perm=r"\d+",
        conda:
            "../../envs/training.yaml"
        threads: config["training"]["threads"]
        resources:
            gpu=1 if config["training"]["gpu"] else 0,
            mem_mb=4000,
        params:
            method=lambda wc: wc.method,
            fold=lambda wc: int(wc.fold),
            permutations=lambda wc: [int(wc.perm)],
            # the permutation is drawn from (permutation_seed, perm): a changed seed retrains the nulls
            permutation_seed=config["training"]["seed"],
            method_fingerprint=lambda wc: REGISTRY[wc.method].fingerprint,
            training={**TRAINER_SETTINGS, "n_seeds": 1},
            model=config["model"],
            text_encoder=config["text_encoder"],
            sensitive=SENSITIVE,
            work_dirs=lambda wc: [
                PATHS["null_work_dir"].format(
                    method=wc.method, fold=wc.fold, perm=wc.perm
                )
            ],
        script:
            "../scripts/train_null.py"

    use rule train_null as train_null_ttca with:
        output:
            predictions=[PATHS["null_predictions"]],
            seed_scores=[PATHS["null_scores"]],
            attention=[PATHS["null_attention"]],
        wildcard_constraints:
            method=ttca_method_pattern(),
            perm=r"\d+",
