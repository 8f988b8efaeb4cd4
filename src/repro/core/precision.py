"""Training precision chosen by the hardware: ``precision: auto``.

bfloat16 autocast pays only where the device computes bf16 natively: CUDA GPUs with bf16 support, and CPUs whose
flags include ``amx_bf16`` or ``avx512_bf16`` (Intel Sapphire Rapids and later, AMD Zen 4 and later). Elsewhere
PyTorch emulates it and training runs about ten times *slower* than fp32 (measured on an AVX2-only AMD EPYC:
NECST MLP 2,490 vs 248 images per CPU-second).

:func:`repro.experiments.compute.resolve` turns a requested precision into the one a model family trains with (it
probes model families, so it lives above the models; this module holds the hardware side), and says why:

- ``fp32`` or ``bf16``: forced, used as given.
- ``auto``: ``bf16`` only when (1) the device has native bf16, (2) the family's parity run
  (``benchmarks/results/train_throughput.json``) left its test distortion within the seed spread, and (3) a probe of
  a few training steps of that family on this machine measured bf16 at least :data:`MIN_SPEEDUP` times fp32;
  ``fp32`` otherwise. The probe's result is cached per CPU model, torch version and family
  (``<cache>/precision_probe.json``), so it runs once per machine.

The resolved precision is what a job's arguments carry, so it stays part of the checkpoint key (bf16 checkpoints
never mix with fp32 ones).
"""

from __future__ import annotations

import functools
import json
import platform
import time
from pathlib import Path

import torch

from repro.core.checks import check_choice

PRECISION_CHOICES = ("auto", "fp32", "bf16")
MIN_SPEEDUP = 1.3
NATIVE_BF16_FLAGS = ("amx_bf16", "avx512_bf16")
PARITY_FILE = Path(__file__).resolve().parents[3] / "benchmarks" / "results" / "train_throughput.json"


@functools.cache
def cpu_model_and_flags() -> tuple[str, frozenset[str]]:
    """The CPU's model name and its feature flags (from ``/proc/cpuinfo``; empty flags where it is unreadable)."""
    model, flags = platform.processor() or platform.machine(), frozenset()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name" and model in ("", platform.machine()):
                model = value.strip()
            elif key == "flags" and not flags:
                flags = frozenset(value.split())
    except OSError:
        pass
    return model, flags


def torch_device(device: str | torch.device) -> torch.device:
    """``'auto'`` -> CUDA when available, else CPU; other names as :class:`torch.device`."""
    if isinstance(device, torch.device):
        return device
    check_choice("device", device, ("auto", "cpu", "cuda"))
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def native_bf16(device: str | torch.device = "auto") -> tuple[bool, str]:
    """``(has native bf16, why)`` for ``device``."""
    dev = torch_device(device)
    if dev.type == "cuda":
        ok = torch.cuda.is_bf16_supported()
        name = torch.cuda.get_device_name(dev)
        return ok, f"CUDA device {name!r} {'supports' if ok else 'does not support'} bf16"
    model, flags = cpu_model_and_flags()
    have = [f for f in NATIVE_BF16_FLAGS if f in flags]
    if have:
        return True, f"CPU {model!r} has {'/'.join(have)}"
    return False, f"CPU {model!r} has no native bf16 (no {' or '.join(NATIVE_BF16_FLAGS)} flag), bf16 is emulated"


def parity_allows(family: str, parity_file: Path = PARITY_FILE) -> tuple[bool, str]:
    """``(bf16 allowed, why)`` from the family's parity run: allowed only where one was run, was informative and
    left the test distortion within the seed spread."""
    try:
        parity = json.loads(Path(parity_file).read_text()).get("parity", {})
    except (OSError, ValueError):
        parity = {}
    entry = parity.get(family)
    if entry is None:
        return False, f"no bf16 parity run for family {family!r} (benchmarks/train_throughput.py)"
    if entry.get("decision") == "bf16":
        return True, (f"parity run within the seed spread (bf16 {entry['bf16_mean']:.2f} vs fp32 "
                      f"{entry['fp32_mean']:.2f})")
    return False, f"parity run says {entry.get('decision')}"


def throughput(factory, loss_fn, shape, batch: int, precision: str, batches: int,
               device: str | torch.device = "cpu") -> dict:
    """Images per second (CPU seconds of this process on a CPU, wall seconds on CUDA) of full training steps
    (forward, loss, backward, Adam) on synthetic batches, after 3 warm-up steps."""
    dev = torch_device(device)
    torch.manual_seed(0)
    model = factory().to(dev)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x = torch.rand(batches, batch, *shape, device=dev)
    autocast = torch.autocast(dev.type, dtype=torch.bfloat16, enabled=precision == "bf16")

    def step(xb):
        with autocast:
            loss, _ = loss_fn(model, xb)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for i in range(min(3, batches)):
        step(x[i])
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    sync()
    c0, w0 = time.process_time(), time.perf_counter()
    for i in range(batches):
        step(x[i])
    sync()
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    return {"images_per_cpu_s": round(batches * batch / cpu, 1), "images_per_wall_s": round(batches * batch / wall, 1),
            "batches": batches, "batch_size": batch}


