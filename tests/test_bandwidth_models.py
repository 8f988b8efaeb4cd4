"""Notebook 04's models: ELBO terms against a hand computation, shapes, ALV sampling, the pipeline's data and
cached, seeded training."""

import math

import pytest
import torch

from repro.channels.gaussian import AWGNChannel, BandwidthLimitedChannel
from repro.channels.priors import StandardGaussianPrior
from repro.channels.relaxed import concrete_logit_log_density
from repro.core.cache import CheckpointCache
from repro.core.checks import ConfigError
from repro.models.jscc import (
    BinaryJointSystem,
    ChannelAutoencoder,
    JointSystem,
    SourceVAE,
    gaussian_nll,
    kl_gaussians,
    kl_to_standard_normal,
)
from repro.models.resnet_coder import ResidualDecoder, ResidualEncoder
from repro.systems import bandwidth as bp
from repro.systems.protocol import distortions

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_elbo_terms_match_a_hand_computation():
    # distortion: x = (0.2, 0.5), x_hat = (0.1, 0.9), obs_std = 0.5
    #   SSE = 0.01 + 0.16 = 0.17;  0.5 * 0.17 / 0.25 = 0.34;  2 * (log 0.5 + 0.5 log 2 pi) = 0.4515827
    nll = gaussian_nll(torch.tensor([[0.2, 0.5]]), torch.tensor([[0.1, 0.9]]), 0.5)
    assert nll.item() == pytest.approx(0.34 + 0.4515827, abs=1e-6)
    # rate: mu = (0.5, -1), sigma = (1, 0.5): 1/2 [(0.25 + 1 - 1 - 0) + (1 + 0.25 - 1 + 2 log 2)] = 0.9431472
    kl = kl_to_standard_normal(torch.tensor([[0.5, -1.0]]), torch.tensor([[0.0, math.log(0.5)]]))
    assert kl.item() == pytest.approx(0.9431472, abs=1e-6)
    # the same KL by the library's formula
    q = torch.distributions.Normal(torch.tensor([0.5, -1.0]), torch.tensor([1.0, 0.5]))
    ref = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum()
    assert kl.item() == pytest.approx(ref.item(), abs=1e-6)
    # ALV term with a conditional prior: KL(N(1, 0.5^2) || N(0.5, 2^2)) = log 4 + (0.25 + 0.25) / 8 - 1/2
    kl_v = kl_gaussians(torch.tensor([[1.0]]), torch.tensor([[math.log(0.5)]]), torch.tensor([[0.5]]),
                        torch.tensor([[math.log(2.0)]]))
    assert kl_v.item() == pytest.approx(math.log(4) + 0.0625 - 0.5, abs=1e-6)
    # Binary Concrete rate at y = 0, log alpha = log 3, T = 1: log g = log 3 - 2 log 4
    g = concrete_logit_log_density(torch.tensor(0.0), torch.tensor(math.log(3.0)), 1.0)
    assert g.item() == pytest.approx(math.log(3) - 2 * math.log(4), abs=1e-6)


def test_losses_combine_the_terms_with_beta():
    torch.manual_seed(0)
    x = torch.rand(4, 1, 32, 32)
    vae = SourceVAE(1, 10, 4, beta=3.0, obs_std=0.2)
    torch.manual_seed(1)
    loss, metrics = vae.loss(x)
    torch.manual_seed(1)
    t = vae.terms(x)
    assert loss.item() == pytest.approx((t["distortion"] + 3.0 * t["rate"]).mean().item(), rel=1e-5)
    assert metrics["l2"] == pytest.approx(t["l2"].mean().item(), rel=1e-5)
    joint = JointSystem(1, 10, 4, BandwidthLimitedChannel(1.0, 5), 0.5, 0.2,
                        bp.make_prior("learned", 2, 5, hidden=8, n_components=2), alv_dim=3)
    torch.manual_seed(2)
    loss, metrics = joint.loss(x)
    torch.manual_seed(2)
    t = joint.terms(x)
    expected = (t["distortion"] + 0.5 * t["rate"] + t["kl_v"]).mean() + t["prior_nll"].mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert set(metrics) == {"distortion", "rate", "kl_v", "l2", "prior_nll"}


