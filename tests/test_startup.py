"""Every workflow job is a fresh Python process (Snakemake's ``script:``), so what a script's imports load is
paid once per job, about a hundred times per run. These tests fail when an import brings back a heavy library
into a job that never calls it (benchmarks/startup.py prints the seconds)."""

import ast
import json
import subprocess
import sys

import pytest
import yaml
from cohort import REPO

SCRIPTS = REPO / "workflow" / "scripts"
NOT_NEEDED_FOR_TRAINING = ["nilearn", "nibabel", "pytest", "matplotlib", "transformers"]
# scikit-learn (with scipy.stats, ~0.6 s) only where the step uses it
NO_SKLEARN = ["sklearn", "scipy.stats", "nilearn", "torch", "matplotlib"]

NOT_LOADED = {
    "train": NOT_NEEDED_FOR_TRAINING,
    "train_null": NOT_NEEDED_FOR_TRAINING,
    "disease_maps": ["nilearn", "nibabel", "pytest", "torch"],
    "attention_recovery": ["nilearn", "nibabel", "pytest", "torch"],
    "evaluate": ["nilearn", "torch", "matplotlib"],
    "text_features": ["sklearn", "scipy.stats", "nilearn", "matplotlib", "transformers"],
    "fetch": NO_SKLEARN,
    "phenotypes": NO_SKLEARN,
    "texts": NO_SKLEARN,
    "timeseries_gather": NO_SKLEARN,
}


def loaded_by_imports(script, modules):
    """Which of ``modules`` a fresh interpreter holds after running ``script``'s top-level imports, as the
    job would (workflow/scripts/ on sys.path: ``_logging`` puts this checkout's src/ first)."""
    tree = ast.parse(script.read_text())
    imports = "\n".join(ast.unparse(n) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom))
    code = (
        f"import sys, json\nsys.path.insert(0, {str(SCRIPTS)!r})\nexec({imports!r})\n"
        f"print(json.dumps([m for m in {modules!r} if m in sys.modules]))"
    )
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
    assert process.returncode == 0, process.stderr[-3000:]
    return json.loads(process.stdout.splitlines()[-1])


@pytest.mark.parametrize("name", sorted(NOT_LOADED))
def test_a_job_does_not_import_libraries_it_never_calls(name):
    assert loaded_by_imports(SCRIPTS / f"{name}.py", NOT_LOADED[name]) == []


def test_the_probe_sees_what_a_script_imports():
    """The check above can fail: the training script's imports do load torch, scikit-learn and pandas."""
    assert loaded_by_imports(SCRIPTS / "train.py", ["torch", "sklearn", "pandas"]) == [
        "torch",
        "sklearn",
        "pandas",
    ]


def test_the_schema_reads_as_the_pure_python_loader_reads_it():
    """neurolip.config parses the schema with libyaml's loader (faster start-up): the same dictionary."""
    from neurolip.config import SCHEMA_PATH, load_schema

    assert load_schema() == yaml.safe_load(SCHEMA_PATH.read_text())


def test_startup_benchmark_prints_a_row_per_script():
    process = subprocess.run(
        [sys.executable, "benchmarks/startup.py", "--runs", "1", "--scripts", "concat_tables", "tables"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert process.returncode == 0, process.stderr[-3000:]
    rows = {line[:20].strip(): line[20:].split() for line in process.stdout.splitlines()[3:]}
    assert list(rows) == ["(bare python)", "(snakemake preamble)", "concat_tables", "tables"]
    assert all(float(row[0]) >= 0 and float(row[1]) > 0 for row in rows.values())
    assert rows["concat_tables"][3:] == ["pandas"]  # heavy modules loaded
