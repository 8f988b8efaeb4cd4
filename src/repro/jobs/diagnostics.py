"""Trainer stand-ins for exercising the job runner itself (its tests and ``benchmarks/jobs_parallel.py``):
a job that dies like a crashed worker, one that raises, and one that burns a fixed amount of CPU."""

from __future__ import annotations

import os
import time


def crash(*, exit_code: int = 13, device=None, cache=None, data_root=None, **_):
    """Ends the worker process at once, as a segfault or an out-of-memory kill would (no exception, no cleanup)."""
    os._exit(exit_code)


def fail(*, message: str = "diagnostic failure", device=None, cache=None, data_root=None, **_):
    """Raises ``message``, naming the data folder the job was handed (``data_root``) when it was handed one."""
    raise RuntimeError(message + ("" if data_root is None else f" (data_root {data_root})"))


def spin(*, seconds: float = 1.0, device=None, cache=None, data_root=None, **_):
    """Busy-loops on one core for ``seconds`` of wall time; returns ``(None, [{"epoch": 1, ...}])``."""
    t0 = time.perf_counter()
    n = 0
    while time.perf_counter() - t0 < seconds:
        n += sum(i * i for i in range(1000))
    return None, [{"epoch": 1, "seconds": time.perf_counter() - t0}]
