"""The job layer: plans that match the notebooks, parallel workers, locks, dead workers, bad input, Ray, bf16."""

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from repro.core.cache import CheckpointCache, config_key
from repro.core.paths import cache_root
from repro.core.training import fit
from repro.experiments import generative_dna as gdna
from repro.experiments import iabf as iabf_exp
from repro.experiments import necst as necst_exp
from repro.jobs import Job, JobBusy, status
from repro.jobs.cli import collect, main
from repro.jobs.local import run_local
from repro.systems import vae_storage as vs

from .conftest import ROOT

SMOKE_VAE = dict(dataset="mnist", seed=0, epochs=1, latent_dim=16, batch_size=64, lr=1e-3, n_train=128,
                 precision="fp32")


def vae_job(seed=0, **kw):
    return Job("01_vae_compression", f"vae-test-seed{seed}", "repro.systems.vae_storage:train_vae",
               {**SMOKE_VAE, "seed": seed, **kw}, cost=1.0, meta={"seed": seed})


def test_plan_of_notebook_03_lists_every_method_eps_and_seed():
    P = iabf_exp.settings("cpu", {"dataset": "mnist", "eps_values": [0.1, 0.2, 0.3, 0.4]})
    jobs = iabf_exp.jobs(P, "cpu")
    grid = {(j.meta["method"], j.meta["eps"], j.meta["seed"]) for j in jobs if "method" in j.meta
            and not j.meta["official"]}
    assert grid >= {(m, e, 0) for m in ("NECST", "ABF", "IABF") for e in (0.1, 0.2, 0.3, 0.4)}
    assert {(m, 0.1, s) for m in ("NECST", "ABF", "IABF") for s in (1, 2)} <= grid
    official = [(j.meta["method"], j.meta["seed"], j.meta["budget"]) for j in jobs if j.meta.get("official")]
    # official ABF and IABF: every seed at the ablation budget, the first at the main budget
    assert sorted(official) == sorted([(m, s, "ablation") for m in ("ABF", "IABF") for s in (0, 1, 2)]
                                      + [("ABF", 0, "main"), ("IABF", 0, "main")])
    assert len({j.key for j in jobs}) == len(jobs)
    assert all(j.cost > 0 for j in jobs)


def test_the_attack_only_abf_twins_are_new_keys_and_the_default_keys_are_unchanged():
    P = iabf_exp.settings("cpu", {"dataset": "mnist"})
    twins = iabf_exp.abf_noise_jobs(P)
    assert {(j.meta["method"], j.meta["seed"]) for j in twins} == {(m, s) for m in ("ABF", "IABF") for s in (0, 1, 2)}
    assert all(j.kwargs["abf_channel"] is False and "adversary-only" in j.name for j in twins)
    default = iabf_exp.model_job(P, "ABF", 0.1, 0)
    assert iabf_exp.model_job(P, "ABF", 0.1, 0, abf_channel=True).key == default.key
    assert "abf_channel" not in default.kwargs and default.key not in {j.key for j in twins}
    assert iabf_exp.abf_noise_jobs(iabf_exp.settings("cpu", {"dataset": "omniglot"})) == []


