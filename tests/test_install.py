"""`make install` says which PyTorch build it pulls: TORCH=pypi (default), cpu or a CUDA tag (issue 34)."""

import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def planned_torch_install(*variables):
    """The torch line `make install` would run (a dry run into a throwaway venv path: nothing is installed)."""
    plan = subprocess.run(
        ["make", "-n", "-B", "install", "VENV=/nonexistent/venv", *variables],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return [line for line in plan if "install" in line and "torch==" in line]


@pytest.mark.parametrize(
    ("variables", "index"),
    [
        ((), None),
        (("TORCH=pypi",), None),
        (("TORCH=cpu",), "https://download.pytorch.org/whl/cpu"),
        (("TORCH=cu126",), "https://download.pytorch.org/whl/cu126"),
    ],
)
def test_torch_comes_from_the_index_torch_names(variables, index):
    (line,) = planned_torch_install(*variables)
    assert "torch==2.13.0" in line
    if index is None:
        assert "--index-url" not in line
    else:
        assert f"--index-url {index} " in line


def test_the_install_prints_which_build_it_got():
    plan = subprocess.run(
        ["make", "-n", "-B", "install", "VENV=/nonexistent/venv"], cwd=REPO, capture_output=True, text=True
    ).stdout
    assert "torch.version.cuda" in plan and "torch.cuda.is_available()" in plan
