"""Paper 003 (bandwidth-limited channel), notebook 04: resolved settings, the training jobs, and every evaluation
loop and table of the notebook (beta sweeps and best-beta selection, the joint-separate gap per SNR, the
bandwidth sweeps with both priors, the same coder scored with either prior, the ALV decoders' message dependence,
FID, per-band rates, linearity fits). The notebook keeps the story, the equations, the calls and the plots.

Trainers here take plain values (dataset name, ``n_train``, width, ...) and load their data through ``data_root``,
so a :class:`~repro.jobs.Job` describes each model completely and the job runner and the notebook share the
checkpoint cache.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from scipy import stats

from repro.bundle.profiles import for_dataset, resolve
from repro.bundle.sanity import ALV_MAX_RATIO, CLEARLY_BELOW, S3_FACTOR
from repro.bundle.verdict import seed_interval
from repro.channels.gaussian import db_to_linear
from repro.core.checks import ConfigError, check_choice, check_range
from repro.data.registry import dataset_spec
from repro.experiments.common import SECONDS_PER_IMAGE, cost, resolve_precision, split_params
from repro.jobs.spec import Job
from repro.metrics.image import l2_per_image
from repro.models.jscc import LinearChannelCode, RateZeroSystem, SeparateSystem
from repro.parts.bandwidth import PART
from repro.systems import bandwidth as bp
from repro.systems.protocol import distortions, reconstruct_all

NOTEBOOK = PART.notebook
# the limits of the beta grids, which no decade can extend: the joint system's beta = 0 (eq. 8 as written, no rate
# term) and the separate system's rate-0 source code (RateZeroSystem, the limit beta -> infinity)
JOINT_LIMIT_BETA = 0.0
RATE_ZERO_BETA = math.inf
RATE_ZERO_CODE = "none (rate 0)"
EVAL_SEED = 1_000  # evaluation draws (posterior samples, noise, bandwidths, prior samples, v) come from here

# The ALV decoders compared (alternatives are trained on the first seed; the profile's ``alv_variant`` on all).
ALV_VARIANTS = {
    "plain": dict(alv_skip=False, alv_kl_weight=1.0),      # eq. 9 with p(v | z): one decoder p(x | z, v)
    "kl10": dict(alv_skip=False, alv_kl_weight=10.0),      # the same, KL on v weighted 10x
    "skip": dict(alv_skip=True, alv_kl_weight=1.0),        # base decoder m(z) scored alone + residual r(z, v)
    "skip-kl10": dict(alv_skip=True, alv_kl_weight=10.0),
}
ALV_LABEL = "learned prior + ALV"
VARIANT_LABELS = {"gaussian": "gaussian prior", "learned": "learned prior"}


def variant_label(name: str) -> str:
    """Table label of a bandwidth-model variant: ``gaussian``, ``learned`` or ``alv:<name>``."""
    if name in VARIANT_LABELS:
        return VARIANT_LABELS[name]
    return f"{ALV_LABEL} ({name.split(':', 1)[1]})"


# ---- settings ------------------------------------------------------------------------------------------------

def settings(profile: str, params: dict) -> dict:
    """Notebook 04's parameters at ``profile`` with papermill-style ``params``, checked as the notebook does."""
    runtime, overrides = split_params(params)
    dataset = runtime.get("dataset") or "celeba32"
    check_choice("dataset", dataset, bp.datasets())
    P = for_dataset(resolve(NOTEBOOK, profile, **overrides), dataset)
    P["snrs_db"] = bp.check_snrs(P["snrs_db"])
    P["bl_snr_db"] = bp.check_snrs([P["bl_snr_db"]])[0]
    for key in ("joint_betas", "separate_betas"):
        if not P[key]:
            raise ConfigError(f"{key} must list at least one beta, got {P[key]!r}")
        for b in P[key]:  # the joint grid may hold beta = 0, eq. 8 as written (JOINT_LIMIT_BETA)
            check_range(f"{key} value", b, JOINT_LIMIT_BETA if key == "joint_betas" else 1e-6, 1e6)
        P[key] = sorted(float(b) for b in P[key])
    check_range("bl_beta", P["bl_beta"], 1e-6, 1e6)
    check_range("binary_eps", P["binary_eps"], 1e-6, 0.5)
    check_choice("bl_marginalize", P["bl_marginalize"], bp.MARGINALIZE)
    if not P["alv_variants"]:
        raise ConfigError(f"alv_variants must list at least one ALV decoder; valid: {', '.join(sorted(ALV_VARIANTS))}")
    for key in ("alv_variants", "alv_alternatives"):
        for name in P[key]:
            check_choice(f"{key} entry", name, sorted(ALV_VARIANTS))
    check_range("joint_beta_extensions", P["joint_beta_extensions"], 0, 10, integer=True)
    if P["source_epochs"] is not None:
        check_range("source_epochs", P["source_epochs"], 1, 100_000, integer=True)
    if P["source_stop_plateau"] is not None:
        check_range("source_stop_plateau", P["source_stop_plateau"], 1e-6, 0.5)
        check_range("source_min_epochs", P["source_min_epochs"] or 1, 1, 100_000, integer=True)
    from repro.metrics.fid import FEATURES

    check_choice("fid_features", P["fid_features"], FEATURES)
    if not P["seeds"]:
        raise ConfigError("seeds must list at least one seed")
    if P["threads"] is not None:
        check_range("threads", P["threads"], 1, 1024, integer=True)
    if P["bl_width"] is not None:
        check_range("bl_width", P["bl_width"], 1, 1024, integer=True)
    if P["bl_n_train"] is not None:
        check_range("bl_n_train", P["bl_n_train"], 2, 10**7, integer=True)
    P.update(dataset=dataset, device=runtime.get("device") or "auto")
    resolve_precision(P, "resnet")
    return P


def arch(P: dict, in_channels: int = 3) -> bp.Arch:
    return bp.Arch(in_channels=in_channels, latent_dim=P["latent_dim"], width=P["width"], obs_std=P["obs_std"])


def _channels(dataset: str) -> int:
    return dataset_spec(dataset).shape[0]


# ---- trainers (plain values in, data loaded here) ----------------------------------------------------------------

def _arch(dataset, latent_dim, width, obs_std):
    return bp.Arch(_channels(dataset), latent_dim, width, obs_std)


def train_source_vae(*, dataset, n_train, latent_dim, width, obs_std, beta, epochs, batch_size, lr, seed,
                     precision="fp32", n_val=None, stop_plateau=None, min_epochs=1, device, cache=None,
                     data_root=None):
    train = bp.load_images(dataset, "train", data_root, n_train)
    val = bp.load_images(dataset, "val", data_root, n_val) if stop_plateau is not None else None
    return bp.train_source_vae(train, _arch(dataset, latent_dim, width, obs_std), beta=beta, epochs=epochs,
                               batch_size=batch_size, lr=lr, seed=seed, device=device, cache=cache,
                               precision=precision, val=val, stop_plateau=stop_plateau, min_epochs=min_epochs)


