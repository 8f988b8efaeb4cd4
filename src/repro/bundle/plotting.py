"""The figures the notebooks draw the same way: image grids and paper-vs-ours error bars.

* :func:`image_grid` / :func:`show_image_grid`: rows of images tiled into one picture by
  ``torchvision.utils.make_grid`` (grey images become RGB, values are clipped to [0, 1], tiles are separated by
  white padding), drawn on one matplotlib axes with a label per row (left) and, optionally, per column (below).
  Tiles can be marked, e.g. the JPEG/PNG files that failed to decode.
* :func:`paper_vs_ours`: per group (method, system, ...), our values as mean and standard deviation over seeds
  at each x (error bars), and the paper's points as a dashed line in the same colour.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from torchvision.utils import make_grid

from repro.bundle.verdict import seed_interval

FAILED_FACE = "#fde0dd"


def _rows_tensor(rows) -> torch.Tensor:
    """``(R, K, C, H, W)`` from a tensor of that shape or a sequence of ``R`` tensors ``(K, C, H, W)``."""
    if isinstance(rows, torch.Tensor):
        t = rows
    else:
        rows = [torch.as_tensor(r) for r in rows]
        if not rows:
            raise ValueError("an image grid needs at least one row")
        shapes = {tuple(r.shape) for r in rows}
        if len(shapes) != 1:
            raise ValueError(f"every row of an image grid needs the same shape (K, C, H, W); got {sorted(shapes)}")
        t = torch.stack(rows)
    if t.dim() != 5 or t.shape[2] not in (1, 3):
        raise ValueError(f"expected rows of images (R, K, C, H, W) with C = 1 or 3, got shape {tuple(t.shape)}")
    return t.detach().cpu().float()


def image_grid(rows, *, padding: int = 2, pad_value: float = 1.0) -> torch.Tensor:
    """``(3, R (H + p) + p, K (W + p) + p)`` picture of ``R`` rows of ``K`` images (``(R, K, C, H, W)`` or a list
    of ``(K, C, H, W)``), pixel values clipped to [0, 1], ``padding`` pixels of ``pad_value`` between tiles."""
    t = _rows_tensor(rows)
    r, k = t.shape[:2]
    return make_grid(t.flatten(0, 1).clamp(0, 1), nrow=k, padding=padding, pad_value=pad_value)


def show_image_grid(ax, rows, *, row_labels: Sequence[str] | None = None, col_labels: Sequence[str] | None = None,
                    marked=None, mark_text: str = "decode\nfailed", title: str | None = None, padding: int = 2,
                    fontsize: float = 7):
    """Draw :func:`image_grid` on ``ax``: ``row_labels`` at the left of each row, ``col_labels`` under each column,
    and every tile where the ``(R, K)`` boolean ``marked`` is True covered by a hatched red box with
    ``mark_text``. Returns ``ax``."""
    t = _rows_tensor(rows)
    r, k, _, h, w = t.shape
    for name, labels, n in (("row_labels", row_labels, r), ("col_labels", col_labels, k)):
        if labels is not None and len(labels) != n:
            raise ValueError(f"{name} has {len(labels)} entries for {n} {name.split('_')[0]}s")
    ax.imshow(image_grid(t, padding=padding).permute(1, 2, 0).numpy(), interpolation="nearest")

    def centre(i, size):
        return padding + i * (size + padding) + (size - 1) / 2

    ax.set_yticks([centre(i, h) for i in range(r)] if row_labels is not None else [],
                  list(row_labels) if row_labels is not None else [])
    ax.set_xticks([centre(j, w) for j in range(k)] if col_labels is not None else [],
                  list(col_labels) if col_labels is not None else [])
    ax.tick_params(length=0, labelsize=fontsize)
    for side in ax.spines.values():
        side.set_visible(False)
    if marked is not None:
        marked = np.asarray(marked, dtype=bool)
        if marked.shape != (r, k):
            raise ValueError(f"marked must be a ({r}, {k}) boolean array, got shape {marked.shape}")
        import matplotlib.pyplot as plt

        for i, j in zip(*np.nonzero(marked)):
            x0, y0 = padding + j * (w + padding) - 0.5, padding + i * (h + padding) - 0.5
            ax.add_patch(plt.Rectangle((x0, y0), w, h, facecolor=FAILED_FACE, edgecolor="tab:red", hatch="xxx",
                                       lw=0.8))
            ax.text(x0 + w / 2, y0 + h / 2, mark_text, ha="center", va="center", fontsize=max(fontsize - 2, 4),
                    color="darkred", fontweight="bold", bbox=dict(facecolor=FAILED_FACE, edgecolor="none", pad=0.5))
    if title is not None:
        ax.set_title(title, fontsize=fontsize + 1, loc="left")
    return ax


def paper_vs_ours(ax, ours: pd.DataFrame, paper: pd.DataFrame, *, x: str, group: str, colors: dict,
                  value: str = "value", capsize: float = 3) -> pd.DataFrame:
    """Ours against the paper, one colour per ``group`` value (in ``colors``' order): error bars at the mean of
    ``ours[value]`` over seeds per ``x`` with one standard deviation (0 with one seed), labelled "(ours)", and the
    paper's ``value`` per ``x`` as a dashed line with crosses, labelled "(paper)". Returns our mean, std and
    number of seeds per group and ``x``."""
    for name, frame in (("ours", ours), ("paper", paper)):
        missing = {x, group, value} - set(frame.columns)
        if missing:
            raise ValueError(f"{name} lacks the columns {sorted(missing)}; it has {sorted(frame.columns)}")
    summary = []
    for g, color in colors.items():
        stats = ours[ours[group] == g].groupby(x)[value].agg(["mean", "std", "count"]).sort_index()
        if len(stats):
            ax.errorbar(stats.index, stats["mean"], yerr=stats["std"].fillna(0), marker="o", capsize=capsize,
                        color=color, label=f"{g} (ours)")
            summary.append(stats.reset_index().assign(**{group: g}))
        ref = paper[paper[group] == g].sort_values(x)
        if len(ref):
            ax.plot(ref[x], ref[value], ls="--", marker="x", color=color, alpha=0.6, label=f"{g} (paper)")
    if not summary:
        return pd.DataFrame(columns=[group, x, "mean", "std", "count"])
    return pd.concat(summary, ignore_index=True)[[group, x, "mean", "std", "count"]]


def paper_vs_ours_dots(ax, ours: pd.DataFrame, paper: pd.DataFrame, *, group: str, colors: dict,
                       value: str = "value", level: float = 0.95) -> pd.DataFrame:
    """A dot plot for one setting (one eps): per ``group`` value (in ``colors``' order) on a categorical x axis,
    each seed of ``ours`` as a small dot, their mean with a ``level`` Student-t interval over seeds (no bar with one
    seed), and the paper's value as a cross beside it. Returns our mean, interval and number of seeds per group."""
    from scipy import stats as st

    for name, frame in (("ours", ours), ("paper", paper)):
        missing = {group, value} - set(frame.columns)
        if missing:
            raise ValueError(f"{name} lacks the columns {sorted(missing)}; it has {sorted(frame.columns)}")
    rows = []
    for i, (g, color) in enumerate(colors.items()):
        v = ours.loc[ours[group] == g, value].to_numpy(dtype=float)
        if len(v):
            m = float(v.mean())
            half = (float(st.t.ppf(0.5 + level / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
                    if len(v) > 1 else 0.0)
            ax.scatter(np.full(len(v), i - 0.08), v, s=12, color=color, alpha=0.5, zorder=2)
            ax.errorbar([i - 0.08], [m], yerr=[half], fmt="o", ms=7, capsize=4, color=color, zorder=3,
                        label="ours: mean, seeds, 95 % interval" if i == 0 else None)
            rows.append({group: g, "mean": m, "ci_low": m - half, "ci_high": m + half, "count": len(v)})
        ref = paper.loc[paper[group] == g, value]
        if len(ref):
            ax.scatter([i + 0.12], [float(ref.iloc[0])], marker="x", s=60, color=color, zorder=3,
                       label="paper" if i == 0 else None)
    ax.set_xticks(range(len(colors)), list(colors))
    ax.set_xlim(-0.6, len(colors) - 0.4)
    return pd.DataFrame(rows, columns=[group, "mean", "ci_low", "ci_high", "count"])


def quality_vs_coverage(ax, table: pd.DataFrame) -> None:
    """MS-SSIM vs coverage (log axis) of every arm in a :func:`repro.experiments.equal_nucleotides.sweep` table:
    mean over seeds with its 95 % t-interval; the error-free value as a dotted line of the same colour. VAE arms
    solid, classic arms dashed."""
    for i, (label, d) in enumerate(table.groupby("label", sort=False)):
        color = f"C{i}"
        finite = d[np.isfinite(d.coverage)]
        stats = [(c, *seed_interval(g.ms_ssim.to_numpy())) for c, g in finite.groupby("coverage")]
        cov, mean, lo, hi = (np.array(v, float) for v in zip(*stats))
        style = "-" if d.kind.iloc[0] == "vae" else "--"
        ax.plot(cov, mean, style, marker="o", ms=3, color=color,
                label=f"{label} ({d.nt_per_image.mean():.0f} nt)")
        ok = np.isfinite(lo) & np.isfinite(hi)
        ax.fill_between(cov[ok], lo[ok], hi[ok], color=color, alpha=0.15, lw=0)
        ax.axhline(float(d[np.isinf(d.coverage)].ms_ssim.mean()), color=color, ls=":", lw=0.8)
    ax.set_xscale("log")
    finite = sorted(float(c) for c in table.coverage.unique() if np.isfinite(c))
    ax.set_xticks(finite, [f"{c:g}" for c in finite])
    ax.minorticks_off()
    ax.set_xlabel("coverage (reads per oligo)")
    ax.set_ylabel("MS-SSIM")
    ax.legend(fontsize=7, loc="lower right")


def peer_density_vs_robustness(axes, table: pd.DataFrame) -> None:
    """Two panels from a :func:`repro.experiments.peer_codecs.peer_sweep` table: MS-SSIM vs coverage per codec
    (mean over seeds with its 95 % t-interval), and bits per nt against the smallest coverage from which the file
    comes back exact for every seed (monotone; drawn at the right edge, hollow, when never reached)."""
    left, right = axes
    finite = table[np.isfinite(table.coverage)]
    top = float(finite.coverage.max())
    for i, (codec, d) in enumerate(finite.groupby("codec", sort=False)):
        stats = [(c, *seed_interval(g.ms_ssim.to_numpy())) for c, g in d.groupby("coverage")]
        cov, mean, lo, hi = (np.array(v, float) for v in zip(*stats))
        left.plot(cov, mean, marker="o", ms=3, color=f"C{i}", label=codec)
        ok = np.isfinite(lo) & np.isfinite(hi)
        left.fill_between(cov[ok], lo[ok], hi[ok], color=f"C{i}", alpha=0.15, lw=0)
        exact = d.groupby("coverage").file_exact.all().sort_index()
        bad = np.flatnonzero(~exact.to_numpy())
        reached = not bad.size or bad[-1] + 1 < len(exact)
        c_exact = float(exact.index[bad[-1] + 1]) if bad.size and reached else float(exact.index[0])
        right.scatter([c_exact if reached else top * 1.3], [d.bits_per_nt.mean()], color=f"C{i}",
                      facecolors=f"C{i}" if reached else "none", s=40, label=codec)
    finite_cov = sorted(float(c) for c in finite.coverage.unique())
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xticks(finite_cov, [f"{c:g}" for c in finite_cov])
        ax.minorticks_off()
        ax.set_xlabel("coverage (reads per oligo)")
    left.set_ylabel("MS-SSIM of the VAE reconstructions")
    right.set_ylabel("information density (file bits per nt)")
    right.set_title("exact file from (hollow: not in the sweep)", fontsize=9)
    left.legend(fontsize=7)
