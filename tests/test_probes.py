"""Controls of neurolip.evaluation.probes: the held-out probe tells an erased representation that still
carries sex out of sample from a sex-free one; the training-split probe (training/leakage.py) cannot."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import norm

from neurolip.evaluation.per_fold import leakage_per_fold
from neurolip.evaluation.pooled import POOLED_COLUMNS
from neurolip.evaluation.probe_test import (
    per_fold_probe_auc,
    pooled_probe_rows,
    probe_exact_test,
    probe_pairs,
    probe_pairs_figure,
)
from neurolip.evaluation.probes import decision_leakage
from neurolip.training.leakage import attribute_codes
from neurolip.training.leakage import probe as training_split_probe
from neurolip.training.linear import fit_logistic_on_val
from neurolip.training.stages.erase import RepresentationEraser
from neurolip.training.stages.probe import (
    HeldOutProbe,
    cross_fitted_scores,
    held_out_leakage_rows,
    held_out_probe,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


def representations(sex_strength, seed, dim=128, sizes=(100, 300, 300)):
    """Train / held-out / test representations: noise + a diagnosis direction + sex along its own direction.

    The eraser is fitted on 100 training subjects in 128 dimensions: it removes the sex direction *as
    estimated on them*, exactly there and only partly elsewhere: sex is then carried out of sample."""
    rng = np.random.default_rng(seed)
    sex_direction, dx_direction = (v / np.linalg.norm(v) for v in rng.normal(size=(2, dim)))
    splits = {}
    for name, n in zip(("train", "val", "test"), sizes):
        sex, y = rng.integers(0, 2, n), rng.integers(0, 2, n)
        x = rng.normal(size=(n, dim)) + sex_strength * np.outer(2 * sex - 1, sex_direction)
        splits[name] = (x + np.outer(2 * y - 1, dx_direction), sex)
    eraser = RepresentationEraser().fit({"global": torch.tensor(splits["train"][0])}, splits["train"][1])
    erased = {s: eraser("global", torch.tensor(x)).numpy() for s, (x, _) in splits.items()}
    return erased, {s: sex for s, (_, sex) in splits.items()}


@pytest.mark.parametrize(("strength", "carries_sex"), [(1.0, True), (0.0, False)])
def test_held_out_probe_reads_what_the_test_representations_carry_and_the_old_probe_does_not(
    strength, carries_sex
):
    erased, sex = representations(strength, seed=0)
    new = held_out_probe(erased["val"], sex["val"], erased["test"], sex["test"], seed=0)
    old = training_split_probe(erased, sex, seed=0)
    print(
        f"sex strength {strength}: held-out probe AUC {new['probe_auc']:.3f}, old probe {old['probe_auc']:.3f}"
    )
    if carries_sex:
        assert new["probe_auc"] >= 0.75, new
    else:
        assert new["probe_auc"] <= 0.58, new
    # the defect: fitted on the erased training split, the old probe learns nothing either way
    assert abs(old["probe_auc"] - 0.5) < 0.08, old
    model, _, _ = fit_logistic_on_val(erased["train"], sex["train"], erased["val"], sex["val"])
    assert np.abs(model[-1].coef_).max() < 1e-4


def test_held_out_probe_chooses_c_on_its_own_fit_set_and_rejects_one_group():
    erased, sex = representations(1.0, seed=1, sizes=(100, 200, 50))
    probe = HeldOutProbe(c_grid=(0.01, 1.0), cv=3, seed=0).fit(erased["val"], sex["val"])
    assert probe.C_ in (0.01, 1.0) and probe.n_fit_ == 200 and 0.5 < probe.cv_auc_ <= 1
    codes = sex["test"].copy()
    codes[:10] = -1  # unknown attribute: left out, not an error
    assert 0 <= probe.score(erased["test"], codes) <= 1
    with pytest.raises(ValueError, match="both groups"):
        HeldOutProbe().fit(erased["val"], np.zeros(200, dtype=int))


def test_decision_leakage_finds_a_sex_shifted_score_within_diagnosis():
    rng = np.random.default_rng(0)
    n = 1000
    y, sex = rng.integers(0, 2, n), (rng.random(n) < 0.2).astype(int)
    folds = np.arange(n) % 5
    fair = 1.5 * y + rng.normal(0, 1, n)
    unfair = fair + 1.0 * sex
    blind = decision_leakage(fair, sex, y, folds)
    shifted = decision_leakage(unfair, sex, y, folds)
    pooled = shifted[shifted.scope == "pooled"]
    assert len(shifted) == 12 and set(shifted.scope) == {f"fold {k}" for k in range(5)} | {"pooled"}
    assert (pooled.leakage_auc > 0.7).all(), pooled
    assert (blind[blind.scope == "pooled"].leakage_auc < 0.58).all(), blind
    # AUC per diagnosis class, not of the diagnosis: a score that only separates diagnoses reads ~0.5
    assert blind[blind.scope == "pooled"].n.sum() == n


def _cohort_scores(planted_auc, seed, n=400, folds=4, sex_shift_with_diagnosis=True):
    """Probe scores of a small cohort (benchmarks/probe_exact_test.py's design at small sizes): a
    representation with the diagnosis and, for females, a shift giving the oracle a within-diagnosis sex AUC
    ``planted_auc``; probes cross-fitted over 15 % validation + test subjects (stand-in learner)."""
    from probe_exact_test import ShrinkageLDA

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    female = (rng.random(n) < np.where(y == 1, 0.1, 0.25)).astype(int)  # sex tied to the diagnosis
    fold = rng.permutation(np.arange(n) % folds)
    x = rng.normal(size=(n, 8))
    x[:, 0] += 1.5 * y
    x[:, 1] += np.sqrt(2) * norm.ppf(planted_auc) * female
    frames = []
    for k in range(folds):
        test, training = np.flatnonzero(fold == k), np.flatnonzero(fold != k)
        val = rng.choice(training, int(0.15 * len(training)), replace=False)
        scores, parts, _ = cross_fitted_scores(
            x[val], female[val], x[test], female[test], 2 * female[test] + y[test], make_probe=ShrinkageLDA
        )
        frames.append(
            pd.DataFrame(
                {
                    "fold": k,
                    "seed": 0,
                    "subject_id": test.astype(str),
                    "code": female[test],
                    "diagnosis": y[test],
                }
            ).assign(probe_score=scores, part=parts)
        )
    return pd.concat(frames, ignore_index=True)


def test_probe_exact_test_is_calibrated_and_has_power():
    """The exact test at small sizes (300–400 subjects, 4 folds): its false alarms at no residual sex within
    diagnosis (sex tied to the diagnosis, which the representation carries) stay near 5 %, and it fires at a
    planted within-diagnosis AUC of 0.75; its analytic MDE sits between the two mean statistics."""
    p_null = np.array(
        [probe_exact_test(_cohort_scores(0.5, s, n=300), n_draws=200, seed=s)["p_floor"] for s in range(250)]
    )
    rate = (p_null <= 0.05).mean()
    print(f"false alarms {rate:.3f} over 250 cohorts")
    assert 0.015 <= rate <= 0.085, rate  # 5 % ± 2.5 binomial SDs at 250 cohorts
    tests = [probe_exact_test(_cohort_scores(0.75, 1000 + s), n_draws=200, seed=s) for s in range(40)]
    power = np.mean([t["p_floor"] <= 0.05 for t in tests])
    mde = np.mean([t["mde"] for t in tests])
    print(
        f"power {power:.3f} at planted AUC 0.75; mean statistic {np.mean([t['value'] for t in tests]):.3f}, MDE {mde:.3f}"
    )
    assert power >= 0.8, power
    assert 0.55 < mde < 0.65 and np.mean([t["value"] for t in tests]) > mde


def test_probe_exact_test_statistic_is_the_mean_of_per_fold_within_diagnosis_aucs_over_models():
    """Two models' scores: the statistic is the mean over folds and models of each fold's within-diagnosis
    AUC (U summed over the diagnosis classes × cross-fit parts over their pairs); a diagnosis-only score
    reads 0.5 exactly."""
    from sklearn.metrics import roc_auc_score

    scores = _cohort_scores(0.7, 3, folds=3)
    other = scores.assign(
        seed=1, probe_score=scores.probe_score + np.random.default_rng(0).normal(size=len(scores))
    )
    both = pd.concat([scores, other], ignore_index=True)
    expected = []
    for _, part in both.groupby("fold"):
        per_model = []
        for _, model in part.groupby("seed"):
            u = pairs = 0
            for _, d in model.groupby(["diagnosis", "part"]):
                n1, n0 = (d.code == 1).sum(), (d.code == 0).sum()
                u += roc_auc_score(d.code, d.probe_score) * n1 * n0
                pairs += n1 * n0
            per_model.append(u / pairs)
        expected.append(np.mean(per_model))
    assert probe_exact_test(both, n_draws=50)["value"] == pytest.approx(np.mean(expected))
    np.testing.assert_allclose(per_fold_probe_auc(both).to_numpy(), expected)
    diagnosis_only = scores.assign(probe_score=scores.diagnosis.astype(float))
    assert probe_exact_test(diagnosis_only, n_draws=50)["value"] == pytest.approx(0.5)
    assert np.isnan(probe_exact_test(scores.assign(code=0), n_draws=50)["value"])


def test_probe_pairs_on_a_planted_truth(tmp_path):
    """Planted truth: a representation that carries the diagnosis and no sex (sex quiet, diagnosis fires);
    one that carries both (sex fires) and the same after LEACE fitted on its training subjects (sex gone,
    diagnosis kept). The held-out probes are the trainer's (:func:`held_out_leakage_rows`) and the pair table
    and figure the evaluation's."""
    from types import SimpleNamespace

    rng = np.random.default_rng(11)
    # a large training split: LEACE's direction estimated precisely (with 500 its estimation error left a
    # residual the exact test found)
    n = {"train": 5000, "val": 150, "test": 250}
    leakage = []
    # (sex shift, share of females among patients and controls): sex tied to the diagnosis where the probe
    # could read it through the diagnosis; not for the erased one, since LEACE erases what the whole
    # training set says about sex, diagnosis included, and with sex tied to the diagnosis a within-diagnosis
    # residual stays (the exact test finds it: 0.574, p 0.005 in a first version of this test)
    representations = {"dx_only": (0.0, (0.25, 0.1)), "both": (1.2, (0.25, 0.1)), "erased": (1.2, (0.2, 0.2))}
    for fold in range(3):
        ids = {s: [f"f{fold}{s}{i}" for i in range(k)] for s, k in n.items()}
        y = {s: rng.integers(0, 2, k) for s, k in n.items()}
        noise = {s: rng.normal(size=(k, 8)) for s, k in n.items()}
        for method, (strength, shares) in representations.items():
            sex = {
                s: (rng.random(k) < np.where(y[s] == 1, shares[1], shares[0])).astype(int)
                for s, k in n.items()
            }
            cohort = pd.DataFrame(
                {"sex": np.where(np.concatenate(list(sex.values())) == 1, "female", "male")},
                index=sum(ids.values(), []),
            )
            data = SimpleNamespace(cohort=cohort, subject_ids=ids, y=y)
            codes = {s: attribute_codes(cohort, ids[s], "sex") for s in n}
            features = {
                s: noise[s] + np.outer(1.5 * y[s], np.eye(8)[0]) + np.outer(strength * codes[s], np.eye(8)[1])
                for s in n
            }
            if method == "erased":
                eraser = RepresentationEraser("sex").fit(
                    {"r": torch.from_numpy(features["train"])}, codes["train"]
                )
                features = {s: eraser("r", torch.from_numpy(v)).numpy() for s, v in features.items()}
            rows = held_out_leakage_rows(data, features, ["sex"], "r", seed=0, fold=fold)
            leakage.append(pd.DataFrame(rows).assign(method=method))
    leakage = pd.concat(leakage, ignore_index=True)
    pairs = probe_pairs(leakage, {"erased": "both"}, n_draws=400).set_index("method")
    print(pairs.round(3).to_string())
    # each verdict at α = 0.01 (a single cohort; the rate at 0.05 is the calibration test's)
    assert pairs.at["dx_only", "attribute_p"] > 0.01 and pairs.at["dx_only", "diagnosis_p"] <= 0.01
    assert pairs.at["both", "attribute_p"] <= 0.01 and pairs.at["both", "diagnosis_p"] <= 0.01
    assert pairs.at["erased", "attribute_p"] > 0.01 and pairs.at["erased", "diagnosis_p"] <= 0.01
    assert pairs.at["erased", "diagnosis_probe_auc"] > 0.8
    assert pairs.at["erased", "reference"] == "both"
    assert pairs.at["erased", "reference_attribute_probe_auc"] == pytest.approx(
        pairs.at["both", "attribute_probe_auc"]
    )
    for m in pairs.index:
        assert pairs.at[m, "attribute_mde"] < pairs.at["both", "attribute_probe_auc"]
    # the pooled row and the per-fold rows agree with the pair table
    pooled = pooled_probe_rows(leakage, POOLED_COLUMNS, n_draws=400).set_index("method")
    assert pooled.at["both", "value"] == pytest.approx(pairs.at["both", "attribute_probe_auc"])
    assert pooled.at["both", "above_floor"] == 1.0
    np.testing.assert_allclose(pooled.p_floor, pairs.loc[pooled.index, "attribute_p"])
    per_fold = leakage_per_fold(leakage)
    assert set(per_fold.attribute) == {"sex"} and len(per_fold) == 9
    assert per_fold[per_fold.method == "both"].value.mean() == pytest.approx(pooled.at["both", "value"])
    probe_pairs_figure(pairs.reset_index(), {}, "sex", tmp_path / "p.png", tmp_path / "p.pdf")
    assert (tmp_path / "p.png").stat().st_size > 20000 and (tmp_path / "p.pdf").stat().st_size > 5000


def test_chained_parts_are_scored_by_probes_fitted_on_earlier_parts_only():
    """Part j's probe sees the fit subjects and parts 0 … j − 1 (chained); symmetric cross-fitting sees every
    other part. No subject is ever scored by a probe fitted on it."""
    rng = np.random.default_rng(0)
    seen = []

    class Recorder:
        def fit(self, x, z):
            seen.append({tuple(row) for row in x})
            self.w = rng.normal(size=x.shape[1])
            return self

        def decision_function(self, x):
            return x @ self.w

    fit_x, test_x = rng.normal(size=(20, 3)), rng.normal(size=(50, 3))
    codes = rng.integers(0, 2, 50)
    for chained in (True, False):
        seen.clear()
        scores, parts, _ = cross_fitted_scores(
            fit_x, rng.integers(0, 2, 20), test_x, codes, codes, make_probe=Recorder, chained=chained
        )
        assert np.isfinite(scores).all() and sorted(set(parts)) == [0, 1, 2, 3, 4]
        for j, fitted in enumerate(seen):
            own = {tuple(row) for row in test_x[parts == j]}
            earlier = {tuple(row) for row in test_x[parts < j]}
            later = {tuple(row) for row in test_x[parts > j]}
            assert not own & fitted and earlier <= fitted
            assert (not later & fitted) if chained else later <= fitted
