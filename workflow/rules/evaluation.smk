rule fair_thresholds:
    input:
        validation=lambda wc: f"{RESULTS}/{DATASET}/training/{POSTPROCESSED[wc.method]}/fold{wc.fold}/validation_predictions.csv",
        predictions=lambda wc: f"{RESULTS}/{DATASET}/predictions/{POSTPROCESSED[wc.method]}/fold{wc.fold}.csv",
    output:
        predictions=f"{RESULTS}/{DATASET}/predictions/{{method}}/fold{{fold}}.csv",
    log:
        f"{LOGS}/fair_thresholds/{{method}}/fold{{fold}}.log",
    wildcard_constraints:
        method=postprocessed_method_pattern(),
    conda:
        "../../envs/evaluation.yaml"
    params:
        attribute=FAIR_THRESHOLDS.get("attribute", "sex"),
        constraint=FAIR_THRESHOLDS.get("constraint", "demographic_parity"),
        objective=FAIR_THRESHOLDS.get("objective", "balanced_accuracy_score"),
        seed=config["training"]["seed"],
    script:
        "../scripts/fair_thresholds.py"


rule evaluate:
    input:
        predictions=evaluated_prediction_targets(),
        cohort=rules.connectivity.output.cohort,
        folds=rules.folds.output.folds,
    output:
        per_fold=report(
            f"{RESULTS}/{DATASET}/metrics/per_fold.csv",
            caption="../report/per_fold.rst",
            category=DATASET,
            subcategory="Metrics",
        ),
        summary=report(
            f"{RESULTS}/{DATASET}/metrics/summary.csv",
            caption="../report/summary.rst",
            category=DATASET,
            subcategory="Metrics",
        ),
        paired=report(
            f"{RESULTS}/{DATASET}/metrics/paired_comparison.csv",
            caption="../report/paired.rst",
            category=DATASET,
            subcategory="Metrics",
        ),
    log:
        f"{LOGS}/evaluate.log",
    conda:
        "../../envs/evaluation.yaml"
    params:
        methods=EVALUATED_METHODS,
        folds=FOLDS,
        attributes=config["dataset"].get("sensitive_attributes", ["sex"]),
    script:
        "../scripts/evaluate.py"


rule tables:
    input:
        summary=rules.evaluate.output.summary,
    output:
        table1=report(
            f"{RESULTS}/{DATASET}/tables/table1.csv",
            caption="../report/table1.rst",
            category=DATASET,
            subcategory="Tables",
        ),
        table1_md=f"{RESULTS}/{DATASET}/tables/table1.md",
        table1_tex=f"{RESULTS}/{DATASET}/tables/table1.tex",
        table2=report(
            f"{RESULTS}/{DATASET}/tables/table2.csv",
            caption="../report/table2.rst",
            category=DATASET,
            subcategory="Tables",
        ),
        table2_md=f"{RESULTS}/{DATASET}/tables/table2.md",
        table2_tex=f"{RESULTS}/{DATASET}/tables/table2.tex",
    log:
        f"{LOGS}/tables.log",
    conda:
        "../../envs/evaluation.yaml"
    params:
        dataset=DATASET,
        paper=config.get("evaluation", {}).get("paper_reference", ""),
        attributes=config.get("evaluation", {}).get("table_attributes", ["sex"]),
    script:
        "../scripts/tables.py"


rule figures:
    input:
        predictions=prediction_targets(),
        summary=rules.evaluate.output.summary,
    output:
        roc=report(
            f"{RESULTS}/{DATASET}/figures/roc.png",
            caption="../report/roc.rst",
            category=DATASET,
            subcategory="Classification",
        ),
        tradeoff=report(
            f"{RESULTS}/{DATASET}/figures/fairness_accuracy.png",
            caption="../report/tradeoff.rst",
            category=DATASET,
            subcategory="Fairness",
        ),
        groups=report(
            f"{RESULTS}/{DATASET}/figures/group_auc.png",
            caption="../report/groups.rst",
            category=DATASET,
            subcategory="Fairness",
        ),
    log:
        f"{LOGS}/figures.log",
    conda:
        "../../envs/evaluation.yaml"
    params:
        methods=METHODS,
        attribute=config.get("evaluation", {}).get("primary_attribute", "sex"),
        attributes=config["dataset"].get("sensitive_attributes", ["sex"]),
    script:
        "../scripts/figures.py"


rule brain_maps:
    input:
        attention=lambda wc: expand(
            f"{RESULTS}/{DATASET}/attention/{wc.method}/fold{{fold}}.npz", fold=FOLDS
        ),
        coordinates=rules.fetch.output.coordinates,
    output:
        control=report(
            f"{RESULTS}/{DATASET}/figures/brain/{{method}}_disease_attention_control.png",
            caption="../report/brain_control.rst",
            category=DATASET,
            subcategory="{method} attention",
        ),
        patient=report(
            f"{RESULTS}/{DATASET}/figures/brain/{{method}}_disease_attention_patient.png",
            caption="../report/brain_patient.rst",
            category=DATASET,
            subcategory="{method} attention",
        ),
        html=report(
            f"{RESULTS}/{DATASET}/figures/brain/{{method}}_disease_attention_patient.html",
            caption="../report/brain_html.rst",
            category=DATASET,
            subcategory="{method} attention",
        ),
        top=report(
            f"{RESULTS}/{DATASET}/metrics/top_regions_{{method}}.csv",
            caption="../report/top_regions.rst",
            category=DATASET,
            subcategory="{method} attention",
        ),
        stability=report(
            f"{RESULTS}/{DATASET}/metrics/attention_stability_{{method}}.csv",
            caption="../report/stability_table.rst",
            category=DATASET,
            subcategory="{method} attention",
        ),
        stability_figure=report(
            f"{RESULTS}/{DATASET}/figures/attention_stability_{{method}}.png",
            caption="../report/stability.rst",
            category=DATASET,
            subcategory="{method} attention",
        ),
    log:
        f"{LOGS}/brain_maps_{{method}}.log",
    conda:
        "../../envs/evaluation.yaml"
    params:
        top_k=config.get("evaluation", {}).get("top_k", 10),
    script:
        "../scripts/brain_maps.py"


rule attention_recovery:
    input:
        attention=lambda wc: expand(
            f"{RESULTS}/{DATASET}/attention/{wc.method}/fold{{fold}}.npz", fold=FOLDS
        ),
        truth=rules.fetch.output.ground_truth,
    output:
        table=report(
            f"{RESULTS}/{DATASET}/metrics/attention_recovery_{{method}}.csv",
            caption="../report/recovery_table.rst",
            category=DATASET,
            subcategory="{method} attention",
        ),
        figure=report(
            f"{RESULTS}/{DATASET}/figures/attention_recovery_{{method}}.png",
            caption="../report/recovery.rst",
            category=DATASET,
            subcategory="{method} attention",
        ),
    log:
        f"{LOGS}/attention_recovery_{{method}}.log",
    conda:
        "../../envs/evaluation.yaml"
    script:
        "../scripts/attention_recovery.py"


rule attention_recovery_summary:
    input:
        expand(
            f"{RESULTS}/{DATASET}/metrics/attention_recovery_{{method}}.csv",
            method=ATTENTION_METHODS,
        ),
    output:
        report(
            f"{RESULTS}/{DATASET}/metrics/attention_recovery.csv",
            caption="../report/recovery_summary.rst",
            category=DATASET,
            subcategory="Metrics",
        ),
    log:
        f"{LOGS}/attention_recovery_summary.log",
    conda:
        "../../envs/evaluation.yaml"
    script:
        "../scripts/concat_tables.py"
