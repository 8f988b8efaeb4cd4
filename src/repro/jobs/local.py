"""Run jobs in N worker processes on this machine.

Every job runs in its own ``python -m repro.jobs worker`` process (one torch thread by default), with its output in
``<log dir>/<job>.log``. The parent starts the most expensive jobs first, relays each worker's progress lines to the
terminal prefixed with the job's name, and keeps going when a worker dies: that job is reported failed with its log
path, the others finish, and the exit status is non-zero. Jobs are resumable (the trainer checkpoints every epoch)
and guarded by their lock, so rerunning the same command picks up where a killed run stopped, and two runners (or
two machines sharing the cache) never train the same job.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from repro.core.paths import cache_root
from repro.core.runtime import format_seconds
from repro.jobs.spec import Job

BUSY_EXIT = 75  # a worker found the job's lock held by someone else


@dataclass
class Outcome:
    job: Job
    status: str  # done | skipped | failed | busy
    seconds: float = 0.0
    log: Path | None = None
    error: str = ""
    extra: dict = field(default_factory=dict)


def pending(jobs: list[Job], root: Path) -> tuple[dict[str, Outcome], list[Job]]:
    """``(outcomes of the finished jobs, marked skipped; the others, longest first)``: starting the longest jobs
    first keeps the last one to finish from starting late."""
    done = {j.key: Outcome(j, "skipped") for j in jobs if j.is_done(root)}
    return done, sorted((j for j in jobs if j.key not in done), key=lambda j: -j.cost)


def _worker_command(job_file: Path, threads: int, device: str) -> list[str]:
    return [sys.executable, "-m", "repro.jobs", "worker", str(job_file), "--threads", str(threads), "--device", device]


def _tail_new(fh, prefix: str, echo) -> str:
    """Relay new complete lines of a worker's log that are progress or error lines; return the last line seen."""
    last = ""
    for line in (part for raw in fh.readlines() for part in raw.rstrip("\n").split("\r")):
        if not line:
            continue
        last = line
        if line.startswith("[progress]"):
            echo(f"{prefix} {line[len('[progress]'):].strip()}")
        elif line.startswith("[jobs]"):
            echo(f"{prefix} {line[len('[jobs]'):].strip()}")
    return last


def run_local(jobs: list[Job], *, workers: int, threads: int = 1, device: str = "auto", log_dir: Path | None = None,
              echo=print, poll: float = 0.5) -> list[Outcome]:
    """Train ``jobs`` with at most ``workers`` processes at a time; return one :class:`Outcome` per job."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    root = cache_root()
    log_dir = Path(log_dir or root / "jobs" / "logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    outcomes, todo = pending(jobs, root)
    total = len(todo)
    est = sum(j.cost for j in todo)
    echo(f"[jobs] {len(jobs)} jobs, {len(jobs) - total} already done, {total} to train with {workers} worker(s) x "
         f"{threads} thread(s); estimated {format_seconds(est / max(1, min(workers, total or 1)))} "
         f"(logs in {log_dir})")
    env = {**os.environ, "REPRO_PROGRESS": "lines", "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "PYTHONUNBUFFERED": "1"}
    running: dict[int, tuple[Job, subprocess.Popen, object, float, Path, int]] = {}
    started = 0
    t_all = time.perf_counter()
    try:
        while todo or running:
            while todo and len(running) < workers:
                job = todo.pop(0)
                started += 1
                log = log_dir / f"{job.name}-{job.key[:8]}.log"
                job_file = log_dir / f"{job.name}-{job.key[:8]}.job.json"
                job_file.write_text(json.dumps(job.to_dict(), indent=1))
                out = open(log, "w")
                proc = subprocess.Popen(_worker_command(job_file, threads, device), stdout=out,
                                        stderr=subprocess.STDOUT, env=env, start_new_session=True)
                reader = open(log)
                running[proc.pid] = (job, proc, reader, time.perf_counter(), log, started)
                echo(f"[jobs] start {started}/{total} {job.name} (est. {format_seconds(job.cost)})")
            time.sleep(poll)
            for pid in list(running):
                job, proc, reader, t0, log, i = running[pid]
                last = _tail_new(reader, f"[{i}/{total} {job.name}]", echo)
                code = proc.poll()
                if code is None:
                    continue
                last = _tail_new(reader, f"[{i}/{total} {job.name}]", echo) or last
                reader.close()
                del running[pid]
                seconds = time.perf_counter() - t0
                if code == 0:
                    outcomes[job.key] = Outcome(job, "done", seconds, log)
                    echo(f"[jobs] done  {i}/{total} {job.name} in {format_seconds(seconds)}")
                elif code == BUSY_EXIT:
                    outcomes[job.key] = Outcome(job, "busy", seconds, log, "trained by another runner")
                    echo(f"[jobs] busy  {job.name}: another runner holds its lock; rerun later to use its result")
                else:
                    found = _last_error(log)
                    error = f"exit status {code}" + (f": {found}" if found else " (the worker died)")
                    outcomes[job.key] = Outcome(job, "failed", seconds, log, error)
                    echo(f"[jobs] FAILED {job.name}: {error} (log: {log})")
    except KeyboardInterrupt:
        for _job, proc, *_ in running.values():
            proc.terminate()
        for _job, proc, *_ in running.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        raise
    echo(f"[jobs] finished in {format_seconds(time.perf_counter() - t_all)}")
    return [outcomes[j.key] for j in jobs]


def _last_error(log: Path) -> str:
    """The last line of a worker's log that looks like an error (the exception line of a traceback)."""
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    for line in reversed(lines):
        if "Error" in line or "Exception" in line or line.startswith("error:"):
            return line[:300]
    return ""