def train_channel_ae(*, latent_dim, snr_db, n_samples, hidden, epochs, batch_size, lr, seed, precision="fp32",
                     device, cache=None, data_root=None):
    return bp.train_channel_ae(latent_dim, snr_db=snr_db, n_samples=n_samples, hidden=hidden, epochs=epochs,
                               batch_size=batch_size, lr=lr, seed=seed, device=device, cache=cache,
                               precision=precision)


def train_joint(*, dataset, n_train, latent_dim, width, obs_std, snr_db, beta, epochs, batch_size, lr, seed,
                bandwidth_limited=False, n_bands=5, prior="gaussian", alv_dim=0, prior_components=4,
                prior_hidden=128, marginalize="sample", alv_prior="conditional", alv_skip=False, alv_kl_weight=1.0,
                precision="fp32", validate=False, n_val=None, device, cache=None, data_root=None):
    """A joint or bandwidth-limited system; with ``validate`` every epoch records the validation distortion on the
    first ``n_val`` validation images (``None``: all of them)."""
    train = bp.load_images(dataset, "train", data_root, n_train)
    val = bp.load_images(dataset, "val", data_root, n_val) if validate else None
    return bp.train_joint(train, _arch(dataset, latent_dim, width, obs_std), snr_db=snr_db, beta=beta, epochs=epochs,
                          batch_size=batch_size, lr=lr, seed=seed, device=device, cache=cache,
                          bandwidth_limited=bandwidth_limited, n_bands=n_bands, prior=prior, alv_dim=alv_dim,
                          prior_components=prior_components, prior_hidden=prior_hidden, marginalize=marginalize,
                          alv_prior=alv_prior, alv_skip=alv_skip, alv_kl_weight=alv_kl_weight, precision=precision,
                          val=val, eval_seed=EVAL_SEED)


def train_binary(*, dataset, n_train, n_val, latent_dim, width, obs_std, eps, temperature, beta, epochs, batch_size,
                 lr, seed, precision="fp32", device, cache=None, data_root=None):
    train = bp.load_images(dataset, "train", data_root, n_train)
    val = bp.load_images(dataset, "val", data_root, n_val)
    return bp.train_binary(train, _arch(dataset, latent_dim, width, obs_std), eps=eps, temperature=temperature,
                           beta=beta, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, device=device,
                           cache=cache, val=val, eval_seed=EVAL_SEED, precision=precision)


# ---- jobs ----------------------------------------------------------------------------------------------------

def _n_train(P: dict) -> int:
    from repro.experiments.common import n_images

    return n_images(P["dataset"], P["n_train"])


def _resnet_cost(P: dict, epochs: int, factor: float = 1.0) -> float:
    # time per image vs width, measured on one thread: width 8 is 1.7x faster than width 16, not 4x (small
    # convolutions are overhead-bound), so ~ (width / 16) ** 0.8. The width-16 rate is this machine's when
    # `python -m repro.jobs measure` has probed it (the "resnet" family), else the development machine's.
    scale = (P["width"] / 16) ** 0.8
    return cost("resnet", epochs, _n_train(P), scale * factor, P.get("precision") or "fp32")


def bandwidth_settings(P: dict) -> dict:
    """``P`` as the bandwidth-limited models see it: ``bl_width`` and ``bl_n_train`` (when set) replace ``width``
    and ``n_train``, so Figure 5's models can be larger than the sweep's many small ones."""
    out = dict(P)
    if P.get("bl_width") is not None:
        out["width"] = P["bl_width"]
    if P.get("bl_n_train", "unset") != "unset":
        out["n_train"] = P["bl_n_train"]
    return out


def _common(P: dict) -> dict:
    return dict(dataset=P["dataset"], n_train=P["n_train"], latent_dim=int(P["latent_dim"]), width=int(P["width"]),
                obs_std=float(P["obs_std"]), batch_size=int(P["batch_size"]), lr=float(P["lr"]),
                precision=P.get("precision", "fp32"))


def channel_ae_job(P: dict, snr_db: float, seed: int) -> Job:
    kwargs = dict(latent_dim=int(P["latent_dim"]), snr_db=float(snr_db), n_samples=int(P["cae_samples"]),
                  hidden=int(P["cae_hidden"]), epochs=int(P["cae_epochs"]), batch_size=int(P["cae_batch_size"]),
                  lr=float(P["lr"]), seed=int(seed), precision=P.get("precision", "fp32"))
    return Job(NOTEBOOK, f"bw-channel-ae-snr{snr_db:g}-seed{seed}", f"{__name__}:train_channel_ae", kwargs,
               cost=P["cae_epochs"] * P["cae_samples"] * SECONDS_PER_IMAGE["channel_ae"],
               meta={"model": "channel_ae", "snr_db": snr_db, "seed": seed}, family="mlp")


def source_vae_job(P: dict, beta: float, seed: int) -> Job:
    """A source VAE: ``source_epochs`` at most, stopped on a validation plateau (``source_stop_plateau``, not
    before ``source_min_epochs``) when the profile sets one."""
    epochs = int(P["source_epochs"] or P["epochs"])
    kwargs = dict(_common(P), beta=float(beta), epochs=epochs, seed=int(seed))
    if P.get("source_stop_plateau") is not None:
        kwargs.update(n_val=P["n_test"], stop_plateau=float(P["source_stop_plateau"]),
                      min_epochs=int(P["source_min_epochs"] or 1))
    return Job(NOTEBOOK, f"bw-source-vae-{P['dataset']}-beta{beta:g}-seed{seed}", f"{__name__}:train_source_vae",
               kwargs, cost=_resnet_cost(P, epochs), meta={"model": "source_vae", "beta": beta, "seed": seed},
               family="resnet")


def joint_job(P: dict, snr_db: float, beta: float, seed: int) -> Job:
    # validate: the cpu profile's n_test is None (all images), which once read as "no validation"
    kwargs = dict(_common(P), snr_db=float(snr_db), beta=float(beta), epochs=int(P["epochs"]), seed=int(seed),
                  validate=True, n_val=P["n_test"])
    return Job(NOTEBOOK, f"bw-joint-{P['dataset']}-snr{snr_db:g}-beta{beta:g}-seed{seed}", f"{__name__}:train_joint",
               kwargs, cost=_resnet_cost(P, P["epochs"]),
               meta={"model": "joint", "snr_db": snr_db, "beta": beta, "seed": seed}, family="resnet")


