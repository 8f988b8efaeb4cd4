"""The convolutional VAE of the Generative-DNA paper (paper 000, Tables I and II).

Encoder (Table I): CV(1,32)+BN+ReLU, CV(32,64)+BN+ReLU, CV(64,128), FC(2K) giving ``gamma = [mu, log sigma]``.
Decoder (Table II): FC, DC(128,64)+BN+ReLU, DC(64,32)+BN+ReLU, DC(32,1)+sigmoid.
CV: kernel 3, stride 2; DC: kernel 4, stride 2 (as the paper states).

Deviation, forced by the geometry: the paper's FC(32768) = 128x16x16 followed by three stride-2 deconvolutions
cannot give a 28x28 image. With padding 1 the encoder maps 28 -> 14 -> 7 -> 4, so the decoder's FC has
128x4x4 = 2048 outputs and its deconvolutions use paddings 1, 1, 3 (4 -> 8 -> 16 -> 28). Layer types, channels,
kernels, strides, BatchNorm and nonlinearities are as in the tables (no nonlinearity after CV(64,128) nor after
the decoder's FC, because the tables list none).
"""

from __future__ import annotations

import torch
from torch import nn


class ConvEncoder(nn.Module):
    """``(N, 1, 28, 28)`` images -> ``(N, 2K)`` posterior parameters ``gamma = [mu, log sigma]``."""

    def __init__(self, latent_dim: int = 16, in_channels: int = 1):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, 32, 3, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.Conv2d(64, 128, 3, stride=2, padding=1),
            nn.Flatten(),
            nn.Linear(128 * 4 * 4, 2 * latent_dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConvDecoder(nn.Module):
    """``(N, K)`` latents -> ``(N, 1, 28, 28)`` Bernoulli means in (0, 1)."""

    def __init__(self, latent_dim: int = 16, out_channels: int = 1):
        super().__init__()
        self.fc = nn.Linear(latent_dim, 128 * 4 * 4)
        self.net = nn.Sequential(
            nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.ConvTranspose2d(32, out_channels, 4, stride=2, padding=3), nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(self.fc(z).view(-1, 128, 4, 4))


class ConvVAE(nn.Module):
    """Gaussian-latent VAE with a standard-normal prior and a Bernoulli likelihood on [0, 1] pixels."""

    def __init__(self, latent_dim: int = 16):
        super().__init__()
        self.latent_dim = latent_dim
        self.encoder = ConvEncoder(latent_dim)
        self.decoder = ConvDecoder(latent_dim)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(N, 1, 28, 28)`` -> ``(mu, log_sigma)``, each ``(N, K)``."""
        gamma = self.encoder(x)
        return gamma[:, : self.latent_dim], gamma[:, self.latent_dim:]

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        mu, log_sigma = self.encode(x)
        z = mu + torch.randn_like(mu) * log_sigma.exp()
        return self.decode(z), mu, log_sigma


def negative_elbo(model: ConvVAE, x: torch.Tensor, _y=None) -> tuple[torch.Tensor, dict]:
    """Per-image negative ELBO (eq. 4): Bernoulli reconstruction term plus the closed-form KL of eq. 6."""
    x_hat, mu, log_sigma = model(x)
    rec = nn.functional.binary_cross_entropy(x_hat, x, reduction="sum") / len(x)
    kl = 0.5 * (torch.exp(2 * log_sigma) + mu**2 - 2 * log_sigma - 1).sum(1).mean()
    return rec + kl, {"rec": rec.item(), "kl": kl.item()}


@torch.no_grad()
def encode_all(model: ConvVAE, x: torch.Tensor, batch: int = 4096) -> torch.Tensor:
    """``gamma = [mu, log sigma]`` ``(N, 2K)`` of every image, in eval mode."""
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([model.encoder(xb.to(device)).cpu() for xb in x.split(batch)])


@torch.no_grad()
def decode_all(model: ConvVAE, z: torch.Tensor, batch: int = 4096) -> torch.Tensor:
    model.eval()
    device = next(model.parameters()).device
    return torch.cat([model.decode(zb.to(device)).cpu() for zb in z.split(batch)])


def layer_table(module: nn.Module, input_shape: tuple[int, ...]) -> list[dict]:
    """Rows describing each layer of ``module`` as run on a dummy input: type, settings, output shape.

    Used to render the paper's Tables I and II from the model itself rather than from prose.
    """
    rows: list[dict] = []
    hooks = []

    def describe(layer: nn.Module) -> str:
        if isinstance(layer, nn.Conv2d):
            return (f"CV({layer.in_channels},{layer.out_channels}) k{layer.kernel_size[0]} s{layer.stride[0]} "
                    f"p{layer.padding[0]}")
        if isinstance(layer, nn.ConvTranspose2d):
            return (f"DC({layer.in_channels},{layer.out_channels}) k{layer.kernel_size[0]} s{layer.stride[0]} "
                    f"p{layer.padding[0]}")
        if isinstance(layer, nn.Linear):
            return f"FC({layer.out_features})"
        if isinstance(layer, nn.BatchNorm2d):
            return "BN"
        return type(layer).__name__.upper().replace("SIGMOID", "SIGM")

    def hook(layer, _inp, out):
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.BatchNorm2d, nn.ReLU, nn.Sigmoid)):
            rows.append({"layer": describe(layer), "output shape": tuple(out.shape[1:]),
                         "parameters": sum(p.numel() for p in layer.parameters())})

    for layer in module.modules():
        hooks.append(layer.register_forward_hook(hook))
    was_training = module.training
    module.eval()
    with torch.no_grad():
        module(torch.zeros(1, *input_shape, device=next(module.parameters()).device))
    module.train(was_training)
    for h in hooks:
        h.remove()
    return rows
