import io
import math
import struct

import numpy as np
import pytest
import torch
from PIL import Image

from repro.channels.discrete import binary_entropy
from repro.coding import webp as wm
from repro.coding.classic import to_uint8
from repro.core.checks import ConfigError
from repro.data import load_dataset


@pytest.fixture
def cifar():  # function scope: the data path comes from the autouse fixture in conftest.py
    return load_dataset("cifar10", "test").x[:6]


def _pillow_webp(img, quality, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(to_uint8(img)).save(buf, format="WEBP", quality=quality, **kw)
    return buf.getvalue()


def _noise(channels=3, seed=0):
    return np.random.default_rng(seed).random((channels, 32, 32))


# ---------------------------------------------------------------------------------------------------- payload size

def test_payload_is_the_vp8_chunk_length_on_a_real_image(cifar):
    data = _pillow_webp(cifar[0].numpy(), 50)
    assert data[:4] == b"RIFF" and data[8:16] == b"WEBPVP8 "
    (chunk_len,) = struct.unpack("<I", data[16:20])
    bits = wm.webp_payload_bits(data)
    assert bits == 8 * chunk_len
    assert bits < 8 * len(data)
    # RIFF header (12) + chunk header (8) + a padding byte when the chunk length is odd
    assert 8 * len(data) - bits == 8 * (20 + chunk_len % 2)


def test_payload_of_a_lossless_file_is_the_vp8l_chunk(cifar):
    data = _pillow_webp(cifar[1].numpy(), 80, lossless=True)
    assert data[12:16] == b"VP8L"
    assert wm.webp_payload_bits(data) == 8 * struct.unpack("<I", data[16:20])[0]


def test_extended_container_chunks_are_not_counted(cifar):
    simple = _pillow_webp(cifar[2].numpy(), 40)
    body = simple[12:]  # the VP8 chunk with its header and padding
    vp8x = b"VP8X" + struct.pack("<I", 10) + bytes(10)
    exif = b"EXIF" + struct.pack("<I", 5) + b"abcde" + b"\x00"  # odd length: one padding byte
    chunks = vp8x + body + exif
    extended = b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + chunks
    assert wm.webp_payload_bits(extended) == wm.webp_payload_bits(simple)


def test_malformed_files_are_rejected(cifar):
    with pytest.raises(wm.WebPFormatError, match="not a RIFF/WEBP"):
        wm.webp_payload_bits(b"not a webp file at all")
    data = _pillow_webp(cifar[0].numpy(), 50)
    with pytest.raises(wm.WebPFormatError, match="RIFF size field"):
        wm.webp_payload_bits(data[:-7])
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 3] = np.arange(64, dtype=np.uint8).reshape(8, 8)
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, format="WEBP", quality=50)
    with pytest.raises(wm.WebPFormatError, match="alpha"):
        wm.webp_payload_bits(buf.getvalue())


# ------------------------------------------------------------------------------------------------ known answers

