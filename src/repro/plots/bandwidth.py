"""Notebook 04's figures (the bandwidth-limited AWGN channel, paper 003), drawn from its tables.

Values every figure shares (the mean-image baseline, seeds, bands, the bandwidth-limited SNR and beta) come from
``figure_settings_{dataset}``; the FID floor and feature name from ``fid_reference_{dataset}``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import MaxNLocator

from repro.bundle.plotting import show_image_grid
from repro.bundle.verdict import seed_interval
from repro.parts.bandwidth import PART
from repro.plots.registry import figure, image_floats, one_row

NB = PART.notebook
SYSTEM_COLORS = {"joint": "tab:blue", "separate": "tab:red"}
BASE_VARIANTS = ("gaussian prior", "learned prior")  # the no-ALV decoders; every other variant is an ALV decoder


def _interval(values: pd.Series) -> pd.Series:
    return pd.Series(seed_interval(values.to_numpy(dtype=float)), index=["m", "lo", "hi"])


def _error_bars(stats: pd.DataFrame) -> list:
    return [stats.m - stats.lo.fillna(stats.m), stats.hi.fillna(stats.m) - stats.m]


def beta_text(beta: float) -> str:
    """A chosen beta as Figure 4 writes it: ``0.1``, ``10000``, ``0`` (the joint system without the rate term, eq. 8
    as written), and ``rate 0`` for the separate system's rate-0 code (beta = inf: nothing sent, the training mean
    image received)."""
    return "rate 0" if np.isinf(beta) else f"{beta:g}"


def alv_name(variant: str) -> str:
    """``learned prior + ALV (skip-kl10)`` -> ``ALV (skip-kl10)``."""
    return variant.replace("learned prior + ", "")


@figure(NB, "figure4_{dataset}", tables={"figure4": "figure4_{dataset}", "settings": "figure_settings_{dataset}"},
        reproduces="Figure 4",
        description="test distortion vs SNR, joint vs separate, best beta each (numbers: chosen beta)")
def figure4(figure4: pd.DataFrame, settings: pd.DataFrame, *, dataset: str):
    """Test distortion vs SNR at the best beta (validation) of each system, 95 % t-intervals over seeds; the
    chosen beta written beside each point."""
    s = one_row(settings)
    fig, ax = plt.subplots(figsize=(5, 3.4))
    for system, g in figure4.groupby("system"):
        ax.errorbar(g.snr_db, g.test_l2, yerr=[g.test_l2 - g.ci_low.fillna(g.test_l2),
                                               g.ci_high.fillna(g.test_l2) - g.test_l2],
                    marker="o", color=SYSTEM_COLORS[system], label=f"{system} (best beta per SNR)", capsize=2)
        for _, r in g.iterrows():
            ax.annotate(beta_text(r.beta), (r.snr_db, r.test_l2), fontsize=6, textcoords="offset points",
                        xytext=(3, 3) if system == "joint" else (3, -8), color=SYSTEM_COLORS[system])
    ax.axhline(s.mean_image_l2, color="0.5", ls="--", lw=1, label="mean image")
    ax.set_xlabel("SNR (dB)")
    ax.set_ylabel("distortion: squared L2 per image")
    ax.set_title(f"Figure 4: joint vs separate over AWGN, {dataset}, {int(s.n_seeds)} seed(s), 95% CI\n"
                 "numbers: the beta chosen on validation (0: eq. 8 as written)", fontsize=8)
    ax.legend(fontsize=7)
    return fig


@figure(NB, "figure7_{dataset}",
        tables={"sweep": "figure7_all_betas_{dataset}", "settings": "figure_settings_{dataset}"},
        reproduces="Figure 7", description="test distortion vs SNR for every beta, joint and separate")
def figure7(sweep: pd.DataFrame, settings: pd.DataFrame, *, dataset: str):
    """Test distortion vs SNR for every trained beta of each system's grid (mean over seeds); the separate
    system's rate-0 code (beta = inf) is the dashed mean-image line."""
    s = one_row(settings)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
    sweep = sweep[np.isfinite(sweep.beta.astype(float))]
    test_mean = sweep[sweep.split == "test"].groupby(["system", "beta", "snr_db"]).value.mean().reset_index()
    for ax, system in zip(axes, ("joint", "separate")):
        grid = sorted(test_mean[test_mean.system == system].beta.unique())
        shades = plt.cm.viridis(np.linspace(0, 0.9, len(grid)))
        for shade, beta in zip(shades, grid):
            g = test_mean[(test_mean.system == system) & (test_mean.beta == beta)]
            ax.plot(g.snr_db, g.value, marker="o", ms=3, color=shade, label=f"beta = {beta:g}")
        ax.axhline(s.mean_image_l2, color="0.5", ls="--", lw=1)
        ax.set_title(f"{system}", fontsize=9)
        ax.set_xlabel("SNR (dB)")
        ax.legend(fontsize=6)
    axes[0].set_ylabel("distortion: squared L2 per image")
    fig.suptitle(f"Figure 7: every beta of the grid, {dataset} (dashed: mean image, the separate system's rate-0 "
                 "code)", fontsize=9)
    fig.tight_layout()
    return fig


