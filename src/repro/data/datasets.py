"""The bundle's datasets as in-memory tensors (SPEC section 0).

Every dataset is loaded once per process into a float tensor on [0, 1] (images: ``(N, C, H, W)``; random bits:
``(N, D)``), so training loops index tensors instead of decoding files item by item.

| name | files | splits |
| --- | --- | --- |
| mnist | MNIST idx .gz (torchvision layout) | train = first 5/6 of the 60k (50k), val = last 1/6 (10k), test = 10k |
| binary_mnist | same, thresholded at 0.5 once | same |
| omniglot | Omniglot 105x105 npz (a) | train/val = background (last 10 % val), test = evaluation |
| cifar10 | CIFAR-10 train npz (+ first 1,000 exact test images) | NECST split (b) |
| celeba32 | CelebA 10k subset at 32x32 | first 90 % train (last 10 % of it val), last 10 % test |
| random_bits | generated from a fixed seed | 5,000 / 1,000 / 1,000 strings of 100 bits |

(a) Omniglot images are area-resized to 28x28, ink = 1, binarized by rounding.
(b) CIFAR-10's NECST split: batches 1-4 (train 36k / val 4k), test = batch 5 (10k); test_exact1000 = official
    test images 0..999.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from repro.core.checks import check_choice
from repro.data.files import DatasetNotFoundError, candidate_roots, find_files
from repro.data.registry import (
    RANDOM_BITS_LENGTH,
    RANDOM_BITS_SEED,
    RANDOM_BITS_SIZES,
    REGISTRY,
    dataset_spec,
)


@dataclass
class ImageData:
    """One split of a dataset held in memory.

    Attributes:
        x: float32 tensor on [0, 1]; images ``(N, C, H, W)``, random bits ``(N, D)``.
        y: int64 labels ``(N,)`` or ``None`` when the dataset has none.
        name, split: what was loaded.
        source: ``'full'``, ``'sample'`` (the committed subset) or ``'generated'``.
        root: the data folder the files came from (``None`` for generated data).
    """

    x: torch.Tensor
    y: torch.Tensor | None
    name: str
    split: str
    source: str
    root: Path | None = None
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return self.x.shape[0]

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of one item."""
        return tuple(self.x.shape[1:])

    def subset(self, n: int | None, seed: int = 0) -> ImageData:
        """The first ``n`` items in a fixed, seeded random order (``None`` keeps everything)."""
        if n is None or n >= len(self):
            return self
        idx = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))[:n].sort().values
        return ImageData(self.x[idx], None if self.y is None else self.y[idx], self.name, self.split,
                         self.source, self.root, self.notes + [f"subset of {n} (seed {seed})"])


