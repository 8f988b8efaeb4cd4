"""Notebook 04's experiments module: settings and their errors, the job plan, and the evaluation tables on
synthetic numbers whose answers are known (best beta and its bracketing, intervals over seeds, linearity,
the same-coder prior gap, the ALV sanity rules, the claims' verdicts)."""

import numpy as np
import pandas as pd
import pytest
import torch

from repro.core.checks import ConfigError
from repro.experiments import bandwidth as bw
from repro.experiments import plan
from repro.jobs.spec import Job

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_settings_resolve_the_profile_and_name_bad_values():
    P = bw.settings("cpu", {})
    assert P["seeds"] == [0, 1, 2] and set(P["alv_variants"]) == {"plain", "skip-kl10"}  # eq. 9 as written + one
    assert P["joint_betas"] == sorted(P["joint_betas"]) and len(P["separate_betas"]) >= 3
    with pytest.raises(ConfigError, match="unknown alv_variants entry 'huge'.*'kl10'"):
        bw.settings("smoke", {"alv_variants": ["plain", "huge"]})
    with pytest.raises(ConfigError, match="alv_variants must list at least one ALV decoder; valid: kl10, plain"):
        bw.settings("smoke", {"alv_variants": []})
    with pytest.raises(ConfigError, match="joint_beta_extensions"):
        bw.settings("smoke", {"joint_beta_extensions": -1})
    with pytest.raises(ConfigError, match="source_stop_plateau"):
        bw.settings("smoke", {"source_stop_plateau": 2.0})
    with pytest.raises(ConfigError, match="unknown alv_alternatives entry 'x'"):
        bw.settings("smoke", {"alv_alternatives": ["x"]})
    with pytest.raises(ConfigError, match="joint_betas value"):
        bw.settings("smoke", {"joint_betas": [-0.1]})
    with pytest.raises(ConfigError, match="unknown dataset 'omniglot'"):
        bw.settings("smoke", {"dataset": "omniglot"})
    with pytest.raises(ConfigError, match="SNR in dB"):
        bw.settings("smoke", {"snrs_db": [0.0, 99.0]})


def test_plan_lists_every_model_once_with_importable_targets():
    P = bw.settings("cpu", {})
    jobs = plan("04_bandwidth_awgn", "cpu", {})
    n_seeds, n_snr = len(P["seeds"]), len(P["snrs_db"])
    kinds = pd.Series([j.meta.get("model") for j in jobs]).value_counts()
    assert kinds["joint"] == n_seeds * n_snr * len(P["joint_betas"])
    assert kinds["source_vae"] == n_seeds * len(P["separate_betas"])
    assert kinds["channel_ae"] == n_seeds * n_snr
    alts = [a for a in P["alv_alternatives"] if a not in P["alv_variants"]]
    assert kinds["bandwidth"] == (2 + len(P["alv_variants"])) * n_seeds + len(alts)
    assert len({j.key for j in jobs}) == len(jobs) and len({j.name for j in jobs}) == len(jobs)
    for j in jobs:
        assert callable(j.function()) and j.cost > 0
        assert Job.from_dict(j.to_dict()).key == j.key
    # every ALV decoder of alv_variants on every seed, its settings in the job's kwargs
    for name in P["alv_variants"]:
        each = [j for j in jobs if j.meta.get("variant") == f"alv:{name}"]
        assert sorted(j.meta["seed"] for j in each) == P["seeds"]
        assert each[0].kwargs["alv_kl_weight"] == bw.ALV_VARIANTS[name]["alv_kl_weight"]
    # source VAEs: a maximum and the plateau stop on validation (a collapsed VAE trains until it outputs the mean)
    vae = next(j for j in jobs if j.meta.get("model") == "source_vae")
    assert vae.kwargs["epochs"] == P["source_epochs"] and vae.kwargs["stop_plateau"] == P["source_stop_plateau"]
    # an override changes the plan the way the notebook would
    assert len(plan("04_bandwidth_awgn", "cpu", {"seeds": [0]})) < len(jobs)


