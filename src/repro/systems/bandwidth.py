"""Notebook 04's pipeline: data, training of every system (cached through :func:`repro.core.training.fit`) and the
measurements behind Figures 4-7 and the Appendix C curve of paper 003.

Every training function builds its model from a :class:`Arch` and the experiment's settings, puts everything
that changes the result into the cache configuration, and returns ``(model, history)``. Every measurement draws
its randomness (posterior samples, channel noise, bandwidths, prior samples, auxiliary latents) from an explicit
generator seeded by the caller, so the numbers are reproducible.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F

from repro.channels.gaussian import AWGNChannel, BandwidthLimitedChannel, db_to_linear
from repro.channels.priors import StandardGaussianPrior, make_prior
from repro.core.cache import CheckpointCache
from repro.core.checks import ConfigError, check_choice, check_range
from repro.core.training import fit
from repro.data import ImageData, load_dataset
from repro.metrics.image import l2_per_image
from repro.models.jscc import BinaryJointSystem, ChannelAutoencoder, JointSystem, SourceVAE, reparameterize
from repro.parts.bandwidth import datasets
from repro.systems.protocol import distortions

PRIOR_KINDS = ("gaussian", "learned")
ARCH_VERSION = "resnet_coder-v1"


@dataclass(frozen=True)
class Arch:
    """Shared architecture and observation model: image channels, code length, base width, pixel noise std."""

    in_channels: int
    latent_dim: int = 100
    width: int = 32
    obs_std: float = 0.1

    def config(self) -> dict:
        return {"arch": ARCH_VERSION, **asdict(self)}


def pad_to_32(x: torch.Tensor) -> torch.Tensor:
    """``(N, C, 28, 28)`` -> ``(N, C, 32, 32)`` with 2 zero pixels on every side; 32x32 input is returned as is."""
    side = x.shape[-1]
    if side == 32:
        return x
    if side != 28 or x.shape[-2] != 28:
        raise ValueError(f"can only pad 28x28 images to 32x32, got {tuple(x.shape[-2:])}")
    return F.pad(x, (2, 2, 2, 2))


def load_images(dataset: str, split: str, root=None, n: int | None = None, seed: int = 0) -> ImageData:
    """One split of a dataset these systems run on (:func:`repro.parts.bandwidth.datasets`; 28x28 padded to
    32x32), optionally a seeded subset."""
    check_choice("dataset for notebook 04", dataset, datasets())
    data = load_dataset(dataset, split, root).subset(n, seed)
    if data.x.shape[-1] != 32:
        data = ImageData(pad_to_32(data.x), data.y, data.name, data.split, data.source, data.root,
                         data.notes + ["28x28 padded with 2 zero pixels per side to 32x32"])
    return data


def _data_config(train: ImageData) -> dict:
    return {"dataset": train.name, "source": train.source, "n_train": len(train)}


def _fit(model, loss_fn, train: ImageData, name: str, config: dict, *, epochs, batch_size, lr, seed, device, cache,
         val_fn=None, precision: str = "fp32", select_by: str | None = None, stop_plateau: float | None = None,
         min_epochs: int = 1):
    return fit(model, loss_fn, train.x, name=name, config=config, epochs=epochs, batch_size=batch_size, lr=lr,
               seed=seed, device=device, cache=cache or CheckpointCache(), val_fn=val_fn, precision=precision,
               select_by=select_by, stop_plateau=stop_plateau, min_epochs=min_epochs)


def source_val_fn(val: ImageData, *, device, batch: int = 500):
    """Validation distortion of a source VAE: per-image squared L2 of ``decoder(mu(x))`` on ``val`` (no sampling,
    so the curve is free of draw noise), for the plateau stop."""
    def val_fn(m):
        with torch.no_grad():
            err = [l2_per_image(xb.to(device), m.decoder(m.encoder(xb.to(device))[0])).cpu()
                   for xb in val.x.split(batch)]
        return {"l2_per_image": float(torch.cat(err).mean())}
    return val_fn


# ---- training ----------------------------------------------------------------------------------------------------

def train_source_vae(train: ImageData, arch: Arch, *, beta: float, epochs: int, batch_size: int, lr: float,
                     seed: int, device, cache: CheckpointCache | None = None, precision: str = "fp32",
                     val: ImageData | None = None, stop_plateau: float | None = None, min_epochs: int = 1):
    """The separate system's beta-VAE source coder (no channel). With ``val``, every epoch records the validation
    distortion, the epoch with the lowest one is kept, and ``stop_plateau`` stops training once it improved by
    less than that fraction over the last quarter of the epochs (``epochs`` is then the maximum). A collapsed VAE
    (large beta) approaches the mean image slowly: at the cpu profile (1 %, at least 4 epochs) it stopped after 4-6
    epochs with its decoder still 1-3 % above the mean image on validation."""
    if stop_plateau is not None and val is None:
        raise ConfigError(f"stop_plateau={stop_plateau!r} needs a validation split (val)")
    torch.manual_seed(seed)
    model = SourceVAE(arch.in_channels, arch.latent_dim, arch.width, beta, arch.obs_std)
    config = {"system": "source_vae", **_data_config(train), **arch.config(), "beta": beta}
    val_fn, select_by = None, None
    if val is not None:
        config["n_val"] = len(val)
        val_fn, select_by = source_val_fn(val, device=device), "l2_per_image"
    return _fit(model, lambda m, x, y: m.loss(x), train, f"nb04-source-vae-{train.name}", config, epochs=epochs,
                batch_size=batch_size, lr=lr, seed=seed, device=device, cache=cache, precision=precision,
                val_fn=val_fn, select_by=select_by, stop_plateau=stop_plateau, min_epochs=min_epochs)


def prior_samples(latent_dim: int, n: int, seed: int) -> torch.Tensor:
    """``(n, latent_dim)`` draws of the source coder's ``N(0, I)`` prior: the channel autoencoder's training data."""
    return torch.randn((n, latent_dim), generator=torch.Generator().manual_seed(10_007 + seed))


def train_channel_ae(latent_dim: int, *, snr_db: float, n_samples: int, hidden: int, epochs: int, batch_size: int,
                     lr: float, seed: int, device, cache: CheckpointCache | None = None, precision: str = "fp32"):
    """The separate system's channel autoencoder, trained on samples of ``N(0, I)`` (never on data)."""
    torch.manual_seed(seed)
    model = ChannelAutoencoder(latent_dim, db_to_linear(snr_db), hidden)
    data = ImageData(prior_samples(latent_dim, n_samples, seed), None, "prior_samples", "train", "generated")
    config = {"system": "channel_ae", "latent_dim": latent_dim, "snr_db": snr_db, "n_samples": n_samples,
              "hidden": hidden}
    return _fit(model, lambda m, y, _: m.loss(y), data, "nb04-channel-ae", config, epochs=epochs,
                batch_size=batch_size, lr=lr, seed=seed, device=device, cache=cache, precision=precision)


