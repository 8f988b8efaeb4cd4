"""Noisy binary channels as ``torch.nn.Module`` s.

Each channel maps a tensor of transmitted symbols to received symbols of the same shape: ``channel(bits, *,
generator=None, eps=None)``. Its noise level is declared once, on the class: ``LEVEL`` (its name, ``eps``),
``LEVEL_RANGE`` and ``LEVEL_DEFAULT``, and :meth:`check` validates a level against them (every caller that takes a
level for a channel asks :func:`check_level`, never a range of its own). The distribution a model trains through
(NECST's noisy code, paper 001 eq. 5) is the channel's too: :meth:`training_sample`. The noise level given at call
time overrides the one the channel was built with (its default), so one channel object serves every level; a level
outside the channel's range raises :class:`~repro.core.checks.ConfigError` naming the value and the range.
Randomness comes from ``generator`` when one is given (drawn on the generator's device,
:func:`repro.core.runtime.draw`), so a fixed seed gives the same corruption on every run and device.
"""

from __future__ import annotations

import torch
from torch import nn

from repro.core.checks import check_range
from repro.core.runtime import draw


def _check_bits(bits: torch.Tensor, channel: str) -> None:
    if bits.numel() and not bool(((bits == 0) | (bits == 1)).all()):
        raise ValueError(f"{channel} expects bits in {{0, 1}}")


