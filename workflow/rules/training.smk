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


rule train:
    input:
        connectomes=rules.connectivity.output.connectomes,
        cohort=rules.connectivity.output.cohort,
        folds=rules.folds.output.folds,
        text_features=rules.text_features.output.features,
    output:
        predictions=PATHS["predictions"],
        selection=PATHS["selection"],
        validation=PATHS["validation"],
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
        method_spec=lambda wc: dict(REGISTRY[wc.method].spec),  # not its label: relabelling retrains nothing
        training=TRAINER_SETTINGS,
        model=config["model"],
        text_encoder=config["text_encoder"],
        sensitive=SENSITIVE,
        work_dir=lambda wc: PATHS["work_dir"].format(method=wc.method, fold=wc.fold),
    script:
        "../scripts/train.py"


# Methods with TTCA (calt: true) also write the attention maps of their test subjects.
use rule train as train_ttca with:
    output:
        predictions=PATHS["predictions"],
        selection=PATHS["selection"],
        validation=PATHS["validation"],
        attention=PATHS["attention"],
    wildcard_constraints:
        method=ttca_method_pattern(),
