"""``python -m repro.jobs plan|run``: list a notebook's training jobs with their cost, or train them.

    python -m repro.jobs measure                                  # time each model family on this machine
    python -m repro.jobs plan --notebook 03_iabf --profile cpu --hours-left 2
    python -m repro.jobs run --profile cpu --workers 2            # every notebook's jobs, 2 processes x 1 thread
    python -m repro.jobs run --notebook 02_necst -p dataset mnist -p epochs 30
    python -m repro.jobs run --notebook 03_iabf -p dataset mnist --only ablation   # a subset, by name
    python -m repro.jobs run --profile paper --ray auto           # the same jobs as tasks on a Ray cluster

A notebook with several dataset runs (02, 03) contributes the jobs of every run; ``-p`` applies to each run unless
``-p dataset NAME`` picks one. Jobs shared by notebooks (notebook 05 reuses notebook 01's VAEs) are trained once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from repro.bundle.profiles import PROFILE_NAMES, RUNS, parse_value
from repro.core.checks import ConfigError, ReproError, check_choice
from repro.core.runtime import format_seconds
from repro.jobs.spec import Job, JobBusy, status


def notebook_runs() -> dict[str, list[dict]]:
    return RUNS


def collect(notebooks: list[str], profile: str, params: dict) -> list[Job]:
    """Every job of the selected notebooks' runs, deduplicated by key (first occurrence kept)."""
    from repro.experiments import plan

    runs = notebook_runs()
    check_choice("profile", profile, PROFILE_NAMES)
    for name in notebooks:
        check_choice("notebook", name, sorted(runs))
    jobs: dict[str, Job] = {}
    for name in notebooks or list(runs):
        chosen = [dict(params)] if "dataset" in params else [{**r, **params} for r in runs[name]]
        for run in chosen:
            for job in plan(name, profile, run):
                jobs.setdefault(job.key, job)
    return list(jobs.values())


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--notebook", action="append", default=[], metavar="NAME",
                   help="a notebook (repeatable; default: all)")
    p.add_argument("--profile", default="cpu", help=f"one of {', '.join(PROFILE_NAMES)} (default cpu)")
    p.add_argument("-p", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                   help="a notebook parameter, e.g. -p dataset mnist -p epochs 30")
    p.add_argument("--only", action="append", default=[], metavar="TEXT",
                   help="keep the jobs whose name contains TEXT (repeatable: any of them; default: all); "
                        "write --only=TEXT when TEXT starts with '-'")


def select(jobs: list[Job], only: list[str]) -> list[Job]:
    """The jobs whose name contains one of ``only`` (all of them when it is empty); a pattern that matches no job
    raises :class:`ConfigError` listing the job names."""
    if not only:
        return jobs
    for text in only:
        if not any(text in j.name for j in jobs):
            raise ConfigError(f"--only {text!r} matches no job; valid job names: {', '.join(j.name for j in jobs)}")
    return [j for j in jobs if any(text in j.name for text in only)]


def cmd_plan(args) -> int:
    from repro.jobs.local import remaining_cost

    jobs = select(collect(args.notebook, args.profile, {k: parse_value(v) for k, v in args.p}), args.only)
    states = [status(j) for j in jobs]
    # a done job's cost is what it took (the estimate); an interrupted one's is what is left of it
    rows = [(j.notebook, j.name, s, j.cost if s == "done" else remaining_cost(j), j.family,
             j.kwargs.get("precision", "fp32")) for j, s in zip(jobs, states)]
    reasons = {}
    for j in jobs:
        if j.meta.get("precision_reason"):
            reasons.setdefault(j.meta["precision_reason"], []).append(j.name)
    if args.json:
        print(json.dumps([{"notebook": n, "job": j, "status": s, "est_seconds": round(c, 1), "family": f,
                           "precision": p, "precision_reason": job.meta.get("precision_reason")}
                          for (n, j, s, c, f, p), job in zip(rows, jobs)], indent=1))
        return 0
    width = max([len(r[1]) for r in rows] + [3])
    print(f"{'notebook':<18} {'job':<{width}} {'status':<8} {'est. cost':>10}  {'family':<7} precision")
    for n, j, s, c, f, p in rows:
        print(f"{n:<18} {j:<{width}} {s:<8} {format_seconds(c):>10}  {f:<7} {p}")
    for why, names in reasons.items():
        print(f"precision of {len(names)} job(s): {why}")
    todo = [r for r in rows if r[2] != "done"]
    total = sum(r[3] for r in todo)
    workers = args.workers or os.cpu_count() or 1
    from repro.core.throughput import SIDE_BY_SIDE, measured_startup, measurements
    from repro.jobs.local import STARTUP_SECONDS, estimate_wall, job_overhead

    wall = estimate_wall([j for j, s in zip(jobs, states) if s != "done"], workers)
    startup = measured_startup() or STARTUP_SECONDS
    measured = measurements()
    source = (f"throughput measured on this machine on {measured['date'][:10]}" if measured else
              "the development machine's throughput; run `python -m repro.jobs measure` for this machine's")
    capped = any(j.kwargs.get("stop_plateau") is not None for j in jobs)
    print(f"{len(rows)} jobs, {len(rows) - len(todo)} done; remaining {format_seconds(total)} on one thread, "
          f"about {format_seconds(wall)} with {workers} workers (x{SIDE_BY_SIDE} per worker side by side, "
          f"{job_overhead():.1f} s per job beside its images, and {format_seconds(startup)} of start-up per worker) "
          f"{'at most (plateau stops may end runs earlier) ' if capped else ''}(estimates from {source}; a partial "
          f"job counts the epochs left after the last one its log records)")
    if args.hours_left is not None:
        left = args.hours_left * 3600
        verdict = "fits" if wall <= left else f"does NOT fit (short by {format_seconds(wall - left)})"
        print(f"time left {format_seconds(left)}: the plan {verdict}")
    return 0


