"""Dataset loading: in-memory tensors found through ``$REPRO_DATA_DIR``, ``data/`` or a torchvision download."""

from repro.data.datasets import (
    DATASETS,
    REGISTRY,
    DatasetSpec,
    ImageData,
    dataset_spec,
    load_dataset,
)
from repro.data.files import ChecksumError, DatasetNotFoundError, candidate_roots

__all__ = ["DATASETS", "REGISTRY", "DatasetSpec", "ImageData", "dataset_spec", "load_dataset", "ChecksumError",
           "DatasetNotFoundError", "candidate_roots"]
