# Raw BIDS -> fMRIPrep derivatives, one job per participant, feeding the data stage's fmriprep source.
# The command is built by neurolip.fmriprep and quoted there: no config value reaches the shell unquoted.


if FMRIPREP.get("enabled", False):

    rule fmriprep:
        input:
            bids=FMRIPREP["bids_dir"],
        output:
            report=f"{FMRIPREP['output_dir']}/sub-{{participant}}.html",
        log:
            f"{RESULTS}/{DATASET}/logs/fmriprep/sub-{{participant}}.log",
        threads: FMRIPREP.get("threads", 8)
        resources:
            mem_mb=FMRIPREP.get("mem_mb", 16000),
            runtime=FMRIPREP.get("runtime", 1440),
        params:
            command=lambda wc: fmriprep_shell_command(wc.participant),
        shell:
            "({params.command}) > {log} 2>&1"