def bandwidth_job(P: dict, variant: str, seed: int) -> Job:
    """``variant``: ``gaussian``, ``learned`` or ``alv:<name of ALV_VARIANTS>`` (learned prior + ALV decoder); at
    ``bl_width`` on ``bl_n_train`` images (:func:`bandwidth_settings`)."""
    P = bandwidth_settings(P)
    prior, alv = ("learned", variant.split(":", 1)[1]) if variant.startswith("alv:") else (variant, None)
    check_choice("bandwidth variant", prior, bp.PRIOR_KINDS)
    kwargs = dict(_common(P), snr_db=float(P["bl_snr_db"]), beta=float(P["bl_beta"]), epochs=int(P["bl_epochs"]),
                  seed=int(seed), validate=True, n_val=P["n_test"], bandwidth_limited=True, n_bands=int(P["n_bands"]),
                  prior=prior,
                  prior_components=int(P["prior_components"]), prior_hidden=int(P["prior_hidden"]),
                  marginalize=P["bl_marginalize"])
    factor = 1.0
    if alv is not None:
        check_choice("ALV variant", alv, sorted(ALV_VARIANTS))
        kwargs.update(alv_dim=int(P["alv_dim"]), alv_prior=P["alv_prior"], **ALV_VARIANTS[alv])
        factor = 2.0 if ALV_VARIANTS[alv]["alv_skip"] else 1.6
    if P["bl_marginalize"] == "enumerate":
        factor *= 3.0
    return Job(NOTEBOOK, f"bw-bandwidth-{P['dataset']}-{variant.replace(':', '-')}-seed{seed}",
               f"{__name__}:train_joint", kwargs, cost=_resnet_cost(P, P["bl_epochs"], factor),
               meta={"model": "bandwidth", "variant": variant, "seed": seed}, family="resnet")


def binary_job(P: dict, seed: int) -> Job:
    kwargs = dict(_common(P), n_val=P["n_test"], eps=float(P["binary_eps"]), temperature=float(P["binary_temperature"]),
                  beta=float(P["binary_beta"]), epochs=int(P["binary_epochs"]), seed=int(seed))
    return Job(NOTEBOOK, f"bw-binary-{P['dataset']}-seed{seed}", f"{__name__}:train_binary", kwargs,
               cost=_resnet_cost(P, P["binary_epochs"], 1.2), meta={"model": "binary", "seed": seed},
               family="resnet")


def fid_job(P: dict) -> Job | None:
    """The FID feature network's training job (``None`` when Inception weights are used)."""
    from repro.metrics import fid

    kind = P["fid_features"]
    if kind == "inception" or (kind == "auto" and fid.inception_weights_path() is not None):
        return None
    n = P["fid_classifier_n_train"]
    if kind == "classifier":
        return Job(NOTEBOOK, "fid-classifier-cifar10", "repro.models.classifier:train_classifier",
                   dict(dataset="cifar10", epochs=int(P["fid_classifier_epochs"]), n_train=n),
                   cost=P["fid_classifier_epochs"] * (n or 36_000) * SECONDS_PER_IMAGE["classifier"],
                   meta={"model": "fid_features"})
    return Job(NOTEBOOK, f"fid-rotation-{fid.ROTATION_DATASET}", "repro.metrics.fid:train_rotation_net",
               dict(dataset=fid.ROTATION_DATASET, epochs=int(P["fid_classifier_epochs"]), n_train=n),
               cost=P["fid_classifier_epochs"] * 4 * (n or 8_100) * SECONDS_PER_IMAGE["classifier"],
               meta={"model": "fid_features"})


def bandwidth_variants(P: dict, seed: int) -> list[str]:
    """The bandwidth models of one seed: both priors, the ALV decoders of ``alv_variants`` (every seed: the one
    the claim uses is chosen among them on the validation split), and on the first seed the other ALV decoders
    tried."""
    out = ["gaussian", "learned"] + [f"alv:{a}" for a in P["alv_variants"]]
    if seed == P["seeds"][0]:
        out += [f"alv:{a}" for a in P["alv_alternatives"] if a not in P["alv_variants"]]
    return out


def jobs(P: dict) -> list[Job]:
    """Every model notebook 04 trains, in the order it uses them."""
    out = []
    for seed in P["seeds"]:
        out += [channel_ae_job(P, s, seed) for s in P["snrs_db"]]
        out += [source_vae_job(P, b, seed) for b in P["separate_betas"]]
        out += [joint_job(P, s, b, seed) for b in P["joint_betas"] for s in P["snrs_db"]]
    f = fid_job(P)
    if f is not None:
        out.append(f)
    for seed in P["seeds"]:
        out += [bandwidth_job(P, v, seed) for v in bandwidth_variants(P, seed)]
    out += [binary_job(P, seed) for seed in P["seeds"][: P["binary_seeds"]]]
    return out


def plan(profile: str, params: dict) -> list[Job]:
    return jobs(settings(profile, params))


def train_all(job_list: list[Job], *, device, cache, data_root=None, log=print) -> dict:
    """Train (or load) every job; returns ``{job.name: (job, model, history)}``. A job whose checkpoint is
    missing is trained here; jobs trained by the runner are found in the cache."""
    out = {}
    for i, job in enumerate(job_list, 1):
        model, history = job.train(device=device, cache=cache, data_root=data_root)
        if isinstance(model, torch.nn.Module):
            model.eval()
        out[job.name] = (job, model, history)
        if log is not None and (i == len(job_list) or i % 10 == 0):
            log(f"[models] {i}/{len(job_list)} ready")
    return out


def histories(models: dict, kinds: tuple[str, ...]) -> pd.DataFrame:
    rows = []
    for job, _, hist in models.values():
        if job.meta.get("model") in kinds:
            h = hist.get("history", []) if isinstance(hist, dict) else hist
            rows += [{**r, **job.meta} for r in h]
    return pd.DataFrame(rows)


def epochs_trained(history: pd.DataFrame) -> pd.DataFrame:
    """Per kind of model: how many models, and the fewest, median and most epochs they trained (from
    :func:`histories`; a model is one (model, SNR, beta, seed)), so the budgets of the systems being compared are
    stated beside them."""
    if history.empty:
        return pd.DataFrame(columns=["model", "n_models", "epochs_min", "epochs_median", "epochs_max"])
    keys = [k for k in ("model", "snr_db", "beta", "seed") if k in history.columns]
    per_model = history.groupby(keys, dropna=False).epoch.max().reset_index()
    return (per_model.groupby("model").epoch.agg(n_models="count", epochs_min="min", epochs_median="median",
                                                 epochs_max="max").reset_index())


# ---- sanity baselines ----------------------------------------------------------------------------------------

def mean_image_l2(train_x: torch.Tensor, x: torch.Tensor) -> float:
    """Per-image squared L2 of always outputting the training-set mean image."""
    return float(l2_per_image(x, train_x.mean(0, keepdim=True).expand_as(x)).mean())


