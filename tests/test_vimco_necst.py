import itertools
import math

import pytest
import torch

from repro.channels.discrete import ERASED, BinaryErasureChannel
from repro.coding.vimco import leave_one_out_baselines, vimco_objective
from repro.core.checks import ConfigError
from repro.models.necst import NECST, MLPDecoder, MLPEncoder

TABLE = torch.tensor([-1.0, -3.0, -0.5, -2.0])  # log p(x | y) for the 4 codes of 2 bits (index 2*y0 + y1)


def noisy_probs(a, eps):
    return torch.sigmoid(a) * (1 - 2 * eps) + eps


def exact_objective(a, eps, k):
    """E over K iid codes of log mean_k exp(l(y_k)), by enumerating all 4**K code tuples."""
    p1 = noisy_probs(a, eps)
    total = 0.0
    codes = list(itertools.product([0, 1], repeat=2))
    for combo in itertools.product(range(4), repeat=k):
        prob = 1.0
        for c in combo:
            y = torch.tensor(codes[c], dtype=torch.float32)
            prob = prob * (p1 ** y * (1 - p1) ** (1 - y)).prod()
        total = total + prob * (torch.logsumexp(TABLE[list(combo)], 0) - math.log(k))
    return total


@pytest.mark.parametrize("eps", [0.0, 0.2])
def test_vimco_gradient_matches_brute_force_expectation(eps):
    k = 3
    a = torch.tensor([0.3, -0.5], requires_grad=True)
    exact = exact_objective(a, eps, k)
    (g_exact,) = torch.autograd.grad(exact, a)

    torch.manual_seed(0)
    n = 200_000
    p1 = noisy_probs(a, eps)
    y = torch.bernoulli(p1.detach().expand(k, n, 2))
    log_q = (y * torch.log(p1) + (1 - y) * torch.log(1 - p1)).sum(-1)
    log_w = TABLE[(2 * y[..., 0] + y[..., 1]).long()]
    surrogate, bound = vimco_objective(log_w, log_q)
    (g_est,) = torch.autograd.grad(surrogate.mean(), a)
    assert bound.mean().item() == pytest.approx(exact.item(), abs=0.01)
    assert torch.allclose(g_est, g_exact, atol=0.01), (g_est, g_exact)
    assert g_exact.abs().max() > 0.05  # a non-trivial gradient, so the comparison means something


def test_leave_one_out_baseline_by_hand():
    log_w = torch.tensor([[0.0], [1.0], [2.0]])
    base = leave_one_out_baselines(log_w)
    # replacing sample 0 by the mean of the others (1.5)
    expected0 = torch.logsumexp(torch.tensor([1.5, 1.0, 2.0]), 0) - math.log(3)
    assert base[0, 0].item() == pytest.approx(expected0.item(), abs=1e-6)
    with pytest.raises(ValueError, match="K = 2"):
        leave_one_out_baselines(torch.zeros(1, 4))


def tiny_necst(channel="bsc", eps=0.1, **kw):
    torch.manual_seed(0)
    return NECST(MLPEncoder(6, 4, hidden=8), MLPDecoder(4, (6,), hidden=8), likelihood="bernoulli",
                 channel=channel, eps=eps, **kw)


def test_training_code_distribution_folds_in_the_bsc():
    model = tiny_necst(eps=0.2)
    logits = torch.tensor([[-3.0, 0.0, 3.0, 10.0]])
    y, log_q = model._sample_training_code(logits, 40_000)
    freq = y.mean((0, 1))
    expected = torch.sigmoid(logits[0]) * 0.6 + 0.2
    assert torch.allclose(freq, expected, atol=0.01)
    assert log_q.shape == (40_000, 1)


def test_training_code_distribution_for_the_bec():
    model = tiny_necst("bec", 0.3)
    y, _ = model._sample_training_code(torch.tensor([[5.0, -5.0]]), 40_000)
    assert abs((y == ERASED).float().mean().item() - 0.3) < 0.01
    kept = y[y != ERASED]
    assert set(kept.unique().tolist()) <= {0.0, 1.0}


def test_bec_statistics_and_range():
    bits = torch.ones(200_000)
    out = BinaryErasureChannel(0.25)(bits, generator=torch.Generator().manual_seed(0))
    assert abs((out == ERASED).float().mean().item() - 0.25) < 0.005
    assert ((out == 1) | (out == ERASED)).all()
    with pytest.raises(ConfigError, match="eps"):
        BinaryErasureChannel(1.5)


def test_necst_learns_a_tiny_identity_code():
    torch.manual_seed(0)
    x = torch.randint(0, 2, (512, 6)).float()
    model = NECST(MLPEncoder(6, 6, hidden=32), MLPDecoder(6, (6,), hidden=32), likelihood="bernoulli", eps=0.0)
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    first = None
    for _step in range(300):
        loss, metrics = model.loss(x[torch.randint(0, 512, (64,))])
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = first if first is not None else metrics["l2_per_image"]
    err = (model.reconstruct(x, generator=None, mode="threshold") - x).pow(2).sum(1).mean().item()
    assert err < 0.5 * first and err < 0.6


def test_bad_settings_name_the_choices():
    with pytest.raises(ConfigError, match="likelihood"):
        NECST(MLPEncoder(6, 4), MLPDecoder(4, (6,)), likelihood="poisson")
    with pytest.raises(ConfigError, match="eps"):
        tiny_necst(eps=0.7)
    with pytest.raises(ConfigError, match="'bec', 'bsc'"):
        tiny_necst(channel="awgn")
