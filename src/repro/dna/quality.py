"""Image quality of reconstructions read back from DNA: MS-SSIM, PSNR (capped) and ACC.

A lossless reconstruction (PNG, or JPEG read back exactly, compared with its own decoded self) has infinite
PSNR, which would make every average infinite. Each image's PSNR is therefore capped at ``PSNR_CAP_DB`` (60 dB,
an MSE of 1e-6 on [0, 1] pixels, far below one 8-bit step) before averaging. MS-SSIM is the small-image
adaptation of :mod:`repro.metrics.image`; ACC is the fixed classifier's accuracy on the reconstructions.
"""

from __future__ import annotations

import torch

from repro.metrics.image import classifier_accuracy, ms_ssim, psnr

PSNR_CAP_DB = 60.0


def image_quality(x: torch.Tensor, x_hat: torch.Tensor, labels: torch.Tensor | None = None,
                  classifier: torch.nn.Module | None = None, psnr_cap: float = PSNR_CAP_DB) -> dict[str, float]:
    """Mean MS-SSIM, mean capped PSNR (dB) and, with a classifier, ACC of ``(N, C, H, W)`` reconstructions."""
    out = {"ms_ssim": float(ms_ssim(x, x_hat).mean()),
           "psnr": float(torch.clamp(psnr(x, x_hat), max=psnr_cap).mean())}
    if classifier is not None and labels is not None:
        out["acc"] = classifier_accuracy(classifier, x_hat, labels)
    return out
