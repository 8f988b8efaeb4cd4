import pytest
import torch

from repro.bundle.profiles import for_dataset, resolve
from repro.core.checks import ConfigError
from repro.systems import necst


def test_models_have_the_paper_code_lengths_and_shapes():
    for dataset, bits in [("binary_mnist", 100), ("omniglot", 200), ("random_bits", 50), ("cifar10", 500)]:
        model = necst.build_model(dataset, eps=0.1)
        shape = (100,) if dataset == "random_bits" else (3, 32, 32) if dataset == "cifar10" else (1, 28, 28)
        x = torch.rand(4, *shape)
        assert model.encoder(x).shape == (4, bits)
        assert model.decode(torch.randint(0, 2, (4, bits)).float()).shape == (4, *shape)


def test_bad_code_length_dataset_and_noise():
    with pytest.raises(ConfigError, match="positive integer"):
        necst.build_model("mnist", eps=0.1, bits=0)
    with pytest.raises(ConfigError, match="unknown dataset 'svhn'"):
        necst.build_model("svhn", eps=0.1)
    with pytest.raises(ConfigError, match=r"eps=0\.6"):
        necst.train("mnist", eps=0.6, seed=0, epochs=1, device=torch.device("cpu"))


def test_vae_with_ldpc_is_exact_without_noise_and_reports_convergence():
    torch.manual_seed(0)
    vae = necst.build_model("binary_mnist", eps=0.0, bits=50, prior="uniform")
    baseline = necst.VAEWithLDPC(vae)
    x = torch.rand(16, 1, 28, 28).round()
    clean = baseline.reconstruct_with_info(x, generator=None, eps=0.0, mode="threshold")
    direct = vae.decode(vae.encode(x, generator=None, mode="threshold"))
    assert torch.allclose(clean.x_hat, direct) and clean.bit_errors == 0.0 and clean.converged.all()
    assert torch.equal(baseline.reconstruct(x, generator=None, eps=0.0, mode="threshold"), clean.x_hat)
    noisy = baseline.reconstruct_with_info(x, generator=torch.Generator().manual_seed(0), eps=0.4, mode="threshold")
    assert noisy.bit_errors > 0.05  # far beyond the code's threshold: errors remain, nothing crashes


def test_bit_flip_interpolation_walks_from_one_code_to_the_other():
    torch.manual_seed(0)
    model = necst.build_model("mnist", eps=0.1)
    a, b = torch.rand(1, 28, 28), torch.rand(1, 28, 28)
    frames, n_diff = necst.bit_flip_interpolation(model, a, b, seed=0)
    assert frames.shape == (n_diff + 1, 1, 28, 28)
    code_a = model.encode(a[None], generator=None, mode="threshold")
    code_b = model.encode(b[None], generator=None, mode="threshold")
    assert n_diff == int((code_a != code_b).sum())
    assert torch.allclose(frames[0], model.decode(code_a)[0])
    assert torch.allclose(frames[-1], model.decode(code_b)[0])


def test_markov_chain_and_distortion_are_seeded():
    torch.manual_seed(0)
    model = necst.build_model("binary_mnist", eps=0.2)
    x = torch.rand(3, 1, 28, 28).round()
    c1, c2 = necst.markov_chain(model, x, 4, 0.2, seed=1), necst.markov_chain(model, x, 4, 0.2, seed=1)
    assert c1.shape == (5, 3, 1, 28, 28) and torch.equal(c1, c2)
    d = necst.distortion(model, x, 0.2, seed=3)
    assert d["l2_per_image"] == pytest.approx(d["l2_per_pixel"] * 784, rel=1e-5)
    assert d == necst.distortion(model, x, 0.2, seed=3)


def test_decoder_timing_row():
    row = necst.time_decoder(necst.build_model("random_bits", eps=0.1), 32, 2)
    assert row["method"] == "NECST" and row["bits"] == 50 and row["seconds_per_word"] > 0


def test_per_dataset_profile_values():
    cpu = resolve("02_necst", "cpu")
    assert for_dataset(cpu, "random_bits")["seeds"] == [0, 1, 2]
    assert for_dataset(cpu, "omniglot")["seeds"] == [0, 1, 2] and for_dataset(cpu, "cifar10")["seeds"] == [0]
    assert for_dataset(cpu, "cifar10")["n_train"] == 10000 and for_dataset(cpu, "mnist")["n_train"] is None
    assert for_dataset(resolve("02_necst", "paper"), "omniglot")["epochs"] == 200


def test_reconstruction_errors_binarized_counts_wrong_pixels():
    x = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    x_hat = torch.tensor([[0.9, 0.6, 0.4, 0.5]])  # binarized: 1, 1, 0, 0 -> two wrong pixels
    d = necst.reconstruction_errors(x, x_hat, binary=True)
    assert d["l2_per_pixel_binarized"] == pytest.approx(0.5)
    assert d["l2_per_pixel"] == pytest.approx((0.01 + 0.36 + 0.36 + 0.25) / 4)
    assert "l2_per_pixel_binarized" not in necst.reconstruction_errors(x, x_hat, binary=False)
    chance = necst.reconstruction_errors(x, torch.full_like(x, 0.5), binary=True)
    assert chance["l2_per_pixel"] == pytest.approx(0.25)


def test_per_image_distortion_agrees_with_the_mean():
    torch.manual_seed(0)
    model = necst.build_model("mnist", eps=0.1)
    x = torch.rand(5, 1, 28, 28)
    per_image = necst.distortion_per_image(model, x, 0.1, seed=2)
    assert per_image.shape == (5,)
    assert per_image.mean() == pytest.approx(necst.distortion(model, x, 0.1, seed=2)["l2_per_image"], rel=1e-5)
