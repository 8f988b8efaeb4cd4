"""Small residual encoders and decoders for 32x32 images (notebook 04, paper 003).

The paper only says "Residual Networks"; these are deliberately small so that the ``cpu`` profile fits two CPU
cores. With base width ``C``:

* :class:`ResidualEncoder`: 3x3 conv to ``C`` at 32x32, then three stages of (4x4 stride-2 conv, residual
  block) to 16x16 (``C``), 8x8 (``2C``) and 4x4 (``2C``), flatten, one linear layer to ``out_dim`` numbers
  (``2 x latent`` for a Gaussian posterior: mean and log standard deviation).
* :class:`ResidualDecoder`: the mirror image: linear to ``2C x 4 x 4``, three stages of (residual block, 4x4
  stride-2 transposed conv) to 32x32, 3x3 conv to the image channels, sigmoid (pixel means in (0, 1)).

A residual block is ``x + conv3x3(relu(conv3x3(relu(x))))`` (pre-activation, no normalization layer, so a
decoder's output never depends on the other images of a batch).
"""

from __future__ import annotations

import torch
from torch import nn

IMAGE_SIDE = 32


class ResBlock(nn.Module):
    """``(N, C, H, W) -> (N, C, H, W)``: identity plus two 3x3 convolutions."""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(channels, channels, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _check_image(x: torch.Tensor, channels: int) -> None:
    if x.dim() != 4 or x.shape[1] != channels or tuple(x.shape[-2:]) != (IMAGE_SIDE, IMAGE_SIDE):
        raise ValueError(f"expected images (N, {channels}, {IMAGE_SIDE}, {IMAGE_SIDE}), got {tuple(x.shape)}")


class ResidualEncoder(nn.Module):
    """``(N, in_channels, 32, 32)`` images (and optional ``(N, cond_dim)`` side input) -> ``(N, out_dim)``.

    ``cond_dim > 0`` concatenates a vector to the flattened features before the final linear layer (used by the
    posterior of the auxiliary latent variables, which also sees the received code).
    """

    def __init__(self, in_channels: int, out_dim: int, width: int = 32, cond_dim: int = 0):
        super().__init__()
        c, c2 = width, 2 * width
        self.in_channels = in_channels
        self.cond_dim = cond_dim
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c, 3, padding=1),
            nn.Conv2d(c, c, 4, stride=2, padding=1), ResBlock(c),     # 16x16
            nn.Conv2d(c, c2, 4, stride=2, padding=1), ResBlock(c2),   # 8x8
            nn.Conv2d(c2, c2, 4, stride=2, padding=1), ResBlock(c2),  # 4x4
            nn.ReLU(), nn.Flatten(),
        )
        self.head = nn.Linear(c2 * 16 + cond_dim, out_dim)

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        _check_image(x, self.in_channels)
        h = self.features(x)
        if self.cond_dim:
            if cond is None or cond.shape != (x.shape[0], self.cond_dim):
                raise ValueError(f"this encoder needs a side input of shape (N, {self.cond_dim}), got "
                                 f"{None if cond is None else tuple(cond.shape)}")
            h = torch.cat([h, cond], 1)
        return self.head(h)


class ResidualDecoder(nn.Module):
    """``(N, in_dim)`` codes -> ``(N, out_channels, 32, 32)`` pixel means in (0, 1)."""

    def __init__(self, in_dim: int, out_channels: int, width: int = 32):
        super().__init__()
        c, c2 = width, 2 * width
        self.in_dim = in_dim
        self.c2 = c2
        self.fc = nn.Linear(in_dim, c2 * 16)
        self.net = nn.Sequential(
            ResBlock(c2), nn.ReLU(), nn.ConvTranspose2d(c2, c2, 4, stride=2, padding=1),  # 8x8
            ResBlock(c2), nn.ReLU(), nn.ConvTranspose2d(c2, c, 4, stride=2, padding=1),   # 16x16
            ResBlock(c), nn.ReLU(), nn.ConvTranspose2d(c, c, 4, stride=2, padding=1),     # 32x32
            nn.ReLU(), nn.Conv2d(c, out_channels, 3, padding=1), nn.Sigmoid(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() != 2 or z.shape[1] != self.in_dim:
            raise ValueError(f"expected codes (N, {self.in_dim}), got {tuple(z.shape)}")
        return self.net(self.fc(z).view(-1, self.c2, 4, 4))
