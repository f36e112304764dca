rule fair_thresholds:
    input:
        validation=lambda wc: PATHS["validation"].format(
            method=POSTPROCESSED[wc.method], fold=wc.fold
        ),
        predictions=lambda wc: PATHS["predictions"].format(
            method=POSTPROCESSED[wc.method], fold=wc.fold
        ),
    output:
        predictions=PATHS["predictions"],
    log:
        f"{LOGS}/fair_thresholds/{{method}}/fold{{fold}}.log",
    wildcard_constraints:
        method=postprocessed_method_pattern(),
    conda:
        "../../envs/evaluation.yaml"
    params:
        attribute=FAIR_THRESHOLDS["attribute"],
        constraint=lambda wc: REGISTRY[wc.method].spec["constraint"],
        objective=FAIR_THRESHOLDS["objective"],
        seed=config["training"]["seed"],
    script:
        "../scripts/fair_thresholds.py"


rule evaluate:
    input:
        predictions=per_method_fold(PATHS["predictions"], EVALUATED_METHODS),
        leakage=per_method_fold(PATHS["leakage"], METHODS),
        cohort=rules.connectivity.output.cohort,
        folds=rules.folds.output.folds,
    output:
        per_fold=report(
            f"{BASE}/metrics/per_fold.csv",
            caption="../report/per_fold.rst",
            category=DATASET,
            subcategory="Metrics",
        ),
        summary=report(
            f"{BASE}/metrics/summary.csv",
            caption="../report/summary.rst",
            category=DATASET,
            subcategory="Metrics",
        ),
        paired=report(
            f"{BASE}/metrics/paired_comparison.csv",
            caption="../report/paired.rst",
            category=DATASET,
            subcategory="Metrics",
        ),
        pooled=report(
            f"{BASE}/metrics/pooled.csv",
            caption="../report/pooled.rst",
            category=DATASET,
            subcategory="Metrics",
        ),
    log:
        f"{LOGS}/evaluate.log",
    conda:
        "../../envs/evaluation.yaml"
    params:
        method_folds=method_fold_keys(EVALUATED_METHODS),
        leakage_keys=method_fold_keys(METHODS),
        postprocessed=POSTPROCESSED,
        attributes=SENSITIVE,
        continuous=config["dataset"]["continuous_attributes"],
        reference=REGISTRY.reference or "",
    script:
        "../scripts/evaluate.py"


rule tables:
    input:
        summary=rules.evaluate.output.summary,
        cohort=rules.connectivity.output.cohort,
    output:
        table1=report(
            f"{BASE}/tables/table1.csv",
            caption="../report/table1.rst",
            category=DATASET,
            subcategory="Tables",
        ),
        table1_md=f"{BASE}/tables/table1.md",
        table1_tex=f"{BASE}/tables/table1.tex",
        table2=report(
            f"{BASE}/tables/table2.csv",
            caption="../report/table2.rst",
            category=DATASET,
            subcategory="Tables",
        ),
        table2_md=f"{BASE}/tables/table2.md",
        table2_tex=f"{BASE}/tables/table2.tex",
    log:
        f"{LOGS}/tables.log",
    conda:
        "../../envs/evaluation.yaml"
    params:
        dataset=DATASET,
        paper=config["evaluation"]["paper_reference"],
        attributes=config["evaluation"]["table_attributes"],
        continuous=config["dataset"]["continuous_attributes"],
        registry=REGISTRY_CONFIG,
    script:
        "../scripts/tables.py"


