"""The fMRIPrep rule: its generated command (dry run), quoting of hostile values, and the clear error when
the container runtime is missing (Docker and Apptainer cannot run on the test machines)."""

import shlex

import pytest
import yaml
from conftest import run_snakemake

from neurolip.errors import NeuroLIPInputError
from neurolip.fmriprep import fmriprep_command, shell_command

HOSTILE = "/tmp/licence; touch /tmp/neurolip-pwned"


def fmriprep_config(tmp_path, runner="docker", license=HOSTILE):
    (tmp_path / "bids").mkdir(exist_ok=True)
    config = {
        "fmriprep_run": {
            "enabled": True,
            "runner": runner,
            "image": str(tmp_path / "fmriprep.sif"),
            "bids_dir": str(tmp_path / "bids"),
            "output_dir": str(tmp_path / "derivatives"),
            "work_dir": str(tmp_path / "work"),
            "participants": ["01"],
            "fs_license": license,
            "output_spaces": ["MNI152NLin2009cAsym", "anat"],
            "threads": 2,
            "mem_mb": 8000,
        },
        "results_dir": str(tmp_path / "results"),
    }
    path = tmp_path / "fmriprep.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_dry_run_prints_the_quoted_command(tmp_path):
    config = fmriprep_config(tmp_path)
    process = run_snakemake(["-n", "-p", "--configfile", "config/fmriprep.yaml", str(config)])
    line = next(
        x for x in process.stdout.splitlines() if "fmriprep-docker " in x and "--participant-label" in x
    )
    assert f"--fs-license-file {shlex.quote(HOSTILE)}" in line
    assert "; touch" not in line.replace(shlex.quote(HOSTILE), "")  # the hostile text only appears quoted
    assert f"{tmp_path / 'bids'} {tmp_path / 'derivatives'} participant --participant-label 01" in line
    assert "--output-spaces MNI152NLin2009cAsym anat" in line


def test_command_is_a_list_and_labels_are_checked(tmp_path):
    spec = yaml.safe_load(fmriprep_config(tmp_path).read_text())["fmriprep_run"]
    command = fmriprep_command(spec, "01", "/out", "/work", threads=4, mem_mb=8000)
    assert command[0] == "fmriprep-docker" and spec["bids_dir"] in command
    assert HOSTILE in command  # one argument, never split by a shell
    assert shell_command(spec, "01", "/out", "/work", threads=4, mem_mb=8000).endswith(shlex.join(command))
    with pytest.raises(NeuroLIPInputError, match="not a safe identifier"):
        fmriprep_command(spec, "01; rm -rf /", "/out", "/work")


@pytest.mark.parametrize(
    "runner, message",
    [
        ("docker", "fmriprep: the fmriprep-docker wrapper is not installed"),
        ("apptainer", "fmriprep: apptainer is not installed"),
    ],
)
def test_missing_runtime_is_a_clear_error(tmp_path, runner, message):
    config = fmriprep_config(tmp_path, runner=runner, license=str(tmp_path / "license.txt"))
    target = str(tmp_path / "derivatives" / "sub-01.html")
    process = run_snakemake(
        [target, "--cores", "1", "--nolock", "--configfile", "config/fmriprep.yaml", str(config)],
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert process.returncode != 0
    log = (tmp_path / "results" / "bids" / "logs" / "fmriprep" / "sub-01.log").read_text()
    assert message in log
    assert not (tmp_path / "neurolip-pwned").exists()
