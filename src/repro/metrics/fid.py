"""Fréchet distance between image sets in a feature space (FID), with an offline feature extractor.

``FID = ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^{1/2})`` between Gaussians fitted to the features of two
image sets (Heusel et al. 2017). The standard FID uses Inception-v3 pool features; those weights cannot be
downloaded here, so the bundle has three feature extractors:

* ``rotation`` (the default offline stand-in, ``auto`` without Inception weights): the 128 hidden units (before
  their ReLU) of the bundle's small CNN trained on the *face* images of ``celeba32``'s training split to tell
  which of the four rotations (0, 90, 180, 270 degrees) an image was given (self-supervised rotation
  prediction, Gidaris et al. 2018). Unlike the CIFAR-10 classifier below (0.6 test accuracy in 5 epochs on a CPU)
  it learns its task well (test accuracy is reported with it) on the very distribution FID compares, without
  labels; still not Inception: values are comparable only between systems measured with it.
* ``classifier``: the 128 hidden units (before their ReLU) of the bundle's small
  CNN classifier (:class:`repro.models.classifier.SmallCNN`) trained once on the CIFAR-10 labels and cached. Like
  Inception for faces, it was trained on other images and other labels; its FID values are **not** comparable
  with Inception FIDs in papers, only between the systems measured with it. Grey images are repeated to three
  channels.
* ``inception``: torch-fidelity's Inception-v3 (2048 pool features), used only when the ``torch_fidelity``
  package is installed *and* its weight file is already on disk (``$REPRO_INCEPTION_WEIGHTS``, or
  ``weights-inception-2015-12-05-6726825d.pth`` in torch's hub cache). Nothing is ever downloaded.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import torch

from repro.core.checks import check_choice

INCEPTION_WEIGHTS = "weights-inception-2015-12-05-6726825d.pth"
FEATURES = ("auto", "rotation", "classifier", "inception")
ROTATION_DATASET = "celeba32"


def gaussian_stats(features: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(d,)`` and covariance ``(d, d)`` (unbiased) of ``(N, d)`` features, in float64."""
    f = np.asarray(features, dtype=np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"need (N >= 2, d) features, got shape {f.shape}")
    return f.mean(0), np.cov(f, rowvar=False)


def frechet_distance(mu_a, cov_a, mu_b, cov_b) -> float:
    """Fréchet distance between ``N(mu_a, cov_a)`` and ``N(mu_b, cov_b)``.

    ``Tr((S_a S_b)^{1/2})`` is computed as the sum of the square roots of the eigenvalues of the symmetric PSD
    matrix ``S_a^{1/2} S_b S_a^{1/2}`` (which has the eigenvalues of ``S_a S_b``): exact, and unlike a general
    matrix square root fast and stable when the covariances are singular (fewer images than features).
    """
    mu_a, mu_b = np.asarray(mu_a, dtype=np.float64), np.asarray(mu_b, dtype=np.float64)
    cov_a, cov_b = np.asarray(cov_a, dtype=np.float64), np.asarray(cov_b, dtype=np.float64)
    w, v = np.linalg.eigh((cov_a + cov_a.T) / 2)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = root_a @ cov_b @ root_a
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((inner + inner.T) / 2), 0, None)).sum()
    diff = mu_a - mu_b
    return float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt)


def fid_from_features(features_a, features_b) -> float:
    return frechet_distance(*gaussian_stats(features_a), *gaussian_stats(features_b))


def inception_weights_path() -> Path | None:
    """The local torch-fidelity Inception weights, if the package and the file are both present (no download)."""
    if importlib.util.find_spec("torch_fidelity") is None:
        return None
    env = os.environ.get("REPRO_INCEPTION_WEIGHTS")
    candidates = [Path(env)] if env else []
    candidates.append(Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_WEIGHTS)
    return next((p for p in candidates if p.is_file()), None)


class ClassifierFeatures:
    """``(N, C, 32, 32)`` images in [0, 1] -> ``(N, 128)`` pre-activation hidden features of a trained
    :class:`~repro.models.classifier.SmallCNN` (3-channel input; 1-channel images are repeated)."""

    name = "classifier"

    def __init__(self, classifier, device, description: str):
        self.net = classifier.net[:-3].to(device).eval()  # up to and including the 128-unit Linear layer
        self.device = device
        self.description = description

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, batch: int = 1000) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] not in (1, 3):
            raise ValueError(f"expected images (N, 1 or 3, 32, 32), got {tuple(x.shape)}")
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        return torch.cat([self.net(xb.to(self.device)).float().cpu() for xb in x.split(batch)])


