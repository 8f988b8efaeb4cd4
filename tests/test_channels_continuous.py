"""AWGN power and noise statistics, capacity, band masking and prior substitution, the relaxed binary channel."""

import math

import pytest
import torch

from repro.channels.gaussian import AWGNChannel, BandwidthLimitedChannel, awgn_capacity, db_to_linear, normalize_power
from repro.channels.priors import BandAutoregressivePrior, StandardGaussianPrior, make_prior
from repro.channels.relaxed import RelaxedBinarySymmetricChannel, concrete_logit_log_density, concrete_logit_sample
from repro.core.checks import ConfigError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


# ---- AWGN ----------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("snr_db", [-10.0, 0.0, 10.0])
def test_awgn_power_noise_and_measured_snr(snr_db):
    channel = AWGNChannel.from_db(snr_db)
    y = 3.0 * torch.randn(4000, 100, generator=gen(1)) + 0.5  # arbitrary scale and offset
    sent = channel.transmit(y)
    assert torch.allclose(sent.pow(2).mean(1), torch.ones(4000), atol=1e-5)  # power 1 for every code
    z = channel(y, generator=gen(2))
    noise = z - sent
    assert noise.mean().abs() < 0.01 * channel.noise_std() + 1e-3
    assert noise.var().item() == pytest.approx(1 / channel.snr, rel=0.02)
    measured_snr = sent.pow(2).mean() / noise.pow(2).mean()
    assert measured_snr.item() == pytest.approx(10 ** (snr_db / 10), rel=0.02)
    assert 10 * math.log10(measured_snr.item()) == pytest.approx(snr_db, abs=0.1)


@pytest.mark.parametrize("snr", [0.1, 1.0, 10.0])
def test_awgn_capacity_matches_the_information_gaussian_inputs_carry(snr):
    channel = AWGNChannel(snr)
    assert channel.capacity() == pytest.approx(0.5 * math.log2(1 + snr))
    # Gaussian inputs achieve capacity; for jointly Gaussian (x, z), I = -1/2 log2(1 - rho^2)
    y = torch.randn(20000, 100, generator=gen(3), dtype=torch.float64)
    sent = channel.transmit(y)
    z = sent + channel.noise(sent.shape, gen(4)).double()
    x, r = sent.flatten(), z.flatten()
    rho = torch.corrcoef(torch.stack([x, r]))[0, 1].item()
    assert -0.5 * math.log2(1 - rho**2) == pytest.approx(channel.capacity(), rel=0.02)


def test_awgn_is_seeded_and_checks_its_settings():
    channel = AWGNChannel(2.0)
    y = torch.randn(8, 10, generator=gen(0))
    assert torch.equal(channel(y, generator=gen(5)), channel(y, generator=gen(5)))
    assert not torch.equal(channel(y, generator=gen(5)), channel(y, generator=gen(6)))
    with pytest.raises(ConfigError, match="SNR in dB=55"):
        db_to_linear(55)
    with pytest.raises(ConfigError, match="linear SNR"):
        AWGNChannel(0.0)
    with pytest.raises(ValueError, match=r"\(N, k\)"):
        normalize_power(torch.ones(3))
    assert awgn_capacity(1.0) == pytest.approx(0.5)


# ---- bandwidth-limited channel ---------------------------------------------------------------------------------

class RecordingPrior:
    """Fills band t with the constant 10 + t and records the context it was given."""

    def __init__(self):
        self.contexts = {}

    def sample_band(self, t, context, generator=None):
        self.contexts[t] = context.clone()
        return torch.full((context.shape[0], 4), 10.0 + t)


def test_band_masking_keeps_the_first_B_bands_and_substitutes_the_rest():
    channel = BandwidthLimitedChannel(snr=1.0, n_bands=5)
    y = torch.randn(3, 20, generator=gen(0))
    received = channel.awgn(y, generator=gen(1))
    prior = RecordingPrior()
    z, bw = channel.fill(received, prior=prior, bandwidth=2)
    assert bw.tolist() == [2, 2, 2]
    assert torch.equal(z[:, :8], received[:, :8])
    for t in (2, 3, 4):
        assert torch.equal(z[:, 4 * t:4 * t + 4], torch.full((3, 4), 10.0 + t))
    # band t is drawn given what the receiver holds: the received bands, then the earlier substitutes
    assert sorted(prior.contexts) == [2, 3, 4]
    assert prior.contexts[2].shape == (3, 8) and torch.equal(prior.contexts[2], received[:, :8])
    assert torch.equal(prior.contexts[4][:, 8:12], torch.full((3, 4), 12.0))
    # forward = AWGN + fill with the same generator stream
    z2, _ = channel(y, prior=RecordingPrior(), bandwidth=2, generator=gen(1))
    assert torch.equal(z2, z)
    mask = channel.band_mask(torch.tensor([1, 5]), 20)
    assert mask.sum(1).tolist() == [4, 20]


def test_per_row_bandwidths_and_uniform_draws():
    channel = BandwidthLimitedChannel(snr=10.0, n_bands=5)
    y = torch.randn(5, 20, generator=gen(0))
    received = channel.awgn(y, generator=gen(1))
    z, bw = channel.fill(received, prior=RecordingPrior(), bandwidth=torch.tensor([1, 2, 3, 4, 5]))
    for row, b in enumerate(bw.tolist()):
        assert torch.equal(z[row, :4 * b], received[row, :4 * b])
        assert bool((z[row, 4 * b:] >= 10).all())
    draws = channel.draw_bandwidth(50_000, gen(2))
    counts = torch.bincount(draws, minlength=6)[1:].float() / 50_000
    assert counts.min() > 0.19 and counts.max() < 0.21
    assert channel.capacity(2, 100) == pytest.approx(2 / 5 * 100 * 0.5 * math.log2(11))


