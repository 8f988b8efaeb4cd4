"""Run the notebooks headlessly with papermill: ``python -m repro.bundle.runner [--only NAME] [--profile P] [-p K V]``.

Every notebook (or the chosen ones) is executed once per parameter combination its figures need (the ``RUNS``
table below). What happens, in order:

* **Parameters are checked first**, in well under a second and without importing torch: every ``-p NAME`` must
  be a setting of the notebook (declared once, with type, range and choices, in its :mod:`repro.parts` module),
  every value of the right type and range (positive integer epochs, noise levels in [0, 0.5], seeds as a list of
  integers, one of the declared choices, ...).
  A bad one stops the runner with one line naming it and what is valid (exit status 2).
* ``-p`` applies to **every** run of a multi-dataset notebook, unless ``-p dataset X`` picks one.
* **Where results go.** Only the canonical runs (profile ``cpu``, no ``-p``) write the committed ``figures/``
  and the paired ``notebooks/<name>.ipynb``. A ``cpu`` run with any ``-p`` writes under
  ``build/figures-cpu-custom/`` unless ``--write-figures`` is given; the other profiles write under
  ``build/figures-<profile>/``. ``REPRO_OUTPUT_DIR`` or ``-p output_dir`` (relative paths: from the repository
  root) move them anywhere.
* **Progress is streamed**: the heading of each notebook section as its first cell starts, and everything the
  notebook prints (training progress lines included), to the terminal and to one log file per run,
  ``<build dir>/<run label>.log``. The kernel talks to the runner over local IPC sockets, so it has no
  "running over TCP" warning to print (any such line is filtered anyway).
* Executed copies go to ``build/executed/``. After a canonical ``cpu`` run, the first run's outputs are written
  into the paired ``notebooks/<name>.ipynb`` and, for the notebooks with several dataset runs (02, 03), every
  run's executed notebook to ``figures/<name>/executed/<dataset>.ipynb``; both are cleaned first
  (:mod:`repro.bundle.nbclean`: no progress-bar fragments, no absolute machine paths).
* A failing run is reported with its error and the others still run; the exit status is 1 if any failed.
  Ctrl-C stops with one line, ``interrupted; rerun to resume`` (exit status 130): trained models are
  checkpointed every epoch, so the rerun continues where this one stopped.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from repro.bundle.profiles import PROFILE_NAMES, RUNS, all_runs, check_override, parse_value, select_runs  # noqa: F401
from repro.core.checks import ConfigError, check_choice
from repro.core.paths import env_path, output_root, repo_root, resolve_path
from repro.parts import settings

CUSTOM_OUTPUT = "build/figures-cpu-custom"  # a cpu run with -p, relative to the repository root
INTERRUPTED = "interrupted; rerun to resume"


def run_label(name: str, profile: str, params: dict) -> str:
    extra = "_".join(f"{k}-{v}" for k, v in sorted(params.items()) if k != "profile")
    extra = "".join(c if c.isalnum() or c in "-_." else "" for c in extra.replace(" ", ""))
    return f"{name}__{profile}" + (f"__{extra}" if extra else "")


# --- the notebook's parameters cell -----------------------------------------------------------------------

@dataclass
class Parameter:
    name: str
    default: object


def notebook_parameters(name: str) -> dict[str, Parameter]:
    """The parameters cell of ``notebooks/<name>.py``: names and defaults (``tests/test_settings.py`` checks that
    they are exactly the settings its :mod:`repro.parts` module declares)."""
    source = (repo_root() / "notebooks" / f"{name}.py").read_text()
    match = re.search(r"^# %% tags=\[\"parameters\"\]\n(.*?)(?=^# %%|\Z)", source, flags=re.M | re.S)
    if not match:
        raise ConfigError(f"notebooks/{name}.py has no parameters cell (# %% tags=[\"parameters\"])")
    params = {}
    for line in match.group(1).splitlines():
        code, _, _comment = line.partition("#")
        if "=" not in code:
            continue
        node = ast.parse(code.strip()).body[0]
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            key = node.targets[0].id
            params[key] = Parameter(key, ast.literal_eval(node.value))
    return params


def check_cli_parameters(names: list[str], cli: dict) -> None:
    """Raise :class:`ConfigError` (one line) for a ``-p`` name or value not valid for one of ``names``."""
    if "profile" in cli:
        raise ConfigError("set the profile with --profile, not -p profile")
    for name in names:
        declared = settings(name)
        valid = sorted(k for k in declared if k != "profile")
        datasets = list(declared["dataset"].choices) if "dataset" in declared else None
        for key, value in cli.items():
            if key not in declared:
                close = difflib.get_close_matches(key, valid, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise ConfigError(f"unknown parameter {key!r} for {name}{hint}; valid names: {', '.join(valid)}")
            check_override(name, key, value, datasets)


# --- what runs where ----------------------------------------------------------------------------------------

@dataclass
class NotebookRun:
    """One papermill execution of a notebook (not a training job, :class:`repro.jobs.Job`)."""

    name: str
    params: dict
    canonical: bool  # a cpu run of the RUNS table without -p: writes figures/ and the paired notebook


def plan(selected: list[str], profile: str, cli: dict, write_figures: bool) -> tuple[list[NotebookRun], Path]:
    """The runs to execute and the folder their results go to."""
    custom = profile == "cpu" and bool(cli) and not write_figures
    extra = dict(cli)
    if custom and "output_dir" not in cli and not env_path("REPRO_OUTPUT_DIR"):
        extra["output_dir"] = CUSTOM_OUTPUT
    jobs = []
    for name in selected:
        runs = [{"dataset": cli["dataset"]}] if "dataset" in cli else RUNS[name]
        for params in runs:
            jobs.append(NotebookRun(name, {**params, **extra}, canonical=profile == "cpu" and not cli))
    destination = output_root(profile, extra.get("output_dir"))
    return jobs, destination


# --- streaming the notebook's output ----------------------------------------------------------------------

_KERNEL_WARNING = re.compile(r"running over TCP", re.IGNORECASE)


class RunLog:
    """Everything a run shows: to the terminal as it comes, and to a log file with progress bars collapsed."""

    def __init__(self, path: Path, prefix: str, terminal: io.TextIOBase | None = None):
        from repro.core.fsio import write_error

        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.file = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed in close())
        except OSError as err:
            raise write_error(path, err) from err
        self.path = path
        self.prefix = prefix
        self.terminal = terminal or sys.stdout
        self.partial = {"stdout": "", "stderr": ""}
        self.t0 = time.perf_counter()

    def elapsed(self) -> str:
        s = int(time.perf_counter() - self.t0)
        return f"{s // 60}m{s % 60:02d}s"

    def line(self, text: str) -> None:
        """A runner line (cell heading, status): terminal and log."""
        self.terminal.write(text + "\n")
        self.terminal.flush()
        self.file.write(text + "\n")
        self.file.flush()

    def stream(self, name: str, text: str) -> None:
        from repro.bundle.nbclean import is_progress_line

        if _KERNEL_WARNING.search(text):
            text = "".join(t for t in text.splitlines(keepends=True) if not _KERNEL_WARNING.search(t))
        (sys.stderr if name == "stderr" and self.terminal is sys.stdout else self.terminal).write(text)
        self.terminal.flush()
        buf = self.partial[name] + text
        *complete, self.partial[name] = buf.split("\n")
        for raw in complete:
            shown = raw.rstrip("\r").rsplit("\r", 1)[-1]
            if shown.strip() and not (name == "stderr" and is_progress_line(shown)):
                self.file.write(shown + "\n")
        self.file.flush()

    def close(self) -> None:
        for rest in self.partial.values():
            shown = rest.rsplit("\r", 1)[-1]
            if shown.strip():
                self.file.write(shown + "\n")
        self.file.close()


class _Sink:
    """A file-like object papermill writes one stream (stdout or stderr) of the notebook to."""

    def __init__(self, log: RunLog, name: str):
        self.log, self.name = log, name

    def write(self, text: str) -> int:
        self.log.stream(self.name, text)
        return len(text)

    def flush(self) -> None:
        pass


def _headings(nb) -> dict[int, str]:
    """Cell index -> the heading of the markdown section it is the first code cell of."""
    out, pending = {}, None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for text in cell.source.splitlines():
                if text.startswith("#"):
                    pending = text.lstrip("#").strip()
                    break
        elif cell.cell_type == "code" and pending:
            out[i] = pending
            pending = None
    return out


def _streaming_engine():
    """A papermill engine that announces each section's heading when its first cell starts."""
    from papermill.engines import NBClientEngine, papermill_engines

    class StreamingEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, run_log=None, **kwargs):
            if run_log is not None:
                headings = _headings(nb_man.nb)
                n_code = sum(c.cell_type == "code" for c in nb_man.nb.cells)
                code_index = {i: k for k, i in enumerate(i for i, c in enumerate(nb_man.nb.cells)
                                                        if c.cell_type == "code")}
                cell_start = nb_man.cell_start

                def announce(cell, cell_index=None, **kw):
                    if cell_index in headings:
                        run_log.line(f"{run_log.prefix} [{run_log.elapsed()}] cell {code_index[cell_index] + 1}/"
                                     f"{n_code}: {headings[cell_index]}")
                    return cell_start(cell, cell_index, **kw)

                nb_man.cell_start = announce
            return super().execute_managed_notebook(nb_man, kernel_name, **kwargs)

    papermill_engines.register("repro-streaming", StreamingEngine)
    return "repro-streaming"


