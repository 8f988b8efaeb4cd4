"""Notebook 03's figures (IABF, paper 004), drawn from its tables and its saved image arrays."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import MaxNLocator

from repro.bundle.compare import paper_numbers
from repro.bundle.plotting import paper_vs_ours, paper_vs_ours_dots, show_image_grid
from repro.parts.iabf import PART
from repro.plots.registry import figure, image_floats

NB = PART.notebook

COLORS = {"NECST": "tab:blue", "ABF": "tab:orange", "IABF": "tab:green"}


def table1_metric(dataset: str) -> str:
    """The paper's unit: per-pixel Bernoulli cross-entropy in nats on binary MNIST, squared L2 per image elsewhere."""
    return "bce_per_pixel" if dataset == "binary_mnist" else "l2_per_image"


@figure(NB, "table1_{dataset}", tables={"results": "table1_{dataset}"}, reproduces="IABF Table 1",
        description="NECST / ABF / IABF, ours and paper: with one eps a dot plot by method (each seed, mean and "
                    "95 % t-interval over seeds, paper's value), with several test distortion vs eps (error bars: "
                    "std over seeds), {dataset}")
def table1(results: pd.DataFrame, *, dataset: str):
    """Test distortion of NECST, ABF and IABF beside the paper's: a dot plot by method for one eps, a line over eps
    for several."""
    metric = table1_metric(dataset)
    ref = paper_numbers("iabf", "Table 1")
    ref = ref[(ref.dataset == dataset) & ref.noise.isin(results.noise.unique())]
    ours = results[results.metric == metric]
    if results.noise.nunique() == 1:
        fig, ax = plt.subplots(figsize=(4.4, 3.4))
        paper_vs_ours_dots(ax, ours, ref, group="method", colors=COLORS)
        ax.set_xlabel(f"method (BSC $\\varepsilon$ = {results.noise.iloc[0]:g})")
    else:
        fig, ax = plt.subplots(figsize=(5.2, 3.4))
        paper_vs_ours(ax, ours, ref, x="noise", group="method", colors=COLORS)
        ax.set_xlabel("BSC flip probability $\\varepsilon$")
    if ours.empty:  # a table written before the notebook reported this metric (binary MNIST before bce_per_pixel)
        ax.text(0.5, 0.5, f"ours: no {metric} rows in this table\n(written before the notebook reported it)",
                transform=ax.transAxes, ha="center", va="center", fontsize=8, color="0.4")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(f"Table 1, {dataset}, {int(results.bits.iloc[0])} bits")
    ax.legend(fontsize=7)
    return fig


def _validation_curves(history: pd.DataFrame, dataset: str):
    """Validation distortion per epoch of NECST and IABF, one panel per eps, one line per seed (the first seed
    opaque and labelled), a star at the tested checkpoint."""
    # the first seed of the run's main seeds: the training grid lists them first (then the extra seeds)
    first_seed = history.seed.iloc[0]
    eps_list = sorted(history.eps.unique())
    # constrained layout keeps the suptitle above the panel titles; epochs are whole numbers on the x axis (half an
    # epoch of margin on each side, so that a single epoch gets one tick instead of crowded fractional ones)
    fig, axes = plt.subplots(1, len(eps_list), figsize=(3.2 * len(eps_list), 3.2), squeeze=False,
                             layout="constrained")
    for ax, eps in zip(axes[0], eps_list):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        ax.set_xlim(history.epoch.min() - 0.5, history.epoch.max() + 0.5)
        for method in ("NECST", "IABF"):
            for seed, h in history[(history.method == method) & (history.eps == eps)].groupby("seed"):
                ax.plot(h.epoch, h.val_l2_per_image, marker="o", ms=3, color=COLORS[method],
                        alpha=0.9 if seed == first_seed else 0.4, label=method if seed == first_seed else None)
                sel = h[h.selected]
                ax.plot(sel.epoch, sel.val_l2_per_image, marker="*", ms=10, color=COLORS[method], ls="none")
        ax.set_title(f"$\\varepsilon$ = {eps}")
        ax.set_xlabel("epoch")
    axes[0, 0].set_ylabel("validation L2 per image")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"{dataset}: validation distortion per epoch (star: tested checkpoint)", fontsize=9)
    return fig


@figure(NB, "figure2", tables={"history": "training_history_cifar10"}, reproduces="IABF Figure 2",
        description="cifar10: validation distortion per epoch, NECST vs IABF, one panel per eps")
def figure2(history: pd.DataFrame):
    """CIFAR-10 validation distortion per epoch, NECST vs IABF, one panel per eps (the paper's Figure 2)."""
    return _validation_curves(history, "cifar10")


@figure(NB, "validation_curves_{dataset}", tables={"history": "training_history_{dataset}"},
        reproduces="training log",
        description="{dataset}: validation distortion per epoch, NECST vs IABF, one panel per eps")
def validation_curves(history: pd.DataFrame, *, dataset: str):
    """Validation distortion per epoch, NECST vs IABF, one panel per eps (Figure 2's panels for the other
    datasets)."""
    return _validation_curves(history, dataset)


@figure(NB, "figure3_markov_chains", arrays={"chains": "figure3_markov_chains_images"},
        reproduces="IABF Figure 3", description="chains from the same test digits, NECST and IABF rows alternating")
def figure3_markov_chains(chains: dict):
    """Markov chains from the same test digits through the BSC, one row per chain, NECST and IABF alternating."""
    states = image_floats(chains["states"])  # (method, chain, step, C, H, W)
    methods = [str(m) for m in chains["methods"]]
    n_chains, n_steps = states.shape[1:3]
    order = [(i, n) for n in range(n_chains) for i in range(len(methods))]
    # square tiles of 0.55 in, and half an inch for the title (taller left a blank band under it)
    fig, ax = plt.subplots(figsize=(n_steps * 0.55, len(order) * 0.55 + 0.5), layout="constrained")
    show_image_grid(ax, [states[i, n] for i, n in order], row_labels=[methods[i] for i, _ in order], fontsize=6)
    fig.suptitle(f"Figure 3: Markov chains through BSC({float(chains['eps'])}), seed {int(chains['seed'])} models",
                 fontsize=9)
    return fig
