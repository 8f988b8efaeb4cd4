"""JPEG and PNG baselines through Pillow: encode images to files, decode possibly corrupted files.

A decode *fails* when Pillow raises, or when it returns an image of another size or mode than the original
(a corrupted header can announce other dimensions). Decoders are tolerant of damage in the entropy-coded data,
so a file can also decode "successfully" into garbage; callers measure the quality of what did decode.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from repro.core.checks import check_choice, check_range

FORMATS = ("jpeg", "png", "webp")


def to_uint8(img) -> np.ndarray:
    """``(C, H, W)`` or ``(H, W)`` float image on [0, 1] to ``(H, W)`` / ``(H, W, 3)`` uint8."""
    a = np.asarray(img, dtype=np.float32)
    if a.ndim == 3:
        a = a[0] if a.shape[0] == 1 else np.transpose(a, (1, 2, 0))
    return np.clip(np.rint(a * 255.0), 0, 255).astype(np.uint8)


def encode(img, fmt: str, quality: int | None = None) -> bytes:
    """Encode one image; ``quality`` (1..100) for JPEG and WebP, ignored for PNG (maximum compression)."""
    check_choice("image format", fmt, FORMATS)
    pil = Image.fromarray(to_uint8(img))
    buf = io.BytesIO()
    if fmt == "png":
        pil.save(buf, format="PNG", optimize=True)
    else:
        check_range(f"{fmt} quality", quality, 1, 100, integer=True)
        pil.save(buf, format=fmt.upper(), quality=int(quality))
    return buf.getvalue()


def decode(data: bytes, shape: tuple[int, ...]) -> np.ndarray | None:
    """Decode a file into a float image shaped like the original ``(C, H, W)``; ``None`` if decoding fails."""
    channels, height, width = shape
    try:
        with Image.open(io.BytesIO(data)) as pil:
            pil.load()
            mode = "L" if channels == 1 else "RGB"
            if pil.size != (width, height) or pil.mode != mode:
                return None
            a = np.asarray(pil, dtype=np.float32) / 255.0
    except Exception:  # Pillow signals damaged files with many exception types
        return None
    return a[None] if channels == 1 else np.transpose(a, (2, 0, 1))
