from _logging import log_to_file

log_to_file(snakemake)

from neurolip.bids_derivatives import write_bids_derivatives

write_bids_derivatives(
    snakemake.input.timeseries,
    snakemake.input.connectomes,
    snakemake.output[0],
    dataset=snakemake.params.dataset,
    connectivity=snakemake.params.connectivity,
    coordinates_path=snakemake.input.coordinates,
    cohort_path=snakemake.input.cohort,
)
