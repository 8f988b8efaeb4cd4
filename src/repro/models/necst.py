"""NECST: neural joint source-channel coding with discrete codes (Choi et al., 2019), and its discrete-VAE twin.

An encoder ``f_phi`` gives one Bernoulli logit per code bit; the channel is folded into the code distribution
during training, so that for the binary symmetric channel

    q_noisy(y_i = 1 | x) = sigmoid(f_phi(x)_i) (1 - 2 eps) + eps,

and for the binary erasure channel each bit is erased with probability eps and otherwise Bernoulli(sigmoid(f)).
The decoder sees the received code in signed form ``s = 2 y - 1`` (-1, +1, and 0 for an erasure) and outputs
logits of a Bernoulli likelihood (binary data) or the sigmoid mean of a Gaussian with fixed variance (real data,
``log p = -||x - mean||^2 / (2 sigma^2)``, ``sigma^2 = 1/2`` so that it is the negative squared error). Training
maximizes ``E log p_dec(x | y)`` with the K-sample VIMCO objective (``repro.coding.vimco``).

With ``prior='uniform'`` the same module is the discrete VAE of the VAE+LDPC baseline: no channel in training,
log-weights ``log p(x | z) + log p(z) - log q(z | x)`` with ``p(z)`` uniform over the ``m`` bits.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from repro.channels.discrete import make_channel
from repro.core.checks import ConfigError, check_choice, check_range
from repro.core.runtime import draw
from repro.metrics.image import l2_per_image

LIKELIHOODS = ("bernoulli", "gaussian")


def _glorot_no_bias(layer: nn.Linear) -> nn.Linear:
    nn.init.xavier_uniform_(layer.weight)
    return layer


class MLPEncoder(nn.Module):
    """``(N, *shape)`` inputs -> ``(N, m)`` Bernoulli logits: D-500 (leaky ReLU 0.2) - m, as in the official code."""

    def __init__(self, in_dim: int, bits: int, hidden: int = 500):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(in_dim, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, bits))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class MLPDecoder(nn.Module):
    """``(N, m)`` signed codes -> ``(N, *out_shape)`` logits: m-500-500-D, bias-free layers, Glorot init."""

    def __init__(self, bits: int, out_shape: tuple[int, ...], hidden: int = 500):
        super().__init__()
        self.out_shape = tuple(out_shape)
        out_dim = math.prod(self.out_shape)
        self.net = nn.Sequential(
            _glorot_no_bias(nn.Linear(bits, hidden, bias=False)), nn.LeakyReLU(0.2),
            _glorot_no_bias(nn.Linear(hidden, hidden, bias=False)), nn.LeakyReLU(0.2),
            _glorot_no_bias(nn.Linear(hidden, out_dim, bias=False)),
        )

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        return self.net(s).view(-1, *self.out_shape)


class ConvEncoder32(nn.Module):
    """``(N, 3, 32, 32)`` -> ``(N, m)`` logits: three conv blocks (64/32/16 channels, 3x3, ReLU, 2x2 max-pool)
    then a dense layer; the official code's always-inference BatchNorm is a learned affine, here omitted."""

    def __init__(self, bits: int, channels: int = 3):
        super().__init__()
        blocks, c_in = [], channels
        for c_out in (64, 32, 16):
            blocks += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            c_in = c_out
        self.net = nn.Sequential(*blocks, nn.Flatten(), nn.Linear(16 * 4 * 4, bits))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvDecoder32(nn.Module):
    """``(N, m)`` signed codes -> ``(N, 3, 32, 32)`` logits: dense 256 -> 16x4x4, then three
    (conv 3x3 + ReLU + 2x nearest upsampling) blocks with 16/32/64 channels and a final 3x3 conv."""

    def __init__(self, bits: int, channels: int = 3):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(bits, 256), nn.ReLU())
        blocks, c_in = [], 16
        for c_out in (16, 32, 64):
            blocks += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.Upsample(scale_factor=2)]
            c_in = c_out
        self.net = nn.Sequential(*blocks, nn.Conv2d(c_in, channels, 3, padding=1))

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(s).view(-1, 16, 4, 4))


