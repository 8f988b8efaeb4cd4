"""Jobs per hour: the same short training jobs run one after another in one process (as the notebooks did before
the job layer), by one process per job (the job runner before issue 29) and by the job runner's persistent
workers, 2 processes of one thread each.

    .venv/bin/python benchmarks/jobs_parallel.py [--jobs 6] [--epochs 2] [--n-train 50000]

The jobs are NECST on MNIST at eps 0.1 (the notebook-02/03 MLP), one per seed, each with its own fresh
checkpoint cache per mode, so nothing is reused between modes. Three modes, in this order:

* ``sequential_default_threads``: one process, torch's default thread count (the notebooks' old behaviour);
* ``sequential_1_thread``: one process, one thread;
* ``per_job_processes_2``: a new ``python -m repro.jobs worker`` process per job, 2 at a time (each pays its
  start-up: imports and dataset loading);
* ``workers_2``: ``repro.jobs.local.run_local``, 2 persistent workers x 1 thread (start-up paid once per worker).

The speed-up is quoted against the faster sequential mode. The machine's load average before and after is
recorded: on a machine shared with other work the parallel gain shrinks. Writes
``benchmarks/results/jobs_parallel.json``. ``--plan smoke`` times the smoke plan's whole training phase instead
(``benchmarks/results/jobs_parallel_smoke_plan.json``).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import torch

OUT = Path(__file__).resolve().parent / "results" / "jobs_parallel.json"


def make_jobs(n: int, epochs: int, n_train: int):
    from repro.jobs import Job

    return [Job("benchmark", f"bench-necst-mnist-seed{s}", "repro.systems.necst:train",
                dict(dataset="mnist", eps=0.1, seed=100 + s, epochs=epochs, n_train=n_train, batch_size=100, lr=1e-3),
                cost=1.0) for s in range(n)]


def sequential(jobs, threads: int | None) -> float:
    from repro.core.cache import CheckpointCache

    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory() as cache_dir:
        cache = CheckpointCache(cache_dir)
        t0 = time.perf_counter()
        for job in jobs:
            job.train(device="cpu", cache=cache, lock=False)
        seconds = time.perf_counter() - t0
    torch.set_num_threads(before)
    return seconds


def per_job_processes(jobs, workers: int) -> float:
    """One ``python -m repro.jobs worker`` process per job, ``workers`` at a time (the runner before issue 29)."""
    import subprocess
    import sys

    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "REPRO_CACHE_DIR": tmp, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        files = []
        for job in jobs:
            f = Path(tmp) / f"{job.name}.json"
            f.write_text(json.dumps(job.to_dict()))
            files.append(f)
        t0 = time.perf_counter()
        procs: list[subprocess.Popen] = []
        for f in files:
            while sum(r.poll() is None for r in procs) >= workers:
                time.sleep(0.05)
            procs.append(subprocess.Popen([sys.executable, "-m", "repro.jobs", "worker", str(f), "--threads", "1",
                                           "--device", "cpu"], env=env, stdout=subprocess.DEVNULL))
        codes = [r.wait() for r in procs]
        seconds = time.perf_counter() - t0
    if any(codes):
        raise SystemExit(f"benchmark jobs failed in per-job processes: exit codes {codes}")
    return seconds


def parallel(jobs, workers: int) -> float:
    from repro.jobs.local import run_local

    with tempfile.TemporaryDirectory() as cache_dir:
        old = os.environ.get("REPRO_CACHE_DIR")
        os.environ["REPRO_CACHE_DIR"] = cache_dir
        try:
            t0 = time.perf_counter()
            outcomes = run_local(jobs, workers=workers, threads=1, device="cpu", echo=lambda s: None)
            seconds = time.perf_counter() - t0
        finally:
            if old is None:
                os.environ.pop("REPRO_CACHE_DIR", None)
            else:
                os.environ["REPRO_CACHE_DIR"] = old
    bad = [o for o in outcomes if o.status != "done"]
    if bad:
        raise SystemExit(f"benchmark jobs failed: {[(o.job.name, o.error, str(o.log)) for o in bad]}")
    return seconds


def smoke_plan(workers: int, out: Path) -> None:
    """``--plan smoke``: the whole smoke plan's training phase (every notebook's jobs at ``smoke``, each mode in a
    fresh cache) by one process per job and by the persistent workers, in one run, beside ``jobs plan``'s wall
    estimate for it."""
    from repro.bundle.profiles import RUNS
    from repro.jobs.cli import collect
    from repro.jobs.local import estimate_wall

    jobs = collect(sorted(RUNS), "smoke", {})
    result = {"benchmark": "jobs_parallel", "plan": "smoke", "jobs": len(jobs), "workers": workers,
              "cores": os.cpu_count(), "load_average_start": os.getloadavg(),
              "estimate_s": round(estimate_wall(jobs, workers), 1), "modes": {}}
    for name, fn in ((f"per_job_processes_{workers}", lambda: per_job_processes(jobs, workers)),
                     (f"workers_{workers}", lambda: parallel(jobs, workers))):
        seconds = fn()
        result["modes"][name] = {"wall_s": round(seconds, 2)}
        print(name, result["modes"][name], flush=True)
    par = result["modes"][f"workers_{workers}"]["wall_s"]
    result["speedup_vs_per_job_processes"] = round(result["modes"][f"per_job_processes_{workers}"]["wall_s"] / par, 2)
    result["actual_over_estimate"] = round(par / result["estimate_s"], 2)
    result["load_average_end"] = os.getloadavg()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plan", choices=["smoke"], default=None,
                    help="time a notebook plan's training phase instead of the NECST jobs (per-job processes vs "
                         "persistent workers, beside the plan's estimate)")
    ap.add_argument("--jobs", type=int, default=6)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--n-train", type=int, default=50_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--skip-default-threads", action="store_true")
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args()
    if args.plan:
        out = Path(args.out) if args.out != str(OUT) else OUT.with_name(f"jobs_parallel_{args.plan}_plan.json")
        return smoke_plan(args.workers, out)
    from repro.data import load_dataset

    load_dataset("mnist", "train")  # warm the page cache so the first mode pays no disk reads
    jobs = make_jobs(args.jobs, args.epochs, args.n_train)
    result = {"benchmark": "jobs_parallel", "jobs": args.jobs, "job": "NECST mnist eps 0.1 (MLP, K=5)",
              "epochs": args.epochs, "n_train": args.n_train, "cores": os.cpu_count(),
              "torch_default_threads": torch.get_num_threads(), "load_average_start": os.getloadavg(), "modes": {}}
    modes = [] if args.skip_default_threads else [("sequential_default_threads", lambda: sequential(jobs, None))]
    modes += [("sequential_1_thread", lambda: sequential(jobs, 1)),
              (f"per_job_processes_{args.workers}", lambda: per_job_processes(jobs, args.workers)),
              (f"workers_{args.workers}", lambda: parallel(jobs, args.workers))]
    for name, fn in modes:
        seconds = fn()
        result["modes"][name] = {"wall_s": round(seconds, 2), "jobs_per_hour": round(3600 * args.jobs / seconds, 1)}
        print(name, result["modes"][name], flush=True)
    best_seq = min(v["wall_s"] for k, v in result["modes"].items() if k.startswith("sequential"))
    par = result["modes"][f"workers_{args.workers}"]["wall_s"]
    result["speedup_vs_best_sequential"] = round(best_seq / par, 2)
    result["speedup_vs_1_thread"] = round(result["modes"]["sequential_1_thread"]["wall_s"] / par, 2)
    result["speedup_vs_per_job_processes"] = round(
        result["modes"][f"per_job_processes_{args.workers}"]["wall_s"] / par, 2)
    result["load_average_end"] = os.getloadavg()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
