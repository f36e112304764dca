# Text robustness (docs/method.md, "Text robustness"): every subject's text and the class prompts in a
# variant's wording, encoded once per variant; a method's kept models of each fold re-scored with them; the
# table of changes beside the seed-to-seed spread.
rule text_variant_features:
    input:
        cohort=rules.connectivity.output.cohort,
    output:
        features=f"{DATA_DIR}/text_variants/{{variant}}.safetensors",
    log:
        f"{LOGS}/text_variant_features/{{variant}}.log",
    wildcard_constraints:
        variant=r"[A-Za-z0-9_]+",
    conda:
        "../../envs/training.yaml"
    params:
        segments=config["dataset"]["text"]["segments"],
        paraphrases=TEXT_ROBUSTNESS["paraphrases"],
        seed=TEXT_ROBUSTNESS["seed"],
        encoder=config["text_encoder"],
    script:
        "../scripts/text_variant_features.py"


rule text_robustness_fold:
    input:
        connectomes=lambda wc: fold_connectomes(wc.fold),
        cohort=rules.connectivity.output.cohort,
        folds=rules.folds.output.folds,
        # the method's finished models of the fold (its own, or its source's) and the texts they learnt from
        selection=PATHS["selection"],
        models=lambda wc: PATHS["selection"].format(
            method=models_source(wc.method) or wc.method, fold=wc.fold
        ),
        trained_features=lambda wc: text_features_of(wc.method),
        unchanged=rules.text_features.output.features,
        variants=expand(
            f"{DATA_DIR}/text_variants/{{variant}}.safetensors",
            variant=TEXT_ROBUSTNESS["variants"],
        ),
    output:
        predictions=f"{BASE}/text_robustness/{{method}}/fold{{fold}}.csv",
        maps=f"{BASE}/text_robustness/{{method}}/fold{{fold}}_maps.npz",
    log:
        f"{LOGS}/text_robustness/{{method}}/fold{{fold}}.log",
    benchmark:
        f"{BENCHMARKS}/text_robustness/{{method}}/fold{{fold}}.tsv"
    conda:
        "../../envs/training.yaml"
    threads: config["training"]["threads"]
    resources:
        gpu=1 if config["training"]["gpu"] else 0,
        mem_mb=4000,
    params:
        method=lambda wc: wc.method,
        fold=lambda wc: int(wc.fold),
        method_fingerprint=lambda wc: REGISTRY[wc.method].fingerprint,
        training=TRAINER_SETTINGS,
        model=config["model"],
        text_encoder=config["text_encoder"],
        sensitive=SENSITIVE,
        variants=TEXT_ROBUSTNESS["variants"],
        models_dir=lambda wc: PATHS["work_dir"].format(
            method=models_source(wc.method) or wc.method, fold=wc.fold
        ),
    script:
        "../scripts/text_robustness_fold.py"


rule text_robustness:
    input:
        predictions=per_method_fold(
            f"{BASE}/text_robustness/{{method}}/fold{{fold}}.csv",
            TEXT_ROBUSTNESS_METHODS,
        ),
        maps=per_method_fold(
            f"{BASE}/text_robustness/{{method}}/fold{{fold}}_maps.npz",
            TEXT_ROBUSTNESS_METHODS,
        ),
        cohort=rules.connectivity.output.cohort,
        folds=rules.folds.output.folds,
    output:
        table=report_file(
            f"{BASE}/metrics/text_robustness.csv", "text_robustness", "Text robustness"
        ),
    log:
        f"{LOGS}/text_robustness.log",
    conda:
        "../../envs/evaluation.yaml"
    params:
        method_folds=method_fold_keys(TEXT_ROBUSTNESS_METHODS),
        attribute=config["evaluation"]["primary_attribute"],
        trained_variants=TEXT_ROBUSTNESS_PAIRS,
    script:
        "../scripts/text_robustness.py"
