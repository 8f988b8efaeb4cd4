"""IABF pieces on hand-made numbers: flip mask, noise allocation, entropies, TC estimate, and the methods' models."""

import math

import pytest
import torch
from torch import nn

from repro.core.checks import ConfigError
from repro.models.iabf import (
    AdversarialBitFlip,
    Infomax,
    TCDiscriminator,
    allocate_noise,
    bit_entropies,
    discriminator_loss,
    estimate_tc,
    flip_mask,
    permute_dims,
)
from repro.systems import necst as npl


def test_flip_mask_flips_bits_in_the_direction_that_raises_the_loss():
    y = torch.tensor([[0.0, 0.0, 1.0, 1.0, 0.0, 1.0]])
    g = torch.tensor([[0.7, -0.2, -0.5, 0.3, 0.0, 0.0]])
    assert flip_mask(y, g).tolist() == [[1.0, 0.0, 1.0, 0.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match="differ in shape"):
        flip_mask(y, g[:, :3])


def test_flipping_the_masked_bits_raises_a_fixed_decoders_loss():
    torch.manual_seed(0)
    decoder = nn.Sequential(nn.Linear(16, 32), nn.Tanh(), nn.Linear(32, 10))
    x = torch.rand(64, 10)
    y = torch.randint(0, 2, (64, 16)).float().requires_grad_(True)

    def loss(code):
        return (torch.sigmoid(decoder(2 * code - 1)) - x).pow(2).sum(1)

    (g,) = torch.autograd.grad(loss(y).sum(), [y])
    m = flip_mask(y.detach(), g)
    # flip, per example, the single masked bit with the largest gradient: a first-order attack, so the loss rises
    score = (g.abs() * m).masked_fill(m == 0, -1)
    one = torch.zeros_like(m).scatter_(1, score.argmax(1, keepdim=True), 1.0) * m
    flipped = (y.detach() + one) % 2
    rows = m.sum(1) > 0
    assert rows.all()
    assert (loss(flipped) > loss(y.detach()))[rows].float().mean() > 0.9
    # flipping the unmasked bit with the largest gradient instead lowers it for most examples
    score_u = (g.abs() * (1 - m)).masked_fill(m == 1, -1)
    other = torch.zeros_like(m).scatter_(1, score_u.argmax(1, keepdim=True), 1.0)
    assert (loss((y.detach() + other) % 2) < loss(y.detach())).float().mean() > 0.9


@pytest.mark.parametrize("eps", [0.05, 0.1, 0.3, 0.5])
def test_noise_allocation_sums_to_m_eps_within_unit_interval_and_follows_the_gradient(eps):
    g = torch.randn(8, 100, generator=torch.Generator().manual_seed(1)) ** 3
    e = allocate_noise(g, eps)
    assert torch.allclose(e.sum(1), torch.full((8,), 100 * eps), atol=1e-4)
    assert e.min() >= 0 and e.max() <= 1
    order = g.abs().argsort(1)
    assert (e.gather(1, order).diff(dim=1) >= -1e-7).all()  # monotone in |g|


def test_noise_allocation_saturates_and_handles_zero_gradients():
    g = torch.zeros(2, 10)
    g[0, 0] = 5.0
    e = allocate_noise(g, 0.4)
    assert e[0, 0] == pytest.approx(1.0) and torch.allclose(e[0, 1:], torch.full((9,), 1 / 3), atol=1e-5)
    assert torch.allclose(e[1], torch.full((10,), 0.4))  # no information: uniform
    with pytest.raises(ConfigError, match="eps"):
        allocate_noise(g, 1.5)


def test_adversary_noise_levels_are_masked_and_budgeted():
    torch.manual_seed(0)
    dec = nn.Linear(20, 5)

    def ll(x, logits):
        return -(torch.sigmoid(logits) - x).pow(2).sum(-1)

    x, p = torch.rand(32, 5), torch.full((32, 20), 0.5)
    e = AdversarialBitFlip().noise_levels(x, p, 0.2, dec, ll)
    assert e.shape == (32, 20) and e.min() >= 0 and e.max() <= 1
    assert (e.sum(1) <= 20 * 0.2 + 1e-4).all() and (e > 0).sum(1).float().mean() < 20
    assert all(q.grad is None for q in dec.parameters())


def test_bit_entropies_on_known_distributions():
    half = torch.full((100, 4), 0.5)
    hm, hc = bit_entropies(half)
    assert torch.allclose(hm, torch.full((4,), math.log(2))) and torch.allclose(hc, torch.full((4,), math.log(2)))
    det = torch.cat([torch.zeros(50, 3), torch.ones(50, 3)])  # deterministic codes, balanced marginal
    hm, hc = bit_entropies(det)
    assert torch.allclose(hm, torch.full((3,), math.log(2)), atol=1e-5) and hc.max() < 1e-5
    p = torch.full((10, 1), 0.1)
    hm, hc = bit_entropies(p)
    assert hm.item() == pytest.approx(-(0.1 * math.log(0.1) + 0.9 * math.log(0.9)), rel=1e-4)


def test_permute_dims_keeps_marginals_and_breaks_dependence():
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (2000, 1), generator=g).float().repeat(1, 2)
    z = permute_dims(y, g)
    assert torch.equal(z.sum(0), y.sum(0))
    assert (z[:, 0] == z[:, 1]).float().mean() == pytest.approx(0.5, abs=0.05)


