"""What each method stores in DNA and how it comes back: latents with erasures, JPEG/PNG decoded as they are."""

import numpy as np
import pytest
import torch

from repro.coding.quantize import GaussianQuantizer, UniformQuantizer
from repro.core.checks import ConfigError
from repro.data import load_dataset
from repro.dna import pipeline, storage
from repro.dna.decoder import RecoveredFile


def _exact(files):
    return [RecoveredFile(f, np.ones(len(f), bool), True) for f in files]


@pytest.mark.parametrize("layout", storage.VAE_LAYOUTS)
def test_latents_round_trip_and_erasures_become_the_mean(layout):
    torch.manual_seed(0)
    train, gamma = torch.randn(500, 32) * 2 + 1, torch.randn(20, 32) * 2 + 1
    for family, q in (("VAEN", GaussianQuantizer.fit(6, train)), ("VAEU", UniformQuantizer(6))):
        payload = storage.vae_payload(family, q, gamma, 784, layout)
        assert payload.record_bytes == 32 * 6 // 8 and payload.bpp == pytest.approx(32 * 6 / 784)
        fill = storage.mean_fill(family, q, 32)
        back, erased = storage.vae_latents(payload, _exact(payload.files), q, fill)
        assert not erased.any() and torch.equal(back, q.dequantize(q.quantize(gamma)))
        # lose bytes 3..5 of image 2's record: the values those 24 bits touch are erased
        damaged = _exact(payload.files)
        if layout == "packed":
            damaged[0].known[2 * payload.record_bytes + 3: 2 * payload.record_bytes + 6] = False
        else:
            damaged[2].known[3:6] = False
        back, erased = storage.vae_latents(payload, damaged, q, fill)
        assert erased.sum() == 4 and erased[2, 4:8].all()  # bits 24..47 are values 4..7 of 6 bits each
        assert torch.equal(back[2][erased[2]], fill[erased[2]].float())
        assert torch.equal(back[~erased], q.dequantize(q.quantize(gamma))[~erased])
    assert torch.equal(storage.mean_fill("VAEU", q, 32), torch.zeros(32))


def test_images_decode_as_they_are_and_failures_are_counted():
    x = load_dataset("mnist", "test").x[:4]
    png = storage.image_payload(x, "PNG")
    jpeg = storage.image_payload(x, "JPEG", 50)
    assert png.setting is None and jpeg.label == "JPEG q50" and jpeg.bpp > png.bpp > 1
    images, failed = storage.images_from_files(_exact(png.files), (1, 28, 28))
    assert not failed.any() and torch.allclose(images, torch.round(x * 255) / 255, atol=1e-6)
    broken = _exact(png.files)
    broken[1] = RecoveredFile(png.files[1][:40], np.ones(40, bool), False)  # the end was lost
    broken[2] = RecoveredFile(b"", np.zeros(0, bool), False)  # nothing came back
    images, failed = storage.images_from_files(broken, (1, 28, 28))
    assert failed.tolist() == [False, True, True, False] and images[1].abs().sum() == 0
    with pytest.raises(ConfigError, match="'GIF'"):
        storage.image_payload(x, "GIF")


def test_pipeline_end_to_end_on_real_images():
    x = load_dataset("mnist", "test").x[:30]
    payload = storage.image_payload(x, "PNG")
    pool = pipeline.store(payload, 150)
    channel = pipeline.Channel()
    high = pipeline.retrieve(pool, payload, 25, channel, seed=0)
    assert high.complete_files == 30 and [f.data for f in high.files] == payload.files
    low = pipeline.retrieve(pool, payload, 1, channel, seed=0)
    assert low.complete_files < 30 and low.reads == pool.n_oligos
    again = pipeline.retrieve(pool, payload, 1, channel, seed=0)
    assert [f.data for f in again.files] == [f.data for f in low.files]  # seeded per point
    with pytest.raises(ConfigError, match="'illumina'"):
        pipeline.Channel(backend="illumina")
