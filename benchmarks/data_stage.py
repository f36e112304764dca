"""Data stage on real ABIDE (1035 subjects): wall time and peak memory.

    NILEARN_DATA=/path/to/nilearn_data .venv/bin/python benchmarks/data_stage.py

The cache must hold ABIDE_pcp (see the shared data README); results go to a temporary folder.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from _measure import machine, run

REPO = Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--configfile", default="config/abide.yaml")
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    out = Path(tempfile.mkdtemp(prefix="neurolip-bench-"))
    snakemake = str(Path(sys.executable).parent / "snakemake")
    targets = [
        str(out / name / "data" / f)
        for name in ["abide"]
        for f in ("connectomes.npz", "texts.jsonl", "folds.tsv")
    ]
    wall, peak = run(
        [
            snakemake,
            *targets,
            "--cores",
            str(args.cores),
            "-q",
            "--configfile",
            args.configfile,
            "--config",
            f"results_dir={out}",
        ],
        cwd=REPO,
    )
    exclusions = (out / "abide" / "data" / "exclusions.tsv").read_text().count("\n") - 1
    cohort = (out / "abide" / "data" / "cohort.tsv").read_text().count("\n") - 1
    print(f"machine: {machine()}")
    print(f"data stage ({args.configfile}): {cohort} subjects with connectomes, {exclusions} excluded")
    print(f"wall time: {wall:.1f} s   peak memory (largest process): {peak:.0f} MB")
    shutil.rmtree(out)


if __name__ == "__main__":
    main()
