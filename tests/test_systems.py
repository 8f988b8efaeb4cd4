"""The communication-system protocol (repro.systems.protocol): every system class satisfies it, reconstruct is its three
halves in a row, seeded and stochastic where it should be; channels take their level at call time; and the new
APIs give the numbers the old ones gave: tests/data/system_outputs.pt was recorded by
tests/data/record_system_outputs.py at commit c1d410b with the APIs before the one-protocol change (the script
calls those old APIs, so it was removed with them; ``git show c1d410b:tests/data/record_system_outputs.py``).
Each system below is built exactly as that script built it."""

import inspect
from pathlib import Path

import numpy as np
import pytest
import torch

from repro.channels.discrete import BinaryErasureChannel, BinarySymmetricChannel, flip_bytes
from repro.channels.gaussian import AWGNChannel, BandwidthLimitedChannel
from repro.channels.priors import StandardGaussianPrior, make_prior
from repro.channels.relaxed import RelaxedBinarySymmetricChannel
from repro.core.checks import ConfigError
from repro.experiments import bandwidth as bw
from repro.metrics.image import l2_per_image
from repro.models.jscc import BinaryJointSystem, ChannelAutoencoder, JointSystem, SeparateSystem, SourceVAE
from repro.systems import bandwidth as bp
from repro.systems import necst
from repro.systems.protocol import CommunicationSystem, distortions, reconstruct_all

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REFERENCE = Path(__file__).parent / "data" / "system_outputs.pt"
# Floats are compared with tolerances, integers and booleans exactly. The recordings are float32 network outputs from
# one CPU; another instruction set (AVX2 vs AVX-512, or ATEN_CPU_CAPABILITY=default) sums in another order and
# rounds differently in the last bits: a sum of ~1,000 float32 terms (a per-image squared error, an ELBO term) can
# move by a few 1e-6 relative, e.g. 198.43562 vs 198.43560. RTOL = 1e-4 leaves room for that. A real change (another
# random draw, another noise level, another layer or loss term) moves these outputs by 1e-2 relative or more, so it
# still fails; ATOL = 1e-5 covers values near zero, where a relative bound means nothing.
RTOL = 1e-4
ATOL = 1e-5


def g(seed):
    return torch.Generator().manual_seed(seed)


def same(new, old):
    new = torch.as_tensor(new)
    if old.dtype in (torch.bool, torch.int64, torch.uint8) or not old.is_floating_point():
        return torch.equal(new.to(old.dtype), old)
    if new.shape != old.shape:
        return False
    try:
        torch.testing.assert_close(new.to(old.dtype), old, rtol=RTOL, atol=ATOL)
    except AssertionError as err:  # say by how much, then fail in the caller's assert
        print(err)
        return False
    return True


# ---- small random systems, built exactly as the recording script built them ------------------------------------

def necst_model():
    torch.manual_seed(11)
    return necst.build_model("binary_mnist", eps=0.1, bits=30)


def binary_images():
    return torch.rand(6, 1, 28, 28, generator=g(12)).round()


def ldpc_system():
    torch.manual_seed(25)
    vae = necst.build_model("binary_mnist", eps=0.0, bits=50, prior="uniform")
    return necst.VAEWithLDPC(vae, code_seed=0, max_iter=20)


def images32():
    torch.manual_seed(28)
    return torch.rand(4, 1, 32, 32, generator=g(29))


def joint_awgn():
    images32()
    return JointSystem(1, 10, 4, AWGNChannel(2.0), 1.0, 0.1)


def joint_gaussian_bl():
    torch.manual_seed(31)
    return JointSystem(1, 10, 4, BandwidthLimitedChannel(1.0, 5), 1.0, 0.1, StandardGaussianPrior(2, 5))


def joint_alv():
    torch.manual_seed(34)
    return JointSystem(1, 10, 4, BandwidthLimitedChannel(1.0, 5), 1.0, 0.1,
                       make_prior("learned", 2, 5, hidden=8, n_components=2), alv_dim=3, alv_skip=True,
                       alv_kl_weight=10.0)