def _trained_tc(codes, steps=300):
    torch.manual_seed(0)
    disc = TCDiscriminator(codes.shape[1], hidden=64)
    opt = torch.optim.Adam(disc.parameters(), lr=3e-3)
    for _ in range(steps):
        idx = torch.randint(0, len(codes), (256,))
        batch = codes[idx]
        loss = discriminator_loss(disc, batch, permute_dims(batch))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return float(estimate_tc(disc, codes))


def test_tc_estimate_is_near_zero_for_independent_bits_and_positive_for_duplicated_bits():
    g = torch.Generator().manual_seed(0)
    independent = torch.randint(0, 2, (4000, 8), generator=g).float()
    duplicated = torch.randint(0, 2, (4000, 4), generator=g).float().repeat(1, 2)  # true TC = 4 log 2 = 2.77
    tc_ind, tc_dup = _trained_tc(independent), _trained_tc(duplicated)
    assert abs(tc_ind) < 0.3
    assert tc_dup > 1.0


def _disc_state(info):
    return [q.detach().clone() for q in info.disc.parameters()]


def test_infomax_term_only_uses_its_discriminator_and_the_hook_trains_it_and_saves_its_optimizer():
    torch.manual_seed(0)
    info = Infomax(6, weight=0.1)
    logits = torch.randn(64, 6, requires_grad=True)
    before = _disc_state(info)
    loss, logs = info.term(torch.sigmoid(logits))
    assert set(logs) == {"bit_mi", "tc"}
    assert all(torch.equal(a, b) for a, b in zip(before, info.disc.parameters(), strict=True))
    loss.backward()
    assert logits.grad is not None and logits.grad.abs().sum() > 0
    assert all(q.grad is None for q in info.disc.parameters())  # TC_hat is differentiable in the codes only
    out = info.after_optimizer_step()
    assert set(out) == {"disc_loss"}
    assert out["disc_loss"] == pytest.approx(2 * math.log(2), abs=0.1)  # an untrained classifier: chance
    assert any(not torch.equal(a, b) for a, b in zip(before, info.disc.parameters(), strict=True))
    assert all(q.grad is None for q in info.disc.parameters())  # no gradient left for the model's optimizer
    assert info.after_optimizer_step() == {}  # one step per term: nothing pending any more
    state = info.state_dict()
    fresh = Infomax(6, weight=0.1)
    fresh.load_state_dict(state)
    assert fresh.optimizer.state_dict()["state"].keys() == info.optimizer.state_dict()["state"].keys()
    assert len(info.optimizer.state_dict()["state"]) == len(list(info.disc.parameters()))