class NECST(nn.Module):
    """Encoder, simulated channel and decoder trained jointly with VIMCO.

    Args:
        encoder: ``(N, *x_shape) -> (N, m)`` logits.  decoder: ``(N, m) -> (N, *x_shape)`` logits.
        likelihood: ``bernoulli`` (binary data) or ``gaussian`` (real data, mean = sigmoid(logits)).
        channel: ``bsc`` or ``bec``; eps: its noise level (BSC [0, 0.5], BEC [0, 1]).
        prior: ``None`` for NECST, ``'uniform'`` for the discrete VAE (no channel in training).
        samples: K of VIMCO; encoder_l2: L2 weight on the encoder's weights (official: 1e-4).
        adversary: a :class:`repro.models.iabf.AdversarialBitFlip` (ABF) that reshapes the training code distribution.
        infomax: a :class:`repro.models.iabf.Infomax` whose ``-lambda L_info`` joins the loss (IABF = ABF + infomax);
            its discriminator is trained in :func:`repro.core.training.fit`'s hook after each optimizer step, not here.
        prob_recon_weight: weight of ``-log p_dec(x | 2 sigma(f(x)) - 1)``, the decoder fed the code
            probabilities; 0 here, 0.1 in the official IABF code (kept only to reproduce its behaviour).

    At test time it is a communication system (:mod:`repro.systems.protocol`): ``encode(x, *, generator, mode)`` (code
    bits), ``send(bits, *, generator, eps)`` (the channel at ``eps``, default the training eps),
    ``decode(received)`` and ``reconstruct(x, *, generator, eps=None, mode="sample")``.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, *, likelihood: str, channel: str = "bsc",
                 eps: float = 0.0, prior: str | None = None, samples: int = 5, encoder_l2: float = 1e-4,
                 adversary: nn.Module | None = None, infomax: nn.Module | None = None,
                 prob_recon_weight: float = 0.0):
        super().__init__()
        check_choice("likelihood", likelihood, LIKELIHOODS)
        check_choice("prior", prior, [None, "uniform"])
        check_range("VIMCO samples K", samples, 2, 1000, integer=True)
        check_range("prob_recon_weight", prob_recon_weight, 0.0, 100.0)
        if adversary is not None and (channel != "bsc" or prior is not None):
            raise ConfigError(f"adversarial bit flips are defined for NECST over the BSC; got channel={channel!r}, "
                             f"prior={prior!r} (valid: channel='bsc', prior=None)")
        self.encoder, self.decoder = encoder, decoder
        self.adversary, self.infomax, self.prob_recon_weight = adversary, infomax, float(prob_recon_weight)
        self.likelihood, self.prior, self.samples, self.encoder_l2 = likelihood, prior, samples, encoder_l2
        self.channel_name = channel
        self.channel = make_channel(channel, eps)
        self.eps = float(eps)

    # -- distributions -------------------------------------------------------------------------------------
    def code_probs(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, m)`` probabilities of each code bit being 1 before the channel."""
        return torch.sigmoid(self.encoder(x))

    def log_likelihood(self, x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
        """``log p_dec(x | y)`` per item, summed over pixels, for logits shaped ``(..., *x_shape)``."""
        dims = tuple(range(-(x.dim() - 1), 0))
        if self.likelihood == "bernoulli":
            return -nn.functional.binary_cross_entropy_with_logits(logits, x.expand_as(logits),
                                                                  reduction="none").sum(dims)
        return -l2_per_image(x, torch.sigmoid(logits))

    def mean(self, logits: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(logits)

    def _sample_training_code(self, logits: torch.Tensor, k: int,
                              x: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``K`` draws from the code distribution (through the channel for NECST): ``y (K, N, m)``, ``log q (K, N)``.

        With an adversary (ABF) the bits first go through its attack, ``p <- p (1 - 2 eps*) + eps*`` (needs
        ``x``), then through the random channel unless the adversary disables it."""
        p = torch.sigmoid(logits)
        eps = 0.0 if self.prior == "uniform" else self.eps
        if self.adversary is not None and eps > 0.0:
            if x is None:
                raise ValueError("adversarial bit flips need the input batch x")
            eps_star = self.adversary.noise_levels(x, p, eps, self.decoder, self.log_likelihood)
            p = p * (1 - 2 * eps_star) + eps_star
            if not self.adversary.channel_noise:
                eps = 0.0
        return self.channel.training_sample(p, k, eps)  # the channel's own training-time distribution

    # -- training ------------------------------------------------------------------------------------------
    def loss(self, x: torch.Tensor, _y=None) -> tuple[torch.Tensor, dict]:
        """Negative VIMCO surrogate (to minimize) plus the encoder's L2 penalty; logs the bound and distortion."""
        from repro.coding.vimco import vimco_objective

        k = self.samples
        logits = self.encoder(x)
        y, log_q = self._sample_training_code(logits, k, x)
        out = self.decoder((2 * y - 1).flatten(0, 1)).view(k, *x.shape)
        log_w = self.log_likelihood(x, out)
        if self.prior == "uniform":
            log_w = log_w - y.shape[-1] * math.log(2.0) - log_q
        surrogate, bound = vimco_objective(log_w, log_q)
        penalty = sum(w.pow(2).sum() for n, w in self.encoder.named_parameters() if n.endswith("weight"))
        loss = -surrogate.mean() + 0.5 * self.encoder_l2 * penalty
        logs = {}
        if self.infomax is not None:
            info_loss, logs = self.infomax.term(torch.sigmoid(logits))
            loss = loss + info_loss
        if self.prob_recon_weight > 0:
            p = torch.sigmoid(logits)
            loss = loss - self.prob_recon_weight * self.log_likelihood(x, self.decoder(2 * p - 1)).mean()
        with torch.no_grad():
            sq = l2_per_image(x, self.mean(out)).mean()
        return loss, {"bound": bound.mean().item(), "l2_per_image": sq.item(), **logs}

    # -- test time: the communication-system protocol (repro.systems.protocol) ---------------------------------------
    @torch.no_grad()
    def encode(self, x: torch.Tensor, *, generator: torch.Generator | None, mode: str = "sample") -> torch.Tensor:
        """``(N, m)`` transmitted bits: sampled from the encoder's Bernoulli (``sample``: one uniform draw per bit,
        ``u < p``) or thresholded at 1/2 (``threshold``: no draw)."""
        check_choice("code mode", mode, ["sample", "threshold"])
        p = self.code_probs(x)
        if mode == "threshold":
            return (p > 0.5).float()
        return (draw(torch.rand, p.shape, generator=generator, device=p.device) < p).float()

    @torch.no_grad()
    def send(self, bits: torch.Tensor, *, generator: torch.Generator | None, eps: float | None = None) -> torch.Tensor:
        """The channel (BSC or BEC) at ``eps`` (default: the training eps)."""
        return self.channel(bits, generator=generator, eps=eps)

    @torch.no_grad()
    def decode(self, received: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """Received codes (``{0, 1, ERASED}``) -> reconstructions (the likelihood's mean); deterministic."""
        return self.mean(self.decoder(2 * received - 1))

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, *, generator: torch.Generator | None, eps: float | None = None,
                    mode: str = "sample") -> torch.Tensor:
        """Encode, pass through the channel at ``eps`` (default: the training eps), decode."""
        bits = self.encode(x, generator=generator, mode=mode)
        return self.decode(self.send(bits, generator=generator, eps=eps))
