"""Seeding, device choice and the progress bar used by long loops."""

from __future__ import annotations

import os
import random
import sys

import numpy as np
import torch

from .checks import check_choice

DEVICES = ("auto", "cpu", "cuda")


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a fresh CPU generator seeded with ``seed`` for explicit use."""
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


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

    if quiet() or not sys.stderr.isatty():
        kwargs.setdefault("mininterval", 30.0 if quiet() else 5.0)
    return tqdm(iterable, **kwargs)
