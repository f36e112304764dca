from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/fmriprep.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/training.smk"
include: "workflow/rules/evaluation.smk"
include: "workflow/rules/text_robustness.smk"


# Light steps stay on the submitting node under a cluster profile: fetching needs the network that compute
# nodes often lack; tables, figures and summaries take seconds.
localrules:
    all,
    fetch,
    tables,
    figures,
    attention_recovery_summary,
    learning_curves,
    glance,


rule all:
    default_target: True
    input:
        all_targets() + report_missing_targets(),


# in report mode only: the note of what the report lacks, written when the workflow is parsed
if REPORT_MODE:

    rule report_missing:
        output:
            report(
                f"{BASE}/report_missing.md",
                caption="workflow/report/report_missing.rst",
                category=DATASET,
                subcategory=report_section("At a glance"),
            ),
        localrule: True
        shell:
            "true"


onsuccess:
    # results at a glance on the console (the same table as results/<dataset>/summary.md)
    print_glance(f"{BASE}/summary.md")
