"""The training device, checked before any training job starts."""

from .errors import NeuroLIPInputError


def check_device(name: str) -> None:
    """Raise a clear error when ``training.device`` names a CUDA device this machine does not have.

    ``auto`` and ``cpu`` always work (``auto`` takes CUDA only when present), so they import nothing: the
    check runs each time the workflow is parsed.
    """
    if name in ("auto", "cpu"):
        return
    import torch

    index = int(name.split(":", 1)[1]) if ":" in name else 0
    available = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if index >= available:
        raise NeuroLIPInputError(
            f"training.device: {name} asks for CUDA device {index}, but this machine has "
            f"{available} CUDA device(s) (torch {torch.__version__}, built for CUDA {torch.version.cuda}): "
            "set training.device: auto (CUDA when present, else CPU) or cpu, or run where the GPU is"
        )
