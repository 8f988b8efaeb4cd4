"""Build data/sample/: a small, real subset of every offline dataset, in the same file formats.

The tests and the `smoke` profile read it (REPRO_DATA_DIR=data/sample), so they never need the full data.
Run from the repository root with the shared data folder as argument; it prints the sha256 of each file, which
belong in src/repro/data/checksums.json under "sample".

    python scripts/make_data_sample.py ../shared/data
"""

import gzip
import hashlib
import io
import sys
from pathlib import Path

import numpy as np

SRC = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
DST = Path("data/sample")
N_MNIST_TRAIN, N_MNIST_TEST = 1200, 300


def write_idx_gz(path: Path, array: np.ndarray) -> None:
    header = (0x0800 | array.ndim).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw:  # mtime=0 keeps the gzip bytes reproducible
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
            gz.write(header + array.astype(np.uint8).tobytes())


def read_idx_gz(path: Path) -> np.ndarray:
    raw = gzip.open(path).read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def save_npz(path: Path, **arrays) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    path.write_bytes(buf.getvalue())


for name, n in [("train-images-idx3-ubyte", N_MNIST_TRAIN), ("train-labels-idx1-ubyte", N_MNIST_TRAIN),
                ("t10k-images-idx3-ubyte", N_MNIST_TEST), ("t10k-labels-idx1-ubyte", N_MNIST_TEST)]:
    write_idx_gz(DST / "MNIST/raw" / f"{name}.gz", read_idx_gz(SRC / "MNIST/raw" / f"{name}.gz")[:n])

with np.load(SRC / "Omniglot/omniglot_105x105.npz") as z:
    keep = {"background": np.arange(0, 19280, 80), "evaluation": np.arange(0, 13180, 110)}
    arrays = {}
    for key in z.files:
        part = key.split("_")[0]
        arrays[key] = z[key] if key.endswith("alphabet_names") else z[key][keep[part]]
    save_npz(DST / "Omniglot/omniglot_105x105.npz", **arrays)

with np.load(SRC / "CIFAR10/cifar10_train.npz") as z:
    idx = np.arange(0, 50000, 100)  # 500 images, 100 from each of the five batches
    save_npz(DST / "CIFAR10/cifar10_train.npz", x_train=z["x_train"][idx], y_train=z["y_train"][idx],
             label_names=z["label_names"])
with np.load(SRC / "CIFAR10/cifar10_test_first1000.npz") as z:
    save_npz(DST / "CIFAR10/cifar10_test_first1000.npz", x_test=z["x_test"][:100], y_test=z["y_test"][:100],
             test_batch_index=z["test_batch_index"][:100], label_names=z["label_names"])
with np.load(SRC / "CelebA/celeba_10k_32x32.npz") as z:
    save_npz(DST / "CelebA/celeba_10k_32x32.npz", x=z["x"][:300], image_id=z["image_id"][:300])

for path in sorted(DST.rglob("*")):
    if path.is_file() and path.suffix in (".gz", ".npz"):
        print(hashlib.sha256(path.read_bytes()).hexdigest(), path.relative_to(DST))