@figure(NB, "figure5_left_{dataset}",
        tables={"bl": "figure5_bandwidth_{dataset}", "band_info": "band_information_{dataset}",
                "settings": "figure_settings_{dataset}"},
        reproduces="Figure 5 (left)",
        description="test distortion vs bandwidth (both priors, two coders and one coder) and what each band can "
                    "deliver")
def figure5_left(bl: pd.DataFrame, band_info: pd.DataFrame, settings: pd.DataFrame, *, dataset: str):
    """Left: test distortion vs bandwidth for the Gaussian- and learned-prior coders (and the learned-prior coder
    with N(0, I) filling its lost bands), 95 % t-intervals over seeds. Right: what each band can deliver."""
    s = one_row(settings)
    bands = range(1, int(s.n_bands) + 1)
    l2 = bl[bl.metric == "l2_per_image"]
    curves = [("gaussian prior", "own", "tab:gray", "-", "gaussian-prior coder"),
              ("learned prior", "own", "tab:blue", "-", "learned-prior coder"),
              ("learned prior", "gaussian", "tab:blue", "--", "learned-prior coder, N(0, I) fills")]
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.4))
    for variant, fill, color, ls, label in curves:
        g = l2[(l2.variant == variant) & (l2.fill == fill)]
        stats = g.groupby("bandwidth").value.apply(_interval).unstack()
        axes[0].errorbar(stats.index, stats.m, yerr=_error_bars(stats), marker="o", color=color, ls=ls,
                         label=label, capsize=2)
    axes[0].set_xticks(list(bands))
    axes[0].set_xlabel("bandwidth B (bands of 20 received)")
    axes[0].set_ylabel(f"distortion: squared L2 per image\n(mean image: {s.mean_image_l2:.0f})")
    axes[0].legend(fontsize=7)
    for variant, color in (("gaussian prior", "tab:gray"), ("learned prior", "tab:blue")):
        r = band_info[band_info.variant == variant].groupby("band").delivered_bound_nats.mean()
        axes[1].plot(r.index, r.values, marker="o", color=color, label=variant)
    axes[1].axhline(float(band_info.capacity_nats.iloc[0]), color="0.5", ls="--", lw=1, label="capacity at power 1")
    axes[1].set_xticks(list(bands))
    axes[1].set_xlabel("band")
    axes[1].set_ylabel("what the band can deliver (nats)\nmin(rate KL, channel bound)")
    axes[1].legend(fontsize=7)
    fig.suptitle(f"Figure 5 (left): SNR {s.bl_snr_db:g} dB, beta {s.bl_beta:g}, {dataset}, {int(s.n_seeds)} seed(s)",
                 fontsize=9)
    fig.tight_layout()
    return fig


@figure(NB, "figure5_right_{dataset}",
        tables={"bl": "figure5_bandwidth_{dataset}", "choice": "alv_choice_{dataset}",
                "fid_reference": "fid_reference_{dataset}", "settings": "figure_settings_{dataset}"},
        reproduces="Figure 5 (right)",
        description="FID vs bandwidth with and without ALV (features and floor: fid_reference)")
