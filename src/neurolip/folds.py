"""Cross-validation folds: stratified K-fold on diagnosis x site, plus an inner validation split."""

import logging

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold, train_test_split

log = logging.getLogger(__name__)


def strata_labels(diagnosis, site, min_count):
    """Diagnosis x site labels, with strata too small to split falling back to diagnosis alone."""
    labels = pd.Series([f"{d}|{s}" for d, s in zip(diagnosis, site)])
    counts = labels.value_counts()
    small = labels.map(counts) < min_count
    labels[small] = [f"{d}|rare" for d in np.asarray(diagnosis)[small.to_numpy()]]
    return labels.to_numpy()


def feasible_strata(diagnosis, site, min_count, n_held_out, what):
    """Diagnosis x site strata (rare sites merged per diagnosis, :func:`strata_labels`) when every stratum
    holds ``min_count`` subjects and there are no more strata than the ``n_held_out`` subjects of the
    held-out part; otherwise diagnosis alone (logged, naming ``what``). When the cohort allows it, these are
    the labels the folds have always used, so existing folds do not move."""
    labels = strata_labels(diagnosis, site, min_count)
    counts = pd.Series(labels).value_counts()
    if counts.min() >= min_count and len(counts) <= n_held_out:
        return labels
    log.info(
        "%s: stratified on diagnosis only, not diagnosis x site: %d strata (smallest %d subjects) for %d "
        "held-out subjects and at least %d subjects per stratum",
        what,
        len(counts),
        counts.min(),
        n_held_out,
        min_count,
    )
    return np.asarray(diagnosis).astype(str)


def make_folds(phenotypes, n_folds=5, val_fraction=0.15, seed=0, n_repeats=1):
    """Long table ``subject_id, fold, split, repeat`` with split in {train, val, test} for each outer fold.

    The test fold of fold k is never used for anything but the final evaluation; early stopping and
    model selection use the ``val`` subjects, a stratified share of the training folds. With ``n_repeats``
    > 1 the K-fold split is repeated with other shuffles (repeat r uses seed + 1000 r; repeat 0 is the
    single split): fold ids run on, repeat r holding folds r K ... r K + K - 1, so every subject is tested
    once per repeat and repeats, not only seeds, carry the variance.
    """
    subject_ids = phenotypes["subject_id"].astype(str).to_numpy()
    diagnosis = phenotypes["diagnosis"].astype(int).to_numpy()
    site = phenotypes["site"].astype(str).to_numpy()
    if len(subject_ids) < 2 * n_folds:
        raise ValueError(f"{len(subject_ids)} subjects are too few for {n_folds}-fold cross-validation")
    smallest = int(np.bincount(diagnosis, minlength=2).min())
    if smallest < n_folds:
        raise ValueError(
            f"the smaller diagnosis class has {smallest} subjects, fewer than cv.n_folds={n_folds}: every test fold "
            "needs both classes; lower cv.n_folds or add subjects"
        )
    strata = feasible_strata(diagnosis, site, n_folds, len(subject_ids), "outer folds")
    rows = []
    for repeat in range(n_repeats):
        repeat_seed = seed + 1000 * repeat
        outer = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=repeat_seed)
        for k, (train_idx, test_idx) in enumerate(outer.split(subject_ids, strata)):
            fold = repeat * n_folds + k
            n_val = int(np.ceil(val_fraction * len(train_idx)))  # train_test_split's rounding
            if n_val < 2 or min(np.bincount(diagnosis[train_idx], minlength=2)) < 2:
                raise ValueError(
                    f"fold {fold}: the validation split would hold {n_val} of {len(train_idx)} training subjects "
                    f"(cv.val_fraction={val_fraction}), too few for both diagnoses: raise cv.val_fraction, lower "
                    "cv.n_folds or add subjects"
                )
            inner_strata = feasible_strata(
                diagnosis[train_idx], site[train_idx], 2, n_val, f"fold {fold} validation split"
            )
            fit_idx, val_idx = train_test_split(
                train_idx, test_size=val_fraction, stratify=inner_strata, random_state=repeat_seed + k
            )
            for split, idx in (("train", fit_idx), ("val", val_idx), ("test", test_idx)):
                rows.extend(
                    {"subject_id": subject_ids[i], "fold": fold, "split": split, "repeat": repeat}
                    for i in idx
                )
    folds = pd.DataFrame(rows).sort_values(["fold", "split", "subject_id"]).reset_index(drop=True)
    check_splits(folds, dict(zip(subject_ids, diagnosis)), val_fraction)
    return folds


