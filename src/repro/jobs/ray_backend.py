"""Send jobs to a Ray cluster as tasks (``python -m repro.jobs run --ray auto|ADDRESS|local``).

Every node must have the bundle installed at the same commit and see the checkpoint cache at the same path
(``REPRO_CACHE_DIR`` on a shared file system) and the datasets (``REPRO_DATA_DIR``); the driver passes both
variables to the tasks. A task trains one job through :meth:`Job.train` with the job's lock, so a cluster and a
local runner sharing the cache never train the same job. With GPUs in the cluster each task asks for a fraction of
one (small MLPs share a GPU four ways, conv coders two ways), else for ``threads`` CPUs.
"""

from __future__ import annotations

import os
import socket
import time

from repro.core.paths import cache_root
from repro.core.runtime import format_seconds
from repro.jobs.local import Outcome, pending
from repro.jobs.spec import Job, JobBusy

GPU_SHARE = {"mlp": 0.25, "small": 0.25, "conv": 0.5, "resnet": 0.5}


class RayUnavailable(RuntimeError):
    """Ray is not installed, or the cluster cannot be reached."""


def _train_task(job_dict: dict, threads: int, device: str, data_root: str | None = None) -> dict:
    from repro.core.runtime import pin_threads

    pin_threads(threads)
    job = Job.from_dict(job_dict)
    t0 = time.perf_counter()
    try:
        job.train(device=device, data_root=data_root, wait=False)
    except JobBusy as err:
        return {"status": "busy", "error": str(err), "seconds": time.perf_counter() - t0}
    return {"status": "done", "seconds": time.perf_counter() - t0, "host": socket.gethostname()}


def _reachable(address: str, timeout: float = 5.0) -> str | None:
    """``None`` when ``host:port`` (or ``ray://host:port``) accepts a TCP connection, else the reason. Ray itself
    retries an unreachable address for minutes; this answers in seconds."""
    target = address.removeprefix("ray://")
    host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit():
        return f"expected 'auto', 'local', 'host:port' or 'ray://host:port', got {address!r}"
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return None
    except OSError as err:
        return f"{type(err).__name__}: {err}"


# Ray waits a fixed 30 s for a new local node's raylet to register; on a busy machine (both cores training) that can
# run out, so a private local instance is started up to this many times before giving up.
LOCAL_START_ATTEMPTS = 3


def connect(address: str, *, num_cpus: int | None = None, echo=print):
    """``ray.init`` for ``address`` (``local`` starts a private instance with ``num_cpus``) and return
    ``(ray, started)``. When Ray is already initialized in this process (a test fixture, a notebook that called
    ``ray.init`` itself) that instance is used and ``started`` is False, so the caller leaves it running. Raises
    :class:`RayUnavailable` naming the address, and what to try, when Ray is missing or unreachable or a local
    instance does not start, leaving nothing started."""
    try:
        import ray
    except ImportError as err:
        raise RayUnavailable(f"--ray {address}: the 'ray' package is not installed (pip install ray==2.60.0, "
                             f"pinned in requirements.txt)") from err
    if ray.is_initialized():
        return ray, False
    if address not in ("auto", "local"):
        reason = _reachable(address)
        if reason:
            raise RayUnavailable(f"cannot reach a Ray cluster at --ray {address!r}: {reason}")
    env = {"REPRO_CACHE_DIR": str(cache_root().resolve()), "REPRO_PROGRESS": "lines"}
    for name in ("REPRO_DATA_DIR", "PYTHONPATH"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    kwargs = dict(runtime_env={"env_vars": env}, include_dashboard=False, log_to_driver=True,
                  configure_logging=False)
    attempts = LOCAL_START_ATTEMPTS if address == "local" else 1
    for attempt in range(1, attempts + 1):
        try:
            if address == "local":
                ray.init(num_cpus=num_cpus, **kwargs)
            else:
                ray.init(address=address, **kwargs)
            return ray, True
        except Exception as err:  # ConnectionError, RuntimeError, ValueError... depending on how the address fails
            if ray.is_initialized():
                ray.shutdown()
            what = f"{type(err).__name__}: {str(err).strip().splitlines()[0] if str(err).strip() else ''}"
            if attempt < attempts:
                echo(f"[jobs] local Ray instance did not start ({what}); retrying ({attempt + 1}/{attempts})")
                continue
            if address == "local":
                load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
                raise RayUnavailable(
                    f"could not start a local Ray instance (--ray local) in {attempts} attempts: {what}; load "
                    f"average {load}. Try again when the machine is less busy, or train without Ray: "
                    f"python -m repro.jobs run --workers N (local worker processes, same cache)") from err
            raise RayUnavailable(f"cannot reach a Ray cluster at --ray {address!r}: {what}") from err
    raise AssertionError("unreachable")


def run_ray(jobs: list[Job], address: str, *, threads: int = 1, device: str = "auto", workers: int | None = None,
            gpus_per_job: float | None = None, echo=print, data_root: str | None = None) -> list[Outcome]:
    """Train ``jobs`` as Ray tasks at ``address``; ``data_root``: a data folder every task searches first (a path
    the cluster's nodes see; otherwise their ``$REPRO_DATA_DIR``, passed on from this process)."""
    ray, started = connect(address, num_cpus=workers * threads if (address == "local" and workers) else None,
                           echo=echo)
    try:
        outcomes, todo = pending(jobs, cache_root())
        cluster_gpus = float(ray.cluster_resources().get("GPU", 0))
        echo(f"[jobs] ray at {address}: {ray.cluster_resources().get('CPU', 0):g} CPUs, {cluster_gpus:g} GPUs; "
             f"{len(jobs)} jobs, {len(jobs) - len(todo)} already done")
        remote = ray.remote(_train_task)
        refs = {}
        for job in todo:
            gpus = gpus_per_job if gpus_per_job is not None else (GPU_SHARE.get(job.family, 0.5) if cluster_gpus else 0)
            ref = remote.options(num_cpus=threads, num_gpus=gpus, name=job.name, max_retries=0).remote(
                job.to_dict(), threads, device, None if data_root is None else str(data_root))
            refs[ref] = (job, time.perf_counter())
        waiting = list(refs)
        while waiting:
            ready, waiting = ray.wait(waiting, num_returns=1, timeout=60)
            if not ready:
                echo(f"[jobs] {len(waiting)} job(s) running on the cluster")
                continue
            ref = ready[0]
            job, t0 = refs[ref]
            try:
                result = ray.get(ref)
            except Exception as err:  # RayTaskError, WorkerCrashedError, ...
                msg = str(err).strip().splitlines()[-1][:300] if str(err).strip() else type(err).__name__
                outcomes[job.key] = Outcome(job, "failed", time.perf_counter() - t0, None, msg)
                echo(f"[jobs] FAILED {job.name}: {msg} (Ray logs: /tmp/ray/session_latest/logs on its node)")
                continue
            outcomes[job.key] = Outcome(job, result["status"], result["seconds"], None, result.get("error", ""),
                                        {"host": result.get("host")})
            echo(f"[jobs] {result['status']} {job.name} in {format_seconds(result['seconds'])}"
                 + (f" on {result['host']}" if result.get("host") else ""))
        return [outcomes[j.key] for j in jobs]
    finally:
        if started:
            ray.shutdown()
