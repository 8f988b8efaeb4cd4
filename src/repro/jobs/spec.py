"""A training *job*: one cached, resumable model fit, described by data so it can run anywhere.

A :class:`Job` names a trainer function (``"package.module:function"``) and the JSON-able keyword arguments
that, with the runtime arguments ``device``, ``cache`` and ``data_root``, fully determine the checkpoint it
produces (the trainer's own cache key is computed from the same values). Because a job is plain data it crosses
process and machine boundaries unchanged: the local worker pool and the Ray backend run exactly what a notebook
would run, and the notebook then finds the finished checkpoint in the cache.

Two files per job live in ``<cache>/jobs/`` beside the checkpoints: ``<key>.lock`` (held while the job trains, so
two workers or two machines sharing the cache never train the same job) and ``<key>.done`` (JSON written when it
finished; :func:`status` reads it).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import json
import os
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from repro.core.paths import cache_root


class JobBusy(RuntimeError):
    """Another process holds the job's lock."""


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True, eq=False)
class Job:
    """One training run.

    Attributes:
        notebook: the notebook whose figures need it.
        name: readable and unique within a plan, e.g. ``necst-mnist-eps0.1-seed0``.
        target: ``"module:function"``; the function takes ``**kwargs`` plus ``device``, ``cache`` and
            ``data_root`` keywords and returns ``(model, history)``.
        kwargs: JSON-able arguments; with the target they form the job key.
        cost: estimated seconds on one CPU thread (for ordering and ETAs; 0 when unknown).
        meta: what the notebook uses to file the result (method, eps, seed...); not part of the key.
        family: model family, for GPU sharing on a cluster (``mlp`` | ``conv`` | ``resnet`` | ``small``).
    """

    notebook: str
    name: str
    target: str
    kwargs: dict
    cost: float = 0.0
    meta: dict = field(default_factory=dict)
    family: str = "small"

    @property
    def key(self) -> str:
        text = _canonical({"target": self.target, "kwargs": self.kwargs})
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Job:
        return cls(**data)

    def function(self):
        module, _, attr = self.target.partition(":")
        if not module or not attr:
            raise ValueError(f"job target must look like 'module:function', got {self.target!r}")
        return getattr(importlib.import_module(module), attr)

    # -- bookkeeping files ------------------------------------------------------------------------------------
    def _path(self, suffix: str, root: Path | None = None) -> Path:
        return Path(root or cache_root()) / "jobs" / f"{self.name}-{self.key}.{suffix}"

    def done_path(self, root: Path | None = None) -> Path:
        return self._path("done", root)

    def is_done(self, root: Path | None = None) -> bool:
        """Finished, under this name or another: two notebooks may plan the same model (same target and kwargs,
        so the same key and checkpoint) under different names, e.g. notebook 02's and 03's eps-0.1 NECST."""
        if self.done_path(root).exists():
            return True
        folder = Path(root or cache_root()) / "jobs"
        return folder.is_dir() and any(folder.glob(f"*-{self.key}.done"))

    @contextlib.contextmanager
    def lock(self, root: Path | None = None, *, wait: bool = True, poll: float = 2.0):
        """Hold the job's lock (an ``flock`` on ``<key>.lock``). ``wait=False`` raises :class:`JobBusy` at once when
        another process holds it; ``wait=True`` waits, saying once whom it waits for."""
        path = self._path("lock", root)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            told = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    holder = path.read_text().strip() or "another process"
                    if not wait:
                        raise JobBusy(f"job {self.name} is being trained by {holder}") from None
                    if not told:
                        print(f"[jobs] waiting for {self.name}: trained by {holder}", flush=True)
                        told = True
                    time.sleep(poll)
            os.ftruncate(fd, 0)
            os.write(fd, f"pid {os.getpid()} on {socket.gethostname()}".encode())
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # closing releases the flock

    # -- running ----------------------------------------------------------------------------------------------
    def train(self, *, device="auto", cache=None, data_root=None, lock: bool = True, wait: bool = True):
        """Train (or load from the checkpoint cache) and return ``(model, history)``; marks the job done.

        Used both by notebooks (a missing checkpoint is trained on the spot) and by the workers."""
        import torch

        from repro.core.cache import CheckpointCache
        from repro.core.runtime import pick_device, seed_everything

        cache = cache or CheckpointCache()
        dev = device if isinstance(device, torch.device) else pick_device(device)
        seed_everything(int(self.kwargs.get("seed", 0)))
        fn = self.function()
        t0 = time.perf_counter()
        ctx = self.lock(cache.root, wait=wait) if lock else contextlib.nullcontext()
        with ctx:
            model, history = fn(**self.kwargs, device=dev, cache=cache, data_root=data_root)
        self._mark_done(cache.root, time.perf_counter() - t0, history, dev)
        return model, history

    def _mark_done(self, root: Path, seconds: float, history, device) -> None:
        path = self.done_path(root)
        if path.exists():
            return
        if isinstance(history, dict):  # trainers that return (model, info) with the history inside
            history = history.get("history", [])
        last = history[-1] if history else {}
        info = {"name": self.name, "notebook": self.notebook, "target": self.target, "kwargs": self.kwargs,
                "seconds_this_call": round(seconds, 2), "device": str(device), "epochs": last.get("epoch"),
                "threads": _torch_threads(),
                "finished": time.strftime("%Y-%m-%dT%H:%M:%S"), "host": socket.gethostname()}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(info, indent=1, default=str))
        os.replace(tmp, path)


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def status(job: Job, root: Path | None = None) -> str:
    """``done`` (finished), ``running`` (its lock is held), ``partial`` (a checkpoint exists but the job never
    finished: resumable) or ``todo``."""
    if job.is_done(root):
        return "done"
    path = job._path("lock", root)
    if path.exists():
        fd = os.open(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
        except BlockingIOError:
            return "running"
        finally:
            os.close(fd)
        return "partial"
    return "todo"