@pytest.mark.parametrize("bad", [0, 6, 2.5])
def test_bandwidth_out_of_range_is_a_clear_error(bad):
    channel = BandwidthLimitedChannel(snr=1.0, n_bands=5)
    y = torch.randn(2, 20)
    with pytest.raises(ConfigError, match=r"bandwidth B .*1\.\.5"):
        channel(y, prior=StandardGaussianPrior(4, 5), bandwidth=bad)
    with pytest.raises(ConfigError, match="1..5"):
        channel(y, prior=StandardGaussianPrior(4, 5), bandwidth=torch.tensor([1, 7]))
    with pytest.raises(ConfigError, match="not divisible"):
        channel(torch.randn(2, 21), prior=StandardGaussianPrior(4, 5), bandwidth=1)


def test_gaussian_prior_substitutes_standard_normal_noise():
    channel = BandwidthLimitedChannel(snr=1.0, n_bands=5)
    y = torch.randn(20_000, 20, generator=gen(0))
    z, _ = channel(y, prior=StandardGaussianPrior(4, 5), bandwidth=1, generator=gen(1))
    tail = z[:, 4:]
    assert tail.mean().abs() < 0.02 and tail.var().item() == pytest.approx(1.0, rel=0.03)
    assert z[:, :4].var().item() == pytest.approx(2.0, rel=0.03)  # power 1 signal + noise of variance 1


def test_learned_prior_density_and_that_it_learns_later_bands_from_earlier_ones():
    torch.manual_seed(0)
    prior = BandAutoregressivePrior(band_size=3, n_bands=3, hidden=32, n_components=1)
    context = torch.randn(5, 3, generator=gen(1))
    target = torch.randn(5, 3, generator=gen(2))
    _, mean, log_scale = prior.mixture(1, context)
    expected = torch.distributions.Normal(mean[:, 0], log_scale[:, 0].exp()).log_prob(target).sum(1)
    assert torch.allclose(prior.log_prob_band(1, target, context), expected, atol=1e-5)
    assert prior.sample_band(2, torch.randn(5, 6), gen(3)).shape == (5, 3)
    with pytest.raises(ValueError, match=r"context \(N, 6\)"):
        prior.sample_band(2, torch.randn(5, 3))
    # data whose band 1 copies band 0 and band 2 is its negative: the fitted prior predicts them
    mix = BandAutoregressivePrior(band_size=3, n_bands=3, hidden=32, n_components=2)
    opt = torch.optim.Adam(mix.parameters(), lr=1e-2)
    for step in range(150):
        b0 = torch.randn(128, 3, generator=gen(100 + step))
        y = torch.cat([b0, b0, -b0], 1) + 0.05 * torch.randn(128, 9, generator=gen(1000 + step))
        loss = mix.nll(y, y).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    b0 = torch.randn(500, 3, generator=gen(7))
    channel = BandwidthLimitedChannel(snr=1e4, n_bands=3)
    z, _ = channel(torch.cat([b0, b0, -b0], 1), prior=mix, bandwidth=1, generator=gen(8))
    sent = channel.awgn.transmit(torch.cat([b0, b0, -b0], 1))
    assert (z[:, 3:6] - sent[:, :3]).pow(2).mean() < 0.1
    assert (z[:, 6:] + sent[:, :3]).pow(2).mean() < 0.1
    with pytest.raises(ConfigError, match="unknown prior 'convdraw'"):
        make_prior("convdraw", 3, 3)


# ---- relaxed binary channel ------------------------------------------------------------------------------------

@pytest.mark.parametrize("log_alpha,temperature", [(0.0, 0.5), (1.5, 1.0), (-2.0, 0.3)])
def test_binary_concrete_density_and_probability(log_alpha, temperature):
    y = torch.linspace(-200, 200, 400_001, dtype=torch.float64)
    dens = concrete_logit_log_density(y, torch.tensor(log_alpha, dtype=torch.float64), temperature).exp()
    assert torch.trapezoid(dens, y).item() == pytest.approx(1.0, abs=1e-4)
    samples = concrete_logit_sample(torch.full((200_000,), log_alpha), temperature, gen(0))
    alpha = math.exp(log_alpha)
    assert (torch.sigmoid(samples) > 0.5).float().mean().item() == pytest.approx(alpha / (1 + alpha), abs=0.005)


def test_relaxed_bsc_flips_with_probability_eps_at_low_temperature():
    channel = RelaxedBinarySymmetricChannel(eps=0.1, temperature=0.05)
    bits = (torch.rand(200, 500, generator=gen(0)) < 0.5).float()
    z = channel(bits, generator=gen(1))
    assert bool(((z >= 0) & (z <= 1)).all())
    flips = ((z > 0.5).float() != bits).float().mean().item()
    assert flips == pytest.approx(0.1, abs=0.005)
    soft = RelaxedBinarySymmetricChannel(eps=0.1, temperature=1.0)(torch.full((4, 4), 0.7, requires_grad=True))
    soft.sum().backward()  # differentiable
    with pytest.raises(ConfigError, match="eps"):
        RelaxedBinarySymmetricChannel(eps=0.7)
