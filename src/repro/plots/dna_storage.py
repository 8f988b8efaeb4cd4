"""Notebook 05's figures (DNA storage of images, paper 000), drawn from its tables and arrays.

Figure 2d's main series (VAEN/VAEU at ``n_bits_table`` bits, JPEG at ``jpeg_figure_quality``) come from the
one-row ``figure_settings`` table; Figures 3a/3b from the 8-bit pixels of ``figure3<letter>_reconstructions_
coverage<c>_images``; the read-length panel of the simulator check from ``backend_read_lengths``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from repro.bundle.plotting import peer_density_vs_robustness, quality_vs_coverage, show_image_grid
from repro.dna.quality import PSNR_CAP_DB
from repro.parts.dna_storage import PART
from repro.plots.registry import figure, image_floats, one_row

NB = PART.notebook

FAMILIES = {"VAEU": "tab:orange", "VAEN": "tab:blue", "JPEG": "tab:green", "PNG": "tab:red"}


def _n_images(pools: pd.DataFrame) -> int:
    """Images stored per pool (oligos over oligos per image of any pool in the ``oligo_pools`` table)."""
    return int(round(float((pools.oligos / pools.oligos_per_image).iloc[0])))


@figure(NB, "figure2abc_quality_vs_bpp", tables={"sweep": "coverage_sweep", "pools": "oligo_pools"},
        reproduces="Figures 2a, 2b, 2c",
        description="MS-SSIM, PSNR, ACC vs bits per pixel for VAEU, VAEN, JPEG, PNG at several coverages")
def figure2abc(sweep: pd.DataFrame, pools: pd.DataFrame):
    """MS-SSIM, PSNR and ACC against bits per pixel (log) per family, error-free and at coverages 10 and 3, mean
    over seeds."""
    metric_names = {"ms_ssim": "MS-SSIM", "psnr": f"PSNR (dB, capped at {PSNR_CAP_DB:.0f})", "acc": "ACC"}
    coverages = set(sweep.coverage.unique())
    styles = [(np.inf, "-", "error-free"), (10, "--", "coverage 10"), (3, ":", "coverage 3")]
    styles = [s for s in styles if s[0] == np.inf or s[0] in coverages]
    means = sweep.groupby(["method", "setting", "bpp", "coverage", "metric"], dropna=False).value.mean().reset_index()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for ax, (metric, name) in zip(axes, metric_names.items()):
        for fam, color in FAMILIES.items():
            for cov, ls, cov_name in styles:
                d = means[(means.method == fam) & (means.coverage == cov) & (means.metric == metric)].sort_values("bpp")
                ax.plot(d.bpp, d.value, ls, marker="o", ms=3, color=color, label=f"{fam}, {cov_name}")
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(plt.NullFormatter())
        ax.set_xticks([0.1, 0.3, 1, 3, 10], ["0.1", "0.3", "1", "3", "10"])
        ax.set_xlabel("bits per pixel (log scale)")
        ax.set_ylabel(name)
    axes[0].legend(fontsize=6, ncol=2)
    for ax, letter in zip(axes, "abc"):
        ax.set_title(f"Figure 2{letter}", fontsize=9)
    fig.suptitle(f"{sweep.dataset.iloc[0]}: quality vs rate through the DNA channel ({_n_images(pools)} test images, "
                 f"{sweep.profile.iloc[0]} profile)", fontsize=10)
    fig.tight_layout()
    return fig


@figure(NB, "figure2d_msssim_vs_inverse_coverage", tables={"sweep": "coverage_sweep", "settings": "figure_settings"},
        reproduces="Figure 2d",
        description="MS-SSIM vs 1/coverage, one panel per family (every setting), main series in grey")
def figure2d(sweep: pd.DataFrame, settings: pd.DataFrame):
    """MS-SSIM against 1/coverage, one panel per family with every setting (mean and spread over seeds), the other
    families' main series (``figure_settings``: VAEN/VAEU at ``n_bits_table``, JPEG at ``jpeg_figure_quality``,
    PNG) in grey."""
    s = one_row(settings)
    n_bit, quality = int(s.n_bits_table), int(s.jpeg_figure_quality)
    ms = sweep[sweep.metric == "ms_ssim"]
    main_labels = [f"VAEN {n_bit}-bit", f"VAEU {n_bit}-bit", f"JPEG q{quality}", "PNG"]
    markers = "osD^v<>"
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.6), sharey=True)
    for ax, (fam, color) in zip(axes, FAMILIES.items()):
        for other in main_labels:
            d = ms[ms.label == other]
            if len(d) and d.method.iloc[0] != fam:
                d = d.groupby("inv_coverage").value.mean()
                ax.plot(d.index, d.values, color="0.8", lw=0.8, zorder=0)
        labels = list(dict.fromkeys(ms[ms.method == fam].sort_values("setting").label))
        shades = np.linspace(0.45, 1.0, len(labels))
        for j, label in enumerate(labels):
            d = ms[ms.label == label].groupby("inv_coverage").value.agg(["mean", "std"]).fillna(0)
            rgba = plt.matplotlib.colors.to_rgba(color, alpha=float(shades[j]))
            ax.plot(d.index, d["mean"], marker=markers[j % len(markers)], ms=3.5, color=rgba,
                    lw=1.8 if label in main_labels else 1.0, label=label)
            ax.fill_between(d.index, d["mean"] - d["std"], d["mean"] + d["std"], color=color, alpha=0.12)
        ax.set_title(fam, fontsize=9)
        ax.set_xlabel("inverse coverage 1/c")
        ax.legend(fontsize=7, loc="best")
    axes[0].set_ylabel("MS-SSIM")
    fig.suptitle("Figure 2d: MS-SSIM vs inverse coverage (grey: the other families' main series)", fontsize=10)
    fig.tight_layout()
    return fig


@figure(NB, "figure3{letter}_reconstructions_coverage{coverage}",
        arrays={"images": "figure3{letter}_reconstructions_coverage{coverage}_images"},
        reproduces="Figure 3{letter}",
        description="originals, VAEN, VAEU, JPEG, PNG read back at coverage {coverage}; failed decodes marked")
def figure3(images: dict, *, letter: str, coverage: str):
    """Test images and each main series' reconstructions (first seed) read back at one coverage, one row per
    method; a file that failed to decode is a hatched red tile."""
    rows = image_floats(images["rows"])
    labels = [str(t) for t in images["row_labels"]]
    n_fig = rows.shape[1]
    fig, ax = plt.subplots(figsize=(n_fig * 0.9, len(labels) * 0.95))
    show_image_grid(ax, rows, row_labels=labels, marked=images["failed"].astype(bool), mark_text="decode\nfailed",
                    fontsize=7)
    fig.suptitle(f"Figure 3{letter}: coverage {float(images['coverage']):g} (hatched red: the file failed to decode)",
                 fontsize=9)
    return fig


@figure(NB, "backend_error_profiles",
        tables={"profiles": "backend_error_profiles", "lengths": "backend_read_lengths"},
        reproduces="simulator check (Section IV, randomreads)",
        description="measured error rates and read-length distribution of both read simulators")
def backend_error_profiles(profiles: pd.DataFrame, lengths: pd.DataFrame):
    """Per-base error rates measured by alignment per read simulator beside the set rates (left), and the
    distribution of read length minus oligo length per simulator (right, log scale)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    kinds = ["substitution", "insertion", "deletion", "truncation"]
    width = 0.8 / (len(profiles) + 1)
    xs = np.arange(len(kinds))
    first = profiles.iloc[0]
    axes[0].bar(xs, [first.set_substitution, first.set_insertion, first.set_deletion, 0.0], width,
                color="0.7", label="set (per base)")
    for j, row in enumerate(profiles.to_dict("records")):
        axes[0].bar(xs + (j + 1) * width, [row[k] for k in kinds], width, label=f"measured: {row['backend']}")
    axes[0].set_xticks(xs + width * len(profiles) / 2, kinds)
    axes[0].set_ylabel("events per oligo base")
    axes[0].legend(fontsize=7)
    for backend, d in lengths.groupby("backend", sort=False):
        d = d.sort_values("length_minus_oligo")
        axes[1].plot(d.length_minus_oligo, d.reads / d.reads.sum(), marker="o", label=backend)
    axes[1].set_yscale("log")
    axes[1].set_xlabel("read length - oligo length (nt)")
    axes[1].set_ylabel("fraction of reads")
    axes[1].legend(fontsize=7)
    bbmap = "bbmap" in set(profiles.backend)
    fig.suptitle(f"Read simulators at coverage {float(lengths.coverage.iloc[0]):g} on the {lengths.pool.iloc[0]} "
                 f"pool ({'numpy vs BBMap randomreads.sh' if bbmap else 'BBMap not installed'})", fontsize=9)
    fig.tight_layout()
    return fig


