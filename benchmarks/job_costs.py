"""Where a finished run's time and memory went: the `benchmark:` files of every job, summed per rule.

    PYTHONPATH=src .venv/bin/python benchmarks/job_costs.py results/simulated
    PYTHONPATH=src .venv/bin/python benchmarks/job_costs.py /tmp/abide22/abide --top 5

Prints, per rule (the first folder under ``benchmarks/``): jobs, wall seconds, CPU seconds (Snakemake's
``cpu_time``: user + system of the job's processes), the largest peak RSS of one job and which job it was;
then the ``--top`` jobs by CPU time and by peak memory. Jobs without a ``benchmark:`` directive are not seen.
"""

import argparse
from pathlib import Path

import pandas as pd


def job_costs(results: Path) -> pd.DataFrame:
    """One row per benchmark file: rule, job (its path under the rule), s, cpu_time, max_rss (MB)."""
    root = results / "benchmarks"
    if not root.is_dir():
        raise SystemExit(f"{root}: no benchmarks folder (is {results} a finished run's results/<dataset>?)")
    rows = []
    for path in sorted(root.rglob("*.tsv")):
        relative = path.relative_to(root)
        table = pd.read_csv(path, sep="\t")
        rows.append(
            {
                "rule": relative.parts[0].removesuffix(".tsv"),
                "job": str(relative.with_suffix("")),
                "s": float(table["s"].sum()),
                "cpu_time": float(table["cpu_time"].sum()),
                "max_rss": float(pd.to_numeric(table["max_rss"], errors="coerce").max()),
            }
        )
    if not rows:
        raise SystemExit(f"{root}: no benchmark files")
    return pd.DataFrame(rows)


def per_rule(jobs: pd.DataFrame) -> pd.DataFrame:
    largest = jobs.loc[jobs.groupby("rule")["max_rss"].idxmax(), ["rule", "job"]].set_index("rule")["job"]
    table = jobs.groupby("rule").agg(
        jobs=("job", "size"), wall_s=("s", "sum"), cpu_s=("cpu_time", "sum"), peak_rss_mb=("max_rss", "max")
    )
    table["largest_job"] = largest
    return table.sort_values("cpu_s", ascending=False)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("results", type=Path, help="a run's results/<dataset> folder")
    parser.add_argument("--top", type=int, default=5)
    args = parser.parse_args()
    jobs = job_costs(args.results)
    table = per_rule(jobs)
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(table.round(1).to_string())
        print(
            f"\nall {len(jobs)} jobs: {jobs['s'].sum():.0f} s of job wall time, {jobs['cpu_time'].sum():.0f} s CPU"
        )
        print(f"\ntop {args.top} jobs by CPU time:")
        print(jobs.nlargest(args.top, "cpu_time").round(1).to_string(index=False))
        print(f"\ntop {args.top} jobs by peak memory (MB):")
        print(jobs.nlargest(args.top, "max_rss").round(1).to_string(index=False))


if __name__ == "__main__":
    main()