def execute(name: str, profile: str, params: dict, build: Path, timeout: int | None,
            stream: bool = True) -> tuple[Path, str | None]:
    """Execute one run into ``build``; return the executed notebook and the error (``None`` when it passed).

    With ``stream``, the notebook's output and section headings go to the terminal and ``<label>.log``.
    """
    import jupytext
    import papermill as pm
    from traitlets.config import Config

    from repro.core.fsio import write_error

    source = repo_root() / "notebooks" / f"{name}.py"
    label = run_label(name, profile, params)
    template = build / f"{label}.template.ipynb"  # one per run: parallel runners never share a template
    try:
        build.mkdir(parents=True, exist_ok=True)
        jupytext.write(jupytext.read(source), template, fmt="ipynb")
    except OSError as err:
        raise write_error(template, err) from err
    out = build / f"{label}.ipynb"
    log = RunLog(build / f"{label}.log", f"[{name} {params.get('dataset', '')}]".replace(" ]", "]")) \
        if stream else None
    extra = dict(engine_name=_streaming_engine(), run_log=log, stdout_file=_Sink(log, "stdout"),
                 stderr_file=_Sink(log, "stderr")) if log else {}
    try:
        pm.execute_notebook(str(template), str(out), parameters={"profile": profile, **params},
                            cwd=str(source.parent), kernel_name="python3", language="python",
                            progress_bar=False, log_output=False, execution_timeout=timeout,
                            config=Config({"KernelManager": {"transport": "ipc"}}),
                            # the run is over when the last cell returns: a graceful shutdown would first send
                            # SIGINT and make the kernel log "KeyboardInterrupt caught in kernel"
                            shutdown_kernel="immediate", **extra)
    except pm.PapermillExecutionError as err:
        return out, f"{err.ename}: {err.evalue}"
    except KeyboardInterrupt:
        raise
    except Exception as err:  # kernel death, missing notebook, ...
        return out, f"{type(err).__name__}: {err}"
    finally:
        if log:
            log.close()
        template.unlink(missing_ok=True)
    return out, None


