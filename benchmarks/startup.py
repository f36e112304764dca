"""Start-up cost of each workflow script: the seconds its module-level imports take in a fresh Python
process (median of --runs), what Snakemake's own preamble adds, and which heavy libraries each script loads.

    .venv/bin/python benchmarks/startup.py --runs 5
    .venv/bin/python benchmarks/startup.py --baseline /tmp/before   # git archive HEAD~1 workflow src | tar -x -C /tmp/before

Every job of the workflow is a fresh `python` process (Snakemake's `script:`): the interpreter starts,
Snakemake's preamble unpickles the job's `snakemake` object (importing snakemake.io and snakemake.logging),
then the script's imports run. A script's top-level `import`/`from` statements are executed here as the
script would execute them (workflow/scripts/ on sys.path, so `_logging` puts the checkout's src/ first);
the work the script does after its imports is not counted. "process" is the wall time of the whole
`python -c` run, interpreter start-up included.
"""

import argparse
import ast
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HEAVY = ("torch", "sklearn", "scipy.stats", "nilearn", "matplotlib", "transformers", "pandas", "nibabel")
PREAMBLE = (
    "import pickle\nfrom snakemake.logging import logger\nfrom snakemake.iocontainers import Snakemake\n"
)


def module_level_imports(script):
    """The script's top-level import statements, as source, in order."""
    tree = ast.parse(script.read_text(), filename=str(script))
    nodes = [node for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    return "\n".join(ast.unparse(node) for node in nodes)


def probe(imports, scripts_dir):
    """Python code that times ``imports`` and prints the seconds and the heavy modules loaded, as JSON."""
    return (
        f"import sys, time, json\nsys.path.insert(0, {str(scripts_dir)!r})\nstarted = time.perf_counter()\n"
        f"exec({imports!r})\nseconds = time.perf_counter() - started\n"
        f"print(json.dumps([seconds, [m for m in {HEAVY!r} if m in sys.modules], len(sys.modules)]))\n"
    )


def measure(code, runs):
    """Median import seconds and process seconds over ``runs`` fresh interpreters, heavy modules, #modules."""
    imports, processes = [], []
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/")
        processes.append(time.perf_counter() - started)
        if out.returncode != 0:
            sys.exit(f"probe failed:\n{out.stderr[-2000:]}")
        seconds, heavy, n_modules = json.loads(out.stdout.strip().splitlines()[-1])
        imports.append(seconds)
    return statistics.median(imports), statistics.median(processes), heavy, n_modules


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1], help="checkout")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another checkout (e.g. before a change), measured script by script in turn",
    )
    parser.add_argument("--runs", type=int, default=3, help="fresh interpreters per script (median)")
    parser.add_argument("--scripts", nargs="*", help="script names without .py (default: all)")
    args = parser.parse_args()
    roots = [args.baseline, args.root] if args.baseline else [args.root]
    names = sorted(
        p.stem for p in (args.root / "workflow" / "scripts").glob("*.py") if not p.stem.startswith("_")
    )
    if args.scripts:
        names = [name for name in names if name in args.scripts]
    print(f"root {args.root}" + (f", baseline {args.baseline}" if args.baseline else ""))
    print(f"{args.runs} runs each (median), Python {sys.version.split()[0]}, {os.cpu_count()} cores")
    if args.baseline:
        print(f"{'script':<20} {'before s':>8} {'after s':>8} {'saved s':>8}  heavy modules no longer loaded")
    else:
        print(f"{'script':<20} {'imports s':>9} {'process s':>9} {'modules':>7}  heavy modules loaded")
    rows = [("(bare python)", {}), ("(snakemake preamble)", {})]
    rows += [(name, {root: root / "workflow" / "scripts" / f"{name}.py" for root in roots}) for name in names]
    for name, scripts in rows:
        results = []
        for root in roots:
            scripts_dir = root / "workflow" / "scripts"
            imports = PREAMBLE if name == "(snakemake preamble)" else ""
            if name in names:
                if not scripts[root].is_file():
                    sys.exit(f"{scripts[root]} is missing")
                imports = module_level_imports(scripts[root])
            results.append(measure(probe(imports, scripts_dir), args.runs))
        if args.baseline:
            (before, _, heavy_before, _), (after, _, heavy_after, _) = results
            dropped = [m for m in heavy_before if m not in heavy_after]
            print(f"{name:<20} {before:8.2f} {after:8.2f} {before - after:8.2f}  {' '.join(dropped) or '-'}")
        else:
            import_s, process_s, heavy, n_modules = results[0]
            print(f"{name:<20} {import_s:9.2f} {process_s:9.2f} {n_modules:7d}  {' '.join(heavy) or '-'}")


if __name__ == "__main__":
    main()
