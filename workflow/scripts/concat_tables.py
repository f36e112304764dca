from _logging import log_to_file

log_to_file(snakemake)

import pandas as pd

pd.concat([pd.read_csv(p) for p in snakemake.input], ignore_index=True).to_csv(
    snakemake.output[0], index=False
)
