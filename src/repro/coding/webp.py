"""WebP + ideal channel code: the bits a separation baseline needs to match NECST's distortion (NECST Figure 2).

For every image and a target distortion (NECST's distortion on that image at a BSC flip probability ``eps``), the
baseline compresses the image with lossy WebP at the smallest size whose distortion is at most the target, then
sends it with an ideal channel code, i.e. at the BSC capacity ``C(eps) = 1 - H_b(eps)`` bits per channel use:

    channel_bits = source_bits / C(eps),        extra_bits = channel_bits - m

where ``m`` is NECST's code length. The paper plots the mean of ``extra_bits`` over the images at each ``eps``.

Choices made here (the paper states none of them beyond "we remove the headers"):

- **Encoder**: Pillow's WebP encoder, lossy (``lossless=False``), ``quality`` 0..100 in steps of 1, ``method`` 4
  (Pillow's and cwebp's default effort), no metadata. Images are rounded to 8 bits first (as
  :func:`repro.coding.classic.to_uint8`); 1-channel images are encoded as gray RGB and decoded back to ``L``.
- **Size**: :func:`webp_payload_bits`: only the VP8 / VP8L chunk payload is counted (see there for exactly what is
  excluded). The VP8 frame header *inside* that payload (3-byte frame tag, start code, dimensions) is image
  bitstream, not container, and stays counted.
- **Distortion**: against the image as given (float, on [0, 1]), in float64: ``l2_per_image`` = sum of squared
  pixel errors (as :func:`repro.metrics.image.l2_per_image`), ``l2_per_pixel`` = the same divided by ``C * H * W``
  (per-pixel MSE, as :func:`repro.metrics.image.l2_per_pixel`). A setting *meets* a target when distortion <= target.
- **Non-monotone quality**: on real images WebP distortion is *not* monotone in ``quality`` (on the committed
  CIFAR-10 sample every image has at least one quality step where distortion goes up) and neither is the file
  size. The default ``search="exhaustive"`` therefore encodes every quality 0..100 and returns the smallest
  payload among all settings that meet the target (ties: lowest quality): exact on that grid, with no
  monotonicity assumption. To save time it decodes the settings in order of increasing payload and stops at the
  first that meets the target (every smaller one has been checked, so that is the answer). ``search="bisect"`` is
  a faster approximation that assumes monotone distortion; see :func:`smallest_webp_meeting`.
- **Unmatched images**: when no quality (not even 100) meets the target, the image is reported with
  ``matched=False`` and no bits; it is never dropped. Summaries average over matched images and count the rest.
- **eps = 0.5**: the capacity is 0, nothing can be sent reliably, and the bits needed are ``inf``.
"""

from __future__ import annotations

import io
import math
import struct
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd
from PIL import Image

from repro.channels.discrete import BinarySymmetricChannel
from repro.coding.classic import to_uint8
from repro.core.checks import ConfigError, ReproError, check_choice, check_range

QUALITIES = tuple(range(101))
METRICS = ("l2_per_image", "l2_per_pixel")
SEARCHES = ("exhaustive", "bisect")
WEBP_METHOD = 4

RIFF_HEADER_BYTES = 12  # "RIFF", little-endian u32 size, "WEBP"
CHUNK_HEADER_BYTES = 8  # FourCC, little-endian u32 payload size
BITSTREAM_CHUNKS = (b"VP8 ", b"VP8L")


class WebPFormatError(ReproError, ValueError):
    """A byte string is not a well-formed still WebP file that this module can measure."""


# --------------------------------------------------------------------------------------------------------------
# Payload size


