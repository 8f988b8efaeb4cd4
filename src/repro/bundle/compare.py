"""The papers' reference numbers and the side-by-side tables that put ours beside them.

``reference/paper_numbers.csv`` holds every number the bundle compares against, one row per value with the
paper, the table or figure, the dataset, the method, the code length, the channel and its noise, and the metric.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

from repro.core.checks import check_choice

KEYS = ["dataset", "method", "channel", "noise", "metric"]


def paper_numbers(paper: str | None = None, artifact: str | None = None) -> pd.DataFrame:
    """Reference rows, optionally restricted to one paper and one table/figure."""
    with resources.files("repro.bundle.reference").joinpath("paper_numbers.csv").open() as fh:
        df = pd.read_csv(fh)
    if paper is not None:
        check_choice("paper", paper, sorted(df.paper.unique()))
        df = df[df.paper == paper]
    if artifact is not None:
        check_choice("artifact", artifact, sorted(df.artifact.unique()))
        df = df[df.artifact == artifact]
    return df.reset_index(drop=True)


def side_by_side(ours: pd.DataFrame, reference: pd.DataFrame, keys: list[str] | None = None) -> pd.DataFrame:
    """One row per reference value: paper value, our mean, spread (std over seeds), seeds, difference.

    ``ours`` is tidy: the ``keys`` columns, ``value`` and ``seed`` (one row per seed). Reference rows without a
    reproduction keep ``NaN`` in our columns, so a missing measurement stays visible.
    """
    keys = keys or KEYS
    missing = [k for k in keys + ["value"] if k not in ours.columns]
    if missing:
        raise ValueError(f"results lack columns {missing}")
    stats = (ours.groupby(keys, dropna=False)["value"]
             .agg(ours_mean="mean", ours_std="std", n_seeds="count").reset_index())
    ref = reference[keys + ["value"]].rename(columns={"value": "paper"})
    table = ref.merge(stats, on=keys, how="left")
    table["ours_std"] = table["ours_std"].fillna(0.0).where(table["n_seeds"] > 1)
    table["difference"] = table["ours_mean"] - table["paper"]
    table["relative_difference"] = table["difference"] / table["paper"].abs()
    return table