@figure(NB, "outer_code_quality_vs_coverage", tables={"outer_sweep": "outer_code_sweep"},
        reproduces="ours: equal-nucleotide comparison (issue 27)",
        description="MS-SSIM vs coverage at equal nt per image: VAE arms and the outer-coded classic arms chosen on "
                    "validation; mean over seeds with 95 % t-intervals")
def outer_code_quality_vs_coverage(outer_sweep: pd.DataFrame):
    """Test MS-SSIM against coverage of every arm at the nucleotide budget (mean over seeds, 95 % t-interval)."""
    outer_test = outer_sweep[outer_sweep.split == "test"]
    # the budget: the smallest over seeds of the nt per image of the budget arm (the VAE without an outer code)
    budget = outer_test[(outer_test.kind == "vae") & (outer_test.redundancy == 0)].nt_per_image.min()
    fig, ax = plt.subplots(figsize=(7, 4.2))
    quality_vs_coverage(ax, outer_test)
    ax.set_title(f"Test MS-SSIM at equal nucleotides ({budget:.0f} nt per image)")
    fig.tight_layout()
    return fig


@figure(NB, "peer_codecs_density_vs_robustness", tables={"peers": "peer_codecs"},
        reproduces="ours: published codecs (issue 27)",
        description="left: MS-SSIM of the VAE reconstructions vs coverage per codec (mean over seeds, 95 % "
                    "t-interval); right: bits per nt against the coverage from which the file comes back exact for "
                    "every seed")
def peer_codecs_density_vs_robustness(peers: pd.DataFrame):
    """MS-SSIM against coverage per codec, and bits per nt against the coverage from which the file is exact."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    peer_density_vs_robustness(axes, peers)
    fig.tight_layout()
    return fig
