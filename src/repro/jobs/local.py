"""Run jobs in N persistent worker processes on this machine.

Each of the ``workers`` processes (``python -m repro.jobs serve``, one torch thread by default) imports torch once,
keeps the datasets it has loaded, and trains the jobs the parent hands it one after another, so start-up (about
10 s of imports and dataset loading per process here) is paid once per worker instead of once per job. A job's
output goes to ``<log dir>/<job>.log`` (the worker points its stdout and stderr there for the job's duration); the
parent starts the most expensive jobs first, relays each job's progress lines to the terminal prefixed with its
name, and reads the outcome of each job from the worker's control pipe. A worker that dies (a crash, an
out-of-memory kill) fails only the job it held: that job is reported failed with its log path, a new worker takes
its place, the other jobs finish, and the exit status is non-zero. Jobs are resumable (the trainer checkpoints
every epoch) and guarded by their lock, so rerunning the same command picks up where a killed run stopped, and two
runners (or two machines sharing the cache) never train the same job. Every job seeds torch, numpy and Python's
generators from its own settings before it trains (:meth:`repro.jobs.spec.Job.train`), so a job trained after
others in the same process gives the same weights as one trained in a fresh process (``tests/test_jobs.py``).

**Threads by need** (opt-in: ``lend_idle_cores``, ``jobs run --lend-idle-cores``). A job gets the runner's
``threads`` (one by default). With the option, when the last job is handed out and cores would stand idle, it takes
the idle cores' threads, but only on an idle machine: the 1-minute load average, less this runner's busy workers,
must be below ``IDLE_LOAD`` (a second thread gave 76 % efficiency on the NECST MLP on an idle 2-core machine; on a
busy one two threads per process were 7-13x slower). It is off by default because a thread count can change a
model's weights in the last bits (parallel reductions), and a fixed seed must give the same numbers on the same
machine whatever else runs. Each job's thread count is recorded in its done file (``<cache>/jobs/<job>-<key>.done``,
``threads``).

At the end the runner prints the wall time against its estimate (the jobs' costs, shared among the workers, plus
one start-up per worker).
"""

from __future__ import annotations

import json
import os
import re
import selectors
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from repro.core.paths import cache_root
from repro.core.runtime import format_seconds
from repro.jobs.spec import Job

BUSY_EXIT = 75  # a worker found the job's lock held by someone else
IDLE_LOAD = 0.5  # load average (less our busy workers) below which idle cores may lend a job their threads
STARTUP_SECONDS = 8.0  # a worker's start-up (imports); jobs plan uses the measured value when there is one
# a job's fixed cost beside its training images (building the model, loading its split into the worker, validation
# set-up, writing the checkpoint and the done file): the smoke plan's 47 jobs ran 24 s longer than their image
# costs on the 2-core AVX2 machine, ~0.5 s each; `python -m repro.jobs measure` times it on this machine
JOB_OVERHEAD_SECONDS = 0.5
# the trainer's progress lines (repro.core.runtime.ProgressLines): an epoch finished, or a run resumed after one
EPOCH_LINE = re.compile(r"^\[progress\] (\S+) (?:resuming after )?epoch (\d+)/(\d+)(?: done|$)", re.MULTILINE)


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


def _serve_command(threads: int, device: str) -> list[str]:
    return [sys.executable, "-m", "repro.jobs", "serve", "--threads", str(threads), "--device", device]


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


@dataclass
class _Worker:
    """A persistent worker process, its control pipe (one JSON line per finished job) and the job it holds."""

    proc: subprocess.Popen
    buffer: str = ""
    job: Job | None = None
    reader: object = None
    log: Path | None = None
    t0: float = 0.0
    number: int = 0

    def lines(self) -> list[str]:
        """Complete control lines available now (non-blocking); ``[]`` at end of file."""
        try:
            data = os.read(self.proc.stdout.fileno(), 65536)
        except BlockingIOError:
            return []
        if not data:
            return []
        self.buffer += data.decode()
        *done, self.buffer = self.buffer.split("\n")
        return [ln for ln in done if ln.strip()]


