"""Training throughput measured on *this* machine, for the job planner's estimates.

``python -m repro.jobs measure`` (:func:`repro.experiments.compute.measure`) times a few full training steps of each
model family (the probes of :mod:`repro.experiments.compute`) at the precision this machine resolves ``auto`` to,
one thread, in CPU seconds, and stores seconds per training image in ``<cache>/throughput.json`` under this CPU's
model name. The estimates of :func:`repro.experiments.common.cost` then use them (this module only stores and reads
them, so it stays in ``core``); families without a probe (the small classifier, the channel autoencoder) are scaled
from the development machine's numbers by the median ratio of the probed ones. Measured with one process: two
workers side by side on a 2-core machine each run about 0.7x as fast (memory bandwidth), which the planner's
wall-time estimate applies (:data:`SIDE_BY_SIDE`).
"""

from __future__ import annotations

import functools
import json
import statistics
from pathlib import Path

# Per-worker speed when several single-thread workers share a machine's cores (measured: NECST MLP / IABF on the
# 2-core AMD EPYC, 1,666 images/s alone vs 1,100-1,200 with a second worker).
SIDE_BY_SIDE = 0.7
# The method factors of notebook 03 (ABF / IABF over NECST per image) are measured too.
METHODS = ("NECST", "ABF", "IABF")


def path() -> Path:
    from repro.core.cache import cache_root

    return cache_root() / "throughput.json"


def machine_key() -> str:
    import torch

    from repro.core.precision import cpu_model_and_flags

    return f"{cpu_model_and_flags()[0]} | torch {torch.__version__}"


@functools.cache
def _load(file: str, mtime: float) -> dict:
    try:
        return json.loads(Path(file).read_text())
    except (OSError, ValueError):
        return {}


def measurements() -> dict:
    """This machine's stored measurement (``{}`` when none)."""
    p = path()
    if not p.exists():
        return {}
    return _load(str(p), p.stat().st_mtime).get(machine_key(), {})


def measured_seconds_per_image(family: str, precision: str = "fp32", reference: dict | None = None) -> float | None:
    """Seconds per training image of ``family`` at ``precision`` on this machine, or ``None`` without a
    measurement (families without a probe: their ``reference`` seconds per image, the development machine's,
    scaled by the median ratio of the probed ones)."""
    m = measurements()
    rates = m.get("seconds_per_image", {})
    if not rates:
        return None
    key = f"{family}|{precision}"
    if key in rates:
        return float(rates[key])
    reference = reference or {}
    if family not in reference:
        return None
    ratios = [float(v) / reference[k.split("|")[0]] for k, v in rates.items()
              if k.endswith("|fp32") and k.split("|")[0] in reference]
    return reference[family] * statistics.median(ratios) if ratios else None


def measured_startup() -> float | None:
    """Seconds a job worker takes to start on this machine (interpreter, torch and the package), or ``None``."""
    value = measurements().get("worker_startup_seconds")
    return float(value) if value is not None else None


def method_factor(method: str) -> float | None:
    """Measured cost of one NECST-MLP training image with ``method``'s regularizers over plain NECST."""
    return measurements().get("method_factor", {}).get(method)


