"""Lock the conda environments of envs/: every package, indirect ones included, at an exact version.

    python envs/lock.py            # rewrites the pip section of envs/<name>.yaml from envs/<name>.in

``envs/<name>.in`` lists an environment's direct requirements (edited by hand, pinned to the versions the
tests run with). For each one this builds a fresh virtual environment (this Python, no site-packages),
installs the list under ``constraints.txt`` (so every environment and ``make install`` agree on each
shared package) and writes ``pip freeze`` into the pip section of ``envs/<name>.yaml``: the yaml *is* the
lock, and Snakemake (``--sdm conda``) installs exactly that set.

Why the full list sits in the yaml rather than a ``-r <name>.lock.txt`` line: Snakemake copies the yaml to
``.snakemake/conda/<hash>.yaml`` and runs ``conda env create --file`` on the copy; conda runs pip from the
directory of that copy, so a relative requirements file is not found there, and Snakemake's environment hash
covers the yaml's text only, so an edited lock file would never rebuild the environment. Snakemake's own
``.pin.txt`` files need conda, which this project's test machines cannot reach.

``tests/test_envs.py`` checks that the ``.in`` pins, the yaml, ``constraints.txt`` and the installed test
environment agree, and (marked slow) builds each yaml's pip list into a fresh environment and runs the
workflow steps that use it there.
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ENVS = Path(__file__).resolve().parent
CONSTRAINTS = ENVS.parent / "constraints.txt"
LOCK_NOTE = "# locked by `python envs/lock.py` from envs/{name}.in under constraints.txt: do not edit by hand"


def requirement_lines(path: Path) -> list[str]:
    """Non-comment lines of a requirements file (``.in``, ``constraints.txt``)."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def locked_requirements(env_file: Path) -> list[str]:
    """The pip section of an environment file: its locked set."""
    spec = yaml.safe_load(env_file.read_text())
    return [r for entry in spec["dependencies"] if isinstance(entry, dict) for r in entry.get("pip", [])]


def resolve(in_file: Path) -> list[str]:
    """``pip freeze`` of a fresh virtual environment holding ``in_file``'s requirements and their own."""
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "env"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        # the venv's bundled setuptools (Python < 3.12) is no requirement: locked only if a package needs it
        subprocess.run([*pip, "uninstall", "--quiet", "--yes", "setuptools"], check=False)
        subprocess.run([*pip, "install", "--quiet", "-c", str(CONSTRAINTS), "-r", str(in_file)], check=True)
        frozen = subprocess.run([*pip, "freeze", "--all"], check=True, capture_output=True, text=True).stdout
    # local version tags (torch's "+cpu") name a build, not a version: the lock pins the version, and the
    # machine's index picks its build (CPU here, CUDA on a GPU node, whose runtime packages then come with it)
    lines = [
        re.sub(r"\+[A-Za-z0-9.]+$", "", line)
        for line in frozen.splitlines()
        if line and not line.startswith("pip==")
    ]
    return sorted(lines, key=str.lower)


def write_env(env_file: Path, locked: list[str]) -> Path:
    """Rewrite ``env_file``'s pip section with ``locked``, keeping its comment header, channels and conda
    packages."""
    text = env_file.read_text()
    lines = text.splitlines()
    header = lines[: next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))]
    spec = yaml.safe_load(text)
    conda = [entry for entry in spec["dependencies"] if not isinstance(entry, dict)]
    out = [*header, "channels:", *(f"  - {c}" for c in spec["channels"]), "dependencies:"]
    out += [f"  - {c}" for c in conda]
    out += ["  - pip:", "      " + LOCK_NOTE.format(name=env_file.stem), *(f"      - {r}" for r in locked)]
    env_file.write_text("\n".join(out) + "\n")
    return env_file


if __name__ == "__main__":
    for in_file in sorted(ENVS.glob("*.in")):
        print(write_env(in_file.with_suffix(".yaml"), resolve(in_file)))
