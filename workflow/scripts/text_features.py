from _logging import log_to_file

log_to_file(snakemake)

import json
import logging

from neurolip.data_stage import read_texts
from neurolip.text import PhenotypeText
from neurolip.training.text_features import compute_text_features

texts = read_texts(snakemake.input.texts)
with open(snakemake.input.prompts) as handle:
    prompts = [PhenotypeText.from_record(r) for r in json.load(handle)]
n = compute_text_features(
    texts,
    prompts,
    snakemake.output.features,
    snakemake.params.encoder["name"],
    max_length=snakemake.params.encoder["max_length"],
)
logging.info("encoded %d distinct texts for %d subjects", n, len(texts))