def test_enumerating_the_bandwidth_averages_the_fixed_bandwidth_terms():
    torch.manual_seed(0)
    x = torch.rand(3, 1, 32, 32)
    joint = JointSystem(1, 10, 4, BandwidthLimitedChannel(1.0, 5), 1.0, 0.2, StandardGaussianPrior(2, 5))
    torch.manual_seed(5)
    enumerated = joint.terms(x, "all")
    # the same code sample and noise, then each bandwidth in turn (the prior's draws follow in the same order)
    torch.manual_seed(5)
    mu, log_sigma = joint.encoder(x)
    y = mu + log_sigma.exp() * torch.randn(mu.shape)
    received = joint.channel.awgn(y)
    per_b = [joint.decode_latents(joint.channel.fill(received, prior=joint.prior, bandwidth=b)[0]) for b in range(1, 6)]
    expected = torch.stack([gaussian_nll(x, xh, 0.2) for xh in per_b]).mean(0)
    assert torch.allclose(enumerated["distortion"], expected, rtol=1e-5)
    with pytest.raises(ValueError, match="'all'"):
        joint.terms(x, "every")


def test_shapes_and_errors_of_the_coders():
    enc = ResidualEncoder(3, 20, width=4)
    assert enc(torch.rand(2, 3, 32, 32)).shape == (2, 20)
    with pytest.raises(ValueError, match=r"\(N, 3, 32, 32\)"):
        enc(torch.rand(2, 1, 28, 28))
    dec = ResidualDecoder(7, 1, width=4)
    out = dec(torch.randn(2, 7))
    assert out.shape == (2, 1, 32, 32) and bool(((out > 0) & (out < 1)).all())
    with pytest.raises(ValueError, match=r"\(N, 7\)"):
        dec(torch.randn(2, 8))
    cae = ChannelAutoencoder(10, snr=1.0, hidden=16)
    assert cae(torch.randn(3, 10)).shape == (3, 10)
    with pytest.raises(ValueError, match="needs a code prior"):
        JointSystem(1, 10, 4, BandwidthLimitedChannel(1.0, 5), 1.0, 0.1)
    with pytest.raises(ConfigError, match="not divisible"):
        JointSystem(1, 12, 4, BandwidthLimitedChannel(1.0, 5), 1.0, 0.1, StandardGaussianPrior(2, 5))
    binary = BinaryJointSystem(1, 16, 4, eps=0.1, temperature=0.5, beta=1.0, obs_std=0.1)
    x = torch.rand(2, 1, 32, 32)
    assert binary.reconstruct(x, generator=torch.Generator().manual_seed(0)).shape == (2, 1, 32, 32)


def test_reconstruction_is_seeded_and_alv_samples_vary():
    torch.manual_seed(0)
    x = torch.rand(3, 1, 32, 32)
    joint = JointSystem(1, 10, 4, BandwidthLimitedChannel(1.0, 5), 1.0, 0.1, StandardGaussianPrior(2, 5), alv_dim=4)
    with torch.no_grad():  # make the decoder depend visibly on v
        joint.decoder.fc.weight[:, 10:] += 1.0
    a = joint.reconstruct(x, generator=torch.Generator().manual_seed(1), bandwidth=2)
    b = joint.reconstruct(x, generator=torch.Generator().manual_seed(1), bandwidth=2)
    c = joint.reconstruct(x, generator=torch.Generator().manual_seed(2), bandwidth=2)
    assert torch.equal(a, b) and not torch.equal(a, c)
    standard = JointSystem(1, 10, 4, AWGNChannel(1.0), 1.0, 0.1, alv_dim=4, alv_prior="standard")
    assert standard.alv_prior_net is None and "kl_v" in standard.terms(x)
    with pytest.raises(ConfigError, match="unknown alv_prior 'flat'"):
        JointSystem(1, 10, 4, AWGNChannel(1.0), 1.0, 0.1, alv_dim=4, alv_prior="flat")
    plain = JointSystem(1, 10, 4, AWGNChannel(10.0), 1.0, 0.1)
    d = distortions(plain, x, seed=3, device=torch.device("cpu"))
    assert d.shape == (3,) and torch.equal(d, distortions(plain, x, seed=3, device=torch.device("cpu")))