# --- writing back -------------------------------------------------------------------------------------------

def write_back(executed: Path, paired: Path) -> None:
    """Copy an executed notebook's outputs, cleaned (:mod:`repro.bundle.nbclean`), into ``paired`` (atomically)."""
    from repro.bundle.nbclean import clean_file

    clean_file(executed, paired)


def _committed_seconds(name: str, params: dict) -> float | None:
    """Wall time of the committed cpu run of this notebook/dataset (its ``run_info`` file), if there is one."""
    folder = repo_root() / "figures" / name
    for candidate in (folder / f"run_info_{params.get('dataset')}.json", folder / "run_info.json"):
        if candidate.exists():
            try:
                return float(json.loads(candidate.read_text())["seconds"])
            except (ValueError, KeyError):
                return None
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m repro.bundle.runner", description=__doc__.split("\n")[0])
    parser.add_argument("--profile", default="cpu", help=f"one of {', '.join(PROFILE_NAMES)} (default cpu)")
    parser.add_argument("--only", action="append", default=[], help="run only this notebook (repeatable)")
    parser.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="parameter for every run, e.g. -p dataset binary_mnist -p epochs 3")
    parser.add_argument("--build-dir", default=None, help="where executed notebooks and logs go "
                                                          "(default build/executed)")
    parser.add_argument("--no-write-back", action="store_true",
                        help="leave notebooks/*.ipynb and figures/*/executed/ untouched")
    parser.add_argument("--write-figures", action="store_true",
                        help="let a cpu run with -p write into figures/ (default: build/figures-cpu-custom/)")
    parser.add_argument("--timeout", type=int, default=None, help="per-cell timeout in seconds")
    parser.add_argument("--workers", type=int, default=None,
                        help="train the notebooks' models first in this many worker processes (default: the number "
                             "of cores); the notebooks then only evaluate and plot")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per training worker (default 1)")
    parser.add_argument("--ray", default=None, metavar="auto|ADDRESS|local",
                        help="train the models as Ray tasks on a cluster instead of local workers")
    parser.add_argument("--no-jobs", action="store_true",
                        help="skip the training phase: each notebook trains what it needs, one model at a time")
    args = parser.parse_args(argv)

    check_choice("profile", args.profile, PROFILE_NAMES)
    for name in args.only:
        check_choice("notebook", name, sorted(RUNS))
    if args.write_figures and args.profile != "cpu":
        raise ConfigError(f"--write-figures applies to the cpu profile only (figures/ holds cpu results), "
                          f"not to --profile {args.profile}")
    cli = {k: parse_value(v) for k, v in args.p}
    selected = args.only or list(RUNS)
    check_cli_parameters(selected, cli)
    build = resolve_path(args.build_dir) if args.build_dir else repo_root() / "build" / "executed"
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}")
    if args.threads < 1:
        raise ConfigError(f"--threads must be at least 1, got {args.threads}")
    jobs, destination = plan(selected, args.profile, cli, args.write_figures)
    t_start = time.perf_counter()
    failed_training = [] if args.no_jobs else train_first(selected, args.profile, cli, args)
    print(f"[runner] {len(jobs)} run(s), profile {args.profile}; results to {destination}; "
          f"executed notebooks and logs to {build}", flush=True)
    results = []
    for k, job in enumerate(jobs, 1):
        t0 = time.perf_counter()
        hint = ""
        if args.profile == "cpu" and (before := _committed_seconds(job.name, job.params)):
            hint = f"; the committed cpu run took {before / 60:.0f} min"
        print(f"[runner] run {k}/{len(jobs)}: {job.name} profile={args.profile} {job.params}{hint}", flush=True)
        out, error = execute(job.name, args.profile, job.params, build, args.timeout)
        seconds = time.perf_counter() - t0
        results.append((job, seconds, error, out))
        status = "ok" if error is None else f"FAILED: {error}"
        print(f"[runner] {job.name} {job.params}: {status} ({seconds:.0f} s; log {out.with_suffix('.log')})",
              flush=True)
        if error is None and job.canonical and not args.no_write_back:
            if job is next(j for j in jobs if j.name == job.name):
                write_back(out, repo_root() / "notebooks" / f"{job.name}.ipynb")
            if len(RUNS[job.name]) > 1:
                write_back(out, output_root("cpu") / job.name / "executed" / f"{job.params['dataset']}.ipynb")
    failed = [r for r in results if r[2] is not None]
    if failed_training:
        print(f"[runner] {len(failed_training)} training job(s) had failed before the notebooks ran: "
              + ", ".join(failed_training))
    total = time.perf_counter() - t_start
    print(f"[runner] {len(results) - len(failed)} ok, {len(failed)} failed in {total / 60:.1f} min")
    for job, _, error, out in failed:
        print(f"[runner]   {job.name} {job.params}: {error} (see {out.with_suffix('.log')})")
    if not failed:
        from repro.bundle.report import main as report_main

        report_main([f"--profile={args.profile}", f"--output-dir={destination}"])
    return 1 if failed else 0