def test_smoke_jobs_train_through_the_job_layer(tmp_path):
    from repro.core.cache import CheckpointCache

    P = bw.settings("smoke", {"n_train": 16, "n_test": 8})
    cache = CheckpointCache(tmp_path)
    job = bw.bandwidth_job(P, f"alv:{P['alv_variants'][0]}", 0)
    model, history = job.train(device="cpu", cache=cache)
    assert model.alv_dim == P["alv_dim"] and len(history) == P["bl_epochs"] and job.is_done(tmp_path)
    # the validation distortion is recorded per epoch, at every bandwidth and their mean
    assert {f"val_l2_b{b}" for b in range(1, P["n_bands"] + 1)} <= set(history[-1])
    assert history[-1]["val_l2_per_image"] == pytest.approx(
        np.mean([history[-1][f"val_l2_b{b}"] for b in range(1, P["n_bands"] + 1)]))
    again, _ = job.train(device="cpu", cache=cache)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))


def test_the_source_vae_job_with_a_plateau_stop_selects_on_validation(tmp_path):
    """The cpu profile's source VAEs train with the plateau stop, which needs the validation curve: each epoch
    records it, the epoch with the lowest one is selected, and training may stop before the maximum."""
    from repro.core.cache import CheckpointCache

    P = bw.settings("smoke", {"n_train": 16, "n_test": 8, "source_epochs": 3, "source_stop_plateau": 0.5,
                              "source_min_epochs": 2})
    job = next(j for j in bw.jobs(P) if j.meta.get("model") == "source_vae")
    assert job.kwargs["stop_plateau"] == 0.5
    model, history = job.train(device="cpu", cache=CheckpointCache(tmp_path))
    assert 2 <= len(history) <= 3
    vals = [h["val_l2_per_image"] for h in history]
    assert [h["selected"] for h in history] == [i == int(np.argmin(vals)) for i in range(len(vals))]


def test_every_joint_and_bandwidth_job_validates_at_every_profile():
    """The cpu profile's n_test is None (every validation image); it once switched the validation curves off."""
    for profile in ("smoke", "cpu", "paper"):
        for job in bw.jobs(bw.settings(profile, {})):
            if job.meta.get("model") in ("joint", "bandwidth"):
                assert job.kwargs["validate"] is True, (profile, job.name)


def test_derangement_has_no_fixed_point_and_is_seeded():
    p = bw.derangement(50, seed=3)
    assert sorted(p.tolist()) == list(range(50)) and not (p == torch.arange(50)).any()
    assert torch.equal(p, bw.derangement(50, seed=3))
    with pytest.raises(ValueError, match="at least 2"):
        bw.derangement(1)


def _sweep(values: dict) -> pd.DataFrame:
    rows = []
    for (system, snr, beta), vals in values.items():
        for seed, v in enumerate(vals):
            for split in ("val", "test"):
                rows.append(dict(system=system, snr_db=snr, beta=beta, split=split, metric="l2_per_image",
                                 value=v, seed=seed))
    return pd.DataFrame(rows)


def test_best_beta_bracketing_figure4_and_the_gap_intervals():
    P = {"dataset": "celeba32", "joint_betas": [0.01, 0.1, 1.0], "separate_betas": [1.0, 10.0, 100.0]}
    values = {}
    for snr, sep_offset in ((-10.0, 5.0), (0.0, 40.0), (10.0, 5.0)):
        values.update({("joint", snr, 0.01): [51, 52, 53], ("joint", snr, 0.1): [50, 51, 52],
                       ("joint", snr, 1.0): [60, 61, 62]})
        values.update({("separate", snr, 1.0): [90, 91, 92],
                       ("separate", snr, 10.0): [50 + sep_offset + i for i in range(3)],
                       ("separate", snr, 100.0): [49, 50, 51] if snr == 10.0 else [95, 96, 97]})
    df = _sweep(values)
    best = bw.best_betas(P, df)
    j = best[best.system == "joint"]
    assert (j.beta == 0.1).all() and j.interior.all()
    s = best[(best.system == "separate") & (best.snr_db == 10.0)]
    assert s.beta.item() == 100.0 and not s.interior.item()  # at the edge: the grid does not bracket it
    plateau = bw.beta_plateau(df, best).set_index(["system", "snr_db"])
    assert plateau.loc[("joint", 0.0), "neighbour_minus_best"] == "beta 0.01: +1.00, beta 1: +10.00"
    assert plateau.loc[("joint", 0.0), "seed_std_at_best"] == pytest.approx(1.0)
    f4 = bw.figure4(P, df, best)
    row = f4[(f4.system == "joint") & (f4.snr_db == 0.0)]
    assert row.test_l2.item() == pytest.approx(51.0) and row.ci_low.item() < 51 < row.ci_high.item()
    gaps = bw.gap_table(P, df, best, mean_l2=200.0)
    at0 = gaps[gaps.contrast == "separate - joint at 0 dB"]
    assert at0.value.item() == pytest.approx(40.0) and at0.ci_low.item() == pytest.approx(40.0)  # constant gap
    ends = gaps[gaps.contrast.str.startswith("largest interior")]
    assert len(ends) == 2 and (ends.value > 0).all()


