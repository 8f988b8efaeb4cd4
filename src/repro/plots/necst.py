"""Notebook 02's figures (NECST, paper 001), drawn from its tables."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from repro.bundle.compare import paper_numbers
from repro.bundle.plotting import paper_vs_ours, show_image_grid
from repro.parts.necst import PART
from repro.plots.registry import figure, image_floats

NB = PART.notebook


@figure(NB, "figure3_left_{dataset}", tables={"points": "figure3_left_{dataset}"},
        reproduces="NECST Figure 3 (left)", description="NECST vs VAE+LDPC distortion over eps, {dataset}")
def figure3_left(points: pd.DataFrame, *, dataset: str):
    """Per-pixel error of the binarized output over eps, NECST and VAE+LDPC (mean and std over seeds) beside the
    paper's points."""
    ours = points[points.metric == "l2_per_pixel"]
    ref = paper_numbers("necst", "Figure 3 left")
    ref = ref[ref.dataset == dataset]
    fig, ax = plt.subplots(figsize=(5, 3.4))
    paper_vs_ours(ax, ours, ref, x="noise", group="method", colors={"NECST": "tab:blue", "VAE+LDPC": "tab:red"})
    ax.set_xlabel("BSC flip probability $\\varepsilon$")
    ax.set_ylabel("per-pixel error (binarized output)")
    ax.set_title(f"{dataset}, {int(points.bits.iloc[0])} bits")
    ax.legend(fontsize=7)
    return fig


@figure(NB, "figure3_right_{dataset}", tables={"timing_runs": "figure3_right_{dataset}"},
        reproduces="NECST Figure 3 (right)", description="decoding time per word, NECST decoder vs 50 BP iterations")
def figure3_right(timing_runs: pd.DataFrame, *, dataset: str):
    """Median seconds per word over the timed repeats, per method and mode, on a log axis."""
    keys = ["method", "mode", "bits", "batch", "device"]
    timing = timing_runs.groupby(keys, as_index=False).seconds_per_word.median()
    fig, ax = plt.subplots(figsize=(4.5, 3))
    piv = timing.pivot(index="mode", columns="method", values="seconds_per_word") * 1e3
    piv.plot.bar(ax=ax, logy=True, rot=0)
    ax.set_ylabel("ms per word (log)")
    necst_device = timing.loc[timing.method == "NECST", "device"]
    ax.set_title(f"decoding {int(timing.bits.iloc[0])} bits on {necst_device.iloc[0] if len(necst_device) else '?'}")
    return fig


@figure(NB, "figure2_{dataset}", tables={"summary": "figure2_{dataset}"}, reproduces="NECST Figure 2",
        description="extra bits WebP + ideal channel code needs to match NECST's distortion")
def figure2(summary: pd.DataFrame, *, dataset: str):
    """Mean extra bits WebP + an ideal channel code needs over NECST's m, per eps."""
    fig, ax = plt.subplots(figsize=(4.5, 3))
    ax.bar([str(e) for e in summary.eps], summary.extra_bits, color="tab:green")
    ax.axhline(0, color="k", lw=0.8)
    ax.set_xlabel("BSC flip probability $\\varepsilon$")
    ax.set_ylabel(f"extra bits over NECST's m = {int(summary.code_length.iloc[0])}")
    ax.set_title(f"{dataset}: WebP + ideal channel code")
    return fig


@figure(NB, "figure4_interpolation", arrays={"images": "figure4_interpolation_images"}, reproduces="NECST Figure 4",
        description="latent interpolation by flipping one more differing bit per step")
def figure4_interpolation(images: dict):
    """One row per pair of test digits: the decoded image after k of the differing bits are flipped, for 12 values
    of k from none to all."""
    frames, flips, pairs = images["frames"], images["flips"], images["pairs"]
    fig, axes = plt.subplots(len(pairs), 1, figsize=(frames.shape[1] * 0.8, len(pairs) * 0.9), squeeze=False)
    for r, (i, j) in enumerate(pairs):
        show_image_grid(axes[r, 0], [image_floats(frames[r])], row_labels=[f"{i} -> {j}"],
                        col_labels=[str(k) for k in flips[r]], fontsize=6)
    fig.suptitle(f"Figure 4: decoding after k bit flips (eps = {float(images['eps']):g} model)", fontsize=9)
    return fig


@figure(NB, "markov_chain_samples", arrays={"images": "markov_chain_samples_images"},
        reproduces="NECST Markov-chain samples", description="chains started from test images, one row per chain")
def markov_chain_samples(images: dict):
    """One row per chain started from a test image, one column per step."""
    chain = image_floats(images["chain"])  # (steps + 1, chains, C, H, W)
    fig, ax = plt.subplots(figsize=(chain.shape[0] * 0.7, chain.shape[1] * 0.75))
    show_image_grid(ax, chain.transpose(1, 0, 2, 3, 4), col_labels=[str(t) for t in range(chain.shape[0])],
                    fontsize=6)
    fig.suptitle(f"Markov chain x -> y ~ q(y|x) through BSC({float(images['eps']):g}) -> x = decoder mean",
                 fontsize=9)
    return fig
