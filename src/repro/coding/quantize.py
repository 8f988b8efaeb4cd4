"""Scalar quantizers for continuous latents and their serialization to bits (paper 000, section III).

Both quantizers are mid-rise on the unit interval: a value ``u`` in [0, 1] gets the index
``floor(u * L)`` (clipped to ``L - 1``) with ``L = 2**n_bits`` and is reconstructed at the centre of its cell,
``(index + 1/2) / L``. They differ in how a latent value ``g`` reaches the unit interval:

- :class:`UniformQuantizer` (VAEU): ``u = (clip(g, lo, hi) - lo) / (hi - lo)`` with ``[lo, hi] = [-3, 3]``;
  the worst error inside the range is half a step, ``(hi - lo) / (2 L)``.
- :class:`GaussianQuantizer` (VAEN): ``u = Phi((g - m_i) / s_i)``, the Gaussian CDF with the per-dimension mean
  and standard deviation of the latents over the training set, inverted with ``m_i + s_i * Phi^{-1}(u)``. Cells
  are then equiprobable under a Gaussian fit of each dimension, dense where latents are common.
"""

from __future__ import annotations

import math

import torch

from repro.core.checks import check_range

N_BITS_RANGE = (1, 16)


def _check_bits(n_bits: int) -> int:
    check_range("N_bit", n_bits, *N_BITS_RANGE, integer=True)
    return int(n_bits)


def unit_to_index(u: torch.Tensor, n_bits: int) -> torch.Tensor:
    """Mid-rise uniform quantizer on [0, 1]: int64 indices in 0 .. 2**n_bits - 1."""
    levels = 2 ** _check_bits(n_bits)
    return torch.clamp(torch.floor(u.double() * levels), 0, levels - 1).long()


def index_to_unit(index: torch.Tensor, n_bits: int) -> torch.Tensor:
    """Cell centres ``(index + 0.5) / 2**n_bits``, strictly inside (0, 1)."""
    levels = 2 ** _check_bits(n_bits)
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= levels):
        raise ValueError(f"quantizer index outside 0..{levels - 1}")
    return (index.double() + 0.5) / levels


class UniformQuantizer:
    """VAEU: uniform quantizer with ``n_bits`` per value on ``[low, high]`` (values outside are clipped)."""

    name = "VAEU"

    def __init__(self, n_bits: int, low: float = -3.0, high: float = 3.0):
        self.n_bits = _check_bits(n_bits)
        if not high > low:
            raise ValueError(f"quantizer range needs high > low, got [{low}, {high}]")
        self.low, self.high = float(low), float(high)

    @property
    def step(self) -> float:
        return (self.high - self.low) / 2**self.n_bits

    def quantize(self, g: torch.Tensor) -> torch.Tensor:
        u = (g.double().clamp(self.low, self.high) - self.low) / (self.high - self.low)
        return unit_to_index(u, self.n_bits)

    def dequantize(self, index: torch.Tensor) -> torch.Tensor:
        return (self.low + index_to_unit(index, self.n_bits) * (self.high - self.low)).float()


class GaussianQuantizer:
    """VAEN: quantize ``Phi((g - mean) / std)`` uniformly with ``n_bits``; ``mean``/``std`` per dimension."""

    name = "VAEN"

    def __init__(self, n_bits: int, mean: torch.Tensor, std: torch.Tensor):
        self.n_bits = _check_bits(n_bits)
        self.mean = torch.as_tensor(mean, dtype=torch.float64)
        self.std = torch.as_tensor(std, dtype=torch.float64)
        if self.mean.shape != self.std.shape:
            raise ValueError(f"mean and std shapes differ: {tuple(self.mean.shape)} vs {tuple(self.std.shape)}")
        if bool((self.std <= 0).any()):
            raise ValueError("GaussianQuantizer needs a strictly positive std in every dimension")

    @classmethod
    def fit(cls, n_bits: int, latents: torch.Tensor) -> GaussianQuantizer:
        """Per-dimension mean and std of ``latents`` ``(N, D)`` (the training-set encodings)."""
        latents = latents.double()
        return cls(n_bits, latents.mean(0), latents.std(0).clamp_min(1e-8))

    def quantize(self, g: torch.Tensor) -> torch.Tensor:
        z = (g.double() - self.mean) / self.std
        u = 0.5 * (1.0 + torch.erf(z / math.sqrt(2.0)))
        return unit_to_index(u, self.n_bits)

    def dequantize(self, index: torch.Tensor) -> torch.Tensor:
        u = index_to_unit(index, self.n_bits)
        return (self.mean + self.std * math.sqrt(2.0) * torch.erfinv(2.0 * u - 1.0)).float()


def indices_to_bits(index: torch.Tensor, n_bits: int) -> torch.Tensor:
    """``(..., D)`` indices to ``(..., D * n_bits)`` bits (uint8), most significant bit first."""
    n_bits = _check_bits(n_bits)
    shifts = torch.arange(n_bits - 1, -1, -1, device=index.device)
    bits = (index.unsqueeze(-1) >> shifts) & 1
    return bits.flatten(-2).to(torch.uint8)


def bits_to_indices(bits: torch.Tensor, n_bits: int) -> torch.Tensor:
    """Inverse of :func:`indices_to_bits`: ``(..., D * n_bits)`` bits to ``(..., D)`` int64 indices."""
    n_bits = _check_bits(n_bits)
    if bits.shape[-1] % n_bits:
        raise ValueError(f"{bits.shape[-1]} bits is not a multiple of N_bit={n_bits}")
    grouped = bits.long().unflatten(-1, (bits.shape[-1] // n_bits, n_bits))
    weights = 2 ** torch.arange(n_bits - 1, -1, -1, device=bits.device)
    return (grouped * weights).sum(-1)
