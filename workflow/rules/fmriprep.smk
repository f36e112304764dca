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
        conda:
            "../../envs/fmriprep.yaml"
        threads: FMRIPREP["threads"]
        resources:
            mem_mb=FMRIPREP["mem_mb"],
            runtime=FMRIPREP["runtime"],
        params:
            # --nprocs and --mem-mb follow what the job was given (threads and mem_mb, also under SLURM)
            command=lambda wc, threads, resources: fmriprep_shell_command(
                wc.participant, threads, resources.mem_mb
            ),
        shell:
            "({params.command}) > {log:q} 2>&1"
