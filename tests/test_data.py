import json
import shutil

import numpy as np
import pytest
import torch

from repro.core.checks import ConfigError
from repro.data import ChecksumError, DatasetNotFoundError, load_dataset
from repro.data.datasets import _cifar_arrays, _mnist_arrays, _npz_images, _omniglot_arrays

from .conftest import ROOT, SAMPLE

EXPECTED = {"mnist": (1, 28, 28), "binary_mnist": (1, 28, 28), "omniglot": (1, 28, 28), "cifar10": (3, 32, 32),
            "celeba32": (3, 32, 32), "random_bits": (100,)}



def clear_caches():
    for fn in (_mnist_arrays, _omniglot_arrays, _cifar_arrays, _npz_images):
        fn.cache_clear()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_dataset_loads_with_its_shape_and_range(name):
    for split in ("train", "val", "test"):
        d = load_dataset(name, split)
        assert d.shape == EXPECTED[name]
        assert d.x.dtype == torch.float32 and 0.0 <= d.x.min() and d.x.max() <= 1.0
        assert len(d) > 0
    assert load_dataset(name, "train").source in ("sample", "generated")


def test_binary_datasets_are_binary_and_splits_disjoint():
    for name in ("binary_mnist", "omniglot", "random_bits"):
        assert set(load_dataset(name, "train").x.unique().tolist()) == {0.0, 1.0}
    tr, va = load_dataset("mnist", "train"), load_dataset("mnist", "val")
    assert len(tr) + len(va) == 1200 and len(va) == 200  # 1/6 held out, as 10k of 60k
    assert not any(torch.equal(va.x[0], t) for t in tr.x)


def test_mnist_labels_match_the_known_first_digits():
    d = load_dataset("mnist", "train")
    assert d.y[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]  # the famous first MNIST training labels


def test_random_bits_are_fixed_and_sized_as_specified():
    a, b = load_dataset("random_bits", "train"), load_dataset("random_bits", "train")
    assert torch.equal(a.x, b.x) and a.x.shape == (5000, 100)
    assert load_dataset("random_bits", "test").x.shape == (1000, 100)
    assert abs(a.x.mean().item() - 0.5) < 0.01


def test_unknown_dataset_and_split_name_the_choices():
    with pytest.raises(ConfigError, match=r"unknown dataset 'svhn'.*'mnist'"):
        load_dataset("svhn")
    with pytest.raises(ConfigError, match=r"'test_exact1000'"):
        load_dataset("cifar10", "holdout")
    assert len(load_dataset("cifar10", "test_exact1000")) == 100


