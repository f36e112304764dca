checkpoint fetch:
    input:
        fmriprep=fmriprep_targets(),
        source=SOURCE_FILES,
    output:
        manifest=f"{DATA_DIR}/manifest.tsv",
        phenotypes=f"{DATA_DIR}/phenotypes_raw.tsv",
        exclusions=f"{DATA_DIR}/exclusions_fetch.tsv",
        coordinates=f"{DATA_DIR}/roi_coordinates.csv",
        ground_truth=f"{DATA_DIR}/ground_truth.json",
        raw=directory(f"{BASE}/raw"),
    log:
        f"{LOGS}/fetch.log",
    conda:
        "../../envs/data.yaml"
    params:
        dataset=config["dataset"],
        # SHA-256 of the phenotype table / cache index (not of time-series files): a content change reruns
        source_tables=SOURCE_TABLES,
    script:
        "../scripts/fetch.py"


if NIFTI_SOURCE:

    # 4-D images: one extraction job per subject (a cluster spreads them), then one job joins them
    rule timeseries_subject:
        input:
            manifest=rules.fetch.output.manifest,
        output:
            timeseries=temp(f"{DATA_DIR}/timeseries/{{subject}}.npz"),
            exclusions=temp(f"{DATA_DIR}/timeseries/{{subject}}.exclusions.tsv"),
        log:
            f"{LOGS}/timeseries/{{subject}}.log",
        benchmark:
            f"{BENCHMARKS}/timeseries/{{subject}}.tsv"
        conda:
            "../../envs/data.yaml"
        params:
            dataset=config["dataset"],
            subject=lambda wc: wc.subject,
        script:
            "../scripts/timeseries.py"

    rule timeseries:
        input:
            manifest=rules.fetch.output.manifest,
            parts=lambda wc: expand(
                f"{DATA_DIR}/timeseries/{{subject}}.npz", subject=manifest_subjects()
            ),
            exclusions=lambda wc: expand(
                f"{DATA_DIR}/timeseries/{{subject}}.exclusions.tsv",
                subject=manifest_subjects(),
            ),
        output:
            timeseries=f"{DATA_DIR}/timeseries.npz",
            exclusions=f"{DATA_DIR}/exclusions_timeseries.tsv",
        log:
            f"{LOGS}/timeseries.log",
        conda:
            "../../envs/data.yaml"
        script:
            "../scripts/timeseries_gather.py"

else:

    rule timeseries:
        input:
            manifest=rules.fetch.output.manifest,
        output:
            timeseries=f"{DATA_DIR}/timeseries.npz",
            exclusions=f"{DATA_DIR}/exclusions_timeseries.tsv",
        log:
            f"{LOGS}/timeseries.log",
        benchmark:
            f"{BENCHMARKS}/timeseries.tsv"
        conda:
            "../../envs/data.yaml"
        params:
            dataset=config["dataset"],
        script:
            "../scripts/timeseries.py"


rule phenotypes:
    input:
        raw=rules.fetch.output.phenotypes,
    output:
        phenotypes=f"{DATA_DIR}/phenotypes.tsv",
        exclusions=f"{DATA_DIR}/exclusions_phenotypes.tsv",
        qc=report(
            f"{DATA_DIR}/phenotype_qc.tsv",
            caption="../report/phenotype_qc.rst",
            category=DATASET,
            subcategory=report_section("Data"),
        ),
    log:
        f"{LOGS}/phenotypes.log",
    conda:
        "../../envs/data.yaml"
    params:
        dataset=config["dataset"],
    script:
        "../scripts/phenotypes.py"


rule connectivity:
    input:
        timeseries=rules.timeseries.output.timeseries,
        phenotypes=rules.phenotypes.output.phenotypes,
        exclusions=[
            rules.fetch.output.exclusions,
            rules.timeseries.output.exclusions,
            rules.phenotypes.output.exclusions,
        ],
    output:
        connectomes=f"{DATA_DIR}/connectomes.npz",
        qc=f"{DATA_DIR}/connectivity_qc.tsv",
        cohort=f"{DATA_DIR}/cohort.tsv",
        exclusions=f"{DATA_DIR}/exclusions.tsv",
    log:
        f"{LOGS}/connectivity.log",
    benchmark:
        f"{BENCHMARKS}/connectivity.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        connectivity=CONNECTIVITY,
    script:
        "../scripts/connectivity.py"


# The same time series and connectomes as a BIDS derivative dataset (BEP012/BEP017 names), for other
# connectivity tools; see neurolip/bids_derivatives.py
rule bids_derivatives:
    input:
        timeseries=rules.timeseries.output.timeseries,
        connectomes=rules.connectivity.output.connectomes,
        coordinates=rules.fetch.output.coordinates,
        cohort=rules.connectivity.output.cohort,
    output:
        directory(f"{DATA_DIR}/bids"),
    log:
        f"{LOGS}/bids_derivatives.log",
    conda:
        "../../envs/data.yaml"
    params:
        dataset=config["dataset"],
        connectivity=CONNECTIVITY,
    script:
        "../scripts/bids_derivatives.py"


rule texts:
    input:
        cohort=rules.connectivity.output.cohort,
    output:
        texts=f"{DATA_DIR}/texts.jsonl",
        prompts=f"{DATA_DIR}/class_prompts.json",
    log:
        f"{LOGS}/texts.log",
    conda:
        "../../envs/data.yaml"
    params:
        text=config["dataset"]["text"],
    script:
        "../scripts/texts.py"


rule folds:
    input:
        cohort=rules.connectivity.output.cohort,
    output:
        folds=f"{DATA_DIR}/folds.tsv",
    log:
        f"{LOGS}/folds.log",
    conda:
        "../../envs/data.yaml"
    params:
        cv=CV,
        group_thresholds_attribute=(
            FAIR_THRESHOLDS["attribute"] if FAIR_THRESHOLDS["methods"] else None
        ),
        sensitive_attributes=SENSITIVE,
        trained_attributes=trained_attributes(),
    script:
        "../scripts/folds.py"


# tangent space and site harmonisation: each fold's connectomes, the group reference and the harmonisation
# fitted on its training subjects only
rule fold_connectomes:
    input:
        **(
            {"cohort": rules.connectivity.output.cohort}
            if HARMONIZE["method"] != "none"
            else {}
        ),
        connectomes=rules.connectivity.output.connectomes,
        folds=rules.folds.output.folds,
        # harmonisation reads each subject's site and covariates
    output:
        connectomes=f"{DATA_DIR}/fold_connectomes/fold{{fold}}.npz",
    log:
        f"{LOGS}/fold_connectomes/fold{{fold}}.log",
    benchmark:
        f"{BENCHMARKS}/fold_connectomes/fold{{fold}}.tsv"
    conda:
        "../../envs/data.yaml"
    params:
        **({"harmonize": HARMONIZE} if HARMONIZE["method"] != "none" else {}),
        fold=lambda wc: int(wc.fold),
        # present only when harmonising, so tangent folds keep their params
    script:
        "../scripts/fold_connectomes.py"


# what each fold tests, site by site, and the sites only trained on (cv.leave_site_out.small_sites: train_only)
rule fold_sites:
    input:
        cohort=rules.connectivity.output.cohort,
        folds=rules.folds.output.folds,
    output:
        sites=f"{DATA_DIR}/fold_sites.tsv",
    log:
        f"{LOGS}/fold_sites.log",
    conda:
        "../../envs/data.yaml"
    params:
        cv=CV,
    script:
        "../scripts/fold_sites.py"
