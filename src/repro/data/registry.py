"""The dataset registry: everything the bundle knows about a dataset, declared once (issue 24, item 4).

One :class:`DatasetSpec` per dataset: item shape, binary or not, split sizes, files (each with its checksum in
``checksums.json``; the committed sample under ``data/sample`` has the same paths), how to get them, and the name
of its loader in :data:`repro.data.datasets.LOADERS`. A dataset stored as one ``.npz`` of ``uint8`` images
``x`` (``N, H, W, C``), with optional labels ``y``, needs no loader of its own: ``loader="npz_images"`` splits it
90 / 10 into train+val / test and the train+val part 90 / 10 into train / val. Adding such a dataset takes its
entry here, its checksums and its sample: notebooks whose datasets derive from the registry
(:func:`image_datasets`: notebook 04) accept it with no other change.

This module imports no torch, so the runner's check of ``-p dataset`` stays fast.
"""

from __future__ import annotations

from dataclasses import dataclass

from repro.core.checks import check_choice

SPLITS = ("train", "val", "test")

RANDOM_BITS_SEED = 20190609  # fixed once: NECST's random-bit strings are regenerated identically everywhere
RANDOM_BITS_SIZES = {"train": 5000, "val": 1000, "test": 1000}
RANDOM_BITS_LENGTH = 100

MNIST_FILES = (
    "MNIST/raw/train-images-idx3-ubyte.gz",
    "MNIST/raw/train-labels-idx1-ubyte.gz",
    "MNIST/raw/t10k-images-idx3-ubyte.gz",
    "MNIST/raw/t10k-labels-idx1-ubyte.gz",
)
TORCHVISION = "On a connected machine the torchvision download is used (pass download=True or set REPRO_DOWNLOAD=1)."
SHARED_ONLY = "The bundle reads {file} from the shared data folder (no automatic download)."


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset (:data:`REGISTRY`).

    ``shape``: one item, ``(C, H, W)`` or ``(D,)``; ``binary``: values in {0, 1} (distortions are then compared
    on binarized reconstructions and the mean-image baseline is binarized too); ``sizes``: the split sizes of
    the full data (for cost estimates; counted from the shared data on 2026-12-04, the tests read only the
    sample); ``files``: paths under the data folder, each with its checksum in ``checksums.json`` (empty for
    generated data); ``loader``: a key of :data:`repro.data.datasets.LOADERS`; ``extra_splits``: beyond train /
    val / test; ``notes``: what differs from the papers' data, recorded with every split loaded."""

    name: str
    shape: tuple[int, ...]
    binary: bool
    sizes: dict[str, int]
    files: tuple[str, ...]
    loader: str
    how_to_get: str = ""
    extra_splits: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def splits(self) -> tuple[str, ...]:
        return SPLITS + self.extra_splits

    @property
    def is_image(self) -> bool:
        return len(self.shape) == 3


REGISTRY: dict[str, DatasetSpec] = {spec.name: spec for spec in (
    DatasetSpec("mnist", (1, 28, 28), False, {"train": 50_000, "val": 10_000, "test": 10_000}, MNIST_FILES,
                "mnist", TORCHVISION),
    DatasetSpec("binary_mnist", (1, 28, 28), True, {"train": 50_000, "val": 10_000, "test": 10_000}, MNIST_FILES,
                "mnist", TORCHVISION),
    DatasetSpec("omniglot", (1, 28, 28), True, {"train": 17_352, "val": 1_928, "test": 13_180},
                ("Omniglot/omniglot_105x105.npz",), "omniglot",
                SHARED_ONLY.format(file="omniglot_105x105.npz")),
    DatasetSpec("cifar10", (3, 32, 32), False, {"train": 36_000, "val": 4_000, "test": 10_000},
                ("CIFAR10/cifar10_train.npz", "CIFAR10/cifar10_test_first1000.npz"), "cifar10",
                TORCHVISION + " The official test batch then replaces batch 5 as an extra split.", ("test_exact1000",)),
    DatasetSpec("celeba32", (3, 32, 32), False, {"train": 8_100, "val": 900, "test": 1_000},
                ("CelebA/celeba_10k_32x32.npz",), "npz_images", SHARED_ONLY.format(file="the 10k 32x32 subset"),
                notes=("10k CelebA subset at 32x32 (the papers used all of CelebA)",)),
    DatasetSpec("random_bits", (RANDOM_BITS_LENGTH,), True, dict(RANDOM_BITS_SIZES), (), "random_bits"),
)}
DATASETS = tuple(REGISTRY)


def dataset_spec(name: str) -> DatasetSpec:
    """The registry entry of ``name`` (one line naming the valid choices otherwise)."""
    check_choice("dataset", name, tuple(REGISTRY))
    return REGISTRY[name]


def image_datasets(*, binary: bool | None = None, sides: tuple[int, ...] | None = None) -> tuple[str, ...]:
    """The registered image datasets, in registry order, optionally only those with ``binary`` values and a
    height and width in ``sides``."""
    return tuple(name for name, s in REGISTRY.items() if s.is_image and binary in (None, s.binary)
                 and (sides is None or {s.shape[1], s.shape[2]} <= set(sides)))