def test_load_images_pads_mnist_and_names_bad_datasets():
    mnist = bp.load_images("mnist", "test", n=5)
    assert mnist.x.shape == (5, 1, 32, 32)
    assert mnist.x[:, :, :2].abs().sum() == 0 and mnist.x[:, :, :, -2:].abs().sum() == 0
    assert bp.load_images("cifar10", "test", n=3).x.shape == (3, 3, 32, 32)
    with pytest.raises(ConfigError, match="unknown dataset for notebook 04 'omniglot'.*'celeba32'"):
        bp.load_images("omniglot", "train")
    with pytest.raises(ConfigError, match="SNR in dB"):
        bp.check_snrs([0, 100])
    with pytest.raises(ConfigError, match="unknown prior"):
        bp.build_joint(bp.Arch(1, 10, 4), snr_db=0.0, beta=1.0, bandwidth_limited=True, prior="flat")


def test_training_is_cached_and_seeded(tmp_path):
    train = bp.load_images("celeba32", "train", n=16)
    arch = bp.Arch(3, 10, 4, 0.1)
    cache = CheckpointCache(tmp_path)
    kwargs = dict(snr_db=0.0, beta=1.0, epochs=1, batch_size=8, lr=1e-3, seed=0, device=torch.device("cpu"),
                  cache=cache, bandwidth_limited=True, prior="learned", prior_hidden=8, prior_components=2)
    model, history = bp.train_joint(train, arch, **kwargs)
    assert len(history) == 1 and "prior_nll" in history[0]
    again, _ = bp.train_joint(train, arch, **kwargs)  # from the cache
    fresh, _ = bp.train_joint(train, arch, **{**kwargs, "cache": CheckpointCache(tmp_path / "other")})
    for a, b, c in zip(model.state_dict().values(), again.state_dict().values(), fresh.state_dict().values()):
        assert torch.equal(a, b) and torch.equal(a, c)
    assert len(list(tmp_path.glob("nb04-bandwidth-celeba32-*.pt"))) == 1


def test_alv_skip_decoder_explains_x_from_z_first_and_the_kl_weight_scales_kl_v():
    torch.manual_seed(0)
    x = torch.rand(4, 1, 32, 32)
    ch = BandwidthLimitedChannel(1.0, 5)
    skip = JointSystem(1, 10, 4, ch, 1.0, 0.1, StandardGaussianPrior(2, 5), alv_dim=3, alv_skip=True,
                       alv_kl_weight=10.0)
    z, v = torch.randn(4, 10), torch.randn(4, 3)
    out = skip.decode_latents(z, v)
    assert torch.allclose(out, skip.decode_base(z) + 2 * skip.residual_decoder(torch.cat([z, v], 1)) - 1)
    torch.manual_seed(1)
    t = skip.terms(x, bandwidth=5)
    torch.manual_seed(1)
    loss, metrics = skip.loss(x, bandwidth=5)
    expected = (t["distortion"] + t["distortion_base"] + t["rate"] + 10.0 * t["kl_v"]).mean()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert {"distortion_base", "l2_base", "kl_v"} <= set(metrics)
    with pytest.raises(ValueError, match="only apply to an ALV decoder"):
        JointSystem(1, 10, 4, ch, 1.0, 0.1, StandardGaussianPrior(2, 5), alv_skip=True)
    with pytest.raises(ValueError, match="alv_kl_weight"):
        JointSystem(1, 10, 4, ch, 1.0, 0.1, StandardGaussianPrior(2, 5), alv_dim=3, alv_kl_weight=-1.0)
    plain = JointSystem(1, 10, 4, ch, 1.0, 0.1, StandardGaussianPrior(2, 5), alv_dim=3)
    with pytest.raises(ValueError, match="decode_base needs"):
        plain.decode_base(z)


