"""FID: the Fréchet distance on known Gaussians, a set against itself and against a shifted set, the offline
feature extractor and the Inception check (never a download)."""

import numpy as np
import pytest
import torch

from repro.core.cache import CheckpointCache
from repro.data import load_dataset
from repro.metrics import fid
from repro.models.classifier import SmallCNN

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_frechet_distance_of_known_gaussians():
    d = 8
    assert fid.frechet_distance(np.zeros(d), np.eye(d), np.zeros(d), np.eye(d)) == pytest.approx(0.0, abs=1e-9)
    # N(0, I) vs N(m, 4 I): |m|^2 + d (1 + 4 - 2 * 2)
    m = np.full(d, 0.5)
    assert fid.frechet_distance(np.zeros(d), np.eye(d), m, 4 * np.eye(d)) == pytest.approx(d * 0.25 + d, rel=1e-9)


def test_trace_of_the_matrix_square_root_matches_scipy():
    from scipy import linalg

    rng = np.random.default_rng(1)
    mu_a, cov_a = fid.gaussian_stats(rng.normal(size=(500, 12)) @ rng.normal(size=(12, 12)))
    mu_b, cov_b = fid.gaussian_stats(rng.normal(size=(500, 12)) @ rng.normal(size=(12, 12)) + 0.2)
    reference = (((mu_a - mu_b) ** 2).sum() + np.trace(cov_a) + np.trace(cov_b)
                 - 2 * np.trace(linalg.sqrtm(cov_a @ cov_b).real))
    assert fid.frechet_distance(mu_a, cov_a, mu_b, cov_b) == pytest.approx(reference, rel=1e-9)


def test_fid_of_a_set_with_itself_is_zero_and_a_shift_is_clearly_larger():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(2000, 16)) @ rng.normal(size=(16, 16))
    assert abs(fid.fid_from_features(a, a)) < 1e-6
    other = rng.normal(size=(2000, 16)) @ rng.normal(size=(16, 16))
    shifted = a + 1.0
    assert fid.fid_from_features(a, shifted) == pytest.approx(16.0, rel=1e-6)  # a pure mean shift: |1|^2 * 16
    assert fid.fid_from_features(a, shifted) > 10 * abs(fid.fid_from_features(a, a)) + 1.0
    assert fid.fid_from_features(a, other) > 0


def test_classifier_features_on_images():
    torch.manual_seed(0)
    images = load_dataset("celeba32", "train").x[:200]
    features = fid.ClassifierFeatures(SmallCNN(3, 32), torch.device("cpu"), "untrained, for the test")
    fa = features(images)
    assert fa.shape == (200, 128)
    assert abs(fid.fid_from_features(fa, features(images))) < 1e-6
    half_a, half_b = fa[:100], features(images[100:])
    shifted_b = features((images[100:] + 0.4).clamp(0, 1))
    assert fid.fid_from_features(half_a, shifted_b) > 3 * fid.fid_from_features(half_a, half_b)
    grey = features(images[:, :1])  # one channel is repeated to three
    assert grey.shape == (200, 128)


def test_feature_extractor_trains_the_offline_classifier_and_never_downloads_inception(tmp_path, monkeypatch):
    monkeypatch.setenv("REPRO_INCEPTION_WEIGHTS", str(tmp_path / "missing.pth"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    assert fid.inception_weights_path() is None
    with pytest.raises(FileNotFoundError, match="nothing is downloaded"):
        fid.feature_extractor("inception", device=torch.device("cpu"), classifier_epochs=1)
    extractor = fid.feature_extractor("classifier", device=torch.device("cpu"), classifier_epochs=1,
                                      classifier_n_train=100, cache=CheckpointCache(tmp_path))
    assert extractor.name == "classifier" and "CIFAR-10" in extractor.description
    assert extractor(torch.rand(5, 3, 32, 32)).shape == (5, 128)
    with pytest.raises(Exception, match="unknown FID features 'vgg'"):
        fid.feature_extractor("vgg", device=torch.device("cpu"), classifier_epochs=1)


def test_rotation_features_learn_their_task_and_are_the_offline_default(tmp_path, monkeypatch):
    x = torch.rand(3, 3, 8, 8)
    rotated, labels = fid.rotate4(x)
    assert rotated.shape == (12, 3, 8, 8) and labels.tolist() == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3
    assert torch.equal(rotated[3], torch.rot90(x[0], 1, dims=(1, 2)))
    with pytest.raises(ValueError, match="square images"):
        fid.rotate4(torch.rand(2, 3, 8, 6))
    monkeypatch.setenv("REPRO_INCEPTION_WEIGHTS", str(tmp_path / "missing.pth"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    cache = CheckpointCache(tmp_path)
    model, info = fid.train_rotation_net(epochs=1, device=torch.device("cpu"), n_train=400, cache=cache)
    assert info["test_accuracy"] > 0.4  # chance is 0.25; faces are upright, so even 400 images x 1 epoch learn it
    extractor = fid.feature_extractor("auto", device=torch.device("cpu"), classifier_epochs=1,
                                      classifier_n_train=400, cache=cache)
    assert extractor.name == "classifier" and "rotation" in extractor.description
    assert f"{info['test_accuracy']:.3f}" in extractor.description
    assert extractor(torch.rand(5, 3, 32, 32)).shape == (5, 128)
    with pytest.raises(Exception, match="unknown rotation-net dataset 'mnist'"):
        fid.train_rotation_net("mnist", epochs=1, device=torch.device("cpu"))
