"""Notebook 01's figures (VAE compression with quantized latents, paper 002), drawn from its tables and its
saved image arrays."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from repro.bundle.plotting import show_image_grid
from repro.parts.vae_compression import PART
from repro.plots.registry import figure, image_floats

NB = PART.notebook



@figure(NB, "training_curve", tables={"history": "training_history"}, reproduces="training log",
        description="negative ELBO per epoch")
def training_curve(history: pd.DataFrame):
    """Negative ELBO per epoch, one line per training seed."""
    fig, ax = plt.subplots(figsize=(5, 3))
    for seed, h in history.groupby("seed"):
        ax.plot(h.epoch, h.loss, marker="o", ms=3, label=f"seed {seed}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("negative ELBO (nats / image)")
    ax.set_title("VAE training")
    ax.legend()
    return fig


@figure(NB, "bpp_sweep", tables={"sweep": "sweep"}, reproduces="bits-per-pixel sweep (extension of Table III)",
        description="MS-SSIM, PSNR, ACC vs bpp for VAEU/VAEN, with and without BSC(0.05)")
def bpp_sweep(sweep: pd.DataFrame):
    """MS-SSIM, PSNR and ACC against bits per pixel for VAEU and VAEN, without and through the BSC (mean and std
    band over seeds), with the unquantized-mu decoder as a dotted line."""
    metric_names = {"ms_ssim": "MS-SSIM", "psnr": "PSNR (dB)", "acc": "ACC"}
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    colors = {"VAEU": "tab:orange", "VAEN": "tab:blue"}
    for ax, (metric, label) in zip(axes, metric_names.items()):
        for method in colors:
            for channel, style in (("none", "-"), ("bsc", "--")):
                d = sweep[(sweep.method == method) & (sweep.channel == channel) & (sweep.metric == metric)]
                g = d.groupby("bpp").value.agg(["mean", "std"]).fillna(0)
                ax.plot(g.index, g["mean"], style, marker="o", ms=3, color=colors[method],
                        label=f"{method}, {'BSC 0.05' if channel == 'bsc' else 'no channel'}")
                ax.fill_between(g.index, g["mean"] - g["std"], g["mean"] + g["std"], color=colors[method],
                                alpha=0.15)
        exact = sweep[(sweep.method == "VAE (float mu)") & (sweep.metric == metric)].value.mean()
        ax.axhline(exact, color="0.3", ls=":", lw=1, label="unquantized mu")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
        ax.set_xticks([0.1, 0.2, 0.3, 0.5, 1.0], ["0.1", "0.2", "0.3", "0.5", "1"])
        ax.set_xlabel("bits per pixel")
        ax.set_ylabel(label)
    axes[0].legend(fontsize=7)
    # the dataset and profile of the run: columns of the table (write_table adds ``profile``)
    fig.suptitle(f"{sweep.dataset.iloc[0]}: quality vs rate of quantized VAE latents ({sweep.profile.iloc[0]} profile)")
    fig.tight_layout()
    return fig


@figure(NB, "figure1_reconstructions", arrays={"images": "figure1_reconstructions_images"}, reproduces="Figure 1",
        description="originals, VAEN and VAEU reconstructions after BSC(0.05)")
def figure1_reconstructions(images: dict):
    """Test images (top row) and their VAEN and VAEU reconstructions after the BSC, first seed."""
    rows = image_floats(images["rows"])
    n_rows, n_fig = rows.shape[:2]
    fig, ax = plt.subplots(figsize=(n_fig * 0.9, n_rows * 0.95))
    show_image_grid(ax, list(rows), row_labels=[str(r) for r in images["row_labels"]], fontsize=8)
    fig.suptitle(f"Figure 1: originals, VAEN, VAEU after BSC({float(images['eps'])}), "
                 f"N_bit={int(images['n_bits'])}", fontsize=9)
    return fig
