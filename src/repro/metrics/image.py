"""Image-quality metrics, per image, on pixels in [0, 1].

- :func:`l2_per_image`: sum over pixels of ``(x - x_hat)**2`` ("per-image L2 squared"), the one implementation of
  per-image squared error in the bundle (metrics, the Gaussian likelihoods of the models, training logs); divide by
  the pixel count for the per-pixel variant (:func:`l2_per_pixel`).
- :func:`psnr`: ``10 log10(data_range**2 / MSE)`` per image (``inf`` for a perfect copy).
- :func:`ms_ssim`: multi-scale SSIM adapted to 28x28 and 32x32 images (see below).

MS-SSIM on small images. ``pytorch_msssim.ms_ssim`` needs images of more than 160 px for its five scales with an
11-tap window, and with a 1-tap window it scores almost anything near 1. We keep its SSIM arithmetic (its
``_ssim`` and Gaussian window, so constants and the contrast-structure term are the library's) and change only
the pyramid: **3 scales, a 5-tap Gaussian window with sigma 1.0, and the first three standard MS-SSIM exponents
(0.0448, 0.2856, 0.3001) renormalized to sum to 1**. A 28x28 image is compared at 28, 14 and 7 px (valid window
positions 24x24, 10x10, 3x3). With ``scales=5, win_size=11, sigma=1.5`` and the original weights the function
equals ``pytorch_msssim.ms_ssim`` exactly, which the tests check on large images.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pytorch_msssim.ssim import _fspecial_gauss_1d, _ssim

MSSSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
SMALL_IMAGE_MSSSIM = {"scales": 3, "win_size": 5, "sigma": 1.0}


def _check_pair(x: torch.Tensor, y: torch.Tensor) -> None:
    if x.shape != y.shape:
        raise ValueError(f"images differ in shape: {tuple(x.shape)} vs {tuple(y.shape)}")
    if x.dim() != 4:
        raise ValueError(f"expected image batches (N, C, H, W), got shape {tuple(x.shape)}")


def l2_per_image(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """Sum of squared pixel errors of each item, ``sum_pixels (x - x_hat)^2``: ``(N,)`` for ``x`` and ``x_hat`` of
    shape ``(N, *item)``. ``x_hat`` may carry extra leading dimensions, e.g. ``(K, N, *item)`` for K decoded samples
    per item; ``x`` is broadcast over them and the result is ``(K, N)``. Computed in float32 (or wider)."""
    d = x.dim() - 1
    if d < 1 or tuple(x_hat.shape[max(x_hat.dim() - x.dim(), 0):]) != tuple(x.shape) or x_hat.dim() < x.dim():
        raise ValueError(f"expected x (N, *item) and x_hat (..., N, *item); got shapes {tuple(x.shape)} and "
                         f"{tuple(x_hat.shape)}")
    return (x.float() - x_hat.float()).pow(2).flatten(-d).sum(-1)


def l2_per_pixel(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """``(N,)`` mean squared pixel error of each item."""
    return (x.float() - x_hat.float()).pow(2).flatten(1).mean(1)


def psnr(x: torch.Tensor, x_hat: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """``(N,)`` PSNR in dB of each image (``inf`` where identical)."""
    _check_pair(x, x_hat)
    mse = l2_per_pixel(x, x_hat).double()
    return (10 * torch.log10(data_range**2 / mse)).float()


def ms_ssim(x: torch.Tensor, x_hat: torch.Tensor, data_range: float = 1.0, *, scales: int | None = None,
            win_size: int | None = None, sigma: float | None = None, batch: int = 4096) -> torch.Tensor:
    """``(N,)`` MS-SSIM of each image, averaged over channels; defaults are the small-image adaptation."""
    _check_pair(x, x_hat)
    scales = scales or SMALL_IMAGE_MSSSIM["scales"]
    win_size = win_size or SMALL_IMAGE_MSSSIM["win_size"]
    sigma = sigma or SMALL_IMAGE_MSSSIM["sigma"]
    if not 1 <= scales <= 5:
        raise ValueError(f"scales must be in 1..5, got {scales}")
    side = min(x.shape[-2:])
    if side // 2 ** (scales - 1) < win_size:
        raise ValueError(f"{side}px images are too small for {scales} scales with a {win_size}-tap window")
    weights = torch.tensor(MSSSIM_WEIGHTS[:scales], dtype=torch.float64)
    weights = (weights / weights.sum()).float() if scales < 5 else weights.float()
    win = _fspecial_gauss_1d(win_size, sigma).repeat([x.shape[1], 1, 1, 1])
    out = []
    for xs, ys in zip(x.float().split(batch), x_hat.float().split(batch)):
        levels = []
        for level in range(scales):
            ssim_c, cs_c = _ssim(xs, ys, data_range=data_range, win=win, size_average=False)
            if level < scales - 1:
                levels.append(torch.relu(cs_c))
                pad = [s % 2 for s in xs.shape[2:]]
                xs, ys = F.avg_pool2d(xs, 2, padding=pad), F.avg_pool2d(ys, 2, padding=pad)
        levels.append(torch.relu(ssim_c))
        stacked = torch.stack(levels)  # (scales, N, C)
        out.append(torch.prod(stacked ** weights.view(-1, 1, 1), 0).mean(1))
    return torch.cat(out)


@torch.no_grad()
def classifier_accuracy(classifier: torch.nn.Module, x: torch.Tensor, labels: torch.Tensor,
                        batch: int = 2048) -> float:
    """Fraction of ``x`` that ``classifier`` labels as ``labels`` (evaluation mode, no gradients)."""
    classifier.eval()
    device = next(classifier.parameters()).device
    correct = 0
    for xs, ys in zip(x.split(batch), labels.split(batch)):
        correct += int((classifier(xs.to(device)).argmax(1).cpu() == ys).sum())
    return correct / max(len(x), 1)
