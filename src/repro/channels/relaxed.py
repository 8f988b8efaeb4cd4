"""The relaxed binary channel of the paper's Appendix C (Binary Concrete / relaxed Bernoulli).

Binary Concrete ``B_T(alpha)`` (Maddison et al. 2016): with ``L ~ Logistic(0, 1)``,
``Y = (log alpha + L) / T`` and ``X = sigmoid(Y)``. ``P(X > 1/2) = alpha / (1 + alpha)``, and as ``T -> 0``
``X`` becomes a Bernoulli bit with that probability. Log-likelihoods are computed on the logit ``Y`` (paper
eq. 20), which does not underflow: ``log g(y) = log T - T y + log alpha - 2 log(1 + exp(-T y + log alpha))``.

Relaxed binary symmetric channel (paper eq. 21): a bit ``y`` is kept when the noise bit ``w = 1`` (probability
``1 - eps``) and flipped when ``w = 0``. For bits, the paper's ``z = (2w - 1) / (2 (2y - 1)) + 1/2`` equals
``z = ((2w - 1)(2y - 1) + 1) / 2`` (because ``2y - 1 = +-1``); we use the product form, which stays bounded
when ``y`` and ``w`` are relaxed to (0, 1). With both relaxed (the paper's proposal, since Bernoulli noise gives
no gradient), ``z`` is a smooth function of the encoder's logits and the channel is differentiable.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from repro.core.checks import check_range
from repro.core.runtime import draw


def sample_logistic(shape, generator: torch.Generator | None = None, device=None, eps: float = 1e-7) -> torch.Tensor:
    """Standard logistic draws ``log u - log(1 - u)``, ``u ~ U(eps, 1 - eps)``."""
    u = draw(torch.rand, shape, generator=generator, device=device).clamp(eps, 1 - eps)
    return torch.log(u) - torch.log1p(-u)


def concrete_logit_sample(log_alpha: torch.Tensor, temperature: float,
                          generator: torch.Generator | None = None) -> torch.Tensor:
    """The pre-sigmoid sample ``Y = (log alpha + L) / T`` of ``B_T(alpha)``, same shape as ``log_alpha``."""
    return (log_alpha + sample_logistic(log_alpha.shape, generator, log_alpha.device)) / temperature


def concrete_logit_log_density(y: torch.Tensor, log_alpha: torch.Tensor, temperature: float) -> torch.Tensor:
    """Elementwise log-density of the logit ``Y`` (paper eq. 20)."""
    t = float(temperature)
    a = log_alpha - t * y
    return math.log(t) + a - 2 * nn.functional.softplus(a)


class RelaxedBinarySymmetricChannel(nn.Module):
    """Relaxed BSC with flip probability ``eps`` and temperature ``T``.

    Input: ``(N, m)`` relaxed bits in (0, 1). Output: ``(N, m)`` relaxed received bits in (0, 1),
    ``z = ((2w - 1)(2y - 1) + 1) / 2`` with ``w ~ B_T((1 - eps) / eps)`` (``w`` near 1 keeps the bit).
    At ``T -> 0`` with hard inputs this is the binary symmetric channel of :mod:`repro.channels.discrete`. ``eps``
    given at call time overrides the constructor's.
    """

    def __init__(self, eps: float, temperature: float = 0.5):
        super().__init__()
        self.eps = self.check(eps)
        check_range("temperature T", temperature, 1e-3, 10.0)
        self.temperature = float(temperature)

    @staticmethod
    def check(eps: float) -> float:
        check_range("relaxed BSC flip probability eps", eps, 1e-6, 0.5)
        return float(eps)

    def level(self, eps: float | None = None) -> float:
        """The flip probability in force: ``eps`` checked to lie in [1e-6, 0.5], or the channel's own when None."""
        return self.eps if eps is None else self.check(eps)

    def keep_log_alpha(self, eps: float | None = None) -> float:
        """``log((1 - eps) / eps)``: the log-odds of keeping a bit."""
        eps = self.level(eps)
        return math.log((1 - eps) / eps)

    def forward(self, y: torch.Tensor, *, generator: torch.Generator | None = None,
                eps: float | None = None) -> torch.Tensor:
        log_alpha = torch.full_like(y, self.keep_log_alpha(eps))
        w = torch.sigmoid(concrete_logit_sample(log_alpha, self.temperature, generator))
        return ((2 * w - 1) * (2 * y - 1) + 1) / 2

    def extra_repr(self) -> str:
        return f"eps={self.eps}, temperature={self.temperature}"