def test_constant_colour_image_is_matched_at_a_tiny_size():
    flat = np.full((3, 32, 32), 100 / 255)
    match = wm.smallest_webp_meeting(flat, target=1.0)
    assert match.matched and match.distortion <= 1.0
    assert match.bits <= 8 * 64  # tens of bytes, against ~2,000 bits for a CIFAR image at similar distortion
    bits, quality, distortion = match
    frame = wm.webp_bits_to_match(flat[None], [1.0], 0.0, code_length=100)
    assert frame.loc[0, ["source_bits", "quality"]].tolist() == [bits, quality]
    # RIFF header (12 bytes), VP8 chunk header (8) and a padding byte after an odd-length payload
    assert frame.loc[0, "file_bits"] == bits + 8 * (20 + (bits // 8) % 2)


def test_exhaustive_search_equals_a_brute_force_scan(cifar):
    img = cifar[3].numpy()
    best = None
    for q in range(101):
        data = _pillow_webp(img, q)
        with Image.open(io.BytesIO(data)) as pil:
            rec = np.transpose(np.asarray(pil.convert("RGB"), np.float64) / 255, (2, 0, 1))
        dist = float(((rec - img.astype(np.float64)) ** 2).sum())
        size = wm.webp_payload_bits(data)
        if dist <= 4.0 and (best is None or size < best[0]):
            best = (size, q, dist)
    match = wm.smallest_webp_meeting(torch.from_numpy(img), 4.0)
    assert (match.bits, match.quality) == best[:2]
    assert match.distortion == pytest.approx(best[2])
    # the lazy exact search agrees with matching on a full profile, for loose and tight targets
    profile = wm.webp_profile(img)
    for target in (0.5, 2.0, 4.0, 9.0, 30.0):
        assert wm.smallest_webp_meeting(img, target) == profile.match(target)
    # the same target as per-pixel MSE gives the same encoding
    per_pixel = wm.smallest_webp_meeting(img, 4.0 / img.size, metric="l2_per_pixel")
    assert (per_pixel.bits, per_pixel.quality) == (match.bits, match.quality)


def test_zero_target_on_noise_is_reported_unmatched_not_dropped(cifar):
    noisy = _noise()
    match = wm.smallest_webp_meeting(noisy, 0.0)
    assert match.bits is None and not match.matched
    assert match.distortion > 0  # the best attempt is reported
    images = np.stack([cifar[0].numpy(), noisy, cifar[1].numpy()])
    frame = wm.webp_bits_to_match(images, [20.0, 0.0, 20.0], eps=0.1, code_length=100)
    assert list(frame["image"]) == [0, 1, 2]
    assert list(frame["matched"]) == [True, False, True]
    assert math.isnan(frame.loc[1, "source_bits"]) and math.isnan(frame.loc[1, "channel_bits"])
    summary = wm.summarize_webp_matching(frame)
    assert summary.loc[0, ["n_images", "n_matched", "n_unmatched"]].tolist() == [3, 2, 1]
    assert summary.loc[0, "mean_channel_bits"] == pytest.approx(frame.loc[[0, 2], "channel_bits"].mean())


def test_bisect_confirms_unmatched_and_never_beats_exhaustive(cifar):
    assert wm.smallest_webp_meeting(_noise(seed=1), 0.0, search="bisect").bits is None
    for img in cifar[:3]:
        profile = wm.webp_profile(img)
        for target in profile.l2_per_image[[10, 40, 75]]:  # reachable targets, loose to tight
            exact = wm.smallest_webp_meeting(img, target)
            fast = wm.smallest_webp_meeting(img, target, search="bisect")
            assert fast.matched and fast.distortion <= target
            assert fast.bits >= exact.bits


# ------------------------------------------------------------------------------------------------ capacity scaling

def test_channel_bits_scale_with_bsc_capacity(cifar):
    img = cifar[4:5]
    eps = [0.0, 0.11, 0.5]
    frame = wm.webp_bits_to_match(img, [[6.0], [6.0], [6.0]], eps, code_length=100)
    src = frame["source_bits"].to_numpy()
    assert src[0] == src[1] == src[2] > 0
    chan = frame["channel_bits"].to_numpy()
    assert chan[0] == src[0]
    assert chan[1] / src[1] == pytest.approx(1 / (1 - binary_entropy(0.11)))
    assert chan[1] / src[1] == pytest.approx(2.0, rel=0.01)
    assert chan[2] == math.inf
    assert frame["extra_bits"].tolist()[:2] == pytest.approx((chan[:2] - 100).tolist())
    summary = wm.summarize_webp_matching(frame)
    assert summary["eps"].tolist() == eps
    assert summary.loc[2, "extra_bits"] == math.inf
    assert wm.channel_bits(0, 0.5) == 0.0 and wm.bsc_capacity(0.5) == 0.0


# ------------------------------------------------------------------------------------------------ monotonicity

def test_looser_targets_never_need_more_bits(cifar):
    targets = [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
    for img in cifar[:4]:
        profile = wm.webp_profile(img)
        bits = [profile.match(t).bits for t in targets]
        matched = [b for b in bits if b is not None]
        # once a target is met, every looser one is met too, with no more bits
        assert bits[len(bits) - len(matched):] == matched
        assert all(a >= b for a, b in zip(matched, matched[1:]))
    reachable = [wm.webp_profile(img).l2_per_image for img in cifar[:4]]
    tight = wm.webp_bits_to_match(cifar[:4], [d[70] for d in reachable], 0.0, code_length=50)
    loose = wm.webp_bits_to_match(cifar[:4], [d[20] for d in reachable], 0.0, code_length=50)
    assert tight["matched"].all() and loose["matched"].all()
    assert (loose["source_bits"] <= tight["source_bits"]).all()
    assert (loose["source_bits"] < tight["source_bits"]).any()


def test_webp_distortion_is_not_monotone_in_quality(cifar):
    # the reason the default search is exhaustive (documented in the module)
    profile = wm.webp_profile(cifar[0])
    assert (np.diff(profile.l2_per_image) > 0).any()


# ------------------------------------------------------------------------------------------------ bad inputs

def test_bad_inputs_raise_with_the_value(cifar):
    imgs = cifar[:2]
    ok = [5.0, 5.0]
    with pytest.raises(ConfigError, match="0.6"):
        wm.webp_bits_to_match(imgs, ok, 0.6, 100)
    with pytest.raises(ConfigError, match="-0.1"):
        wm.webp_bits_to_match(imgs, [ok], [-0.1], 100)
    with pytest.raises(ConfigError, match=r"shape \(2,\).*got \(3,\)"):
        wm.webp_bits_to_match(imgs, [5.0, 5.0, 5.0], 0.1, 100)
    with pytest.raises(ConfigError, match=r"shape \(2, 2\)"):
        wm.webp_bits_to_match(imgs, ok, [0.1, 0.2], 100)
    with pytest.raises(ConfigError, match=r"image 1 at eps=0.1 is -1.0"):
        wm.webp_bits_to_match(imgs, [5.0, -1.0], 0.1, 100)
    with pytest.raises(ConfigError, match="nan"):
        wm.webp_bits_to_match(imgs, [5.0, float("nan")], 0.1, 100)
    with pytest.raises(ConfigError, match="code_length"):
        wm.webp_bits_to_match(imgs, ok, 0.1, 0)
    with pytest.raises(ConfigError, match="'mse'"):
        wm.webp_bits_to_match(imgs, ok, 0.1, 100, metric="mse")
    with pytest.raises(ConfigError, match="'linear'"):
        wm.smallest_webp_meeting(imgs[0], 1.0, search="linear")
    with pytest.raises(ConfigError, match="-2"):
        wm.smallest_webp_meeting(imgs[0], -2.0)
    with pytest.raises(ConfigError, match=r"\[0, 1\].*1.5"):
        wm.smallest_webp_meeting(np.full((3, 8, 8), 1.5), 1.0)
    with pytest.raises(ConfigError, match=r"\(C, H, W\).*\(8, 8\)"):
        wm.smallest_webp_meeting(np.zeros((8, 8)), 1.0)
    with pytest.raises(ConfigError, match="-0.3"):
        wm.channel_bits(100, -0.3)
