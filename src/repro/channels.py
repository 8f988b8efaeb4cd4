"""Noisy channels as ``torch.nn.Module`` s.

Each channel maps a tensor of transmitted symbols to received symbols of the same shape. Randomness comes from
an explicit ``torch.Generator`` when one is given, so a fixed seed gives the same corruption on every run.
"""

from __future__ import annotations

import torch
from torch import nn

from .checks import check_range


def _check_bits(bits: torch.Tensor, channel: str) -> None:
    if bits.numel() and not bool(((bits == 0) | (bits == 1)).all()):
        raise ValueError(f"{channel} expects bits in {{0, 1}}")


class BinarySymmetricChannel(nn.Module):
    """BSC(eps): every bit is flipped independently with probability ``eps``.

    Input: a tensor of bits in {0, 1} of any shape and any dtype (float, uint8, bool, int).
    Output: the same shape and dtype, each element flipped with probability ``eps``.
    Capacity: ``1 - H_b(eps)`` bits per use (:meth:`capacity`).
    """

    def __init__(self, eps: float):
        super().__init__()
        check_range("BSC flip probability eps", eps, 0.0, 0.5)
        self.eps = float(eps)

    def flip_mask(self, shape, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        """Boolean tensor, True where the channel flips a bit."""
        if self.eps == 0.0:
            return torch.zeros(shape, dtype=torch.bool, device=device)
        return torch.rand(shape, generator=generator, device=device) < self.eps

    def forward(self, bits: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        _check_bits(bits, "BinarySymmetricChannel")
        gen_device = generator.device if generator is not None else bits.device
        mask = self.flip_mask(bits.shape, generator, gen_device).to(bits.device)
        if bits.dtype == torch.bool:
            return bits ^ mask
        return torch.where(mask, 1 - bits, bits)

    def capacity(self) -> float:
        """Shannon capacity in bits per channel use."""
        return 1.0 - binary_entropy(self.eps)

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
    channel = BinarySymmetricChannel(eps)
    if not data:
        return data
    raw = torch.frombuffer(bytearray(data), dtype=torch.uint8)
    bits = ((raw.unsqueeze(1) >> torch.arange(7, -1, -1, dtype=torch.uint8)) & 1)
    noisy = channel(bits, generator)
    packed = (noisy << torch.arange(7, -1, -1, dtype=torch.uint8)).sum(1).to(torch.uint8)
    return packed.numpy().tobytes()


ERASED = 0.5  # value of an erased position in the output of BinaryErasureChannel (signed form 2y - 1 = 0)


class BinaryErasureChannel(nn.Module):
    """BEC(eps): every bit is erased independently with probability ``eps``, otherwise delivered intact.

    Input: bits in {0, 1}, any shape. Output: a float tensor of the same shape with values in {0, 1, ERASED}
    (``ERASED = 0.5``), so that the signed form ``2 y - 1`` used by the decoders is -1, +1, or 0 for "unknown".
    Capacity: ``1 - eps`` bits per use.
    """

    def __init__(self, eps: float):
        super().__init__()
        check_range("BEC erasure probability eps", eps, 0.0, 1.0)
        self.eps = float(eps)

    def forward(self, bits: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        _check_bits(bits, "BinaryErasureChannel")
        gen_device = generator.device if generator is not None else bits.device
        erased = (torch.rand(bits.shape, generator=generator, device=gen_device) < self.eps).to(bits.device)
        return torch.where(erased, torch.full_like(bits, ERASED, dtype=torch.float32), bits.float())

    def capacity(self) -> float:
        return 1.0 - self.eps

    def extra_repr(self) -> str:
        return f"eps={self.eps}"


CHANNELS = {"bsc": BinarySymmetricChannel, "bec": BinaryErasureChannel}


def make_channel(name: str, eps: float) -> nn.Module:
    """A channel by name: ``bsc`` (eps in [0, 0.5]) or ``bec`` (eps in [0, 1])."""
    from .checks import check_choice

    check_choice("channel", name, sorted(CHANNELS))
    return CHANNELS[name](eps)