def _start_worker(threads: int, device: str, env: dict) -> _Worker:
    proc = subprocess.Popen(_serve_command(threads, device), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    os.set_blocking(proc.stdout.fileno(), False)
    return _Worker(proc)


def threads_for(base: int, busy_after: int, jobs_left: int, cores: int, load: float) -> int:
    """Threads for the job being handed out: ``base``, or the idle cores' share when no job is waiting for them
    (``jobs_left`` after this one is 0), cores would stand idle and the machine is otherwise idle."""
    idle_cores = cores - busy_after * base - base
    if jobs_left > 0 or idle_cores <= 0 or load - busy_after * base >= IDLE_LOAD:
        return base
    return base + idle_cores  # the last job to start takes every idle core


def run_local(jobs: list[Job], *, workers: int, threads: int = 1, device: str = "auto", log_dir: Path | None = None,
              echo=print, poll: float = 0.5, lend_idle_cores: bool = False,
              data_root: str | Path | None = None) -> list[Outcome]:
    """Train ``jobs`` in at most ``workers`` persistent processes; return one :class:`Outcome` per job.

    ``lend_idle_cores``: let the last job take idle cores' threads on an idle machine (see the module docstring).
    ``data_root``: a data folder every job searches first (its trainer's ``data_root``)."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    root = cache_root()
    log_dir = Path(log_dir or root / "jobs" / "logs")
    log_dir.mkdir(parents=True, exist_ok=True)
    outcomes, todo = pending(jobs, root)
    total = len(todo)
    n_workers = max(1, min(workers, total))
    estimate = estimate_wall(todo, n_workers, log_dir)
    echo(f"[jobs] {len(jobs)} jobs, {len(jobs) - total} already done, {total} to train with {n_workers} persistent "
         f"worker(s) x {threads} thread(s); estimated {format_seconds(estimate)} (logs in {log_dir})")
    if not todo:
        return [outcomes[j.key] for j in jobs]
    env = {**os.environ, "REPRO_PROGRESS": "lines", "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "PYTHONUNBUFFERED": "1"}
    pool: list[_Worker] = []
    started = 0
    t_all = time.perf_counter()
    selector = selectors.DefaultSelector()

    def hand_out(w: _Worker) -> None:
        nonlocal started
        job = todo.pop(0)
        started += 1
        w.job, w.number, w.t0 = job, started, time.perf_counter()
        w.log = log_path(job, log_dir)
        job_file = log_dir / f"{job.name}-{job.key[:8]}.job.json"
        job_file.write_text(json.dumps(job.to_dict(), indent=1))
        w.log.write_text("")
        w.reader = open(w.log)
        busy = sum(o.job is not None for o in pool if o is not w)
        n = threads_for(threads, busy, len(todo), os.cpu_count() or 1, os.getloadavg()[0]) if lend_idle_cores \
            else threads
        request = {"job_file": str(job_file), "log": str(w.log), "threads": n,
                   "data_root": None if data_root is None else str(data_root)}
        w.proc.stdin.write((json.dumps(request) + "\n").encode())
        w.proc.stdin.flush()
        echo(f"[jobs] start {started}/{total} {job.name} (est. {format_seconds(job.cost)}"
             + (f"; {n} threads: idle cores lent" if n != threads else "") + ")")

    def finish(w: _Worker, status: str, error: str = "", code=None) -> None:
        job, seconds = w.job, time.perf_counter() - w.t0
        prefix = f"[{w.number}/{total} {job.name}]"
        _tail_new(w.reader, prefix, echo)
        w.reader.close()
        if status == "done":
            outcomes[job.key] = Outcome(job, "done", seconds, w.log)
            echo(f"[jobs] done  {w.number}/{total} {job.name} in {format_seconds(seconds)}")
        elif status == "busy":
            outcomes[job.key] = Outcome(job, "busy", seconds, w.log, "trained by another runner")
            echo(f"[jobs] busy  {job.name}: another runner holds its lock; rerun later to use its result")
        else:
            found = error or _last_error(w.log)
            if code is not None:
                error = f"exit status {code}" + (f": {found}" if found else " (the worker died)")
            else:
                error = found or "failed (see its log)"
            outcomes[job.key] = Outcome(job, "failed", seconds, w.log, error)
            echo(f"[jobs] FAILED {job.name}: {error} (log: {w.log})")
        w.job = w.reader = None

    try:
        while todo or any(w.job for w in pool):
            # keep n_workers alive while there is work for them; hand every idle worker a job
            while len(pool) < min(n_workers, len(todo) + sum(w.job is not None for w in pool)):
                w = _start_worker(threads, device, env)
                selector.register(w.proc.stdout, selectors.EVENT_READ, w)
                pool.append(w)
            for w in pool:
                if w.job is None and todo:
                    hand_out(w)
            for key, _ in selector.select(timeout=poll):
                w = key.data
                for line in w.lines():
                    msg = json.loads(line)
                    if w.job is not None and msg.get("key") == w.job.key:
                        finish(w, msg["status"], msg.get("error", ""))
            for w in list(pool):
                if w.job is not None:
                    _tail_new(w.reader, f"[{w.number}/{total} {w.job.name}]", echo)
                code = w.proc.poll()
                if code is not None:  # the worker died: its job fails, a new worker takes its place
                    for line in w.lines():  # an outcome written just before it exited
                        msg = json.loads(line)
                        if w.job is not None and msg.get("key") == w.job.key:
                            finish(w, msg["status"], msg.get("error", ""))
                    if w.job is not None:
                        finish(w, "failed", code=code)
                    selector.unregister(w.proc.stdout)
                    pool.remove(w)
    except KeyboardInterrupt:
        _stop(pool)
        raise
    _stop(pool)
    wall = time.perf_counter() - t_all
    echo(f"[jobs] finished in {format_seconds(wall)} (estimated {format_seconds(estimate)}, "
         f"{wall / estimate if estimate else float('nan'):.2f}x)")
    return [outcomes[j.key] for j in jobs]


def job_overhead() -> float:
    """A job's fixed seconds beside its images: measured on this machine, else :data:`JOB_OVERHEAD_SECONDS`."""
    from repro.core.throughput import measurements

    value = measurements().get("job_overhead_seconds")
    return float(value) if value is not None else JOB_OVERHEAD_SECONDS


def log_path(job: Job, log_dir: Path | None = None) -> Path:
    """Where the runner writes ``job``'s output: ``<log dir>/<job>-<key>.log``, the cache's ``jobs/logs`` by default."""
    return Path(log_dir or cache_root() / "jobs" / "logs") / f"{job.name}-{job.key[:8]}.log"


def fraction_trained(job: Job, log_dir: Path | None = None) -> float:
    """The fraction of ``job``'s epochs its last run got through, from the last ``[progress] <model> epoch N/M
    done`` (or ``resuming after epoch N/M``) line of its log. It is 0 without a log or such a line, and 0 when the log
    names more than one model (a job that trains several in turn: the last line says nothing of those before it).
    The trainer checkpoints every epoch, so a resumed job trains only the rest."""
    path = log_path(job, log_dir)
    if job.is_done() or not path.exists():
        return 0.0
    found = EPOCH_LINE.findall(path.read_text(errors="replace"))
    if not found or len({model for model, _, _ in found}) > 1:
        return 0.0
    _, done, total = found[-1]
    return min(1.0, int(done) / int(total)) if int(total) > 0 else 0.0


def remaining_cost(job: Job, log_dir: Path | None = None) -> float:
    """``job``'s estimated cost less the part its last, interrupted run trained (:func:`fraction_trained`)."""
    return job.cost * (1.0 - fraction_trained(job, log_dir))


def estimate_wall(todo: list[Job], workers: int, log_dir: Path | None = None) -> float:
    """Wall seconds for ``todo`` on ``workers`` persistent workers: their remaining costs (:func:`remaining_cost`)
    plus a fixed overhead per job (:func:`job_overhead`) shared among the workers (each slowed by side-by-side
    running), plus one start-up per worker (both measured by ``python -m repro.jobs measure``)."""
    if not todo:
        return 0.0
    from repro.core.throughput import SIDE_BY_SIDE, measured_startup

    n = max(1, min(workers, len(todo)))
    costs = sum(remaining_cost(j, log_dir) for j in todo)
    compute = (costs + len(todo) * job_overhead()) / n / (SIDE_BY_SIDE if n > 1 else 1.0)
    return compute + (measured_startup() or STARTUP_SECONDS)


def _stop(pool: list[_Worker]) -> None:
    """Close every worker: end of input for the idle ones, a terminate for those still training."""
    for w in pool:
        try:
            if w.job is None:
                w.proc.stdin.close()
            else:
                w.proc.terminate()
        except (BrokenPipeError, OSError):
            pass
    for w in pool:
        try:
            w.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            w.proc.kill()


def serve(threads: int, device: str) -> int:
    """The worker's side: read job requests (one JSON line each) from stdin until it closes; for each, point
    stdout and stderr at the job's log, train it, and write its outcome as one JSON line to the original stdout
    (the control pipe): ``{"key", "status": done | busy | failed, "error"}``."""
    import traceback

    from repro.core.runtime import pin_threads
    from repro.jobs.spec import JobBusy

    pin_threads(threads)
    control = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        job = Job.from_dict(json.loads(Path(request["job_file"]).read_text()))
        sys.stdout.flush()
        sys.stderr.flush()
        log_fd = os.open(request["log"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.close(log_fd)
        status, error = "done", ""
        n = pin_threads(int(request.get("threads", threads)))
        print(f"[jobs] {job.name}: training on {device} with {n} thread(s) (worker pid {os.getpid()})", flush=True)
        try:
            job.train(device=device, data_root=request.get("data_root"), wait=False)
        except JobBusy as err:
            print(f"[jobs] {err}", flush=True)
            status, error = "busy", str(err)
        except Exception as err:  # the job fails, the worker lives on for the next one
            traceback.print_exc()
            status, error = "failed", f"{type(err).__name__}: {err}"
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        control.write(json.dumps({"key": job.key, "status": status, "error": error[:300]}) + "\n")
    return 0


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