def test_missing_dataset_lists_the_paths_searched(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_DATA_DIR", str(tmp_path))
    clear_caches()
    with pytest.raises(DatasetNotFoundError) as info:
        load_dataset("celeba32", "train")
    message = str(info.value)
    assert "celeba32" in message and str(tmp_path / "CelebA") in message and "REPRO_DATA_DIR" in message
    clear_caches()


def test_corrupt_file_fails_its_checksum(tmp_path, monkeypatch):
    shutil.copytree(SAMPLE / "MNIST", tmp_path / "MNIST")
    target = tmp_path / "MNIST/raw/t10k-labels-idx1-ubyte.gz"
    data = bytearray(target.read_bytes())
    data[-5] ^= 0xFF
    target.write_bytes(bytes(data))
    monkeypatch.setenv("REPRO_DATA_DIR", str(tmp_path))
    clear_caches()
    with pytest.raises(ChecksumError, match="t10k-labels-idx1-ubyte.gz"):
        load_dataset("mnist", "test")
    clear_caches()


def test_subset_is_seeded():
    d = load_dataset("mnist", "train")
    assert torch.equal(d.subset(50, 3).x, d.subset(50, 3).x)
    assert not torch.equal(d.subset(50, 3).x, d.subset(50, 4).x)
    assert len(d.subset(None)) == len(d)


def test_a_changed_data_folder_is_searched_again_not_served_from_the_cache(tmp_path, monkeypatch):
    # the loaders cache arrays per searched folders: changing $REPRO_DATA_DIR must not return the old folder's data
    shutil.copytree(SAMPLE / "MNIST", tmp_path / "a" / "MNIST")
    monkeypatch.setenv("REPRO_DATA_DIR", str(tmp_path / "a"))
    assert load_dataset("mnist", "test").root == tmp_path / "a"
    shutil.copytree(SAMPLE / "MNIST", tmp_path / "b" / "MNIST")
    monkeypatch.setenv("REPRO_DATA_DIR", str(tmp_path / "b"))
    assert load_dataset("mnist", "test").root == tmp_path / "b"  # no cache_clear() in between
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("REPRO_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(DatasetNotFoundError):  # searched again (and not found), never the stale folder's arrays
        load_dataset("mnist", "test")


def test_the_registry_declares_every_dataset_once_and_truthfully():
    from repro.data import DATASETS, REGISTRY, dataset_spec

    checksums = json.loads((ROOT / "src/repro/data/checksums.json").read_text())
    assert tuple(REGISTRY) == DATASETS and set(DATASETS) == set(EXPECTED)
    for name, spec in REGISTRY.items():
        assert spec.shape == EXPECTED[name]
        assert all(f in checksums for f in spec.files), name  # every file it reads has a known checksum
        x = load_dataset(name, "train").x
        assert spec.binary == (set(x.unique().tolist()) <= {0.0, 1.0}), name
        for split in spec.splits:
            assert len(load_dataset(name, split)) > 0
    with pytest.raises(ConfigError, match="unknown dataset 'svhn'; valid choices: 'mnist'"):
        dataset_spec("svhn")



def test_a_new_dataset_takes_its_registry_entry_checksum_and_sample(tmp_path, monkeypatch):
    """The worked example of issue 24 (a dataset): a 32x32 colour dataset stored as one ``.npz`` of ``uint8``
    images takes three files: its entry in src/repro/data/registry.py, its sha256 in src/repro/data/checksums.json
    and its sample under data/sample. Here the entry and the checksum are added at run time and the sample is
    written to a temporary data root; notebook 04's settings, loaders and trainers accept the dataset with no
    other change."""
    import hashlib

    from repro import parts
    from repro.core.cache import CheckpointCache
    from repro.data import files, registry
    from repro.experiments import bandwidth as bw
    from repro.systems import bandwidth as bp

    # the sample: real images (the committed CIFAR-10 sample, mirrored), as the new dataset's one file
    x = load_dataset("cifar10", "train").x[:200].flip(-1)
    path = tmp_path / "Mirrored" / "mirrored.npz"
    path.parent.mkdir()
    np.savez(path, x=(x.permute(0, 2, 3, 1) * 255).round().to(torch.uint8).numpy())
    # the entry and the checksum
    spec = registry.DatasetSpec("mirrored", (3, 32, 32), False, {"train": 162, "val": 18, "test": 20},
                                ("Mirrored/mirrored.npz",), "npz_images", notes=("CIFAR-10 sample, mirrored",))
    monkeypatch.setitem(registry.REGISTRY, "mirrored", spec)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    sums = {**files.known_checksums(), "Mirrored/mirrored.npz": {"sample": digest}}
    monkeypatch.setattr(files, "known_checksums", lambda: sums)

    parts.check("04_bandwidth_awgn", "dataset", "mirrored")  # the runner's -p check
    assert "mirrored" in parts.settings("04_bandwidth_awgn")["dataset"].choices
    P = bw.settings("smoke", {"dataset": "mirrored"})
    assert P["dataset"] == "mirrored"
    sizes = {s: len(bp.load_images("mirrored", s, tmp_path)) for s in ("train", "val", "test")}
    assert sizes == spec.sizes
    assert bp.load_images("mirrored", "test", tmp_path).notes[0] == "CIFAR-10 sample, mirrored"
    model, history = bw.train_joint(dataset="mirrored", n_train=32, latent_dim=8, width=4, obs_std=0.1, snr_db=0.0,
                                    beta=0.1, epochs=1, batch_size=16, lr=1e-3, seed=0, validate=True, n_val=8,
                                    device=torch.device("cpu"), cache=CheckpointCache(tmp_path / "cache"),
                                    data_root=tmp_path)
    assert len(history) == 1 and np.isfinite(history[0]["val_l2_per_image"])
    # a dataset the systems cannot take (binary, or not 28x28 / 32x32) is not offered
    assert "binary_mnist" not in bp.datasets() and "omniglot" not in bp.datasets()
    with pytest.raises(ConfigError, match="valid choices: mnist, cifar10, celeba32, mirrored"):
        parts.check("04_bandwidth_awgn", "dataset", "omniglot")
