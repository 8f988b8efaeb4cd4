"""Hermetic test environment: the committed data sample, temporary caches and outputs, no downloads."""

from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


@pytest.fixture(autouse=True)
def hermetic_env(tmp_path_factory, monkeypatch):
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("REPRO_DATA_DIR", str(SAMPLE))
    monkeypatch.setenv("REPRO_DOWNLOAD", "0")
    monkeypatch.setenv("REPRO_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("REPRO_OUTPUT_DIR", str(base / "outputs"))
    monkeypatch.setenv("REPRO_QUIET", "1")
    yield


@pytest.fixture
def one_torch_thread():
    """Tiny tensors: one intra-op thread is fastest and immune to a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