def _read_idx(path: Path) -> np.ndarray:
    raw = gzip.open(path, "rb").read()
    magic = int.from_bytes(raw[:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def _val_split(n: int, fraction: float) -> int:
    return n - int(round(n * fraction))


def _allow_download(download: bool | None) -> bool:
    if download is not None:
        return download
    return os.environ.get("REPRO_DOWNLOAD", "0") == "1"


def _download_root(root) -> Path:
    from repro.core.paths import env_path, repo_root

    return Path(root) if root else (env_path("REPRO_DATA_DIR") or repo_root() / "data")


def _find(name: str, root) -> tuple[Path, str]:
    spec = REGISTRY[name]
    return find_files(name, list(spec.files), root, spec.how_to_get)


def _searched(root) -> tuple[str, ...]:
    """The folders a load searches, resolved now: part of the loaders' cache keys, so that a changed
    ``$REPRO_DATA_DIR`` (or ``data/``) is searched again instead of returning the arrays of the old folder."""
    return tuple(str(r.resolve()) for r in candidate_roots(root))


@lru_cache(maxsize=4)
def _mnist_arrays(root, download, searched):
    try:
        base, kind = _find("mnist", root)
    except DatasetNotFoundError:
        if not _allow_download(download):
            raise
        import torchvision

        torchvision.datasets.MNIST(_download_root(root), train=True, download=True)
        torchvision.datasets.MNIST(_download_root(root), train=False, download=True)
        base, kind = _find("mnist", root)
    arrays = [_read_idx(base / rel) for rel in REGISTRY["mnist"].files]
    return arrays, kind, base


@lru_cache(maxsize=2)
def _omniglot_arrays(root, searched):
    base, kind = _find("omniglot", root)
    with np.load(base / REGISTRY["omniglot"].files[0], allow_pickle=False) as z:
        out = {}
        for part in ("background", "evaluation"):
            images = torch.from_numpy(z[f"{part}_images"])  # 255 = paper, 0 = ink
            resized = []
            for chunk in images.split(4096):
                ink = 1.0 - chunk.float().unsqueeze(1) / 255.0
                resized.append(F.interpolate(ink, size=(28, 28), mode="area"))
            out[part] = (torch.cat(resized).round(), torch.from_numpy(z[f"{part}_label"]).long())
    return out, kind, base


@lru_cache(maxsize=2)
def _cifar_arrays(root, download, searched):
    try:
        base, kind = _find("cifar10", root)
    except DatasetNotFoundError:
        if not _allow_download(download):
            raise
        import torchvision

        tr = torchvision.datasets.CIFAR10(_download_root(root), train=True, download=True)
        te = torchvision.datasets.CIFAR10(_download_root(root), train=False, download=True)
        return (tr.data, np.asarray(tr.targets), te.data[:1000], np.asarray(te.targets[:1000])), "torchvision", \
            _download_root(root)
    with np.load(base / REGISTRY["cifar10"].files[0], allow_pickle=False) as z:
        x, y = z["x_train"], z["y_train"]
    with np.load(base / REGISTRY["cifar10"].files[1], allow_pickle=False) as z:
        xt, yt = z["x_test"], z["y_test"]
    return (x, y, xt, yt), kind, base


@lru_cache(maxsize=4)
def _npz_images(name, root, searched):
    base, kind = _find(name, root)
    with np.load(base / REGISTRY[name].files[0], allow_pickle=False) as z:
        return z["x"], (z["y"] if "y" in z.files else None), kind, base


def _hwc_to_tensor(a: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).float().div_(255.0)


def _load_mnist(name: str, split: str, root, download) -> ImageData:
    (xtr, ytr, xte, yte), kind, base = _mnist_arrays(root, download, _searched(root))
    if split == "test":
        x, y = xte, yte
    else:
        cut = _val_split(len(xtr), 1 / 6)
        x, y = (xtr[:cut], ytr[:cut]) if split == "train" else (xtr[cut:], ytr[cut:])
    x = torch.from_numpy(x.copy()).float().div_(255.0).unsqueeze(1)
    notes = []
    if name == "binary_mnist":
        x = (x > 0.5).float()
        notes.append("static binarization at 0.5 (the papers used Larochelle's fixed binarization)")
    return ImageData(x, torch.from_numpy(y.astype(np.int64)), name, split, kind, base, notes)


def _load_omniglot(name: str, split: str, root, download) -> ImageData:
    parts, kind, base = _omniglot_arrays(root, _searched(root))
    if split == "test":
        x, y = parts["evaluation"]
    else:
        xb, yb = parts["background"]
        g = torch.Generator().manual_seed(0)
        order = torch.randperm(len(xb), generator=g)
        cut = _val_split(len(xb), 0.1)
        idx = order[:cut] if split == "train" else order[cut:]
        x, y = xb[idx.sort().values], yb[idx.sort().values]
    return ImageData(x.clone(), y.clone(), name, split, kind, base,
                     ["105x105 area-resized to 28x28 and rounded; the papers used Burda's 28x28 chardata.mat"])


def _load_cifar10(name: str, split: str, root, download) -> ImageData:
    (x, y, xt, yt), kind, base = _cifar_arrays(root, download, _searched(root))
    if split == "test_exact1000":
        return ImageData(_hwc_to_tensor(xt), torch.from_numpy(yt.astype(np.int64)), name, split, kind, base)
    n_train = len(x) * 4 // 5  # batches 1-4 (40k of 50k)
    if split == "test":
        xs, ys = x[n_train:], y[n_train:]
    else:
        cut = _val_split(n_train, 0.1)
        sl = slice(0, cut) if split == "train" else slice(cut, n_train)
        xs, ys = x[sl], y[sl]
    return ImageData(_hwc_to_tensor(xs), torch.from_numpy(ys.astype(np.int64)), name, split, kind, base,
                     ["NECST split: batches 1-4 train/val, batch 5 test"])


def _load_npz_images(name: str, split: str, root, download) -> ImageData:
    """A dataset stored as one ``.npz`` of ``uint8`` images ``x`` ``(N, H, W, C)`` (labels ``y`` optional): the
    last 10 % is the test split, the last 10 % of the rest validation."""
    x, y, kind, base = _npz_images(name, root, _searched(root))
    n_test = int(round(len(x) * 0.1))
    n_trainval = len(x) - n_test
    cut = _val_split(n_trainval, 0.1)
    sl = {"train": slice(0, cut), "val": slice(cut, n_trainval), "test": slice(n_trainval, len(x))}[split]
    labels = None if y is None else torch.from_numpy(y[sl].astype(np.int64))
    return ImageData(_hwc_to_tensor(x[sl]), labels, name, split, kind, base, list(REGISTRY[name].notes))


def _load_random_bits(name: str, split: str, root, download) -> ImageData:
    rng = np.random.default_rng(RANDOM_BITS_SEED)
    parts = {s: rng.integers(0, 2, size=(n, RANDOM_BITS_LENGTH)) for s, n in RANDOM_BITS_SIZES.items()}
    return ImageData(torch.from_numpy(parts[split]).float(), None, name, split, "generated")


# The loaders a registry entry names (its ``loader``): ``(name, split, root, download) -> ImageData``.
LOADERS: dict[str, Callable[..., ImageData]] = {
    "mnist": _load_mnist, "omniglot": _load_omniglot, "cifar10": _load_cifar10, "npz_images": _load_npz_images,
    "random_bits": _load_random_bits,
}
for _spec in REGISTRY.values():
    if _spec.loader not in LOADERS:
        raise ValueError(f"dataset {_spec.name}: loader {_spec.loader!r} is not one of {', '.join(LOADERS)}")


def load_dataset(name: str, split: str = "train", root=None, download: bool | None = None) -> ImageData:
    """Load one split of a dataset into memory.

    Args:
        name: one of :data:`DATASETS`.
        split: ``train``, ``val``, ``test`` (and ``test_exact1000`` for cifar10).
        root: a data folder searched before ``$REPRO_DATA_DIR`` and ``data/``.
        download: try the torchvision download when the files are missing (mnist, cifar10); default from
            ``$REPRO_DOWNLOAD`` (off unless set to 1), so nothing downloads in tests.

    Raises:
        ConfigError: unknown dataset or split.
        DatasetNotFoundError: the files are in none of the searched folders (the message lists them).
        ChecksumError: a file is there but corrupt.
    """
    spec = dataset_spec(name)
    check_choice(f"split of {name}", split, spec.splits)
    return LOADERS[spec.loader](name, split, str(root) if root else None, download)