def cmd_measure(args) -> int:
    from repro.core.throughput import path
    from repro.experiments.compute import measure

    measure(batches=args.batches)
    print(f"[measure] stored in {path()}; `python -m repro.jobs plan` now estimates from it")
    return 0


def cmd_run(args) -> int:
    threads = args.threads
    if threads < 1:
        raise ConfigError(f"--threads must be at least 1, got {threads}")
    if args.workers is not None and args.workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {args.workers}")
    workers = args.workers or os.cpu_count() or 1
    check_choice("device", args.device, ("auto", "cpu", "cuda"))
    jobs = select(collect(args.notebook, args.profile, {k: parse_value(v) for k, v in args.p}), args.only)
    if args.ray:
        from repro.jobs.ray_backend import run_ray

        outcomes = run_ray(jobs, args.ray, threads=threads, device=args.device, workers=workers,
                           gpus_per_job=args.gpus_per_job)
    else:
        from repro.jobs.local import run_local

        outcomes = run_local(jobs, workers=workers, threads=threads, device=args.device,
                             log_dir=Path(args.log_dir) if args.log_dir else None,
                             lend_idle_cores=args.lend_idle_cores)
    failed = [o for o in outcomes if o.status == "failed"]
    busy = [o for o in outcomes if o.status == "busy"]
    counts = {s: sum(o.status == s for o in outcomes) for s in ("done", "skipped", "busy", "failed")}
    print("[jobs] " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    for o in failed:
        print(f"[jobs]   failed: {o.job.name}: {o.error}" + (f" (log: {o.log})" if o.log else ""))
    if failed:
        print("[jobs] rerun the same command to resume the failed jobs after fixing the cause")
    return 1 if failed else (3 if busy else 0)


def cmd_worker(args) -> int:
    from repro.core.runtime import pin_threads

    pin_threads(args.threads)
    job = Job.from_dict(json.loads(Path(args.job_file).read_text()))
    print(f"[jobs] {job.name}: training on {args.device} with {args.threads} thread(s)", flush=True)
    try:
        job.train(device=args.device, wait=False)
    except JobBusy as err:
        print(f"[jobs] {err}", flush=True)
        from repro.jobs.local import BUSY_EXIT

        return BUSY_EXIT
    return 0


def cmd_serve(args) -> int:
    from repro.jobs.local import serve

    return serve(args.threads, args.device)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m repro.jobs", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_plan = sub.add_parser("plan", help="list the jobs with their status and estimated cost")
    _add_common(p_plan)
    p_plan.add_argument("--workers", type=int, default=None, help="for the wall-time estimate (default: cores)")
    p_plan.add_argument("--json", action="store_true", help="machine-readable output")
    p_plan.add_argument("--hours-left", type=float, default=None,
                        help="compare the estimated wall time with the hours you have")
    p_measure = sub.add_parser("measure", help="time each model family on this machine for plan's estimates")
    p_measure.add_argument("--batches", type=int, default=8, help="training steps per family (default 8)")
    p_run = sub.add_parser("run", help="train the jobs (resumable; finished ones are skipped)")
    _add_common(p_run)
    p_run.add_argument("--workers", type=int, default=None, help="parallel processes (default: the number of cores)")
    p_run.add_argument("--threads", type=int, default=1, help="torch threads per job (default 1)")
    p_run.add_argument("--device", default="auto", help="auto | cpu | cuda (default auto)")
    p_run.add_argument("--lend-idle-cores", action="store_true",
                       help="let the last job take idle cores' threads on an otherwise idle machine (faster; a "
                            "thread count can change weights in the last bits, so off by default)")
    p_run.add_argument("--ray", default=None, metavar="auto|ADDRESS|local",
                       help="run as Ray tasks: 'auto' (the cluster this node belongs to), an address "
                            "(ray://host:10001 or host:6379), or 'local' (a private instance)")
    p_run.add_argument("--gpus-per-job", type=float, default=None,
                       help="with --ray: GPUs per task (default: 0.25 for MLPs, 0.5 for conv coders, 0 without GPUs)")
    p_run.add_argument("--log-dir", default=None, help="worker logs (default <cache>/jobs/logs)")
    p_serve = sub.add_parser("serve", help=argparse.SUPPRESS)  # a persistent worker of `run` (jobs.local)
    p_serve.add_argument("--threads", type=int, default=1)
    p_serve.add_argument("--device", default="auto")
    p_worker = sub.add_parser("worker", help=argparse.SUPPRESS)  # one job in this process
    p_worker.add_argument("job_file")
    p_worker.add_argument("--threads", type=int, default=1)
    p_worker.add_argument("--device", default="auto")
    args = parser.parse_args(argv)
    try:
        return {"plan": cmd_plan, "run": cmd_run, "worker": cmd_worker, "serve": cmd_serve,
                "measure": cmd_measure}[args.command](args)
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except ReproError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except RuntimeError as err:
        from repro.jobs.ray_backend import RayUnavailable

        if isinstance(err, RayUnavailable):
            print(f"error: {err}", file=sys.stderr)
            return 2
        raise