def separate():
    torch.manual_seed(39)
    return SourceVAE(1, 10, 4, beta=1.0, obs_std=0.1), ChannelAutoencoder(10, snr=1.0, hidden=16)


def binary_joint():
    torch.manual_seed(44)
    return BinaryJointSystem(1, 16, 4, eps=0.1, temperature=0.5, beta=1.0, obs_std=0.1)


@pytest.fixture(scope="module")
def ref():
    return torch.load(REFERENCE)


# ---- the new APIs give the old numbers ---------------------------------------------------------------------------

def test_channels_at_call_time_give_the_recorded_outputs(ref):
    bits = torch.randint(0, 2, (6, 40), generator=g(0)).float()
    bsc = BinarySymmetricChannel()  # one channel object for every level
    assert same(bsc(bits, generator=g(1), eps=0.2), ref["bsc_0.2"])
    assert same(bsc(bits, generator=g(1), eps=0.0), ref["bsc_0.0"])
    assert same(bsc(bits.bool(), generator=g(2), eps=0.3), ref["bsc_bool"])
    assert same(BinaryErasureChannel()(bits, generator=g(3), eps=0.3), ref["bec_0.3"])
    assert same(torch.tensor(list(flip_bytes(bytes(range(64)), 0.1, g(4)))), ref["flip_bytes"])
    y = 3 * torch.randn(5, 10, generator=g(5))
    assert same(AWGNChannel(100.0)(y, generator=g(6), snr=2.0), ref["awgn"])
    blc = BandwidthLimitedChannel(7.0, 5)
    z, b = blc(y, prior=StandardGaussianPrior(2, 5), generator=g(7), snr=0.5)
    assert same(z, ref["blc_z"]) and same(b, ref["blc_bw"])
    z, _ = blc(y, prior=StandardGaussianPrior(2, 5), bandwidth=2, generator=g(8), snr=0.5)
    assert same(z, ref["blc_z_b2"])
    relaxed = RelaxedBinarySymmetricChannel(0.3, 0.5)
    assert same(relaxed(torch.rand(4, 8, generator=g(9)), generator=g(10), eps=0.1), ref["relaxed_bsc"])
    check = bw.channel_check(snrs_db=(-5.0, 5.0), n=500, k=20)
    assert same(torch.tensor(check.to_numpy(dtype=float)), ref["channel_check"])


def test_necst_reconstruct_and_its_evaluators_give_the_recorded_outputs(ref):
    model, xb = necst_model(), binary_images()
    assert same(model.reconstruct(xb, generator=g(13)), ref["necst_transmit_default"])
    assert same(model.reconstruct(xb, generator=g(13), eps=0.3), ref["necst_transmit_eps0.3"])
    assert same(model.reconstruct(xb, generator=g(13), eps=0.0), ref["necst_transmit_eps0"])
    assert same(model.reconstruct(xb, generator=g(13), eps=0.2, mode="threshold"), ref["necst_transmit_threshold"])
    assert same(reconstruct_all(model, xb, seed=14, batch=4, eps=0.2), ref["necst_reconstruct_batched"])
    d = necst.distortion(model, xb, 0.2, seed=15)
    recorded = ("l2_per_image", "l2_per_pixel", "l2_per_pixel_binarized")  # the recording's keys, in its order
    assert same(torch.tensor([d[k] for k in recorded], dtype=torch.float64), ref["necst_distortion"])
    # bce_per_pixel (added later): the Bernoulli cross-entropy of the same reconstruction, recomputed by hand
    x_hat = reconstruct_all(model, xb, seed=15, batch=necst.EVAL_BATCH, eps=0.2).double().clamp(1e-7, 1 - 1e-7)
    by_hand = -(xb * x_hat.log() + (1 - xb) * (1 - x_hat).log()).mean()
    assert d["bce_per_pixel"] == pytest.approx(float(by_hand), rel=1e-9)
    assert same(torch.from_numpy(necst.distortion_per_image(model, xb, 0.2, seed=16)),
                ref["necst_distortion_per_image"])
    assert same(necst.markov_chain(model, xb[:3], 3, 0.2, seed=2), ref["necst_chain"])
    torch.manual_seed(17)
    _, logs = model.loss(xb)
    assert same(torch.tensor([logs["bound"], logs["l2_per_image"]], dtype=torch.float64), ref["necst_loss_logs"])
    torch.manual_seed(18)
    bec = necst.build_model("mnist", eps=0.3, channel="bec", bits=20)
    xm = torch.rand(7, 1, 28, 28, generator=g(19))
    assert same(bec.reconstruct(xm, generator=g(20)), ref["necst_bec_transmit"])
    torch.manual_seed(21)
    conv = necst.build_model("cifar10", eps=0.1, bits=24)
    xc = torch.rand(3, 3, 32, 32, generator=g(22))
    assert same(conv.reconstruct(xc, generator=g(23)), ref["necst_conv_transmit"])
    torch.manual_seed(24)
    _, logs = conv.loss(xc)
    assert same(torch.tensor([logs["bound"], logs["l2_per_image"]], dtype=torch.float64), ref["necst_conv_loss_logs"])


