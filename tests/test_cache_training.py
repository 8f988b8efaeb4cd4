import pytest
import torch
from torch import nn

from repro.core.cache import CheckpointCache, CorruptCheckpointError, config_key
from repro.core.training import fit


def mse_loss(model, x, _y):
    loss = (model(x) - x.sum(1, keepdim=True)).pow(2).mean()
    return loss, {}


def tiny():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 1))


def run(cache, **kw):
    x = torch.randn(256, 4, generator=torch.Generator().manual_seed(0))
    return fit(tiny(), mse_loss, x, name="tiny", config={"model": "tiny"}, epochs=4, batch_size=32, lr=1e-2,
               seed=3, device=torch.device("cpu"), cache=cache, **kw)


def test_config_key_is_order_independent_and_sensitive():
    assert config_key({"a": 1, "b": 2}) == config_key({"b": 2, "a": 1})
    assert config_key({"a": 1}) != config_key({"a": 2})


def test_interrupted_training_resumes_to_the_same_weights(tmp_path):
    full, hist_full = run(CheckpointCache(tmp_path / "a"))
    cache = CheckpointCache(tmp_path / "b")
    _, partial = run(cache, stop_after=2)
    assert len(partial) == 2
    resumed, hist = run(cache)
    assert len(hist) == 4
    for p, q in zip(full.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(p, q)
    assert [h["loss"] for h in hist] == [h["loss"] for h in hist_full]


def test_finished_run_is_reused_not_retrained(tmp_path):
    cache = CheckpointCache(tmp_path)
    model, hist = run(cache)
    path = next(tmp_path.glob("tiny-*.pt"))
    mtime = path.stat().st_mtime_ns
    again, hist2 = run(cache)
    assert path.stat().st_mtime_ns == mtime and hist2 == hist
    assert torch.equal(next(again.parameters()), next(model.parameters()))


def test_corrupt_checkpoint_is_rejected_with_its_path(tmp_path):
    cache = CheckpointCache(tmp_path)
    run(cache, stop_after=1)
    path = next(tmp_path.glob("tiny-*.pt"))
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CorruptCheckpointError, match=str(path.name)):
        run(cache)


def test_checkpoint_of_another_configuration_is_rejected(tmp_path):
    cache = CheckpointCache(tmp_path)
    cache.save("m", {"x": 1}, {"complete": True, "epoch": 1, "model": {}})
    src = cache.path("m", {"x": 1})
    src.rename(cache.path("m", {"x": 2}))
    with pytest.raises(CorruptCheckpointError, match="another configuration"):
        cache.load("m", {"x": 2})


def test_atomic_save_leaves_no_temporary_files(tmp_path):
    cache = CheckpointCache(tmp_path)
    cache.save("m", {"x": 1}, {"complete": False, "epoch": 0, "model": {"w": torch.ones(3)}})
    assert [p.name for p in tmp_path.iterdir()] == [cache.path("m", {"x": 1}).name]


def test_zero_epochs_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="epochs"):
        fit(tiny(), mse_loss, torch.zeros(4, 4), name="t", config={}, epochs=0, batch_size=2, lr=1e-3, seed=0,
            device=torch.device("cpu"), cache=CheckpointCache(tmp_path))
