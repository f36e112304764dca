"""The fMRIPrep command line, built as a list and quoted once: config values never reach a shell raw."""

import shlex

from .subjects import check_subject_id

RUNNERS = ("docker", "apptainer")


def fmriprep_command(spec, participant, output_dir, work_dir, threads=1, mem_mb=None):
    """The command that preprocesses one participant, as a list of arguments.

    ``spec`` is the config's ``fmriprep_run`` section: ``runner`` (``docker`` through the ``fmriprep-docker``
    wrapper, or ``apptainer`` with a local ``image`` file), ``bids_dir``, ``fs_license``, ``output_spaces``,
    ``extra_args`` (a list of further arguments).
    """
    label = check_subject_id(participant)
    runner = spec.get("runner", "docker")
    if runner not in RUNNERS:
        raise ValueError(f"fmriprep_run.runner must be one of {RUNNERS}, not {runner!r}")
    common = [
        "participant",
        "--participant-label",
        label,
        "--fs-license-file",
        str(spec["fs_license"]),
        "--output-spaces",
        *[str(s) for s in spec.get("output_spaces", ["MNI152NLin2009cAsym"])],
        "--nprocs",
        str(int(threads)),
        "-w",
        str(work_dir),
        "--notrack",
    ]
    if mem_mb:
        common += ["--mem-mb", str(int(mem_mb))]
    common += [str(a) for a in spec.get("extra_args", [])]
    if runner == "docker":
        image = spec.get("image", "")
        version = ["--image", str(image)] if image else []
        return ["fmriprep-docker", *version, str(spec["bids_dir"]), str(output_dir), *common]
    return [
        "apptainer",
        "run",
        "--cleanenv",
        str(spec["image"]),
        str(spec["bids_dir"]),
        str(output_dir),
        *common,
    ]


def runner_check(spec):
    """A shell snippet that stops with a clear message when the container runtime is missing."""

    def require(test, message, code=127):
        return f"if ! {test}; then echo {shlex.quote('fmriprep: ' + message)} >&2; exit {code}; fi"

    if spec.get("runner", "docker") == "docker":
        return "; ".join(
            [
                require(
                    "command -v fmriprep-docker >/dev/null",
                    "the fmriprep-docker wrapper is not installed (pip install fmriprep-docker), "
                    "or set fmriprep_run.runner: apptainer",
                ),
                require(
                    "docker info >/dev/null 2>&1",
                    "no Docker engine is reachable (docker info failed); start Docker or set fmriprep_run.runner: apptainer",
                ),
            ]
        )
    image = str(spec.get("image", ""))
    return "; ".join(
        [
            require(
                "command -v apptainer >/dev/null",
                "apptainer is not installed; install it or set fmriprep_run.runner: docker",
            ),
            require(
                f"test -f {shlex.quote(image)}",
                f"apptainer image {image!r} not found (apptainer build fmriprep.sif docker://nipreps/fmriprep:<version>)",
                2,
            ),
        ]
    )


def shell_command(spec, participant, output_dir, work_dir, threads=1, mem_mb=None):
    return (
        runner_check(spec)
        + "; "
        + shlex.join(fmriprep_command(spec, participant, output_dir, work_dir, threads, mem_mb))
    )
