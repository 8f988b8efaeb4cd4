import math

import pytest
import torch

from repro.coding.quantize import (
    GaussianQuantizer,
    UniformQuantizer,
    bits_to_indices,
    index_to_unit,
    indices_to_bits,
    unit_to_index,
)
from repro.core.checks import ConfigError


@pytest.mark.parametrize("n_bits", [1, 2, 5, 8, 12, 16])
def test_uniform_error_is_at_most_half_a_step_inside_the_range(n_bits):
    q = UniformQuantizer(n_bits, -3, 3)
    g = torch.linspace(-3, 3, 10001)
    err = (q.dequantize(q.quantize(g)) - g).abs().max().item()
    assert err <= q.step / 2 + 1e-6
    assert err >= q.step / 2 * 0.9  # the bound is reached, so the test would notice a finer or coarser grid


def test_uniform_clips_outside_the_range():
    q = UniformQuantizer(8, -3, 3)
    out = q.dequantize(q.quantize(torch.tensor([-10.0, 10.0])))
    assert out[0] == pytest.approx(-3 + q.step / 2)
    assert out[1] == pytest.approx(3 - q.step / 2)


def test_gaussian_quantizer_error_is_bounded_in_cdf_space_and_finite_in_the_tails():
    mean, std = torch.tensor([0.5, -1.0]), torch.tensor([2.0, 0.1])
    q = GaussianQuantizer(6, mean, std)
    g = torch.stack([torch.linspace(-8, 8, 2001), torch.linspace(-1.5, -0.5, 2001)], 1)
    rec = q.dequantize(q.quantize(g)).double()

    def cdf(v):
        return 0.5 * (1 + torch.erf((v - mean.double()) / (std.double() * math.sqrt(2))))

    assert (cdf(rec) - cdf(g.double())).abs().max() <= 0.5 / 2**6 + 1e-5  # float32 output rounding
    assert torch.isfinite(rec).all()
    # cells are finer near the mean than in the tails
    centres = q.dequantize(torch.arange(64).unsqueeze(1).repeat(1, 2))[:, 0]
    widths = centres.diff()
    assert widths[31] < widths[0] / 3


def test_gaussian_fit_uses_per_dimension_statistics():
    torch.manual_seed(0)
    data = torch.randn(20000, 3) * torch.tensor([1.0, 2.0, 0.5]) + torch.tensor([0.0, 5.0, -1.0])
    q = GaussianQuantizer.fit(4, data)
    assert torch.allclose(q.mean.float(), torch.tensor([0.0, 5.0, -1.0]), atol=0.05)
    assert torch.allclose(q.std.float(), torch.tensor([1.0, 2.0, 0.5]), atol=0.05)
    # equiprobable cells: every index is used about equally often
    counts = torch.bincount(q.quantize(data)[:, 1], minlength=16).float()
    assert counts.min() > 0.8 * counts.mean()


def test_bits_msb_first_and_round_trip():
    assert indices_to_bits(torch.tensor([[5]]), 3).tolist() == [[1, 0, 1]]
    assert indices_to_bits(torch.tensor([[1, 2]]), 2).tolist() == [[0, 1, 1, 0]]
    idx = torch.randint(0, 2**11, (50, 32))
    assert torch.equal(bits_to_indices(indices_to_bits(idx, 11), 11), idx)


def test_unit_quantizer_cells():
    assert unit_to_index(torch.tensor([0.0, 0.2499, 0.25, 1.0]), 2).tolist() == [0, 0, 1, 3]
    assert index_to_unit(torch.tensor([0, 3]), 2).tolist() == [0.125, 0.875]
    with pytest.raises(ValueError, match="outside"):
        index_to_unit(torch.tensor([4]), 2)


@pytest.mark.parametrize("bad", [0, 17, 2.5, -1, "8"])
def test_n_bits_outside_1_to_16_is_rejected_with_the_range(bad):
    with pytest.raises(ConfigError, match=r"N_bit.*1\.\.16|N_bit must be"):
        UniformQuantizer(bad)


def test_bit_count_must_match():
    with pytest.raises(ValueError, match="multiple"):
        bits_to_indices(torch.zeros(1, 10, dtype=torch.uint8), 3)