def test_vae_with_ldpc_gives_the_recorded_outputs_and_diagnostics(ref):
    baseline, xb = ldpc_system(), binary_images()
    res = baseline.reconstruct_with_info(xb, generator=g(26), eps=0.08)
    assert same(res.x_hat, ref["ldpc_x_hat"])
    assert same(torch.from_numpy(np.asarray(res.converged, dtype=bool)), ref["ldpc_converged"])
    assert res.bit_errors == pytest.approx(float(ref["ldpc_bit_errors"]), abs=1e-12)
    assert same(baseline.reconstruct(xb, generator=g(26), eps=0.08), ref["ldpc_x_hat"])
    assert same(baseline.reconstruct(xb, generator=g(27), eps=0.2, mode="threshold"), ref["ldpc_threshold_x_hat"])


def test_notebook_04_systems_give_the_recorded_outputs(ref):
    x = images32()
    plain = JointSystem(1, 10, 4, AWGNChannel(2.0), 1.0, 0.1)
    assert same(plain.reconstruct(x, generator=g(30)), ref["joint_awgn"])
    gauss = joint_gaussian_bl()
    assert same(gauss.reconstruct(x, generator=g(32), bandwidth=2), ref["joint_bl_b2"])
    assert same(gauss.reconstruct(x, generator=g(33)), ref["joint_bl_bnone"])
    alv = joint_alv()
    assert same(alv.reconstruct(x, generator=g(35), bandwidth=3), ref["joint_alv_b3"])
    assert same(alv.reconstruct(x, generator=g(36), bandwidth=1, fill_prior=StandardGaussianPrior(2, 5)),
                ref["joint_alv_b1_gaussfill"])
    torch.manual_seed(37)
    terms = alv.terms(x)
    assert same(torch.stack([terms[k] for k in sorted(terms)]), ref["joint_alv_terms"])
    torch.manual_seed(38)
    terms = gauss.terms(x, "all")
    assert same(torch.stack([terms[k] for k in sorted(terms)]), ref["joint_bl_terms_all"])
    vae_src, cae = separate()
    assert same(SeparateSystem(vae_src, cae).reconstruct(x, generator=g(40)), ref["separate"])
    torch.manual_seed(41)
    terms = vae_src.terms(x)
    assert same(torch.stack([terms[k] for k in sorted(terms)]), ref["source_vae_terms"])
    torch.manual_seed(42)
    assert same(cae.loss(torch.randn(5, 10, generator=g(43)))[0].detach(), ref["cae_loss"])
    binary = binary_joint()
    assert same(binary.reconstruct(x, generator=g(45)), ref["binary_hard"])
    torch.manual_seed(46)
    terms = binary.terms(x)
    assert same(torch.stack([terms[k] for k in sorted(terms)]), ref["binary_terms"])
    assert same(reconstruct_all(alv, x, seed=47, batch=3, bandwidth=2), ref["bp_reconstruct_all"])
    assert same(distortions(SeparateSystem(vae_src, cae), x, seed=48, batch=3), ref["bp_distortions_separate"])
    assert float(distortions(binary, x, seed=49, batch=3).mean()) == pytest.approx(
        float(ref["bp_mean_distortion_binary"]), abs=1e-4)
    fit = bp.prior_fit(alv, x, seed=50, device=torch.device("cpu"), batch=3)
    assert same(torch.tensor(list(fit.values()), dtype=torch.float64), ref["bp_prior_fit"])
    assert bw.mean_image_l2(x[:2], x[2:]) == pytest.approx(float(ref["mean_image_l2"]), abs=1e-4)


