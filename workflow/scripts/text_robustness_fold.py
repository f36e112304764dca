"""One method's kept models of one fold read out with every text variant (neurolip.training.text_robustness)."""

from _logging import log_to_file

log_to_file(snakemake)

import json
from pathlib import Path

import numpy as np

from neurolip.methods import job_method
from neurolip.training.text_robustness import rescore_fold
from neurolip.training.trainer import FoldInputs

method = job_method(snakemake)
selection = json.loads(Path(snakemake.input.selection).read_text())
variants = {"unchanged": Path(snakemake.input.unchanged)}
variants.update(zip(snakemake.params.variants, map(Path, snakemake.input.variants), strict=True))
frame, maps = rescore_fold(
    method=method,
    fold=snakemake.params.fold,
    training={**snakemake.params.training, "threads": snakemake.threads},
    model=snakemake.params.model,
    text_encoder=snakemake.params.text_encoder,
    inputs=FoldInputs(
        connectomes=Path(snakemake.input.connectomes),
        text_features=Path(snakemake.input.trained_features),
        folds=Path(snakemake.input.folds),
        cohort=Path(snakemake.input.cohort),
        models_from=Path(snakemake.params.models_dir),
    ),
    unchanged=Path(snakemake.input.unchanged),
    variants=variants,
    sensitive=snakemake.params.sensitive,
    readout_choice=selection["readout"],
)
frame.assign(method=method.name).to_csv(snakemake.output.predictions, index=False)
np.savez_compressed(snakemake.output.maps, **maps)
