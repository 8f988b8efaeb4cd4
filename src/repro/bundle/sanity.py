"""Sanity baselines that every distortion table is held against (``../shared/CLAIMS.md``, "Sanity baselines").

- :func:`mean_image_baselines`: the distortion of always outputting the training-set mean image, per dataset and
  split, in every unit the results files use (per image, per pixel, binarized per pixel, Bernoulli cross-entropy
  per pixel), computed from the data through :func:`repro.data.load_dataset`.
- :func:`below_baseline`: is a model's distortion clearly below that baseline?
- :func:`message_dependence`: for generative decoders, is the distortion to the source image clearly below the
  distortion to a random other test image (paired over test images, bootstrap interval)?
- :func:`still_falling`: per validation curve (a history CSV with ``epoch``, a ``val_*`` column and a
  ``selected`` flag), is the selected epoch the last one of a curve that is still falling?
- :func:`compute_fraction`: image passes used / the paper's, with the papers' training lengths held once, as data,
  in :data:`PAPER_TRAINING`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from repro.core.checks import ConfigError, check_choice, check_range

# A model "clearly" beats the mean image when its distortion is below this fraction of the mean image's.
CLEARLY_BELOW = 0.9
S3_FACTOR = 0.8  # CLAIMS.md S3: distortion to the source below 0.8 x the distortion to another test image
ALV_MAX_RATIO = 1.1  # CLAIMS.md, bw.alv_lower_fid: ALV / no-ALV distortion <= 1.1 at every bandwidth

# The papers' training lengths (epochs, training images), each with where it comes from. None: not stated.
PAPER_TRAINING: dict[tuple[str, str], dict] = {
    ("generative_dna", "mnist"): dict(epochs=100, n_train=60000,
                                      source="paper 000 sec. IV: 100 epochs; the standard 60k MNIST training set"),
    **{("necst", d): dict(epochs=200, n_train=n, source=f"SPEC sec. 2: 200 epochs; SPEC datasets table: {n} {d} "
                                                           "training images")
       for d, n in (("binary_mnist", 50000), ("mnist", 50000), ("omniglot", 24345), ("cifar10", 40000),
                    ("random_bits", 5000))},
    ("necst", "celeba32"): dict(epochs=200, n_train=None,
                                source="SPEC sec. 2: 200 epochs; the NECST paper's CelebA training-set size is not "
                                       "stated"),
    **{("iabf", d): dict(epochs=200, n_train=n, source=f"IABF follows NECST's setting (SPEC sec. 2): 200 epochs on "
                                                          f"{n} {d} training images")
       for d, n in (("binary_mnist", 50000), ("mnist", 50000), ("omniglot", 24345))},
    ("iabf", "cifar10"): dict(epochs=500, n_train=40000,
                              source="IABF Figure 2 (SPEC sec. 3): 500 epochs on the 40k NECST CIFAR-10 split"),
    ("bandwidth", "celeba32"): dict(epochs=None, n_train=None,
                                    source="paper 003 states neither its epochs nor its CelebA training-set size"),
}

UNITS = ("l2_per_image", "l2_per_pixel", "l2_per_pixel_binarized", "bce_per_pixel")


def mean_image_distortion(train_x, test_x, binary: bool) -> dict[str, float]:
    """Distortion of the training mean image on ``test_x`` (tensors or arrays in [0, 1], first axis = images).

    Returns ``l2_per_image`` (sum of squared errors per image, averaged), ``l2_per_pixel`` (that / pixels) and,
    for binary data, ``l2_per_pixel_binarized`` (the mean image thresholded at 0.5: fraction of wrong pixels) and
    ``bce_per_pixel`` (Bernoulli negative log-likelihood of the mean image, nats per pixel).
    """
    tr = np.asarray(train_x, dtype=np.float64).reshape(len(train_x), -1)
    te = np.asarray(test_x, dtype=np.float64).reshape(len(test_x), -1)
    if tr.shape[1] != te.shape[1]:
        raise ConfigError(f"train and test images differ in size: {tr.shape[1]} vs {te.shape[1]} values")
    mean = tr.mean(axis=0)
    per_image = ((te - mean) ** 2).sum(axis=1)
    out = {"l2_per_image": float(per_image.mean()), "l2_per_pixel": float(per_image.mean() / te.shape[1])}
    if binary:
        out["l2_per_pixel_binarized"] = float(((te - (mean > 0.5)) ** 2).mean())
        p = np.clip(mean, 1e-7, 1 - 1e-7)
        out["bce_per_pixel"] = float(-(te * np.log(p) + (1 - te) * np.log(1 - p)).mean())
    return out


def mean_image_baselines(datasets, data_dir=None, split: str = "test") -> pd.DataFrame:
    """One row per (dataset, split, unit): the mean-image distortion, with train/test sizes, from the data."""
    from repro.data import dataset_spec, load_dataset

    rows = []
    for name in datasets:
        dataset_spec(name)  # one line naming the valid datasets for an unknown one
        train = load_dataset(name, "train", data_dir)
        test = load_dataset(name, split, data_dir)
        values = mean_image_distortion(train.x, test.x, binary=dataset_spec(name).binary)
        for unit, value in values.items():
            rows.append(dict(dataset=name, split=split, unit=unit, value=value, n_train=len(train.x),
                             n_test=len(test.x), pixels=int(np.prod(test.x.shape[1:]))))
    return pd.DataFrame(rows)


def baseline_value(baselines: pd.DataFrame | None, dataset: str, unit: str, split: str = "test") -> float | None:
    """The mean-image distortion for ``dataset`` in ``unit``; None when the table lacks it."""
    check_choice("unit", unit, UNITS)
    if baselines is None or baselines.empty:
        return None
    hit = baselines[(baselines.dataset == dataset) & (baselines.unit == unit) & (baselines.split == split)]
    return float(hit.value.iloc[0]) if len(hit) else None


def below_baseline(distortion: float, baseline: float | None, margin: float = CLEARLY_BELOW) -> bool | None:
    """True when ``distortion`` is below ``margin`` x the mean-image ``baseline``; None when there is no baseline."""
    check_range("margin", margin, 0.0, 1.0)
    if baseline is None or (isinstance(baseline, float) and math.isnan(baseline)):
        return None
    return bool(distortion < margin * baseline)


def bootstrap_mean_interval(values, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``values`` (e.g. paired per-image differences)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    if len(v) < 2:
        raise ConfigError(f"a bootstrap interval needs at least 2 values, got {len(v)}")
    check_range("n_boot", n_boot, 100, 10**6, integer=True)
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), size=(n_boot, len(v)))].mean(axis=1)
    alpha = (1 - level) / 2
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


@dataclass
class MessageDependence:
    to_source: float
    to_other: float
    diff_ci: tuple[float, float]  # interval of (to_other - to_source), paired over images
    passes: bool


def message_dependence(df: pd.DataFrame, source_col: str = "l2_to_source",
                       other_col: str = "l2_to_other") -> MessageDependence | None:
    """Distortion to the source vs to a random other test image, paired per image; None when columns are absent.

    Passes (S3 of CLAIMS.md) when the bootstrap interval of (to_other - to_source) lies above zero and the mean
    distortion to the source is below ``S3_FACTOR`` (0.8) x the distortion to another image.
    """
    if source_col not in df.columns or other_col not in df.columns:
        return None
    d = df[[source_col, other_col]].dropna()
    diff = (d[other_col] - d[source_col]).to_numpy()
    lo, hi = bootstrap_mean_interval(diff)
    src, oth = float(d[source_col].mean()), float(d[other_col].mean())
    return MessageDependence(src, oth, (lo, hi), bool(lo > 0 and src < S3_FACTOR * oth))


def still_falling(history: pd.DataFrame, val_col: str | None = None, group_cols=None,
                  tolerance: float = 0.0) -> pd.DataFrame:
    """Per validation curve: the selected epoch, the last epoch, and whether the curve is still falling there.

    ``history`` has ``epoch``, a validation column (``val_col`` or the first ``val_*`` column) and a boolean
    ``selected``. A curve is *still falling* when the selected epoch is the last one and its validation value is
    below the previous epoch's by more than ``tolerance`` (relative). Raises when the columns are missing.
    """
    if val_col is None:
        cands = [c for c in history.columns if c.startswith("val_")]
        if not cands:
            raise ConfigError(f"history has no val_* column; columns: {', '.join(history.columns)}")
        val_col = cands[0]
    for col in ("epoch", val_col, "selected"):
        if col not in history.columns:
            raise ConfigError(f"history lacks column {col!r}; columns: {', '.join(history.columns)}")
    group_cols = [c for c in (group_cols or ["method", "eps", "seed"]) if c in history.columns]
    rows = []
    for key, g in history.sort_values("epoch").groupby(group_cols, dropna=False) if group_cols else [((), history)]:
        g = g.sort_values("epoch")
        sel = g[g.selected.astype(str).str.lower() == "true"]
        sel_epoch = int(sel.epoch.iloc[-1]) if len(sel) else int(g.loc[g[val_col].idxmin(), "epoch"])
        last = int(g.epoch.iloc[-1])
        falling = False
        if sel_epoch == last and len(g) >= 2:
            prev, cur = float(g[val_col].iloc[-2]), float(g[val_col].iloc[-1])
            falling = cur < prev * (1 - tolerance)
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(group_cols, key)), "selected_epoch": sel_epoch, "last_epoch": last,
                     "still_falling": falling})
    return pd.DataFrame(rows)


def compute_fraction(paper: str, dataset: str, epochs: float, n_train: float) -> tuple[float, str]:
    """(image passes used / the paper's, the sentence saying where the paper's numbers come from).

    NaN when the paper does not state its training length.
    """
    check_choice("paper/dataset", (paper, dataset), list(PAPER_TRAINING))
    ref = PAPER_TRAINING[(paper, dataset)]
    check_range("epochs", epochs, 0, 10**6)
    check_range("n_train", n_train, 1, 10**9)
    if ref["epochs"] is None or ref["n_train"] is None:
        return float("nan"), ref["source"]
    return float(epochs * n_train / (ref["epochs"] * ref["n_train"])), ref["source"]


def write_baselines(df: pd.DataFrame, path: Path, commit: str, profile: str) -> Path:
    out = df.copy()
    out["profile"], out["commit"] = profile, commit
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    out.to_csv(tmp, index=False)
    tmp.replace(path)
    return path