def figure5_right(bl: pd.DataFrame, choice: pd.DataFrame, fid_reference: pd.DataFrame, settings: pd.DataFrame, *,
                  dataset: str):
    """FID vs bandwidth, learned prior: no ALV and the ALV decoder chosen on validation (solid), the other ALV
    decoders trained on every seed (dashed) and the one-seed alternatives (dotted); 95 % t-intervals over seeds;
    the FID of real test images as the floor."""
    s, ref = one_row(settings), one_row(fid_reference)
    chosen = str(choice[choice.chosen].variant.iloc[0])
    fid_t = bl[(bl.metric == "fid") & (bl.fill == "own")]
    seeds_of = fid_t.groupby("variant").seed.nunique()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    others = sorted(v for v in fid_t.variant.unique() if v not in BASE_VARIANTS and v != chosen)
    for variant in ["learned prior", chosen] + others:
        g = fid_t[fid_t.variant == variant].groupby("bandwidth").value.apply(_interval).unstack()
        style = (dict(ls="-", marker="o") if variant in ("learned prior", chosen) else
                 dict(ls="--", marker="o", ms=3) if seeds_of[variant] == int(s.n_seeds) else dict(ls=":", marker="."))
        label = "no ALV" if variant == "learned prior" else alv_name(variant)
        ax.errorbar(g.index, g.m, yerr=_error_bars(g), capsize=2,
                    label=label + (" (chosen)" if variant == chosen else ""), **style)
    ax.axhline(ref.fid_floor, color="0.5", ls="--", lw=1, label="real test images (floor)")
    ax.set_xticks(range(1, int(s.n_bands) + 1))
    ax.set_xlabel("bandwidth B (bands of 20 received)")
    kind = "Inception-v3" if ref.features == "inception" else "offline CNN, not Inception"
    ax.set_ylabel(f"FID ({kind} features; 95 % CI)")
    ax.set_title(f"Figure 5 (right): SNR {s.bl_snr_db:g} dB, learned prior, {dataset}", fontsize=9)
    ax.legend(fontsize=6)
    return fig


@figure(NB, "figure6_{dataset}", arrays={"images": "figure6_images_{dataset}"},
        tables={"settings": "figure_settings_{dataset}"}, reproduces="Figure 6",
        description="test images and their reconstructions at B = 1..5, without and with ALV")
def figure6(images: dict, settings: pd.DataFrame, *, dataset: str):
    """Test images (top row) and, per bandwidth, their reconstructions without ALV (left) and with the chosen ALV
    decoder (right)."""
    s = one_row(settings)
    source = image_floats(images["source"])
    panels = [(str(t), image_floats(r)) for t, r in zip(images["titles"], images["reconstructions"])]
    n_bands, n_fig = panels[0][1].shape[:2]
    fig, axes = plt.subplots(1, len(panels), figsize=((2 * n_fig + 1) * 0.75, (1 + n_bands) * 0.8))
    for ax, (title, recon) in zip(np.atleast_1d(axes), panels):
        show_image_grid(ax, [source] + list(recon), row_labels=["source"] + [f"B = {b}" for b in range(1, n_bands + 1)],
                        title=title, fontsize=7)
    fig.suptitle(f"Figure 6: reconstructions per bandwidth, SNR {s.bl_snr_db:g} dB, {dataset}", fontsize=9)
    return fig


@figure(NB, "appendix_c_binary_{dataset}",
        tables={"history": "appendix_c_binary_{dataset}", "settings": "figure_settings_{dataset}"},
        reproduces="Appendix C",
        description="training curve of a joint system over the relaxed binary symmetric channel")
def appendix_c_binary(history: pd.DataFrame, settings: pd.DataFrame, *, dataset: str):
    """Per seed: the training loss (left) and the distortion (right) with relaxed bits in training and on
    validation, and with hard bits through the real BSC on validation; the mean image as a dotted line."""
    s = one_row(settings)
    eps, temperature = float(history.eps.iloc[0]), float(history.temperature.iloc[0])
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for i, (_seed, h) in enumerate(history.groupby("seed")):
        first = i == 0
        axes[0].plot(h.epoch, h.loss, marker="o", ms=3, color="tab:blue", alpha=0.8)
        axes[1].plot(h.epoch, h.l2, marker="o", ms=3, color="tab:blue", alpha=0.8,
                     label="train, relaxed bits" if first else None)
        axes[1].plot(h.epoch, h.val_l2_relaxed, marker="o", ms=3, color="tab:orange", alpha=0.8,
                     label="validation, relaxed bits" if first else None)
        axes[1].plot(h.epoch, h.val_l2_hard_bsc, marker="o", ms=3, color="tab:green", alpha=0.8,
                     label=f"validation, hard bits through BSC({eps:g})" if first else None)
    axes[0].set_ylabel("training loss D + beta R (nats / image)")
    axes[1].axhline(s.mean_image_l2, color="0.5", ls=":", lw=1, label="mean image")
    axes[1].set_ylabel("squared L2 per image")
    axes[1].legend(fontsize=7)
    for ax in axes:
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(f"Appendix C: training with the relaxed binary channel (T = {temperature:g}), {dataset}, "
                 f"{history.seed.nunique()} seed(s)", fontsize=9)
    fig.tight_layout()
    return fig