def build_joint(arch: Arch, *, snr_db: float, beta: float, bandwidth_limited: bool = False, n_bands: int = 5,
                prior: str = "gaussian", alv_dim: int = 0, prior_components: int = 4,
                prior_hidden: int = 128, alv_prior: str = "conditional", alv_skip: bool = False,
                alv_kl_weight: float = 1.0) -> JointSystem:
    """A :class:`JointSystem` over the AWGN channel or the bandwidth-limited AWGN channel."""
    snr = db_to_linear(snr_db)
    if not bandwidth_limited:
        return JointSystem(arch.in_channels, arch.latent_dim, arch.width, AWGNChannel(snr), beta, arch.obs_std)
    check_choice("prior", prior, PRIOR_KINDS)
    channel = BandwidthLimitedChannel(snr, n_bands)
    band = channel.band_size(arch.latent_dim)
    kwargs = {"n_components": prior_components, "hidden": prior_hidden} if prior == "learned" else {}
    with torch.random.fork_rng(devices=[]):  # the prior's initialization leaves the coders' initialization alone
        code_prior = make_prior(prior, band, n_bands, **kwargs)
    return JointSystem(arch.in_channels, arch.latent_dim, arch.width, channel, beta, arch.obs_std, code_prior, alv_dim,
                       alv_prior, alv_skip, alv_kl_weight)


MARGINALIZE = ("sample", "enumerate")


def train_joint(train: ImageData, arch: Arch, *, snr_db: float, beta: float, epochs: int, batch_size: int,
                lr: float, seed: int, device, cache: CheckpointCache | None = None, bandwidth_limited: bool = False,
                n_bands: int = 5, prior: str = "gaussian", alv_dim: int = 0, prior_components: int = 4,
                prior_hidden: int = 128, marginalize: str = "sample", alv_prior: str = "conditional",
                alv_skip: bool = False, alv_kl_weight: float = 1.0, precision: str = "fp32",
                val: ImageData | None = None, eval_seed: int = 0):
    """A joint system trained end to end. Over the bandwidth-limited channel the sum over the bandwidth in eq. 5
    is marginalized by ``sample`` (one uniform draw of ``B`` per training image) or ``enumerate`` (the loss
    averaged over every ``B``: exact, ``n_bands`` decoder passes per batch). With ``val`` every epoch records the
    validation distortion as the receiver sees it (over the bandwidth-limited channel: ``val_l2_per_image`` the mean
    over every ``B``, and ``val_l2_b<B>`` each); it is a record only (the last epoch is kept)."""
    check_choice("marginalize", marginalize, MARGINALIZE)
    torch.manual_seed(seed)
    model = build_joint(arch, snr_db=snr_db, beta=beta, bandwidth_limited=bandwidth_limited, n_bands=n_bands,
                        prior=prior, alv_dim=alv_dim, prior_components=prior_components, prior_hidden=prior_hidden,
                        alv_prior=alv_prior, alv_skip=alv_skip, alv_kl_weight=alv_kl_weight)
    config = {"system": "joint", **_data_config(train), **arch.config(), "beta": beta, "snr_db": snr_db}
    name = f"nb04-joint-{train.name}"
    if bandwidth_limited:
        config.update(channel="bandwidth_limited", n_bands=n_bands, prior=prior, alv_dim=alv_dim,
                      marginalize=marginalize)
        if prior == "learned":
            config.update(prior_components=prior_components, prior_hidden=prior_hidden)
        if alv_dim:
            config.update(alv_prior=alv_prior)
            if alv_skip or alv_kl_weight != 1.0:  # absent for the original ALV decoder: its checkpoints keep their keys
                config.update(alv_skip=alv_skip, alv_kl_weight=alv_kl_weight)
        name = f"nb04-bandwidth-{train.name}"
    bandwidth = "all" if bandwidth_limited and marginalize == "enumerate" else None
    if val is not None:  # the validation record is part of the checkpoint's history: one without it is not reused
        config["n_val"] = len(val)
    val_fn = None if val is None else joint_val_fn(val, n_bands if bandwidth_limited else None, device=device,
                                                     eval_seed=eval_seed)
    return _fit(model, lambda m, x, y: m.loss(x, bandwidth), train, name, config, epochs=epochs,
                batch_size=batch_size, lr=lr, seed=seed, device=device, cache=cache, precision=precision,
                val_fn=val_fn)


