"""A method's read-out stages as estimators (parameters in ``__init__``, ``fit`` on validation or training
data, fitted attributes ending in ``_``), in the order they act: erase an attribute from what the read-outs
read (per model, fitted on its training subjects), choose the read-out and calibrate it (on the validation
or out-of-fold scores), group thresholds (on the validation predictions, applied to the test ones)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..evaluation.postprocessing import GroupThresholds
from ..methods import Method
from .erasure import RepresentationEraser
from .leakage import attribute_codes
from .linear import PlattCalibration
from .readout import ChooseReadout


@dataclass
class Stages:
    """A method's read-out stages as estimators, in the order they act."""

    erase: RepresentationEraser | None
    choose: ChooseReadout
    calibrate: PlattCalibration
    thresholds: GroupThresholds | None

    @classmethod
    def of(cls, method: Method, settings) -> Stages:
        """``settings``: the trainer's TrainingConfig (``readout``, ``seed``)."""
        built = {"erase": None, "thresholds": None}
        for stage in method.stages:
            if stage.kind == "erase":
                built["erase"] = RepresentationEraser(**stage.params)
            elif stage.kind == "choose_readout":
                built["choose"] = ChooseReadout(settings.readout, method.objective.readouts[0])
            elif stage.kind == "calibrate":
                built["calibrate"] = PlattCalibration()
            elif stage.kind == "group_thresholds":
                built["thresholds"] = GroupThresholds(**stage.params, seed=settings.seed)
        return cls(**built)

    def eraser_for(self, model) -> RepresentationEraser | None:
        """A fresh erase stage fitted, for one model, on its training subjects' representations and their
        attribute (never their diagnosis, never a test subject); None when the method erases nothing."""
        eraser = self.erase
        if eraser is None:
            return None
        if not model.erasable:
            raise ValueError(
                f"erase_attribute {eraser.attribute!r}: this recipe has no representation to erase"
            )
        codes = attribute_codes(model.data.cohort, model.data.subject_ids["train"], eraser.attribute)
        raw = model.representations("train")
        # the linear recipe's connectome has more edges than subjects: LEACE in the training span
        row_space = getattr(model, "erase_in_row_space", False)
        return RepresentationEraser(eraser.attribute, row_space=row_space).fit(
            {n: torch.from_numpy(v) for n, v in raw.items()}, codes
        )