def test_the_hook_step_is_the_discriminator_step_on_the_codes_the_term_sampled():
    torch.manual_seed(1)
    probs = torch.rand(32, 8)
    a, b = Infomax(8), Infomax(8)
    b.load_state_dict(a.state_dict())
    torch.manual_seed(2)
    a.term(probs)
    a.after_optimizer_step()
    torch.manual_seed(2)
    hard = torch.bernoulli(probs)  # the term's one draw
    b.update_discriminator(hard)
    assert all(torch.equal(p, q) for p, q in zip(a.disc.parameters(), b.disc.parameters(), strict=True))


def test_in_eval_mode_the_term_keeps_no_codes():
    info = Infomax(4).eval()
    info.term(torch.full((8, 4), 0.5))
    assert info.after_optimizer_step() == {}


def test_the_models_loss_never_steps_the_discriminator_and_fit_steps_it_once_per_batch():
    """Fails if NECST's loss (through Infomax.term) trains the discriminator itself."""
    from repro.core.training import fit, step_hooks

    torch.manual_seed(0)
    model = npl.build_model("binary_mnist", eps=0.1, method="IABF", x_shape=(1, 28, 28)).train()
    x = (torch.rand(50, 1, 28, 28) > 0.5).float()
    before = _disc_state(model.infomax)
    for _ in range(3):
        loss, logs = model.loss(x)
        loss.backward()
    assert "disc_loss" not in logs and {"bit_mi", "tc"} <= set(logs)
    assert all(torch.equal(a, b) for a, b in zip(before, model.infomax.disc.parameters(), strict=True))
    assert all(q.grad is None for q in model.infomax.disc.parameters())
    assert model.infomax.optimizer.state_dict()["state"] == {}
    assert step_hooks(model) == [model.infomax]

    model, hist = fit(model, lambda m, xb, _y: m.loss(xb), x, name="iabf-hook-test", config={"test": 1}, epochs=2,
                      batch_size=20, lr=1e-3, seed=0, device=torch.device("cpu"))
    steps = {int(s["step"]) for s in model.infomax.optimizer.state_dict()["state"].values()}
    assert steps == {2 * 3}  # 2 epochs of 3 batches: one discriminator step per optimizer step
    assert all(0.5 < h["disc_loss"] < 2.0 for h in hist) and all("tc" in h for h in hist)


def test_methods_build_the_right_regularizers_and_reject_bad_configurations():
    m = npl.build_model("binary_mnist", eps=0.1, method="IABF", infomax_weight=0.001)
    assert m.adversary.channel_noise and m.infomax.permute and m.infomax.weight == 0.001
    off = npl.build_model("binary_mnist", eps=0.1, method="IABF", official=True)
    assert not off.adversary.channel_noise and not off.infomax.permute and off.prob_recon_weight == 0.1
    assert npl.build_model("mnist", eps=0.1, method="ABF").infomax is None
    with pytest.raises(ConfigError, match="unknown method 'VAT'"):
        npl.build_model("mnist", eps=0.1, method="VAT")
    with pytest.raises(ConfigError, match="channel='bec'"):
        npl.build_model("mnist", eps=0.1, method="ABF", channel="bec")


def test_abf_channel_false_trains_on_the_attack_alone_and_is_only_for_abf():
    both = npl.build_model("mnist", eps=0.1, method="IABF")
    alone = npl.build_model("mnist", eps=0.1, method="IABF", abf_channel=False)
    assert both.adversary.channel_noise and not alone.adversary.channel_noise
    assert alone.infomax.permute and alone.prob_recon_weight == 0.0  # none of the official code's other changes
    with pytest.raises(ConfigError, match="abf_channel=False only changes ABF and IABF"):
        npl.build_model("mnist", eps=0.1, method="NECST", abf_channel=False)
    with pytest.raises(ConfigError, match="abf_channel must be True or False, got 0"):
        npl.build_model("mnist", eps=0.1, method="ABF", abf_channel=0)


