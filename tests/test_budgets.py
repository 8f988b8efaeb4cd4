"""Issue 13's pieces without training: ABF's budget variants, the random-bits collapse measure, and the cpu
profile's job plan (shared NECST jobs, main and sweep budgets, ablations)."""

import math

import pytest
import torch
from torch import nn

from repro.core.checks import ConfigError
from repro.experiments import iabf as iabf_exp
from repro.experiments import necst as necst_exp
from repro.models.iabf import AdversarialBitFlip
from repro.systems import necst as npl


def _attack(spend, eps=0.2):
    torch.manual_seed(0)
    dec = nn.Linear(20, 5)

    def ll(x, logits):
        return -(torch.sigmoid(logits) - x).pow(2).sum(-1)

    x, p = torch.rand(64, 5), torch.full((64, 20), 0.5)
    torch.manual_seed(1)
    return AdversarialBitFlip(spend=spend).noise_levels(x, p, eps, dec, ll)


def test_masked_spend_puts_the_whole_budget_on_the_attacked_bits():
    eps, m = 0.2, 20
    paper, masked = _attack("all", eps), _attack("masked", eps)
    # same attacked bits (same draws), only attacked bits carry noise
    assert torch.equal(paper > 0, masked > 0)
    attacked = (masked > 0).sum(1).float()
    # the paper's allocation spends only the attacked bits' share of M eps ...
    assert (paper.sum(1) < m * eps - 1e-3).all()
    # ... the masked one all of it, unless the attacked bits are too few to hold M eps at 1 each
    want = torch.minimum(torch.full_like(attacked, m * eps), attacked)
    assert torch.allclose(masked.sum(1), want, atol=1e-4)
    assert masked.max() <= 1.0 and masked.min() >= 0.0


def test_bad_spend_is_refused_naming_the_choices():
    with pytest.raises(ValueError, match="spend='half'.*all, masked"):
        AdversarialBitFlip(spend="half")
    with pytest.raises(Exception, match="abf_spend='masked' only changes ABF and IABF"):
        npl.regularizers("NECST", 100, abf_spend="masked")


def test_abf_budget_spent_on_a_model_reports_the_fraction():
    torch.manual_seed(0)
    model = npl.build_model("mnist", eps=0.1)
    x = torch.rand(50, 1, 28, 28)
    paper = npl.abf_budget_spent(model, x, 0.1, spend="all")
    masked = npl.abf_budget_spent(model, x, 0.1, spend="masked")
    assert paper["budget"] == pytest.approx(10.0) and masked["spent"] == pytest.approx(10.0, abs=1e-3)
    assert 0 < paper["spent"] < 10.0 and paper["spent_fraction"] == pytest.approx(paper["spent"] / 10.0)
    assert 0 < paper["attacked_bits"] < 100


def test_latent_usage_of_an_exactly_collapsed_discrete_vae_is_the_ceiling():
    vae = npl.build_model("random_bits", eps=0.0, prior="uniform", bits=25)
    with torch.no_grad():
        for layer in (vae.encoder.net[-1], vae.decoder.net[-1]):
            layer.weight.zero_()
            if layer.bias is not None:
                layer.bias.zero_()
    x = (torch.rand(200, 100) < 0.5).float()
    u = npl.latent_usage(vae, x)
    assert u["ceiling"] == pytest.approx(-100 * math.log(2))
    assert u["bound"] == pytest.approx(u["ceiling"], abs=1e-4)
    assert u["code_information"] == pytest.approx(0.0, abs=1e-4) and u["code_bits"] == 25


def _p03(dataset="mnist", profile="cpu"):
    return iabf_exp.settings(profile, {"dataset": dataset})


def test_notebooks_02_and_03_share_their_necst_models_at_the_main_point():
    p02 = necst_exp.settings("cpu", {"dataset": "mnist"})
    p03 = _p03()
    for seed in (0, 1, 2):
        assert necst_exp.necst_job(p02, 0.1, seed).key == iabf_exp.model_job(p03, "NECST", 0.1, seed).key
    # the eps-0 model of Table 1 is notebook 02's own
    keys03 = {j.key for j in iabf_exp.plan("cpu", {"dataset": "mnist"})}
    assert necst_exp.necst_job(p02, 0.0, 0).key not in keys03


