"""Continuous channels as ``torch.nn.Module`` s (notebook 04, paper 003 section 4.1).

* :class:`AWGNChannel`: the power-constrained additive white Gaussian noise channel at a given SNR. Each code
  vector is scaled to average power 1 per channel use (the transmitter's power constraint) and Gaussian noise of
  variance ``1 / snr`` is added, so the signal-to-noise ratio is exactly ``snr`` and the capacity is
  ``1/2 log2(1 + snr)`` bits per channel use.
* :class:`BandwidthLimitedChannel`: a code of ``n_bands`` equal bands (paper: 100 numbers in 5 bands of 20) goes
  through the AWGN channel; only the first ``B`` bands arrive. The lost bands are replaced by samples of a prior
  over codes (paper eq. 5), band after band, each drawn given what the receiver holds so far. ``B`` is drawn
  uniformly from ``1..n_bands`` per example (Monte Carlo marginalization) or enumerated.

Relation to the paper's eq. 4 (``Z = Y + mu_Y / s * W``, ``W ~ N(0, 1)``): the paper ties the noise scale to the
signal. Taken literally the noise variance is ``mu_Y^2 / s^2``, so signal power / noise power is ``s^2`` (for
``mu_Y`` the signal's amplitude), not the ``s`` the text states. We fix the signal power instead (normalization
to power 1) and use noise of variance ``1 / s``: the textbook power-constrained Gaussian channel at SNR ``s``,
whose capacity ``1/2 log2(1 + s)`` the paper quotes, with noise independent of the transmitted value.

Both channels take their SNR at call time (``channel(y, generator=g, snr=s)``); the constructor's is the default.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from repro.core.checks import ConfigError, check_range
from repro.core.runtime import draw

SNR_DB_RANGE = (-30.0, 40.0)


def db_to_linear(snr_db: float) -> float:
    """``10 ** (snr_db / 10)``, after checking that ``snr_db`` lies in :data:`SNR_DB_RANGE`."""
    check_range("SNR in dB", snr_db, *SNR_DB_RANGE)
    return 10.0 ** (float(snr_db) / 10.0)


def awgn_capacity(snr: float) -> float:
    """Capacity of the power-constrained Gaussian channel, ``1/2 log2(1 + snr)`` bits per channel use."""
    return 0.5 * math.log2(1.0 + snr)


def normalize_power(y: torch.Tensor, power: float = 1.0, eps: float = 1e-12) -> torch.Tensor:
    """Scale each row of ``(N, k)`` so that its mean square is ``power``: ``sqrt(k power) y / ||y||``."""
    if y.dim() != 2:
        raise ValueError(f"expected codes (N, k), got shape {tuple(y.shape)}")
    norm = y.pow(2).mean(1, keepdim=True).add(eps).sqrt()
    return y * (math.sqrt(power) / norm)


class AWGNChannel(nn.Module):
    """Power-constrained AWGN channel.

    Input: ``(N, k)`` real codes (any scale). Output: ``(N, k)`` received values
    ``normalize_power(y) + w / sqrt(snr)`` with ``w ~ N(0, I)``. The noise comes from ``generator`` when one is
    given, else from torch's global generator (seeded per epoch by :func:`repro.core.training.fit`).

    Args:
        snr: default linear signal-to-noise ratio (in [1e-3, 1e4]); use :meth:`from_db` for decibels. Every
            method taking ``snr`` uses that value instead when it is given.
    """

    SNR_RANGE = (1e-3, 1e4)

    def __init__(self, snr: float):
        super().__init__()
        self.snr = self.check(snr)

    @classmethod
    def check(cls, snr: float) -> float:
        check_range("linear SNR", snr, *cls.SNR_RANGE)
        return float(snr)

    def level(self, snr: float | None = None) -> float:
        """The linear SNR in force: ``snr`` checked, or the channel's own when None."""
        return self.snr if snr is None else self.check(snr)

    @classmethod
    def from_db(cls, snr_db: float) -> AWGNChannel:
        return cls(db_to_linear(snr_db))

    def noise_std(self, snr: float | None = None) -> float:
        """``1 / sqrt(snr)``: the standard deviation of the noise added to power-1 codes."""
        return 1.0 / math.sqrt(self.level(snr))

    def transmit(self, y: torch.Tensor) -> torch.Tensor:
        """The power-normalized channel input (what the transmitter sends)."""
        return normalize_power(y)

    def noise(self, shape, generator: torch.Generator | None = None, device=None, *,
              snr: float | None = None) -> torch.Tensor:
        return draw(torch.randn, shape, generator=generator, device=device) * self.noise_std(snr)

    def forward(self, y: torch.Tensor, *, generator: torch.Generator | None = None,
                snr: float | None = None) -> torch.Tensor:
        x = self.transmit(y)
        return x + self.noise(x.shape, generator, x.device, snr=snr)

    def capacity(self, snr: float | None = None) -> float:
        """Bits per channel use."""
        return awgn_capacity(self.level(snr))

    def extra_repr(self) -> str:
        return f"snr={self.snr:.4g} ({10 * math.log10(self.snr):.1f} dB)"


