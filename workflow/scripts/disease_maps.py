"""One method's disease maps, their agreement between seeds and folds, and each region against the
permutation null: the policy is neurolip.evaluation.disease_maps; this script reads the rule's files."""

from _logging import log_to_file

log_to_file(snakemake)

import pandas as pd

from neurolip.data_stage import FoldConnectomes
from neurolip.evaluation.disease_maps import DiseaseMaps, MapSettings, read_scores
from neurolip.evaluation.figures.brain import region_significance_figure, unnamed_regions
from neurolip.methods import job_registry
from neurolip.phenotypes import read_phenotypes

params = snakemake.params
settings = MapSettings(
    method=params.method,
    folds=params.folds,
    top_k=params.top_k,
    null_fold=params.null_fold,
    seed=params.seed,
    alpha=params.alpha,
    null_methods=params.null_methods,
    linear_permutations=params.linear_permutations,
    tail_approximation=params.tail_approximation,
)
connectomes = FoldConnectomes.of_folds(params.folds, snakemake.input.connectomes)
maps_of = DiseaseMaps(settings, read_scores(snakemake.input.seed_scores), connectomes)
maps = maps_of.observed_maps(list(snakemake.input.attention))
agreement = maps_of.agreement(maps)

fitted = {}
if params.linear_null and len(snakemake.input.selections) > 0:
    folds = pd.read_csv(snakemake.input.folds, sep="\t", dtype={"subject_id": str})
    cohort = read_phenotypes(snakemake.input.cohort).set_index("subject_id")
    fitted = maps_of.linear_null_maps(folds, cohort, list(snakemake.input.selections))
trained_null = maps_of.trained_null_maps(
    list(snakemake.input.null_scores), list(snakemake.input.null_attention)
)
agreement = maps_of.with_null_columns(agreement, fitted, trained_null)
agreement.to_csv(snakemake.output.agreement, index=False)

regions, null_stability, figure = maps_of.regions(
    maps,
    agreement,
    fitted,
    trained_null,
    pd.read_csv(snakemake.input.coordinates),
    job_registry(snakemake).label(params.method),
)
if figure is not None:
    # regions are marked only where they beat the max-statistic null (p_FWER <= alpha)
    region_significance_figure(
        figure["table"],
        figure["coordinates"],
        figure["title"],
        snakemake.output.figure,
        stability=figure["stability"],
        k=params.top_k * 2,
        # a simulated cohort's regions have no anatomy: numbered, not named (the table keeps its columns)
        names=unnamed_regions(figure["names"]) if params.simulated else figure["names"],
    )
regions.to_csv(snakemake.output.regions, index=False)
null_stability.to_csv(snakemake.output.null_stability, index=False)
