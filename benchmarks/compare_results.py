"""Compare two result folders file by file: are predictions, metrics and tables byte-identical?

    .venv/bin/python benchmarks/compare_results.py OLD_RESULTS NEW_RESULTS [--dataset simulated]

Prints one line per compared file (identical / differs / missing) and a summary; exits 1 when any file
differs or is missing. Used to check that a refactoring changed no number (``make demo`` before and after).
"""

import argparse
import filecmp
import sys
from pathlib import Path

COMPARED = ("predictions/**/*.csv", "metrics/summary.csv", "tables/*")


def compare(old: Path, new: Path, patterns=COMPARED):
    """{relative path: "identical" | "differs" | "missing in old" | "missing in new"}."""
    files = set()
    for root in (old, new):
        for pattern in patterns:
            files |= {p.relative_to(root) for p in root.glob(pattern) if p.is_file()}
    status = {}
    for relative in sorted(files):
        a, b = old / relative, new / relative
        if not a.exists():
            status[str(relative)] = "missing in old"
        elif not b.exists():
            status[str(relative)] = "missing in new"
        else:
            status[str(relative)] = "identical" if filecmp.cmp(a, b, shallow=False) else "differs"
    return status


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--dataset", default="simulated")
    args = parser.parse_args(argv)
    status = compare(args.old / args.dataset, args.new / args.dataset)
    for path, state in status.items():
        print(f"{state:15s} {path}")
    bad = [p for p, s in status.items() if s != "identical"]
    print(f"{len(status) - len(bad)} of {len(status)} files identical")
    return 1 if bad or not status else 0


if __name__ == "__main__":
    sys.exit(main())
