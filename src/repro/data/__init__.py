"""Dataset loading: in-memory tensors found through ``$REPRO_DATA_DIR``, ``data/`` or a torchvision download.

The registry (:mod:`repro.data.registry`: names, shapes, sizes, files) imports no torch; the loaders
(:mod:`repro.data.datasets`) are imported on first use of one of their names, so ``from repro.data import
DATASETS`` stays light.
"""

from __future__ import annotations

import importlib

from repro.data.files import ChecksumError, DatasetNotFoundError, candidate_roots
from repro.data.registry import DATASETS, REGISTRY, DatasetSpec, dataset_spec, image_datasets

_LOADING = {"ImageData": "repro.data.datasets", "load_dataset": "repro.data.datasets"}

__all__ = ["DATASETS", "REGISTRY", "DatasetSpec", "ImageData", "dataset_spec", "image_datasets", "load_dataset",
           "ChecksumError", "DatasetNotFoundError", "candidate_roots"]


def __getattr__(name: str):
    if name in _LOADING:
        return getattr(importlib.import_module(_LOADING[name]), name)
    raise AttributeError(f"module 'repro.data' has no attribute {name!r}")
