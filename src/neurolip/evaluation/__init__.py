"""Evaluation: classification and fairness metrics, paired comparisons, tables, figures and brain maps."""
