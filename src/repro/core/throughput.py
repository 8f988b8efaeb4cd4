"""Training throughput measured on *this* machine, for the job planner's estimates.

``python -m repro.jobs measure`` times a few full training steps of each model family (the probes of
:mod:`repro.core.precision`) at the precision this machine resolves ``auto`` to, one thread, in CPU seconds, and
stores seconds per training image in ``<cache>/throughput.json`` under this CPU's model name. The estimates of
:func:`repro.experiments.common.cost` then use them; families without a probe (the small classifier, the
channel autoencoder) are scaled from the development machine's numbers by the median ratio of the probed ones.
Measured with one process: two workers side by side on a 2-core machine each run about 0.7x as fast (memory
bandwidth), which the planner's wall-time estimate applies (:data:`SIDE_BY_SIDE`).
"""

from __future__ import annotations

import datetime as _dt
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


def measured_seconds_per_image(family: str, precision: str = "fp32") -> float | None:
    """Seconds per training image of ``family`` at ``precision`` on this machine, or ``None`` without a
    measurement (families without a probe: scaled by the median ratio of the probed ones)."""
    m = measurements()
    rates = m.get("seconds_per_image", {})
    if not rates:
        return None
    key = f"{family}|{precision}"
    if key in rates:
        return float(rates[key])
    from repro.experiments.common import SECONDS_PER_IMAGE

    if family not in SECONDS_PER_IMAGE:
        return None
    ratios = [float(v) / SECONDS_PER_IMAGE[k.split("|")[0]] for k, v in rates.items()
              if k.endswith("|fp32") and k.split("|")[0] in SECONDS_PER_IMAGE]
    return SECONDS_PER_IMAGE[family] * statistics.median(ratios) if ratios else None


def measured_startup() -> float | None:
    """Seconds a job worker takes to start on this machine (interpreter, torch and the package), or ``None``."""
    value = measurements().get("worker_startup_seconds")
    return float(value) if value is not None else None


def time_startup(repeats: int = 2) -> float:
    """Median wall seconds of starting a worker's imports in a fresh interpreter."""
    import subprocess
    import sys
    import time

    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch, repro.jobs.cli, repro.core.training"], check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def method_factor(method: str) -> float | None:
    """Measured cost of one NECST-MLP training image with ``method``'s regularizers over plain NECST."""
    return measurements().get("method_factor", {}).get(method)


def measure(families: list[str] | None = None, batches: int = 8, echo=print) -> dict:
    """Time each family (at the precision ``auto`` resolves to here) and NECST / ABF / IABF on MNIST; store and
    return this machine's entry."""
    from repro.core.precision import families as probe_families
    from repro.core.precision import resolve, throughput
    from repro.core.runtime import pin_threads
    from repro.systems import necst

    pin_threads(1)
    fams = probe_families()
    out = {"date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"), "seconds_per_image": {},
           "images_per_cpu_s": {}, "method_factor": {}}
    for name in families or list(fams):
        factory, loss_fn, shape, batch = fams[name]
        prec, _ = resolve("auto", name, "cpu")
        n = batches if name in ("necst_mlp", "vae") else max(2, batches // 4)
        rate = throughput(factory, loss_fn, shape, batch, prec, n)["images_per_cpu_s"]
        out["seconds_per_image"][f"{name}|{prec}"] = 1.0 / rate
        out["images_per_cpu_s"][f"{name}|{prec}"] = rate
        echo(f"[measure] {name} ({prec}): {rate:,.0f} images per CPU-second")
    base = None
    for method in METHODS:
        rate = throughput(lambda m=method: necst.build_model("mnist", eps=0.1, method=m), lambda m, x: m.loss(x),
                          (1, 28, 28), 100, "fp32", batches)["images_per_cpu_s"]
        base = base or rate
        out["method_factor"][method] = round(base / rate, 3)
        echo(f"[measure] NECST MLP with {method}: {rate:,.0f} images per CPU-second ({base / rate:.2f}x NECST)")
    out["worker_startup_seconds"] = round(time_startup(), 2)
    echo(f"[measure] worker start-up: {out['worker_startup_seconds']:.1f} s")
    p = path()
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError):
        data = {}
    data[machine_key()] = out
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return out
