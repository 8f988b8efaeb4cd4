import numpy as np
import pytest
import torch

from repro.channels.discrete import flip_bytes
from repro.coding import classic as cc
from repro.core.checks import ConfigError
from repro.data import load_dataset


def test_png_is_lossless_and_jpeg_is_close():
    img = load_dataset("mnist", "test").x[0].numpy()
    png = cc.decode(cc.encode(img, "png"), img.shape)
    assert np.array_equal(cc.to_uint8(png), cc.to_uint8(img))
    jpg = cc.decode(cc.encode(img, "jpeg", 90), img.shape)
    assert np.abs(jpg - img).mean() < 0.03


def test_color_round_trip_and_size_ordering():
    img = load_dataset("cifar10", "test").x[0].numpy()
    assert cc.decode(cc.encode(img, "png"), img.shape).shape == (3, 32, 32)
    assert len(cc.encode(img, "jpeg", 10)) < len(cc.encode(img, "jpeg", 95))


def test_damaged_files_fail_to_decode():
    img = load_dataset("mnist", "test").x[1].numpy()
    assert cc.decode(b"not an image", img.shape) is None
    data = cc.encode(img, "png")
    assert cc.decode(data[: len(data) // 2], img.shape) is None
    failures = sum(cc.decode(flip_bytes(data, 0.05, torch.Generator().manual_seed(i)), img.shape) is None
                   for i in range(20))
    assert failures == 20


def test_bad_format_and_quality():
    with pytest.raises(ConfigError, match="'jpeg', 'png'"):
        cc.encode(np.zeros((1, 4, 4)), "gif")
    with pytest.raises(ConfigError, match="quality"):
        cc.encode(np.zeros((1, 4, 4)), "jpeg", 0)
