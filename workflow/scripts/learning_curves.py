"""One method's learning curves: every model's epochs.csv, the epoch each fold kept marked
(neurolip.evaluation.learning_curves)."""

from _logging import log_to_file

log_to_file(snakemake)

from neurolip.evaluation.learning_curves import learning_curve_figure, read_epoch_logs

epochs = read_epoch_logs({int(fold): path for fold, path in snakemake.params.work_dirs.items()})
learning_curve_figure(epochs, snakemake.output.figure, snakemake.params.label)
