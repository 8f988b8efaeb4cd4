"""Checkpoints: a flipped bit in tensor data is caught on load (zip CRC), a failed save names the file in one
line and leaves no temporary file, and the old checkpoint survives a failed save."""

import errno
import os
import zipfile

import pytest
import torch

from repro.core import fsio
from repro.core.cache import CheckpointCache, CorruptCheckpointError

CONFIG = {"model": "tiny", "epochs": 1, "seed": 0}


def _payload(value=1.0):
    return {"complete": True, "epoch": 1, "model": {"w": torch.full((64, 64), value)}}


def test_a_flipped_bit_inside_tensor_data_is_reported_with_the_path(tmp_path):
    cache = CheckpointCache(tmp_path)
    path = cache.save("m", CONFIG, _payload())
    with zipfile.ZipFile(path) as archive:
        info = next(i for i in archive.infolist() if "/data/" in i.filename)
    data = bytearray(path.read_bytes())
    # the local header is 30 bytes + file name + extra field; flip a bit in the middle of the stored tensor
    with open(path, "rb") as fh:
        fh.seek(info.header_offset + 26)
        name_len, extra_len = int.from_bytes(fh.read(2), "little"), int.from_bytes(fh.read(2), "little")
    start = info.header_offset + 30 + name_len + extra_len
    data[start + info.compress_size // 2] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(CorruptCheckpointError, match="CRC") as err:
        cache.load("m", CONFIG)
    assert str(path) in str(err.value)


def test_a_truncated_checkpoint_is_reported_with_the_path(tmp_path):
    cache = CheckpointCache(tmp_path)
    path = cache.save("m", CONFIG, _payload())
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(CorruptCheckpointError, match=str(path.name)):
        cache.load("m", CONFIG)


def test_intact_checkpoints_round_trip(tmp_path):
    cache = CheckpointCache(tmp_path)
    cache.save("m", CONFIG, _payload(2.0))
    assert torch.equal(cache.load("m", CONFIG)["model"]["w"], torch.full((64, 64), 2.0))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_disk_full_while_saving_names_the_file_and_keeps_the_old_one(tmp_path, monkeypatch, code):
    cache = CheckpointCache(tmp_path)
    path = cache.save("m", CONFIG, _payload(1.0))
    real_open = open

    class ShortFile:
        """A file that accepts 4 KiB and then reports the error, like a file system running out of space."""

        def __init__(self, *a, **k):
            self.fh = real_open(*a, **k)

        def write(self, data):
            self.fh.write(data[:4096])
            raise OSError(code, os.strerror(code))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    monkeypatch.setattr(fsio, "open", ShortFile, raising=False)
    with pytest.raises(fsio.OutputWriteError) as err:
        cache.save("m", CONFIG, _payload(3.0))
    assert str(path) in str(err.value) and errno.errorcode[code] in str(err.value)
    assert "\n" not in str(err.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    monkeypatch.undo()
    assert torch.equal(cache.load("m", CONFIG)["model"]["w"], torch.full((64, 64), 1.0))
