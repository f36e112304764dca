"""Training: the per-fold trainer, checkpoints, cached text features and the linear baselines."""
