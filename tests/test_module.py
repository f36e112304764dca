"""The workflow deployed as a Snakemake module of another workflow (the snakemake-workflows way): rules find
the workflow's own package, config and schema from its location, not from the caller's directory."""

import shutil
import subprocess

import pytest
import yaml
from conftest import REPO, run_snakemake


@pytest.mark.slow
def test_workflow_runs_as_a_module_of_another_workflow(tmp_path):
    deployed = tmp_path / "deployed" / "neurolip"
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    for name in tracked.splitlines():
        if (REPO / name).is_file():
            (deployed / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, deployed / name)
    caller = tmp_path / "study"
    caller.mkdir()
    dataset = yaml.safe_load((REPO / "config" / "simulated.yaml").read_text())["dataset"]
    dataset["simulated"].update(n_subjects=60, n_rois=16, n_disease_regions=3, n_sensitive_regions=3)
    dataset["n_rois"] = 16
    study = {"results_dir": "out", "dataset": dataset, "cv": {"n_folds": 3, "val_fraction": 0.2, "seed": 0}}
    (caller / "study.yaml").write_text(yaml.safe_dump(study))
    (caller / "Snakefile").write_text(
        f'configfile: "{deployed}/config/config.yaml"\n'
        'configfile: "study.yaml"\n\n\n'
        "module neurolip:\n"
        f'    snakefile:\n        "{deployed}/Snakefile"\n'
        "    config:\n        config\n\n\n"
        "use rule * from neurolip as neurolip_*\n"
    )
    target = "out/simulated/data/folds.tsv"
    run_snakemake(["--cores", "2", target], cwd=caller)
    assert (caller / target).stat().st_size > 100
    log = (caller / "out" / "simulated" / "logs" / "phenotypes.log").read_text()
    assert f"neurolip package: {deployed / 'src' / 'neurolip'}" in log