def test_the_rate_zero_code_outputs_the_training_mean_and_is_chosen_only_where_validation_prefers_it():
    from repro.models.jscc import RateZeroSystem
    from repro.systems.protocol import distortions

    g = torch.Generator().manual_seed(0)
    train_x, test_x = torch.rand(40, 3, 8, 8, generator=g), torch.rand(12, 3, 8, 8, generator=g)
    system = RateZeroSystem(train_x.mean(0))
    out = system.reconstruct(test_x, generator=None, snr=10.0)
    assert out.shape == test_x.shape and torch.equal(out[0], train_x.mean(0)) and torch.equal(out[5], out[0])
    assert system.encode(test_x, generator=None).shape == (12, 0)  # nothing is sent
    d = distortions(system, test_x, seed=0, batch=5)
    assert float(d.mean()) == pytest.approx(bw.mean_image_l2(train_x, test_x), rel=1e-6)
    with pytest.raises(ValueError, match=r"expected images \(N, 3, 8, 8\)"):
        system.reconstruct(torch.rand(2, 1, 8, 8), generator=None)
    with pytest.raises(ConfigError, match="SNR=-1.0"):
        system.reconstruct(test_x, generator=None, snr=-1.0)

    P = {"dataset": "celeba32", "joint_betas": [0.1, 1.0, 10.0], "separate_betas": [10.0, 100.0]}
    values = {}
    for snr, vae_val in ((-10.0, 221.0), (10.0, 150.0)):  # the mean image scores 220 everywhere
        values.update({("joint", snr, b): [200 + b, 201 + b, 202 + b] for b in (0.1, 1.0, 10.0)})
        values.update({("separate", snr, 10.0): [vae_val + 5] * 3, ("separate", snr, 100.0): [vae_val] * 3,
                       ("separate", snr, bw.RATE_ZERO_BETA): [220.0] * 3})
    df = _sweep(values)
    best = bw.best_betas(P, df).set_index(["system", "snr_db"])
    assert np.isinf(best.loc[("separate", -10.0), "beta"]) and best.loc[("separate", 10.0), "beta"] == 100.0
    assert best.loc[("separate", -10.0), "grid"] == "10 100 inf"
    sens = bw.beta_sensitivity(df).set_index(["system", "snr_db"])  # trained betas only
    assert sens.loc[("separate", -10.0), "best_beta"] == 100.0 and sens.loc[("separate", -10.0), "n_betas"] == 2
    f4 = bw.figure4(P, df, best.reset_index()).set_index(["system", "snr_db"])
    assert f4.loc[("separate", -10.0), "test_l2"] == pytest.approx(220.0) and f4.loc[("separate", -10.0), "at_limit"]
    plateau = bw.beta_plateau(df, best.reset_index()).set_index(["system", "snr_db"])
    assert plateau.loc[("separate", -10.0), "at_limit"] and not plateau.loc[("separate", 10.0), "at_limit"]
    from repro.plots.bandwidth import beta_text
    assert beta_text(float("inf")) == "rate 0" and beta_text(1e4) == "10000" and beta_text(0.1) == "0.1"
    assert beta_text(0.0) == "0"
    assert best.loc[("separate", -10.0), "at_limit"] and not best.loc[("separate", 10.0), "at_limit"]
    assert not best.loc[("joint", -10.0), "at_limit"]  # best 0.1, the grid's lowest: neither interior nor a limit
    assert not best.loc[("joint", -10.0), "interior"]


