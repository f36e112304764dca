"""Every method's disease maps against each reference map (evaluation.reference_maps): Spearman and top-k
Jaccard with p-values of a spatial null (variogram-matched surrogates) and a region-shuffling null beside it;
a table and a figure per reference."""

from _logging import log_to_file

log_to_file(snakemake)

from pathlib import Path

import pandas as pd

from neurolip.evaluation.figures import reference_agreement_figure
from neurolip.evaluation.reference_maps import centroid_distances, read_references, reference_agreement
from neurolip.methods import job_registry

coordinates = pd.read_csv(snakemake.input.coordinates)
regions = pd.concat([pd.read_csv(p) for p in snakemake.input.regions], ignore_index=True)
references = read_references(snakemake.params.references, coordinates)
table, _ = reference_agreement(
    references,
    regions,
    centroid_distances(coordinates),
    snakemake.params.surrogates,
    snakemake.params.top_k,
    seed=snakemake.params.seed,
    alpha=snakemake.params.alpha,
)
table.to_csv(snakemake.output.table, index=False)
registry = job_registry(snakemake)
for name, figure in zip(references, snakemake.output.figures, strict=True):
    assert Path(figure).stem == name
    reference_agreement_figure(table, name, figure, registry, alpha=snakemake.params.alpha)
