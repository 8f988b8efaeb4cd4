"""NECST experiments shared by notebooks 02 (NECST) and 03 (IABF): per-dataset settings, training, evaluation,
the VAE+LDPC separation baseline, Markov-chain sampling and bit-flip interpolation.

Per-dataset settings (NECST paper and official code): code length ``bits``, architecture and likelihood.

| dataset | bits | networks | likelihood |
| --- | --- | --- | --- |
| binary_mnist | 100 | MLP 784-500 / 500-500-784 | Bernoulli |
| mnist | 100 | MLP | Gaussian (squared error) |
| omniglot | 200 | MLP | Bernoulli |
| random_bits | 50 | MLP 100-500 / 500-500-100 | Bernoulli |
| cifar10 | 500 | conv 32x32 | Gaussian |
| celeba32 | 500 | conv 32x32 | Gaussian (the paper does not state its CelebA code length) |
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from repro.channels.discrete import BinarySymmetricChannel, channel_class, check_level
from repro.coding.ldpc import LDPCCode
from repro.core.cache import CheckpointCache
from repro.core.checks import ConfigError, check_choice, check_range
from repro.core.training import fit
from repro.data import ImageData, load_dataset
from repro.metrics.image import l2_per_image
from repro.models.necst import NECST, ConvDecoder32, ConvEncoder32, MLPDecoder, MLPEncoder
from repro.systems.protocol import reconstruct_all

SETTINGS = {
    "binary_mnist": dict(bits=100, arch="mlp", likelihood="bernoulli"),
    "mnist": dict(bits=100, arch="mlp", likelihood="gaussian"),
    "omniglot": dict(bits=200, arch="mlp", likelihood="bernoulli"),
    "random_bits": dict(bits=50, arch="mlp", likelihood="bernoulli"),
    "cifar10": dict(bits=500, arch="conv", likelihood="gaussian"),
    "celeba32": dict(bits=500, arch="conv", likelihood="gaussian"),
}
METHODS = ("NECST", "ABF", "IABF")
EVAL_BATCH = 2000  # images per reconstruct call in evaluation (part of the random stream, see repro.systems.protocol)


def regularizers(method: str, bits: int, *, infomax_weight: float = 0.01, official: bool = False,
                 abf_spend: str = "all", abf_channel: bool = True) -> dict:
    """NECST's keyword arguments for ``method``: NECST (none), ABF (adversarial bit flips) or IABF (ABF plus the
    infomax term with weight lambda). ``official=True`` reproduces the official IABF code's behaviour: no random
    channel noise in training, a TC discriminator that never sees permuted codes, and the extra
    ``0.1 * BCE(dec(p), x)`` term. ``abf_spend`` is :class:`~repro.models.iabf.AdversarialBitFlip`'s ``spend``;
    ``abf_channel=False`` trains on the adversarial flips alone (eqs. 28-30 as written: ``p_adv`` takes the
    random channel's place), without the official code's other departures."""
    from repro.models.iabf import AdversarialBitFlip, Infomax

    check_choice("method", method, METHODS)
    if method == "NECST":
        if official:
            raise ConfigError("official=True only changes ABF and IABF; valid methods for it: ['ABF', 'IABF']")
        if abf_spend != "all":
            raise ConfigError(f"abf_spend={abf_spend!r} only changes ABF and IABF; valid for NECST: 'all'")
        if not abf_channel:
            raise ConfigError("abf_channel=False only changes ABF and IABF; valid for NECST: True")
        return {}
    if not isinstance(abf_channel, bool):
        raise ConfigError(f"abf_channel must be True or False, got {abf_channel!r}")
    out = {"adversary": AdversarialBitFlip(channel_noise=abf_channel and not official, spend=abf_spend),
           "prob_recon_weight": 0.1 if official else 0.0}
    if method == "IABF":
        out["infomax"] = Infomax(bits, weight=infomax_weight, permute=not official)
    return out


def build_model(dataset: str, *, eps: float, channel: str = "bsc", bits: int | None = None,
                prior: str | None = None, x_shape: tuple[int, ...] | None = None, method: str = "NECST",
                infomax_weight: float = 0.01, official: bool = False, abf_spend: str = "all",
                abf_channel: bool = True) -> NECST:
    """A fresh NECST (or, with ``prior='uniform'``, discrete VAE; with ``method`` ABF/IABF, NECST with those
    regularizers) for ``dataset``."""
    check_choice("dataset", dataset, sorted(SETTINGS))
    channel_class(channel)  # the registry of repro.channels.discrete: one line naming the valid channels
    s = SETTINGS[dataset]
    bits = s["bits"] if bits is None else bits
    if isinstance(bits, bool) or not isinstance(bits, int) or bits < 1:
        raise ConfigError(f"code length must be a positive integer, got {bits!r}")
    x_shape = x_shape or ((100,) if dataset == "random_bits" else (3, 32, 32) if s["arch"] == "conv" else (1, 28, 28))
    if s["arch"] == "conv":
        enc, dec = ConvEncoder32(bits, x_shape[0]), ConvDecoder32(bits, x_shape[0])
    else:
        enc, dec = MLPEncoder(math.prod(x_shape), bits), MLPDecoder(bits, x_shape)
    extra = regularizers(method, bits, infomax_weight=infomax_weight, official=official, abf_spend=abf_spend,
                         abf_channel=abf_channel)
    return NECST(enc, dec, likelihood=s["likelihood"], channel=channel, eps=eps, prior=prior, **extra)


def train(dataset: str, *, eps: float, seed: int, epochs: int, device: torch.device, channel: str = "bsc",
          bits: int | None = None, prior: str | None = None, n_train: int | None = None, batch_size: int = 100,
          lr: float = 1e-3, data_root=None, cache: CheckpointCache | None = None, val_every: bool = False,
          method: str = "NECST", infomax_weight: float = 0.01, official: bool = False, n_val: int = 2000,
          select_best: bool = False, precision: str = "fp32", abf_spend: str = "all",
          stop_plateau: float | None = None, min_epochs: int = 1, abf_channel: bool = True):
    """Train (or load from the cache) NECST at noise ``eps``; ``prior='uniform'`` trains the discrete VAE;
    ``method`` ABF / IABF adds those regularizers (:func:`regularizers`; ``abf_channel``: see there).

    ``val_every`` measures the per-image distortion on ``n_val`` validation images through the channel after
    every epoch; ``select_best`` (implies it) returns the epoch with the lowest one, the paper's test protocol.
    ``stop_plateau`` / ``min_epochs`` (with ``select_best``): stop once the validation distortion has plateaued
    (see :func:`repro.core.training.fit`); ``epochs`` is then the maximum."""
    check_level(channel, eps)
    check_range("infomax weight lambda", infomax_weight, 0.0, 100.0)
    train_set = load_dataset(dataset, "train", data_root).subset(n_train, seed)
    torch.manual_seed(seed)
    model = build_model(dataset, eps=eps, channel=channel, bits=bits, prior=prior, x_shape=train_set.shape,
                        method=method, infomax_weight=infomax_weight, official=official, abf_spend=abf_spend,
                        abf_channel=abf_channel)
    n_bits = model.encoder.net[-1].out_features
    config = {"model": "DiscreteVAE" if prior else "NECST", "dataset": dataset, "bits": n_bits, "eps": eps,
              "channel": channel, "source": train_set.source, "n_train": len(train_set), "K": model.samples,
              "encoder_l2": model.encoder_l2}
    if method != "NECST":
        config.update(method=method, official=official,
                      infomax_weight=infomax_weight if method == "IABF" else None)
        if abf_spend != "all":  # the default stays out of the key, so existing checkpoints keep theirs
            config["abf_spend"] = abf_spend
        if not abf_channel:  # likewise
            config["abf_channel"] = False
    val_fn = None
    if val_every or select_best:
        val = load_dataset(dataset, "val", data_root).subset(n_val, seed)

        def val_fn(m):
            return {"l2_per_image": float(distortion(m, val.x, eps, seed=seed)["l2_per_image"])}

        config["n_val"] = len(val)
    name = f"{'dvae' if prior else method.lower()}-{dataset}"
    return fit(model, lambda m, x, _y: m.loss(x), train_set.x, name=name, config=config, epochs=epochs,
               batch_size=batch_size, lr=lr, seed=seed, device=device, cache=cache, val_fn=val_fn,
               select_by="l2_per_image" if select_best else None, precision=precision, stop_plateau=stop_plateau,
               min_epochs=min_epochs)


def reconstruction_errors(x: torch.Tensor, x_hat: torch.Tensor, binary: bool) -> dict:
    """Mean per-image and per-pixel squared error of ``x_hat`` (the decoder's mean); for binary data also of the
    binarized reconstruction ``x_hat > 1/2`` (``l2_per_pixel_binarized``: the fraction of wrong pixels, the
    convention NECST's Figure 3 numbers imply, e.g. 0.50 for random bits at eps = 0.5) and the Bernoulli
    cross-entropy of the probabilities in nats per pixel (``bce_per_pixel``, IABF Table 1's binary-MNIST unit;
    probabilities clipped to [1e-7, 1 - 1e-7])."""
    out = {"l2_per_image": float(l2_per_image(x, x_hat).mean()), "l2_per_pixel": float((x_hat - x).pow(2).mean())}
    if binary:
        out["l2_per_pixel_binarized"] = float(((x_hat > 0.5).float() - x).pow(2).mean())
        # Bernoulli cross-entropy in nats per pixel of the decoder's probabilities: the unit of IABF's binary-MNIST
        # Table 1 (the official code's test loss, reduce_mean of sigmoid_cross_entropy_with_logits)
        p = x_hat.double().clamp(1e-7, 1 - 1e-7)
        out["bce_per_pixel"] = float(torch.nn.functional.binary_cross_entropy(p, x.double()))
    return out


def distortion_per_image(model: NECST, x: torch.Tensor, eps: float, *, mode: str = "sample",
                         seed: int = 0) -> np.ndarray:
    """``(N,)`` per-image squared error of the decoder's mean through the channel at ``eps``."""
    x_hat = reconstruct_all(model, x, seed=seed, batch=EVAL_BATCH, eps=eps, mode=mode)
    return l2_per_image(x, x_hat).numpy()


def distortion(model: NECST, x: torch.Tensor, eps: float, *, mode: str = "sample", seed: int = 0) -> dict:
    """Reconstruction errors (:func:`reconstruction_errors`) through the channel at ``eps``."""
    x_hat = reconstruct_all(model, x, seed=seed, batch=EVAL_BATCH, eps=eps, mode=mode)
    return reconstruction_errors(x, x_hat, model.likelihood == "bernoulli")


@torch.no_grad()
def latent_usage(model: NECST, x: torch.Tensor, *, seed: int = 0, batch: int = 1000) -> dict:
    """How much a discrete VAE's code carries about ``x`` (binary data of ``D`` values).

    ``bound``: the mean K-sample lower bound on ``log p(x)`` (nats per item), beside ``ceiling = -D log 2``, the
    expected log-likelihood of the *best* model when the items are independent uniform bits (Gibbs' inequality:
    no model beats the data's entropy on fresh items). ``code_information``: ``sum_d [H(Y_d) - H(Y_d | X)]`` over
    the code bits, in nats, an upper bound on what the bits, taken one at a time, say about ``x`` (0: collapsed).
    For uniform random bits a code that copies ``m`` input bits pays ``KL = m log 2`` against the uniform prior and
    saves exactly ``m log 2`` of reconstruction, so the ELBO cannot prefer it to the collapsed code: collapse is an
    optimum of the objective, and any remaining encoder noise makes the copying code strictly worse."""
    from repro.models.iabf import bit_entropies

    model.eval()
    device = next(model.parameters()).device
    torch.manual_seed(seed)
    bounds, probs = [], []
    for xb in x.split(batch):
        xb = xb.to(device)
        _, logs = model.loss(xb)
        bounds.append(logs["bound"] * len(xb))
        probs.append(model.code_probs(xb).cpu())
    p = torch.cat(probs)
    h_marginal, h_conditional = bit_entropies(p)
    d = int(np.prod(x.shape[1:]))
    return {"bound": float(sum(bounds) / len(x)), "ceiling": -d * math.log(2.0),
            "code_information": float((h_marginal - h_conditional).sum()), "code_bits": int(p.shape[1]),
            "mean_abs_p_minus_half": float((p - 0.5).abs().mean())}


def abf_budget_spent(model: NECST, x: torch.Tensor, eps: float, *, spend: str = "all", seed: int = 0,
                     batch: int = 1000) -> dict:
    """The adversarial noise ABF actually applies to ``model`` 's codes of ``x`` at ``eps``.

    The allocation gives ``sum_i eps_i = M eps`` per code before the flip mask; only the attacked bits keep
    theirs. Returns the mean per code of ``sum_i eps*_i`` (``spent``), the budget ``M eps``, the mean number of
    attacked bits and their fraction, for ``spend='all'`` (the paper) or ``'masked'``
    (:class:`repro.models.iabf.AdversarialBitFlip`)."""
    from repro.models.iabf import AdversarialBitFlip

    adversary = AdversarialBitFlip(spend=spend)
    model.eval()
    device = next(model.parameters()).device
    torch.manual_seed(seed)
    spent, attacked = [], []
    for xb in x.split(batch):
        xb = xb.to(device)
        with torch.no_grad():
            p = model.code_probs(xb)
        eps_star = adversary.noise_levels(xb, p, eps, model.decoder, model.log_likelihood)
        spent.append(eps_star.sum(1).cpu())
        attacked.append((eps_star > 0).float().sum(1).cpu())
    spent, attacked = torch.cat(spent), torch.cat(attacked)
    m = model.code_probs(x[:1].to(device)).shape[1]
    return {"spend": spend, "eps": eps, "bits": m, "budget": m * eps, "spent": float(spent.mean()),
            "spent_fraction": float(spent.mean() / (m * eps)), "attacked_bits": float(attacked.mean())}


@dataclass(frozen=True)
class LDPCReconstruction:
    """What :meth:`VAEWithLDPC.reconstruct_with_info` returns: the reconstructions ``x_hat`` (CPU), per word
    whether belief propagation converged to a valid codeword (``converged``, ``(N,)`` bool array), and the
    fraction of the VAE's latent bits decoded wrongly (``bit_errors``)."""

    x_hat: torch.Tensor
    converged: np.ndarray
    bit_errors: float


class VAEWithLDPC:
    """Separation baseline: discrete VAE with m/2 latent bits, rate-1/2 LDPC code to m bits, BSC, 50 BP iterations,
    decoded bits (valid codeword or not) to the VAE decoder.

    A communication system (:mod:`repro.systems.protocol`) without a default noise level: ``eps`` is required, since BP
    needs it for its channel log-likelihood ratios. The code and BP run on the CPU (numpy, the ``ldpc`` package),
    the VAE on its own device."""

    def __init__(self, vae: NECST, code_seed: int = 0, max_iter: int = 50):
        self.vae = vae
        k = vae.encoder.net[-1].out_features
        self.code = LDPCCode(2 * k, rate=0.5, seed=code_seed)
        self.max_iter = max_iter
        self.channel = BinarySymmetricChannel()

    @property
    def device(self) -> torch.device:
        return next(self.vae.parameters()).device

    def _latent_bits(self, x: torch.Tensor, generator: torch.Generator | None, mode: str) -> torch.Tensor:
        return self.vae.encode(x.to(self.device), generator=generator, mode=mode).cpu()

    def _codewords(self, z: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.code.encode(z.numpy().astype(np.uint8)))

    @torch.no_grad()
    def encode(self, x: torch.Tensor, *, generator: torch.Generator | None, mode: str = "sample") -> torch.Tensor:
        """``(N, m)`` uint8 codewords (CPU) of the VAE's ``m/2`` latent bits (sampled or thresholded, ``mode``)."""
        return self._codewords(self._latent_bits(x, generator, mode))

    @torch.no_grad()
    def send(self, words: torch.Tensor, *, generator: torch.Generator | None, eps: float) -> torch.Tensor:
        """The BSC at ``eps``."""
        return self.channel(words, generator=generator, eps=eps)

    def _bp(self, received: torch.Tensor, eps: float):
        info = self.code.decode_with_info(received.cpu().numpy(), eps, max_iter=self.max_iter)
        return torch.from_numpy(info.msg.astype(np.float32)), info

    @torch.no_grad()
    def decode(self, received: torch.Tensor, *, eps: float, generator: torch.Generator | None = None) -> torch.Tensor:
        """BP at ``eps`` (``max_iter`` iterations), then the VAE decoder on the decoded latent bits."""
        z_hat, _ = self._bp(received, eps)
        return self.vae.decode(z_hat.to(self.device))

    @torch.no_grad()
    def reconstruct_with_info(self, x: torch.Tensor, *, generator: torch.Generator | None, eps: float,
                              mode: str = "sample") -> LDPCReconstruction:
        """:meth:`reconstruct` with BP's diagnostics (:class:`LDPCReconstruction`)."""
        z = self._latent_bits(x, generator, mode)
        z_hat, info = self._bp(self.send(self._codewords(z), generator=generator, eps=eps), eps)
        return LDPCReconstruction(x_hat=self.vae.decode(z_hat.to(self.device)).cpu(), converged=info.converged,
                                  bit_errors=float((z_hat != z).float().mean()))

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, *, generator: torch.Generator | None, eps: float,
                    mode: str = "sample") -> torch.Tensor:
        """``decode(send(encode(x)))`` at ``eps``; the reconstructions are on the VAE's device."""
        return self.decode(self.send(self.encode(x, generator=generator, mode=mode), generator=generator, eps=eps),
                           eps=eps)


@torch.no_grad()
def markov_chain(model: NECST, x0: torch.Tensor, steps: int, eps: float, seed: int = 0) -> torch.Tensor:
    """``(steps + 1, N, ...)`` chain x -> sample code -> channel -> decode (the mean) -> ... from ``x0``."""
    chain = [x0]
    x = x0
    for t in range(steps):
        x = reconstruct_all(model, x, seed=seed * 100_003 + t, batch=EVAL_BATCH, eps=eps)
        chain.append(x)
    return torch.stack(chain)


@torch.no_grad()
def bit_flip_interpolation(model: NECST, x_start: torch.Tensor, x_end: torch.Tensor, seed: int = 0):
    """Decode codes on a path from ``x_start`` 's thresholded code to ``x_end`` 's, one more differing bit flipped
    per step in a seeded random order; returns ``(images (D + 1, *x_shape), D)`` with D differing bits."""
    device = next(model.parameters()).device
    a = model.encode(x_start[None].to(device), generator=None, mode="threshold")[0].cpu()
    b = model.encode(x_end[None].to(device), generator=None, mode="threshold")[0].cpu()
    diff = torch.nonzero(a != b).flatten()
    order = diff[torch.randperm(len(diff), generator=torch.Generator().manual_seed(seed))]
    codes = [a.clone()]
    for i in order:
        nxt = codes[-1].clone()
        nxt[i] = b[i]
        codes.append(nxt)
    return model.decode(torch.stack(codes).to(device)).cpu(), len(diff)


def code_features(model: NECST, data: ImageData, mode: str = "threshold") -> np.ndarray:
    """``(N, m)`` code bits of ``data`` as classifier features (Table 1)."""
    device = next(model.parameters()).device
    return torch.cat([model.encode(xb.to(device), generator=None, mode=mode).cpu()
                      for xb in data.x.split(4096)]).numpy()


@torch.no_grad()
def time_decoder(model: NECST, batch: int, repeats: int = 3, *, batched: bool = True) -> dict:
    """Seconds per word of NECST's decoder (received bits -> reconstruction), the same row keys as
    :func:`repro.coding.ldpc.time_ldpc`: one forward pass for ``batch`` words, or one pass per word."""
    from repro.core.timing import median_seconds

    check_range("timing batch", batch, 1, 10_000_000, integer=True)
    model.eval()
    device = next(model.parameters()).device
    bits = model.encoder.net[-1].out_features
    y = torch.randint(0, 2, (batch, bits), generator=torch.Generator().manual_seed(0)).float().to(device)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def run_once():
        if batched:
            model.decode(y)
        else:
            for i in range(batch):
                model.decode(y[i:i + 1])
        sync()

    seconds, times, _ = median_seconds(run_once, repeats)
    return {"benchmark": "decode_time", "method": "NECST", "bits": bits, "mode": "batched" if batched else "unbatched",
            "batch": int(batch), "repeats": int(repeats), "seconds_per_word": seconds / batch,
            "seconds_per_word_each": [t / batch for t in times],
            "seconds_total": seconds, "device": str(device.type), "threads": torch.get_num_threads()}