def test_the_joint_grid_may_hold_beta_zero_its_limit():
    P = bw.settings("cpu", {})
    assert P["joint_betas"][0] == 0.0 and any(j.name.endswith("-beta0-seed0") for j in bw.jobs(P))
    assert bw.settings("cpu", {"joint_betas": [0.0, 1.0]})["joint_betas"] == [0.0, 1.0]
    with pytest.raises(ConfigError, match="separate_betas value=0.0"):
        bw.settings("cpu", {"separate_betas": [0.0, 1.0]})
    values = {("joint", 0.0, b): [v, v + 1, v + 2] for b, v in ((0.0, 100), (0.01, 101), (0.1, 104))}
    values.update({("separate", 0.0, b): [v] * 3 for b, v in ((1.0, 150), (10.0, 140), (bw.RATE_ZERO_BETA, 220))})
    best = bw.best_betas({"dataset": "celeba32"}, _sweep(values)).set_index(["system", "snr_db"])
    assert best.loc[("joint", 0.0), "beta"] == 0.0 and best.loc[("joint", 0.0), "at_limit"]
    assert best.loc[("separate", 0.0), "interior"] and not best.loc[("separate", 0.0), "at_limit"]


def test_epochs_trained_states_each_kind_of_models_budget():
    rows = [dict(model="joint", snr_db=snr, beta=b, seed=0, epoch=e) for snr in (0.0, 10.0) for b in (0.1, 1.0)
            for e in (1, 2)]
    rows += [dict(model="source_vae", snr_db=np.nan, beta=b, seed=0, epoch=e) for b, n in ((1.0, 12), (10.0, 30))
             for e in range(1, n + 1)]
    t = bw.epochs_trained(pd.DataFrame(rows)).set_index("model")
    assert t.loc["joint"].tolist() == [4, 2, 2.0, 2] and t.loc["source_vae"].tolist() == [2, 12, 21.0, 30]
    assert bw.epochs_trained(pd.DataFrame()).empty


def _bl(rows):
    return pd.DataFrame([dict(zip(("variant", "fill", "bandwidth", "metric", "value", "seed"), r)) for r in rows])


def test_linearity_fits_and_the_same_coder_prior_gap():
    rows = []
    for seed in range(3):
        for b in range(1, 6):
            rows.append(("gaussian prior", "own", b, "l2_per_image", 200 - 20 * b + seed, seed))  # exact line
            rows.append(("learned prior", "own", b, "l2_per_image", 100 + 4 * (b - 3) ** 2 + seed, seed))  # parabola
            if b < 5:
                rows.append(("learned prior", "gaussian", b, "l2_per_image", 100 + 4 * (b - 3) ** 2 + seed
                             + (5 - b) * (1 + 0.1 * seed), seed))
    bl = _bl(rows)
    per_seed, summary = bw.linear_fits(bl)
    g = per_seed[per_seed.variant == "gaussian prior"]
    assert np.allclose(g.r2_linear, 1.0) and np.allclose(g.slope_per_band, -20)
    assert np.allclose(g.curvature, 0, atol=1e-9)
    lp = per_seed[per_seed.variant == "learned prior"]
    assert np.allclose(lp.curvature, 4.0) and (lp.r2_linear < 0.1).all()
    gaps = bw.prior_gaps(bl)
    same = gaps[gaps.comparison.str.startswith("same coder")].set_index("contrast")
    assert same.loc["B=1", "value"] == pytest.approx(4 * 1.1)  # (5 - 1) * mean(1, 1.1, 1.2)
    assert same.loc["gap at B=1 - gap at B=4", "value"] == pytest.approx(3 * 1.1)
    assert same.loc["gap at B=1 - gap at B=4", "ci_low"] > 0


def test_alv_table_requires_message_dependence_the_mean_image_and_the_factor():
    rows = []
    for seed in range(2):
        for b in (1, 5):
            rows += [("learned prior", "own", b, "l2_per_image", 100.0, seed),
                     ("learned prior", "own", b, "l2_to_other", 300.0, seed),
                     ("learned prior", "own", b, "fid", 20.0, seed),
                     ("learned prior + ALV (kl10)", "own", b, "l2_per_image", 110.0, seed),
                     ("learned prior + ALV (kl10)", "own", b, "l2_to_other", 300.0, seed),
                     ("learned prior + ALV (kl10)", "own", b, "fid", 15.0 + seed, seed),
                     ("learned prior + ALV (plain)", "own", b, "l2_per_image", 250.0, seed),  # ignores the message
                     ("learned prior + ALV (plain)", "own", b, "l2_to_other", 255.0, seed),
                     ("learned prior + ALV (plain)", "own", b, "fid", 5.0, seed)]
    bl = _bl(rows)
    bl.attrs["mean_image_l2"] = 224.8
    t = bw.alv_table(bl, alv_factor=1.25).set_index(["variant", "bandwidth"])
    assert t.loc[("learned prior + ALV (kl10)", 1), "passes"]
    assert t.loc[("learned prior + ALV (kl10)", 1), "fid_gain"] == pytest.approx(4.5)
    assert not t.loc[("learned prior + ALV (plain)", 1), "passes"]
    assert not bw.alv_table(bl, alv_factor=1.05).set_index(["variant", "bandwidth"]).loc[
        ("learned prior + ALV (kl10)", 1), "passes"]