def derangement(n: int, seed: int = 0) -> torch.Tensor:
    """A fixed permutation of ``0..n-1`` with no fixed point (image i is compared with image perm[i] != i)."""
    if n < 2:
        raise ValueError(f"a derangement needs at least 2 images, got {n}")
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=g)
    return perm[(torch.argsort(perm) + 1) % n]  # i -> the image after i in a random cycle


# ---- the separate system's channel code ------------------------------------------------------------------------

VAL_PRIOR_SEED = 50_000  # validation draws of N(0, I) for choosing the channel code (training draws: prior_samples)


def channel_codes(P: dict, models: dict, *, device, n: int = 20_000) -> pd.DataFrame:
    """Per SNR and seed: the per-number squared error of the channel autoencoder and of linear uncoded
    transmission (:class:`LinearChannelCode`) on fresh validation draws of ``N(0, I)`` (the source coder's prior,
    never data), beside the linear scheme's theory ``1 / (1 + s)``. ``chosen`` marks, per SNR, the code with the
    lower error averaged over seeds: the separate system uses it (the channel code may be the linear scheme
    itself when it wins)."""
    by = {(j.meta["snr_db"], j.meta["seed"]): m for j, m, _ in models.values() if j.meta.get("model") == "channel_ae"}
    rows = []
    for seed in P["seeds"]:
        y = torch.randn((n, int(P["latent_dim"])), generator=torch.Generator().manual_seed(VAL_PRIOR_SEED + seed))
        for snr in P["snrs_db"]:
            s_lin = db_to_linear(snr)
            linear = LinearChannelCode(P["latent_dim"], s_lin)
            for code, system in (("autoencoder", by[(snr, seed)]), ("linear", linear)):
                y_hat = reconstruct_all(system, y, seed=EVAL_SEED + seed, device=device)
                rows.append(dict(dataset=P["dataset"], snr_db=snr, seed=seed, code=code, split="val_prior_samples",
                                 mse_per_dim=float((y_hat - y).pow(2).mean()), linear_theory=1.0 / (1.0 + s_lin)))
    out = pd.DataFrame(rows)
    mean = out.groupby(["snr_db", "code"]).mse_per_dim.mean().unstack()
    chosen = mean.idxmin(axis=1)
    out["chosen"] = [chosen[s] == c for s, c in zip(out.snr_db, out.code)]
    return out


def chosen_codes(codes: pd.DataFrame) -> dict[float, str]:
    """``{snr_db: 'autoencoder' | 'linear'}`` from :func:`channel_codes`."""
    c = codes[codes.chosen].drop_duplicates("snr_db")
    return dict(zip(c.snr_db, c.code))


def separate_system(P: dict, vae, channel_ae, snr_db: float, code: str):
    """The separate system at one SNR: the source VAE with the chosen channel code."""
    check_choice("channel code", code, ("autoencoder", "linear"))
    return SeparateSystem(vae, channel_ae if code == "autoencoder" else LinearChannelCode(P["latent_dim"],
                                                                                          db_to_linear(snr_db)))


# ---- the joint beta grid, extended until it brackets -------------------------------------------------------------

def _joint_val(P: dict, models: dict, val, snr: float, beta: float, *, device, memo: dict) -> float:
    key = (snr, beta)
    if key not in memo:
        memo[key] = float(np.mean([float(distortions(models[joint_job(P, snr, beta, seed).name][1], val.x,
                                                     seed=EVAL_SEED + seed, device=device).mean())
                                   for seed in P["seeds"]]))
    return memo[key]


def bracket_joint_betas(P: dict, models: dict, val, *, device, cache, data_root=None, log=print) -> pd.DataFrame:
    """Extend the joint system's beta grid per SNR until the validation optimum (mean over seeds) is interior:
    while the best beta is the grid's lowest (highest) positive beta, add a tenth of it (ten times it), training
    those models for every seed here (they join ``models``), at most ``joint_beta_extensions`` times per SNR.
    A grid that holds beta = 0 (eq. 8 as written, :data:`JOINT_LIMIT_BETA`) has its lower limit, below which
    nothing can be added: a best beta of 0 ends the search (``at_limit``), and a best lowest positive beta is still
    extended downward but counts as interior (0 below it is worse). Returns one row per (SNR, beta) with its
    validation distortion, the round it joined and, per SNR, whether the optimum ended interior or at the limit."""
    memo: dict = {}
    rows = []
    for snr in P["snrs_db"]:
        grid = {float(b): 0 for b in P["joint_betas"]}
        for round_ in range(1, int(P["joint_beta_extensions"]) + 1):
            vals = {b: _joint_val(P, models, val, snr, b, device=device, memo=memo) for b in grid}
            best = min(vals, key=vals.get)
            positive = [b for b in grid if b > JOINT_LIMIT_BETA]
            if not positive:
                break
            lo, hi = min(positive), max(positive)
            new = lo / 10 if best == lo else hi * 10 if best == hi else None
            if new is None or not 1e-6 <= new <= 1e6:
                break
            new = float(f"{new:.6g}")
            jobs_ = [joint_job(P, snr, new, seed) for seed in P["seeds"]]
            if log is not None:
                log(f"[beta] {snr:g} dB: best beta {best:g} is on the grid's edge; adding beta {new:g} "
                    f"({len(jobs_)} model(s))")
            models.update(train_all(jobs_, device=device, cache=cache, data_root=data_root, log=None))
            grid[new] = round_
        vals = {b: _joint_val(P, models, val, snr, b, device=device, memo=memo) for b in grid}
        best = min(vals, key=vals.get)
        interior = min(grid) < best < max(grid)
        rows += [dict(dataset=P["dataset"], system="joint", snr_db=snr, beta=b, added_in_round=grid[b], val_l2=v,
                      best=b == best, interior=interior, at_limit=best == JOINT_LIMIT_BETA)
                 for b, v in sorted(vals.items())]
    return pd.DataFrame(rows)


def joint_grids(P: dict, grid_table: pd.DataFrame | None) -> dict[float, list[float]]:
    """``{snr_db: [beta, ...]}`` of the joint system: the profile's grid, or the extended one of
    :func:`bracket_joint_betas`."""
    if grid_table is None or grid_table.empty:
        return {snr: list(P["joint_betas"]) for snr in P["snrs_db"]}
    return {snr: sorted(g.beta.tolist()) for snr, g in grid_table.groupby("snr_db")}


# ---- Figures 4 and 7 -----------------------------------------------------------------------------------------

