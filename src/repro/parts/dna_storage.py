"""DNA storage end to end: latents to oligos, synthesis and sequencing, consensus, decoding: notebook
``05_dna_storage``, declared once (issue 24): its settings (name, type, range, choices), profiles, fixed values and
dataset runs. Its jobs and evaluation are :mod:`repro.experiments.generative_dna`, its figures
:mod:`repro.plots.dna_storage`."""

from __future__ import annotations

from repro.parts.setting import (
    COVERAGES,
    DATA_DIR,
    DEVICE,
    INF,
    OUTPUT_DIR,
    PROFILE,
    SEEDS,
    THREADS,
    Part,
    S,
    count,
)

SETTINGS = (
    PROFILE, S("dataset", "str", choices=("mnist", "binary_mnist")), DEVICE, OUTPUT_DIR, DATA_DIR,
    count("epochs"), count("n_train"), count("n_test"), SEEDS, S("n_bits", "list[int]", 1, INF),
    S("jpeg_qualities", "list[int]", 1, 100), S("coverages", "list[float]", *COVERAGES),
    S("figure_coverages", "list[float]", *COVERAGES), count("figure_images"), count("classifier_epochs"),
    count("classifier_n_train"), count("payload_nt"), S("substitution_rate", "float", 0.0, 1.0),
    S("insertion_rate", "float", 0.0, 1.0), S("deletion_rate", "float", 0.0, 1.0),
    S("bias_sigma", "float", 0, INF), S("consensus", "str", choices=("spoa", "majority")),
    S("vae_layout", "str", choices=("packed", "per_image")), S("bbmap_coverages", "list[float]", *COVERAGES),
    count("error_profile_reads"), count("benchmark_files"), S("benchmark_coverages", "list[float]", *COVERAGES),
    S("outer_redundancies", "list[float]", 0.0, 1.5), S("outer_qualities", "list[int]", 1, 100),
    S("outer_scales", "list[int]", 1, 14), count("outer_group"), count("outer_val_images"),
    S("outer_coverages", "list[float]", *COVERAGES),
    S("peer_codecs", "list[str]", choices=("Goldman", "Grass", "DNAFountain", "YinYang", "Church", "Blawat")),
    S("peer_coverages", "list[float]", *COVERAGES), THREADS,
)

PROFILES = {
    "smoke": dict(epochs=1, n_train=512, n_test=40, seeds=[0], n_bits=[4, 8], jpeg_qualities=[50],
                  coverages=[1, 3, 10, 30], figure_images=6, classifier_epochs=1, classifier_n_train=1024,
                  bbmap_coverages=[10], error_profile_reads=500, benchmark_files=60, benchmark_coverages=[3],
                  outer_redundancies=[0.0, 0.25], outer_qualities=[1, 5, 20], outer_scales=[2, 4], outer_group=20,
                  outer_val_images=40, outer_coverages=[2, 3, 10], peer_codecs=["Grass", "DNAFountain"],
                  peer_coverages=[3, 10]),
    "cpu": dict(epochs=10, n_train=None, n_test=1000, seeds=[0, 1, 2], n_bits=[2, 4, 6, 8],
                jpeg_qualities=[10, 50, 90], coverages=[1, 1.5, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70],
                figure_images=10, classifier_epochs=10, classifier_n_train=None, bbmap_coverages=[3, 10],
                error_profile_reads=5000, benchmark_files=2000, benchmark_coverages=[1, 3, 10, 30],
                outer_redundancies=[0.0, 0.1, 0.25, 0.5, 1.0], outer_qualities=[1, 5, 10, 20, 30, 50, 75, 90],
                outer_scales=[1, 2, 4], outer_group=100, outer_val_images=1000,
                outer_coverages=[1, 1.5, 2, 3, 5, 7, 10, 15, 20, 30],
                # no Yin-Yang: Chamaeleo's encoder ran 30 min on these latents without returning (its addition
                # step retries random partners without bound); -p peer_codecs adds it, under a 10-minute limit
                peer_codecs=["Goldman", "Grass", "DNAFountain"], peer_coverages=[1, 2, 3, 5, 10, 30]),
    "paper": dict(epochs=100, n_train=None, n_test=None, seeds=[0, 1, 2], n_bits=[2, 3, 4, 5, 6, 7, 8],
                  jpeg_qualities=[10, 30, 50, 70, 90],
                  coverages=[1, 1.5, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 70, 100], figure_images=10,
                  classifier_epochs=10, classifier_n_train=None, bbmap_coverages=[1, 3, 10, 30],
                  error_profile_reads=20000, benchmark_files=2000, benchmark_coverages=[1, 3, 10, 30],
                  outer_redundancies=[0.0, 0.1, 0.25, 0.5, 1.0], outer_qualities=[1, 5, 10, 20, 30, 50, 75, 90],
                  outer_scales=[1, 2, 4], outer_group=100, outer_val_images=None,
                  outer_coverages=[1, 1.5, 2, 3, 5, 7, 10, 15, 20, 30],
                  # no Yin-Yang: Chamaeleo's encoder ran 30 min on these latents without returning (its addition
                # step retries random partners without bound); -p peer_codecs adds it, under a 10-minute limit
                peer_codecs=["Goldman", "Grass", "DNAFountain"], peer_coverages=[1, 2, 3, 5, 10, 30]),
}

# the paper's settings that no profile changes
FIXED = dict(precision="auto", latent_dim=16, batch_size=64, lr=1e-3, quant_range=3.0, n_bits_table=8,
             threads=1,
             jpeg_figure_quality=50, figure_coverages=[3, 10], payload_nt=150, substitution_rate=2e-3,
             insertion_rate=5e-4, deletion_rate=1e-3, bias_sigma=0.5, consensus="spoa",
             vae_layout="packed")

PART = Part(notebook="05_dna_storage", paper="generative_dna",
            title="DNA storage end to end: latents to oligos, synthesis and sequencing, consensus, decoding",
            runs=("mnist",),
            settings=SETTINGS, profiles=PROFILES, fixed=FIXED,
            jobs="repro.experiments.generative_dna:plan_dna_storage", plots="repro.plots.dna_storage")
