"""Lock files for the conda environments of envs/: every package, indirect ones included, at an exact version.

    python envs/lock.py            # rewrites envs/<name>.lock.txt for every envs/<name>.yaml

For each environment it builds a fresh virtual environment (this Python, no site-packages), installs the
yaml's pip list and writes ``pip freeze`` to ``envs/<name>.lock.txt``. ``tests/test_envs.py`` installs each
lock with ``--no-deps`` into a fresh environment, checks it is complete (``pip check``) and runs the
workflow steps that use it there. Snakemake's own ``.pin.txt`` files need conda, which this project's
machines cannot reach; these locks are the pip equivalent for the yaml's pip section.
"""

import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ENVS = Path(__file__).resolve().parent


def pip_requirements(env_file: Path) -> list[str]:
    spec = yaml.safe_load(env_file.read_text())
    return [r for entry in spec["dependencies"] if isinstance(entry, dict) for r in entry.get("pip", [])]


def lock(env_file: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        venv = Path(tmp) / "env"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        subprocess.run([*pip, "install", "--quiet", *pip_requirements(env_file)], check=True)
        frozen = subprocess.run([*pip, "freeze", "--all"], check=True, capture_output=True, text=True).stdout
    # local version tags (torch's "+cpu") name a build, not a version: the lock pins the version, and the
    # machine's index picks its build (CPU here, CUDA on a GPU node, whose runtime packages then come with it)
    lines = [
        re.sub(r"\+[A-Za-z0-9.]+$", "", line)
        for line in frozen.splitlines()
        if line and not line.startswith("pip==")  # setuptools stays: torch requires a recent one
    ]
    out = env_file.with_suffix(".lock.txt")
    header = f"# pip lock of {env_file.name} (python envs/lock.py); Python {sys.version_info.major}.{sys.version_info.minor}\n"
    out.write_text(header + "\n".join(sorted(lines, key=str.lower)) + "\n")
    return out


if __name__ == "__main__":
    for env_file in sorted(ENVS.glob("*.yaml")):
        print(lock(env_file))
