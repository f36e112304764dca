rule evaluate:
    input:
        predictions=per_method_fold(PATHS["predictions"], EVALUATED_METHODS),
        leakage=per_method_fold(PATHS["leakage"], EVALUATED_METHODS),
        cohort=rules.connectivity.output.cohort,
        folds=rules.folds.output.folds,
    output:
        per_fold=report_file(f"{BASE}/metrics/per_fold.csv", "per_fold", "Metrics"),
        summary=report_file(f"{BASE}/metrics/summary.csv", "summary", "Metrics"),
        paired=report_file(f"{BASE}/metrics/paired_comparison.csv", "paired", "Metrics"),
        pooled=report_file(f"{BASE}/metrics/pooled.csv", "pooled", "Metrics"),
        paired_pooled=report_file(
            f"{BASE}/metrics/paired_pooled.csv", "paired_pooled", "Metrics"
        ),
        probe_pairs=report_file(
            f"{BASE}/metrics/probe_pairs.csv", "probe_pairs", "Fairness"
        ),
    log:
        f"{LOGS}/evaluate.log",
    benchmark:
        f"{BENCHMARKS}/evaluate.tsv"
    conda:
        "../../envs/evaluation.yaml"
    params:
        method_folds=method_fold_keys(EVALUATED_METHODS),
        leakage_keys=method_fold_keys(EVALUATED_METHODS),
        attributes=SENSITIVE,
        continuous=config["dataset"]["continuous_attributes"],
        reference=REGISTRY.reference or "",
        gap_pairs=config["evaluation"]["gap_pairs"],
        postprocessed=REGISTRY.postprocessed,
        # each erasing method's unerased counterpart (metrics/probe_pairs.csv)
        unerased=REGISTRY.unerased,
    script:
        "../scripts/evaluate.py"


# what each method's representation gives away (sex probe) against what it keeps (diagnosis probe)
rule probe_pairs_figure:
    input:
        pairs=rules.evaluate.output.probe_pairs,
    output:
        png=report_file(
            f"{BASE}/figures/probe_pairs.png", "probe_pairs_figure", "Fairness"
        ),
        pdf=f"{BASE}/figures/probe_pairs.pdf",
    log:
        f"{LOGS}/probe_pairs_figure.log",
    conda:
        "../../envs/evaluation.yaml"
    params:
        labels={m: REGISTRY.label(m) for m in EVALUATED_METHODS},
        attribute=config["evaluation"]["primary_attribute"],
    script:
        "../scripts/probe_pairs_figure.py"


rule tables:
    input:
        summary=rules.evaluate.output.summary,
        pooled=rules.evaluate.output.pooled,
        cohort=rules.connectivity.output.cohort,
        # group-threshold rows say in how many folds their thresholds were fitted
        threshold_predictions=per_method_fold(PATHS["predictions"], list(POSTPROCESSED)),
    output:
        table1=f"{BASE}/tables/table1.csv",
        table1_paper=report_file(f"{BASE}/tables/table1_paper.csv", "table1", "Tables"),
        table1_md=f"{BASE}/tables/table1.md",
        table1_tex=f"{BASE}/tables/table1.tex",
        table2=report_file(f"{BASE}/tables/table2.csv", "table2", "Tables"),
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
        threshold_folds=method_fold_keys(list(POSTPROCESSED)),
    script:
        "../scripts/tables.py"


