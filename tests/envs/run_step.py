"""Run one workflow script as Snakemake's ``script:`` directive would, but with this interpreter only.

    <env>/bin/python tests/envs/run_step.py STEP.json

``STEP.json`` holds the script path and the job's input, output, params, log, threads and wildcards.
Unlike Snakemake's own preamble (which appends the Snakemake installation's site-packages to ``sys.path``,
so a package missing from a conda environment can go unnoticed), nothing outside this environment and the
workflow's ``src/`` is importable here: a missing package fails the step.
"""

import json
import runpy
import sys
from pathlib import Path
from types import SimpleNamespace


class Namedlist(list):
    """The part of snakemake.io.Namedlist the scripts use: positions, names, .get and .keys."""

    def __init__(self, items=None):
        items = items or []
        self._names = dict(items) if isinstance(items, dict) else {}
        super().__init__(items.values() if isinstance(items, dict) else items)

    def __getattr__(self, name):
        try:
            return self.__dict__["_names"][name]
        except KeyError as exc:
            raise AttributeError(name) from exc

    def __getitem__(self, key):
        return self._names[key] if isinstance(key, str) else list.__getitem__(self, key)

    def get(self, name, default=None):
        return self._names.get(name, default)

    def keys(self):
        return self._names.keys()


spec = json.loads(Path(sys.argv[1]).read_text())
script = Path(spec["script"]).resolve()
snakemake = SimpleNamespace(
    input=Namedlist(spec.get("input")),
    output=Namedlist(spec.get("output")),
    params=Namedlist(spec.get("params")),
    log=Namedlist(spec.get("log")),
    wildcards=Namedlist(spec.get("wildcards")),
    threads=spec.get("threads", 1),
    resources=Namedlist({}),
    config=spec.get("config", {}),
    rule=spec.get("rule", script.stem),
)
for path in list(snakemake.output) + list(snakemake.log):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
sys.path.insert(0, str(script.parent))  # as Snakemake does for local scripts: _logging.py is importable
sys.argv = [str(script)]
runpy.run_path(str(script), init_globals={"snakemake": snakemake}, run_name="__main__")
