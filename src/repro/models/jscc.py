"""Joint and separate neural communication systems over Gaussian channels (paper 003, sections 4.2-4.3).

Every system here uses the same posterior family (an isotropic Gaussian ``q(y | x) = N(mu(x), diag sigma(x)^2)``
over a ``latent_dim`` code, predicted by :class:`~repro.models.resnet_coder.ResidualEncoder`) and the same
decoder architecture (:class:`~repro.models.resnet_coder.ResidualDecoder`), with a Gaussian observation model of
fixed standard deviation ``obs_std`` on [0, 1] pixels. Losses are negative ELBOs in nats per image:

* :class:`SourceVAE` (separate system, source coder): ``D + beta R`` with ``D = -log p(x | y)`` and
  ``R = KL(q(y | x) || N(0, I))`` (paper eq. 6, beta-VAE).
* :class:`ChannelAutoencoder` (separate system, channel coder): deterministic MLP encoder, the AWGN channel, MLP
  decoder, trained on samples of the source coder's prior ``N(0, I)`` to minimize the squared error.
* :class:`LinearChannelCode` (separate system, the uncoded benchmark): the code sent as it is, linear MMSE
  estimation at the receiver; the separate system uses it at an SNR where it beats the channel autoencoder.
* :class:`RateZeroSystem` (separate system, rate 0): nothing sent, the training mean image received; the limit
  ``beta -> infinity`` of the source VAE, offered beside the trained betas.
* :class:`JointSystem` (paper eq. 8): ``y ~ q(y | x)`` goes through the channel and the decoder reconstructs from
  the received ``z``: ``D + beta R`` with ``D = -log p(x | z)``. With the bandwidth-limited channel the lost bands
  are filled by a code prior; a learned prior adds its own fitting term (its negative log-likelihood of the codes
  actually sent, which touches only the prior's parameters). With auxiliary latent variables ``v`` (paper eq. 9)
  the decoder is ``p(x | z, v)``, ``v`` has a prior ``p(v | z)`` (or ``N(0, I)``) and a posterior
  ``q(v | x, y, z)``, and the ELBO gains ``KL(q(v | x, y, z) || p(v | z))``; at the receiver ``v`` is drawn from
  its prior.
* :class:`BinaryJointSystem` (Appendix C): Binary Concrete code bits through the relaxed binary symmetric
  channel.

:class:`JointSystem`, :class:`SeparateSystem`, :class:`ChannelAutoencoder` and :class:`BinaryJointSystem` are
communication systems in the sense of :mod:`repro.systems.protocol`: ``encode(x, *, generator)``, ``send(code, *,
generator, <level>)``, ``decode(received, *, generator=None)`` and ``reconstruct(x, *, generator, <level>)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from repro.channels.discrete import BinarySymmetricChannel
from repro.channels.gaussian import AWGNChannel, BandwidthLimitedChannel
from repro.channels.relaxed import RelaxedBinarySymmetricChannel, concrete_logit_log_density, concrete_logit_sample
from repro.core.checks import check_choice, check_range
from repro.core.runtime import draw
from repro.metrics.image import l2_per_image
from repro.models.resnet_coder import ResidualDecoder, ResidualEncoder

LOG_SIGMA_RANGE = (-7.0, 2.0)
ALV_PRIORS = ("conditional", "standard")


# ---- ELBO terms ------------------------------------------------------------------------------------------------

def gaussian_nll(x: torch.Tensor, x_hat: torch.Tensor, obs_std: float) -> torch.Tensor:
    """``(N,)`` ``-log N(x; x_hat, obs_std^2 I)`` in nats, summed over all pixels of an item."""
    d = x[0].numel()
    sse = l2_per_image(x, x_hat)
    return 0.5 * sse / obs_std**2 + d * (math.log(obs_std) + 0.5 * math.log(2 * math.pi))


def kl_to_standard_normal(mu: torch.Tensor, log_sigma: torch.Tensor) -> torch.Tensor:
    """``(N,)`` ``KL(N(mu, diag sigma^2) || N(0, I))`` in nats: ``1/2 sum(mu^2 + sigma^2 - 1 - 2 log sigma)``."""
    return 0.5 * (mu.pow(2) + (2 * log_sigma).exp() - 1 - 2 * log_sigma).sum(1)


def kl_gaussians(mu_q: torch.Tensor, log_sigma_q: torch.Tensor, mu_p: torch.Tensor,
                 log_sigma_p: torch.Tensor) -> torch.Tensor:
    """``(N,)`` ``KL(N(mu_q, sigma_q^2) || N(mu_p, sigma_p^2))`` of diagonal Gaussians, in nats:
    ``sum(log sigma_p - log sigma_q + (sigma_q^2 + (mu_q - mu_p)^2) / (2 sigma_p^2) - 1/2)``."""
    var_p = (2 * log_sigma_p).exp()
    return (log_sigma_p - log_sigma_q + ((2 * log_sigma_q).exp() + (mu_q - mu_p).pow(2)) / (2 * var_p) - 0.5).sum(1)


def reparameterize(mu: torch.Tensor, log_sigma: torch.Tensor,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """A draw ``mu + sigma * eps`` with ``eps ~ N(0, I)`` (from ``generator`` when given)."""
    return mu + log_sigma.exp() * draw(torch.randn, mu.shape, generator=generator, device=mu.device)


class GaussianEncoder(nn.Module):
    """``(N, C, 32, 32)`` -> ``(mu, log_sigma)``, each ``(N, latent_dim)``; optional side input (see
    :class:`ResidualEncoder`)."""

    def __init__(self, in_channels: int, latent_dim: int, width: int, cond_dim: int = 0):
        super().__init__()
        self.latent_dim = latent_dim
        self.net = ResidualEncoder(in_channels, 2 * latent_dim, width, cond_dim)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        mu, log_sigma = self.net(x, cond).chunk(2, 1)
        return mu, log_sigma.clamp(*LOG_SIGMA_RANGE)


def _check_common(latent_dim: int, beta: float, obs_std: float) -> None:
    check_range("latent_dim", latent_dim, 1, 100_000, integer=True)
    check_range("beta", beta, 0.0, 1e6)
    check_range("obs_std", obs_std, 1e-4, 10.0)


# ---- separate system -------------------------------------------------------------------------------------------

class SourceVAE(nn.Module):
    """beta-VAE source coder with an ``N(0, I)`` prior (the separate system's red half).

    ``loss(x)``: ``(N, C, 32, 32)`` -> scalar mean of ``D + beta R`` and a metrics dict.
    """

    def __init__(self, in_channels: int, latent_dim: int, width: int, beta: float, obs_std: float):
        super().__init__()
        _check_common(latent_dim, beta, obs_std)
        self.latent_dim, self.beta, self.obs_std = latent_dim, float(beta), float(obs_std)
        self.encoder = GaussianEncoder(in_channels, latent_dim, width)
        self.decoder = ResidualDecoder(latent_dim, in_channels, width)

    def terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        mu, log_sigma = self.encoder(x)
        x_hat = self.decoder(reparameterize(mu, log_sigma))
        return {"distortion": gaussian_nll(x, x_hat, self.obs_std), "rate": kl_to_standard_normal(mu, log_sigma),
                "l2": l2_per_image(x, x_hat)}

    def loss(self, x: torch.Tensor):
        t = self.terms(x)
        loss = (t["distortion"] + self.beta * t["rate"]).mean()
        return loss, {k: float(v.detach().mean()) for k, v in t.items()}


class ChannelAutoencoder(nn.Module):
    """Neural channel code for ``latent_dim`` real numbers over ``latent_dim`` uses of an AWGN channel.

    ``forward(y_src, *, generator=None, snr=None)``: ``(N, latent_dim)`` source symbols -> ``(N, latent_dim)``
    estimates after the channel (``snr``: linear, default the training SNR). Encoder ``latent -> hidden -> latent``
    (then power-normalized by the channel), decoder ``latent -> hidden -> hidden -> latent``, ReLU. As a
    communication system (:mod:`repro.systems.protocol`) its source is the code vector ``y_src``.
    """

    def __init__(self, latent_dim: int, snr: float, hidden: int = 512):
        super().__init__()
        self.latent_dim = latent_dim
        self.channel = AWGNChannel(snr)
        self.encoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, hidden),
                                     nn.ReLU(), nn.Linear(hidden, latent_dim))

    def encode(self, y_src: torch.Tensor, *, generator: torch.Generator | None) -> torch.Tensor:
        """``(N, latent_dim)`` source symbols -> channel input (before the channel's power normalization);
        deterministic."""
        if y_src.dim() != 2 or y_src.shape[1] != self.latent_dim:
            raise ValueError(f"expected source codes (N, {self.latent_dim}), got {tuple(y_src.shape)}")
        return self.encoder(y_src)

    def send(self, code: torch.Tensor, *, generator: torch.Generator | None,
             snr: float | None = None) -> torch.Tensor:
        return self.channel(code, generator=generator, snr=snr)

    def decode(self, received: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.decoder(received)

    def forward(self, y_src: torch.Tensor, *, generator: torch.Generator | None = None,
                snr: float | None = None) -> torch.Tensor:
        return self.decode(self.send(self.encode(y_src, generator=generator), generator=generator, snr=snr))

    @torch.no_grad()
    def reconstruct(self, y_src: torch.Tensor, *, generator: torch.Generator | None,
                    snr: float | None = None) -> torch.Tensor:
        return self(y_src, generator=generator, snr=snr)

    def loss(self, y_src: torch.Tensor):
        err = l2_per_image(y_src, self(y_src))
        return err.mean(), {"mse_per_dim": float(err.detach().mean()) / self.latent_dim}


def expected_norm_ratio(k: int) -> float:
    """``E ||y|| / sqrt(k)`` for ``y ~ N(0, I_k)`` (the mean of a chi distribution over ``sqrt(k)``)."""
    return math.exp(0.5 * math.log(2.0) + math.lgamma((k + 1) / 2) - math.lgamma(k / 2)) / math.sqrt(k)


class LinearChannelCode(nn.Module):
    """Uncoded linear transmission of ``latent_dim`` real numbers over as many uses of an AWGN channel, the
    benchmark any channel code for a Gaussian source must meet: the code is sent as it is (the channel scales it
    to power 1) and the receiver applies the linear MMSE estimate ``y_hat = g z`` for ``y ~ N(0, I)``.

    With ``z = y sqrt(k) / ||y|| + w / sqrt(s)``, ``g = E[y z] / E[z^2] = c_k s / (1 + s)`` with
    ``c_k = E||y|| / sqrt(k)`` (0.9975 at k = 100), and the mean squared error per number is ``1 - c_k^2 s / (1 + s)``,
    which is ``1 / (1 + s)`` as ``k`` grows (the error of linear uncoded transmission of a unit-variance Gaussian
    source). No parameter is trained; the same protocol as :class:`ChannelAutoencoder`.
    """

    def __init__(self, latent_dim: int, snr: float):
        super().__init__()
        check_range("latent_dim", latent_dim, 1, 1_000_000, integer=True)
        self.latent_dim = int(latent_dim)
        self.channel = AWGNChannel(snr)

    def gain(self, snr: float | None = None) -> float:
        s = self.channel.level(snr)
        return expected_norm_ratio(self.latent_dim) * s / (1.0 + s)

    def mse_per_dim(self, snr: float | None = None) -> float:
        """The expected squared error per number for ``y ~ N(0, I)``."""
        s = self.channel.level(snr)
        return 1.0 - expected_norm_ratio(self.latent_dim) ** 2 * s / (1.0 + s)

    def encode(self, y_src: torch.Tensor, *, generator: torch.Generator | None) -> torch.Tensor:
        if y_src.dim() != 2 or y_src.shape[1] != self.latent_dim:
            raise ValueError(f"expected source codes (N, {self.latent_dim}), got {tuple(y_src.shape)}")
        return y_src

    def send(self, code: torch.Tensor, *, generator: torch.Generator | None,
             snr: float | None = None) -> torch.Tensor:
        return self.channel(code, generator=generator, snr=snr) * self.gain(snr)

    def decode(self, received: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        return received

    @torch.no_grad()
    def reconstruct(self, y_src: torch.Tensor, *, generator: torch.Generator | None,
                    snr: float | None = None) -> torch.Tensor:
        return self.decode(self.send(self.encode(y_src, generator=generator), generator=generator, snr=snr))

    def forward(self, y_src: torch.Tensor, *, generator: torch.Generator | None = None,
                snr: float | None = None) -> torch.Tensor:
        return self.reconstruct(y_src, generator=generator, snr=snr)


class SeparateSystem(nn.Module):
    """Source VAE + channel autoencoder, each trained alone: ``x -> y' ~ q(y'|x) -> channel AE -> decoder``.

    ``encode``: the posterior sample ``y'`` through the channel autoencoder's encoder; ``send``: its AWGN channel
    at ``snr`` (linear; default the one it was trained at); ``decode``: its decoder, then the VAE's decoder."""

    def __init__(self, vae: SourceVAE, channel_ae: ChannelAutoencoder | LinearChannelCode):
        super().__init__()
        self.vae, self.channel_ae = vae, channel_ae

    @torch.no_grad()
    def encode(self, x: torch.Tensor, *, generator: torch.Generator | None) -> torch.Tensor:
        return self.channel_ae.encode(reparameterize(*self.vae.encoder(x), generator), generator=generator)

    @torch.no_grad()
    def send(self, code: torch.Tensor, *, generator: torch.Generator | None, snr: float | None = None) -> torch.Tensor:
        return self.channel_ae.send(code, generator=generator, snr=snr)

    @torch.no_grad()
    def decode(self, received: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.vae.decoder(self.channel_ae.decode(received))

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, *, generator: torch.Generator | None,
                    snr: float | None = None) -> torch.Tensor:
        """``(N, C, 32, 32)`` -> reconstructions after the channel (code sampled from the posterior)."""
        return self.decode(self.send(self.encode(x, generator=generator), generator=generator, snr=snr))


class RateZeroSystem(nn.Module):
    """The separate system at rate 0, the limit ``beta -> infinity`` of its source VAE: nothing is sent and the
    receiver outputs the training set's mean image, the best fixed guess under squared error.

    A source code of rate 0 is a choice every separate system has (a collapsed VAE approaches it as it trains), so
    the separate system's grid offers it beside the trained betas and the validation split chooses among them.
    ``encode`` gives an empty code (0 channel uses), ``send`` passes it on untouched at any SNR (the level is
    checked, not used) and ``decode`` broadcasts the mean image over the batch."""

    def __init__(self, mean_image: torch.Tensor):
        super().__init__()
        if mean_image.dim() != 3:
            raise ValueError(f"expected a mean image (C, H, W), got shape {tuple(mean_image.shape)}")
        self.register_buffer("mean_image", mean_image.detach().float().clone())
        self.channel = AWGNChannel(1.0)

    def encode(self, x: torch.Tensor, *, generator: torch.Generator | None) -> torch.Tensor:
        if x.shape[1:] != self.mean_image.shape:
            raise ValueError(f"expected images (N, {', '.join(map(str, self.mean_image.shape))}), "
                             f"got {tuple(x.shape)}")
        return x.new_zeros((len(x), 0))

    def send(self, code: torch.Tensor, *, generator: torch.Generator | None, snr: float | None = None) -> torch.Tensor:
        self.channel.level(snr)
        return code

    def decode(self, received: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.mean_image.to(received.device).expand(len(received), *self.mean_image.shape).clone()

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, *, generator: torch.Generator | None,
                    snr: float | None = None) -> torch.Tensor:
        """``(N, C, H, W)`` -> ``N`` copies of the mean image."""
        return self.decode(self.send(self.encode(x, generator=generator), generator=generator, snr=snr))


# ---- joint system ----------------------------------------------------------------------------------------------

class JointSystem(nn.Module):
    """Encoder, channel and decoder trained end to end (paper eq. 8), optionally with an ALV decoder (eq. 9).

    Args:
        channel: an :class:`AWGNChannel` or a :class:`BandwidthLimitedChannel` (then ``prior`` is required).
        prior: code prior filling lost bands (:mod:`repro.channels.priors`); a learned one is trained alongside.
        alv_dim: number of auxiliary latent variables ``v`` (0: a plain decoder ``p(x | z)``).
        alv_prior: ``conditional`` (``p(v | z)``, a diagonal Gaussian computed from the received code by a small
            MLP, as the prior of a conditional ConvDRAW decoder depends on its conditioning) or ``standard``
            (``N(0, I)``, eq. 9 read literally).
        alv_skip: the ALV decoder must explain ``x`` from ``z`` first: a base decoder ``m(z)`` (no ``v``) is
            scored on its own, ``D(x | m(z))``, and the output is ``m(z) + r(z, v)`` with a residual decoder
            ``r`` in ``(-1, 1)``; the loss adds both distortion terms. Without it the single decoder ``p(x | z, v)``
            may ignore ``z`` and let ``v`` (whose posterior sees ``x``) carry the image.
        alv_kl_weight: weight ``lambda_v`` of ``KL(q(v | .) || p(v | z))`` (1: the ELBO of eq. 9; larger values
            limit the information ``v`` carries).

    ``loss(x)``: ``(N, C, 32, 32)`` -> scalar ``mean(D + beta R + KL_v) + prior fit`` and metrics.
    ``reconstruct(x, *, generator, bandwidth=None, fill_prior=None, snr=None)``: -> ``(N, C, 32, 32)`` as the
    receiver sees it (``v`` from its prior): ``decode(send(encode(x)))`` (:mod:`repro.systems.protocol`).
    """

    def __init__(self, in_channels: int, latent_dim: int, width: int, channel: nn.Module, beta: float,
                 obs_std: float, prior: nn.Module | None = None, alv_dim: int = 0, alv_prior: str = "conditional",
                 alv_skip: bool = False, alv_kl_weight: float = 1.0):
        super().__init__()
        _check_common(latent_dim, beta, obs_std)
        check_range("alv_dim", alv_dim, 0, 100_000, integer=True)
        check_choice("alv_prior", alv_prior, ALV_PRIORS)
        check_range("alv_kl_weight", alv_kl_weight, 0.0, 1e6)
        if not isinstance(alv_skip, bool):
            raise TypeError(f"alv_skip must be True or False, got {alv_skip!r}")
        if (alv_skip or alv_kl_weight != 1.0) and not alv_dim:
            raise ValueError(f"alv_skip={alv_skip} and alv_kl_weight={alv_kl_weight} only apply to an ALV decoder "
                             "(alv_dim > 0); valid without ALV: alv_skip=False, alv_kl_weight=1.0")
        if isinstance(channel, BandwidthLimitedChannel):
            if prior is None:
                raise ValueError("a bandwidth-limited channel needs a code prior")
            channel.band_size(latent_dim)
        elif not isinstance(channel, AWGNChannel):
            raise TypeError(f"channel must be AWGNChannel or BandwidthLimitedChannel, got {type(channel).__name__}")
        self.latent_dim, self.beta, self.obs_std, self.alv_dim = latent_dim, float(beta), float(obs_std), alv_dim
        self.channel = channel
        self.prior = prior
        self.encoder = GaussianEncoder(in_channels, latent_dim, width)
        self.decoder = ResidualDecoder(latent_dim + alv_dim, in_channels, width)
        self.alv_posterior = GaussianEncoder(in_channels, alv_dim, width, cond_dim=2 * latent_dim) if alv_dim else None
        self.alv_prior = alv_prior
        self.alv_skip, self.alv_kl_weight = alv_skip, float(alv_kl_weight)
        # with the skip, ``decoder`` is the base m(z) and ``residual_decoder`` is r(z, v)
        if alv_skip:
            self.decoder = ResidualDecoder(latent_dim, in_channels, width)
            self.residual_decoder = ResidualDecoder(latent_dim + alv_dim, in_channels, width)
        else:
            self.residual_decoder = None
        self.alv_prior_net = (nn.Sequential(nn.Linear(latent_dim, 128), nn.ReLU(), nn.Linear(128, 2 * alv_dim))
                              if alv_dim and alv_prior == "conditional" else None)

    @property
    def bandwidth_limited(self) -> bool:
        return isinstance(self.channel, BandwidthLimitedChannel)

    @property
    def learned_prior(self) -> bool:
        return self.prior is not None and any(True for _ in self.prior.parameters())

    def _transmit(self, y: torch.Tensor, bandwidth=None, generator: torch.Generator | None = None,
                  prior: nn.Module | None = None, snr: float | None = None):
        """Code ``y`` through the channel: ``(z, received, bandwidth)``; ``received`` before any band is lost, lost
        bands filled by ``prior`` (default: the model's own)."""
        if not self.bandwidth_limited:
            z = self.channel(y, generator=generator, snr=snr)
            return z, z, None
        received = self.channel.awgn(y, generator=generator, snr=snr)
        z, bw = self.channel.fill(received, prior=self.prior if prior is None else prior, bandwidth=bandwidth,
                                  generator=generator)
        return z, received, bw

    def v_prior(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and log standard deviation ``(N, alv_dim)`` of the prior of ``v`` given the received ``z``."""
        if self.alv_prior_net is None:
            zeros = z.new_zeros((z.shape[0], self.alv_dim))
            return zeros, zeros
        mu, log_sigma = self.alv_prior_net(z).chunk(2, 1)
        return mu, log_sigma.clamp(*LOG_SIGMA_RANGE)

    def decode_latents(self, z: torch.Tensor, v: torch.Tensor | None = None) -> torch.Tensor:
        """The decoder's output for received ``z`` and, with an ALV decoder, auxiliary latents ``v``."""
        if self.alv_dim:
            if v is None:
                raise ValueError("an ALV decoder needs auxiliary latents v")
            if self.alv_skip:
                return self.decoder(z) + 2 * self.residual_decoder(torch.cat([z, v], 1)) - 1
            z = torch.cat([z, v], 1)
        return self.decoder(z)

    def decode_base(self, z: torch.Tensor) -> torch.Tensor:
        """The skip decoder's base reconstruction ``m(z)`` (no ``v``)."""
        if not self.alv_skip:
            raise ValueError("decode_base needs an ALV decoder with alv_skip=True")
        return self.decoder(z)

    def _sent(self, y: torch.Tensor) -> torch.Tensor:
        return self.channel.awgn.transmit(y) if self.bandwidth_limited else self.channel.transmit(y)

    def _decoder_terms(self, x: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> dict[str, torch.Tensor]:
        out, v = {}, None
        if self.alv_dim:
            v_mu, v_log_sigma = self.alv_posterior(x, torch.cat([self._sent(y), z], 1))
            v = reparameterize(v_mu, v_log_sigma)
            if self.alv_prior_net is None:
                out["kl_v"] = kl_to_standard_normal(v_mu, v_log_sigma)
            else:
                out["kl_v"] = kl_gaussians(v_mu, v_log_sigma, *self.v_prior(z))
        x_hat = self.decode_latents(z, v)
        out["distortion"] = gaussian_nll(x, x_hat, self.obs_std)
        out["l2"] = l2_per_image(x, x_hat)
        if self.alv_skip:
            base = self.decoder(z)
            out["distortion_base"] = gaussian_nll(x, base, self.obs_std)
            out["l2_base"] = l2_per_image(x, base)
        return out

    def terms(self, x: torch.Tensor, bandwidth=None) -> dict[str, torch.Tensor]:
        """Per-image ELBO terms. Over the bandwidth-limited channel ``bandwidth`` may be an int, an ``(N,)`` tensor,
        ``None`` (one uniform draw per image: Monte Carlo marginalization) or ``'all'`` (enumeration: the decoder
        terms averaged over every bandwidth, for the same code sample and channel noise)."""
        mu, log_sigma = self.encoder(x)
        y = reparameterize(mu, log_sigma)
        out = {"rate": kl_to_standard_normal(mu, log_sigma)}
        if isinstance(bandwidth, str):
            if bandwidth != "all" or not self.bandwidth_limited:
                raise ValueError(f"bandwidth={bandwidth!r}: the only string accepted is 'all', and only over the "
                                 "bandwidth-limited channel")
            received = self.channel.awgn(y)
            per_b = [self._decoder_terms(x, y, self.channel.fill(received, prior=self.prior, bandwidth=b)[0])
                     for b in range(1, self.channel.n_bands + 1)]
            out.update({k: torch.stack([p[k] for p in per_b]).mean(0) for k in per_b[0]})
        else:
            z, received, _ = self._transmit(y, bandwidth)
            out.update(self._decoder_terms(x, y, z))
        if self.bandwidth_limited and self.learned_prior:
            out["prior_nll"] = self.prior.nll(self._sent(y).detach(), received.detach())
        return out

    def loss(self, x: torch.Tensor, bandwidth=None):
        t = self.terms(x, bandwidth)
        elbo = (t["distortion"] + t.get("distortion_base", 0.0) + self.beta * t["rate"]
                + self.alv_kl_weight * t.get("kl_v", 0.0))
        loss = elbo.mean() + (t["prior_nll"].mean() if "prior_nll" in t else 0.0)
        return loss, {k: float(v.detach().mean()) for k, v in t.items()}

    # -- the communication-system protocol (repro.systems.protocol) ---------------------------------------------------
    @torch.no_grad()
    def encode(self, x: torch.Tensor, *, generator: torch.Generator | None) -> torch.Tensor:
        """``(N, latent_dim)`` code ``y ~ q(y | x)`` (before the channel's power normalization)."""
        return reparameterize(*self.encoder(x), generator)

    @torch.no_grad()
    def send(self, y: torch.Tensor, *, generator: torch.Generator | None, bandwidth=None,
             fill_prior: nn.Module | None = None, snr: float | None = None) -> torch.Tensor:
        """What the decoder sees: ``y`` through the AWGN channel at ``snr`` (linear; default the training SNR); over
        the bandwidth-limited channel only the first ``bandwidth`` bands arrive (an int, an ``(N,)`` tensor, or
        ``None``: one uniform draw per row) and the rest are filled by the model's prior, or by ``fill_prior``
        (e.g. ``N(0, I)`` fills for the same coder)."""
        if not self.bandwidth_limited and (bandwidth is not None or fill_prior is not None):
            raise ValueError(f"bandwidth={bandwidth!r} and fill_prior only apply over the bandwidth-limited channel")
        return self._transmit(y, bandwidth, generator, fill_prior, snr)[0]

    @torch.no_grad()
    def decode(self, z: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        """The receiver's reconstruction from ``z``; an ALV decoder draws ``v ~ p(v | z)`` from ``generator``."""
        v = reparameterize(*self.v_prior(z), generator) if self.alv_dim else None
        return self.decode_latents(z, v)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, *, generator: torch.Generator | None, bandwidth=None,
                    fill_prior: nn.Module | None = None, snr: float | None = None) -> torch.Tensor:
        """``decode(send(encode(x)))``; ``fill_prior`` (bandwidth-limited channel only) replaces the model's own
        prior for filling the lost bands, e.g. to score the same coder with ``N(0, I)`` fills and learned fills."""
        y = self.encode(x, generator=generator)
        z = self.send(y, generator=generator, bandwidth=bandwidth, fill_prior=fill_prior, snr=snr)
        return self.decode(z, generator=generator)

    @torch.no_grad()
    def band_rates(self, x: torch.Tensor) -> torch.Tensor:
        """``(n_bands,)`` mean ``KL(q(y | x) || N(0, I))`` per band (nats per image; the code's rate per band)."""
        if not self.bandwidth_limited:
            raise ValueError("band_rates needs a model over the bandwidth-limited channel")
        mu, log_sigma = self.encoder(x)
        kl = 0.5 * (mu.pow(2) + (2 * log_sigma).exp() - 1 - 2 * log_sigma)
        return kl.view(len(x), self.channel.n_bands, -1).sum(2).mean(0)


# ---- relaxed binary channel (Appendix C) -----------------------------------------------------------------------

class BinaryJointSystem(nn.Module):
    """Joint system with ``n_bits`` Binary Concrete code bits over the relaxed binary symmetric channel.

    Training: logits ``log alpha(x)`` -> relaxed bits ``y = sigmoid(Y)``, ``Y = (log alpha + L) / T`` -> relaxed
    BSC -> decoder of ``2 z - 1``. Loss: ``D + beta R`` with the Monte Carlo rate
    ``R = log g_{alpha,T}(Y) - log g_{1,T}(Y)`` (paper eq. 20; prior: fair relaxed coin at the same T).
    ``reconstruct(x, *, generator, eps=None)``: hard Bernoulli bits through the real BSC (at ``eps``, default the
    relaxed channel's), the system as it would be deployed.
    """

    def __init__(self, in_channels: int, n_bits: int, width: int, eps: float, temperature: float, beta: float,
                 obs_std: float):
        super().__init__()
        _check_common(n_bits, beta, obs_std)
        self.n_bits, self.beta, self.obs_std = n_bits, float(beta), float(obs_std)
        self.channel = RelaxedBinarySymmetricChannel(eps, temperature)
        self.hard_channel = BinarySymmetricChannel(eps)  # the deployed channel (no parameters, no state)
        self.encoder = ResidualEncoder(in_channels, n_bits, width)
        self.decoder = ResidualDecoder(n_bits, in_channels, width)

    def terms(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        log_alpha = self.encoder(x)
        t = self.channel.temperature
        logit = concrete_logit_sample(log_alpha, t)
        rate = (concrete_logit_log_density(logit, log_alpha, t)
                - concrete_logit_log_density(logit, torch.zeros_like(log_alpha), t)).sum(1)
        z = self.channel(torch.sigmoid(logit))
        x_hat = self.decoder(2 * z - 1)
        return {"distortion": gaussian_nll(x, x_hat, self.obs_std), "rate": rate, "l2": l2_per_image(x, x_hat)}

    def loss(self, x: torch.Tensor):
        t = self.terms(x)
        return (t["distortion"] + self.beta * t["rate"]).mean(), {k: float(v.detach().mean()) for k, v in t.items()}

    # -- the communication-system protocol (repro.systems.protocol): hard bits, real BSC ------------------------------
    @torch.no_grad()
    def encode(self, x: torch.Tensor, *, generator: torch.Generator | None) -> torch.Tensor:
        """``(N, n_bits)`` hard bits, each 1 with probability ``sigmoid(log alpha(x))`` (one uniform draw per bit)."""
        probs = torch.sigmoid(self.encoder(x))
        return (draw(torch.rand, probs.shape, generator=generator, device=x.device) < probs).float()

    @torch.no_grad()
    def send(self, bits: torch.Tensor, *, generator: torch.Generator | None, eps: float | None = None) -> torch.Tensor:
        """The real BSC at ``eps`` (default: the relaxed channel's flip probability)."""
        return self.hard_channel(bits, generator=generator, eps=eps)

    @torch.no_grad()
    def decode(self, received: torch.Tensor, *, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.decoder(2 * received - 1)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, *, generator: torch.Generator | None,
                    eps: float | None = None) -> torch.Tensor:
        return self.decode(self.send(self.encode(x, generator=generator), generator=generator, eps=eps))
