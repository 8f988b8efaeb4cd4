"""The one protocol every communication system follows, and the batched evaluator that runs any of them.

A *communication system* sends a source ``x`` (a batch of images or bit strings) through a noisy channel and
reconstructs it at the receiver. Every system of the bundle has the same four methods
(:class:`CommunicationSystem`):

* ``encode(x, *, generator, ...) -> code``: the channel input (bits, or real numbers before power normalization);
* ``send(code, *, generator, <level>) -> received``: what the receiver gets from the channel;
* ``decode(received, *, generator=None, ...) -> x_hat``: the receiver's reconstruction;
* ``reconstruct(x, *, generator, <level>, ...) -> x_hat``: the three in a row,
  ``decode(send(encode(x)))``, drawing from the one ``generator`` in that order.

``generator`` is required in ``encode``, ``send`` and ``reconstruct`` (``None`` means torch's global generator,
stated explicitly); a deterministic decoder accepts it and ignores it. The channel's level is a keyword argument
with the system's own default where it has one (the level it was trained at): ``eps`` for binary channels,
``snr`` (linear) for Gaussian ones, plus ``bandwidth`` over the bandwidth-limited channel and ``mode``
(``sample`` or ``threshold`` code bits) for NECST. A level outside its range raises
:class:`~repro.core.checks.ConfigError` naming the value and the range.

| system | code (channel input) | levels (keyword arguments) |
| --- | --- | --- |
| :class:`~repro.models.necst.NECST` | ``m`` bits | ``eps`` (BSC or BEC), ``mode`` |
| :class:`~repro.systems.necst.VAEWithLDPC` | LDPC codeword of the VAE's bits | ``eps`` (no default), ``mode`` |
| :class:`~repro.models.jscc.JointSystem` | Gaussian code | ``snr``, ``bandwidth``, ``fill_prior`` |
| :class:`~repro.models.jscc.SeparateSystem` | the channel autoencoder's input | ``snr`` |
| :class:`~repro.models.jscc.RateZeroSystem` | nothing (an empty code) | ``snr`` (checked, unused) |
| :class:`~repro.models.jscc.ChannelAutoencoder` | its input (a channel code for real vectors) | ``snr`` |
| :class:`~repro.models.jscc.BinaryJointSystem` | hard Bernoulli bits | ``eps`` (the real BSC) |

Reconstructions are returned on the device of the input. Diagnostics that some receivers have besides the
reconstruction come from a separate method (``VAEWithLDPC.reconstruct_with_info``: BP convergence, bit errors).

:func:`reconstruct_all` runs any system over a tensor in batches with one CPU generator seeded by ``seed``, on
the system's device, and :func:`distortions` scores the result per image (:func:`repro.metrics.image.l2_per_image`).
The draws are made batch after batch, so the batch size is part of the random stream: a fixed
``(seed, batch)`` gives the same numbers on every device.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import nn

from repro.core.checks import ConfigError
from repro.metrics.image import l2_per_image


@runtime_checkable
class CommunicationSystem(Protocol):
    """Encoder, channel and decoder: ``reconstruct(x) = decode(send(encode(x)))`` (see the module docstring).

    ``levels`` stands for the system's keyword arguments (``eps``, ``snr``, ``bandwidth``, ``mode``, ...), each
    defaulting to the system's own value where it has one."""

    def encode(self, x: torch.Tensor, *, generator: torch.Generator | None, **options) -> torch.Tensor:
        """``x`` -> the channel input (code bits or real code values)."""

    def send(self, code: torch.Tensor, *, generator: torch.Generator | None, **levels) -> torch.Tensor:
        """Channel input -> what the receiver gets, at the call's noise level (default: the system's)."""

    def decode(self, received: torch.Tensor, *, generator: torch.Generator | None = None,
               **levels) -> torch.Tensor:
        """What the receiver gets -> the reconstruction of ``x``."""

    def reconstruct(self, x: torch.Tensor, *, generator: torch.Generator | None, **levels) -> torch.Tensor:
        """``decode(send(encode(x)))`` with every random draw from ``generator``, in that order."""


def system_device(system) -> torch.device:
    """The device a system computes on: its ``device`` attribute, else that of its first parameter, else the CPU."""
    device = getattr(system, "device", None)
    if device is not None:
        return torch.device(device)
    if isinstance(system, nn.Module):
        for p in system.parameters():
            return p.device
    return torch.device("cpu")


@torch.no_grad()
def reconstruct_all(system: CommunicationSystem, x: torch.Tensor, *, seed: int, batch: int = 500, device=None,
                    **levels) -> torch.Tensor:
    """``system.reconstruct`` applied to all of ``x``, ``batch`` items at a time, on ``device`` (default: the
    system's), every random draw from one CPU generator seeded by ``seed``; the float32 result is on the CPU.

    ``levels`` go to every call (``eps=0.1``, ``bandwidth=2``, ``mode="threshold"``, ...)."""
    if not isinstance(system, CommunicationSystem):
        raise TypeError(f"{type(system).__name__} is not a communication system (needs encode, send, decode and "
                        "reconstruct; see repro.systems.protocol)")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ConfigError(f"batch must be a positive integer, got {batch!r}")
    if len(x) == 0:
        raise ConfigError("reconstruct_all needs at least one item, got an empty tensor")
    generator = torch.Generator().manual_seed(int(seed))
    device = system_device(system) if device is None else torch.device(device)
    out = [system.reconstruct(xb.to(device), generator=generator, **levels).float().cpu() for xb in x.split(batch)]
    return torch.cat(out)


def distortions(system: CommunicationSystem, x: torch.Tensor, *, seed: int, batch: int = 500, device=None,
                **levels) -> torch.Tensor:
    """``(N,)`` per-image squared L2 distortion (sum over pixels) of :func:`reconstruct_all`'s reconstructions."""
    return l2_per_image(x, reconstruct_all(system, x, seed=seed, batch=batch, device=device, **levels))