# ---- the protocol --------------------------------------------------------------------------------------------------

def systems():
    """One instance of every system class, with its level keywords and whether its reconstruction is random."""
    torch.manual_seed(0)
    vae_src, cae = separate()
    return [
        ("NECST", necst_model(), {"eps": 0.2}, binary_images()),
        ("NECST-threshold-noiseless", necst_model(), {"eps": 0.0, "mode": "threshold"}, binary_images()),
        ("VAEWithLDPC", ldpc_system(), {"eps": 0.1}, binary_images()),
        ("JointSystem-awgn", joint_awgn(), {"snr": 3.0}, images32()),
        ("JointSystem-alv", joint_alv(), {"bandwidth": 2}, images32()),
        ("SeparateSystem", SeparateSystem(vae_src, cae), {"snr": 0.5}, images32()),
        ("ChannelAutoencoder", cae, {}, torch.randn(5, 10, generator=g(3))),
        ("BinaryJointSystem", binary_joint(), {"eps": 0.2}, images32()),
    ]


CLASSES = [necst.NECST, necst.VAEWithLDPC, JointSystem, SeparateSystem, ChannelAutoencoder, BinaryJointSystem]


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_system_class_has_the_protocol_signatures(cls):
    for name in ("encode", "send", "decode", "reconstruct"):
        params = inspect.signature(getattr(cls, name)).parameters
        assert params["generator"].kind is inspect.Parameter.KEYWORD_ONLY, (cls.__name__, name)
        others = [p for p in params.values() if p.name not in ("self", "generator")]
        # one positional argument (the source, code or received values); everything else is keyword-only
        assert others[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in others[1:]), (cls.__name__, name)
    for name in ("encode", "send", "reconstruct"):  # a random draw always names its generator
        assert inspect.signature(getattr(cls, name)).parameters["generator"].default is inspect.Parameter.empty


@pytest.mark.parametrize("name,system,levels,x", systems(), ids=[s[0] for s in systems()])
def test_reconstruct_is_decode_send_encode_and_seeded(name, system, levels, x):
    assert isinstance(system, CommunicationSystem)
    encode_kw = {k: v for k, v in levels.items() if k == "mode"}
    channel_kw = {k: v for k, v in levels.items() if k != "mode"}
    decode_kw = channel_kw if isinstance(system, necst.VAEWithLDPC) else {}
    gen = g(5)
    code = system.encode(x, generator=gen, **encode_kw)
    received = system.send(code, generator=gen, **channel_kw)
    by_halves = system.decode(received, generator=gen, **decode_kw)
    whole = system.reconstruct(x, generator=g(5), **levels)
    assert torch.equal(whole, by_halves)
    assert whole.shape == x.shape
    assert torch.equal(system.reconstruct(x, generator=g(5), **levels), whole)  # deterministic given the seed
    other = system.reconstruct(x, generator=g(6), **levels)
    if name == "NECST-threshold-noiseless":  # no random draw at all: the seed cannot matter
        assert torch.equal(other, whole)
    else:  # codes, channel noise and fills are drawn: another seed gives another reconstruction
        assert not torch.equal(other, whole)