def check_bandwidth(bandwidth: int, n_bands: int) -> None:
    check_range("bandwidth B (number of received bands)", bandwidth, 1, n_bands, integer=True)


class BandwidthLimitedChannel(nn.Module):
    """Bandwidth-limited AWGN channel over a code split into ``n_bands`` equal bands (paper eq. 5).

    ``forward(y, *, prior, bandwidth=None, generator=None, snr=None)``:
        y: ``(N, k)`` codes, ``k`` divisible by ``n_bands``.
        bandwidth: an int in ``1..n_bands`` (the same for all rows), an ``(N,)`` long tensor (one per row), or
            ``None`` to draw one per row uniformly from ``1..n_bands``.
        prior: a code prior with ``sample_band(t, context, generator) -> (N, k / n_bands)`` (see
            :mod:`repro.channels.priors`); band ``t`` (0-based) is drawn given ``context``, the ``(N, t * band)``
            values the receiver holds for bands ``0..t-1``.
        snr: the AWGN channel's linear SNR for this call (default: the constructor's).

    Returns ``(z, bandwidth)``: the ``(N, k)`` values the decoder sees (received bands, then prior samples) and
    the ``(N,)`` bandwidths used. Prior samples are channel randomness: no gradient flows through them.
    """

    def __init__(self, snr: float, n_bands: int = 5):
        super().__init__()
        check_range("number of bands", n_bands, 1, 1000, integer=True)
        self.awgn = AWGNChannel(snr)
        self.n_bands = int(n_bands)

    @property
    def snr(self) -> float:
        return self.awgn.snr

    def band_size(self, k: int) -> int:
        if k % self.n_bands:
            raise ConfigError(f"code length {k} is not divisible into {self.n_bands} bands")
        return k // self.n_bands

    def draw_bandwidth(self, n: int, generator: torch.Generator | None = None, device=None) -> torch.Tensor:
        """``(n,)`` bandwidths drawn uniformly from ``1..n_bands``."""
        return draw(torch.randint, 1, self.n_bands + 1, (n,), generator=generator, device=device)

    def band_mask(self, bandwidth: torch.Tensor, k: int) -> torch.Tensor:
        """``(N, k)`` boolean mask, True on the positions of received bands."""
        band = torch.arange(k, device=bandwidth.device) // self.band_size(k)
        return band.unsqueeze(0) < bandwidth.unsqueeze(1)

    def _bandwidth_tensor(self, bandwidth, n: int, device, generator) -> torch.Tensor:
        if bandwidth is None:
            return self.draw_bandwidth(n, generator, device)
        if isinstance(bandwidth, torch.Tensor):
            if bandwidth.shape != (n,):
                raise ValueError(f"bandwidth tensor must have shape ({n},), got {tuple(bandwidth.shape)}")
            if n and not bool(((bandwidth >= 1) & (bandwidth <= self.n_bands)).all()):
                raise ConfigError(f"bandwidth values must lie in 1..{self.n_bands}, got {bandwidth.unique().tolist()}")
            return bandwidth.to(device=device, dtype=torch.long)
        check_bandwidth(bandwidth, self.n_bands)
        return torch.full((n,), int(bandwidth), dtype=torch.long, device=device)

    def forward(self, y: torch.Tensor, *, prior, bandwidth=None, generator: torch.Generator | None = None,
                snr: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        received = self.awgn(y, generator=generator, snr=snr)
        return self.fill(received, prior=prior, bandwidth=bandwidth, generator=generator)

    def fill(self, received: torch.Tensor, *, prior, bandwidth=None,
             generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Keep the first ``B`` bands of the AWGN output ``received`` and replace the rest by prior samples."""
        if prior is None:
            raise ValueError("the bandwidth-limited channel needs a prior to fill the lost bands")
        n, k = received.shape
        size = self.band_size(k)
        bw = self._bandwidth_tensor(bandwidth, n, received.device, generator)
        parts = []
        for t in range(self.n_bands):
            got = received[:, t * size:(t + 1) * size]
            lost = bw <= t
            if bool(lost.any()):
                context = torch.cat(parts, 1).detach() if parts else received[:, :0].detach()
                with torch.no_grad():
                    fill = prior.sample_band(t, context, generator)
                got = torch.where(lost.unsqueeze(1), fill.to(got.dtype), got)
            parts.append(got)
        return torch.cat(parts, 1), bw

    def capacity(self, bandwidth: int, k: int, snr: float | None = None) -> float:
        """Bits per code (``k`` channel uses offered) when ``bandwidth`` bands arrive: linear in the bandwidth."""
        check_bandwidth(bandwidth, self.n_bands)
        return bandwidth * self.band_size(k) * self.awgn.capacity(snr)

    def extra_repr(self) -> str:
        return f"n_bands={self.n_bands}"