def joint_val_fn(val: ImageData, n_bands: int | None, *, device, eval_seed: int = 0):
    """Validation distortion of a joint system as the receiver sees it (channel noise from ``eval_seed``); over
    the bandwidth-limited channel (``n_bands`` set) at every bandwidth and their mean."""
    def val_fn(m):
        if n_bands is None:
            return {"l2_per_image": float(distortions(m, val.x, seed=eval_seed, device=device).mean())}
        per_b = {f"l2_b{b}": float(distortions(m, val.x, seed=eval_seed + b, device=device, bandwidth=b).mean())
                 for b in range(1, n_bands + 1)}
        return {"l2_per_image": sum(per_b.values()) / n_bands, **per_b}
    return val_fn


def train_binary(train: ImageData, arch: Arch, *, eps: float, temperature: float, beta: float, epochs: int,
                 batch_size: int, lr: float, seed: int, device, cache: CheckpointCache | None = None,
                 val: ImageData | None = None, eval_seed: int = 0, precision: str = "fp32"):
    """Appendix C: a joint system with ``arch.latent_dim`` relaxed bits over the relaxed BSC. After every epoch
    the history records the distortion of hard Bernoulli bits sent through the real BSC(eps) on ``val``."""
    torch.manual_seed(seed)
    model = BinaryJointSystem(arch.in_channels, arch.latent_dim, arch.width, eps, temperature, beta, arch.obs_std)
    config = {"system": "binary", **_data_config(train), **arch.config(), "eps": eps, "temperature": temperature,
              "beta": beta, "n_val": 0 if val is None else len(val)}
    val_fn = None
    if val is not None:
        def val_fn(m):
            hard = float(distortions(m, val.x, seed=eval_seed, device=device).mean())
            relaxed = torch.cat([m.terms(xb.to(device))["l2"].cpu() for xb in val.x.split(500)]).mean()
            return {"l2_hard_bsc": hard, "l2_relaxed": float(relaxed)}
    return _fit(model, lambda m, x, y: m.loss(x), train, f"nb04-binary-{train.name}", config, epochs=epochs,
                batch_size=batch_size, lr=lr, seed=seed, device=device, cache=cache, val_fn=val_fn, precision=precision)


# ---- measurements ------------------------------------------------------------------------------------------------

def best_per_group(df, group: list[str], by: str = "val_l2"):
    """Rows of ``df`` with the smallest ``by`` within each ``group`` (the best beta per SNR and system)."""
    return df.loc[df.groupby(group)[by].idxmin()].reset_index(drop=True)


def check_snrs(snrs_db) -> list[float]:
    """Every SNR (dB) must lie in the channel's valid range; returns them as floats."""
    from repro.channels.gaussian import SNR_DB_RANGE

    out = []
    for s in snrs_db:
        check_range("SNR in dB", s, *SNR_DB_RANGE)
        out.append(float(s))
    return out



@torch.no_grad()
def prior_fit(model: JointSystem, x: torch.Tensor, *, seed: int, device, batch: int = 500) -> dict:
    """How well the model's code prior predicts the bands it may have to fill: mean negative log-likelihood
    (nats per image) of bands ``2..n_bands`` of the codes the encoder sends, each given the received earlier
    bands, under the model's prior and under ``N(0, I)``."""
    if not model.bandwidth_limited:
        raise ValueError("prior_fit needs a model over the bandwidth-limited channel")
    channel = model.channel
    gaussian = StandardGaussianPrior(channel.band_size(model.latent_dim), channel.n_bands)
    gen = torch.Generator().manual_seed(seed)
    own, ref = [], []
    for xb in x.split(batch):
        xb = xb.to(device)
        sent = channel.awgn.transmit(reparameterize(*model.encoder(xb), gen))
        received = sent + channel.awgn.noise(sent.shape, gen, sent.device)
        own.append(model.prior.nll(sent, received).cpu())
        ref.append(gaussian.nll(sent, received).cpu())
    return {"model_prior_nll": float(torch.cat(own).mean()), "gaussian_prior_nll": float(torch.cat(ref).mean())}
