"""Every method's map agreement in one table, each figure beside the agreement of its null models' maps
(same estimator, same subjects; ``null_source`` says which, or why a method has none), the linear
methods' refits raw and standardised against the null per region, and uniform random maps; and its
figure."""

from _logging import log_to_file

log_to_file(snakemake)

import pandas as pd

from neurolip.evaluation.brainmaps import random_agreement
from neurolip.evaluation.figures import map_stability_figure
from neurolip.evaluation.map_null import NULL_COLUMNS
from neurolip.methods import job_registry

tables = [pd.read_csv(path) for path in snakemake.input.agreement]
table = pd.concat([t for t in tables if not t.empty], ignore_index=True)
# same-fold, other-seed pairs share their training and test subjects: their agreement is not a replication
table["shares_subjects"] = table["pair"] == "same fold, other seed"
# disease_maps gave every figure its null columns (map_null.NULL_COLUMNS), or a null_source saying why none
table = table.reindex(columns=[*table.columns.drop(NULL_COLUMNS, errors="ignore"), *NULL_COLUMNS])
chance = random_agreement(snakemake.params.n_rois, k=snakemake.params.top_k)
# the null agreement: same estimator, same folds, null model k of each fold against null model k of the
# others (map_null.stability_against_null; linear refits on training subjects, trained null models of
# network methods on test subjects); raw maps and maps z-scored against their fold's null
nulls = [pd.read_csv(path) for path in snakemake.input.null_stability]
for row in pd.concat([n for n in nulls if not n.empty] or [pd.DataFrame()], ignore_index=True).itertuples():
    table.loc[len(table)] = {
        "method": row.method,
        "estimator": f"{row.estimator}, {row.maps} ({row.null_source})",
        "split": "train" if "training subjects" in row.null_source else "test",
        "pair": "other fold",
        "spearman": row.observed,
        "n_pairs": row.n_folds * (row.n_folds - 1) // 2,
        "shares_subjects": False,
        "null_agreement": row.null_mean,
        "null_agreement_p95": row.null_p95,
        "p_vs_null": row.p_value,
        "p_resolution": row.p_resolution,
        "n_null": row.n_null,
        "null_source": f"{row.n_null} {row.null_source}",
    }
for split in ("val", "test"):
    table.loc[len(table)] = {
        "method": "random",
        "estimator": "uniform random values",
        "split": split,
        "pair": "any",
        "shares_subjects": False,
        **chance,
        "null_source": "these are the uniform-random chance rows",
    }
table.to_csv(snakemake.output.table, index=False)
# read-out-only methods' attention maps are their source's: their rows say so
map_stability_figure(
    table, snakemake.output.figure, job_registry(snakemake), models_from=snakemake.params.models_from
)