def test_the_level_at_call_time_is_the_level_a_system_was_built_with():
    xb = binary_images()
    torch.manual_seed(1)
    at_01 = necst.build_model("binary_mnist", eps=0.1, bits=30)
    torch.manual_seed(1)
    at_03 = necst.build_model("binary_mnist", eps=0.3, bits=30)
    assert torch.equal(at_01.reconstruct(xb, generator=g(2), eps=0.3), at_03.reconstruct(xb, generator=g(2)))
    assert not torch.equal(at_01.reconstruct(xb, generator=g(2)), at_03.reconstruct(xb, generator=g(2)))
    x = images32()
    torch.manual_seed(2)
    a = JointSystem(1, 10, 4, AWGNChannel(1.0), 1.0, 0.1)
    b = JointSystem(1, 10, 4, AWGNChannel(8.0), 1.0, 0.1)
    b.load_state_dict(a.state_dict())
    assert torch.equal(a.reconstruct(x, generator=g(3), snr=8.0), b.reconstruct(x, generator=g(3)))
    torch.manual_seed(3)
    bin_a = BinaryJointSystem(1, 16, 4, eps=0.05, temperature=0.5, beta=1.0, obs_std=0.1)
    bin_b = BinaryJointSystem(1, 16, 4, eps=0.25, temperature=0.5, beta=1.0, obs_std=0.1)
    bin_b.load_state_dict(bin_a.state_dict())
    assert torch.equal(bin_a.reconstruct(x, generator=g(4), eps=0.25), bin_b.reconstruct(x, generator=g(4)))


@pytest.mark.parametrize("eps", [0.0, 0.05, 0.3, 0.5])
def test_binary_channels_at_call_time_equal_channels_built_with_that_level(eps):
    bits = torch.randint(0, 2, (50, 64), generator=g(0)).to(torch.uint8)
    assert torch.equal(BinarySymmetricChannel(0.1)(bits, generator=g(1), eps=eps),
                       BinarySymmetricChannel(eps)(bits, generator=g(1)))
    assert torch.equal(BinaryErasureChannel(0.9)(bits, generator=g(2), eps=eps),
                       BinaryErasureChannel(eps)(bits, generator=g(2)))
    assert BinarySymmetricChannel(0.1).capacity(eps) == BinarySymmetricChannel(eps).capacity()
    # the call's level does not stick: the next call without one uses the constructor's again
    ch = BinarySymmetricChannel(0.1)
    ch(bits, generator=g(3), eps=eps)
    assert ch.eps == 0.1 and torch.equal(ch(bits, generator=g(4)), BinarySymmetricChannel(0.1)(bits, generator=g(4)))


@pytest.mark.parametrize("snr", [0.01, 1.0, 300.0])
def test_gaussian_channels_at_call_time_equal_channels_built_with_that_level(snr):
    y = torch.randn(20, 10, generator=g(0))
    assert torch.equal(AWGNChannel(5.0)(y, generator=g(1), snr=snr), AWGNChannel(snr)(y, generator=g(1)))
    assert AWGNChannel(5.0).capacity(snr) == AWGNChannel(snr).capacity()
    prior = StandardGaussianPrior(2, 5)
    za, ba = BandwidthLimitedChannel(5.0, 5)(y, prior=prior, generator=g(2), snr=snr)
    zb, bb = BandwidthLimitedChannel(snr, 5)(y, prior=prior, generator=g(2))
    assert torch.equal(za, zb) and torch.equal(ba, bb)
    relaxed = RelaxedBinarySymmetricChannel(0.4, 0.5)(torch.rand(4, 6, generator=g(3)), generator=g(4), eps=0.05)
    assert torch.equal(relaxed, RelaxedBinarySymmetricChannel(0.05, 0.5)(torch.rand(4, 6, generator=g(3)),
                                                                          generator=g(4)))


@pytest.mark.parametrize("make,level,bad,pattern", [
    (lambda: BinarySymmetricChannel(0.1), "eps", 0.7,
     r"BSC flip probability eps=0\.7 is outside its valid range \[0\.0, 0\.5\]"),
    (lambda: BinarySymmetricChannel(0.1), "eps", -0.1, r"eps=-0\.1 is outside its valid range \[0\.0, 0\.5\]"),
    (lambda: BinaryErasureChannel(0.1), "eps", 1.5,
     r"BEC erasure probability eps=1\.5 is outside its valid range \[0\.0, 1\.0\]"),
    (lambda: AWGNChannel(1.0), "snr", 0.0, r"linear SNR=0\.0 is outside its valid range \[0\.001, 10000\.0\]"),
    (lambda: AWGNChannel(1.0), "snr", "high", r"linear SNR must be a number in \[0\.001, 10000\.0\], got 'high'"),
])
def test_bad_levels_at_call_time_name_the_value_and_the_range(make, level, bad, pattern):
    channel = make()
    x = torch.zeros(2, 10)
    with pytest.raises(ConfigError, match=pattern):
        channel(x, generator=g(0), **{level: bad})