def sweep(P: dict, models: dict, val, test, *, device, mean_image: torch.Tensor,
          codes: dict[float, str] | None = None, joint_grid: dict[float, list[float]] | None = None) -> pd.DataFrame:
    """Per-image squared L2 (mean over the split) of every joint and separate system, every beta, SNR and seed,
    on the validation and test splits. ``codes``: the separate system's channel code per SNR (default the
    autoencoder); ``joint_grid``: the joint betas per SNR (default the profile's grid). The separate system's grid
    also holds its rate-0 source code (``beta`` = inf, channel code ``RATE_ZERO_CODE``): the training set's
    ``mean_image`` at the receiver, nothing sent, so that :func:`best_betas` can choose to send nothing where no
    trained source VAE beats it on validation."""
    by = {(j.meta["model"], j.meta.get("snr_db"), j.meta.get("beta"), j.meta["seed"]): m
          for j, m, _ in models.values() if j.meta.get("model") in ("joint", "source_vae", "channel_ae")}
    codes = codes or {}
    joint_grid = joint_grid or joint_grids(P, None)
    rows = []
    for seed in P["seeds"]:
        for snr in P["snrs_db"]:
            code = codes.get(snr, "autoencoder")
            systems = [("joint", b, "", by[("joint", snr, b, seed)]) for b in joint_grid[snr]]
            systems += [("separate", b, code, separate_system(P, by[("source_vae", None, b, seed)],
                                                              by[("channel_ae", snr, None, seed)], snr, code))
                        for b in P["separate_betas"]]
            systems.append(("separate", RATE_ZERO_BETA, RATE_ZERO_CODE, RateZeroSystem(mean_image)))
            for system, beta, channel_code, model in systems:
                for split, data in (("val", val), ("test", test)):
                    d = float(distortions(model, data.x, seed=EVAL_SEED + seed, device=device).mean())
                    rows.append(dict(dataset=P["dataset"], system=system, beta=beta, snr_db=snr, split=split,
                                     metric="l2_per_image", value=d, seed=seed, channel_code=channel_code))
    return pd.DataFrame(rows)


def best_betas(P: dict, sweep_df: pd.DataFrame) -> pd.DataFrame:
    """Best beta per system and SNR by the validation distortion averaged over seeds; ``interior`` says whether
    it lies strictly inside the betas that system was trained with at that SNR, ``at_limit`` whether it is the
    limit no grid can extend past (the joint system's beta = 0, the separate system's rate-0 code). The grid
    brackets the optimum when either holds."""
    val = (sweep_df[sweep_df.split == "val"].groupby(["system", "snr_db", "beta"]).value.mean().rename("val_l2")
           .reset_index())
    best = bp.best_per_group(val, ["system", "snr_db"])
    grids = {(s, snr): sorted(g.beta) for (s, snr), g in val.groupby(["system", "snr_db"])}
    best["grid"] = [" ".join(f"{b:g}" for b in grids[(s, snr)]) for s, snr in zip(best.system, best.snr_db)]
    best["interior"] = [grids[(s, snr)][0] < b < grids[(s, snr)][-1]
                        for s, snr, b in zip(best.system, best.snr_db, best.beta)]
    best["at_limit"] = [b == (JOINT_LIMIT_BETA if s == "joint" else RATE_ZERO_BETA)
                        for s, b in zip(best.system, best.beta)]
    return best


def beta_sensitivity(sweep_df: pd.DataFrame) -> pd.DataFrame:
    """How much each system's validation distortion moves over its beta grid at each SNR: the worst beta's
    excess over the best, absolute and relative (mean over seeds), beside the seed spread at the best beta. The
    paper's Figure 7 caption finds the joint system *more* sensitive to beta than the separate one. Only trained
    betas count: the separate system's rate-0 code (beta = inf) is no point of a beta grid."""
    trained = sweep_df[np.isfinite(sweep_df.beta.astype(float))]
    val = trained[trained.split == "val"].groupby(["system", "snr_db", "beta"]).value.agg(["mean", "std"])
    rows = []
    for (system, snr), g in val.reset_index().groupby(["system", "snr_db"]):
        best = g.loc[g["mean"].idxmin()]
        rows.append(dict(system=system, snr_db=snr, n_betas=len(g), beta_range=f"{g.beta.min():g}-{g.beta.max():g}",
                         best_beta=best.beta, best_val_l2=best["mean"], worst_minus_best=g["mean"].max() - best["mean"],
                         relative_range=(g["mean"].max() - best["mean"]) / best["mean"],
                         seed_std_at_best=best["std"]))
    return pd.DataFrame(rows)


def figure4(P: dict, sweep_df: pd.DataFrame, best: pd.DataFrame) -> pd.DataFrame:
    """Test distortion at each system's best beta per SNR: mean and 95 % t-interval over seeds."""
    test = sweep_df[sweep_df.split == "test"].merge(best[["system", "snr_db", "beta"]], on=["system", "snr_db", "beta"])
    rows = []
    for (system, snr), g in test.groupby(["system", "snr_db"]):
        m, lo, hi = seed_interval(g.value)
        rows.append(dict(dataset=P["dataset"], system=system, snr_db=snr, beta=float(g.beta.iloc[0]), test_l2=m,
                         ci_low=lo, ci_high=hi, n_seeds=len(g)))
    return pd.DataFrame(rows).merge(best[["system", "snr_db", "val_l2", "interior", "at_limit"]],
                                    on=["system", "snr_db"])


def gap_table(P: dict, sweep_df: pd.DataFrame, best: pd.DataFrame, mean_l2: float) -> pd.DataFrame:
    """Separate minus joint test distortion per SNR (best beta each), per seed paired, with a t-interval; and the
    'gap shrinks at both extremes' contrasts (largest interior gap minus the gap at each end)."""
    test = sweep_df[sweep_df.split == "test"].merge(best[["system", "snr_db", "beta"]], on=["system", "snr_db", "beta"])
    piv = test.pivot_table(index=["seed", "snr_db"], columns="system", values="value").reset_index()
    piv["gap"] = piv.separate - piv.joint
    rows = []
    for snr, g in piv.groupby("snr_db"):
        m, lo, hi = seed_interval(g.gap)
        rows.append(dict(dataset=P["dataset"], contrast=f"separate - joint at {snr:g} dB", snr_db=snr, value=m,
                         ci_low=lo, ci_high=hi, n_seeds=len(g),
                         separate_below_mean_image=bool(g.separate.mean() < CLEARLY_BELOW * mean_l2),
                         joint_below_mean_image=bool(g.joint.mean() < CLEARLY_BELOW * mean_l2)))
    snrs = sorted(piv.snr_db.unique())
    if len(snrs) >= 3:
        for end in (snrs[0], snrs[-1]):
            vals = [g.set_index("snr_db").gap[snrs[1:-1]].max() - g.set_index("snr_db").gap[end]
                    for _, g in piv.groupby("seed")]
            m, lo, hi = seed_interval(vals)
            rows.append(dict(dataset=P["dataset"], contrast=f"largest interior gap - gap at {end:g} dB", snr_db=end,
                             value=m, ci_low=lo, ci_high=hi, n_seeds=len(vals)))
    return pd.DataFrame(rows)