def train_first(selected: list[str], profile: str, cli: dict, args) -> list[str]:
    """The training phase: every model the selected runs need, trained by the job layer (:mod:`repro.jobs`) in
    parallel worker processes (or as Ray tasks) before any notebook starts. Returns the names of failed jobs; the
    notebooks still run (one whose model is missing trains it itself and reports the error)."""
    import os

    from repro.jobs.cli import collect

    data_root = str(resolve_path(cli["data_dir"])) if cli.get("data_dir") else None  # searched first by every job
    training = collect(selected, profile, {k: v for k, v in cli.items() if k != "output_dir"})
    workers = args.workers or os.cpu_count() or 1
    print(f"[runner] training phase: {len(training)} model(s) for {', '.join(selected)}", flush=True)
    if args.ray:
        from repro.jobs.ray_backend import run_ray

        outcomes = run_ray(training, args.ray, threads=args.threads, workers=workers, data_root=data_root)
    else:
        from repro.jobs.local import run_local

        outcomes = run_local(training, workers=workers, threads=args.threads, data_root=data_root)
    return [o.job.name for o in outcomes if o.status == "failed"]


def cli_entry(argv: list[str] | None = None) -> int:
    """``main`` with the bundle's errors and Ctrl-C as one line each (exit 2 and 130)."""
    from repro.core.checks import ReproError

    try:
        return main(argv)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except ReproError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except RuntimeError as err:
        from repro.jobs.ray_backend import RayUnavailable

        if not isinstance(err, RayUnavailable):
            raise
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        sys.stdout.flush()
        print(INTERRUPTED, file=sys.stderr, flush=True)
        return 130


if __name__ == "__main__":
    code = cli_entry()
    if code == 130:
        import os

        # asyncio and zmq clean-up after a KeyboardInterrupt can print warnings during interpreter shutdown;
        # the one line above is the whole message
        sys.stderr.flush()
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
    sys.exit(code)