rule figures:
    input:
        predictions=per_method_fold(PATHS["predictions"], METHODS),
        per_fold=rules.evaluate.output.per_fold,
    output:
        roc=report_file(f"{BASE}/figures/roc.png", "roc", "Classification"),
        tradeoff=report_file(
            f"{BASE}/figures/fairness_accuracy.png", "tradeoff", "Fairness"
        ),
        groups=report_file(f"{BASE}/figures/group_auc.png", "groups", "Fairness"),
        fold_auc=report_file(
            f"{BASE}/figures/fold_auc.png", "fold_auc", "Classification"
        ),
        calibration=report_file(
            f"{BASE}/figures/calibration.png", "calibration", "Classification"
        ),
        # vector copies of the figures, written beside the PNGs (issue 25)
        roc_pdf=f"{BASE}/figures/roc.pdf",
        tradeoff_pdf=f"{BASE}/figures/fairness_accuracy.pdf",
        groups_pdf=f"{BASE}/figures/group_auc.pdf",
        fold_auc_pdf=f"{BASE}/figures/fold_auc.pdf",
        calibration_pdf=f"{BASE}/figures/calibration.pdf",
    log:
        f"{LOGS}/figures.log",
    benchmark:
        f"{BENCHMARKS}/figures.tsv"
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
        control=report_file(
            f"{BASE}/figures/brain/{{method}}_disease_attention_control.png",
            "brain_control",
            "{method} attention",
            methods=ATTENTION_METHODS,
        ),
        patient=report_file(
            PATHS["brain_patient"],
            "brain_patient",
            "{method} attention",
            methods=ATTENTION_METHODS,
        ),
        html=report_file(
            f"{BASE}/figures/brain/{{method}}_disease_attention_patient.html",
            "brain_html",
            "{method} attention",
            methods=ATTENTION_METHODS,
        ),
        top=report_file(
            f"{BASE}/metrics/top_regions_{{method}}.csv",
            "top_regions",
            "{method} attention",
            methods=ATTENTION_METHODS,
        ),
        stability=report_file(
            f"{BASE}/metrics/attention_stability_{{method}}.csv",
            "stability_table",
            "{method} attention",
            methods=ATTENTION_METHODS,
        ),
        stability_figure=report_file(
            f"{BASE}/figures/attention_stability_{{method}}.png",
            "stability",
            "{method} attention",
            methods=ATTENTION_METHODS,
        ),
        # vector copies of the figures, written beside the PNGs (issue 25)
        control_pdf=f"{BASE}/figures/brain/{{method}}_disease_attention_control.pdf",
        patient_pdf=f"{BASE}/figures/brain/{{method}}_disease_attention_patient.pdf",
        stability_figure_pdf=f"{BASE}/figures/attention_stability_{{method}}.pdf",
    log:
        f"{LOGS}/brain_maps_{{method}}.log",
    benchmark:
        f"{BENCHMARKS}/brain_maps/{{method}}.tsv"
    conda:
        "../../envs/evaluation.yaml"
    params:
        top_k=config["evaluation"]["top_k"],
        method=lambda wc: wc.method,
        folds=FOLDS,
        registry=REGISTRY_CONFIG,
        # a read-out-only method's attention maps are its source's: the figures and captions say so
        models_from=lambda wc: REGISTRY[wc.method].models_from or "",
        simulated=config["dataset"]["source"] == "simulated",
    script:
        "../scripts/brain_maps.py"


