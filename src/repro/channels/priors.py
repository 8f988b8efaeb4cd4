"""Priors over channel codes that fill the bands a bandwidth-limited channel loses (paper eq. 5, section 6.2).

Both priors act band by band: ``sample_band(t, context)`` draws band ``t`` (0-based) of a code given
``context``, the ``(N, t * band)`` values the receiver already holds for bands ``0..t-1``.

* :class:`StandardGaussianPrior`: ``N(0, I)`` for every band, ignoring the context (the paper's "spherical
  Gaussian"; it matches the power-1 channel input on average).
* :class:`BandAutoregressivePrior`: a learned **band-autoregressive mixture density network**. Band ``t`` given
  the earlier bands is a mixture of ``n_components`` diagonal Gaussians whose weights, means and scales are
  computed by a small MLP of the earlier bands:

  ``p(y_t | c_<t) = sum_j pi_j(c_<t) N(y_t; m_j(c_<t), diag s_j(c_<t)^2)``,  ``t = 1 .. n_bands - 1``.

  It plays the role of the paper's ConvDRAW prior (a learned sequential model of later code parts given earlier
  ones); we use it instead of ConvDRAW because it is small enough for a CPU and its likelihood is exact. Band 0
  always arrives (the bandwidth is at least 1), so it has no model. The prior is fitted by maximum likelihood to
  the codes the encoder actually sends, given the *received* (noisy) earlier bands, i.e. to exactly the
  conditional the receiver needs (:meth:`nll`).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from repro.core.checks import check_range
from repro.core.runtime import draw


class StandardGaussianPrior(nn.Module):
    """``N(0, I)`` over each band of ``band_size`` numbers, independent of the context."""

    def __init__(self, band_size: int, n_bands: int):
        super().__init__()
        self.band_size, self.n_bands = int(band_size), int(n_bands)

    def sample_band(self, t: int, context: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """``(N, band_size)`` standard normal draws; ``context`` only gives ``N`` and the device."""
        return draw(torch.randn, (context.shape[0], self.band_size), generator=generator, device=context.device)

    def nll(self, y: torch.Tensor, received: torch.Tensor) -> torch.Tensor:
        """``(N,)`` negative log-density of bands ``1..`` of ``y`` (nats); constant in the context."""
        tail = y[:, self.band_size:]
        return 0.5 * (tail.pow(2) + math.log(2 * math.pi)).sum(1)


class BandAutoregressivePrior(nn.Module):
    """Band-autoregressive mixture density network over a code of ``n_bands`` bands of ``band_size`` numbers.

    ``sample_band(t, context)``: ``(N, t * band_size)`` -> ``(N, band_size)``.
    ``log_prob_band(t, target, context)``: ``(N, band_size)``, ``(N, t * band_size)`` -> ``(N,)`` nats.
    ``nll(y, received)``: ``(N, k)`` codes sent and ``(N, k)`` values received -> ``(N,)`` negative
    log-likelihood of bands ``1..n_bands-1`` of ``y``, each given the received earlier bands.
    """

    def __init__(self, band_size: int, n_bands: int, hidden: int = 128, n_components: int = 4,
                 min_log_scale: float = -5.0):
        super().__init__()
        check_range("band size", band_size, 1, 10_000, integer=True)
        check_range("number of bands", n_bands, 2, 1000, integer=True)
        check_range("mixture components", n_components, 1, 64, integer=True)
        self.band_size, self.n_bands, self.n_components = int(band_size), int(n_bands), int(n_components)
        self.min_log_scale = float(min_log_scale)
        out = n_components * (1 + 2 * band_size)
        self.nets = nn.ModuleList([
            nn.Sequential(nn.Linear(t * band_size, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                          nn.Linear(hidden, out))
            for t in range(1, n_bands)
        ])

    def _check_t(self, t: int, context: torch.Tensor) -> None:
        check_range("band index t", t, 1, self.n_bands - 1, integer=True)
        if context.dim() != 2 or context.shape[1] != t * self.band_size:
            raise ValueError(f"band {t} needs a context (N, {t * self.band_size}), got {tuple(context.shape)}")

    def mixture(self, t: int, context: torch.Tensor):
        """Mixture parameters of band ``t``: log weights ``(N, J)``, means and log scales ``(N, J, band)``."""
        self._check_t(t, context)
        h = self.nets[t - 1](context)
        j, d = self.n_components, self.band_size
        logits, rest = h[:, :j], h[:, j:].view(-1, j, 2, d)
        mean, log_scale = rest[:, :, 0], rest[:, :, 1].clamp(min=self.min_log_scale, max=3.0)
        return torch.log_softmax(logits, 1), mean, log_scale

    def log_prob_band(self, t: int, target: torch.Tensor, context: torch.Tensor) -> torch.Tensor:
        log_w, mean, log_scale = self.mixture(t, context)
        z = (target.unsqueeze(1) - mean) / log_scale.exp()
        comp = (-0.5 * z.pow(2) - log_scale - 0.5 * math.log(2 * math.pi)).sum(2)
        return torch.logsumexp(log_w + comp, 1)

    def sample_band(self, t: int, context: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        log_w, mean, log_scale = self.mixture(t, context)
        u = draw(torch.rand, (context.shape[0], 1), generator=generator, device=context.device)
        idx = (log_w.exp().cumsum(1) < u).sum(1).clamp(max=self.n_components - 1)
        pick = idx.view(-1, 1, 1).expand(-1, 1, self.band_size)
        m, s = mean.gather(1, pick).squeeze(1), log_scale.gather(1, pick).squeeze(1).exp()
        noise = draw(torch.randn, m.shape, generator=generator, device=context.device)
        return m + s * noise

    def nll(self, y: torch.Tensor, received: torch.Tensor) -> torch.Tensor:
        d = self.band_size
        total = torch.zeros(y.shape[0], device=y.device)
        for t in range(1, self.n_bands):
            total = total - self.log_prob_band(t, y[:, t * d:(t + 1) * d], received[:, :t * d])
        return total


PRIORS = {"gaussian": StandardGaussianPrior, "learned": BandAutoregressivePrior}


def make_prior(kind: str, band_size: int, n_bands: int, **kwargs) -> nn.Module:
    """``gaussian`` (N(0, I)) or ``learned`` (:class:`BandAutoregressivePrior`)."""
    from repro.core.checks import check_choice

    check_choice("prior", kind, sorted(PRIORS))
    if kind == "gaussian":
        return StandardGaussianPrior(band_size, n_bands)
    return BandAutoregressivePrior(band_size, n_bands, **kwargs)
