import math

import pytest
import torch
from pytorch_msssim import ms_ssim as library_ms_ssim

from repro.metrics.image import classifier_accuracy, l2_per_image, l2_per_pixel, ms_ssim, psnr


def test_psnr_known_values():
    x = torch.full((2, 1, 28, 28), 0.5)
    y = x + torch.tensor([0.1, 0.01]).view(2, 1, 1, 1)
    assert psnr(x, y).tolist() == pytest.approx([20.0, 40.0], abs=1e-3)
    assert math.isinf(psnr(x, x)[0].item())


def test_l2_definitions():
    x = torch.zeros(1, 1, 28, 28)
    y = torch.full_like(x, 0.5)
    assert l2_per_image(x, y).item() == pytest.approx(784 * 0.25)
    assert l2_per_pixel(x, y).item() == pytest.approx(0.25)


@pytest.mark.parametrize("side,channels", [(28, 1), (32, 3)])
def test_ms_ssim_identical_is_one_and_decreases_with_noise(side, channels):
    torch.manual_seed(0)
    x = torch.rand(16, channels, side, side).clamp(0, 1)
    x = torch.nn.functional.avg_pool2d(x, 3, 1, 1)  # some structure
    assert ms_ssim(x, x).min().item() == pytest.approx(1.0, abs=1e-5)
    scores = [ms_ssim(x, (x + s * torch.randn_like(x)).clamp(0, 1)).mean().item() for s in (0.02, 0.1, 0.3, 0.5)]
    assert all(a > b for a, b in zip(scores, scores[1:])), scores
    assert scores[-1] < 0.5  # heavy noise scores low (unlike a 1-tap window)


def test_ms_ssim_equals_the_library_at_its_own_settings():
    torch.manual_seed(1)
    x = torch.rand(2, 3, 192, 192)
    y = (x + 0.1 * torch.randn_like(x)).clamp(0, 1)
    ours = ms_ssim(x, y, scales=5, win_size=11, sigma=1.5)
    ref = library_ms_ssim(x, y, data_range=1.0, size_average=False)
    assert torch.allclose(ours, ref, atol=1e-6)


def test_ms_ssim_rejects_bad_shapes():
    with pytest.raises(ValueError, match="shape"):
        ms_ssim(torch.rand(1, 1, 28, 28), torch.rand(1, 1, 32, 32))
    with pytest.raises(ValueError, match="too small"):
        ms_ssim(torch.rand(1, 1, 12, 12), torch.rand(1, 1, 12, 12))


def test_classifier_accuracy_counts_matches():
    class Fixed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return torch.nn.functional.one_hot(x.flatten(1)[:, 0].long(), 10).float()

    x = torch.tensor([0, 1, 2, 3]).float().view(4, 1, 1, 1)
    assert classifier_accuracy(Fixed(), x, torch.tensor([0, 1, 9, 3])) == 0.75
