"""VAE compression with quantized latents (VAEU / VAEN) over a binary symmetric channel: notebook
``01_vae_compression``, declared once (issue 24): its settings (name, type, range, choices), profiles, fixed values and
dataset runs. Its jobs and evaluation are :mod:`repro.experiments.generative_dna`, its figures
:mod:`repro.plots.vae_compression`."""

from __future__ import annotations

from repro.parts.setting import (
    BSC_EPS,
    DATA_DIR,
    DEVICE,
    INF,
    OUTPUT_DIR,
    PRECISION,
    PROFILE,
    SEEDS,
    THREADS,
    Part,
    S,
    count,
)

SETTINGS = (
    PROFILE, S("dataset", "str", choices=("mnist", "binary_mnist")), DEVICE, OUTPUT_DIR, DATA_DIR,
    count("epochs"), count("n_train"), count("n_test"), SEEDS, S("n_bits_sweep", "list[int]", 1, INF),
    count("n_bits_table"), S("bsc_eps", "float", *BSC_EPS), count("classifier_epochs"),
    count("classifier_n_train"), count("codec_images"), S("jpeg_qualities", "list[int]", 1, 100),
    count("figure_images"), THREADS, PRECISION,
)

PROFILES = {
    "smoke": dict(threads=1, epochs=1, n_train=512, n_test=256, seeds=[0], n_bits_sweep=[2, 8], classifier_epochs=1,
                  classifier_n_train=1024, codec_images=24, jpeg_qualities=[50], figure_images=8),
    "cpu": dict(threads=1,
                epochs=10, n_train=None, n_test=None, seeds=[0, 1, 2], n_bits_sweep=[2, 3, 4, 5, 6, 7, 8, 10, 12],
                classifier_epochs=10, classifier_n_train=None, codec_images=1000, jpeg_qualities=[10, 50, 90],
                figure_images=10),
    "paper": dict(threads=None, epochs=100, n_train=None, n_test=None, seeds=[0, 1, 2],
                  n_bits_sweep=[2, 3, 4, 5, 6, 7, 8, 10, 12, 16], classifier_epochs=10, classifier_n_train=None,
                  codec_images=10000, jpeg_qualities=[10, 30, 50, 70, 90], figure_images=10),
}

# the paper's settings that no profile changes
FIXED = dict(precision="auto", latent_dim=16, batch_size=64, lr=1e-3, bsc_eps=0.05, n_bits_table=8,
             quant_range=3.0)

PART = Part(notebook="01_vae_compression", paper="generative_dna",
            title="VAE compression with quantized latents (VAEU / VAEN) over a binary symmetric channel",
            runs=("mnist",),
            settings=SETTINGS, profiles=PROFILES, fixed=FIXED,
            jobs="repro.experiments.generative_dna:plan", plots="repro.plots.vae_compression")
