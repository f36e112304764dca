"""Does a change to the trainer move any number? Every kind of method on fold 0 of a tiny simulated cohort
(60 subjects, 16 ROIs, 3 epochs), run once with each checkout's sources, then compared file by file.

    PYTHONPATH=OLD_CHECKOUT/src .venv/bin/python benchmarks/trainer_equivalence.py run /tmp/eq/old
    PYTHONPATH=NEW_CHECKOUT/src .venv/bin/python benchmarks/trainer_equivalence.py run /tmp/eq/new
    .venv/bin/python benchmarks/trainer_equivalence.py compare /tmp/eq/old /tmp/eq/new

Kinds: linear, linear cross-fitted, contrastive, supervised with two seeds, NeuroLIP (TTCA), a read-out-only
method (models_from + erasure), a cross-fitted network with erasure, and group thresholds (equalized odds) of
five of them (fairlearn's randomised mode, ``_fairthr_eo_rand`` since issue 22, whose default is
deterministic). A CSV whose new version only adds columns counts as identical (the added columns printed). Predictions, validation predictions, per-seed scores, leakage rows and attention must be
byte-identical; selection.json files that differ are printed (their layout may change). The cohort is built
once (``--cohort``, default /tmp/neurolip_equivalence_cohort) and shared by both runs. A checkout from before
the recipes-and-stages trainer (issue 21) re-decides group thresholds with ``postprocess_fold``, the rule
it then had; after it, they are read-out-only methods of the registry.
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # tests/cohort.py

TRAINING = {"max_epochs": 3, "min_epochs": 2, "patience": 2, "batch_size": 16, "lr": 0.002, "seed": 0}
MODEL = {"d_model": 16, "n_heads": 2, "n_layers": 1, "n_clusters": 4, "embed_dim": 16, "dropout": 0.1}
SENSITIVE = ("sex", "site")
NEUROLIP = {
    "global_loss": "clip",
    "calt": True,
    "calt_weight": 4.0,
    "negative_gradient": True,
    "attn_beta": 0.001,
}
# (name, entry, extra training settings)
RUNS = [
    ("linear_fc", {"objective": "linear"}, {}),
    ("linear_fc_crossfit", {"objective": "linear", "cross_fit": 3}, {}),
    ("clip", {"global_loss": "clip"}, {}),
    ("brainnettf", {"objective": "supervised"}, {"n_seeds": 2}),
    ("neurolip", NEUROLIP, {}),
    ("neurolip_textmask", {**NEUROLIP, "global_text": "without_sensitive"}, {}),
    (
        "neurolip_erase",
        {
            **NEUROLIP,
            "global_text": "without_sensitive",
            "erase_attribute": "sex",
            "models_from": "neurolip_textmask",
        },
        {},
    ),
    (
        "neurolip_erase_crossfit",
        {**NEUROLIP, "global_text": "without_sensitive", "erase_attribute": "sex", "cross_fit": 2},
        {},
    ),
]
THRESHOLDS = ["linear_fc", "neurolip", "neurolip_erase", "neurolip_erase_crossfit", "linear_fc_crossfit"]


def paths(cohort):
    return {
        k: cohort / v
        for k, v in {
            "connectomes": "connectomes.npz",
            "text_features": "text_features.safetensors",
            "folds": "folds.tsv",
            "cohort": "cohort.tsv",
        }.items()
    }


def run(out, cohort_dir):
    from cohort import build_tiny_cohort

    import neurolip.methods as registry_module
    import neurolip.training.stages.group_thresholds as post
    from neurolip.config import section_defaults
    from neurolip.methods import Method, MethodRegistry
    from neurolip.training.trainer import FoldInputs, FoldOutputs, train_fold

    if not (cohort_dir / "text_features.safetensors").exists():
        build_tiny_cohort(cohort_dir, n_subjects=60)
    p = paths(cohort_dir)
    out = Path(out)
    thresholds = {"methods": THRESHOLDS, "constraint": ["equalized_odds"]}
    # since issue 22 the default mode is deterministic; fairlearn's randomised thresholds (the earlier
    # meaning of these entries) are "<method>_fairthr_eo_rand"
    modes = hasattr(registry_module, "THRESHOLD_MODES")
    if modes:
        thresholds["mode"] = "randomised"
    config = {
        "methods": {n: e for n, e, _ in RUNS},
        "training": {"methods": [n for n, _, _ in RUNS]},
        "evaluation": {"fair_thresholds": thresholds},
    }
    registry = MethodRegistry.from_config(config)
    extra = {n: x for n, _, x in RUNS}

    def train(name, spec, models_from, settings):
        method = Method.from_entry(name, spec)
        d = out / name
        train_fold(
            method=method,
            fold=0,
            training=section_defaults("training", {**TRAINING, **settings}),
            model=section_defaults("model", MODEL),
            text_encoder=section_defaults("text_encoder", {}),
            inputs=FoldInputs(
                p["connectomes"],
                p["text_features"],
                p["folds"],
                p["cohort"],
                out / models_from / "work" if models_from else None,
            ),
            outputs=FoldOutputs(
                work_dir=d / "work",
                predictions=d / "pred.csv",
                validation=d / "val.csv",
                seed_scores=d / "seed_scores.csv",
                leakage=d / "leakage.csv",
                attention=d / "attention.npz" if method.writes_attention else None,
            ),
            sensitive_attributes=SENSITIVE,
        )

    for name in registry.trained:
        spec = dict(registry[name].spec)
        train(name, spec, spec.get("models_from") or None, extra[name])
    for base in THRESHOLDS:
        d = out / f"{base}_fairthr"
        if hasattr(post, "postprocess_fold"):  # old code: the fair_thresholds rule
            d.mkdir(parents=True, exist_ok=True)
            post.postprocess_fold(
                out / base / "val.csv",
                out / base / "pred.csv",
                "sex",
                "equalized_odds",
                "balanced_accuracy_score",
                0,
            ).to_csv(d / "pred.csv", index=False)
        else:  # new code: a read-out-only entry of the registry
            variant = registry[f"{base}_fairthr_eo" + ("_rand" if modes else "")]
            spec = dict(variant.spec)
            train(f"{base}_fairthr", spec, spec.get("models_from") or None, extra[base])


def compare(old, new):
    import filecmp

    import numpy as np

    old, new = Path(old), Path(new)
    bad = 0
    for a in sorted(old.rglob("*")):
        # under work/: only selection.json (checkpoints, epoch logs with timings and TensorBoard differ)
        if a.is_dir() or (a.relative_to(old).parts[1:2] == ("work",) and a.name != "selection.json"):
            continue
        rel = a.relative_to(old)
        b = new / rel
        if not b.exists():
            print("MISSING in new", rel)
            bad += 1
            continue
        added = []
        if a.suffix == ".npz":
            x, y = np.load(a), np.load(b)
            same = sorted(x) == sorted(y) and all(np.array_equal(x[k], y[k]) for k in x)
        else:
            same = filecmp.cmp(a, b, shallow=False)
            if not same and a.suffix == ".csv":
                # a column the new code adds (e.g. p_decision) does not change the old ones
                import pandas as pd

                x, y = pd.read_csv(a, dtype=str), pd.read_csv(b, dtype=str)
                added = [c for c in y.columns if c not in x.columns]
                same = bool(added) and list(x.columns) == [c for c in y.columns if c in x.columns]
                same = same and x.equals(y[list(x.columns)])
        if a.name == "selection.json" and not same:
            ja, jb = json.loads(a.read_text()), json.loads(b.read_text())
            print("selection differs", rel, "\n  old:", ja, "\n  new:", jb)
            continue
        print(
            ("identical" if same else "DIFFERS  ") + (f" (new columns {added})" if same and added else ""),
            rel,
        )
        bad += not same
    print("differing files:", bad)
    return bad


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", choices=["run", "compare"])
    parser.add_argument("folders", nargs="+", type=Path, help="run: OUT; compare: OLD NEW")
    parser.add_argument("--cohort", type=Path, default=Path("/tmp/neurolip_equivalence_cohort"))
    args = parser.parse_args()
    if args.action == "run":
        run(args.folders[0], args.cohort)
    else:
        sys.exit(1 if compare(*args.folders[:2]) else 0)
