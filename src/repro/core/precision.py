"""Training precision chosen by the hardware: ``precision: auto``.

bfloat16 autocast pays only where the device computes bf16 natively: CUDA GPUs with bf16 support, and CPUs whose
flags include ``amx_bf16`` or ``avx512_bf16`` (Intel Sapphire Rapids and later, AMD Zen 4 and later). Elsewhere
PyTorch emulates it and training runs about ten times *slower* than fp32 (measured on an AVX2-only AMD EPYC:
NECST MLP 2,490 vs 248 images per CPU-second).

:func:`resolve` turns a requested precision into the one a model family trains with, and says why:

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


def families() -> dict:
    """Model families with a probe: name -> (model factory, loss, input shape, batch size)."""
    from repro.models.vae import ConvVAE, negative_elbo
    from repro.systems import necst
    from repro.systems.bandwidth import Arch, build_joint

    return {
        "vae": (lambda: ConvVAE(16), negative_elbo, (1, 28, 28), 64),
        "necst_mlp": (lambda: necst.build_model("mnist", eps=0.1), lambda m, x: m.loss(x), (1, 28, 28), 100),
        "necst_conv": (lambda: necst.build_model("cifar10", eps=0.1), lambda m, x: m.loss(x), (3, 32, 32), 100),
        "resnet": (lambda: build_joint(Arch(3, 100, 16), snr_db=0.0, beta=1.0), lambda m, x: m.loss(x),
                   (3, 32, 32), 64),
    }


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


def probe_file() -> Path:
    from repro.core.cache import cache_root

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
