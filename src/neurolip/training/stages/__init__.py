"""A method's read-out stages, one module each, as estimators (parameters in ``__init__``, ``fit`` on
validation or training data, fitted attributes ending in ``_``; ``from_stage`` builds one from the
registry's :class:`~neurolip.methods.Stage`), run in order by :class:`Pipeline`:

- ``erase``: LEACE-erase an attribute from what the read-outs read (:mod:`.erase`);
- ``choose_readout``: which read-out candidate to report (:mod:`.choose_readout`);
- ``calibrate``: Platt scaling of the chosen read-out (:mod:`.calibrate`);
- ``group_thresholds``: group-aware decision thresholds (:mod:`.group_thresholds`);
- the held-out probe of the prediction's representation (:mod:`.probe`), which every method without group
  thresholds runs.
"""

from .pipeline import FoldResult, Pipeline

__all__ = ["FoldResult", "Pipeline"]