def webp_payload_bits(data: bytes) -> int:
    """Bits of the VP8 / VP8L bitstream in a WebP file, without any container bytes.

    A WebP file is a RIFF container: a 12-byte header (``"RIFF"``, a 4-byte little-endian size, ``"WEBP"``)
    followed by chunks, each an 8-byte header (4-byte FourCC, 4-byte little-endian payload length), the payload,
    and one padding byte when the length is odd. The chunks are walked and **only the payload of the single
    ``"VP8 "`` (lossy) or ``"VP8L"`` (lossless) chunk is counted**, i.e. the chunk's length field times 8.
    Excluded: the 12-byte RIFF/WEBP header, the 8-byte header of the bitstream chunk, its padding byte, and any
    other chunk whole (``VP8X`` extended header, ``ICCP``, ``EXIF``, ``XMP ``, unknown chunks). For a simple lossy
    file as Pillow writes for an RGB image that is exactly ``8 * (len(data) - 20 - padding)``.

    Raises:
        WebPFormatError: not a RIFF/WEBP file, a size field inconsistent with the data, a truncated chunk, no or
            several bitstream chunks, an animation (``ANIM``/``ANMF``), or an alpha plane (``ALPH``), whose bits
            would carry image content that this count leaves out.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise WebPFormatError(f"expected the bytes of a WebP file, got {type(data).__name__}")
    data = bytes(data)
    if len(data) < RIFF_HEADER_BYTES or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise WebPFormatError(f"not a RIFF/WEBP file (first 12 bytes: {data[:12]!r})")
    (riff_size,) = struct.unpack("<I", data[4:8])
    if riff_size + 8 != len(data):
        raise WebPFormatError(f"RIFF size field says {riff_size + 8} bytes in all, but the data has {len(data)}")

    payloads = []
    offset = RIFF_HEADER_BYTES
    while offset < len(data):
        if offset + CHUNK_HEADER_BYTES > len(data):
            raise WebPFormatError(f"truncated chunk header at byte {offset} of {len(data)}")
        fourcc = data[offset:offset + 4]
        (size,) = struct.unpack("<I", data[offset + 4:offset + 8])
        end = offset + CHUNK_HEADER_BYTES + size
        if end > len(data):
            raise WebPFormatError(f"chunk {fourcc!r} at byte {offset} claims {size} bytes; only "
                                  f"{len(data) - offset - CHUNK_HEADER_BYTES} remain")
        if fourcc in (b"ANIM", b"ANMF"):
            raise WebPFormatError("animated WebP files are not supported (found an ANIM/ANMF chunk)")
        if fourcc == b"ALPH":
            raise WebPFormatError("the file has an alpha plane (ALPH chunk); its bits would not be counted")
        if fourcc in BITSTREAM_CHUNKS:
            payloads.append(size)
        offset = end + (size & 1)
    if len(payloads) != 1:
        raise WebPFormatError(f"expected exactly one VP8/VP8L bitstream chunk, found {len(payloads)}")
    return 8 * payloads[0]


# --------------------------------------------------------------------------------------------------------------
# Capacity scaling


def bsc_capacity(eps: float) -> float:
    """``1 - H_b(eps)``, bits per use of a BSC(eps); ``eps`` in [0, 0.5] (0 at 0.5)."""
    return BinarySymmetricChannel(eps).capacity()


def channel_bits(source_bits: float, eps: float) -> float:
    """Bits an ideal channel code sends for ``source_bits`` over a BSC(eps): ``source_bits / (1 - H_b(eps))``.

    At ``eps = 0.5`` the capacity is 0 and the result is ``inf`` (``0`` source bits still need ``0``).
    """
    if isinstance(source_bits, bool) or not isinstance(source_bits, (int, float, np.integer, np.floating)) \
            or not source_bits >= 0:
        raise ConfigError(f"source_bits must be a non-negative number, got {source_bits!r}")
    capacity = bsc_capacity(eps)
    if source_bits == 0:
        return 0.0
    return math.inf if capacity == 0.0 else float(source_bits) / capacity


# --------------------------------------------------------------------------------------------------------------
# One image


class WebPMatch(NamedTuple):
    """Result of :func:`smallest_webp_meeting`.

    ``bits``: payload bits of the chosen encoding (:func:`webp_payload_bits`), ``None`` when no quality meets the
    target. ``quality``, ``distortion``: the chosen setting and its distortion; when unmatched, the setting with
    the lowest distortion that was tried, so the caller sees how far from the target the best attempt stayed.
    Unpacks as ``bits, quality, distortion = match``.
    """

    bits: int | None
    quality: int
    distortion: float

    @property
    def matched(self) -> bool:
        return self.bits is not None


@dataclass(frozen=True)
class WebPProfile:
    """Sizes and distortions of one image at a set of WebP qualities; every array has shape ``(Q,)``.

    ``quality``: the settings; ``payload_bits``: :func:`webp_payload_bits`; ``file_bits``: whole file;
    ``l2_per_image``: sum of squared errors on [0, 1] pixels; ``l2_per_pixel``: the same over ``C * H * W``.
    """

    quality: np.ndarray
    payload_bits: np.ndarray
    file_bits: np.ndarray
    l2_per_image: np.ndarray
    l2_per_pixel: np.ndarray

    def distortion(self, metric: str = "l2_per_image") -> np.ndarray:
        """``(Q,)`` distortion under ``metric`` (one of :data:`METRICS`)."""
        check_choice("distortion metric", metric, METRICS)
        return getattr(self, metric)

    def match(self, target: float, metric: str = "l2_per_image") -> WebPMatch:
        """Smallest payload among the profiled qualities whose distortion is ``<= target`` (ties: lowest quality)."""
        _check_target(target)
        dist = self.distortion(metric)
        ok = np.flatnonzero(dist <= target)
        if ok.size == 0:
            best = int(np.argmin(dist))
            return WebPMatch(None, int(self.quality[best]), float(dist[best]))
        # lexsort: last key is primary -> smallest payload, then lowest quality
        pick = ok[np.lexsort((self.quality[ok], self.payload_bits[ok]))[0]]
        return WebPMatch(int(self.payload_bits[pick]), int(self.quality[pick]), float(dist[pick]))


def _check_target(target) -> None:
    if isinstance(target, bool) or not isinstance(target, (int, float, np.integer, np.floating)):
        raise ConfigError(f"target distortion must be a number, got {target!r}")
    if not math.isfinite(target) or target < 0:
        raise ConfigError(f"target distortion must be finite and >= 0, got {target!r}")


def _as_image(image, what: str = "image") -> np.ndarray:
    """``(C, H, W)`` tensor/array on [0, 1] with C in {1, 3} -> float64 numpy array (validated)."""
    if hasattr(image, "detach"):
        image = image.detach().cpu().numpy()
    a = np.asarray(image, dtype=np.float64)
    if a.ndim != 3 or a.shape[0] not in (1, 3) or a.shape[1] < 1 or a.shape[2] < 1:
        raise ConfigError(f"{what} must have shape (C, H, W) with C = 1 or 3, got {a.shape}")
    if not np.isfinite(a).all():
        raise ConfigError(f"{what} has non-finite pixel values")
    lo, hi = float(a.min()), float(a.max())
    if lo < 0.0 or hi > 1.0:
        raise ConfigError(f"{what} pixels must lie in [0, 1], got values in [{lo:g}, {hi:g}]")
    return a


def _encode(pil: Image.Image, quality: int, method: int) -> bytes:
    buf = io.BytesIO()
    pil.save(buf, format="WEBP", quality=quality, lossless=False, method=method)
    return buf.getvalue()


def _decode(data: bytes, channels: int) -> np.ndarray:
    """WebP bytes -> ``(C, H, W)`` float64 on [0, 1]."""
    mode = "L" if channels == 1 else "RGB"
    with Image.open(io.BytesIO(data), formats=("WEBP",)) as pil:
        a = np.asarray(pil if pil.mode == mode else pil.convert(mode), dtype=np.float64) / 255.0
    return a[None] if channels == 1 else np.transpose(a, (2, 0, 1))


class _Encoder:
    """Encodes one validated image at any quality, remembering what it already measured.

    Sizes and distortions are cached separately: the exact search needs every size but only the distortions of
    the settings no larger than its answer.
    """

    def __init__(self, image: np.ndarray, method: int):
        self.image = image
        self.channels = image.shape[0]
        self.pil = Image.fromarray(to_uint8(image))
        self.method = method
        self.files: dict[int, bytes] = {}
        self.sizes: dict[int, tuple[int, int]] = {}  # quality -> (payload bits, file bits)
        self.errors: dict[int, float] = {}  # quality -> l2_per_image

    def size(self, quality: int) -> tuple[int, int]:
        if quality not in self.sizes:
            data = _encode(self.pil, quality, self.method)
            self.files[quality] = data
            self.sizes[quality] = (webp_payload_bits(data), 8 * len(data))
        return self.sizes[quality]

    def l2(self, quality: int) -> float:
        if quality not in self.errors:
            self.size(quality)
            rec = _decode(self.files[quality], self.channels)
            self.errors[quality] = float(np.square(rec - self.image).sum())
        return self.errors[quality]

    def distortion(self, quality: int, metric: str) -> float:
        return self.l2(quality) / (1 if metric == "l2_per_image" else self.image.size)

    def __call__(self, quality: int) -> tuple[int, int, float]:
        return (*self.size(quality), self.l2(quality))

    def profile(self, qualities) -> WebPProfile:
        rows = np.array([self(q) for q in qualities], dtype=np.float64).reshape(-1, 3)
        l2 = rows[:, 2]
        return WebPProfile(np.asarray(qualities, dtype=np.int64), rows[:, 0].astype(np.int64),
                           rows[:, 1].astype(np.int64), l2, l2 / self.image.size)

    def exact_match(self, target: float, metric: str) -> WebPMatch:
        """Same answer as ``profile(QUALITIES).match(target, metric)``, decoding only what it must.

        Every quality is encoded; the settings are then visited by increasing (payload, quality), decoding each,
        and the first one whose distortion meets the target is the answer. An unmatched image decodes them all.
        """
        order = sorted(QUALITIES, key=lambda q: (self.size(q)[0], q))
        for q in order:
            if self.distortion(q, metric) <= target:
                return WebPMatch(self.sizes[q][0], q, self.distortion(q, metric))
        best = min(QUALITIES, key=lambda q: (self.errors[q], q))
        return WebPMatch(None, best, self.distortion(best, metric))


def _check_method(method) -> None:
    check_range("WebP method (encoder effort)", method, 0, 6, integer=True)


def webp_profile(image, qualities=QUALITIES, method: int = WEBP_METHOD) -> WebPProfile:
    """Encode and decode one ``(C, H, W)`` image on [0, 1] at every quality in ``qualities`` (default 0..100).

    About 25-30 ms for a 32x32 RGB image at 101 qualities on one core (encode ~0.18 ms, decode ~0.1 ms each).
    """
    _check_method(method)
    qualities = [int(q) for q in qualities]
    if not qualities:
        raise ConfigError("qualities must not be empty")
    for q in qualities:
        check_range("WebP quality", q, 0, 100, integer=True)
    return _Encoder(_as_image(image), int(method)).profile(qualities)


def _bisect(enc: _Encoder, target: float, metric: str) -> WebPMatch:
    """Binary search over quality for the lowest one meeting ``target``, assuming monotone distortion."""

    def dist(q: int) -> float:
        return enc.distortion(q, metric)

    exhaustive = False
    if dist(QUALITIES[-1]) > target:
        exhaustive = True  # never report "unmatched" without having tried every quality
    elif dist(QUALITIES[0]) <= target:
        hi = QUALITIES[0]
    else:
        lo, hi = QUALITIES[0], QUALITIES[-1]  # invariant: dist(lo) > target >= dist(hi)
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if dist(mid) <= target:
                hi = mid
            else:
                lo = mid
        seen_d = [enc.errors[q] for q in sorted(enc.errors)]
        exhaustive = any(b > a for a, b in zip(seen_d, seen_d[1:]))  # a visible violation of monotonicity
    if exhaustive:
        return enc.exact_match(target, metric)
    return WebPMatch(enc.size(hi)[0], hi, dist(hi))


def smallest_webp_meeting(image, target: float, metric: str = "l2_per_image", *, search: str = "exhaustive",
                          method: int = WEBP_METHOD) -> WebPMatch:
    """Smallest lossy-WebP payload (bits, headers excluded) whose distortion on ``image`` is ``<= target``.

    Args:
        image: ``(C, H, W)`` float tensor or array on [0, 1], C = 1 or 3.
        target: distortion to reach, finite and ``>= 0``, in units of ``metric``.
        metric: ``l2_per_image`` (sum of squared pixel errors) or ``l2_per_pixel`` (per-pixel MSE).
        search: ``exhaustive`` (default): all 101 qualities are encoded and the smallest payload among those
            meeting the target is returned (decoding by increasing payload until one meets it); exact on the
            quality grid whatever the shape of the quality -> (size, distortion) curves.
            ``bisect``: binary search for the lowest quality meeting the target assuming distortion falls with
            quality (~9 encodes and decodes instead of 101 encodes); it falls back to the exhaustive search when
            the qualities it tried already show non-monotone distortion, and it always confirms "unmatched"
            exhaustively. It can still miss a violation between the points it tried (a lower quality that meets
            the target, or a higher quality with a smaller file), so its bits are an upper bound on the
            exhaustive answer, not the answer (500 CIFAR-10 images at one target each: 9 % got more bits than the
            exact answer, 4 bits more on average over all images, 352 at most).
        method: WebP encoder effort 0..6 (default 4, as Pillow and cwebp).

    Returns:
        :class:`WebPMatch` ``(bits, quality, distortion)``; ``bits is None`` when no quality meets the target
        (then ``quality`` and ``distortion`` are those of the lowest-distortion setting tried).
    """
    check_choice("distortion metric", metric, METRICS)
    check_choice("search", search, SEARCHES)
    _check_method(method)
    _check_target(target)
    enc = _Encoder(_as_image(image), int(method))
    if search == "exhaustive":
        return enc.exact_match(float(target), metric)
    return _bisect(enc, float(target), metric)


# --------------------------------------------------------------------------------------------------------------
# A data set at one or several eps


def _as_images(images) -> list[np.ndarray]:
    if hasattr(images, "detach"):
        images = images.detach().cpu().numpy()
    if isinstance(images, np.ndarray):
        if images.ndim != 4:
            raise ConfigError(f"images must have shape (N, C, H, W), got {images.shape}")
        images = list(images)
    images = list(images)
    if not images:
        raise ConfigError("images is empty")
    return [_as_image(img, f"image {i}") for i, img in enumerate(images)]


def webp_bits_to_match(images, targets, eps, code_length: int, *, metric: str = "l2_per_image",
                       search: str = "exhaustive", method: int = WEBP_METHOD) -> pd.DataFrame:
    """Per image and eps, the bits WebP + an ideal BSC code needs to reach NECST's distortion (NECST Figure 2).

    Args:
        images: ``(N, C, H, W)`` tensor/array on [0, 1], or a sequence of ``(C, H, W)`` images.
        targets: NECST's per-image distortion, in units of ``metric``: shape ``(N,)`` when ``eps`` is a number,
            ``(E, N)`` when ``eps`` is a sequence of E values (row e = the distortions at ``eps[e]``).
        eps: BSC flip probability in [0, 0.5], or a sequence of them.
        code_length: NECST's code length m in bits (a positive integer).
        metric, search, method: as in :func:`smallest_webp_meeting`. Every setting of an image is encoded and
            decoded at most once, whatever the number of eps values.

    Returns:
        A tidy frame, one row per (eps, image), sorted by eps then image, with columns ``eps``, ``image`` (index),
        ``target``, ``metric``, ``matched``, ``quality``, ``distortion``, ``source_bits`` (WebP payload bits,
        headers excluded; NaN when unmatched), ``file_bits`` (whole file of that setting), ``capacity``
        (``1 - H_b(eps)``), ``channel_bits`` (``source_bits / capacity``; ``inf`` at eps = 0.5; NaN when
        unmatched), ``code_length`` and ``extra_bits`` (``channel_bits - code_length``).
        Unmatched images stay in the frame with ``matched=False``. :func:`summarize_webp_matching` averages it.
    """
    check_choice("distortion metric", metric, METRICS)
    check_choice("search", search, SEARCHES)
    _check_method(method)
    check_range("code_length (NECST bits m)", code_length, 1, 10**9, integer=True)
    scalar_eps = np.ndim(eps) == 0
    eps_list = [eps] if scalar_eps else list(eps)
    if not eps_list:
        raise ConfigError("eps is an empty sequence")
    for e in eps_list:
        check_range("BSC flip probability eps", e, 0.0, 0.5)
    imgs = _as_images(images)
    n = len(imgs)

    t = np.asarray(targets, dtype=np.float64)
    want = (n,) if scalar_eps else (len(eps_list), n)
    if t.shape != want:
        raise ConfigError(f"targets must have shape {want} ({'N images' if scalar_eps else 'E eps values x N images'}"
                          f"), got {t.shape}")
    t = t.reshape(len(eps_list), n)
    bad = np.argwhere(~np.isfinite(t) | (t < 0))
    if bad.size:
        e, i = bad[0]
        raise ConfigError(f"target distortion of image {i} at eps={float(eps_list[e])!r} is {float(t[e, i])!r}; "
                          f"targets must be finite and >= 0")

    capacities = [bsc_capacity(e) for e in eps_list]
    rows = []
    for i, img in enumerate(imgs):
        enc = _Encoder(img, int(method))  # shared by every eps: each setting is encoded and decoded at most once
        for k, e in enumerate(eps_list):
            target = float(t[k, i])
            m = enc.exact_match(target, metric) if search == "exhaustive" else _bisect(enc, target, metric)
            src = float(m.bits) if m.matched else math.nan
            chan = channel_bits(src, e) if m.matched else math.nan
            rows.append({"eps": float(e), "image": i, "target": target, "metric": metric, "matched": m.matched,
                         "quality": m.quality, "distortion": m.distortion, "source_bits": src,
                         "file_bits": enc.size(m.quality)[1], "capacity": capacities[k], "channel_bits": chan,
                         "code_length": int(code_length), "extra_bits": chan - code_length})
    return pd.DataFrame(rows).sort_values(["eps", "image"], kind="stable").reset_index(drop=True)


def summarize_webp_matching(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per eps of a :func:`webp_bits_to_match` frame: what NECST Figure 2 plots.

    Columns: ``eps``, ``code_length``, ``n_images``, ``n_matched``, ``n_unmatched``, ``mean_source_bits`` and
    ``mean_channel_bits`` (means over matched images only; ``inf`` at eps = 0.5; NaN when none matched),
    ``extra_bits`` (``mean_channel_bits - code_length``, the figure's y value) and ``mean_file_bits`` (matched
    images' whole files, headers included, for comparison). Unmatched images cannot enter a mean of bits, so a
    large ``n_unmatched`` makes ``extra_bits`` an underestimate: report it beside the mean.
    """
    needed = {"eps", "code_length", "matched", "source_bits", "channel_bits", "file_bits"}
    missing = needed - set(frame.columns)
    if missing:
        raise ConfigError(f"not a webp_bits_to_match frame: missing columns {sorted(missing)}")
    out = []
    for (e, m), g in frame.groupby(["eps", "code_length"], sort=True):
        ok = g[g["matched"].astype(bool)]
        mean_chan = float(ok["channel_bits"].mean()) if len(ok) else math.nan
        out.append({"eps": float(e), "code_length": int(m), "n_images": len(g), "n_matched": len(ok),
                    "n_unmatched": len(g) - len(ok),
                    "mean_source_bits": float(ok["source_bits"].mean()) if len(ok) else math.nan,
                    "mean_channel_bits": mean_chan, "extra_bits": mean_chan - int(m),
                    "mean_file_bits": float(ok["file_bits"].mean()) if len(ok) else math.nan})
    return pd.DataFrame(out)
