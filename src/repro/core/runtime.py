"""Seeding, device choice, seeded random draws on any device, and the progress bar used by long loops."""

from __future__ import annotations

import os
import random
import sys

import numpy as np
import torch

from repro.core.checks import check_choice

DEVICES = ("auto", "cpu", "cuda")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a fresh CPU generator seeded with ``seed`` for explicit use."""
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def draw(sample, *args, generator: torch.Generator | None = None, device=None, **kwargs) -> torch.Tensor:
    """``sample(*args, **kwargs)`` (``torch.rand``, ``torch.randn``, ``torch.randint``, ...) drawn from ``generator``
    and placed on ``device``.

    A ``torch.Generator`` draws only on its own device, so the draw is made there and then moved: a CPU generator
    gives the same numbers whether the tensors it perturbs live on the CPU or a GPU. Without a generator the draw
    comes from torch's global generator of ``device``. ``draw(torch.rand, (n, m), generator=g, device=x.device)``
    is ``torch.rand((n, m), generator=g, device=g.device).to(x.device)``."""
    where = generator.device if generator is not None else device
    return sample(*args, generator=generator, device=where, **kwargs).to(device)


def pick_device(device: str = "auto") -> torch.device:
    """``auto`` picks CUDA when available, else the CPU; ``cuda`` without a GPU is an error, not a fallback."""
    check_choice("device", device, DEVICES)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device='cuda' was requested but torch sees no CUDA device; use device='auto' or 'cpu'")
    return torch.device(device)


def quiet() -> bool:
    """True in CI logs and when ``REPRO_QUIET`` is set: progress bars then print rarely."""
    return bool(os.environ.get("CI")) or bool(os.environ.get("REPRO_QUIET"))


def progress(iterable=None, **kwargs):
    """A tqdm progress bar: the widget in notebooks, a plain bar in terminals, sparse updates in CI logs."""
    try:  # the notebook widget needs ipywidgets; without it tqdm.auto warns, so pick the plain bar directly
        import ipywidgets  # noqa: F401
        from tqdm.auto import tqdm
    except ImportError:
        from tqdm.std import tqdm

    if os.environ.get("REPRO_PROGRESS") == "lines":  # job workers: ProgressLines prints instead of a bar
        kwargs["disable"] = True
    elif quiet() or not sys.stderr.isatty():
        kwargs.setdefault("mininterval", 30.0 if quiet() else 5.0)
    return tqdm(iterable, **kwargs)


def pin_threads(threads: int | None) -> int:
    """Pin torch's intra-op threads (``None`` leaves torch's default) and return the number in force.

    One thread per job is the default of the job runner and the notebooks: on a busy 2-core machine two threads per
    process were measured 7-13x slower than one, so parallelism comes from running jobs side by side instead."""
    if threads is not None:
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
            raise ValueError(f"threads must be a positive integer or None, got {threads!r}")
        torch.set_num_threads(threads)
        os.environ["OMP_NUM_THREADS"] = str(threads)
    return torch.get_num_threads()


# The training metrics a progress line shows, first found first (validation metrics always; the loss only when none of
# these is reported): distortions and bounds a reader can interpret, not the training surrogate.
SHOWN_METRICS = ("l2_per_image", "distortion", "bound", "rec", "mse_per_dim", "acc")


def shown_metrics(row: dict) -> dict:
    """The metrics a progress display shows for a history row: the validation metrics and the first
    interpretable training metric of :data:`SHOWN_METRICS` (the loss only when none is reported)."""
    out = {k: v for k, v in row.items() if k.startswith("val_") and isinstance(v, float)}
    for key in SHOWN_METRICS:
        if key in row:
            return {key: row[key], **out}
    return {"loss": row["loss"], **out}


def format_seconds(seconds: float) -> str:
    """``75`` -> ``1m15s``; ``3700`` -> ``1h01m``."""
    seconds = max(0, int(round(seconds)))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"


class ProgressLines:
    """Plain progress lines for terminals and logs: ``[progress] NAME epoch 3/10 ... img/s eta ...``.

    Enabled when ``REPRO_PROGRESS=lines`` (the job runner's workers set it); lines go to stderr, at the end of every
    epoch and at most every ``REPRO_PROGRESS_INTERVAL`` seconds (default 30) within one, so a long epoch is never
    silent. Disabled, every method is a no-op."""

    def __init__(self, name: str, *, epochs: int, start_epoch: int, images_per_epoch: int):
        self.enabled = os.environ.get("REPRO_PROGRESS") == "lines"
        self.name, self.epochs, self.n = name, epochs, images_per_epoch
        self.interval = float(os.environ.get("REPRO_PROGRESS_INTERVAL", "30"))
        self.t_epoch = self.t_last = self._now()
        self.epoch_seconds: list[float] = []
        self.start_epoch = start_epoch
        if self.enabled and start_epoch:
            self._emit(f"resuming after epoch {start_epoch}/{epochs}")

    @staticmethod
    def _now() -> float:
        import time

        return time.perf_counter()

    def _emit(self, text: str) -> None:
        print(f"[progress] {self.name} {text}", file=sys.stderr, flush=True)

    @staticmethod
    def _metrics(metrics: dict) -> str:
        return " ".join(f"{k}={v:.4g}" for k, v in metrics.items() if isinstance(v, (int, float)))

    def batch(self, epoch: int, seen: int, running: dict) -> None:
        if not self.enabled:
            return
        now = self._now()
        if seen == 0 or now - self.t_last < self.interval:
            return
        self.t_last = now
        elapsed = now - self.t_epoch
        rate = seen / elapsed if elapsed > 0 else float("nan")
        per_epoch = self.n / rate if rate > 0 else float("nan")
        remaining = per_epoch * (self.epochs - epoch) - elapsed
        shown = shown_metrics(running) if "loss" in running else running
        self._emit(f"epoch {epoch + 1}/{self.epochs} {100 * seen / self.n:.0f}% {rate:,.0f} img/s "
                   f"eta {format_seconds(remaining)} {self._metrics(shown)}")

    def epoch_done(self, epoch: int, seconds: float, shown: dict) -> None:
        self.t_epoch = self.t_last = self._now()
        if not self.enabled:
            return
        self.epoch_seconds.append(seconds)
        mean = sum(self.epoch_seconds[-3:]) / len(self.epoch_seconds[-3:])
        remaining = mean * (self.epochs - epoch - 1)
        self._emit(f"epoch {epoch + 1}/{self.epochs} done {self.n / seconds:,.0f} img/s "
                   f"eta {format_seconds(remaining)} {self._metrics(shown)}")
