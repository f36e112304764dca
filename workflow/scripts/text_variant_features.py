"""One text variant (text_robustness): every subject's text and the class prompts in the variant's wording,
encoded by the frozen text encoder (neurolip.text_variants, neurolip.training.text_features)."""

from _logging import log_to_file

log_to_file(snakemake)

import logging

from neurolip.phenotypes import read_phenotypes
from neurolip.text_variants import render_variant
from neurolip.training.text_features import compute_text_features

cohort = read_phenotypes(snakemake.input.cohort)
texts, prompts = render_variant(
    cohort,
    snakemake.params.segments,
    snakemake.wildcards.variant,
    snakemake.params.paraphrases,
    seed=snakemake.params.seed,
    path=snakemake.input.cohort,
)
n = compute_text_features(
    texts,
    prompts,
    snakemake.output.features,
    snakemake.params.encoder["name"],
    max_length=snakemake.params.encoder["max_length"],
)
logging.info("%s: encoded %d distinct texts for %d subjects", snakemake.wildcards.variant, n, len(texts))
