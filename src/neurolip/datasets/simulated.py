"""A simulated resting-state cohort with planted disease and sensitive-attribute regions.

The generator writes files in the same layout as a real release (ABIDE-PCP-like ``.1D`` time series and
a phenotype TSV with missing-value codes) so the whole data stage runs on it unchanged, and it plants the
real data's traps: all-zero ROI columns, scan lengths that vary by site, scans shorter than the minimum,
missing phenotype values, a subject without diagnosis and a phenotype row without a file.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd

from .base import MANIFEST_COLUMNS, SourceData, roi_coordinates

SCAN_LENGTHS = (78, 116, 146, 176, 196, 236, 296, 316)  # volumes, as seen across ABIDE sites

# ``signal``: how the planted disease effect stands out. "generous" (the demo's): every region has the same
# coupling to its network in every subject and the effect is strong (test AUC of linear_fc ~1). "realistic":
# edges share subject-level variance (a subject-specific global signal, and network coupling strengths
# that vary by subject: a low-rank common factor across edges, as in real connectomes) and the default
# effect is weaker, so a linear_fc read-out reaches a test AUC of about 0.75 at ABIDE's sizes
# (benchmarks/map_null_fwer.py measures it).
SIGNAL_SETTINGS = {
    "generous": {"disease_effect": 0.25, "global_sd": 0.0, "network_sd": 0.0},
    "realistic": {"disease_effect": 0.1, "global_sd": 0.25, "network_sd": 0.3},
}


def _network_assignment(n_rois, n_networks, rng):
    return rng.integers(0, n_networks, size=n_rois)


def simulate_cohort(
    out_dir,
    n_subjects=240,
    n_rois=100,
    n_sites=4,
    n_networks=7,
    n_disease_regions=10,
    n_sensitive_regions=10,
    disease_effect=None,
    sensitive_effect=0.3,
    p_male_given_disease=0.8,
    p_male_given_control=0.5,
    zero_roi_fraction=0.08,
    n_short_scans=2,
    short_scan_volumes=40,
    srs_missing_fraction=0.6,
    seed=0,
    site_effect=0.0,
    signal="generous",
    series_sink=None,
):
    """Write a simulated cohort under ``out_dir`` and return its ground truth as a dict.

    ``site_effect`` > 0 makes the sites' connectomes differ beyond scan length, noise and global signal:
    each site gets a random ROI loading pattern on a site-only latent signal (additive: edge offsets
    proportional to the product of the two ROIs' loadings, ``site_effect`` their scale) and a gain on the
    subjects' signal (multiplicative, exp(N(0, site_effect / 2))), drawn from their own random stream so that
    ``site_effect: 0`` (the default) writes the same cohort as before, byte for byte. Site effects are
    independent of diagnosis: what harmonisation should remove (docs/method.md, Site harmonisation).

    ``signal``: "generous" (the demo's) or "realistic" (shared edge variance, weaker effect; see
    ``SIGNAL_SETTINGS``); ``disease_effect`` None takes the setting's. The realistic setting's extra draws
    come from a second random stream, so the generous cohort of a seed is unchanged by its existence.
    ``series_sink``: a callable ``(subject_id, values)`` receiving each subject's time series instead of
    its ``.1D`` file (in-memory benchmarks; :func:`simulated_connectome_arrays`)."""
    if signal not in SIGNAL_SETTINGS:
        raise ValueError(f"signal must be one of {sorted(SIGNAL_SETTINGS)}, got {signal!r}")
    setting_name, setting = signal, SIGNAL_SETTINGS[signal]
    if disease_effect is None:
        disease_effect = setting["disease_effect"]
    shared = np.random.default_rng([seed, 31]) if signal != "generous" else None
    rng = np.random.default_rng(seed)
    site_rng = np.random.default_rng([seed, 7331]) if site_effect else None
    out_dir = Path(out_dir)
    ts_dir = out_dir / "timeseries"
    ts_dir.mkdir(parents=True, exist_ok=True)
    if n_disease_regions + n_sensitive_regions > n_rois:
        raise ValueError("more planted regions than ROIs")

    planted = rng.permutation(n_rois)
    disease_regions = np.sort(planted[:n_disease_regions])
    sensitive_regions = np.sort(planted[n_disease_regions : n_disease_regions + n_sensitive_regions])
    networks = _network_assignment(n_rois, n_networks, rng)
    site_names = [f"SITE{chr(ord('A') + s)}" for s in range(n_sites)]
    site_lengths = rng.choice(SCAN_LENGTHS, size=n_sites, replace=n_sites > len(SCAN_LENGTHS))
    site_noise = rng.uniform(0.8, 1.3, size=n_sites)
    site_global = rng.uniform(0.1, 0.5, size=n_sites)
    if site_rng is not None:
        site_pattern = site_effect * site_rng.standard_normal((n_sites, n_rois))
        site_gain = np.exp(site_rng.normal(0.0, site_effect / 2, size=n_sites))

    rows = []
    short_subjects = set(rng.choice(n_subjects, size=min(n_short_scans, n_subjects), replace=False).tolist())
    for index in range(n_subjects):
        subject_id = f"sim{index + 1:04d}"
        site = int(rng.integers(n_sites))
        diagnosis = int(rng.random() < 0.5)
        male = rng.random() < (p_male_given_disease if diagnosis else p_male_given_control)
        n_volumes = (
            short_scan_volumes if index in short_subjects else int(site_lengths[site] + rng.integers(-4, 5))
        )
        base_loading = rng.uniform(0.45, 0.75, size=n_rois)
        latent = rng.standard_normal((n_volumes, n_networks + 3))
        if shared is not None:  # subject-level network coupling strengths: a low-rank factor across edges
            base_loading = (
                base_loading * np.exp(shared.normal(0, setting["network_sd"], n_networks))[networks]
            )
        signal = latent[:, networks] * base_loading
        signal += site_global[site] * latent[:, [n_networks]]  # site-specific global signal
        if shared is not None:  # a subject-specific global signal of varying strength (rank one)
            signal += abs(shared.normal(0, setting["global_sd"])) * shared.standard_normal((n_volumes, 1))
        if diagnosis:
            # planted disease regions decouple from their networks and couple among themselves
            signal[:, disease_regions] = (1 - disease_effect) * signal[
                :, disease_regions
            ] + disease_effect * 1.4 * latent[:, [n_networks + 1]]
        if not male:
            signal[:, sensitive_regions] += sensitive_effect * 1.4 * latent[:, [n_networks + 2]]
        if site_rng is not None:
            signal = site_gain[site] * signal + site_rng.standard_normal((n_volumes, 1)) * site_pattern[site]
        values = signal + site_noise[site] * rng.standard_normal((n_volumes, n_rois))
        if rng.random() < zero_roi_fraction:
            values[:, rng.choice(n_rois, size=int(rng.integers(1, 4)), replace=False)] = 0.0
        if series_sink is not None:
            series_sink(subject_id, values)
        else:
            path = ts_dir / f"{subject_id}_rois.1D"
            header = "\t".join(f"#{k + 1}" for k in range(n_rois))
            np.savetxt(path, values, fmt="%.5f", delimiter="\t", header=header, comments="")
        srs = rng.normal(90, 25) if diagnosis else rng.normal(25, 15)
        rows.append(
            {
                "participant_id": subject_id,
                "site": site_names[site],
                "dx": 1 if diagnosis else 2,  # ABIDE coding: 1 = patient, 2 = control
                "sex": "M" if male else "F",
                "age": round(float(rng.uniform(7, 40)), 1),
                "srs": round(max(0.0, srs)) if rng.random() > srs_missing_fraction else -9999,
            }
        )
    table = pd.DataFrame(rows).astype({"age": object, "dx": object})
    # traps: a few unknown ages, one subject with no diagnosis, one phenotype row with no file
    table.loc[rng.choice(n_subjects, size=max(1, n_subjects // 40), replace=False), "age"] = "N/A"
    table.loc[int(rng.integers(n_subjects)), "dx"] = -9999
    table = pd.concat(
        [
            table,
            pd.DataFrame(
                [
                    {
                        "participant_id": "sim9999",
                        "site": site_names[0],
                        "dx": 1,
                        "sex": "M",
                        "age": 20.0,
                        "srs": 80,
                    }
                ]
            ),
        ],
        ignore_index=True,
    )
    table.to_csv(out_dir / "participants.tsv", sep="\t", index=False)

    coordinates = roi_coordinates(min(n_rois, 200))
    if n_rois > len(coordinates):  # beyond the atlas: jittered copies, only for scaling benchmarks
        extra = coordinates.sample(n_rois - len(coordinates), replace=True, random_state=seed).copy()
        extra[["x_mni", "y_mni", "z_mni"]] += rng.normal(0, 3, size=(len(extra), 3))
        coordinates = pd.concat([coordinates, extra], ignore_index=True)
        coordinates["roi"] = np.arange(1, n_rois + 1)
    coordinates.to_csv(out_dir / "roi_coordinates.csv", index=False)
    truth = {
        "disease_regions": disease_regions.tolist(),
        "sensitive_regions": sensitive_regions.tolist(),
        "sensitive_attribute": "sex",
        "n_rois": n_rois,
        "seed": seed,
        **({"site_effect": site_effect} if site_effect else {}),
        "short_scan_subjects": sorted(f"sim{i + 1:04d}" for i in short_subjects),
    }
    if setting_name != "generous":  # (the demo's ground truth stays as it was)
        truth.update(signal=setting_name, disease_effect=disease_effect)
    (out_dir / "ground_truth.json").write_text(json.dumps(truth, indent=2))
    return truth


def load_simulated(raw_dir):
    """Read a cohort written by :func:`simulate_cohort` as a :class:`SourceData`."""
    raw_dir = Path(raw_dir)
    phenotypes = pd.read_csv(raw_dir / "participants.tsv", sep="\t", dtype=str, keep_default_na=False)
    manifest, missing = [], []
    for subject_id in phenotypes["participant_id"]:
        path = raw_dir / "timeseries" / f"{subject_id}_rois.1D"
        if path.exists():
            manifest.append(
                {"subject_id": subject_id, "kind": "roi_text", "path": str(path), "confounds": ""}
            )
        else:
            missing.append((subject_id, "no file", f"expected {path}"))
    return SourceData(
        pd.DataFrame(manifest, columns=MANIFEST_COLUMNS),
        phenotypes,
        str(raw_dir / "participants.tsv"),
        missing,
    )


def simulated_connectomes(raw_dir, min_volumes=50):
    """Fisher-z correlation connectomes (upper triangle, row-major) of a cohort written by
    :func:`simulate_cohort`, for in-process controls that need no data stage: (edges (n, E), diagnosis
    (1 = patient), site, sex, subject ids). Subjects without diagnosis, file or ``min_volumes`` volumes are
    left out (the data stage logs them; here they are the generator's planted traps)."""
    raw_dir = Path(raw_dir)
    phenotypes = pd.read_csv(raw_dir / "participants.tsv", sep="\t", dtype=str, keep_default_na=False)
    edges, diagnosis, sites, sexes, ids = [], [], [], [], []
    for row in phenotypes.itertuples():
        path = raw_dir / "timeseries" / f"{row.participant_id}_rois.1D"
        if row.dx not in ("1", "2") or not path.exists():
            continue
        series = pd.read_csv(path, sep="\t").to_numpy(dtype=float)
        if len(series) < min_volumes:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            correlation = np.corrcoef(series.T)
        fisher = np.nan_to_num(np.arctanh(np.clip(correlation, -0.999999, 0.999999)))
        edges.append(fisher[np.triu_indices(len(fisher), k=1)])
        diagnosis.append(int(row.dx == "1"))
        sites.append(row.site)
        sexes.append(row.sex)
        ids.append(row.participant_id)
    return np.array(edges), np.array(diagnosis), np.array(sites), np.array(sexes), ids


def simulated_connectome_arrays(n_rois=100, min_volumes=50, **cohort):
    """:func:`simulate_cohort` in memory, as :func:`simulated_connectomes` reads it (without the files:
    for benchmarks at ABIDE's sizes, where writing and parsing 1000 ``.1D`` files costs a minute per
    cohort): (ground truth, edges (n, E), diagnosis (1 = patient), site, sex). The same draws as the
    written cohort; values are not rounded to the files' 5 decimals, and subjects left out are those
    without diagnosis or ``min_volumes`` volumes (the phenotype row without a file has none)."""
    import tempfile

    series = {}
    upper = np.triu_indices(n_rois, k=1)

    def keep(subject_id, values):
        if len(values) >= min_volumes:
            with np.errstate(invalid="ignore", divide="ignore"):
                correlation = np.corrcoef(values.T)
            series[subject_id] = np.nan_to_num(np.arctanh(np.clip(correlation, -0.999999, 0.999999)))[upper]

    with tempfile.TemporaryDirectory() as folder:
        truth = simulate_cohort(folder, n_rois=n_rois, series_sink=keep, **cohort)
        phenotypes = pd.read_csv(
            Path(folder) / "participants.tsv", sep="\t", dtype=str, keep_default_na=False
        )
    rows = phenotypes[phenotypes["dx"].isin(["1", "2"]) & phenotypes["participant_id"].isin(series.keys())]
    edges = np.array([series[s] for s in rows["participant_id"]])
    return (
        truth,
        edges,
        (rows["dx"] == "1").to_numpy().astype(int),
        rows["site"].to_numpy(),
        rows["sex"].to_numpy(),
    )