def test_main_point_gets_the_full_budget_and_sweep_points_the_lower_one():
    P = _p03()
    assert P["precision"] in ("fp32", "bf16") and P["precision_reason"].startswith("auto: ")
    assert P["n_train"] is None
    main = iabf_exp.model_job(P, "IABF", 0.1, 2)
    sweep = iabf_exp.model_job(P, "IABF", 0.3, 0)
    assert main.kwargs["epochs"] == P["epochs"] > sweep.kwargs["epochs"] == P["sweep_epochs"]
    assert main.kwargs["select_best"] and main.kwargs["n_val"] == necst_exp.N_VAL
    # MNIST's main point has the converge budget: epochs is a maximum, the plateau rule of CLAIMS.md stops it
    assert (main.kwargs["stop_plateau"], main.kwargs["min_epochs"]) == (0.01, 10) and P["epochs"] == 100
    assert "stop_plateau" not in sweep.kwargs
    # the ablations and the models they are compared with: their own (one-seed) budget, no stopping rule
    abl = iabf_exp.model_job(P, "IABF", 0.1, 0, budget="ablation")
    assert abl.kwargs["epochs"] == P["ablation_epochs"] == 8 and "stop_plateau" not in abl.kwargs
    assert abl.key != iabf_exp.model_job(P, "IABF", 0.1, 0).key and abl.name == "iabf-ablation-mnist-eps0.1-seed0"
    with pytest.raises(ConfigError, match="valid choices"):
        iabf_exp.model_job(P, "IABF", 0.1, 0, budget="long")
    # Omniglot's main point has the same converge budget (issue 22); binary MNIST keeps a fixed one
    po = _p03("omniglot")
    omni = iabf_exp.model_job(po, "NECST", 0.1, 0).kwargs
    assert (omni["stop_plateau"], omni["min_epochs"]) == (0.01, 10)
    # its cap is the fewest epochs that reach half the paper's training in images seen (CLAIMS.md)
    from repro.bundle.sanity import PAPER_TRAINING
    from repro.data.registry import dataset_spec

    paper, n = PAPER_TRAINING[("iabf", "omniglot")], dataset_spec("omniglot").sizes["train"]
    half = 0.5 * paper["epochs"] * paper["n_train"]
    assert omni["epochs"] * n >= half > (omni["epochs"] - 1) * n
    assert "stop_plateau" not in iabf_exp.model_job(_p03("binary_mnist"), "NECST", 0.1, 0).kwargs
    # cifar10 has no sweep budget: every eps gets `epochs`, in fp32
    pc = _p03("cifar10")
    assert iabf_exp.model_job(pc, "ABF", 0.3, 0).kwargs["epochs"] == pc["epochs"]
    assert iabf_exp.model_job(pc, "ABF", 0.3, 0).kwargs["precision"] == "fp32"


def test_cpu_plan_has_three_seeds_at_eps_01_and_the_ablations_on_mnist():
    names = [j.name for j in iabf_exp.plan("cpu", {"dataset": "mnist"})]
    # the sweep eps values are added with -p eps_values: one seed each, at sweep_epochs
    swept = iabf_exp.plan("cpu", {"dataset": "mnist", "eps_values": [0.1, 0.3]})
    swept_names = {j.name: j for j in swept}
    for m in ("necst", "abf", "iabf"):
        assert {f"{m}-mnist-eps0.1-seed{s}" for s in (0, 1, 2)} <= set(names)
        assert not any("eps0.3" in n for n in names)
        assert f"{m}-mnist-eps0.3-seed0" in swept_names and f"{m}-mnist-eps0.3-seed1" not in swept_names
        assert swept_names[f"{m}-mnist-eps0.3-seed0"].kwargs["epochs"] == _p03()["sweep_epochs"]
    for extra in ("abf-masked-ablation-mnist-eps0.1-seed0", "iabf-lambda0.1-ablation-mnist-eps0.1-seed0",
                  "iabf-lambda0.001-ablation-mnist-eps0.1-seed0", "abf-official-ablation-mnist-eps0.1-seed0",
                  "iabf-official-ablation-mnist-eps0.1-seed0", "necst-ablation-mnist-eps0.1-seed0",
                  "abf-ablation-mnist-eps0.1-seed0", "iabf-ablation-mnist-eps0.1-seed0"):
        assert extra in names
    assert len(names) == len(set(names))
    # the other datasets have the three-seed main point and no ablations
    other = [j.name for j in iabf_exp.plan("cpu", {"dataset": "omniglot"})]
    assert "iabf-omniglot-eps0.1-seed2" in other and not any("lambda" in n or "masked" in n for n in other)


def test_masked_abf_and_lambda_variants_have_their_own_checkpoint_keys():
    P = _p03()
    base = iabf_exp.model_job(P, "ABF", 0.1, 0)
    masked = iabf_exp.model_job(P, "ABF", 0.1, 0, abf_spend="masked")
    assert "abf_spend" not in base.kwargs and masked.kwargs["abf_spend"] == "masked" and base.key != masked.key
    lam = iabf_exp.model_job(P, "IABF", 0.1, 0, infomax_weight=P["infomax_weight"])
    assert lam.key == iabf_exp.model_job(P, "IABF", 0.1, 0).key
    assert "infomax_weight" not in base.kwargs  # ABF has no infomax term: lambda stays out of its key
