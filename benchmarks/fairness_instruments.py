"""Control figures of the fairness instruments on simulated cohorts at ABIDE's group sizes.

    .venv/bin/python benchmarks/fairness_instruments.py [--seeds 5] [--cohorts 200]

1. Leakage probes (``evaluation.probes``): erased representations (LEACE fitted on 100 training subjects in
   128 dimensions) with and without sex carried out of sample; held-out probe AUC and the training-split
   probe's AUC (``training/leakage.py``) per seed.
2. Floors (``evaluation.floors``): the sex-blind floor of each gap for 1035 subjects (157 females, autism in
   39.5 % of females and 50.5 % of males), pooled and for one fifth of them (a test fold); the share of
   sex-blind cohorts whose gap exceeds its floor's 95th percentile (false alarms) and of sex-shifted ones
   (power; a test fold of 207 subjects detects a +1.2 shift, less a +0.6 one).
3. Randomised thresholds (``evaluation.thresholds``): fairlearn's equalized-odds thresholds fitted on 828
   out-of-fold-like subjects and applied to 1035: expected gaps, 5-95 % over 200 draws, randomised share per
   group; beside them the deterministic group thresholds (tolerance 0.05) on the same scores.
Asserts the controls' thresholds (probe >= 0.75 / <= 0.58; false alarms <= 10 %; DPD power >= 80 % at +1.2).
"""

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_probes import representations  # noqa: E402  (the controls' own generator)

from neurolip.evaluation.floors import gap_floor, two_group_gaps  # noqa: E402
from neurolip.evaluation.thresholds import (  # noqa: E402
    randomised_threshold_report,
)
from neurolip.training.leakage import probe as training_split_probe  # noqa: E402
from neurolip.training.stages.group_thresholds import (  # noqa: E402
    DeterministicGroupThresholds,
    decision_probabilities,
    fit_group_thresholds,  # noqa: E402
)
from neurolip.training.stages.probe import held_out_probe  # noqa: E402


def abide_like(n, seed, sex_shift=0.0, n_female=None):
    rng = np.random.default_rng(seed)
    female = np.zeros(n, dtype=bool)
    female[rng.choice(n, n_female or round(n * 157 / 1035), replace=False)] = True
    y = (rng.random(n) < np.where(female, 0.395, 0.505)).astype(int)
    score = 0.75 * (2 * y - 1) + sex_shift * ~female + rng.normal(0, 1, n)
    return y, score, np.where(female, "F", "M")


def probes(seeds):
    rows = []
    for seed in range(seeds):
        for strength in (1.0, 0.0):
            erased, sex = representations(strength, seed=seed)
            new = held_out_probe(erased["val"], sex["val"], erased["test"], sex["test"], seed=seed)
            old = training_split_probe(erased, sex, seed=seed)
            rows.append(
                {
                    "seed": seed,
                    "sex_out_of_sample": bool(strength),
                    "held_out_probe_auc": new["probe_auc"],
                    "training_split_probe_auc": old["probe_auc"],
                }
            )
    table = pd.DataFrame(rows)
    print("1. leakage probes (erased representations)")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    carried = table[table.sex_out_of_sample]
    free = table[~table.sex_out_of_sample]
    assert (carried.held_out_probe_auc >= 0.75).all() and (free.held_out_probe_auc <= 0.58).all()


def floors(cohorts):
    print("\n2. floors of sex-blind decisions (median / 95th percentile, 1000 permutations within diagnosis)")
    for n in (1035, 207):
        y, score, sex = abide_like(n, 0)
        table = gap_floor(y, (score > 0).astype(int), sex, n_draws=1000, seed=0)
        print(
            f"  {n} subjects:",
            ", ".join(f"{r.gap} {r.floor_median:.3f} / {r.floor_p95:.3f}" for r in table.itertuples()),
        )
    for shift, label in ((0.0, "sex-blind"), (0.6, "score +0.6 for males"), (1.2, "score +1.2 for males")):
        above = []
        for seed in range(cohorts):
            y, score, sex = abide_like(207, 10 + seed, sex_shift=shift)
            table = gap_floor(y, (score > 0).astype(int), sex, n_draws=1000, seed=seed).set_index("gap")
            above.append(table["above_floor"])
        share = pd.concat(above, axis=1).mean(axis=1)
        print(f"  {label}, {cohorts} cohorts of 207: share above the floor's p95:", share.round(3).to_dict())
        if shift == 0:
            assert (share <= 0.10).all()
        elif shift > 1:
            assert share["dpd"] >= 0.8


def thresholds():
    print("\n3. equalized-odds thresholds fitted on 828 subjects, applied to 1035 (scores +0.4 for males)")
    y_fit, s_fit, sex_fit = abide_like(828, 1, sex_shift=0.4)
    y, s, sex = abide_like(1035, 2, sex_shift=0.4)
    p_fit, p = 1 / (1 + np.exp(-s_fit)), 1 / (1 + np.exp(-s))
    fit = pd.DataFrame({"y_true": y_fit, "p_disease": p_fit, "sex": sex_fit})
    optimizer = fit_group_thresholds(fit, "sex", constraint="equalized_odds")
    probabilities = decision_probabilities(optimizer, p, sex)
    gaps, share = randomised_threshold_report(probabilities, y, sex, n_draws=200)
    expected_balanced = (probabilities[y == 1].mean() + 1 - probabilities[y == 0].mean()) / 2
    print(f"randomised (fairlearn): expected balanced accuracy {expected_balanced:.3f}")
    print(gaps.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(share.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    deterministic = DeterministicGroupThresholds("equalized_odds", tolerance=0.05).fit(p_fit, y_fit, sex_fit)
    decided = deterministic.predict(p, sex)
    test_gaps = two_group_gaps(decided, y, sex == "M")
    balanced = (decided[y == 1].mean() + 1 - decided[y == 0].mean()) / 2
    print(
        f"deterministic (tolerance 0.05): thresholds {deterministic.thresholds_}, fit-set violation "
        f"{deterministic.violation_:.3f}; on the 1035: DEOdds {float(test_gaps['deodds']):.3f}, "
        f"DPD {float(test_gaps['dpd']):.3f}, balanced accuracy {balanced:.3f}, randomised subjects 0"
    )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--cohorts", type=int, default=200)
    args = parser.parse_args()
    probes(args.seeds)
    floors(args.cohorts)
    thresholds()
    print("controls passed")


if __name__ == "__main__":
    main()
