"""Gather every results file into one report: ``python -m repro.bundle.report [--profile cpu]``.

Writes, in the profile's output folder:

- ``sanity_mean_image.csv``: the mean-image baselines (:mod:`repro.bundle.sanity`), computed from the data when missing
  or with ``--recompute-baselines``;
- ``claims.csv`` (the claims ledger of :mod:`repro.bundle.claims`, one row per claim), ``claims_points.csv``
  (every measured point behind it) and ``claims.md``;
- ``REPORT.md``: a summary drawn from the ledger, the ledger table, then each comparison table of
  ``manifest.json`` (paper value, ours, spread over seeds, difference) and the list of every artifact.

For the committed ``figures/`` (profile ``cpu``) it also rewrites the README's results section between
``<!-- claims:begin -->`` and ``<!-- claims:end -->`` from the ledger (``--no-readme`` to skip).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import pandas as pd

from repro.bundle import claims as C
from repro.bundle.results import git_commit, read_manifest
from repro.core.checks import ConfigError
from repro.core.paths import output_root, repo_root

BEGIN, END = "<!-- claims:begin -->", "<!-- claims:end -->"
BASELINE_DATASETS = ("mnist", "binary_mnist", "omniglot", "cifar10", "celeba32", "random_bits")


def markdown_table(df: pd.DataFrame, digits: int = 4) -> str:
    def fmt(v):
        if isinstance(v, float):
            return "" if math.isnan(v) else f"{v:.{digits}g}"
        return str(v)

    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def _num(x, digits=3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    return f"{x:.{digits}g}"


def _interval(row) -> str:
    if math.isnan(row.ours):
        return ""
    if math.isnan(row.ours_ci_low):
        return _num(row.ours)
    return f"{_num(row.ours)} [{_num(row.ours_ci_low)}, {_num(row.ours_ci_high)}]"


def claims_markdown(led: pd.DataFrame) -> str:
    """The ledger as a markdown table: one row per claim, the verdict and its evidence."""
    lines = ["| claim | verdict | standing | measure | ours [95 % interval] | paper | seeds | compute fraction "
             "| sanity ok | why |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in led.itertuples():
        unknown = r.sanity_ok is None or (isinstance(r.sanity_ok, float) and math.isnan(r.sanity_ok))
        sanity = "" if unknown else r.sanity_ok
        lines.append(f"| `{r.claim_id}` | **{r.verdict}** | {r.standing} | {r.measure} | {_interval(r)} | "
                     f"{_num(r.paper_value)} | "
                     f"{r.n_seeds} | {_num(r.compute_fraction, 2)} | {sanity} | "
                     f"{r.why.replace('|', '/')} |")
    return "\n".join(lines)


def summary_lines(led: pd.DataFrame) -> list[str]:
    """About ten lines drawn from the ledger: counts, then each verdict group with its claims."""
    total = len(led)
    lines = [f"- {total} claims (profile `{led.profile.iloc[0]}`). Final and provisional verdicts are counted "
             "separately, never added up:"]
    for st in C.STANDINGS:
        part = led[led.standing == st]
        counts = part.verdict.value_counts()
        lines.append(f"- **{st}** ({len(part)}): " + ", ".join(f"{counts.get(v, 0)} {v}" for v in C.VERDICTS) + ".")
    for st in C.STANDINGS:
        for v in C.VERDICTS:
            ids = led[(led.verdict == v) & (led.standing == st)].claim_id.tolist()
            if ids:
                lines.append(f"- {st} **{v}**: " + ", ".join(f"`{i}`" for i in ids) + ".")
    bad = led[led.sanity_ok.astype(str) == "False"].claim_id.tolist()
    if bad:
        lines.append(f"- {len(bad)} claims rest on a model that fails a sanity baseline (never `holds`/`fails`): "
                     + ", ".join(f"`{i}`" for i in bad) + ".")
    if (led.verdict == "untested").any():
        lines.append("- Each `untested` row's `why` names the file, column or run that would test the claim.")
    cf = led.compute_fraction.dropna()
    if len(cf):
        lines.append(f"- Training used {cf.min():.2g}-{cf.max():.2g} of the papers' image passes where the paper "
                     "states its training length (`compute_fraction`).")
    changed = led[(led.notebook_table_said != "") & (led.notebook_table_said.notna())
                  & (led.notebook_table_said != led.verdict)]
    if len(changed):
        lines.append("- Verdicts that differ from the per-notebook typed tables: "
                     + ", ".join(f"`{r.claim_id}` {r.notebook_table_said} -> {r.verdict}" for r in changed.itertuples())
                     + ".")
    return lines


def readme_section(led: pd.DataFrame) -> str:
    """The README's results section, generated from the ledger."""
    parts = [BEGIN, "## What the committed `cpu` results show", "",
             "Generated by `python -m repro.bundle.report` from the claims ledger (`figures/claims.csv`; details per "
             "measured point in `figures/claims_points.csv`); do not edit by hand. Verdicts follow "
             "`../shared/CLAIMS.md` (pre-registered): 95 % t-intervals over >= 3 seeds (paired by seed), claims over "
             "several points Holm-corrected at a family-wise 5 %, the sanity rules S1 (every system works at its "
             "least noisy point, else `untested`) and S2 (each system credited with min(distortion, mean image); "
             "points where the favoured system is at or above it excluded), mean images in "
             "`figures/sanity_mean_image.csv`. A verdict is `final` when every trained model it rests on converged "
             "(within 10 % of the paper's number, a validation plateau, or half the paper's training), else "
             "`provisional`. `untested` says what would test it. `figures/REPORT.md` has every table beside the "
             "paper's.", ""]
    parts += summary_lines(led)
    parts += ["", "| claim | verdict | standing | ours [95 % interval] | paper | measure |",
              "|---|---|---|---|---|---|"]
    parts += [f"| `{r.claim_id}` | {r.verdict} | {r.standing} | {_interval(r)} | {_num(r.paper_value)} | {r.measure} |"
              for r in led.itertuples()]
    parts += ["", END]
    return "\n".join(parts)


