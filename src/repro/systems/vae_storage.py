"""Storing VAE latents as bits (paper 000): train the VAE, quantize ``gamma``, serialize, corrupt, decode.

Shared by notebook 01 (binary symmetric channel) and notebook 05 (DNA storage), which stores the same bits in
oligos. The stored record of one image is the whole ``gamma = [mu, log sigma]`` (``2K`` values of ``N_bit`` bits,
most significant bit first); the decoder is fed the dequantized ``mu``.
"""

from __future__ import annotations

import torch

from repro.coding.quantize import GaussianQuantizer, UniformQuantizer, bits_to_indices, indices_to_bits
from repro.core.cache import CheckpointCache
from repro.core.checks import check_choice
from repro.core.training import fit
from repro.data import load_dataset
from repro.metrics.image import classifier_accuracy, ms_ssim, psnr
from repro.models.vae import ConvVAE, decode_all, encode_all, negative_elbo

METHODS = ("VAEU", "VAEN")
VAE_DATASETS = ("mnist", "binary_mnist")


def train_vae(dataset: str, *, seed: int, epochs: int, device: torch.device, latent_dim: int = 16,
              batch_size: int = 64, lr: float = 1e-3, n_train: int | None = None, data_root=None,
              cache: CheckpointCache | None = None, precision: str = "fp32") -> tuple[ConvVAE, list[dict]]:
    """Train (or fetch from the cache) the Table I/II VAE on ``dataset``'s training split."""
    check_choice("dataset for the convolutional VAE", dataset, VAE_DATASETS)
    train = load_dataset(dataset, "train", data_root).subset(n_train, seed)
    config = {"model": "ConvVAE", "latent_dim": latent_dim, "dataset": dataset, "source": train.source,
              "n_train": len(train)}
    torch.manual_seed(seed)
    model = ConvVAE(latent_dim)
    return fit(model, negative_elbo, train.x, name=f"vae-{dataset}", config=config, epochs=epochs,
               batch_size=batch_size, lr=lr, seed=seed, device=device, cache=cache, precision=precision)


def make_quantizer(method: str, n_bits: int, train_gamma: torch.Tensor, quant_range: float = 3.0):
    """VAEU: uniform on ``[-quant_range, quant_range]``; VAEN: Gaussian-CDF quantizer fitted on ``train_gamma``."""
    check_choice("quantization method", method, METHODS)
    if method == "VAEU":
        return UniformQuantizer(n_bits, -quant_range, quant_range)
    return GaussianQuantizer.fit(n_bits, train_gamma)


def gamma_to_bits(quantizer, gamma: torch.Tensor) -> torch.Tensor:
    """``(N, 2K)`` latents -> ``(N, 2K * N_bit)`` uint8 bits."""
    return indices_to_bits(quantizer.quantize(gamma), quantizer.n_bits)


def bits_to_gamma(quantizer, bits: torch.Tensor) -> torch.Tensor:
    """``(N, 2K * N_bit)`` bits -> ``(N, 2K)`` dequantized latents."""
    return quantizer.dequantize(bits_to_indices(bits, quantizer.n_bits))


def reconstruct(model: ConvVAE, gamma_hat: torch.Tensor) -> torch.Tensor:
    """Images decoded from the dequantized posterior means (the first ``K`` columns of ``gamma``)."""
    return decode_all(model, gamma_hat[:, : model.latent_dim])


def bits_per_pixel(n_values: int, n_bits: int, pixels: int) -> float:
    return n_values * n_bits / pixels


def image_metrics(x: torch.Tensor, x_hat: torch.Tensor, labels: torch.Tensor | None = None,
                  classifier: torch.nn.Module | None = None) -> dict[str, float]:
    """Mean MS-SSIM (small-image adaptation), mean PSNR (dB) and, with a classifier, its accuracy ACC."""
    out = {"ms_ssim": float(ms_ssim(x, x_hat).mean()), "psnr": float(psnr(x, x_hat).mean())}
    if classifier is not None and labels is not None:
        out["acc"] = classifier_accuracy(classifier, x_hat, labels)
    return out


__all__ = ["METHODS", "VAE_DATASETS", "train_vae", "make_quantizer", "gamma_to_bits", "bits_to_gamma",
           "reconstruct", "bits_per_pixel", "image_metrics", "encode_all"]