# ---- bandwidth-limited channel -------------------------------------------------------------------------------

def bandwidth_eval(P: dict, models: dict, test, train_x: torch.Tensor, features, reference_features, *, device,
                   figure_images: int = 0) -> tuple[pd.DataFrame, dict]:
    """Every bandwidth model at every B: distortion to its source, to a random other test image (message
    dependence) and FID, all of outputs clamped to the image range [0, 1]; the coders trained with the learned
    prior are also scored with ``N(0, I)`` fills (the same coder, both priors). Returns the tidy table and the first
    seed's reconstructions of the first ``figure_images`` test images, keyed ``(variant label, B)``."""
    from repro.channels.priors import StandardGaussianPrior
    from repro.metrics import fid

    perm = derangement(len(test.x))
    rows, recon = [], {}
    nb = P["n_bands"]
    for job, model, _ in models.values():
        if job.meta.get("model") != "bandwidth":
            continue
        seed, label = job.meta["seed"], variant_label(job.meta["variant"])
        fills = [("own", None)]
        if job.meta["variant"] == "learned":
            band = model.channel.band_size(model.latent_dim)
            fills.append(("gaussian", StandardGaussianPrior(band, nb)))
        for fill_name, fill in fills:
            for b in range(1, nb + 1):
                if fill is not None and b == nb:
                    continue  # nothing is filled at full bandwidth: identical to the own-prior row
                gen_seed = EVAL_SEED + 10 * seed + b
                x_hat = reconstruct_all(model, test.x, seed=gen_seed, device=device, bandwidth=b,
                                        fill_prior=fill).clamp(0.0, 1.0)  # the image range, as Figure 6 shows it
                values = {"l2_per_image": float(l2_per_image(test.x, x_hat).mean()),
                          "l2_to_other": float(l2_per_image(test.x[perm], x_hat).mean())}
                if fill is None:
                    values["fid"] = fid.fid_from_features(reference_features, features(x_hat))
                rows += [dict(dataset=P["dataset"], variant=label, fill=fill_name, bandwidth=b, snr_db=P["bl_snr_db"],
                              beta=P["bl_beta"], metric=k, value=v, seed=seed) for k, v in values.items()]
                if seed == P["seeds"][0] and fill is None and figure_images:
                    recon[(label, b)] = x_hat[:figure_images]
    out = pd.DataFrame(rows)
    out.attrs["mean_image_l2"] = mean_image_l2(train_x, test.x)
    return out, recon


def alv_choice(P: dict, models: dict, val, train_x: torch.Tensor, features, *, device) -> pd.DataFrame:
    """Choose, on the validation split, the ALV decoder the claim uses among ``alv_variants`` (CLAIMS.md:
    variants are chosen on validation). Per decoder and bandwidth (means over its seeds; outputs clamped to
    [0, 1]): distortion to the source, to another validation image, its ratio to the no-ALV decoder (learned
    prior), and FID of both against training images (as many as the validation split; the test-time reference,
    the validation split, cannot also be scored). A decoder *passes* at a bandwidth when it is below
    ``CLEARLY_BELOW`` x the mean image, below ``S3_FACTOR`` x its distortion to another image (S3) and at most
    ``ALV_MAX_RATIO`` x the no-ALV distortion (the claim's side condition). ``chosen``: among the decoders that
    pass at every bandwidth, the one with the largest mean FID gain; when none passes, the one with the smallest
    worst-case ratio (``reason`` says which rule chose)."""
    from repro.metrics import fid

    ref_idx = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(EVAL_SEED))[: len(val.x)]
    reference = features(train_x[ref_idx])
    perm = derangement(len(val.x))
    mean_l2 = mean_image_l2(train_x, val.x)
    wanted = {"learned"} | {f"alv:{a}" for a in P["alv_variants"]}
    rows = []
    for job, model, _ in models.values():
        if job.meta.get("model") != "bandwidth" or job.meta["variant"] not in wanted:
            continue
        seed = job.meta["seed"]
        for b in range(1, P["n_bands"] + 1):
            x_hat = reconstruct_all(model, val.x, seed=EVAL_SEED + 500 + 10 * seed + b, device=device,
                                    bandwidth=b).clamp(0.0, 1.0)
            rows.append(dict(variant=job.meta["variant"], seed=seed, bandwidth=b,
                             l2=float(l2_per_image(val.x, x_hat).mean()),
                             l2_other=float(l2_per_image(val.x[perm], x_hat).mean()),
                             fid=fid.fid_from_features(reference, features(x_hat))))
    per = pd.DataFrame(rows).groupby(["variant", "bandwidth"])[["l2", "l2_other", "fid"]].mean().reset_index()
    base = per[per.variant == "learned"].set_index("bandwidth")
    out = per[per.variant != "learned"].copy()
    out["l2_no_alv"] = out.bandwidth.map(base.l2)
    out["fid_no_alv"] = out.bandwidth.map(base.fid)
    out["ratio_to_no_alv"] = out.l2 / out.l2_no_alv
    out["fid_gain"] = out.fid_no_alv - out.fid
    out["mean_image_l2"] = mean_l2
    out["passes"] = ((out.l2 < CLEARLY_BELOW * mean_l2) & (out.l2 < S3_FACTOR * out.l2_other)
                     & (out.ratio_to_no_alv <= ALV_MAX_RATIO))
    per_variant = out.groupby("variant").agg(all_pass=("passes", "all"), gain=("fid_gain", "mean"),
                                             worst=("ratio_to_no_alv", "max"))
    passing = per_variant[per_variant.all_pass]
    if len(passing):
        chosen = passing.gain.idxmax()
        reason = (f"passes at every bandwidth (below {CLEARLY_BELOW} x the mean image, S3, ratio <= "
                  f"{ALV_MAX_RATIO}) with the largest mean validation FID gain")
    else:
        chosen = per_variant.worst.idxmin()
        reason = "no decoder passes at every bandwidth: the smallest worst-case ratio to no-ALV"
    out["variant"] = out.variant.map(variant_label)
    out["chosen"] = out.variant == variant_label(chosen)
    out["reason"] = [reason if c else "" for c in out.chosen]
    out.insert(0, "dataset", P["dataset"])
    out.insert(1, "split", "val")
    return out


def chosen_alv(choice: pd.DataFrame) -> str:
    """The table label of the ALV decoder :func:`alv_choice` chose."""
    return str(choice[choice.chosen].variant.iloc[0])