def replace_readme_section(text: str, section: str) -> str:
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        raise ConfigError(f"README must hold exactly one {BEGIN} and one {END} marker")
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    return head + section + tail


def ensure_baselines(root: Path, recompute: bool = False, data_dir=None) -> pd.DataFrame | None:
    """The mean-image baselines of ``root``: read, or computed from the data (and written) when missing."""
    from repro.bundle.sanity import mean_image_baselines, write_baselines

    path = root / C.BASELINES_CSV
    if path.exists() and not recompute:
        return pd.read_csv(path)
    print(f"[report] computing mean-image baselines for {', '.join(BASELINE_DATASETS)} ...", flush=True)
    try:
        df = mean_image_baselines(BASELINE_DATASETS, data_dir)
    except Exception as e:  # a missing dataset: the claims needing it become untested, said in their rows
        print(f"[report] mean-image baselines not computed: {e}", flush=True)
        return pd.read_csv(path) if path.exists() else None
    write_baselines(df, path, git_commit(), root.name)
    return df


def write_claims(root: Path, baselines: pd.DataFrame | None) -> pd.DataFrame:
    led, pts = C.evaluate(root, baselines)
    led.to_csv(root / "claims.csv", index=False)
    pts.to_csv(root / "claims_points.csv", index=False)
    (root / "claims.md").write_text("# Claims ledger\n\nGenerated by `python -m repro.bundle.report` from the results "
                                    "CSVs; columns as in `../shared/CLAIMS.md`.\n\n" + claims_markdown(led) + "\n")
    return led


def build_report(root: Path, led: pd.DataFrame | None = None) -> str:
    manifest = read_manifest(root)["artifacts"]
    head = ["# Reproduction report", ""]
    if led is not None:
        head += ["Summary drawn from the claims ledger (`claims.csv`, `claims.md`):", ""] + summary_lines(led) + [""]
    if not manifest:
        return "\n".join(head) + f"\nNo artifacts recorded in {root / 'manifest.json'} yet.\n"
    parts = head + [
             f"Generated by `python -m repro.bundle.report` from `{root.name}/manifest.json`. Each comparison puts the "
             "paper's number beside ours (mean over seeds, standard deviation as spread).", ""]
    for path, meta in manifest.items():
        if meta["kind"] != "comparison":
            continue
        df = pd.read_csv(root / path)
        shown = df.drop(columns=[c for c in ("profile", "commit") if c in df.columns])
        parts += [f"## {meta['reproduces']} ({meta['notebook']})", "", meta.get("description", ""), "",
                  f"profile `{meta['profile']}`, seeds {meta['seeds']}, commit `{meta['commit']}`, {meta['date']}",
                  "", markdown_table(shown), ""]
    if led is not None:
        parts += ["## Claims ledger", "", claims_markdown(led), ""]
    parts += ["## All artifacts", "", "| artifact | reproduces | notebook | profile | commit |",
              "|---|---|---|---|---|"]
    parts += [f"| `{p}` | {m['reproduces']} | {m['notebook']} | {m['profile']} | `{m['commit']}` |"
              for p, m in manifest.items()]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m repro.bundle.report")
    parser.add_argument("--profile", default="cpu")
    parser.add_argument("--output-dir", default=None)
    parser.add_argument("--recompute-baselines", action="store_true",
                        help="recompute the mean-image baselines from the data even if the CSV exists")
    parser.add_argument("--no-readme", action="store_true", help="leave README.md's results section alone")
    args = parser.parse_args(argv)
    root = output_root(args.profile, args.output_dir)
    committed = root.resolve() == (repo_root() / "figures").resolve()
    if committed:
        from repro.bundle.results import git_commit

        if git_commit().endswith("-dirty"):  # CLAIMS.md: the ledger's commit is a clean one
            print("error: the committed ledger (figures/claims.csv) records the commit it was computed at, which "
                  "must be clean: commit src/ and notebooks/*.py first, then rerun python -m repro.bundle.report",
                  file=sys.stderr)
            return 2
    root.mkdir(parents=True, exist_ok=True)
    baselines = ensure_baselines(root, args.recompute_baselines)
    led = write_claims(root, baselines)
    print(f"[report] wrote {root / 'claims.csv'}, claims_points.csv, claims.md: "
          + ", ".join(f"{n} {v}" for v, n in led.verdict.value_counts().items()))
    text = build_report(root, led)
    (root / "REPORT.md").write_text(text)
    print(f"[report] wrote {root / 'REPORT.md'}")
    readme = repo_root() / "README.md"
    if not args.no_readme and committed and readme.exists():
        readme.write_text(replace_readme_section(readme.read_text(), readme_section(led)))
        print(f"[report] rewrote the results section of {readme}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