def test_the_same_coder_scored_with_another_fill_prior_and_per_band_rates():
    torch.manual_seed(0)
    x = torch.rand(6, 1, 32, 32)
    arch = bp.Arch(1, 10, 4, 0.1)
    model = bp.build_joint(arch, snr_db=0.0, beta=1.0, bandwidth_limited=True, prior="learned", prior_hidden=8,
                           prior_components=2).eval()
    gauss = StandardGaussianPrior(2, 5)
    g = lambda: torch.Generator().manual_seed(4)  # noqa: E731
    # full bandwidth: nothing is filled, so the fill prior cannot matter
    assert torch.equal(model.reconstruct(x, generator=g(), bandwidth=5, fill_prior=gauss),
                       model.reconstruct(x, generator=g(), bandwidth=5))
    assert not torch.equal(model.reconstruct(x, generator=g(), bandwidth=1, fill_prior=gauss),
                           model.reconstruct(x, generator=g(), bandwidth=1))
    with pytest.raises(ValueError, match="only apply over the bandwidth-limited channel"):
        JointSystem(1, 10, 4, AWGNChannel(1.0), 1.0, 0.1).reconstruct(x, generator=g(), fill_prior=gauss)
    rates = model.band_rates(x)
    mu, log_sigma = model.encoder(x)
    assert rates.shape == (5,)
    assert rates.sum().item() == pytest.approx(kl_to_standard_normal(mu, log_sigma).mean().item(), rel=1e-5)


def test_alv_variants_have_their_own_cache_keys_and_the_plain_one_keeps_the_old_key(tmp_path):
    train = bp.load_images("celeba32", "train", n=8)
    arch = bp.Arch(3, 10, 4, 0.1)
    cache = CheckpointCache(tmp_path)
    kwargs = dict(snr_db=0.0, beta=1.0, epochs=1, batch_size=8, lr=1e-3, seed=0, device=torch.device("cpu"),
                  cache=cache, bandwidth_limited=True, prior="gaussian", alv_dim=2)
    bp.train_joint(train, arch, **kwargs)
    bp.train_joint(train, arch, **kwargs, alv_skip=False, alv_kl_weight=1.0)  # the same model: no new file
    assert len(list(tmp_path.glob("nb04-bandwidth-*.pt"))) == 1
    _, hist = bp.train_joint(train, arch, **kwargs, alv_skip=True, alv_kl_weight=10.0)
    assert len(list(tmp_path.glob("nb04-bandwidth-*.pt"))) == 2 and "l2_base" in hist[0]


def test_a_checkpoint_without_the_validation_record_is_not_reused_when_validation_is_asked(tmp_path):
    """The validation curve is part of a model's history: a model trained without it is trained again (same
    weights, the seed decides them) when validation is asked, instead of coming back without its curve."""
    train = bp.load_images("celeba32", "train", n=16)
    val = bp.load_images("celeba32", "val", n=8)
    arch = bp.Arch(3, 10, 4, 0.1)
    cache = CheckpointCache(tmp_path)
    kwargs = dict(snr_db=0.0, beta=1.0, epochs=1, batch_size=8, lr=1e-3, seed=0, device=torch.device("cpu"),
                  cache=cache, bandwidth_limited=True, prior="gaussian")
    plain, hist = bp.train_joint(train, arch, **kwargs)
    assert "val_l2_per_image" not in hist[-1]
    validated, vhist = bp.train_joint(train, arch, **kwargs, val=val)
    assert {"val_l2_per_image", "val_l2_b1"} <= set(vhist[-1])
    assert len(list(tmp_path.glob("nb04-bandwidth-*.pt"))) == 2
    for a, b in zip(plain.state_dict().values(), validated.state_dict().values()):
        assert torch.equal(a, b)
