"""Helpers shared by the experiments modules: splitting notebook parameters, training-set sizes and cost estimates."""

from __future__ import annotations

from repro.core.checks import ConfigError
from repro.data.registry import REGISTRY
from repro.parts import RUNTIME

# Notebook parameters that are not part of a profile (runtime and selection parameters).
RUNTIME_PARAMS = RUNTIME

# Training-set sizes of the bundle's splits (the dataset registry's, repro.data.registry.REGISTRY), for cost
# estimates when n_train is None.
TRAIN_SIZES = {name: spec.sizes["train"] for name, spec in REGISTRY.items()}

# Seconds per training image on one CPU thread in fp32, measured on the development machine
# (benchmarks/results/train_throughput.json and the committed training histories); estimates only.
SECONDS_PER_IMAGE = {
    "vae": 1 / 1_600,          # notebook 01's conv VAE
    "classifier": 1 / 2_000,   # the small ACC / FID CNN
    "necst_mlp": 1 / 3_200,    # NECST MLP, K = 5 VIMCO samples
    "necst_conv": 1 / 94,      # NECST 32x32 conv coder, K = 5
    "resnet": 1 / 180,         # notebook 04's residual coders at width 16 (scales with width^2)
    "channel_ae": 1 / 40_000,  # notebook 04's channel autoencoder on 100-d prior samples
}


def split_params(params: dict, allowed: tuple[str, ...] = RUNTIME_PARAMS) -> tuple[dict, dict]:
    """``(runtime, profile_overrides)`` of a papermill parameter dictionary."""
    runtime = {k: v for k, v in params.items() if k in allowed}
    overrides = {k: v for k, v in params.items() if k not in allowed and k != "profile"}
    return runtime, overrides


def n_images(dataset: str, n_train: int | None) -> int:
    if n_train is not None:
        return int(n_train)
    if dataset not in TRAIN_SIZES:
        raise ConfigError(f"unknown dataset {dataset!r}; valid choices: {', '.join(map(repr, TRAIN_SIZES))}")
    return TRAIN_SIZES[dataset]


# bf16 autocast speed-up per CPU second (benchmarks/results/train_throughput.json; NECST MLP: one full MNIST epoch,
# 16.6 s fp32 vs 11.4 s bf16 with data loading and validation, below the 1.68 of the bare training step).
BF16_SPEEDUP = {"vae": 1.47, "necst_mlp": 1.45, "necst_conv": 1.75, "resnet": 1.36}


def resolve_precision(P: dict, family: str) -> dict:
    """Replace ``P['precision']`` (``auto`` | ``fp32`` | ``bf16``; ``None`` is ``auto``) by the precision
    ``family`` trains with on ``P['device']``, and add ``precision_reason`` (see :mod:`repro.experiments.compute`)."""
    from repro.experiments.compute import resolve

    P["precision"], P["precision_reason"] = resolve(P.get("precision"), family, P.get("device") or "auto")
    return P


def cost(family: str, epochs: int, images: int, factor: float = 1.0, precision: str = "fp32") -> float:
    """Estimated single-thread seconds of ``epochs`` passes over ``images`` images: from the throughput measured on
    this machine (:func:`repro.core.throughput.measured_seconds_per_image`, after ``python -m repro.jobs measure``)
    when there is a measurement, else from the development machine's numbers above."""
    from repro.core.throughput import measured_seconds_per_image

    measured = measured_seconds_per_image(family, precision, SECONDS_PER_IMAGE)
    if measured is not None:
        return float(epochs) * images * measured * factor
    speedup = BF16_SPEEDUP.get(family, 1.0) if precision == "bf16" else 1.0
    return float(epochs) * images * SECONDS_PER_IMAGE[family] * factor / speedup