def test_bad_levels_through_the_systems_name_the_value_and_the_range():
    xb, x = binary_images(), images32()
    with pytest.raises(ConfigError, match=r"eps=0\.6 is outside its valid range \[0\.0, 0\.5\]"):
        necst_model().reconstruct(xb, generator=g(0), eps=0.6)
    with pytest.raises(ConfigError, match=r"eps=0\.6 is outside its valid range \[0\.0, 0\.5\]"):
        ldpc_system().reconstruct(xb, generator=g(0), eps=0.6)
    with pytest.raises(ConfigError, match=r"eps=0\.9 is outside its valid range \[0\.0, 0\.5\]"):
        binary_joint().reconstruct(x, generator=g(0), eps=0.9)
    with pytest.raises(ConfigError, match=r"linear SNR=100000\.0 is outside its valid range"):
        joint_awgn().reconstruct(x, generator=g(0), snr=1e5)
    with pytest.raises(ConfigError, match=r"received bands\)=6 is outside its valid range 1\.\.5"):
        joint_alv().reconstruct(x, generator=g(0), bandwidth=6)
    with pytest.raises(ValueError, match=r"bandwidth=2 and fill_prior only apply over the bandwidth-limited"):
        joint_awgn().reconstruct(x, generator=g(0), bandwidth=2)
    with pytest.raises(ConfigError, match="unknown code mode 'round'"):
        necst_model().reconstruct(xb, generator=g(0), mode="round")


def test_the_evaluator_batches_seeds_and_checks_its_input():
    model, xb = necst_model(), binary_images()
    whole = reconstruct_all(model, xb, seed=3, batch=len(xb), eps=0.2)
    assert torch.equal(whole, model.reconstruct(xb, generator=g(3), eps=0.2))
    again = reconstruct_all(model, xb, seed=3, batch=len(xb), eps=0.2)
    assert torch.equal(whole, again) and not torch.equal(whole, reconstruct_all(model, xb, seed=4, eps=0.2))
    # batch by batch: the draws of batch 2 follow those of batch 1 on the same generator
    gen = g(3)
    by_hand = torch.cat([model.reconstruct(xb[:4], generator=gen, eps=0.2), model.reconstruct(xb[4:], generator=gen,
                                                                                                 eps=0.2)])
    assert torch.equal(reconstruct_all(model, xb, seed=3, batch=4, eps=0.2), by_hand)
    d = distortions(model, xb, seed=3, batch=4, eps=0.2)
    assert torch.equal(d, l2_per_image(xb, by_hand)) and d.shape == (6,)
    with pytest.raises(ConfigError, match="batch must be a positive integer, got 0"):
        reconstruct_all(model, xb, seed=0, batch=0)
    with pytest.raises(ConfigError, match="at least one item"):
        reconstruct_all(model, xb[:0], seed=0)
    with pytest.raises(TypeError, match="SourceVAE is not a communication system"):
        reconstruct_all(separate()[0], images32(), seed=0)


def test_l2_per_image_is_the_sum_of_squared_errors_with_optional_sample_dimensions():
    x = torch.tensor([[[0.0, 1.0], [0.5, 0.5]]])  # one 2x2 "image"
    x_hat = torch.tensor([[[0.5, 1.0], [0.0, 0.25]]])
    assert l2_per_image(x, x_hat).tolist() == [0.25 + 0.25 + 0.0625]
    k = torch.stack([x_hat, x, 1 - x])  # (K=3, N=1, 2, 2)
    assert l2_per_image(x, k).tolist() == [[0.5625], [0.0], [1.0 + 1.0 + 0.0 + 0.0]]
    with pytest.raises(ValueError, match=r"x \(N, \*item\) and x_hat"):
        l2_per_image(x, x_hat[..., :1])
    with pytest.raises(ValueError, match="expected x"):
        l2_per_image(torch.zeros(3), torch.zeros(3))