class InceptionFeatures:
    """``(N, C, H, W)`` images in [0, 1] -> ``(N, 2048)`` torch-fidelity Inception-v3 pool features."""

    name = "inception"

    def __init__(self, weights: Path, device):
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        self.net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"],
                                               feature_extractor_weights_path=str(weights)).to(device).eval()
        self.device = device
        self.description = f"torch-fidelity Inception-v3 pool features ({weights})"

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, batch: int = 200) -> torch.Tensor:
        if x.shape[1] == 1:
            x = x.repeat(1, 3, 1, 1)
        out = []
        for xb in x.split(batch):
            u8 = (xb.clamp(0, 1) * 255).round().to(torch.uint8).to(self.device)
            out.append(self.net(u8)[0].reshape(len(xb), -1).double().cpu())
        return torch.cat(out)


def rotate4(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, C, H, W)`` square images -> the ``4 N`` images rotated by 0, 90, 180 and 270 degrees and their
    ``(4 N,)`` labels 0..3 (the rotation-prediction task)."""
    if x.dim() != 4 or x.shape[-1] != x.shape[-2]:
        raise ValueError(f"expected square images (N, C, H, H), got {tuple(x.shape)}")
    xs = torch.cat([torch.rot90(x, k, dims=(2, 3)) for k in range(4)])
    return xs, torch.arange(4).repeat_interleave(len(x))


def train_rotation_net(dataset: str = ROTATION_DATASET, *, epochs: int, device, seed: int = 0,
                       n_train: int | None = None, data_root=None, cache=None, precision: str = "fp32"):
    """Train (or fetch from the cache) a :class:`~repro.models.classifier.SmallCNN` to predict which of four rotations
    an image of ``dataset`` was given; returns it and ``{'test_accuracy', 'epochs', 'train_images', 'history'}``
    (accuracy over all four rotations of the test split)."""
    from repro.core.cache import CheckpointCache
    from repro.core.training import fit
    from repro.data import load_dataset
    from repro.models.classifier import SmallCNN, _xent, classifier_accuracy

    check_choice("rotation-net dataset", dataset, ("celeba32", "cifar10"))
    train = load_dataset(dataset, "train", data_root).subset(n_train, seed)
    test = load_dataset(dataset, "test", data_root)
    x, y = rotate4(train.x)
    model = SmallCNN(train.x.shape[1], train.x.shape[-1], classes=4)
    config = {"model": "SmallCNN-rotation", "dataset": dataset, "source": train.source, "n_train": len(train)}
    model, history = fit(model, _xent, x, train_y=y, name=f"rotation-net-{dataset}", config=config, epochs=epochs,
                         batch_size=128, lr=1e-3, seed=seed, device=device, cache=cache or CheckpointCache(),
                         precision=precision)
    tx, ty = rotate4(test.x)
    return model, {"test_accuracy": classifier_accuracy(model, tx, ty), "epochs": epochs, "train_images": len(train),
                   "history": history}


def rotation_features(model, info: dict, device, dataset: str = ROTATION_DATASET) -> ClassifierFeatures:
    return ClassifierFeatures(model, device, (
        f"128 hidden features of the bundle's SmallCNN trained to predict image rotation (4 classes, self-supervised) "
        f"on {dataset} ({info['train_images']} images x 4 rotations, {info['epochs']} epochs, test accuracy "
        f"{info['test_accuracy']:.3f}); an offline stand-in for Inception, not comparable with published FIDs"))


def feature_extractor(kind: str, *, device, classifier_epochs: int, classifier_n_train: int | None = None,
                      data_root=None, cache=None):
    """The FID feature extractor: ``inception`` (only with local weights), ``rotation`` (rotation prediction on
    celeba32, trained in the bundle, cached), ``classifier`` (CIFAR-10 labels, cached), or ``auto`` (Inception when
    its weights are present, else ``rotation``). ``classifier_epochs`` / ``classifier_n_train`` size the training
    of whichever bundle network is used."""
    check_choice("FID features", kind, FEATURES)
    weights = inception_weights_path()
    if kind == "inception" and weights is None:
        raise FileNotFoundError("FID features 'inception' need the torch_fidelity package and its weight file "
                                f"{INCEPTION_WEIGHTS} on disk (or $REPRO_INCEPTION_WEIGHTS); nothing is downloaded. "
                                "Use fid_features='rotation', 'classifier' or 'auto'.")
    if kind in ("inception", "auto") and weights is not None:
        return InceptionFeatures(weights, device)
    if kind in ("rotation", "auto"):
        model, info = train_rotation_net(epochs=classifier_epochs, device=device, n_train=classifier_n_train,
                                         data_root=data_root, cache=cache)
        return rotation_features(model, info, device)
    from repro.models.classifier import train_classifier

    model, info = train_classifier("cifar10", epochs=classifier_epochs, device=device, n_train=classifier_n_train,
                                   data_root=data_root, cache=cache)
    description = (f"128 hidden features of the bundle's SmallCNN trained on CIFAR-10 labels "
                   f"({info['train_images']} images, {classifier_epochs} epochs, test accuracy "
                   f"{info['test_accuracy']:.3f}); an offline stand-in for Inception, not comparable with "
                   f"published FIDs")
    return ClassifierFeatures(model, device, description)
