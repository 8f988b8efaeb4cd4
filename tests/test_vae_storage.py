import pytest
import torch

from repro.core.checks import ConfigError
from repro.models.vae import ConvVAE, layer_table, negative_elbo
from repro.systems import vae_storage as vs


def test_vae_shapes_and_elbo():
    model = ConvVAE(16)
    x = torch.rand(5, 1, 28, 28)
    x_hat, mu, log_sigma = model(x)
    assert x_hat.shape == x.shape and mu.shape == (5, 16) and log_sigma.shape == (5, 16)
    loss, parts = negative_elbo(model, x)
    assert loss.item() == pytest.approx(parts["rec"] + parts["kl"], rel=1e-5)
    assert parts["kl"] >= 0


def test_layer_tables_follow_the_paper():
    enc = [r["layer"].split(" ")[0] for r in layer_table(ConvVAE().encoder, (1, 28, 28))]
    assert enc == ["CV(1,32)", "BN", "RELU", "CV(32,64)", "BN", "RELU", "CV(64,128)", "FC(32)"]
    dec = layer_table(ConvVAE().decoder, (16,))
    assert [r["layer"].split(" ")[0] for r in dec] == ["FC(2048)", "DC(128,64)", "BN", "RELU", "DC(64,32)", "BN",
                                                       "RELU", "DC(32,1)", "SIGM"]
    assert dec[-1]["output shape"] == (1, 28, 28)


@pytest.mark.parametrize("method", vs.METHODS)
def test_bits_round_trip_reproduces_quantized_latents(method):
    torch.manual_seed(0)
    gamma = torch.randn(100, 32)
    q = vs.make_quantizer(method, 8, gamma)
    bits = vs.gamma_to_bits(q, gamma)
    assert bits.shape == (100, 32 * 8) and bits.dtype == torch.uint8
    back = vs.bits_to_gamma(q, bits)
    assert torch.equal(back, q.dequantize(q.quantize(gamma)))
    assert (back - gamma).abs().median() < 0.02


def test_unknown_method_and_dataset():
    with pytest.raises(ConfigError, match="VAEU"):
        vs.make_quantizer("VAEX", 8, torch.zeros(2, 2))
    with pytest.raises(ConfigError, match="'mnist', 'binary_mnist'"):
        vs.train_vae("cifar10", seed=0, epochs=1, device=torch.device("cpu"))


def test_short_training_lowers_the_loss():
    model, hist = vs.train_vae("mnist", seed=0, epochs=2, device=torch.device("cpu"), n_train=256)
    assert hist[1]["loss"] < hist[0]["loss"]
    assert vs.bits_per_pixel(32, 8, 784) == pytest.approx(256 / 784)
