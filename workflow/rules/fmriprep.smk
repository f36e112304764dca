# Raw BIDS -> fMRIPrep derivatives, one job per participant, feeding the data stage's fmriprep source.
# The command is built by neurolip.fmriprep and quoted there: no config value reaches the shell unquoted.


if FMRIPREP["enabled"]:

    rule fmriprep:
        input:
            bids=FMRIPREP["bids_dir"],
        output:
            report=f"{FMRIPREP['output_dir']}/sub-{{participant}}.html",
        log:
            f"{LOGS}/fmriprep/sub-{{participant}}.log",
        threads: FMRIPREP["threads"]
        resources:
            mem_mb=FMRIPREP["mem_mb"],
            runtime=FMRIPREP["runtime"],
        params:
            command=lambda wc: fmriprep_shell_command(wc.participant),
        shell:
            "({params.command}) > {log:q} 2>&1"
