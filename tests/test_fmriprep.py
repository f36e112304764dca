"""The fMRIPrep rule: its generated command (dry run), quoting of hostile values, and the clear error when
the container runtime is missing (Docker and Apptainer cannot run on the test machines)."""

import shlex
from pathlib import Path

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


FAKE_DOCKER = r"""#!/usr/bin/env python3
# stand-in for the docker CLI: answers fmriprep-docker's checks, records every call, fakes fMRIPrep's report
import json, os, pathlib, sys
args = sys.argv[1:]
with open(os.environ["FAKE_DOCKER_LOG"], "a") as log:
    log.write(json.dumps(args) + "\n")
if args[:1] == ["version"]:
    print("28.2.2")
elif args[:1] == ["info"]:
    print("Server Version: 28.2.2")
elif args[:2] == ["images", "-q"]:
    print("0123456789ab")
elif args[:1] == ["run"] and "--entrypoint=free" in args:
    print("              total        used        free\nMem:          32000        1000       31000")
elif args[:1] == ["run"]:
    mounts = {}
    for flag, value in zip(args, args[1:]):
        if flag == "-v":
            host, target = value.split(":")[:2]
            mounts[target] = host
    label = args[args.index("--participant-label") + 1]
    pathlib.Path(mounts["/out"], f"sub-{label}.html").write_text("<html>fake fMRIPrep report</html>")
"""


def test_the_real_wrapper_builds_the_docker_run_it_should(tmp_path):
    """fmriprep-docker (pinned in envs/fmriprep.yaml) runs for real; a stand-in `docker` records its calls."""
    import json
    import os
    import shutil
    import sys

    wrapper = shutil.which("fmriprep-docker", path=str(Path(sys.executable).parent))
    assert wrapper, "fmriprep-docker is not installed (make install installs it; envs/fmriprep.yaml pins it)"
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "docker").write_text(FAKE_DOCKER)
    (fake_bin / "docker").chmod(0o755)
    license_file = tmp_path / "license.txt"
    license_file.write_text("fake licence\n")
    config = fmriprep_config(tmp_path, license=str(license_file))
    spec = yaml.safe_load(config.read_text())
    spec["fmriprep_run"]["image"] = "nipreps/fmriprep:25.2.7"
    config.write_text(yaml.safe_dump(spec))
    calls = tmp_path / "docker_calls.jsonl"
    env = {
        "PATH": f"{fake_bin}{os.pathsep}{Path(wrapper).parent}{os.pathsep}{os.environ['PATH']}",
        "FAKE_DOCKER_LOG": str(calls),
    }
    report = tmp_path / "derivatives" / "sub-01.html"
    run_snakemake([str(report), "--cores", "2", "--configfile", "config/fmriprep.yaml", str(config)], env=env)
    assert report.read_text().startswith("<html>fake")
    runs = [
        c
        for c in map(json.loads, calls.read_text().splitlines())
        if c[:1] == ["run"] and "--entrypoint=free" not in c
    ]
    assert len(runs) == 1
    run = runs[0]
    mounts = {run[i + 1].split(":")[1]: run[i + 1] for i, a in enumerate(run) if a == "-v"}
    assert mounts["/data"] == f"{tmp_path / 'bids'}:/data:ro"
    assert mounts["/out"] == f"{tmp_path / 'derivatives'}:/out"
    assert mounts["/opt/freesurfer/license.txt"] == f"{license_file}:/opt/freesurfer/license.txt:ro"
    assert mounts["/scratch"].startswith(f"{tmp_path / 'work'}/sub-01:")
    image = run.index("nipreps/fmriprep:25.2.7")
    assert run[image + 1 : image + 4] == ["/data", "/out", "participant"]
    after = run[image + 4 :]
    assert after[after.index("--participant-label") + 1] == "01"
    assert after[after.index("--output-spaces") + 1 : after.index("--output-spaces") + 3] == [
        "MNI152NLin2009cAsym",
        "anat",
    ]
    assert after[after.index("--nprocs") + 1] == "2" and after[after.index("--mem-mb") + 1] == "8000"
