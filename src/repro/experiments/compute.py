"""What training costs on this machine: the model families' probes, the precision ``auto`` resolves to, and the
throughput measurement behind the job planner's estimates.

This module sits above the models and systems because its probes build them: the hardware side (native bf16,
the CPU's flags, a timed training step) is :mod:`repro.core.precision`, the stored measurements
:mod:`repro.core.throughput`.

:func:`resolve` turns a requested precision into the one a model family trains with, and says why:

- ``fp32`` or ``bf16``: forced, used as given.
- ``auto``: ``bf16`` only when (1) the device has native bf16, (2) the family's parity run
  (``benchmarks/results/train_throughput.json``) left its test distortion within the seed spread, and (3) a probe of
  a few training steps of that family on this machine measured bf16 at least ``MIN_SPEEDUP`` times fp32;
  ``fp32`` otherwise. The probe's result is cached per CPU model, torch version and family
  (``<cache>/precision_probe.json``), so it runs once per machine.
"""

from __future__ import annotations

import datetime as _dt
import json
import statistics
from pathlib import Path

import torch

from repro.core.cache import cache_root
from repro.core.checks import check_choice
from repro.core.precision import (
    MIN_SPEEDUP,
    PRECISION_CHOICES,
    cpu_model_and_flags,
    native_bf16,
    parity_allows,
    throughput,
    torch_device,
)
from repro.core.runtime import pin_threads
from repro.core.throughput import METHODS, machine_key, path
from repro.models.vae import ConvVAE, negative_elbo
from repro.systems import necst
from repro.systems.bandwidth import Arch, build_joint


def families() -> dict:
    """Model families with a probe: name -> (model factory, loss, input shape, batch size)."""
    return {
        "vae": (lambda: ConvVAE(16), negative_elbo, (1, 28, 28), 64),
        "necst_mlp": (lambda: necst.build_model("mnist", eps=0.1), lambda m, x: m.loss(x), (1, 28, 28), 100),
        "necst_conv": (lambda: necst.build_model("cifar10", eps=0.1), lambda m, x: m.loss(x), (3, 32, 32), 100),
        "resnet": (lambda: build_joint(Arch(3, 100, 16), snr_db=0.0, beta=1.0), lambda m, x: m.loss(x),
                   (3, 32, 32), 64),
    }


def probe_file() -> Path:
    return cache_root() / "precision_probe.json"


def probe_speedup(family: str, device: str | torch.device = "auto", batches: int = 6) -> float:
    """bf16 / fp32 training throughput of ``family`` on this machine (cached per CPU model, torch and family)."""
    fams = families()
    check_choice("model family", family, sorted(fams))
    dev = torch_device(device)
    ident = torch.cuda.get_device_name(dev) if dev.type == "cuda" else cpu_model_and_flags()[0]
    key = f"{dev.type}|{ident}|{torch.__version__}|{family}"
    path = probe_file()
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    if key not in known:
        factory, loss_fn, shape, batch = fams[family]
        unit = "images_per_wall_s" if dev.type == "cuda" else "images_per_cpu_s"
        rate = {p: throughput(factory, loss_fn, shape, batch, p, batches, dev)[unit] for p in ("fp32", "bf16")}
        known[key] = round(rate["bf16"] / rate["fp32"], 3)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")
    return float(known[key])


def resolve(requested: str | None, family: str, device: str | torch.device = "auto") -> tuple[str, str]:
    """``(precision, reason)`` a model of ``family`` trains with when ``requested`` (``auto`` | ``fp32`` |
    ``bf16``; ``None`` means ``auto``) is asked for on ``device``."""
    requested = requested or "auto"
    check_choice("precision", requested, PRECISION_CHOICES)
    if requested != "auto":
        return requested, f"{requested} forced (-p precision {requested})"
    native, why = native_bf16(device)
    if not native:
        return "fp32", f"auto: {why}"
    allowed, why_parity = parity_allows(family)
    if not allowed:
        return "fp32", f"auto: {why}, but {why_parity}"
    if family not in families():
        return "fp32", f"auto: {why}, but no throughput probe for family {family!r}"
    speedup = probe_speedup(family, device)
    if speedup < MIN_SPEEDUP:
        return "fp32", f"auto: {why}, but the probe measured bf16 at {speedup:.2f}x fp32 (< {MIN_SPEEDUP}x)"
    return "bf16", f"auto: {why}, {why_parity}, probe {speedup:.2f}x fp32"


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


def time_job_overhead(repeats: int = 2) -> float:
    """Median wall seconds of a job with almost no images (notebook 01's VAE on 64 MNIST images for one epoch,
    in a fresh cache each time), after one untimed run that loads the dataset as a persistent worker does once:
    what every job costs beside its training images."""
    import tempfile
    import time

    from repro.core.cache import CheckpointCache
    from repro.jobs.spec import Job

    times = []
    for i in range(repeats + 1):
        with tempfile.TemporaryDirectory() as tmp:
            job = Job("01_vae_compression", f"overhead-probe-{i}", "repro.systems.vae_storage:train_vae",
                      {"dataset": "mnist", "seed": i, "epochs": 1, "n_train": 64})
            t0 = time.perf_counter()
            job.train(device="cpu", cache=CheckpointCache(Path(tmp)))
            if i:
                times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(only: list[str] | None = None, batches: int = 8, echo=print) -> dict:
    """Time each family (at the precision ``auto`` resolves to here) and NECST / ABF / IABF on MNIST; store and
    return this machine's entry."""
    pin_threads(1)
    fams = families()
    out = {"date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"), "seconds_per_image": {},
           "images_per_cpu_s": {}, "method_factor": {}}
    for name in only or list(fams):
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
    out["job_overhead_seconds"] = round(time_job_overhead(), 3)
    echo(f"[measure] a job's fixed cost beside its images: {out['job_overhead_seconds']:.2f} s")
    p = path()
    try:
        data = json.loads(p.read_text())
    except (OSError, ValueError):
        data = {}
    data[machine_key()] = out
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    return out
