"""``precision: auto`` (bf16 only with native hardware bf16, a parity run and a measured speed-up), the plateau rule
of CLAIMS.md, the training loop's plateau stop, and the planner's estimates from measured throughput."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from repro.core import convergence, precision
from repro.core.checks import ConfigError
from repro.core.training import fit
from repro.experiments import compute


@pytest.fixture
def cpu(monkeypatch):
    """Pretend to be a CPU with the given flags (``cpu('amx_bf16')``) and a given probe speed-up."""

    def make(*flags, speedup=2.0):
        monkeypatch.setattr(precision, "cpu_model_and_flags", lambda: ("Test CPU", frozenset(flags)))
        monkeypatch.setattr(compute, "probe_speedup", lambda family, device="auto": speedup)

    return make


def test_auto_is_fp32_without_native_bf16_and_says_why(cpu):
    cpu("avx2", "fma")
    prec, why = compute.resolve("auto", "necst_mlp", "cpu")
    assert prec == "fp32" and "no native bf16" in why and "Test CPU" in why
    assert compute.resolve(None, "vae", "cpu")[0] == "fp32"  # None means auto


def test_auto_keeps_bf16_only_where_parity_and_the_probe_allow(cpu):
    cpu("avx512_bf16", speedup=1.6)
    prec, why = compute.resolve("auto", "necst_mlp", "cpu")  # parity run kept bf16 for the NECST MLP
    assert prec == "bf16" and "1.60x" in why
    assert compute.resolve("auto", "necst_conv", "cpu")[0] == "fp32"  # its parity run was not informative
    assert compute.resolve("auto", "vae", "cpu")[0] == "fp32"  # no parity run
    cpu("amx_bf16", speedup=1.2)  # native, but the probe measured less than MIN_SPEEDUP
    prec, why = compute.resolve("auto", "necst_mlp", "cpu")
    assert prec == "fp32" and "1.20x" in why and f"{compute.MIN_SPEEDUP}" in why


def test_forced_precision_is_used_as_given_and_bad_values_name_the_choices(cpu):
    cpu("avx2")
    assert compute.resolve("bf16", "necst_mlp", "cpu") == ("bf16", "bf16 forced (-p precision bf16)")
    assert compute.resolve("fp32", "necst_mlp", "cpu")[0] == "fp32"
    with pytest.raises(ConfigError, match="'fp16'.*valid choices: 'auto', 'fp32', 'bf16'"):
        compute.resolve("fp16", "necst_mlp", "cpu")


def test_parity_file_decides_per_family(tmp_path):
    f = tmp_path / "t.json"
    moved = "fp32 (bf16 moved test distortion beyond the seed spread)"
    f.write_text(json.dumps({"parity": {"a": {"decision": "bf16", "bf16_mean": 1.0, "fp32_mean": 1.1},
                                        "b": {"decision": moved}}}))
    assert precision.parity_allows("a", f)[0] is True
    ok, why = precision.parity_allows("b", f)
    assert ok is False and "beyond the seed spread" in why
    assert precision.parity_allows("c", f) == (False, "no bf16 parity run for family 'c' "
                                                       "(benchmarks/train_throughput.py)")


def test_settings_carry_the_resolved_precision_into_the_job_key(cpu):
    from repro.experiments import iabf as iabf_exp

    cpu("avx2")
    P = iabf_exp.settings("cpu", {"dataset": "mnist"})
    assert P["precision"] == "fp32" and "no native bf16" in P["precision_reason"]
    fp32_key = iabf_exp.model_job(P, "NECST", 0.1, 0).key
    cpu("amx_bf16", speedup=1.7)
    Pb = iabf_exp.settings("cpu", {"dataset": "mnist"})
    job = iabf_exp.model_job(Pb, "NECST", 0.1, 0)
    assert Pb["precision"] == "bf16" and job.kwargs["precision"] == "bf16" and job.key != fp32_key


def test_last_quarter_improvement_is_the_claims_md_rule():
    # 8 epochs: the last quarter is 2 epochs; best before them 10.0, best overall 9.95 -> 0.5 %
    curve = [20, 15, 12, 11, 10.5, 10.0, 9.98, 9.95]
    assert convergence.last_quarter_improvement(curve) == pytest.approx(0.005)
    assert convergence.plateaued(curve) and not convergence.plateaued(curve, rel=0.004)
    # still falling: 10 % over the last quarter
    assert not convergence.plateaued([20, 15, 12, 11, 10, 9])
    # a rise at the end is no improvement (the best value counts)
    assert convergence.last_quarter_improvement([5, 4, 4.5, 4.6]) == 0.0
    assert convergence.plateaued([1.0]) is False  # too short to say


def _toy(one_epoch_values):
    """A model and a val_fn that reports the given validation values epoch by epoch."""
    values = iter(one_epoch_values)
    model = nn.Linear(4, 4)

    def loss(m, xb, _):
        return ((m(xb) - xb) ** 2).mean(), {}

    return model, loss, (lambda m: {"l2": next(values)})


def test_fit_stops_on_a_plateau_and_a_rerun_returns_the_stopped_run(tmp_path, one_torch_thread):
    from repro.core.cache import CheckpointCache

    cache = CheckpointCache(tmp_path)
    x = torch.rand(32, 4)
    vals = [10.0, 8.0, 7.0, 6.9, 6.95, 6.93, 6.92, 6.91, 1.0, 1.0]
    model, loss, val = _toy(vals)
    kw = dict(name="toy", config={"m": 1}, epochs=10, batch_size=16, lr=1e-2, seed=0, device=torch.device("cpu"),
              cache=cache, val_fn=val, select_by="l2", stop_plateau=0.01, min_epochs=4)
    _, hist = fit(model, loss, x, **kw)
    # epoch 4: last quarter (1 epoch) 7.0 -> 6.9, 1.4 %; epoch 5: last 2 epochs, 7.0 -> 6.9, 1.4 %;
    # epoch 6: last 2 epochs, best 6.9 before them and after -> 0 %: stop, and test the epoch-4 weights
    assert [h["epoch"] for h in hist] == [1, 2, 3, 4, 5, 6] and hist[-1]["stopped"] == "plateau"
    assert [h["selected"] for h in hist] == [False, False, False, True, False, False]
    model2, loss2, val2 = _toy([99.0] * 10)
    _, again = fit(model2, loss2, x, **{**kw, "val_fn": val2})
    assert len(again) == 6  # complete: loaded from the cache, not trained on
    with pytest.raises(ValueError, match="stop_plateau"):
        fit(model2, loss2, x, **{**kw, "select_by": None})


def test_a_longer_budget_extends_a_shorter_complete_run_to_the_same_weights(tmp_path, one_torch_thread):
    from repro.core.cache import CheckpointCache

    x = torch.rand(64, 4)

    def run(cache, epochs, vals, **extra):
        torch.manual_seed(123)
        model, loss, val = _toy(vals)
        return fit(model, loss, x, name="toy", config={"m": 1}, epochs=epochs, batch_size=16, lr=1e-2, seed=3,
                   device=torch.device("cpu"), cache=cache, val_fn=val, select_by="l2", **extra)

    falling = [10.0 - i for i in range(8)]
    scratch, h_scratch = run(CheckpointCache(tmp_path / "a"), 6, falling)
    short_cache = CheckpointCache(tmp_path / "b")
    run(short_cache, 3, falling)
    extended, h_ext = run(short_cache, 6, falling[3:])  # only epochs 4-6 are trained: they read the rest of vals
    assert [h["epoch"] for h in h_ext] == [1, 2, 3, 4, 5, 6]
    for a, b in zip(scratch.state_dict().values(), extended.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert [h["loss"] for h in h_ext] == pytest.approx([h["loss"] for h in h_scratch], rel=0, abs=0)
    # a different configuration is never extended
    _, other = run(short_cache, 6, falling, weight_decay=0.1)
    assert len(other) == 6 and other[0]["val_l2"] == 10.0
    # the shorter run ended at its maximum: the longer budget applies the plateau rule at that epoch and stops
    flat = [7.0, 6.9, 6.9, 6.9, 6.9, 6.9]
    c = CheckpointCache(tmp_path / "c")
    run(c, 5, flat, stop_plateau=0.01, min_epochs=5)  # maximum 5: no plateau check at epoch 5
    _, h = run(c, 9, [99.0] * 9, stop_plateau=0.01, min_epochs=5)
    assert len(h) == 5 and h[-1]["stopped"] == "plateau" and [r["val_l2"] for r in h] == flat[:5]


def test_plan_estimates_from_this_machines_measured_throughput(tmp_path, monkeypatch):
    from repro.core import throughput
    from repro.experiments.common import SECONDS_PER_IMAGE, cost

    monkeypatch.setenv("REPRO_CACHE_DIR", str(tmp_path))
    before = cost("necst_mlp", 2, 1000)
    assert before == pytest.approx(2 * 1000 * SECONDS_PER_IMAGE["necst_mlp"])
    (tmp_path / "throughput.json").write_text(json.dumps({throughput.machine_key(): {
        "date": "2026-12-03T00:00:00+00:00", "seconds_per_image": {"necst_mlp|fp32": 1 / 1000},
        "method_factor": {"NECST": 1.0, "ABF": 1.2, "IABF": 1.25}}}))
    assert cost("necst_mlp", 2, 1000) == pytest.approx(2.0)
    # an unprobed family is scaled by the probed ones' ratio to the development machine
    ratio = (1 / 1000) / SECONDS_PER_IMAGE["necst_mlp"]
    assert cost("classifier", 1, 1000) == pytest.approx(1000 * SECONDS_PER_IMAGE["classifier"] * ratio)
    from repro.experiments.iabf import method_cost

    assert method_cost("IABF") == 1.25


def test_wall_estimate_counts_a_fixed_cost_per_job_and_one_start_up_per_worker(tmp_path, monkeypatch):
    """Issue 29: the smoke plan's jobs are mostly fixed cost (building, loading, writing), which the image costs
    alone left out (estimate 41 s against 65 s); the measured per-job overhead and start-up now enter."""
    from repro.core import throughput
    from repro.jobs.local import JOB_OVERHEAD_SECONDS, STARTUP_SECONDS, estimate_wall, job_overhead
    from repro.jobs.spec import Job

    monkeypatch.setenv("REPRO_CACHE_DIR", str(tmp_path))
    jobs = [Job("nb", f"j{i}", "m:f", {"i": i}, cost=2.0) for i in range(10)]
    assert job_overhead() == JOB_OVERHEAD_SECONDS
    one = estimate_wall(jobs, 1)
    assert one == pytest.approx(10 * (2.0 + JOB_OVERHEAD_SECONDS) + STARTUP_SECONDS)
    (tmp_path / "throughput.json").write_text(json.dumps({throughput.machine_key(): {
        "date": "2026-12-04T00:00:00+00:00", "worker_startup_seconds": 3.0, "job_overhead_seconds": 1.5}}))
    two = estimate_wall(jobs, 2)
    assert two == pytest.approx(10 * (2.0 + 1.5) / 2 / throughput.SIDE_BY_SIDE + 3.0)
    assert estimate_wall([], 2) == 0.0