def fid_calibration(features, reference_features, x: torch.Tensor, train_x: torch.Tensor) -> pd.DataFrame:
    """FID in familiar units: real images ``x`` against the reference set, blurred (Gaussian, sigma 0.5 / 1 / 2
    pixels), with additive Gaussian noise (std 0.05 / 0.1 / 0.2, clamped to [0, 1]) and the training mean image
    (plus noise of std 1e-3, so the covariance is not singular)."""
    from torchvision.transforms.functional import gaussian_blur

    from repro.metrics import fid

    g = torch.Generator().manual_seed(EVAL_SEED)
    cases = [("real images", "", 0.0, x)]
    for sigma in (0.5, 1.0, 2.0):
        k = 2 * math.ceil(3 * sigma) + 1
        cases.append(("gaussian blur", "sigma (pixels)", sigma, gaussian_blur(x, [k, k], [sigma, sigma])))
    for std in (0.05, 0.1, 0.2):
        cases.append(("additive noise", "std", std, (x + std * torch.randn(x.shape, generator=g)).clamp(0.0, 1.0)))
    mean = train_x.mean(0, keepdim=True).expand_as(x) + 1e-3 * torch.randn(x.shape, generator=g)
    cases.append(("mean image", "", 0.0, mean))
    return pd.DataFrame([dict(images=name, parameter=par, value=v, fid=fid.fid_from_features(reference_features,
                                                                                             features(imgs)),
                              l2_per_image=float(l2_per_image(x, imgs).mean()))
                         for name, par, v, imgs in cases])


def band_information(P: dict, models: dict, test, *, device) -> pd.DataFrame:
    """Per bandwidth model and band: how much the band can deliver. ``rate_nats`` is the band's
    ``KL(q(y|x) || N(0, I))`` (an upper bound on what its code holds about the image); ``channel_nats`` is
    ``sum_i 1/2 ln(1 + P_i s)`` over the band's numbers, with ``P_i`` the power of number i after the channel's
    power normalization (an upper bound on what the channel passes); ``delivered_bound_nats`` is the smaller of
    the two, and ``capacity_nats`` is the band's capacity at power 1 per use, ``20 x 1/2 ln(1 + s)``."""
    from repro.channels.gaussian import normalize_power

    rows = []
    snr = db_to_linear(P["bl_snr_db"])
    for job, model, _ in models.values():
        if job.meta.get("model") != "bandwidth":
            continue
        g = torch.Generator().manual_seed(EVAL_SEED + job.meta["seed"])
        with torch.no_grad():
            sent = torch.cat([normalize_power(model.encode(xb.to(device), generator=g).cpu())
                              for xb in test.x.split(500)])
            rate = torch.stack([model.band_rates(xb.to(device)).cpu() * len(xb) for xb in test.x.split(500)]).sum(0)
        rate = rate / len(test.x)
        nb = P["n_bands"]
        power = sent.pow(2).mean(0).view(nb, -1)
        channel = (0.5 * torch.log1p(power * snr)).sum(1)
        band = power.shape[1]
        for i in range(nb):
            rows.append(dict(dataset=P["dataset"], variant=variant_label(job.meta["variant"]), band=i + 1,
                             seed=job.meta["seed"], rate_nats=float(rate[i]), power=float(power[i].mean()),
                             channel_nats=float(channel[i]), delivered_bound_nats=float(min(rate[i], channel[i])),
                             capacity_nats=band * 0.5 * math.log1p(snr)))
    return pd.DataFrame(rows)


def band_rates(P: dict, models: dict, test, *, device) -> pd.DataFrame:
    """Per-band rate ``KL(q(y|x) || N(0, I))`` (nats per image) of every bandwidth model's encoder on the test
    split: whether bands 3-5 carry information at all."""
    rows = []
    for job, model, _ in models.values():
        if job.meta.get("model") != "bandwidth":
            continue
        with torch.no_grad():
            r = torch.stack([model.band_rates(xb.to(device)).cpu() * len(xb) for xb in test.x.split(500)]).sum(0)
        r = r / len(test.x)
        rows += [dict(dataset=P["dataset"], variant=variant_label(job.meta["variant"]), band=i + 1,
                      rate_nats=float(v), seed=job.meta["seed"]) for i, v in enumerate(r)]
    return pd.DataFrame(rows)


def prior_fits(P: dict, models: dict, test, *, device) -> pd.DataFrame:
    rows = []
    for job, model, _ in models.values():
        if job.meta.get("model") == "bandwidth" and job.meta["variant"] != "gaussian":
            rows.append({"variant": variant_label(job.meta["variant"]), "seed": job.meta["seed"],
                         **bp.prior_fit(model, test.x, seed=EVAL_SEED + job.meta["seed"], device=device)})
    out = pd.DataFrame(rows)
    out["nats saved"] = out.gaussian_prior_nll - out.model_prior_nll
    return out


def linear_fits(bl: pd.DataFrame) -> pd.DataFrame:
    """Per trained variant and seed (own prior): slope, R^2 of a least-squares line of distortion vs B, and the
    curvature (the quadratic coefficient of a parabola, per band^2); then their mean and t-interval over seeds."""
    x = bl[(bl.metric == "l2_per_image") & (bl.fill == "own")]
    rows = []
    for (variant, seed), g in x.groupby(["variant", "seed"]):
        g = g.sort_values("bandwidth")
        fit = stats.linregress(g.bandwidth, g.value)
        curv = float(np.polyfit(g.bandwidth, g.value, 2)[0])
        rows.append(dict(variant=variant, seed=seed, slope_per_band=fit.slope, intercept=fit.intercept,
                         r2_linear=fit.rvalue ** 2, curvature=curv))
    per_seed = pd.DataFrame(rows)
    summary = []
    for variant, g in per_seed.groupby("variant"):
        for col in ("slope_per_band", "r2_linear", "curvature"):
            m, lo, hi = seed_interval(g[col])
            summary.append(dict(variant=variant, quantity=col, mean=m, ci_low=lo, ci_high=hi, n_seeds=len(g)))
    return per_seed, pd.DataFrame(summary)


