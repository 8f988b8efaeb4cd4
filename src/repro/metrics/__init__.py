"""Image metrics (squared error, PSNR, MS-SSIM, ...) and FID."""