rule figures:
    input:
        predictions=per_method_fold(PATHS["predictions"], METHODS),
        per_fold=rules.evaluate.output.per_fold,
    output:
        roc=report(
            f"{BASE}/figures/roc.png",
            caption="../report/roc.rst",
            category=DATASET,
            subcategory="Classification",
        ),
        tradeoff=report(
            f"{BASE}/figures/fairness_accuracy.png",
            caption="../report/tradeoff.rst",
            category=DATASET,
            subcategory="Fairness",
        ),
        groups=report(
            f"{BASE}/figures/group_auc.png",
            caption="../report/groups.rst",
            category=DATASET,
            subcategory="Fairness",
        ),
        fold_auc=report(
            f"{BASE}/figures/fold_auc.png",
            caption="../report/fold_auc.rst",
            category=DATASET,
            subcategory="Classification",
        ),
        calibration=report(
            f"{BASE}/figures/calibration.png",
            caption="../report/calibration.rst",
            category=DATASET,
            subcategory="Classification",
        ),
        # vector copies of the figures, written beside the PNGs (issue 25)
        roc_pdf=f"{BASE}/figures/roc.pdf",
        tradeoff_pdf=f"{BASE}/figures/fairness_accuracy.pdf",
        groups_pdf=f"{BASE}/figures/group_auc.pdf",
        fold_auc_pdf=f"{BASE}/figures/fold_auc.pdf",
        calibration_pdf=f"{BASE}/figures/calibration.pdf",
    log:
        f"{LOGS}/figures.log",
    conda:
        "../../envs/evaluation.yaml"
    params:
        method_folds=method_fold_keys(METHODS),
        attribute=config["evaluation"]["primary_attribute"],
        attributes=SENSITIVE,
        registry=REGISTRY_CONFIG,
    script:
        "../scripts/figures.py"


rule brain_maps:
    input:
        attention=lambda wc: expand(PATHS["attention"], method=wc.method, fold=FOLDS),
        coordinates=rules.fetch.output.coordinates,
    output:
        control=report(
            f"{BASE}/figures/brain/{{method}}_disease_attention_control.png",
            caption="../report/brain_control.rst",
            category=DATASET,
            subcategory="{method} attention",
        ),
        patient=report(
            PATHS["brain_patient"],
            caption="../report/brain_patient.rst",
            category=DATASET,
            subcategory="{method} attention",
        ),
        html=report(
            f"{BASE}/figures/brain/{{method}}_disease_attention_patient.html",
            caption="../report/brain_html.rst",
            category=DATASET,
            subcategory="{method} attention",
        ),
        top=report(
            f"{BASE}/metrics/top_regions_{{method}}.csv",
            caption="../report/top_regions.rst",
            category=DATASET,
            subcategory="{method} attention",
        ),
        stability=report(
            f"{BASE}/metrics/attention_stability_{{method}}.csv",
            caption="../report/stability_table.rst",
            category=DATASET,
            subcategory="{method} attention",
        ),
        stability_figure=report(
            f"{BASE}/figures/attention_stability_{{method}}.png",
            caption="../report/stability.rst",
            category=DATASET,
            subcategory="{method} attention",
        ),
        # vector copies of the figures, written beside the PNGs (issue 25)
        control_pdf=f"{BASE}/figures/brain/{{method}}_disease_attention_control.pdf",
        patient_pdf=f"{BASE}/figures/brain/{{method}}_disease_attention_patient.pdf",
        stability_figure_pdf=f"{BASE}/figures/attention_stability_{{method}}.pdf",
    log:
        f"{LOGS}/brain_maps_{{method}}.log",
    conda:
        "../../envs/evaluation.yaml"
    params:
        top_k=config["evaluation"]["top_k"],
        method=lambda wc: wc.method,
        folds=FOLDS,
        registry=REGISTRY_CONFIG,
    script:
        "../scripts/brain_maps.py"


rule attention_recovery:
    input:
        attention=lambda wc: expand(PATHS["attention"], method=wc.method, fold=FOLDS),
        seed_scores=lambda wc: expand(
            PATHS["seed_scores"], method=wc.method, fold=FOLDS
        ),
        connectomes=rules.connectivity.output.connectomes,
        truth=rules.fetch.output.ground_truth,
    output:
        table=report(
            PATHS["recovery"],
            caption="../report/recovery_table.rst",
            category=DATASET,
            subcategory="{method} attention",
        ),
        figure=report(
            f"{BASE}/figures/attention_recovery_{{method}}.png",
            caption="../report/recovery.rst",
            category=DATASET,
            subcategory="{method} attention",
        ),
        figure_pdf=f"{BASE}/figures/attention_recovery_{{method}}.pdf",  # vector copy (issue 25)
    log:
        f"{LOGS}/attention_recovery_{{method}}.log",
    conda:
        "../../envs/evaluation.yaml"
    params:
        method=lambda wc: wc.method,
        folds=FOLDS,
        registry=REGISTRY_CONFIG,
    script:
        "../scripts/attention_recovery.py"