def check_splits(folds, diagnosis_of, val_fraction=None):
    """Every split of every fold (train, val, test) must hold both diagnoses: a split without patients
    cannot select a model (validation), be scored (test) or train one; training would stop later in a
    scikit-learn traceback.

    Parameters
    ----------
    folds : pandas.DataFrame
        The long table of :func:`make_folds` (``subject_id``, ``fold``, ``split``).
    diagnosis_of : dict
        Each subject's diagnosis (0 control, 1 patient).
    val_fraction : float, optional
        ``cv.val_fraction``, named in the error.

    Raises
    ------
    ValueError
        Naming the fold, the split and its counts of each diagnosis.
    """
    for (fold, split), part in folds.groupby(["fold", "split"], sort=True):
        counts = np.bincount([int(diagnosis_of[s]) for s in part["subject_id"]], minlength=2)
        if counts.min() == 0:
            raise ValueError(
                f"fold {fold}: the {split} split holds {len(part)} subjects, {counts[0]} controls (diagnosis 0) "
                f"and {counts[1]} patients (diagnosis 1): every split needs both diagnoses; raise "
                f"cv.val_fraction (now {val_fraction}), lower cv.n_folds or add subjects of the smaller class"
            )


def check_group_thresholds_feasible(phenotypes, attribute):
    """Group thresholds need at least two groups of ``attribute`` that each hold both diagnoses."""
    if attribute not in phenotypes.columns:
        raise ValueError(f"evaluation.fair_thresholds.attribute {attribute!r} is not a phenotype field")
    known = phenotypes.dropna(subset=[attribute])
    groups = known.groupby(known[attribute].astype(str))["diagnosis"].nunique()
    usable = sorted(groups[groups == 2].index)
    if len(usable) < 2:
        raise ValueError(
            f"group thresholds on {attribute!r} need two groups holding both diagnoses; groups with both: {usable} "
            f"(of {sorted(groups.index)}): set evaluation.fair_thresholds.methods: [] or another attribute"
        )


# --- leave-site-out (cv.scheme: leave_site_out) -------------------------------------------------------------

LEAVE_SITE_OUT_DEFAULTS = {
    "min_site_size": 20,
    "small_sites": "merge",
    "merged_name": "small_sites",
    "require_groups_of": [],
}


def _site_problem(part, min_size, require_groups_of):
    """Why the subjects ``part`` (phenotype rows) cannot make a test fold of their own, or None."""
    n = len(part)
    if n < min_size:
        return f"{n} subjects, fewer than cv.leave_site_out.min_site_size={min_size}"
    classes = part["diagnosis"].astype(int).value_counts()
    if len(classes) < 2:
        return f"only diagnosis {int(classes.index[0])} ({n} subjects): a test fold needs both diagnoses"
    for attribute in require_groups_of:
        if attribute not in part.columns:
            raise ValueError(
                f"cv.leave_site_out.require_groups_of names {attribute!r}, which is not a phenotype field"
            )
        groups = part[attribute].dropna().astype(str).unique()
        if len(groups) < 2:
            return (
                f"all {n} subjects have {attribute} {sorted(groups)}: cv.leave_site_out.require_groups_of "
                f"asks for two groups of {attribute!r}"
            )
    return None


def site_groups(phenotypes, settings=None):
    """The test groups of leave-site-out cross-validation and the sites that make none.

    Each site is a test fold of its own unless it is too small (``min_site_size``), holds one diagnosis, or
    lacks two groups of an attribute in ``require_groups_of``. Such sites are, by ``small_sites``: ``merge``d
    into one test group named ``merged_name`` (itself checked; when it fails too its subjects train only),
    kept for training only (``train_only``: never tested, logged), or an ``error`` naming the site.

    Returns
    -------
    groups : list of (name, list of sites)
        In order of the sorted site names, the merged group last; fold k tests ``groups[k]``.
    skipped : pandas.DataFrame
        ``site, n_subjects, reason``: sites whose subjects are only ever trained on.
    """
    settings = {**LEAVE_SITE_OUT_DEFAULTS, **(settings or {})}
    sites = phenotypes["site"].astype(str)
    groups, small, skipped = [], [], []
    for site in sorted(sites.unique()):
        part = phenotypes[sites == site]
        problem = _site_problem(part, settings["min_site_size"], settings["require_groups_of"])
        if problem is None:
            groups.append((site, [site]))
            continue
        if settings["small_sites"] == "error":
            raise ValueError(
                f"leave-site-out: site {site!r} cannot be a test fold: {problem}; set cv.leave_site_out."
                "small_sites to merge (one test group of such sites) or train_only (never tested)"
            )
        log.info("leave-site-out: site %s: %s (%s)", site, problem, settings["small_sites"])
        if settings["small_sites"] == "merge":
            small.append((site, problem))
        else:
            skipped.append({"site": site, "n_subjects": len(part), "reason": problem})
    if small:
        names = [s for s, _ in small]
        name = settings["merged_name"]
        if name in sites.unique() and name not in names:
            raise ValueError(
                f"cv.leave_site_out.merged_name {name!r} is a site of the cohort: choose another"
            )
        problem = _site_problem(phenotypes[sites.isin(names)], 2, settings["require_groups_of"])
        if problem is None:
            groups.append((name, names))
        else:
            for site, why in small:
                reason = f"{why}; merged group {name!r} of {names}: {problem}"
                log.warning("leave-site-out: site %s trains only: %s", site, reason)
                skipped.append({"site": site, "n_subjects": int((sites == site).sum()), "reason": reason})
    if len(groups) < 2:
        raise ValueError(
            f"leave-site-out needs two test groups; the cohort gives {len(groups)} ({[g for g, _ in groups]}) "
            f"of sites {sorted(sites.unique())}: lower cv.leave_site_out.min_site_size or use cv.scheme: stratified"
        )
    return groups, pd.DataFrame(skipped, columns=["site", "n_subjects", "reason"])


