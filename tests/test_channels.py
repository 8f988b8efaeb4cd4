import math

import pytest
import torch

from repro.channels.discrete import BinarySymmetricChannel, binary_entropy, flip_bytes
from repro.core.checks import ConfigError


@pytest.mark.parametrize("eps", [0.01, 0.05, 0.2, 0.5])
def test_bsc_flip_rate_within_statistical_tolerance(eps):
    n = 400_000
    bits = torch.randint(0, 2, (n,), generator=torch.Generator().manual_seed(1)).float()
    out = BinarySymmetricChannel(eps)(bits, generator=torch.Generator().manual_seed(2))
    rate = (out != bits).float().mean().item()
    assert abs(rate - eps) < 5 * math.sqrt(eps * (1 - eps) / n)
    assert out.dtype == bits.dtype and set(out.unique().tolist()) <= {0.0, 1.0}


def test_bsc_zero_noise_is_identity_and_flips_are_independent_of_the_bit():
    bits = torch.randint(0, 2, (1000, 8), dtype=torch.uint8)
    assert torch.equal(BinarySymmetricChannel(0.0)(bits), bits)
    ones, zeros = torch.ones(200_000), torch.zeros(200_000)
    ch = BinarySymmetricChannel(0.1)
    r1 = (ch(ones, generator=torch.Generator().manual_seed(0)) == 0).float().mean()
    r0 = (ch(zeros, generator=torch.Generator().manual_seed(1)) == 1).float().mean()
    assert abs(r1 - r0) < 0.005


def test_bsc_is_deterministic_given_a_generator():
    bits = torch.zeros(5000)
    ch = BinarySymmetricChannel(0.3)
    a = ch(bits, generator=torch.Generator().manual_seed(7))
    b = ch(bits, generator=torch.Generator().manual_seed(7))
    c = ch(bits, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("eps", [-0.01, 0.51, 1.0, float("nan")])
def test_bsc_noise_outside_range_is_rejected(eps):
    with pytest.raises(ConfigError, match=r"eps"):
        BinarySymmetricChannel(eps)


def test_bsc_rejects_non_binary_input():
    with pytest.raises(ValueError, match="bits"):
        BinarySymmetricChannel(0.1)(torch.tensor([0.0, 0.5, 1.0]))


def test_capacity_and_entropy():
    assert binary_entropy(0.5) == pytest.approx(1.0)
    assert binary_entropy(0.0) == 0.0
    assert BinarySymmetricChannel(0.11).capacity() == pytest.approx(0.5, abs=0.001)
    assert BinarySymmetricChannel(0.5).capacity() == pytest.approx(0.0)


def test_flip_bytes_rate_and_length():
    data = bytes(20000)
    noisy = flip_bytes(data, 0.05, torch.Generator().manual_seed(0))
    ones = sum(bin(b).count("1") for b in noisy)
    assert len(noisy) == len(data)
    assert abs(ones / (8 * len(data)) - 0.05) < 0.003
    assert flip_bytes(b"abc", 0.0) == b"abc"


def test_every_discrete_channel_declares_its_level_once_and_everyone_checks_against_it():
    from repro.channels.discrete import CHANNELS, check_level

    for name, cls in CHANNELS.items():
        low, high = cls.LEVEL_RANGE
        assert cls.LEVEL == "eps" and low <= cls.LEVEL_DEFAULT <= high
        assert check_level(name, high) == high
        with pytest.raises(ConfigError, match=rf"{cls.LEVEL}={high + 0.1:g} is outside its valid range"):
            check_level(name, high + 0.1)
    with pytest.raises(ConfigError, match="unknown channel 'awgn'; valid choices: 'bec', 'bsc'"):
        check_level("awgn", 0.1)


def test_the_training_time_code_is_the_channels_distribution():
    from repro.channels.discrete import ERASED, BinaryErasureChannel, BinarySymmetricChannel

    p = torch.full((4000, 20), 0.8)
    torch.manual_seed(0)
    y, log_q = BinarySymmetricChannel.training_sample(p, 3, 0.1)
    assert y.shape == (3, 4000, 20) and log_q.shape == (3, 4000)
    assert abs(float(y.mean()) - (0.8 * 0.8 + 0.1)) < 0.01  # Bernoulli(p (1 - 2 eps) + eps)
    torch.manual_seed(0)
    y, log_q = BinaryErasureChannel.training_sample(p, 3, 0.3)
    erased = y == ERASED
    assert abs(float(erased.float().mean()) - 0.3) < 0.01
    assert abs(float(y[~erased].mean()) - 0.8) < 0.01  # delivered bits are the code's
    torch.manual_seed(1)  # at eps 0 the BEC draws exactly what the noiseless code draws
    a = BinaryErasureChannel.training_sample(p, 2, 0.0)
    torch.manual_seed(1)
    b = BinarySymmetricChannel.training_sample(p, 2, 0.0)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_a_new_discrete_channel_needs_only_its_class_and_registry_entry(monkeypatch):
    """The worked example of issue 24: a Z-channel (a sent 1 arrives as 0 with probability eps, a 0 always
    arrives) registered in repro.channels.discrete is accepted by every caller and NECST trains through it. To be
    offered to the notebooks it is also named in notebook 02's declared settings (repro.parts.necst, the
    runner's check) and its parameters comment, which tests/test_settings.py compares with the registry: three
    files in all."""
    from torch import nn

    from repro.channels import discrete
    from repro.core.runtime import draw
    from repro.experiments import necst as necst_exp
    from repro.systems import necst

    class ZChannel(nn.Module):
        LEVEL, LEVEL_RANGE, LEVEL_DEFAULT, DESCRIPTION = "eps", (0.0, 1.0), 0.0, "Z-channel 1-to-0 probability"
        check = classmethod(discrete.BinarySymmetricChannel.check.__func__)

        def __init__(self, eps: float = 0.0):
            super().__init__()
            self.eps = self.check(eps)

        def forward(self, bits, *, generator=None, eps=None):
            eps = self.eps if eps is None else self.check(eps)
            drop = draw(torch.rand, bits.shape, generator=generator, device=bits.device) < eps
            return torch.where(drop & (bits == 1), torch.zeros_like(bits), bits)

        @staticmethod
        def training_sample(p, k, eps):
            return discrete.BinarySymmetricChannel.training_sample(p * (1 - eps), k, 0.0)

    monkeypatch.setitem(discrete.CHANNELS, "z", ZChannel)
    assert discrete.check_level("z", 0.9) == 0.9
    with pytest.raises(ConfigError, match=r"Z-channel 1-to-0 probability eps=1\.5 is outside"):
        discrete.check_level("z", 1.5)
    P = necst_exp.settings("smoke", {"dataset": "mnist", "channel": "z", "table1_eps": [0.9]})
    assert P["channel"] == "z"
    model = necst.build_model("mnist", eps=0.3, channel="z", bits=20)
    x = torch.rand(8, 1, 28, 28)
    loss, _ = model.loss(x)
    loss.backward()
    received = model.send(torch.ones(4, 20), generator=torch.Generator().manual_seed(0), eps=1.0)
    assert torch.equal(received, torch.zeros(4, 20))  # every 1 dropped at eps 1