rule attention_recovery_summary:
    input:
        expand(PATHS["recovery"], method=ATTENTION_METHODS),
    output:
        report(
            f"{BASE}/metrics/attention_recovery.csv",
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


rule disease_maps:
    input:
        seed_scores=lambda wc: expand(
            PATHS["seed_scores"], method=wc.method, fold=FOLDS
        ),
        connectomes=rules.connectivity.output.connectomes,
        coordinates=rules.fetch.output.coordinates,
        attention=lambda wc: (
            expand(PATHS["attention"], method=wc.method, fold=FOLDS)
            if wc.method in ATTENTION_METHODS
            else []
        ),
        null_scores=lambda wc: null_inputs(PATHS["null_scores"], wc.method),
        null_attention=lambda wc: (
            null_inputs(PATHS["null_attention"], wc.method)
            if wc.method in ATTENTION_METHODS
            else []
        ),
    output:
        agreement=f"{BASE}/metrics/map_agreement_{{method}}.csv",
        regions=report(
            PATHS["map_regions"],
            caption="../report/map_regions.rst",
            category=DATASET,
            subcategory="{method} maps",
        ),
        figure=report(
            f"{BASE}/figures/brain/{{method}}_disease_pattern.png",
            caption="../report/map_pattern.rst",
            category=DATASET,
            subcategory="{method} maps",
        ),
        figure_pdf=f"{BASE}/figures/brain/{{method}}_disease_pattern.pdf",  # vector copy (issue 25)
    log:
        f"{LOGS}/disease_maps_{{method}}.log",
    wildcard_constraints:
        method=_methods_regex(METHODS),
    conda:
        "../../envs/evaluation.yaml"
    params:
        method=lambda wc: wc.method,
        folds=FOLDS,
        top_k=config["evaluation"]["top_k"],
        null_fold=MAPS["null_fold"],
        seed=config["training"]["seed"],
        alpha=MAPS["alpha"],
        registry=REGISTRY_CONFIG,
    script:
        "../scripts/disease_maps.py"


rule map_stability:
    input:
        agreement=expand(f"{BASE}/metrics/map_agreement_{{method}}.csv", method=METHODS),
        connectomes=rules.connectivity.output.connectomes,
    output:
        table=report(
            f"{BASE}/metrics/map_stability.csv",
            caption="../report/map_stability.rst",
            category=DATASET,
            subcategory="Brain maps",
        ),
        figure=report(
            f"{BASE}/figures/map_stability.png",
            caption="../report/map_stability_figure.rst",
            category=DATASET,
            subcategory="Brain maps",
        ),
        figure_pdf=f"{BASE}/figures/map_stability.pdf",  # vector copy (issue 25)
    log:
        f"{LOGS}/map_stability.log",
    conda:
        "../../envs/evaluation.yaml"
    params:
        top_k=config["evaluation"]["top_k"],
        n_rois=config["dataset"]["n_rois"],
        registry=REGISTRY_CONFIG,
    script:
        "../scripts/map_stability.py"


rule attention_overlap:
    input:
        attention=per_method_fold(PATHS["attention"], ATTENTION_METHODS),
    output:
        table=report(
            f"{BASE}/metrics/attention_overlap.csv",
            caption="../report/attention_overlap.rst",
            category=DATASET,
            subcategory="Brain maps",
        ),
        figure=report(
            f"{BASE}/figures/attention_overlap.png",
            caption="../report/attention_overlap_figure.rst",
            category=DATASET,
            subcategory="Brain maps",
        ),
        figure_pdf=f"{BASE}/figures/attention_overlap.pdf",  # vector copy (issue 25)
    log:
        f"{LOGS}/attention_overlap.log",
    conda:
        "../../envs/evaluation.yaml"
    params:
        method_folds=method_fold_keys(ATTENTION_METHODS),
        top_k=config["evaluation"]["top_k"],
        registry=REGISTRY_CONFIG,
    script:
        "../scripts/attention_overlap.py"