def test_channel_check_matches_theory():
    t = bw.channel_check(snrs_db=(0.0, 10.0), n=4000)
    assert np.allclose(t.signal_power, 1.0, atol=1e-6)
    assert np.allclose(t.measured_snr_db, t.snr_db, atol=0.1)
    assert np.allclose(t.measured_bits_per_use, t.capacity_bits_per_use, rtol=0.03)


def test_linear_uncoded_transmission_reaches_its_theory_and_the_choice_takes_the_better_code():
    from repro.channels.gaussian import db_to_linear
    from repro.models.jscc import ChannelAutoencoder, LinearChannelCode, expected_norm_ratio

    assert expected_norm_ratio(100) == pytest.approx(0.99751, abs=1e-5)
    y = torch.randn(20_000, 100, generator=torch.Generator().manual_seed(1))
    for db in (-10.0, 0.0, 10.0):
        code = LinearChannelCode(100, db_to_linear(db))
        err = float((code.reconstruct(y, generator=torch.Generator().manual_seed(2)) - y).pow(2).mean())
        assert err == pytest.approx(code.mse_per_dim(), rel=0.01)
        assert code.mse_per_dim() == pytest.approx(1 / (1 + db_to_linear(db)), abs=0.005)  # 1/(1+s) up to c_k
    P = {"dataset": "celeba32", "seeds": [0], "snrs_db": [-10.0, 10.0], "latent_dim": 100}
    torch.manual_seed(0)
    untrained = {(snr, 0): ChannelAutoencoder(100, db_to_linear(snr), 32) for snr in P["snrs_db"]}
    models = {f"cae{snr}": (Job("04_bandwidth_awgn", f"cae{snr}", "m:f", {}, meta={"model": "channel_ae",
                                                                                   "snr_db": snr, "seed": 0}),
                            m, []) for (snr, _), m in untrained.items()}
    codes = bw.channel_codes(P, models, device="cpu", n=2000)
    assert set(codes.code) == {"autoencoder", "linear"} and codes.groupby("snr_db").chosen.sum().eq(1).all()
    assert bw.chosen_codes(codes) == {-10.0: "linear", 10.0: "linear"}  # an untrained autoencoder loses
    lin = codes[codes.code == "linear"].set_index("snr_db")
    assert lin.loc[-10.0, "mse_per_dim"] == pytest.approx(lin.loc[-10.0, "linear_theory"], rel=0.03)
    with pytest.raises(ConfigError, match="unknown channel code 'ldpc'"):
        bw.separate_system(P, None, None, 0.0, "ldpc")


class _Offset(torch.nn.Module):
    """A stand-in system whose validation distortion is a chosen number (reconstruction = x + a constant)."""

    def __init__(self, d: float, pixels: int):
        super().__init__()
        self.shift = (d / pixels) ** 0.5

    def encode(self, x, *, generator):
        return x

    def send(self, code, *, generator):
        return code

    def decode(self, received, *, generator=None):
        return received + self.shift

    def reconstruct(self, x, *, generator):
        return self.decode(self.send(self.encode(x, generator=generator), generator=generator))


