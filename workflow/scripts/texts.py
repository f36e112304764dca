from _logging import log_to_file

log_to_file(snakemake)

from neurolip.data_stage import write_texts

write_texts(snakemake.params.text, snakemake.input.cohort, snakemake.output.texts, snakemake.output.prompts)
