"""Run the notebooks headlessly with papermill: ``python -m repro.runner [--only NAME] [--profile P] [-p K V]``.

Every notebook (or the chosen ones) is executed once per parameter combination its figures need (the ``RUNS``
table below). Executed copies go to ``build/executed/``; with the ``cpu`` profile, the outputs of a notebook's
first (canonical) run are also written into its paired ``notebooks/<name>.ipynb`` so that the committed notebook
shows the committed figures. A failing run is reported with its error and the others still run; the exit status
is 1 if any failed. Trained models come from the checkpoint cache, so a re-run only re-evaluates.
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
from pathlib import Path

from .checks import check_choice
from .paths import repo_root
from .profiles import PROFILE_NAMES

# Parameter combinations per notebook; the first one is the canonical run written back to the paired notebook.
RUNS: dict[str, list[dict]] = {
    "01_vae_compression": [{"dataset": "mnist"}],
    "02_necst": [{"dataset": d} for d in ("binary_mnist", "omniglot", "random_bits", "mnist", "cifar10", "celeba32")],
    "03_iabf": [{"dataset": d} for d in ("mnist", "binary_mnist", "omniglot", "cifar10")],
    "04_bandwidth_awgn": [{"dataset": "celeba32"}],
    "05_dna_storage": [{"dataset": "mnist"}],
}


def parse_value(text: str):
    """``-p`` values: Python literals (``3``, ``[0, 1]``, ``None``) or plain strings."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def run_label(name: str, profile: str, params: dict) -> str:
    extra = "_".join(f"{k}-{v}" for k, v in sorted(params.items()) if k != "profile")
    extra = "".join(c if c.isalnum() or c in "-_." else "" for c in extra.replace(" ", ""))
    return f"{name}__{profile}" + (f"__{extra}" if extra else "")


def write_back(executed: Path, paired: Path) -> None:
    """Copy an executed notebook's outputs into its paired ``.ipynb`` (without papermill's injected cell)."""
    import nbformat

    nb = nbformat.read(executed, as_version=4)
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    nbformat.write(nb, paired)


def execute(name: str, profile: str, params: dict, build: Path, timeout: int | None) -> tuple[Path, str | None]:
    import jupytext
    import papermill as pm

    source = repo_root() / "notebooks" / f"{name}.py"
    build.mkdir(parents=True, exist_ok=True)
    template = build / f"{name}.template.ipynb"
    jupytext.write(jupytext.read(source), template, fmt="ipynb")
    out = build / f"{run_label(name, profile, params)}.ipynb"
    try:
        pm.execute_notebook(str(template), str(out), parameters={"profile": profile, **params},
                            cwd=str(source.parent), kernel_name="python3", language="python",
                            progress_bar=False, log_output=False, execution_timeout=timeout)
    except pm.PapermillExecutionError as err:
        return out, f"{err.ename}: {err.evalue}"
    except Exception as err:  # kernel death, missing notebook, ...
        return out, f"{type(err).__name__}: {err}"
    return out, None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m repro.runner", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="cpu", help=f"one of {', '.join(PROFILE_NAMES)} (default cpu)")
    parser.add_argument("--only", action="append", default=[], help="run only this notebook (repeatable)")
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="parameter for every run, e.g. -p dataset binary_mnist -p epochs 3")
    parser.add_argument("--build-dir", default=None, help="where executed notebooks go (default build/executed)")
    parser.add_argument("--no-write-back", action="store_true", help="leave notebooks/*.ipynb untouched")
    parser.add_argument("--timeout", type=int, default=None, help="per-cell timeout in seconds")
    args = parser.parse_args(argv)

    check_choice("profile", args.profile, PROFILE_NAMES)
    for name in args.only:
        check_choice("notebook", name, sorted(RUNS))
    cli = {k: parse_value(v) for k, v in args.p}
    build = Path(args.build_dir) if args.build_dir else repo_root() / "build" / "executed"
    selected = args.only or list(RUNS)
    results = []
    for name in selected:
        runs = [{**RUNS[name][0], **cli}] if cli else RUNS[name]
        for i, params in enumerate(runs):
            t0 = time.perf_counter()
            print(f"[runner] {name} profile={args.profile} {params} ...", flush=True)
            out, error = execute(name, args.profile, params, build, args.timeout)
            seconds = time.perf_counter() - t0
            results.append((name, params, seconds, error, out))
            status = "ok" if error is None else f"FAILED: {error}"
            print(f"[runner] {name} {params}: {status} ({seconds:.0f} s) -> {out}", flush=True)
            canonical = i == 0 and not cli
            if error is None and canonical and args.profile == "cpu" and not args.no_write_back:
                write_back(out, repo_root() / "notebooks" / f"{name}.ipynb")
    failed = [r for r in results if r[3] is not None]
    print(f"[runner] {len(results) - len(failed)} ok, {len(failed)} failed")
    for name, params, _, error, out in failed:
        print(f"[runner]   {name} {params}: {error} (see {out})")
    if not failed:
        from .report import main as report_main

        report_main([f"--profile={args.profile}"])
    return 1 if failed else 0


if __name__ == "__main__":
    from .checks import ConfigError

    try:
        sys.exit(main())
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
