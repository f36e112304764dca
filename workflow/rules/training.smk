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
        predictions=f"{RESULTS}/{DATASET}/predictions/{{method}}/fold{{fold}}.csv",
        selection=f"{RESULTS}/{DATASET}/training/{{method}}/fold{{fold}}/selection.json",
        validation=f"{RESULTS}/{DATASET}/training/{{method}}/fold{{fold}}/validation_predictions.csv",
    log:
        f"{LOGS}/train/{{method}}/fold{{fold}}.log",
    benchmark:
        f"{BENCHMARKS}/train/{{method}}/fold{{fold}}.tsv"
    wildcard_constraints:
        method=plain_method_pattern(),
    conda:
        "../../envs/training.yaml"
    threads: config["training"].get("threads", 2)
    resources:
        gpu=1 if config["training"].get("gpu", False) else 0,
        mem_mb=4000,
    params:
        method_spec=lambda wc: method_spec(wc.method),
        training={
            **config["training"],
            "text_model": config["text_encoder"]["name"],
            "text_finetune": config["text_encoder"].get("finetune", False),
        },
        model=config["model"],
        sensitive=config["dataset"].get("sensitive_attributes", ["sex"]),
        work_dir=lambda wc: f"{RESULTS}/{DATASET}/training/{wc.method}/fold{wc.fold}",
    script:
        "../scripts/train.py"


# NeuroLIP and its ablations also write the TTCA attention maps of their test subjects.
use rule train as train_ttca with:
    output:
        predictions=f"{RESULTS}/{DATASET}/predictions/{{method}}/fold{{fold}}.csv",
        selection=f"{RESULTS}/{DATASET}/training/{{method}}/fold{{fold}}/selection.json",
        validation=f"{RESULTS}/{DATASET}/training/{{method}}/fold{{fold}}/validation_predictions.csv",
        attention=f"{RESULTS}/{DATASET}/attention/{{method}}/fold{{fold}}.npz",
    wildcard_constraints:
        method=ttca_method_pattern(),