def make_site_folds(phenotypes, n_folds, val_fraction=0.15, seed=0, settings=None):
    """Leave-site-out folds: fold k tests the subjects of site group k (:func:`site_groups`), trains on the
    other sites, its validation split a share of the training sites' subjects stratified on diagnosis x site.
    ``n_folds`` is the number of test groups the workflow expects (``cv.n_folds``, fixed when the workflow
    is parsed): a cohort that makes another number stops here, naming the number to set."""
    subject_ids = phenotypes["subject_id"].astype(str).to_numpy()
    diagnosis = phenotypes["diagnosis"].astype(int).to_numpy()
    site = phenotypes["site"].astype(str).to_numpy()
    groups, skipped = site_groups(phenotypes, settings)
    if len(groups) != n_folds:
        raise ValueError(
            f"leave-site-out: the cohort makes {len(groups)} test groups ({', '.join(g for g, _ in groups)}), "
            f"cv.n_folds is {n_folds}: set cv.n_folds: {len(groups)} (the workflow fixes its folds before it "
            "reads the cohort)"
        )
    rows = []
    for fold, (name, members) in enumerate(groups):
        test = np.isin(site, members)
        train_idx, test_idx = np.flatnonzero(~test), np.flatnonzero(test)
        n_val = int(np.ceil(val_fraction * len(train_idx)))
        if n_val < 2 or min(np.bincount(diagnosis[train_idx], minlength=2)) < 2:
            raise ValueError(
                f"fold {fold} (test site {name}): the validation split would hold {n_val} of {len(train_idx)} "
                f"training subjects (cv.val_fraction={val_fraction}), too few for both diagnoses"
            )
        inner_strata = feasible_strata(
            diagnosis[train_idx],
            site[train_idx],
            2,
            n_val,
            f"fold {fold} (test site {name}) validation split",
        )
        fit_idx, val_idx = train_test_split(
            train_idx, test_size=val_fraction, stratify=inner_strata, random_state=seed + fold
        )
        for split, idx in (("train", fit_idx), ("val", val_idx), ("test", test_idx)):
            rows.extend(
                {"subject_id": subject_ids[i], "fold": fold, "split": split, "repeat": 0} for i in idx
            )
    folds = pd.DataFrame(rows).sort_values(["fold", "split", "subject_id"]).reset_index(drop=True)
    check_splits(folds, dict(zip(subject_ids, diagnosis)), val_fraction)
    return folds


def fold_sites(folds, phenotypes, settings=None, scheme="stratified"):
    """One row per (fold, site) of the test splits: ``fold, test_group, site, n_test, n_patients, n_female``
    (the group the fold tests: its site, the merged group's name, or ``mixed`` for stratified folds), then
    the sites that are only trained on (``fold`` -1, their reason). What each fold tests, for the record."""
    cohort = phenotypes.assign(subject_id=phenotypes["subject_id"].astype(str)).set_index("subject_id")
    test = folds[folds["split"] == "test"].join(cohort[["site", "diagnosis", "sex"]], on="subject_id")
    names = {}
    skipped = pd.DataFrame(columns=["site", "n_subjects", "reason"])
    if scheme == "leave_site_out":
        groups, skipped = site_groups(phenotypes, settings)
        names = {k: name for k, (name, _) in enumerate(groups)}
    rows = [
        {
            "fold": int(fold),
            "test_group": names.get(int(fold), "mixed"),
            "site": str(s),
            "n_test": len(part),
            "n_patients": int(part["diagnosis"].astype(int).sum()),
            "n_female": int((part["sex"].astype(str).str.upper().str[0] == "F").sum()),
            "reason": "",
        }
        for (fold, s), part in test.groupby(["fold", "site"], sort=True)
    ]
    rows += [
        {
            "fold": -1,
            "test_group": "train_only",
            "site": r.site,
            "n_test": 0,
            "n_patients": 0,
            "n_female": 0,
            "reason": r.reason,
        }
        for r in skipped.itertuples()
    ]
    return pd.DataFrame(rows)