def test_only_keeps_the_named_jobs_and_rejects_a_name_matching_none(capsys):
    assert main(["plan", "--notebook", "03_iabf", "-p", "dataset", "mnist", "--only", "adversary-only",
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 6 and all("adversary-only" in r["job"] for r in rows)
    assert main(["plan", "--notebook", "03_iabf", "-p", "dataset", "mnist", "--only", "nope"]) == 2
    err = capsys.readouterr().err
    assert "--only 'nope' matches no job; valid job names: necst-mnist-eps0.1-seed0" in err


def test_plan_cli_json_and_shared_jobs_counted_once(capsys):
    assert main(["plan", "--notebook", "01_vae_compression", "--notebook", "05_dna_storage", "--profile", "cpu",
                 "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    # notebook 05 stores the latents of notebook 01's VAEs: at equal settings the same three jobs
    assert [r["job"] for r in rows].count("vae-mnist-seed0") == 1
    assert {r["status"] for r in rows} == {"todo"}


def test_minus_p_applies_to_every_dataset_run_unless_dataset_given():
    every = collect(["02_necst"], "smoke", {"epochs": 2})
    assert {j.kwargs["dataset"] for j in every} == {"binary_mnist", "omniglot", "random_bits", "mnist", "cifar10",
                                                    "celeba32"}
    assert {j.kwargs["epochs"] for j in every if j.name.startswith("necst")} == {2}
    one = collect(["02_necst"], "smoke", {"dataset": "mnist"})
    assert {j.kwargs["dataset"] for j in one} == {"mnist"}


def test_job_trains_the_checkpoint_the_notebook_call_finds(one_torch_thread):
    job = vae_job()
    _, hist = job.train(device="cpu")
    assert job.is_done() and status(job) == "done"
    # the notebook's own call with the same settings is a cache hit: no new epoch is trained
    before = sorted(p.name for p in cache_root().glob("vae-mnist-*.pt"))
    _, hist2 = vs.train_vae("mnist", seed=0, epochs=1, device=torch.device("cpu"), n_train=128)
    assert sorted(p.name for p in cache_root().glob("vae-mnist-*.pt")) == before and len(before) == 1
    assert hist2 == hist


def test_a_job_planned_under_another_name_is_done_when_its_twin_is(one_torch_thread):
    """Notebooks 02 and 03 plan the same eps-0.1 NECST model under different names: one key, one checkpoint,
    so the plan must not count it as work twice."""
    from repro.jobs.spec import Job

    job = vae_job(seed=7)
    twin = Job("02_necst", "another-name", job.target, dict(job.kwargs))
    other = Job("02_necst", "another-model", job.target, {**job.kwargs, "seed": 8})
    assert twin.key == job.key and other.key != job.key
    assert status(twin) == "todo"
    job.train(device="cpu")
    assert twin.is_done() and status(twin) == "done" and not twin.done_path().exists()
    assert status(other) == "todo"


def test_notebook_job_lists_use_the_same_keys_as_the_planner():
    P = gdna.settings("smoke", {})
    assert [j.key for j in gdna.vae_jobs("01_vae_compression", P)] == \
        [j.key for j in gdna.plan("smoke", {}) if j.name.startswith("vae")]
    P2 = necst_exp.settings("smoke", {"dataset": "binary_mnist"})
    planned = {j.key for j in necst_exp.plan("smoke", {"dataset": "binary_mnist"})}
    assert {necst_exp.necst_job(P2, e, s).key for s in P2["seeds"] for e in P2["eps_values"]} <= planned
    assert necst_exp.discrete_vae_job(P2, 0).key in planned


def test_an_interrupted_job_is_estimated_by_the_epochs_its_log_says_are_left(tmp_path):
    from repro.jobs.local import estimate_wall, fraction_trained, log_path, remaining_cost

    job, fresh = (dataclasses.replace(vae_job(seed=s), cost=100.0) for s in (30, 31))
    assert remaining_cost(job, tmp_path) == 100.0  # no log: the whole job
    log = log_path(job, tmp_path)
    assert log.parent == tmp_path and log.name.startswith("vae-test-seed30-")
    log.write_text("[progress] vae-mnist resuming after epoch 20/80\n"
                   "[progress] vae-mnist epoch 21/80 40% 900 img/s eta 1m\n"
                   "[progress] vae-mnist epoch 21/80 done 950 img/s eta 1m l2=3\n"
                   "[progress] vae-mnist epoch 22/80 10% 900 img/s eta 1m\n")
    assert fraction_trained(job, tmp_path) == pytest.approx(21 / 80)  # a line within an epoch does not count
    assert remaining_cost(job, tmp_path) == pytest.approx(100 * 59 / 80)
    full, left = estimate_wall([fresh], 1, tmp_path), estimate_wall([job], 1, tmp_path)
    assert full - left == pytest.approx(100 * 21 / 80, rel=0.01)
    log.write_text("[progress] vae-mnist resuming after epoch 40/80\n")  # killed before its first new epoch
    assert remaining_cost(job, tmp_path) == pytest.approx(50.0)
    # two models in one log: the last line says nothing of the first, so the job counts in full
    log.write_text("[progress] vae-a epoch 80/80 done 1 img/s\n[progress] vae-b epoch 3/80 done 1 img/s\n")
    assert remaining_cost(job, tmp_path) == 100.0


def test_two_workers_resume_and_skip(tmp_path):
    jobs = [vae_job(20), vae_job(21)]
    lines = []
    outcomes = run_local(jobs, workers=2, log_dir=tmp_path / "logs", echo=lines.append)
    assert [o.status for o in outcomes] == ["done", "done"], lines
    assert any("epoch 1/1 done" in ln for ln in lines), lines  # progress relayed from the workers
    again = run_local(jobs, workers=2, log_dir=tmp_path / "logs", echo=lines.append)
    assert [o.status for o in again] == ["skipped", "skipped"]


def _weights(job, root):
    """The trained weights of ``job``'s checkpoint under the cache ``root``."""
    seed = job.kwargs["seed"]
    [path] = [p for p in Path(root).glob("vae-mnist-*.pt")
              if torch.load(p, map_location="cpu", weights_only=False).get("config", {}).get("seed") == seed]
    return torch.load(path, map_location="cpu", weights_only=False)["model"]


def test_a_job_trained_after_others_in_one_worker_equals_one_trained_alone(tmp_path, monkeypatch, one_torch_thread):
    # persistent workers train jobs one after another in one process: no state may leak from one job to the next
    monkeypatch.setenv("REPRO_CACHE_DIR", str(tmp_path / "shared"))
    first, second = vae_job(40), vae_job(41)
    lines = []
    outcomes = run_local([first, second], workers=1, log_dir=tmp_path / "logs", echo=lines.append)
    assert [o.status for o in outcomes] == ["done", "done"], lines
    assert sum("persistent worker" in ln for ln in lines) == 1
    pids = {ln.split("worker pid ")[1].split(")")[0] for ln in (tmp_path / "logs").glob("*.log")
            for ln in ln.read_text().splitlines() if "worker pid" in ln}
    assert len(pids) == 1  # both jobs ran in the same worker process
    monkeypatch.setenv("REPRO_CACHE_DIR", str(tmp_path / "alone"))
    second.train(device="cpu")  # in this process, alone
    a, b = _weights(second, tmp_path / "shared"), _weights(second, tmp_path / "alone")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert any("estimated" in ln and "finished in" in ln for ln in lines)


def test_idle_cores_are_lent_only_to_the_last_job_on_an_idle_machine(tmp_path):
    from repro.jobs.local import threads_for

    assert threads_for(1, busy_after=0, jobs_left=0, cores=2, load=0.1) == 2  # the last job, an idle machine
    assert threads_for(1, busy_after=1, jobs_left=0, cores=2, load=1.1) == 1  # the other core is busy with ours
    assert threads_for(1, busy_after=0, jobs_left=3, cores=2, load=0.1) == 1  # jobs still waiting for a worker
    assert threads_for(1, busy_after=0, jobs_left=0, cores=2, load=1.6) == 1  # someone else keeps the machine busy
    assert threads_for(2, busy_after=0, jobs_left=0, cores=8, load=0.0) == 8
    job = vae_job(45)
    [o] = run_local([job], workers=1, log_dir=tmp_path, echo=lambda s: None)  # default: never lent
    assert o.status == "done" and json.loads(job.done_path().read_text())["threads"] == 1


def test_a_dying_worker_fails_its_job_only(tmp_path):
    crash = Job("01_vae_compression", "crash", "repro.jobs.diagnostics:crash", {"exit_code": 13})
    boom = Job("01_vae_compression", "boom", "repro.jobs.diagnostics:fail", {"message": "bad luck"})
    good = vae_job(22)
    outcomes = run_local([crash, boom, good], workers=2, log_dir=tmp_path / "logs", echo=lambda s: None)
    by = {o.job.name: o for o in outcomes}
    assert by["crash"].status == "failed" and "13" in by["crash"].error and by["crash"].log.exists()
    assert by["boom"].status == "failed" and "bad luck" in by["boom"].error
    assert by["vae-test-seed22"].status == "done"
    assert not crash.is_done()


def test_the_data_folder_reaches_each_job_as_an_argument(tmp_path, monkeypatch):
    """``run_local(..., data_root=)`` hands the folder to each job's trainer; nothing goes through the environment
    (the runner's ``-p data_dir`` used to be written into ``$REPRO_DATA_DIR``)."""
    monkeypatch.delenv("REPRO_DATA_DIR", raising=False)
    job = Job("01_vae_compression", "where", "repro.jobs.diagnostics:fail", {"message": "looked"})
    [o] = run_local([job], workers=1, log_dir=tmp_path / "logs", echo=lambda s: None, data_root=tmp_path / "d")
    assert o.status == "failed" and f"looked (data_root {tmp_path / 'd'})" in o.error
    assert "REPRO_DATA_DIR" not in os.environ


def test_cli_exit_status_is_nonzero_when_a_job_fails(tmp_path, monkeypatch, capsys):
    import repro.jobs.cli as cli

    crash = Job("01_vae_compression", "crash", "repro.jobs.diagnostics:crash", {"exit_code": 9})
    monkeypatch.setattr(cli, "collect", lambda *a, **k: [crash])
    assert main(["run", "--workers", "1", "--log-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "failed: crash" in out and "log:" in out and "rerun" in out


def test_a_held_lock_makes_the_worker_step_aside(tmp_path):
    job = vae_job(3)
    with job.lock(wait=False):
        assert status(job) == "running"
        with pytest.raises(JobBusy, match="pid"):
            with job.lock(wait=False):
                pass
        outcomes = run_local([job], workers=1, log_dir=tmp_path, echo=lambda s: None)
        assert outcomes[0].status == "busy"
    assert status(job) == "partial"  # started (lock file exists) but never finished


@pytest.mark.parametrize("argv,needle", [
    (["plan", "--notebook", "06_nope"], "unknown notebook '06_nope'; valid choices: '01_vae_compression'"),
    (["plan", "--profile", "fast"], "unknown profile 'fast'; valid choices: 'smoke', 'cpu', 'paper'"),
    (["plan", "--notebook", "02_necst", "-p", "epoch", "3"], "unknown parameter(s) ['epoch']"),
    (["run", "--notebook", "01_vae_compression", "--workers", "0"], "--workers must be at least 1"),
    (["run", "--notebook", "01_vae_compression", "--ray", "127.0.0.1:1"],
     "cannot reach a Ray cluster at --ray '127.0.0.1:1'"),
])
def test_bad_input_is_one_line_naming_it(argv, needle, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


@pytest.fixture(scope="module")
def local_ray(tmp_path_factory):
    """One private Ray instance for this module's Ray tests (started with the same retries as ``--ray local``, so a
    busy machine gets more than Ray's fixed 30 s); ``run_ray`` uses it and leaves it running. The tasks get the
    hermetic environment of ``conftest.hermetic_env`` (module fixtures start before the function-scoped one)."""
    from repro.jobs.ray_backend import connect

    from .conftest import SAMPLE

    base = tmp_path_factory.getbasetemp()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REPRO_DATA_DIR", str(SAMPLE))
        mp.setenv("REPRO_CACHE_DIR", str(base / "cache"))
        ray, started = connect("local", num_cpus=2)
    yield ray
    if started:
        ray.shutdown()


def test_ray_runs_two_smoke_jobs_on_a_local_instance(local_ray):
    from repro.jobs.ray_backend import run_ray

    jobs = [vae_job(10), vae_job(11)]
    lines = []
    outcomes = run_ray(jobs, "local", workers=2, echo=lines.append)
    assert [o.status for o in outcomes] == ["done", "done"], lines
    assert all(j.is_done() for j in jobs)
    assert run_ray(jobs, "local", workers=2, echo=lines.append)[0].status == "skipped"


def test_bf16_is_part_of_the_key_and_fp32_keys_are_unchanged(one_torch_thread):
    x = torch.rand(64, 1, 28, 28)
    cache = CheckpointCache()

    def loss(m, xb, _):
        out = m(xb.flatten(1))
        return ((out - xb.flatten(1)) ** 2).mean(), {}

    for precision in ("fp32", "bf16"):
        torch.manual_seed(0)
        model = torch.nn.Linear(784, 784)
        fit(model, loss, x, name="lin", config={"m": 1}, epochs=1, batch_size=32, lr=1e-3, seed=0,
            device=torch.device("cpu"), cache=cache, precision=precision)
    files = sorted(p.name for p in cache.root.glob("lin-*.pt"))
    assert len(files) == 2
    fp32 = {"m": 1, "epochs": 1, "batch_size": 32, "lr": 1e-3, "seed": 0, "weight_decay": 0.0}
    assert f"lin-{config_key(fp32)}.pt" in files  # the key a fp32 run had before precision existed
    with pytest.raises(Exception, match="precision"):
        fit(torch.nn.Linear(2, 2), loss, x, name="lin", config={}, epochs=1, batch_size=32, lr=1e-3, seed=0,
            device=torch.device("cpu"), cache=cache, precision="fp8")


def test_progress_lines_have_epoch_rate_and_eta(monkeypatch, capsys, one_torch_thread):
    monkeypatch.setenv("REPRO_PROGRESS", "lines")
    monkeypatch.setenv("REPRO_PROGRESS_INTERVAL", "0")
    vs.train_vae("mnist", seed=5, epochs=2, device=torch.device("cpu"), n_train=128)
    err = capsys.readouterr().err
    assert "[progress] vae-mnist epoch 1/2 done" in err and "img/s" in err and "eta" in err
    assert "rec=" in err  # the reconstruction term, not only the loss


def test_worker_command_runs_a_job_file(tmp_path):
    job = vae_job(7)
    f = tmp_path / "job.json"
    f.write_text(json.dumps(job.to_dict()))
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "repro.jobs", "worker", str(f), "--threads", "1"], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert job.is_done() and time.perf_counter() - t0 < 300