class BinarySymmetricChannel(nn.Module):
    """BSC(eps): every bit is flipped independently with probability ``eps``.

    Input: a tensor of bits in {0, 1} of any shape and any dtype (float, uint8, bool, int).
    Output: the same shape and dtype, each element flipped with probability ``eps`` (the call's ``eps``, else the
    constructor's). One uniform draw per bit decides the flip (``u < eps``); at ``eps = 0`` nothing is drawn.
    Capacity: ``1 - H_b(eps)`` bits per use (:meth:`capacity`).
    """

    LEVEL, LEVEL_RANGE, LEVEL_DEFAULT, DESCRIPTION = "eps", (0.0, 0.5), 0.0, "BSC flip probability"

    def __init__(self, eps: float = LEVEL_DEFAULT):
        super().__init__()
        self.eps = self.check(eps)

    @classmethod
    def check(cls, eps: float) -> float:
        check_range(f"{cls.DESCRIPTION} {cls.LEVEL}", eps, *cls.LEVEL_RANGE)
        return float(eps)

    @staticmethod
    def training_sample(p: torch.Tensor, k: int, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
        """``k`` draws of the received code when bit ``i`` is sent as 1 with probability ``p_i``: each received bit is
        Bernoulli(``p (1 - 2 eps) + eps``). Returns ``y (k, ...)`` and ``log q(y)`` summed over the last axis."""
        p1 = p * (1 - 2 * eps) + eps
        y = torch.bernoulli(p1.detach().expand(k, *p1.shape))
        log_q = (y * torch.log(p1.clamp_min(1e-12)) + (1 - y) * torch.log((1 - p1).clamp_min(1e-12))).sum(-1)
        return y, log_q

    def level(self, eps: float | None = None) -> float:
        """The flip probability in force: ``eps`` checked to lie in [0, 0.5], or the channel's own when None."""
        return self.eps if eps is None else self.check(eps)

    def flip_mask(self, shape, generator: torch.Generator | None = None, device=None, *,
                  eps: float | None = None) -> torch.Tensor:
        """Boolean tensor on ``device``, True where the channel flips a bit."""
        eps = self.level(eps)
        if eps == 0.0:
            return torch.zeros(shape, dtype=torch.bool, device=device)
        return draw(torch.rand, shape, generator=generator, device=device) < eps

    def forward(self, bits: torch.Tensor, *, generator: torch.Generator | None = None,
                eps: float | None = None) -> torch.Tensor:
        _check_bits(bits, "BinarySymmetricChannel")
        mask = self.flip_mask(bits.shape, generator, bits.device, eps=eps)
        if bits.dtype == torch.bool:
            return bits ^ mask
        return torch.where(mask, 1 - bits, bits)

    def capacity(self, eps: float | None = None) -> float:
        """Shannon capacity in bits per channel use."""
        return 1.0 - binary_entropy(self.level(eps))

    def extra_repr(self) -> str:
        return f"eps={self.eps}"


def binary_entropy(p: float) -> float:
    """H_b(p) in bits; H_b(0) = H_b(1) = 0."""
    p = float(p)
    if p <= 0.0 or p >= 1.0:
        return 0.0
    t = torch.tensor([p, 1 - p], dtype=torch.float64)
    return float(-(t * torch.log2(t)).sum())


def flip_bytes(data: bytes, eps: float, generator: torch.Generator | None = None) -> bytes:
    """Send a byte string through a BSC(eps), bit by bit (used for JPEG/PNG files)."""
    channel = BinarySymmetricChannel(eps)  # checks eps before anything else
    if not data:
        return data
    raw = torch.frombuffer(bytearray(data), dtype=torch.uint8)
    bits = ((raw.unsqueeze(1) >> torch.arange(7, -1, -1, dtype=torch.uint8)) & 1)
    noisy = channel(bits, generator=generator)
    packed = (noisy << torch.arange(7, -1, -1, dtype=torch.uint8)).sum(1).to(torch.uint8)
    return packed.numpy().tobytes()


ERASED = 0.5  # value of an erased position in the output of BinaryErasureChannel (signed form 2y - 1 = 0)


class BinaryErasureChannel(nn.Module):
    """BEC(eps): every bit is erased independently with probability ``eps``, otherwise delivered intact.

    Input: bits in {0, 1}, any shape. Output: a float tensor of the same shape with values in {0, 1, ERASED}
    (``ERASED = 0.5``), so that the signed form ``2 y - 1`` used by the decoders is -1, +1, or 0 for "unknown".
    ``eps`` at call time overrides the constructor's. Capacity: ``1 - eps`` bits per use.
    """

    LEVEL, LEVEL_RANGE, LEVEL_DEFAULT, DESCRIPTION = "eps", (0.0, 1.0), 0.0, "BEC erasure probability"

    def __init__(self, eps: float = LEVEL_DEFAULT):
        super().__init__()
        self.eps = self.check(eps)

    @classmethod
    def check(cls, eps: float) -> float:
        check_range(f"{cls.DESCRIPTION} {cls.LEVEL}", eps, *cls.LEVEL_RANGE)
        return float(eps)

    @staticmethod
    def training_sample(p: torch.Tensor, k: int, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
        """``k`` draws of the received code: bits Bernoulli(``p``), each erased (``ERASED``) with probability ``eps``;
        ``log q`` counts the delivered bits only (an erasure's probability does not depend on ``p``). At ``eps = 0``
        nothing is drawn for erasures (the BSC's draw at eps 0, so the random stream is the noiseless code's)."""
        if eps == 0.0:
            return BinarySymmetricChannel.training_sample(p, k, 0.0)
        bits = torch.bernoulli(p.detach().expand(k, *p.shape))
        erased = torch.rand_like(bits) < eps
        y = torch.where(erased, torch.full_like(bits, ERASED), bits)
        log_bit = bits * torch.log(p.clamp_min(1e-12)) + (1 - bits) * torch.log((1 - p).clamp_min(1e-12))
        log_q = torch.where(erased, torch.zeros_like(log_bit), log_bit).sum(-1)
        return y, log_q

    def level(self, eps: float | None = None) -> float:
        """The erasure probability in force: ``eps`` checked to lie in [0, 1], or the channel's own when None."""
        return self.eps if eps is None else self.check(eps)

    def forward(self, bits: torch.Tensor, *, generator: torch.Generator | None = None,
                eps: float | None = None) -> torch.Tensor:
        _check_bits(bits, "BinaryErasureChannel")
        erased = draw(torch.rand, bits.shape, generator=generator, device=bits.device) < self.level(eps)
        return torch.where(erased, torch.full_like(bits, ERASED, dtype=torch.float32), bits.float())

    def capacity(self, eps: float | None = None) -> float:
        return 1.0 - self.level(eps)

    def extra_repr(self) -> str:
        return f"eps={self.eps}"


CHANNELS = {"bsc": BinarySymmetricChannel, "bec": BinaryErasureChannel}


def channel_class(name: str) -> type[nn.Module]:
    """The channel class registered as ``name`` (one line naming the valid choices otherwise)."""
    from repro.core.checks import check_choice

    check_choice("channel", name, sorted(CHANNELS))
    return CHANNELS[name]


def check_level(name: str, level: float) -> float:
    """``level`` checked against the range channel ``name`` declares (the one place a channel's range lives)."""
    return channel_class(name).check(level)


def make_channel(name: str, eps: float) -> nn.Module:
    """A channel by name (:data:`CHANNELS`), at noise level ``eps`` (checked against its declared range)."""
    return channel_class(name)(eps)
