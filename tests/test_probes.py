"""Controls of neurolip.evaluation.probes: the held-out probe tells an erased representation that still
carries sex out of sample from a sex-free one; the training-split probe (training/leakage.py) cannot."""

import numpy as np
import pytest
import torch

from neurolip.evaluation.probes import decision_leakage, probe_auc_floor
from neurolip.training.leakage import probe as training_split_probe
from neurolip.training.linear import fit_logistic_on_val
from neurolip.training.stages.erase import RepresentationEraser
from neurolip.training.stages.probe import HeldOutProbe, held_out_probe


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


def test_probe_floor_is_the_mann_whitney_null_and_separates_a_sex_carrying_representation():
    """The held-out probe's floor at the test fold's group sizes: centred on 0.5 with the Mann-Whitney
    spread; a representation that carries sex out of sample reads above its 95th percentile, a sex-free one
    within it (positive and negative control)."""
    codes = np.r_[np.zeros(170, dtype=int), np.ones(37, dtype=int), -np.ones(5, dtype=int)]
    floor = probe_auc_floor(codes, n_draws=4000, seed=0)
    sd = np.sqrt((170 + 37 + 1) / (12 * 170 * 37))  # Mann-Whitney null SD of the AUC
    assert abs(floor["floor_median"] - 0.5) < 0.01
    assert abs(floor["floor_p95"] - (0.5 + 1.645 * sd)) < 0.01, (floor, sd)
    assert np.isnan(probe_auc_floor(np.zeros(50, dtype=int))["floor_p95"])
    for strength, carries_sex in ((1.0, True), (0.0, False)):
        erased, sex = representations(strength, seed=2)
        auc = held_out_probe(erased["val"], sex["val"], erased["test"], sex["test"], seed=0)["probe_auc"]
        p95 = probe_auc_floor(sex["test"], seed=0)["floor_p95"]
        print(f"sex strength {strength}: probe {auc:.3f}, floor p95 {p95:.3f}")
        assert (auc > p95) == carries_sex, (strength, auc, p95)


def test_probe_floor_through_the_diagnosis_keeps_a_diagnosis_only_representation_within_it():
    """Sex associated with the diagnosis (80 % males among patients, 50 % among controls, as in the demo
    cohort): a representation that carries the diagnosis and nothing else about sex lets the probe read sex
    above the plain Mann-Whitney floor, but within the floor through the diagnosis; one that also carries sex
    reads above both."""
    rng = np.random.default_rng(7)
    dim = 32
    sex_direction, dx_direction = (v / np.linalg.norm(v) for v in rng.normal(size=(2, dim)))
    fired = {}
    for strength in (0.0, 0.8):
        data = {}
        for split, n in (("val", 400), ("test", 400)):
            y = rng.integers(0, 2, n)
            sex = (rng.random(n) < np.where(y == 1, 0.8, 0.5)).astype(int)
            x = rng.normal(size=(n, dim)) + 2.0 * np.outer(2 * y - 1, dx_direction)
            data[split] = (x + strength * np.outer(2 * sex - 1, sex_direction), sex, y)
        auc = held_out_probe(data["val"][0], data["val"][1], data["test"][0], data["test"][1], seed=0)[
            "probe_auc"
        ]
        plain = probe_auc_floor(data["test"][1], seed=0)["floor_p95"]
        through = probe_auc_floor(data["test"][1], data["test"][2], seed=0)
        print(
            f"sex strength {strength}: probe {auc:.3f}, plain floor p95 {plain:.3f}, through diagnosis "
            f"median {through['floor_median']:.3f} p95 {through['floor_p95']:.3f}"
        )
        assert through["floor_median"] > 0.55  # the diagnosis alone tells sex here
        fired[strength] = (auc > plain, auc > through["floor_p95"])
    assert fired[0.0] == (True, False), fired
    assert fired[0.8] == (True, True), fired
    with pytest.raises(ValueError, match="two-group"):
        probe_auc_floor(np.array([0, 1, 2]))