rule attention_recovery:
    input:
        attention=lambda wc: expand(PATHS["attention"], method=wc.method, fold=FOLDS),
        seed_scores=lambda wc: expand(
            PATHS["seed_scores"], method=wc.method, fold=FOLDS
        ),
        connectomes=every_fold_connectomes(),
        truth=rules.fetch.output.ground_truth,
    output:
        table=report_file(PATHS["recovery"], "recovery_table", "{method} attention"),
        figure=report_file(
            f"{BASE}/figures/attention_recovery_{{method}}.png",
            "recovery",
            "{method} attention",
            methods=ATTENTION_METHODS,
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
        models_from=lambda wc: REGISTRY[wc.method].models_from or "",
    script:
        "../scripts/attention_recovery.py"


rule attention_recovery_summary:
    input:
        expand(PATHS["recovery"], method=ATTENTION_METHODS),
    output:
        report_file(
            f"{BASE}/metrics/attention_recovery.csv", "recovery_summary", "Metrics"
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
        connectomes=every_fold_connectomes(),
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
        selections=linear_null_selections,
        folds=rules.folds.output.folds,
        cohort=rules.connectivity.output.cohort,
    output:
        agreement=f"{BASE}/metrics/map_agreement_{{method}}.csv",
        null_stability=f"{BASE}/metrics/map_null_stability_{{method}}.csv",
        regions=report_file(PATHS["map_regions"], "map_regions", "{method} maps"),
        figure=report_file(
            f"{BASE}/figures/brain/{{method}}_disease_pattern.png",
            "map_pattern",
            "{method} maps",
            methods=METHODS,
        ),
        figure_pdf=f"{BASE}/figures/brain/{{method}}_disease_pattern.pdf",  # vector copy (issue 25)
    log:
        f"{LOGS}/disease_maps_{{method}}.log",
    benchmark:
        f"{BENCHMARKS}/disease_maps/{{method}}.tsv"
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
        linear_null=lambda wc: wc.method in LINEAR_NULL_METHODS,
        null_methods=NULL_METHODS,
        linear_permutations=MAPS["linear_permutations"],
        tail_approximation=MAPS["tail_approximation"],
        registry=REGISTRY_CONFIG,
        simulated=config["dataset"]["source"] == "simulated",
    script:
        "../scripts/disease_maps.py"


rule map_stability:
    input:
        agreement=expand(f"{BASE}/metrics/map_agreement_{{method}}.csv", method=METHODS),
        null_stability=expand(
            f"{BASE}/metrics/map_null_stability_{{method}}.csv", method=METHODS
        ),
        connectomes=rules.connectivity.output.connectomes,
    output:
        table=report_file(
            f"{BASE}/metrics/map_stability.csv", "map_stability", "Brain maps"
        ),
        figure=report_file(
            f"{BASE}/figures/map_stability.png", "map_stability_figure", "Brain maps"
        ),
        figure_pdf=f"{BASE}/figures/map_stability.pdf",  # vector copy (issue 25)
    log:
        f"{LOGS}/map_stability.log",
    benchmark:
        f"{BENCHMARKS}/map_stability.tsv"
    conda:
        "../../envs/evaluation.yaml"
    params:
        top_k=config["evaluation"]["top_k"],
        n_rois=config["dataset"]["n_rois"],
        registry=REGISTRY_CONFIG,
        # {read-out-only method: the method whose models (and attention) it reads}
        models_from={
            m: REGISTRY[m].models_from
            for m in ATTENTION_METHODS
            if REGISTRY[m].models_from
        },
    script:
        "../scripts/map_stability.py"


rule attention_overlap:
    input:
        attention=per_method_fold(PATHS["attention"], ATTENTION_METHODS),
    output:
        table=report_file(
            f"{BASE}/metrics/attention_overlap.csv", "attention_overlap", "Brain maps"
        ),
        figure=report_file(
            f"{BASE}/figures/attention_overlap.png",
            "attention_overlap_figure",
            "Brain maps",
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
        # {read-out-only method: the method whose models (and attention) it reads}
        models_from={
            m: REGISTRY[m].models_from
            for m in ATTENTION_METHODS
            if REGISTRY[m].models_from
        },
    script:
        "../scripts/attention_overlap.py"


# Learning curves of every method that trains networks: its models' epochs.csv (in the training folders,
# read once the fold's selection.json is written), the epoch each fold kept marked.
rule learning_curves:
    input:
        selections=lambda wc: expand(PATHS["selection"], method=wc.method, fold=FOLDS),
    output:
        figure=report_file(
            f"{BASE}/figures/learning_curves/{{method}}.png",
            "learning_curves",
            "Training",
            methods=NETWORK_METHODS,
        ),
        figure_pdf=f"{BASE}/figures/learning_curves/{{method}}.pdf",
    log:
        f"{LOGS}/learning_curves/{{method}}.log",
    conda:
        "../../envs/evaluation.yaml"
    params:
        label=lambda wc: REGISTRY.label(wc.method),
        work_dirs=lambda wc: {
            fold: PATHS["work_dir"].format(method=wc.method, fold=fold)
            for fold in FOLDS
        },
    script:
        "../scripts/learning_curves.py"


# Per-site results (issue 33): site AUCs with intervals, spread, worst site, ES-AUC over sites, heterogeneity
rule per_site:
    input:
        predictions=per_method_fold(PATHS["predictions"], EVALUATED_METHODS),
        cohort=rules.connectivity.output.cohort,
        folds=rules.folds.output.folds,
    output:
        table=report_file(f"{BASE}/metrics/per_site.csv", "per_site", "Fairness"),
        figure=report_file(
            f"{BASE}/figures/per_site_auc.png", "per_site_figure", "Fairness"
        ),
        figure_pdf=f"{BASE}/figures/per_site_auc.pdf",  # vector copy (issue 25)
    log:
        f"{LOGS}/per_site.log",
    benchmark:
        f"{BENCHMARKS}/per_site.tsv"
    conda:
        "../../envs/evaluation.yaml"
    params:
        method_folds=method_fold_keys(EVALUATED_METHODS),
        methods=EVALUATED_METHODS,
        registry=REGISTRY_CONFIG,
        n_boot=1000,
        n_perm=1000,
    script:
        "../scripts/per_site.py"


# Results at a glance: the compact table printed at the end of the run (Snakefile, onsuccess)
rule glance:
    input:
        pooled=rules.evaluate.output.pooled,
        per_site=rules.per_site.output.table,
    output:
        summary=report_file(f"{BASE}/summary.md", "glance", "At a glance"),
        # the same table in reStructuredText, shown on the report's first screen (workflow/report/workflow.rst)
        landing=f"{BASE}/summary.rst",
    log:
        f"{LOGS}/glance.log",
    conda:
        "../../envs/evaluation.yaml"
    params:
        dataset=DATASET,
        methods=EVALUATED_METHODS,
        labels={m: REGISTRY.label(m) for m in EVALUATED_METHODS},
        attribute=config["evaluation"]["primary_attribute"],
    script:
        "../scripts/glance.py"


# Agreement of every method's disease maps with reference maps (evaluation.reference_maps), against a
# spatial-autocorrelation-preserving null (brainsmash surrogates) and a region-shuffling null beside it
if REFERENCE_CONTROLS:

    rule reference_controls:
        input:
            coordinates=rules.fetch.output.coordinates,
            truth=rules.fetch.output.ground_truth,
        output:
            **REFERENCE_CONTROLS,
        log:
            f"{LOGS}/reference_controls.log",
        conda:
            "../../envs/evaluation.yaml"
        params:
            radius=REFERENCE_NULL["radius"],
            seed=REFERENCE_NULL["seed"],
        script:
            "../scripts/reference_controls.py"


rule reference_agreement:
    input:
        regions=expand(PATHS["map_regions"], method=METHODS),
        coordinates=rules.fetch.output.coordinates,
        maps=[r["path"] for r in REFERENCE_MAPS],
        labels=[r["labels"] for r in REFERENCE_MAPS if r.get("labels")],
    output:
        table=report_file(
            f"{BASE}/metrics/reference_agreement.csv",
            "reference_agreement",
            "Brain maps",
        ),
        figures=[
            report_file(path, "reference_agreement_figure", "Brain maps")
            for path in expand(
                f"{BASE}/figures/reference_agreement/{{name}}.png",
                name=[r["name"] for r in REFERENCE_MAPS],
            )
        ],
        figures_pdf=expand(
            f"{BASE}/figures/reference_agreement/{{name}}.pdf",
            name=[r["name"] for r in REFERENCE_MAPS],
        ),
    log:
        f"{LOGS}/reference_agreement.log",
    benchmark:
        f"{BENCHMARKS}/reference_agreement.tsv"
    conda:
        "../../envs/evaluation.yaml"
    params:
        references=REFERENCE_MAPS,
        surrogates=REFERENCE_NULL["surrogates"],
        seed=REFERENCE_NULL["seed"],
        top_k=config["evaluation"]["top_k"],
        alpha=MAPS["alpha"],
        registry=REGISTRY_CONFIG,
    script:
        "../scripts/reference_agreement.py"
