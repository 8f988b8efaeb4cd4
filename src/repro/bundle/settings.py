"""Every notebook's settings, declared once: name, type, valid range and choices (issue 24, item 1).

:data:`SETTINGS` lists, per notebook, one :class:`Setting` per name of its parameters cell. The runner checks a
``-p NAME VALUE`` against it (:func:`check`) before anything runs; the tests check that the parameters cell of
each notebook has exactly these names (and lists the same choices in its comments), that every value of every
profile is valid, and that each list of choices equals the registry in the package that decides it (channels,
datasets, consensus methods, FID features, ...). Nothing is guessed from a value or a name.

This module imports no torch, so the runner's check answers within a second; the registries it mirrors are
compared with it by ``tests/test_settings.py``.

Kinds: ``int``, ``float``, ``bool``, ``str``, ``path``, ``list[int]``, ``list[float]``, ``list[str]``. A number (or
each item of a list) must lie in ``[low, high]``; a string (or each item) must be one of ``choices`` when there
are any; a list may be empty only where declared (``may_be_empty``). Any value may also be ``None`` (the
profile's value) or, for notebooks with several dataset runs, a ``{dataset: value}`` dictionary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

from repro.core.checks import ConfigError

INF = math.inf
POS = 1e-300  # "> 0": the smallest bound a positive float passes
KINDS = ("int", "float", "bool", "str", "path", "list[int]", "list[float]", "list[str]")


@dataclass(frozen=True)
class Setting:
    name: str
    kind: str
    low: float = -INF
    high: float = INF
    choices: tuple[str, ...] = ()
    may_be_empty: bool = False  # a list that may be [] (nothing extra)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"setting {self.name}: kind {self.kind!r} is not one of {', '.join(KINDS)}")

    def describe(self) -> str:
        what = {"int": "an integer", "float": "a number", "list[int]": "a list of integers",
                "list[float]": "a list of numbers", "list[str]": "a list of names", "str": "a name",
                "path": "a path", "bool": "True or False"}[self.kind]
        each = ", each" if self.kind.startswith("list") else ""
        if self.choices:
            return f"{what}{each} one of {', '.join(self.choices)}"
        if self.kind in ("str", "path", "bool", "list[str]") or (self.low, self.high) == (-INF, INF):
            return what
        if self.high == INF:
            return f"{what}{each} {'> 0' if self.low == POS else f'>= {self.low:g}'}"
        return f"{what}{each} in [{self.low:g}, {self.high:g}]"

    def problem(self, value) -> str | None:
        """What is wrong with ``value`` (one line), or ``None`` when it is valid."""
        if value is None:
            return None
        integer = self.kind in ("int", "list[int]")

        def item_ok(x) -> bool:
            if self.kind in ("str", "list[str]"):
                return isinstance(x, str) and bool(x) and (not self.choices or x in self.choices)
            if isinstance(x, bool) or not isinstance(x, Real) or (integer and not isinstance(x, int)):
                return False
            return math.isfinite(x) and self.low <= x <= self.high

        if self.kind == "bool":
            ok = isinstance(value, bool)
        elif self.kind == "path":
            ok = isinstance(value, str) and bool(value)
        elif self.kind.startswith("list"):
            ok = (isinstance(value, (list, tuple)) and (bool(value) or self.may_be_empty)
                  and all(item_ok(x) for x in value))
        else:
            ok = item_ok(value)
        if ok:
            return None
        example = {"list[int]": ", e.g. [0, 1, 2]", "list[float]": ", e.g. [0.1, 0.2]"}.get(self.kind, "")
        return f"-p {self.name} {value!r}: {self.name} must be {self.describe()}{example}"


def S(name: str, kind: str, low: float = -INF, high: float = INF, choices: tuple[str, ...] = (),
      may_be_empty: bool = False) -> Setting:
    return Setting(name, kind, low, high, tuple(choices), may_be_empty)


PROFILE_NAMES = ("smoke", "cpu", "paper")
# the settings every notebook has
PROFILE = S("profile", "str", choices=PROFILE_NAMES)
DEVICE = S("device", "str", choices=("auto", "cpu", "cuda"))
OUTPUT_DIR, DATA_DIR = S("output_dir", "path"), S("data_dir", "path")
THREADS = S("threads", "int", 1, INF)
PRECISION = S("precision", "str", choices=("auto", "fp32", "bf16"))
SEEDS = S("seeds", "list[int]", 0, INF)
PLATEAU = S("stop_plateau", "float", 1e-6, 0.5)
BSC_EPS = (0.0, 0.5)  # a BSC level beyond 1/2 is the same channel with the bits inverted
COVERAGES = (POS, INF)


def _count(name: str) -> Setting:
    return S(name, "int", 1, INF)


SETTINGS: dict[str, tuple[Setting, ...]] = {
    "01_vae_compression": (
        PROFILE, S("dataset", "str", choices=("mnist", "binary_mnist")), DEVICE, OUTPUT_DIR, DATA_DIR,
        _count("epochs"), _count("n_train"), _count("n_test"), SEEDS, S("n_bits_sweep", "list[int]", 1, INF),
        _count("n_bits_table"), S("bsc_eps", "float", *BSC_EPS), _count("classifier_epochs"),
        _count("classifier_n_train"), _count("codec_images"), S("jpeg_qualities", "list[int]", 1, 100),
        _count("figure_images"), THREADS, PRECISION,
    ),
    "02_necst": (
        PROFILE, S("dataset", "str", choices=("binary_mnist", "omniglot", "random_bits", "mnist", "cifar10",
                                               "celeba32")),
        S("channel", "str", choices=("bsc", "bec")), DEVICE, OUTPUT_DIR, DATA_DIR, _count("epochs"),
        _count("vae_epochs"), _count("n_train"), _count("n_test"), SEEDS, S("eps_values", "list[float]", *BSC_EPS),
        S("table1_eps", "list[float]", *BSC_EPS), _count("clf_n_train"), _count("clf_n_test"),
        _count("timing_batch"), _count("timing_words"), _count("chain_steps"), _count("chain_starts"),
        _count("webp_images"), THREADS, PRECISION, PLATEAU, _count("min_epochs"),
    ),
    "03_iabf": (
        PROFILE, S("dataset", "str", choices=("binary_mnist", "mnist", "omniglot", "cifar10")), DEVICE, OUTPUT_DIR,
        DATA_DIR, _count("epochs"), _count("sweep_epochs"), _count("n_train"), _count("n_val"), _count("n_test"),
        S("eps_values", "list[float]", *BSC_EPS), SEEDS, S("extra_seeds", "list[int]", 0, INF, may_be_empty=True),
        S("extra_seed_eps", "float", *BSC_EPS), S("infomax_weight", "float", 0, INF),
        S("lambda_sweep", "list[float]", 0, INF), S("abf_masked_check", "bool"), _count("chain_steps"),
        _count("chain_starts"), _count("chain_count"), S("official_check", "bool"), THREADS, PRECISION, PLATEAU,
        _count("min_epochs"), _count("ablation_epochs"),
    ),
    "04_bandwidth_awgn": (
        PROFILE, S("dataset", "str", choices=("celeba32", "cifar10", "mnist")), DEVICE, OUTPUT_DIR, DATA_DIR,
        _count("epochs"), _count("bl_epochs"), _count("binary_epochs"), _count("binary_seeds"), _count("n_train"),
        _count("n_test"), SEEDS, S("joint_betas", "list[float]", POS, INF), S("joint_beta_extensions", "int", 0, INF),
        S("separate_betas", "list[float]", POS, INF), _count("source_epochs"),
        S("source_stop_plateau", "float", 1e-6, 0.5), _count("source_min_epochs"), S("snrs_db", "list[float]"),
        _count("width"), _count("bl_width"), _count("bl_n_train"), S("bl_beta", "float", POS, INF),
        S("bl_snr_db", "float"), _count("cae_samples"), _count("cae_epochs"),
        S("fid_features", "str", choices=("auto", "rotation", "classifier", "inception")),
        _count("fid_classifier_epochs"), _count("fid_classifier_n_train"), _count("figure_images"),
        S("binary_eps", "float", *BSC_EPS), S("bl_marginalize", "str", choices=("sample", "enumerate")),
        S("alv_variants", "list[str]", choices=("plain", "kl10", "skip", "skip-kl10")),
        S("alv_alternatives", "list[str]", choices=("plain", "kl10", "skip", "skip-kl10"), may_be_empty=True),
        THREADS,
    ),
    "05_dna_storage": (
        PROFILE, S("dataset", "str", choices=("mnist", "binary_mnist")), DEVICE, OUTPUT_DIR, DATA_DIR,
        _count("epochs"), _count("n_train"), _count("n_test"), SEEDS, S("n_bits", "list[int]", 1, INF),
        S("jpeg_qualities", "list[int]", 1, 100), S("coverages", "list[float]", *COVERAGES),
        S("figure_coverages", "list[float]", *COVERAGES), _count("figure_images"), _count("classifier_epochs"),
        _count("classifier_n_train"), _count("payload_nt"), S("substitution_rate", "float", 0.0, 1.0),
        S("insertion_rate", "float", 0.0, 1.0), S("deletion_rate", "float", 0.0, 1.0),
        S("bias_sigma", "float", 0, INF), S("consensus", "str", choices=("spoa", "majority")),
        S("vae_layout", "str", choices=("packed", "per_image")), S("bbmap_coverages", "list[float]", *COVERAGES),
        _count("error_profile_reads"), _count("benchmark_files"), S("benchmark_coverages", "list[float]", *COVERAGES),
        S("outer_redundancies", "list[float]", 0.0, 1.5), S("outer_qualities", "list[int]", 1, 100),
        S("outer_scales", "list[int]", 1, 14), _count("outer_group"), _count("outer_val_images"),
        S("outer_coverages", "list[float]", *COVERAGES),
        S("peer_codecs", "list[str]", choices=("Goldman", "Grass", "DNAFountain", "YinYang", "Church", "Blawat")),
        S("peer_coverages", "list[float]", *COVERAGES), THREADS,
    ),
}


def settings(notebook: str) -> dict[str, Setting]:
    if notebook not in SETTINGS:
        raise ConfigError(f"unknown notebook {notebook!r}; valid: {', '.join(SETTINGS)}")
    return {s.name: s for s in SETTINGS[notebook]}


def check(notebook: str, name: str, value, datasets: list[str] | None = None) -> None:
    """Raise :class:`ConfigError` (one line naming the setting, the value and what is valid) unless ``value`` is a
    valid ``-p`` value of ``name`` in ``notebook``; ``datasets``: the keys a ``{dataset: value}`` may use."""
    spec = settings(notebook).get(name)
    if spec is None:
        raise ConfigError(f"unknown parameter {name!r} for {notebook}; valid names: "
                          f"{', '.join(sorted(settings(notebook)))}")
    if isinstance(value, dict) and datasets:
        bad = sorted(set(map(str, value)) - set(datasets))
        if bad:
            raise ConfigError(f"-p {name}: unknown dataset key(s) {bad}; valid: {', '.join(datasets)}")
        for v in value.values():
            check(notebook, name, v)
        return
    problem = spec.problem(value)
    if problem:
        if spec.choices and spec.kind == "str":
            problem = f"-p {name} {value!r} is not valid for {notebook}; valid choices: {', '.join(spec.choices)}"
        raise ConfigError(problem)