def test_the_joint_beta_grid_is_extended_until_it_brackets(monkeypatch):
    """Validation distortion (beta - 0.003)^2-shaped in log beta: the optimum lies two decades below the grid at
    one SNR, inside it at the other; the grid grows downward there only, one decade per round."""
    from types import SimpleNamespace

    x = torch.zeros(4, 3, 32, 32)
    val = SimpleNamespace(x=x)
    P = {"dataset": "celeba32", "seeds": [0, 1], "snrs_db": [0.0, 10.0], "joint_betas": [0.01, 0.1, 1.0],
         "joint_beta_extensions": 3, **{k: v for k, v in bw.settings("smoke", {}).items()
                                       if k not in ("seeds", "snrs_db", "joint_betas", "joint_beta_extensions")}}
    optimum = {0.0: 1e-4, 10.0: 0.1}

    def system(snr, beta):
        return _Offset(10 + (np.log10(beta) - np.log10(optimum[snr])) ** 2, x[0].numel())

    models = {}
    for snr in P["snrs_db"]:
        for beta in P["joint_betas"]:
            for seed in P["seeds"]:
                j = bw.joint_job(P, snr, beta, seed)
                models[j.name] = (j, system(snr, beta), [])
    trained = []

    def fake_train_all(jobs, **kw):
        trained.extend(jobs)
        return {j.name: (j, system(j.meta["snr_db"], j.meta["beta"]), []) for j in jobs}

    monkeypatch.setattr(bw, "train_all", fake_train_all)
    table = bw.bracket_joint_betas(P, models, val, device="cpu", cache=None, log=None)
    grids = bw.joint_grids(P, table)
    assert grids[10.0] == [0.01, 0.1, 1.0]  # interior from the start: nothing added
    assert grids[0.0] == [1e-5, 1e-4, 1e-3, 0.01, 0.1, 1.0]  # 1e-3, 1e-4, then 1e-5 shows 1e-4 is the optimum
    best = table[table.best].set_index("snr_db")
    assert best.loc[0.0, "beta"] == pytest.approx(1e-4) and best.interior.all()
    assert len(trained) == 3 * len(P["seeds"]) and {j.meta["snr_db"] for j in trained} == {0.0}
    assert table[(table.snr_db == 0.0) & (table.beta == 1e-5)].added_in_round.item() == 3


class _BandOffset(_Offset):
    def send(self, code, *, generator, bandwidth=None):
        return code

    def reconstruct(self, x, *, generator, bandwidth=None):
        return self.decode(self.send(self.encode(x, generator=generator), generator=generator))


def test_the_alv_decoder_is_chosen_on_validation_by_the_stated_rule():
    from types import SimpleNamespace

    g = torch.Generator().manual_seed(0)
    train_x = torch.rand(200, 3, 32, 32, generator=g) * 0.5 + 0.25
    val = SimpleNamespace(x=torch.rand(60, 3, 32, 32, generator=g) * 0.5 + 0.25)
    P = {"dataset": "celeba32", "n_bands": 2, "alv_variants": ["plain", "skip-kl10"]}

    def features(imgs):
        return imgs.flatten(1)[:, :6].double()

    def models_with(distortion):
        out = {}
        for variant, d in distortion.items():
            for seed in (0, 1):
                j = Job("04_bandwidth_awgn", f"{variant}-{seed}", "m:f", {},
                        meta={"model": "bandwidth", "variant": variant, "seed": seed})
                out[j.name] = (j, _BandOffset(d, val.x[0].numel()), [])
        return out

    # plain: 1.5 x the no-ALV distortion (fails the side condition); skip-kl10: below it, lower FID
    choice = bw.alv_choice(P, models_with({"learned": 4.0, "alv:plain": 6.0, "alv:skip-kl10": 3.0}), val, train_x,
                           features, device="cpu")
    assert bw.chosen_alv(choice) == bw.variant_label("alv:skip-kl10")
    assert choice[choice.chosen].reason.iloc[0].startswith("passes at every bandwidth")
    plain = choice[choice.variant == bw.variant_label("alv:plain")]
    assert plain.ratio_to_no_alv.tolist() == pytest.approx([1.5, 1.5], rel=1e-3) and not plain.passes.any()
    # neither passes: the smaller worst-case ratio wins, and the reason says so
    choice = bw.alv_choice(P, models_with({"learned": 4.0, "alv:plain": 6.0, "alv:skip-kl10": 5.0}), val, train_x,
                           features, device="cpu")
    assert bw.chosen_alv(choice) == bw.variant_label("alv:skip-kl10")
    assert choice[choice.chosen].reason.iloc[0].startswith("no decoder passes")
    assert choice.chosen.sum() == P["n_bands"]  # one decoder, every bandwidth row
