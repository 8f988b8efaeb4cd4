"""What each method stores, and how a method rebuilds its images from recovered (possibly partial) files.

- **VAEU / VAEN** store the quantized latents of notebook 01 (:func:`repro.systems.vae_storage.gamma_to_bits`: all
  ``2K`` values of ``gamma``, ``N_bit`` bits each, most significant bit first), packed into bytes, one record of
  ``2K N_bit / 8`` bytes per image. Layout ``packed`` (default) writes all records back to back in one file, as
  the paper stores "the latent representation as a binary file"; ``per_image`` writes one file per image. A
  value any of whose bits is unknown after decoding is an *erasure* and becomes the quantizer's value for the
  mean: the fitted mean ``m_i`` for VAEN, 0 (the prior mean) for VAEU.
- **JPEG / PNG** store one file per image (:mod:`repro.coding.classic`). A recovered file is decoded as it is,
  unknown bytes being zeros and a file whose end was lost being cut after its last recovered byte; a file that
  Pillow cannot decode is a *failure* and its image is shown and scored as blank (all zeros).

Rates: ``bpp`` is the stored bits per pixel (payload bits / pixels), the paper's x axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from repro.coding import classic as classic_codecs
from repro.core.checks import check_choice
from repro.dna.decoder import RecoveredFile
from repro.systems.vae_storage import bits_to_gamma, gamma_to_bits

FAMILIES = ("VAEU", "VAEN", "JPEG", "PNG")
VAE_LAYOUTS = ("packed", "per_image")


@dataclass
class MethodPayload:
    """The files one method stores for ``n_images`` images."""

    family: str
    setting: int | None  # N_bit for VAE, quality for JPEG, None for PNG
    files: list[bytes]
    n_images: int
    pixels: int
    record_bytes: int | None = None  # VAE: bytes per image
    layout: str = "per_image"
    extra: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        if self.family in ("VAEU", "VAEN"):
            return f"{self.family} {self.setting}-bit"
        return f"JPEG q{self.setting}" if self.family == "JPEG" else "PNG"

    @property
    def total_bytes(self) -> int:
        return sum(len(f) for f in self.files)

    @property
    def bytes_per_image(self) -> float:
        return self.total_bytes / max(self.n_images, 1)

    @property
    def bpp(self) -> float:
        return 8 * self.bytes_per_image / self.pixels

    def expected_sizes(self) -> list[int] | None:
        """File sizes the reader knows in advance (fixed-size latent records), else ``None``."""
        return [len(f) for f in self.files] if self.family in ("VAEU", "VAEN") else None


def vae_payload(family: str, quantizer, gamma: torch.Tensor, pixels: int, layout: str = "packed") -> MethodPayload:
    """Quantized latents ``gamma (N, 2K)`` as bytes: one record of ``2K N_bit / 8`` bytes per image."""
    check_choice("VAE family", family, ("VAEU", "VAEN"))
    check_choice("VAE layout", layout, VAE_LAYOUTS)
    bits = gamma_to_bits(quantizer, gamma).numpy()
    records = np.packbits(bits, axis=1)  # (N, ceil(bits / 8)), zero-padded at the end
    files = [records.tobytes()] if layout == "packed" else [r.tobytes() for r in records]
    return MethodPayload(family, quantizer.n_bits, files, len(records), pixels, records.shape[1], layout,
                         {"n_values": gamma.shape[1], "n_bits_total": bits.shape[1]})


def vae_latents(payload: MethodPayload, files: list[RecoveredFile], quantizer,
                fill: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Recovered files -> dequantized ``gamma (N, 2K)`` and the ``(N, 2K)`` erasure mask; erased values ``fill``."""
    n, rb = payload.n_images, payload.record_bytes
    data = np.zeros((n, rb), dtype=np.uint8)
    known = np.zeros((n, rb), dtype=bool)
    if payload.layout == "packed":
        buf = np.frombuffer(files[0].data, dtype=np.uint8)[: n * rb]
        data.reshape(-1)[: len(buf)] = buf
        known.reshape(-1)[: len(buf)] = files[0].known[: n * rb]
    else:
        for i, f in enumerate(files):
            m = min(len(f.data), rb)
            data[i, :m] = np.frombuffer(f.data, dtype=np.uint8)[:m]
            known[i, :m] = f.known[:m]
    n_total, n_values = payload.extra["n_bits_total"], payload.extra["n_values"]
    bits = np.unpackbits(data, axis=1)[:, :n_total]
    bit_known = np.repeat(known, 8, axis=1)[:, :n_total]
    erased = ~bit_known.reshape(n, n_values, quantizer.n_bits).all(-1)
    gamma = bits_to_gamma(quantizer, torch.from_numpy(bits))
    erased_t = torch.from_numpy(erased)
    gamma = torch.where(erased_t, fill.to(gamma.dtype).expand_as(gamma), gamma)
    return gamma, erased_t


def mean_fill(family: str, quantizer, n_values: int) -> torch.Tensor:
    """``(2K,)`` value an erased latent takes: VAEN's fitted mean, VAEU's 0."""
    check_choice("VAE family", family, ("VAEU", "VAEN"))
    if family == "VAEN":
        return quantizer.mean.float()
    return torch.zeros(n_values)


def image_payload(images: torch.Tensor, family: str, quality: int | None = None) -> MethodPayload:
    """``(N, C, H, W)`` images on [0, 1] as one JPEG or PNG file each."""
    check_choice("image format", family, ("JPEG", "PNG"))
    fmt = family.lower()
    files = [classic_codecs.encode(img.numpy(), fmt, quality if fmt == "jpeg" else None) for img in images]
    return MethodPayload(family, quality if fmt == "jpeg" else None, files, len(files),
                         int(np.prod(images.shape[1:])), layout="per_image")


def images_from_files(files: list[RecoveredFile], shape: tuple[int, ...]) -> tuple[torch.Tensor, np.ndarray]:
    """Decode recovered JPEG/PNG files as they are: ``(N, C, H, W)`` images (blank where decoding failed) and
    ``(N,)`` failure flags."""
    out = np.zeros((len(files),) + tuple(shape), dtype=np.float32)
    failed = np.zeros(len(files), dtype=bool)
    for i, f in enumerate(files):
        img = classic_codecs.decode(f.data, shape) if len(f.data) else None
        if img is None:
            failed[i] = True
        else:
            out[i] = img
    return torch.from_numpy(out), failed