def prior_gaps(bl: pd.DataFrame) -> pd.DataFrame:
    """Gaussian minus learned prior distortion per bandwidth with its t-interval over seeds, two ways: the same
    coder (trained with the learned prior) filled by ``N(0, I)`` vs by its learned prior, and two coders trained
    each with its own prior."""
    x = bl[bl.metric == "l2_per_image"]
    nb = int(x.bandwidth.max())
    lp = VARIANT_LABELS["learned"]
    rows = []
    comparisons = {
        "same coder (learned-prior coder): gaussian fill - learned fill":
            (x[(x.variant == lp) & (x.fill == "gaussian")], x[(x.variant == lp) & (x.fill == "own")]),
        "separately trained coders: gaussian-prior coder - learned-prior coder":
            (x[(x.variant == VARIANT_LABELS["gaussian"]) & (x.fill == "own")],
             x[(x.variant == lp) & (x.fill == "own")]),
    }
    for name, (a, b) in comparisons.items():
        per_seed = {}
        for bw in range(1, nb):
            d = a[a.bandwidth == bw].set_index("seed").value - b[b.bandwidth == bw].set_index("seed").value
            d = d.dropna()
            per_seed[bw] = d
            m, lo, hi = seed_interval(d.values) if len(d) else (float("nan"),) * 3
            rows.append(dict(comparison=name, contrast=f"B={bw}", value=m, ci_low=lo, ci_high=hi, n_seeds=len(d),
                             relative=m / float(b[b.bandwidth == bw].value.mean())))
        if nb >= 3:
            d = (per_seed[1] - per_seed[nb - 1]).dropna()
            m, lo, hi = seed_interval(d.values) if len(d) else (float("nan"),) * 3
            rows.append(dict(comparison=name, contrast=f"gap at B=1 - gap at B={nb - 1}", value=m, ci_low=lo,
                             ci_high=hi, n_seeds=len(d), relative=float("nan")))
    return pd.DataFrame(rows)


def alv_table(bl: pd.DataFrame, alv_factor: float) -> pd.DataFrame:
    """Per ALV decoder and bandwidth: distortion to the source vs the mean image, vs a random other test image,
    its ratio to the no-ALV decoder's (same prior), FID of both (means over seeds), and whether it passes:
    clearly below (``CLEARLY_BELOW`` x) the mean image and the distortion to another image, and at most
    ``alv_factor`` x the no-ALV decoder's distortion."""
    x = bl[bl.fill == "own"].pivot_table(index=["variant", "bandwidth", "seed"], columns="metric",
                                         values="value").reset_index()
    base = x[x.variant == VARIANT_LABELS["learned"]].set_index(["bandwidth", "seed"])
    mean_l2 = bl.attrs.get("mean_image_l2", float("nan"))
    rows = []
    for variant, g in x[x.variant.str.startswith(ALV_LABEL)].groupby("variant"):
        for bw, gb in g.groupby("bandwidth"):
            ref = base.loc[[(bw, s) for s in gb.seed if (bw, s) in base.index]]
            ratio = gb.set_index("seed").l2_per_image / ref.reset_index().set_index("seed").l2_per_image
            fid_gain = ref.reset_index().set_index("seed").fid - gb.set_index("seed").fid
            m, lo, hi = seed_interval(fid_gain.dropna().values) if fid_gain.notna().any() else (float("nan"),) * 3
            row = dict(variant=variant, bandwidth=bw, n_seeds=len(gb), l2_to_source=gb.l2_per_image.mean(),
                       l2_to_other=gb.l2_to_other.mean(), mean_image_l2=mean_l2,
                       l2_no_alv=ref.l2_per_image.mean(), ratio_to_no_alv=ratio.mean(), fid=gb.fid.mean(),
                       fid_no_alv=ref.fid.mean(), fid_gain=m, fid_gain_ci_low=lo, fid_gain_ci_high=hi)
            row["passes"] = bool(row["l2_to_source"] < CLEARLY_BELOW * mean_l2
                                 and row["l2_to_source"] < CLEARLY_BELOW * row["l2_to_other"]
                                 and row["ratio_to_no_alv"] <= alv_factor)
            rows.append(row)
    return pd.DataFrame(rows)


# ---- channel check, claims ------------------------------------------------------------------------------------

def channel_check(snrs_db=(-10.0, -5.0, 0.0, 5.0, 10.0), n: int = 20_000, k: int = 100) -> pd.DataFrame:
    """Random codes of arbitrary scale through the AWGN module: measured signal and noise power, SNR, and the
    information passed by Gaussian inputs, ``-1/2 log2(1 - rho^2)``, beside the capacity ``1/2 log2(1 + s)``."""
    from repro.channels.gaussian import AWGNChannel

    rows = []
    for snr_db in snrs_db:
        channel = AWGNChannel.from_db(snr_db)
        g = torch.Generator().manual_seed(0)
        y = 3.0 * torch.randn(n, k, generator=g, dtype=torch.float64)
        sent = channel.transmit(y)
        received = channel(y, generator=g)
        noise = received - sent
        rho = torch.corrcoef(torch.stack([sent.flatten(), received.flatten()]))[0, 1].item()
        ps, pn = sent.pow(2).mean().item(), noise.pow(2).mean().item()
        rows.append({"snr_db": snr_db, "signal_power": ps, "noise_power": pn,
                     "measured_snr_db": 10 * math.log10(ps / pn), "capacity_bits_per_use": channel.capacity(),
                     "measured_bits_per_use": -0.5 * math.log2(1 - rho ** 2),
                     "bits_per_band_of_20": 20 * channel.capacity()})
    return pd.DataFrame(rows)


def beta_plateau(sweep_df: pd.DataFrame, best: pd.DataFrame) -> pd.DataFrame:
    """Per system and SNR: the best beta, whether it is interior or at the grid's limit, how much worse each grid
    neighbour is on the validation split (mean over seeds), and the seed standard deviation at the best beta (a
    neighbour closer than that is a plateau, not a bracket)."""
    val = (sweep_df[sweep_df.split == "val"].groupby(["system", "snr_db", "beta"]).value.agg(["mean", "std"])
           .reset_index())
    rows = []
    for r in best.itertuples():
        g = val[(val.system == r.system) & (val.snr_db == r.snr_db)].sort_values("beta").reset_index(drop=True)
        i = int(np.flatnonzero(g.beta.values == r.beta)[0])
        nb_ = g.iloc[[j for j in (i - 1, i + 1) if 0 <= j < len(g)]]
        rows.append(dict(system=r.system, snr_db=r.snr_db, best_beta=r.beta, interior=r.interior,
                         at_limit=r.at_limit,
                         neighbour_minus_best=", ".join(f"beta {b:g}: {m - g['mean'].iloc[i]:+.2f}"
                                                        for b, m in zip(nb_.beta, nb_["mean"])),
                         seed_std_at_best=g["std"].iloc[i]))
    return pd.DataFrame(rows)


def binary_table(P: dict, models: dict, test, *, device) -> pd.DataFrame:
    """Appendix C: every relaxed-binary model's per-epoch history with its final test distortion of hard bits
    through the real BSC."""
    out = []
    for job, model, history in models.values():
        if job.meta.get("model") == "binary":
            test_l2 = float(distortions(model, test.x, seed=EVAL_SEED, device=device).mean())
            out.append(pd.DataFrame(history).assign(dataset=P["dataset"], eps=P["binary_eps"], seed=job.meta["seed"],
                                                    temperature=P["binary_temperature"],
                                                    test_l2_hard_bsc_final=test_l2))
    return pd.concat(out, ignore_index=True)