def test_without_the_channel_a_confident_codes_training_flips_are_the_attacks_only():
    """A near-deterministic code (sigma within 1e-4 of 0 or 1): its training draws differ from the hard bits only
    where noise is added. The attack alone spends at most M eps per code (about half after the mask); with the
    channel on top, about M eps more."""
    eps, flips = 0.1, {}
    for channel in (True, False):
        torch.manual_seed(0)
        m = npl.build_model("mnist", eps=eps, method="ABF", abf_channel=channel)
        with torch.no_grad():
            m.encoder.net[-1].weight.mul_(0.0)
            m.encoder.net[-1].bias.copy_(torch.where(torch.arange(100) % 2 == 0, 10.0, -10.0))
        x = torch.rand(64, 1, 28, 28)
        y, _ = m._sample_training_code(m.encoder(x), 5, x)
        flips[channel] = (y != (torch.arange(100) % 2 == 0).float()).float().mean().item()
    assert flips[False] <= eps * 0.75
    assert flips[True] >= flips[False] + 0.8 * eps


@pytest.mark.parametrize("method", ["ABF", "IABF"])
def test_regularized_training_runs_and_selects_the_best_validation_epoch(method):
    model, hist = npl.train("binary_mnist", eps=0.1, seed=0, epochs=2, device=torch.device("cpu"), n_train=200,
                            method=method, select_best=True, n_val=100)
    assert len(hist) == 2 and sum(h["selected"] for h in hist) == 1
    best = min(hist, key=lambda h: h["val_l2_per_image"])
    assert best["selected"]
    again, _ = npl.train("binary_mnist", eps=0.1, seed=0, epochs=2, device=torch.device("cpu"), n_train=200,
                         method=method, select_best=True, n_val=100)  # from the cache: the selected weights
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values())
               if isinstance(a, torch.Tensor))


def _history(scores: dict):
    """Training-history rows: two epochs per model, the second selected with the given validation distortion."""
    import pandas as pd

    rows = []
    for (method, channel, seed), val in scores.items():
        rows += [{"method": method, "eps": 0.1, "seed": seed, "abf_channel": channel, "epoch": 1, "selected": False,
                  "val_l2_per_image": val + 5.0},
                 {"method": method, "eps": 0.1, "seed": seed, "abf_channel": channel, "epoch": 2, "selected": True,
                  "val_l2_per_image": val}]
    return pd.DataFrame(rows)


def test_the_abf_noise_is_chosen_by_mean_selected_validation_per_method():
    from repro.experiments.iabf import choose_abf_noise

    h = _history({("NECST", None, 0): 1.0, ("NECST", None, 1): 1.0,
                  ("ABF", True, 0): 15.0, ("ABF", True, 1): 16.0, ("ABF", False, 0): 14.0, ("ABF", False, 1): 16.6,
                  ("IABF", True, 0): 15.0, ("IABF", True, 1): 15.0, ("IABF", False, 0): 14.0,
                  ("IABF", False, 1): 16.0})
    c = choose_abf_noise(h).set_index(["method", "abf_channel"])
    assert c.loc[("ABF", False), "val_l2_selected_mean"] == pytest.approx(15.3)
    assert bool(c.loc[("ABF", False), "chosen"]) and not bool(c.loc[("ABF", True), "chosen"])
    # IABF: 15.0 each way, a tie keeps the channel (ours)
    assert bool(c.loc[("IABF", True), "chosen"]) and not bool(c.loc[("IABF", False), "chosen"])
    assert set(c.n_seeds) == {2} and "NECST" not in c.index.get_level_values(0)


def test_abf_noise_choice_refuses_variants_on_different_seeds_and_missing_columns():
    from repro.experiments.iabf import choose_abf_noise

    h = _history({("ABF", True, 0): 15.0, ("ABF", True, 1): 15.0, ("ABF", False, 0): 14.0})
    with pytest.raises(ValueError, match=r"ABF at eps 0.1: .* different seeds \(\[0, 1\] and \[0\]\)"):
        choose_abf_noise(h)
    with pytest.raises(ValueError, match=r"lacks the columns \['abf_channel'\]"):
        choose_abf_noise(h.drop(columns="abf_channel"))
