import pytest
import torch

from repro.bundle.profiles import PROFILE_NAMES, PROFILES, resolve
from repro.core.checks import ConfigError
from repro.core.runtime import draw, pick_device, seed_everything


def test_every_notebook_has_all_three_profiles_with_the_same_keys():
    for name, profiles in PROFILES.items():
        assert set(profiles) == set(PROFILE_NAMES)
        keys = {frozenset(p) for p in profiles.values()}
        assert len(keys) == 1, f"{name}: profiles define different parameters"


def test_overrides_replace_single_values_and_none_keeps_the_profile():
    p = resolve("01_vae_compression", "smoke", epochs=3, seeds=None)
    assert p["epochs"] == 3 and p["seeds"] == PROFILES["01_vae_compression"]["smoke"]["seeds"]
    assert p["profile"] == "smoke"
    assert resolve("01_vae_compression", "paper")["epochs"] == 100  # the paper's setting, unchanged


def test_bad_profile_and_parameter_name_the_choices():
    with pytest.raises(ConfigError, match=r"unknown profile 'fast'.*'smoke', 'cpu', 'paper'"):
        resolve("01_vae_compression", "fast")
    with pytest.raises(ConfigError, match=r"unknown parameter.*epoch_count.*valid"):
        resolve("01_vae_compression", "cpu", epoch_count=3)


def test_device_choice():
    assert pick_device("cpu").type == "cpu"
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ConfigError, match="'auto', 'cpu', 'cuda'"):
        pick_device("tpu")


def test_seeding_is_deterministic():
    seed_everything(5)
    a = torch.rand(3)
    seed_everything(5)
    assert torch.equal(a, torch.rand(3))


def test_draw_follows_the_generator_and_lands_on_the_device():
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    assert torch.equal(draw(torch.rand, (4, 2), generator=g(), device="cpu"), torch.rand((4, 2), generator=g()))
    assert torch.equal(draw(torch.randint, 1, 6, (5,), generator=g()), torch.randint(1, 6, (5,), generator=g()))
    assert not torch.equal(draw(torch.randn, 8, generator=g()), draw(torch.randn, 8, generator=torch.Generator()))
    torch.manual_seed(4)
    a = draw(torch.randn, 3, device=torch.device("cpu"))  # no generator: torch's global one
    torch.manual_seed(4)
    assert torch.equal(a, torch.randn(3))
    if torch.cuda.is_available():  # a CPU generator gives the same numbers for tensors on the GPU
        on_gpu = draw(torch.rand, (4, 2), generator=g(), device="cuda")
        assert on_gpu.device.type == "cuda" and torch.equal(on_gpu.cpu(), torch.rand((4, 2), generator=g()))
