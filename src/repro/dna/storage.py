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

- **Mosaics** (:func:`mosaic_payload`): JPEG or PNG of ``group`` images tiled into one picture, optionally
  downscaled by ``scale`` before coding (and upscaled bilinearly after decoding). One file per group pays the
  format's header once, the way an archive would store a collection; a file that fails to decode blanks its whole
  group. Used for the comparison at equal nucleotides, where a 28x28 JPEG's ~370 bytes of header alone exceed the
  budget.
- **An outer code** (:func:`protect`, :func:`unprotect`): every file of a payload with Reed-Solomon parity across
  its oligos (:mod:`repro.dna.outer_code`); the reader knows the protected and the data sizes (a catalog, like the
  VAE's fixed record sizes).

Rates: ``bpp`` is the stored bits per pixel (payload bits / pixels), the paper's x axis.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from repro.coding import classic as classic_codecs
from repro.core.checks import check_choice, check_range
from repro.dna.decoder import RecoveredFile
from repro.dna.outer_code import OuterCode
from repro.systems.vae_storage import bits_to_gamma, gamma_to_bits

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
        if "label" in self.extra:
            return self.extra["label"]
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
        if self.family in ("VAEU", "VAEN") or "outer" in self.extra:
            return [len(f) for f in self.files]
        return None


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


def mosaic_payload(images: torch.Tensor, family: str, quality: int | None = None, group: int = 100,
                   scale: int = 1) -> MethodPayload:
    """``(N, C, H, W)`` images as JPEG or PNG mosaics of ``group`` images each (the last may hold fewer), every
    image downscaled by ``scale`` (box filter) before tiling; see the module doc."""
    check_choice("image format", family, ("JPEG", "PNG"))
    n, c, h, w = images.shape
    check_range("mosaic group", group, 1, 10_000, integer=True)
    check_range("mosaic scale", scale, 1, min(h, w), integer=True)
    small = torch.nn.functional.avg_pool2d(images, scale) if scale > 1 else images
    hs, ws = small.shape[-2:]
    cols = int(np.ceil(np.sqrt(group)))
    rows = int(np.ceil(group / cols))
    files = []
    for start in range(0, n, group):
        tile = torch.zeros(c, rows * hs, cols * ws)
        for j, img in enumerate(small[start:start + group]):
            r, q = divmod(j, cols)
            tile[:, r * hs:(r + 1) * hs, q * ws:(q + 1) * ws] = img
        files.append(classic_codecs.encode(tile.numpy(), family.lower(), quality if family == "JPEG" else None))
    setting = quality if family == "JPEG" else None
    name = f"JPEG q{quality}" if family == "JPEG" else "PNG"
    label = f"{name} mosaic{group}" + (f" 1/{scale}" if scale > 1 else "")
    return MethodPayload(family, setting, files, n, c * h * w, layout="mosaic",
                         extra={"label": label, "group": group, "scale": scale, "grid": (rows, cols),
                                "tile": (hs, ws), "quality": quality})


def images_from_mosaics(payload: MethodPayload, files: list[RecoveredFile],
                        shape: tuple[int, ...]) -> tuple[torch.Tensor, np.ndarray]:
    """Recovered mosaic files -> ``(N, C, H, W)`` images (upscaled bilinearly when stored downscaled; blank where
    the file failed) and ``(N,)`` failure flags."""
    c, h, w = shape
    (rows, cols), (hs, ws), group = payload.extra["grid"], payload.extra["tile"], payload.extra["group"]
    out = torch.zeros((payload.n_images, c, hs, ws))
    failed = np.zeros(payload.n_images, dtype=bool)
    for f_i, f in enumerate(files):
        lo, hi = f_i * group, min(payload.n_images, (f_i + 1) * group)
        tile = classic_codecs.decode(f.data, (c, rows * hs, cols * ws)) if len(f.data) else None
        if tile is None:
            failed[lo:hi] = True
            continue
        t = torch.from_numpy(tile)
        for j in range(hi - lo):
            r, q = divmod(j, cols)
            out[lo + j] = t[:, r * hs:(r + 1) * hs, q * ws:(q + 1) * ws]
    if (hs, ws) != (h, w):
        out = torch.nn.functional.interpolate(out, size=(h, w), mode="bilinear", align_corners=False)
        out[torch.from_numpy(failed)] = 0.0
    return out.clamp(0, 1), failed


def protect(payload: MethodPayload, redundancy: float, row_bytes: int) -> MethodPayload:
    """The payload with every file Reed-Solomon protected across its oligos at ``redundancy`` (parity rows / data
    rows; rows of ``row_bytes``, the most bytes one oligo carries). The label gains ``+RS<redundancy>``."""
    codes = [OuterCode.for_redundancy(redundancy, row_bytes, size=len(f)) for f in payload.files]
    files = [code.encode(f) for code, f in zip(codes, payload.files)]
    extra = {**payload.extra, "label": f"{payload.label} +RS{round(100 * redundancy)}%",
             "outer": {"redundancy": redundancy, "row_bytes": row_bytes, "codes": codes,
                       "data_files": list(payload.files), "data_sizes": [len(f) for f in payload.files]}}
    return MethodPayload(payload.family, payload.setting, files, payload.n_images, payload.pixels,
                         payload.record_bytes, payload.layout, extra)


def unprotect(payload: MethodPayload, files: list[RecoveredFile]) -> tuple[MethodPayload, list[RecoveredFile], dict]:
    """Outer-decode a protected payload's recovered files: the unprotected payload (its data files), the recovered
    data files, and totals (``outer_codewords_failed``, ``outer_codewords_recovered``,
    ``outer_codewords_inconsistent``, ``outer_files_recovered``). A payload without an outer code passes through."""
    outer = payload.extra.get("outer")
    if outer is None:
        return payload, files, {}
    data_files, totals = [], dict(outer_codewords_recovered=0, outer_codewords_failed=0,
                                  outer_codewords_inconsistent=0, outer_files_recovered=0)
    for code, f, size in zip(outer["codes"], files, outer["data_sizes"]):
        got = code.decode(f, size)
        data_files.append(got.as_file())
        totals["outer_codewords_recovered"] += got.codewords_recovered
        totals["outer_codewords_failed"] += got.codewords_failed
        totals["outer_codewords_inconsistent"] += got.codewords_inconsistent
        totals["outer_files_recovered"] += int(got.complete and not f.complete)
    extra = {k: v for k, v in payload.extra.items() if k not in ("outer", "label")}
    if "label" in payload.extra and "mosaic" in payload.layout:
        extra["label"] = payload.extra["label"].rsplit(" +RS", 1)[0]
    inner = MethodPayload(payload.family, payload.setting, list(outer["data_files"]), payload.n_images,
                          payload.pixels, payload.record_bytes, payload.layout, extra)
    return inner, data_files, totals
