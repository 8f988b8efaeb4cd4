"""The claims ledger: every claim of the four papers with a verdict computed from the results CSVs.

``CLAIMS`` holds the claims of ``../shared/CLAIMS.md`` (23 today; the tests compare the two: ids, paper, notebook,
statement, where), each with the function that measures it from the raw results files under
``<root>/<notebook>/`` (rows with seeds; never the per-notebook typed claims tables). A measure returns *points*:
signed effects (positive = the direction the paper claims), each with a 95 % interval when there is one:

- over seeds (paired by seed, Student t) when a point has >= 2 seeds;
- else a paired bootstrap over test images when a per-image CSV exists;
- else a claim-specific interval named in the point (Clopper-Pearson over test images for decode failures, a
  two-proportion interval for accuracies on one test set) or none.

Verdict of a point (:func:`decide`): ``untested`` without an interval; ``holds`` / ``fails`` only when every model
it rests on passes its sanity baselines (:mod:`repro.bundle.sanity`) and the interval lies on one side of zero;
``inconclusive`` when the interval crosses zero. A point whose sanity check fails is never ``holds``/``fails``:
``inconclusive`` when its interval crosses zero anyway, else ``untested``, with the reason. A claim's verdict
combines its points (:func:`combine_all`: one sanity-clean, interval-backed counterexample fails an "every"
claim).

API for the notebooks: :func:`ledger` (one row per claim), :func:`rows_for` (one notebook's rows), :func:`points`
(every measured point behind the rows).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from repro import parts
from repro.bundle import sanity as S
from repro.bundle.compare import paper_numbers
from repro.bundle.verdict import (  # noqa: F401  (re-exported: the ledger's public names)
    STANDINGS,
    VERDICTS,
    Point,
    decide,
    holm_verdict,
    model_converged,
    seed_interval,
    standing,
)
from repro.core.checks import ConfigError, check_choice
from repro.core.paths import repo_root

# The columns of shared/CLAIMS.md ("Ledger columns"), then this ledger's extras.
COLUMNS = ["claim_id", "paper", "notebook", "statement", "measure", "ours", "ours_ci_low", "ours_ci_high",
           "paper_value", "n_seeds", "compute_fraction", "converged", "sanity_ok", "verdict", "standing", "why",
           "sources", "profile", "commit", "uncertainty"]
POINT_COLUMNS = ["claim_id", "point", "effect", "ci_low", "ci_high", "p_value", "threshold", "n_seeds", "uncertainty",
                 "sanity_ok", "sanity_note", "converged", "convergence_note", "verdict"]

# claim-specific thresholds, each stated in the rows that use it
FAIL_THRESHOLD = 0.95      # "JPEG/PNG fail to decode": at least 95 % of files undecodable
MOST_THRESHOLD = 0.5       # "fail in most cases": more than half of the files
TENFOLD = 10.0             # "more than 10x fewer bits"
LINEAR_R2 = 0.9            # "almost linear": R^2 of a straight line at least 0.9
MIN_CURVE_EPOCHS = 100     # CLAIMS.md: validation curves of >= 2 seeds over >= 100 epochs
LOW_COVERAGE, TABLE_NBIT_DEFAULT = 3.0, 8

# --------------------------------------------------------------------------------------------- the registry

@dataclass(frozen=True)
class Claim:
    id: str
    paper: str
    notebook: str
    statement: str
    where: str


CLAIMS: tuple[Claim, ...] = (
    Claim("gdna.vaen_beats_vaeu_bsc", "generative_dna", "01_vae_compression",
          "after BSC(0.05), VAEN has higher MS-SSIM, PSNR and ACC than VAEU", "Table III, sec. IV"),
    Claim("gdna.classic_fail_bsc", "generative_dna", "01_vae_compression",
          "JPEG and PNG files sent through the same BSC fail to decode", "sec. IV"),
    Claim("gdna.vae_10x_smaller", "generative_dna", "05_dna_storage",
          "the VAE variants need more than 10x fewer bits per image than JPEG/PNG", "sec. IV summary, Fig. 2a-c"),
    Claim("gdna.graceful_low_coverage", "generative_dna", "05_dna_storage",
          "at low coverage the VAE variants degrade gracefully while JPEG/PNG decoding fails in most cases",
          "Fig. 2d, 3a"),
    Claim("gdna.classic_better_high_coverage", "generative_dna", "05_dna_storage",
          "at high coverage (full recovery) JPEG and PNG have higher quality than the VAE variants", "Fig. 2d"),
    Claim("gdna.vaen_beats_vaeu_dna", "generative_dna", "05_dna_storage",
          "at low coverage VAEN looks better than VAEU", "Fig. 3a"),
    Claim("gdna.graceful_vs_outer_code", "generative_dna", "05_dna_storage",
          "(ours) at equal nucleotides per image, VAE latents keep higher MS-SSIM at low coverage than JPEG/PNG "
          "protected by the best Reed-Solomon outer code", "notebook 05"),
    Claim("necst.beats_vae_ldpc_images", "necst", "02_necst",
          "NECST has lower distortion than VAE + rate-1/2 LDPC on binary MNIST and Omniglot at every eps",
          "Fig. 3 left"),
    Claim("necst.random_bits_exception", "necst", "02_necst",
          "on random bits NECST does not beat VAE + LDPC everywhere (better at low eps, not at high eps)",
          "Fig. 3 left caption"),
    Claim("necst.decoder_10x_cpu", "necst", "02_necst",
          "NECST's decoder is about an order of magnitude faster than 50 BP iterations on CPU, also unbatched",
          "Fig. 3 right, sec. 6"),
    Claim("necst.decoder_100x_gpu", "necst", "02_necst", "two orders of magnitude on GPU", "Fig. 3 right"),
    Claim("necst.webp_needs_extra_bits", "necst", "02_necst",
          "WebP + an ideal channel code needs more bits than NECST for the same distortion, more as eps grows",
          "Fig. 2"),
    Claim("necst.noise_improves_features", "necst", "02_necst",
          "except KNN, classifiers on codes trained with eps 0.1/0.2 are more accurate than on eps 0 codes; also "
          "on noisy MNIST", "Table 1, sec. 6"),
    Claim("iabf.ordering", "iabf", "03_iabf", "test distortion IABF <= ABF <= NECST (per dataset and eps)",
          "Table 1"),
    Claim("iabf.stable_validation", "iabf", "03_iabf",
          "on CIFAR-10 IABF's validation error is higher than NECST's early and lower and more stable later",
          "Fig. 2"),
    Claim("iabf.chains_diverse", "iabf", "03_iabf",
          "Markov chains of IABF give more diverse samples than NECST's, which collapse", "Fig. 3, sec. 5"),
    Claim("iabf.official_tc_defect", "iabf", "03_iabf",
          "(ours) the official code's TC discriminator never sees permuted codes and learns nothing", "SPEC sec. 3"),
    Claim("bw.joint_beats_separate", "bandwidth", "04_bandwidth_awgn",
          "joint coding has lower distortion than separate coding at each of 5 SNRs (best beta each)", "Fig. 4"),
    Claim("bw.gap_shrinks_at_extremes", "bandwidth", "04_bandwidth_awgn",
          "the joint-separate gap shrinks toward both ends of the SNR range", "sec. 5.1"),
    Claim("bw.distortion_linear_in_bandwidth", "bandwidth", "04_bandwidth_awgn",
          "distortion decreases almost linearly with bandwidth, for both priors", "Fig. 5 left"),
    Claim("bw.learned_prior_helps_low_bandwidth", "bandwidth", "04_bandwidth_awgn",
          "the learned prior lowers distortion, and the gap grows as bandwidth shrinks", "Fig. 5 left"),
    Claim("bw.alv_lower_fid", "bandwidth", "04_bandwidth_awgn",
          "the decoder with auxiliary latent variables has lower FID at every bandwidth, while expected "
          "distortion is about unchanged", "Fig. 5 right, sec. 4.4"),
    Claim("bw.relaxed_binary_trains", "bandwidth", "04_bandwidth_awgn",
          "the relaxed binary channel (Binary Concrete) trains end to end", "Appendix C"),
)
CLAIM_IDS: tuple[str, ...] = tuple(c.id for c in CLAIMS)
# The result tables each claim reads (paths under the results folder), declared once beside the claims. A test
# checks that every one is written by some notebook (it is in the committed manifest) and that every source a
# ledger row cites is declared here, so a renamed table fails the tests instead of silently turning a claim
# untested. PENDING: claims whose evidence no notebook writes yet (the row says what would).
TABLES: dict[str, tuple[str, ...]] = {
    "gdna.vaen_beats_vaeu_bsc": ("01_vae_compression/sweep.csv",),
    "gdna.classic_fail_bsc": ("01_vae_compression/jpeg_png_bsc.csv",),
    "gdna.vae_10x_smaller": ("05_dna_storage/oligo_pools.csv", "05_dna_storage/coverage_sweep.csv"),
    "gdna.graceful_low_coverage": ("05_dna_storage/coverage_sweep.csv",),
    "gdna.classic_better_high_coverage": ("05_dna_storage/coverage_sweep.csv",),
    "gdna.vaen_beats_vaeu_dna": ("05_dna_storage/coverage_sweep.csv",),
    "gdna.graceful_vs_outer_code": ("05_dna_storage/outer_code.csv",),
    "necst.beats_vae_ldpc_images": ("02_necst/figure3_left_binary_mnist.csv", "02_necst/figure3_left_omniglot.csv"),
    "necst.random_bits_exception": ("02_necst/figure3_left_random_bits.csv",),
    "necst.decoder_10x_cpu": tuple(f"02_necst/figure3_right_{d}.csv" for d in ("binary_mnist", "omniglot",
                                                                                 "random_bits")),
    "necst.decoder_100x_gpu": tuple(f"02_necst/figure3_right_{d}.csv" for d in ("binary_mnist", "omniglot",
                                                                                  "random_bits")),
    "necst.webp_needs_extra_bits": ("02_necst/figure2_cifar10_per_image.csv",
                                    "02_necst/figure2_celeba32_per_image.csv"),
    "necst.noise_improves_features": ("02_necst/table1.csv", "02_necst/training_history_mnist.csv"),
    "iabf.ordering": tuple(f"03_iabf/{t}_{d}.csv" for t in ("table1", "training_history")
                           for d in ("mnist", "binary_mnist", "omniglot")) + ("03_iabf/table1_cifar10.csv",),
    "iabf.stable_validation": ("03_iabf/training_history_cifar10.csv",),
    "iabf.chains_diverse": ("03_iabf/figure3_chain_diversity.csv", "03_iabf/table1_mnist.csv"),
    "iabf.official_tc_defect": ("03_iabf/official_vs_ours.csv",),
    "bw.joint_beats_separate": ("04_bandwidth_awgn/figure7_all_betas_celeba32.csv",),
    "bw.gap_shrinks_at_extremes": ("04_bandwidth_awgn/figure7_all_betas_celeba32.csv",),
    "bw.distortion_linear_in_bandwidth": ("04_bandwidth_awgn/figure5_bandwidth_celeba32.csv",
                                          "04_bandwidth_awgn/band_rates_celeba32.csv"),
    "bw.learned_prior_helps_low_bandwidth": ("04_bandwidth_awgn/figure5_bandwidth_celeba32.csv",),
    "bw.alv_lower_fid": ("04_bandwidth_awgn/figure5_bandwidth_celeba32.csv",
                         "04_bandwidth_awgn/alv_choice_celeba32.csv"),
    "bw.relaxed_binary_trains": ("04_bandwidth_awgn/appendix_c_binary_celeba32.csv",),
}
PENDING: frozenset[str] = frozenset()
assert set(TABLES) == set(CLAIM_IDS)
# Tables a claim cites only when a run wrote them: a validation choice that only some profiles and datasets make
# (notebook 03's ABF training noise, `abf_noise_check`).
WHEN_PRESENT: dict[str, tuple[str, ...]] = {
    "iabf.ordering": tuple(f"03_iabf/abf_noise_choice_{d}.csv" for d in ("mnist", "binary_mnist", "omniglot")),
}
# Claims about untrained artefacts (codecs, sizes of a quantized code, decoders timed without training, a code-level
# fact such as a discriminator fed identical inputs): final by nature (CLAIMS.md, "Verdict and standing").
UNTRAINED = frozenset({"gdna.classic_fail_bsc", "gdna.vae_10x_smaller", "necst.decoder_10x_cpu",
                       "necst.decoder_100x_gpu", "iabf.official_tc_defect"})
# The notebooks and the papers the claims come from (the ``paper`` column; the paper's place of a claim is its
# ``where``) are the parts' registry's (:mod:`repro.parts`).
NOTEBOOKS = parts.NOTEBOOKS
PAPERS = parts.PAPERS
assert {c.paper for c in CLAIMS} == set(PAPERS)
assert {c.notebook for c in CLAIMS} <= set(NOTEBOOKS), sorted({c.notebook for c in CLAIMS} - set(NOTEBOOKS))
# The figures that show each claim's evidence (paths under the results folder, PNG), declared beside TABLES; the
# site links each ledger row to them. Empty: the evidence is a table only (or is not written yet). A test checks
# that each is a figure of the claim's notebook in the committed manifest.
FIGURES: dict[str, tuple[str, ...]] = {
    "gdna.vaen_beats_vaeu_bsc": ("01_vae_compression/bpp_sweep.png", "01_vae_compression/figure1_reconstructions.png"),
    "gdna.classic_fail_bsc": (),
    "gdna.vae_10x_smaller": ("05_dna_storage/figure2abc_quality_vs_bpp.png",),
    "gdna.graceful_low_coverage": ("05_dna_storage/figure2d_msssim_vs_inverse_coverage.png",
                                   "05_dna_storage/figure3a_reconstructions_coverage3.png"),
    "gdna.classic_better_high_coverage": ("05_dna_storage/figure2d_msssim_vs_inverse_coverage.png",),
    "gdna.vaen_beats_vaeu_dna": ("05_dna_storage/figure2d_msssim_vs_inverse_coverage.png",
                                 "05_dna_storage/figure3a_reconstructions_coverage3.png"),
    "gdna.graceful_vs_outer_code": (),
    "necst.beats_vae_ldpc_images": ("02_necst/figure3_left_binary_mnist.png", "02_necst/figure3_left_omniglot.png"),
    "necst.random_bits_exception": ("02_necst/figure3_left_random_bits.png",),
    "necst.decoder_10x_cpu": tuple(f"02_necst/figure3_right_{d}.png" for d in ("binary_mnist", "omniglot",
                                                                                 "random_bits")),
    "necst.decoder_100x_gpu": (),
    "necst.webp_needs_extra_bits": ("02_necst/figure2_cifar10.png", "02_necst/figure2_celeba32.png"),
    "necst.noise_improves_features": (),
    "iabf.ordering": tuple(f"03_iabf/table1_{d}.png" for d in ("mnist", "binary_mnist", "omniglot", "cifar10")),
    "iabf.stable_validation": ("03_iabf/figure2.png",),
    "iabf.chains_diverse": ("03_iabf/figure3_markov_chains.png",),
    "iabf.official_tc_defect": (),
    "bw.joint_beats_separate": ("04_bandwidth_awgn/figure4_celeba32.png", "04_bandwidth_awgn/figure7_celeba32.png"),
    "bw.gap_shrinks_at_extremes": ("04_bandwidth_awgn/figure4_celeba32.png",),
    "bw.distortion_linear_in_bandwidth": ("04_bandwidth_awgn/figure5_left_celeba32.png",),
    "bw.learned_prior_helps_low_bandwidth": ("04_bandwidth_awgn/figure5_left_celeba32.png",),
    "bw.alv_lower_fid": ("04_bandwidth_awgn/figure5_right_celeba32.png", "04_bandwidth_awgn/figure6_celeba32.png"),
    "bw.relaxed_binary_trains": ("04_bandwidth_awgn/appendix_c_binary_celeba32.png",),
}
assert set(FIGURES) == set(CLAIM_IDS)


# ------------------------------------------------------------------------------------------ points, verdicts

def combine_holm(pts: list[Point]) -> str:
    """A claim over several points (CLAIMS.md's multi-point rule): Holm-corrected at a family-wise 5 %."""
    return holm_verdict(pts)[0]


def combine_all(pts: list[Point]) -> str:
    """A conjunction of criteria (each its own rule in CLAIMS.md): fails on one clean counterexample; holds only
    when every criterion holds."""
    if not pts:
        return "untested"
    v = [p.verdict for p in pts]
    if "fails" in v:
        return "fails"
    if all(x == "holds" for x in v):
        return "holds"
    if "inconclusive" in v:
        return "inconclusive"
    return "untested"


def deciding_point(pts: list[Point], verdict: str) -> Point:
    for p in pts:
        if p.verdict == verdict:
            return p
    return pts[0]


def two_proportion_interval(p1: float, p2: float, n1: int, n2: int, level: float = 0.95) -> tuple[float, float]:
    """Wald interval of p1 - p2 for accuracies on two test sets of n1 and n2 items."""
    z = stats.norm.ppf(0.5 + level / 2)
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return p1 - p2 - z * se, p1 - p2 + z * se


def clopper_pearson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence_level=level, method="exact")
    return float(ci.low), float(ci.high)


def paired_point(label: str, a: pd.DataFrame, b: pd.DataFrame, *, value: str = "value",
                 per_image: tuple[pd.DataFrame, pd.DataFrame] | None = None, scale: float = 1.0) -> Point:
    """Effect ``scale * (a - b)`` paired by seed; a bootstrap over images when one seed and per-image rows exist."""
    seeds = sorted(set(a.seed) & set(b.seed))
    if not seeds:
        raise ConfigError(f"{label}: no common seed between the two sides")
    av = a.set_index("seed").loc[seeds, value].groupby(level=0).mean()
    bv = b.set_index("seed").loc[seeds, value].groupby(level=0).mean()
    m, lo, hi = seed_interval(scale * (av - bv).to_numpy())
    if len(seeds) >= 2:
        return Point(label, m, lo, hi, len(seeds), f"t-interval over {len(seeds)} seeds")
    if per_image is not None:
        pa, pb = per_image
        j = pa.merge(pb, on="image", suffixes=("_a", "_b"))
        diff = scale * (j["distortion_a"] - j["distortion_b"]).to_numpy()
        lo, hi = S.bootstrap_mean_interval(diff)
        return Point(label, float(diff.mean()), lo, hi, 1, f"paired bootstrap over {len(j)} test images")
    return Point(label, m, n_seeds=1, uncertainty="one seed, no per-image CSV")


# ------------------------------------------------------------------------------------------ results access

@dataclass
class Outcome:
    measure: str
    points: list[Point]
    verdict: str
    why: str
    sources: list[str]
    paper_value: float = float("nan")
    compute_fraction: float = float("nan")
    headline: Point | None = None
    deciding: list[Point] | None = None  # the points the verdict rests on, when not all (the row's sanity_ok)
    converged: bool | None = None  # None: judged from compute_fraction alone (see evaluate)
    convergence_note: str = ""


class MissingEvidence(Exception):
    """A results file or column the measure needs is absent; the message says what would test the claim."""


@dataclass
class Results:
    """The results folder of one profile: CSVs, manifest parameters and the sanity baselines."""

    root: Path
    baselines: pd.DataFrame | None = None
    _cache: dict = field(default_factory=dict)

    def __post_init__(self):
        self.root = Path(self.root)
        m = self.root / "manifest.json"
        self.manifest = json.loads(m.read_text())["artifacts"] if m.exists() else {}

    def csv(self, rel: str, needed: str = "") -> pd.DataFrame:
        if rel not in self._cache:
            path = self.root / rel
            if not path.exists():
                raise MissingEvidence(f"{rel} is missing{'; ' + needed if needed else ''}")
            self._cache[rel] = pd.read_csv(path)
        return self._cache[rel]

    def has(self, rel: str) -> bool:
        return (self.root / rel).exists()

    def params(self, rel: str) -> dict:
        return self.manifest.get(rel, {}).get("params", {})

    def n_train(self, rel: str, dataset: str) -> float | None:
        """Training images of the run that wrote ``rel``: its ``n_train`` parameter, else the full split."""
        v = self.params(rel).get("n_train")
        if isinstance(v, dict):
            v = v.get(dataset)
        if v is not None:
            return float(v)
        if self.baselines is not None and len(self.baselines):
            hit = self.baselines[self.baselines.dataset == dataset]
            if len(hit):
                return float(hit.n_train.iloc[0])
        return None

    def epochs(self, rel: str, dataset: str, key: str = "epochs") -> float | None:
        v = self.params(rel).get(key)
        if isinstance(v, dict):
            v = v.get(dataset)
        return None if v is None else float(v)

    def fraction(self, rel: str, paper: str, dataset: str, key: str = "epochs") -> tuple[float, str]:
        e, n = self.epochs(rel, dataset, key), self.n_train(rel, dataset)
        if e is None or n is None:
            return float("nan"), f"{rel}'s manifest entry lacks epochs or n_train"
        f, src = S.compute_fraction(paper, dataset, e, n)
        return f, f"{e:g} epochs x {n:g} images ({src})"

    def baseline(self, dataset: str, unit: str) -> float | None:
        return S.baseline_value(self.baselines, dataset, unit)

    def sane(self, dataset: str, unit: str, values: dict[str, float]) -> tuple[bool | None, str]:
        """Every model in ``values`` (name -> distortion) clearly below the mean image?"""
        base = self.baseline(dataset, unit)
        if base is None:
            return None, f"no mean-image baseline for {dataset} ({unit})"
        bad = {k: v for k, v in values.items() if not S.below_baseline(v, base)}
        if bad:
            return False, (f"{', '.join(f'{k} {v:.4g}' for k, v in bad.items())} not below "
                           f"{S.CLEARLY_BELOW} x the mean image's {base:.4g} ({dataset}, {unit})")
        return True, f"all below {S.CLEARLY_BELOW} x the mean image's {base:.4g} ({dataset}, {unit})"

    @property
    def profile_commit(self) -> tuple[str, str]:
        profiles, commits = set(), set()
        for meta in self.manifest.values():
            profiles.add(meta.get("profile", ""))
            commits.add(meta.get("commit", ""))
        return (",".join(sorted(p for p in profiles if p)) or "unknown",
                ",".join(sorted(c for c in commits if c)) or "unknown")


def fmt(x: float, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.{digits}g}"


def ci_text(p: Point, raw: bool = False) -> str:
    o = p.offset if raw else 0.0
    return (f"{fmt(p.effect + o)} [{fmt(p.lo + o)}, {fmt(p.hi + o)}]" if p.has_interval
            else f"{fmt(p.effect + o)} (no interval)")


def psnr_of_mse(mse: float) -> float:
    return 10 * math.log10(1.0 / mse)


# ------------------------------------------------------------------------------------------ paper 000

def _vae_fraction(r: Results, rel: str) -> tuple[float, str]:
    return r.fraction(rel, "generative_dna", "mnist")


def m_vaen_beats_vaeu_bsc(r: Results) -> Outcome:
    rel = "01_vae_compression/sweep.csv"
    d = r.csv(rel, "notebook 01 writes it")
    nb = int(r.params(rel).get("n_bits_table", TABLE_NBIT_DEFAULT))
    d = d[(d.channel == "bsc") & (d.noise == 0.05) & (d.n_bits == nb)]
    if d.empty:
        raise MissingEvidence(f"{rel} has no BSC(0.05) rows at N_bit = {nb}")
    mi = r.baseline("mnist", "l2_per_pixel")
    pts = []
    for metric in ("ms_ssim", "psnr", "acc"):
        x = d[d.metric == metric]
        p = paired_point(f"VAEN - VAEU {metric}, N_bit {nb}", x[x.method == "VAEN"], x[x.method == "VAEU"])
        pts.append(p)
    psnr = d[d.metric == "psnr"].groupby("method").value.mean()
    if mi is None:
        ok, note = None, "no MNIST mean-image baseline"
    else:
        floor = psnr_of_mse(S.CLEARLY_BELOW * mi)
        ok = bool((psnr > floor).all())
        note = (f"PSNR {', '.join(f'{k} {v:.2f}' for k, v in psnr.items())} dB vs {floor:.2f} dB for "
                f"{S.CLEARLY_BELOW} x the mean image's MSE {mi:.4f}")
    for p in pts:
        p.sanity_ok, p.sanity_note = ok, note
    ref = paper_numbers("generative_dna", "Table III").set_index(["method", "metric"]).value
    paper_ms = float(ref["VAEN", "ms_ssim"] - ref["VAEU", "ms_ssim"])
    frac, fsrc = _vae_fraction(r, rel)
    v = combine_holm(pts)
    why = (f"In {rel} (BSC 0.05, N_bit {nb}) VAEN minus VAEU over seeds is "
           + "; ".join(f"{p.label.split()[3].rstrip(',')} {ci_text(p)}" for p in pts)
           + f"; {note}; training_history.csv has no validation column, so convergence is stated as compute "
             f"fraction {fmt(frac, 2)}.")
    return Outcome("VAEN - VAEU MS-SSIM after BSC(0.05) (PSNR and ACC in why)", pts, v, why, [rel],
                   paper_ms, frac, pts[0])


def m_classic_fail_bsc(r: Results) -> Outcome:
    rel = "01_vae_compression/jpeg_png_bsc.csv"
    d = r.csv(rel)
    pts = []
    for row in d.itertuples():
        k, n = int(row.decode_failures), int(row.images)
        lo, hi = clopper_pearson(k, n)
        name = row.format.upper() + ("" if pd.isna(row.quality) else f" q{int(row.quality)}")
        pts.append(Point(f"{name} failure rate - {FAIL_THRESHOLD}", k / n - FAIL_THRESHOLD, lo - FAIL_THRESHOLD,
                         hi - FAIL_THRESHOLD, 1, f"Clopper-Pearson interval over {n} test files",
                         True, "no learned model involved", FAIL_THRESHOLD))
    v = combine_all(pts)
    worst = min(pts, key=lambda p: p.effect)
    def _rate(p: Point) -> str:
        words = p.label.split()
        name = words[0] + ("" if "q" not in words[1] else " " + words[1])
        return f"{name} {int(round((p.effect + FAIL_THRESHOLD) * 100))} %"

    why = (f"{rel}: {', '.join(_rate(p) for p in pts)} "
           f"of files undecodable after BSC(0.05); 'fail' read as at least {int(FAIL_THRESHOLD * 100)} % "
           f"(lowest 95 % bound {fmt(worst.lo + FAIL_THRESHOLD, 4)}).")
    return Outcome(f"decode failure rate after BSC(0.05), lowest over formats (claim: >= {FAIL_THRESHOLD})", pts, v,
                   why, [rel], 1.0,
                   float("nan"), worst)


def size_table(r: Results) -> pd.DataFrame:
    """Bytes per image of each VAE setting, with and without log sigma, and the ratio to the smallest classic."""
    rel = "05_dna_storage/oligo_pools.csv"
    pools = r.csv(rel)
    k = r.params(rel).get("latent_dim") or r.params("05_dna_storage/coverage_sweep.csv").get("latent_dim")
    if k is None:
        raise MissingEvidence(f"{rel}'s manifest params lack latent_dim (K), needed for the mu-only size")
    classic = pools[~pools.method.isin(["VAEU", "VAEN"])]
    smallest = classic.loc[classic.bytes_per_image.idxmin()]
    vae = pools[pools.method.isin(["VAEU", "VAEN"])].copy()
    vae["n_bits"] = vae.setting.astype(float).astype(int)
    vae["bytes_mu_and_log_sigma"] = 2 * k * vae.n_bits / 8
    vae["bytes_mu_only"] = k * vae.n_bits / 8
    vae["stored_layout_matches"] = np.isclose(vae.bytes_per_image, vae.bytes_mu_and_log_sigma)
    vae["smallest_classic"] = smallest.label
    vae["smallest_classic_bytes"] = float(smallest.bytes_per_image)
    vae["ratio_with_log_sigma"] = smallest.bytes_per_image / vae.bytes_per_image
    vae["ratio_mu_only"] = smallest.bytes_per_image / vae.bytes_mu_only
    return vae[["label", "method", "n_bits", "bytes_per_image", "bytes_mu_and_log_sigma", "bytes_mu_only",
                "stored_layout_matches", "smallest_classic", "smallest_classic_bytes", "ratio_with_log_sigma",
                "ratio_mu_only"]].reset_index(drop=True)


def m_vae_10x_smaller(r: Results) -> Outcome:
    """CLAIMS.md: size ratio > 10 at N_bit 8 (fixed, SPEC: "use 8 for Table III"), with log sigma stored and with mu
    only, both reported; the verdict uses what the decoder needs (mu only)."""
    rel, sweep = "05_dna_storage/oligo_pools.csv", "05_dna_storage/coverage_sweep.csv"
    t = size_table(r)
    cs = r.csv(sweep)
    seeds = cs[cs.label.isin(t.label)].groupby("label").bpp.nunique()
    n_seeds = int(cs.seed.nunique()) if (seeds <= 1).all() else 1
    unc = f"exact: sizes are identical over the {n_seeds} seeds of coverage_sweep.csv"
    nb = TABLE_NBIT_DEFAULT
    row = t[(t.method == "VAEN") & (t.n_bits == nb)]
    if row.empty:
        raise MissingEvidence(f"{rel} has no VAEN row at N_bit {nb} (CLAIMS.md fixes N_bit 8 for this claim)")
    pts = []
    for col, tag in (("ratio_mu_only", "mu only (what the decoder reads)"),
                     ("ratio_with_log_sigma", "mu + log sigma stored")):
        e = float(row[col].iloc[0]) - TENFOLD
        pts.append(Point(f"N_bit {nb}, {tag}: ratio - {TENFOLD:g}", e, e, e, n_seeds, unc, True,
                         "sizes, no learned model quality involved", TENFOLD))
    v = pts[0].verdict  # the verdict uses mu only; the stored layout is reported beside it
    others = t[(t.method == "VAEN") & (t.n_bits != nb)].sort_values("n_bits")
    layout = "" if t.stored_layout_matches.all() else " (stored bytes differ from 2K x N_bit / 8 for some rows)"
    why = (f"From {rel} and the latent size K in its manifest, at N_bit {nb} (fixed by CLAIMS.md): the smallest "
           f"classic file ({t.smallest_classic.iloc[0]}, {t.smallest_classic_bytes.iloc[0]:.1f} B) is "
           f"{row.ratio_mu_only.iloc[0]:.1f}x a VAEN image with mu only (all the decoder reads: the verdict) and "
           f"{row.ratio_with_log_sigma.iloc[0]:.1f}x with log sigma stored as the pools do{layout}; other N_bit, "
           f"mu only / with log sigma: " + ", ".join(f"{int(o.n_bits)}: {o.ratio_mu_only:.1f}x / "
                                                     f"{o.ratio_with_log_sigma:.1f}x" for o in others.itertuples())
           + ".")
    ref = paper_numbers("generative_dna", "Section IV claims").value
    return Outcome(f"smallest JPEG/PNG bytes / VAEN bytes at N_bit {nb}, mu only (claim: > {TENFOLD:g})",
                   pts, v, why, [rel, sweep], float(ref.iloc[0]) if len(ref) else TENFOLD, float("nan"), pts[0])


def _coverage(r: Results):
    rel = "05_dna_storage/coverage_sweep.csv"
    d = r.csv(rel)
    d = d[d.backend != "none"]
    nb = int(r.params(rel).get("n_bits_table", TABLE_NBIT_DEFAULT))
    return rel, d, nb


def _vae_psnr_sanity(r: Results, d: pd.DataFrame, labels) -> tuple[bool | None, str]:
    mi = r.baseline("mnist", "l2_per_pixel")
    if mi is None:
        return None, "no MNIST mean-image baseline"
    floor = psnr_of_mse(S.CLEARLY_BELOW * mi)
    ps = d[(d.metric == "psnr") & d.label.isin(labels)].groupby("label").value.mean()
    ok = bool((ps > floor).all())
    return ok, (f"VAE PSNR {', '.join(f'{k} {v:.1f}' for k, v in ps.items())} dB vs {floor:.1f} dB for "
                f"{S.CLEARLY_BELOW} x the mean image's MSE")


def m_graceful_low_coverage(r: Results) -> Outcome:
    rel, d, nb = _coverage(r)
    c = LOW_COVERAGE
    x = d[(d.coverage == c)]
    if x.empty:
        raise MissingEvidence(f"{rel} has no rows at coverage {c:g}")
    classic = x[~x.method.isin(["VAEU", "VAEN"])]
    vae_labels = [f"VAEN {nb}-bit", f"VAEU {nb}-bit"]
    ms = x[x.metric == "ms_ssim"]
    fail = classic[classic.metric == "ms_ssim"].groupby("seed").decode_failures.mean()
    m, lo, hi = seed_interval(fail.to_numpy() - MOST_THRESHOLD)
    pts = [Point(f"JPEG/PNG mean failure rate - {MOST_THRESHOLD} at {c:g}x", m, lo, hi, len(fail),
                 f"t-interval over {len(fail)} seeds", True, "no learned model involved", MOST_THRESHOLD)]
    best_classic = ms[~ms.method.isin(["VAEU", "VAEN"])].groupby("seed").value.max().reset_index()
    ok, note = _vae_psnr_sanity(r, x, vae_labels)
    for lab in vae_labels:
        p = paired_point(f"{lab} MS-SSIM - best JPEG/PNG at {c:g}x", ms[ms.label == lab], best_classic)
        p.sanity_ok, p.sanity_note = ok, note
        pts.append(p)
    frac, _ = _vae_fraction(r, rel)
    v = combine_all(pts)
    def _name(p: Point) -> str:
        return p.label.split(" - ")[0] if p.offset else p.label.split(" at ")[0]

    why = (f"In {rel} at {c:g}x coverage, " + "; ".join(f"{_name(p)}: {ci_text(p, True)}" for p in pts)
           + f"; {note}.")
    return Outcome(f"JPEG/PNG mean decode failure rate at {c:g}x (claim: > {MOST_THRESHOLD}; VAE minus best classic "
                   "MS-SSIM > 0 in why)", pts,
                   v, why, [rel], float("nan"), frac, pts[0])


def m_classic_better_high_coverage(r: Results) -> Outcome:
    rel, d, nb = _coverage(r)
    finite = d[np.isfinite(d.coverage)]
    # CLAIMS.md: at the lowest coverage where JPEG/PNG recover every file (every seed); the highest swept otherwise
    cl = finite[~finite.method.isin(["VAEU", "VAEN"]) & (finite.metric == "ms_ssim")]
    full = cl.groupby("coverage").complete_images.min()
    full = full[full >= 1.0]
    c = float(full.index.min()) if len(full) else float(finite.coverage.max())
    ms = finite[(finite.coverage == c) & (finite.metric == "ms_ssim")]
    best_classic = ms[~ms.method.isin(["VAEU", "VAEN"])].groupby("seed").value.max().reset_index()
    best_vae = ms[ms.method.isin(["VAEU", "VAEN"])].groupby("seed").value.max().reset_index()
    p = paired_point(f"best JPEG/PNG - best VAE MS-SSIM at {c:g}x", best_classic, best_vae)
    complete = finite[(finite.coverage == c) & ~finite.method.isin(["VAEU", "VAEN"])].complete_images.min()
    ok, note = _vae_psnr_sanity(r, finite[finite.coverage == c], ms[ms.method.isin(["VAEU", "VAEN"])].label.unique())
    p.sanity_ok, p.sanity_note = ok, note
    frac, _ = _vae_fraction(r, rel)
    where = ("the lowest coverage at which JPEG/PNG recover every file" if len(full) else
             "no swept coverage recovers every file, so the highest swept")
    why = (f"In {rel} at {c:g}x ({where}; lowest JPEG/PNG complete-file fraction {complete:.3f}), best JPEG/PNG "
           f"minus best VAE (any N_bit) MS-SSIM over seeds is {ci_text(p)}; {note}.")
    return Outcome(f"best JPEG/PNG - best VAE MS-SSIM at {c:g}x", [p], p.verdict, why, [rel], float("nan"), frac, p)


VAEN_DNA_COVERAGES, VAEN_DNA_MIN_SEEDS = (3.0, 5.0), 5  # CLAIMS.md: 3x and 5x (Holm), >= 5 seeds


def m_vaen_beats_vaeu_dna(r: Results) -> Outcome:
    rel, d, nb = _coverage(r)
    pts = []
    for c in VAEN_DNA_COVERAGES:
        ms = d[(d.coverage == c) & (d.metric == "ms_ssim")]
        if ms.empty:
            continue
        p = paired_point(f"VAEN - VAEU MS-SSIM at {c:g}x, N_bit {nb}", ms[ms.label == f"VAEN {nb}-bit"],
                         ms[ms.label == f"VAEU {nb}-bit"])
        p.sanity_ok, p.sanity_note = _vae_psnr_sanity(r, d[d.coverage == c], [f"VAEN {nb}-bit", f"VAEU {nb}-bit"])
        pts.append(p)
    if not pts:
        raise MissingEvidence(f"{rel} has no rows at {' or '.join(f'{c:g}x' for c in VAEN_DNA_COVERAGES)}")
    frac, _ = _vae_fraction(r, rel)
    seeds = min(p.n_seeds for p in pts)
    v = combine_holm(pts) if seeds >= VAEN_DNA_MIN_SEEDS else "untested"
    why = (f"In {rel}, VAEN minus VAEU MS-SSIM (N_bit {nb}) over seeds: "
           + "; ".join(f"{p.label.split(' at ')[1].split(',')[0]} {ci_text(p)}" for p in pts)
           + (f"; Holm over the {len(pts)} coverages" if seeds >= VAEN_DNA_MIN_SEEDS else
              f"; the rule needs >= {VAEN_DNA_MIN_SEEDS} seeds (the paper's claim is qualitative), these have "
              f"{seeds}: the cpu profile's 3 seeds do not decide it, 5 would")
           + f"; {pts[0].sanity_note}.")
    return Outcome(f"VAEN - VAEU MS-SSIM at {', '.join(f'{c:g}x' for c in VAEN_DNA_COVERAGES)}, N_bit {nb}", pts, v,
                   why, [rel], float("nan"), frac, pts[0])


# ------------------------------------------------------------------------------------------ paper 002

OUTER_CODE_CSV = "05_dna_storage/outer_code.csv"
OUTER_CODE_COVERAGES, OUTER_CODE_MIN_SEEDS = (2.0, 3.0), 3  # CLAIMS.md: 2x and 3x (Holm), 3 seeds


def m_graceful_vs_outer_code(r: Results) -> Outcome:
    """VAE minus the best Reed-Solomon outer-coded JPEG/PNG, MS-SSIM at equal nucleotides per image, at 2x and
    3x coverage (Holm), 3 seeds; the coverage where the classic overtakes is reported
    (:mod:`repro.experiments.equal_nucleotides` writes the evidence: one row per coverage and seed, the best
    classic chosen on validation images for each coverage)."""
    if not r.has(OUTER_CODE_CSV):
        raise MissingEvidence(
            f"{OUTER_CODE_CSV} is not written yet; the claim needs notebook 05's outer-code comparison at the cpu "
            f"profile (JPEG/PNG protected by Reed-Solomon outer codes at equal nucleotides per image, MS-SSIM at "
            f"2x and 3x coverage, 3 seeds)")
    rel = OUTER_CODE_CSV
    d = r.csv(rel)
    mi = r.baseline("mnist", "l2_per_pixel")
    floor = None if mi is None else psnr_of_mse(S.CLEARLY_BELOW * mi)
    pts = []
    for c in OUTER_CODE_COVERAGES:
        x = d[d.coverage == c]
        if x.empty:
            continue
        vae = x[["seed", "vae_ms_ssim"]].rename(columns={"vae_ms_ssim": "value"})
        classic = x[["seed", "classic_ms_ssim"]].rename(columns={"classic_ms_ssim": "value"})
        p = paired_point(f"{x.vae_label.iloc[0]} - best outer-coded JPEG/PNG MS-SSIM at {c:g}x", vae, classic)
        if floor is None:
            p.sanity_ok, p.sanity_note = None, "no MNIST mean-image baseline"
        else:  # the same sanity as the other DNA claims: the VAE is clearly better than the mean image
            ps = float(x.vae_psnr.mean())
            p.sanity_ok = ps > floor
            p.sanity_note = (f"VAE PSNR {ps:.1f} dB vs {floor:.1f} dB for {S.CLEARLY_BELOW} x the mean image's "
                             f"MSE")
        pts.append(p)
    if not pts:
        raise MissingEvidence(f"{rel} has no rows at {' or '.join(f'{c:g}x' for c in OUTER_CODE_COVERAGES)}")
    seeds = min(p.n_seeds for p in pts)
    v = combine_holm(pts) if seeds >= OUTER_CODE_MIN_SEEDS else "untested"
    mean = d.groupby("coverage")[["vae_ms_ssim", "classic_ms_ssim"]].mean().sort_index()
    over = mean.index[(mean.classic_ms_ssim >= mean.vae_ms_ssim).to_numpy()]
    classics = ", ".join(f"{c:g}x {lab}" for c, lab in
                         d.drop_duplicates("coverage")[["coverage", "classic_label"]].itertuples(index=False)
                         if c in OUTER_CODE_COVERAGES)
    why = (f"In {rel} at equal nucleotides per image ({d.vae_nt_per_image.mean():.0f} nt for the VAE, the best "
           f"classic chosen on validation images per coverage: {classics}), VAE minus classic MS-SSIM over seeds: "
           + "; ".join(f"{p.label.split(' at ')[1]} {ci_text(p)}" for p in pts)
           + (f"; Holm over the {len(pts)} coverages" if seeds >= OUTER_CODE_MIN_SEEDS else
              f"; the rule needs {OUTER_CODE_MIN_SEEDS} seeds, these have {seeds}")
           + (f"; the classic's mean MS-SSIM is at least the VAE's from {over.min():g}x" if len(over) else
              "; the classic never reaches the VAE's mean MS-SSIM in the swept coverages")
           + f"; {pts[0].sanity_note}.")
    frac, _ = _vae_fraction(r, rel)
    return Outcome(f"VAE - best outer-coded JPEG/PNG MS-SSIM at equal nt, "
                   f"{', '.join(f'{c:g}x' for c in OUTER_CODE_COVERAGES)}", pts, v, why, [rel], float("nan"), frac,
                   pts[0])


def _per_image(r: Results, rel: str) -> pd.DataFrame | None:
    per = rel.replace(".csv", "_per_image.csv")
    return r.csv(per) if r.has(per) else None


def _capped(frame: pd.DataFrame, base: float | None, value: str = "value") -> pd.DataFrame:
    """S2: a system is credited with min(its distortion, the mean image's)."""
    return frame if base is None else frame.assign(**{value: frame[value].clip(upper=base)})


def _method_points(r: Results, rel: str, dataset: str, better: str, worse: str, metric: str, unit: str,
                   noises=None, noise_col: str = "noise") -> list[Point]:
    """Per noise level: effect = worse - better (positive: ``better`` has lower distortion), under the sanity rules
    of CLAIMS.md: S1 (both systems below 0.9 x the mean image at the least noisy level, else every point fails
    sanity and the claim is untested), S2 (each system credited with min(distortion, mean image); a level where
    ``better`` itself is at or above the mean image is excluded: ``sanity_ok`` None)."""
    d = r.csv(rel)
    d = d[d.metric == metric]
    per = _per_image(r, rel)
    base = r.baseline(dataset, unit)
    levels = sorted(d[noise_col].unique()) if noises is None else noises
    least = d[d[noise_col] == min(d[noise_col].unique())]
    s1_ok, s1_note = r.sane(dataset, unit, {m: least[least.method == m].value.mean() for m in (better, worse)})
    s1_note = f"S1 at {noise_col} {least[noise_col].iloc[0]:g}: {s1_note}"
    pts = []
    for eps in levels:
        x = d[d[noise_col] == eps]
        a, b = x[x.method == worse], x[x.method == better]
        if a.empty or b.empty:
            continue
        pi = None
        if per is not None and {"method", "image", "distortion"} <= set(per.columns):
            pe = per[(per[noise_col] == eps)] if noise_col in per.columns else per
            pi = (pe[pe.method == worse], pe[pe.method == better])
        p = paired_point(f"{dataset} eps {eps:g}: {worse} - {better}", _capped(a, base), _capped(b, base),
                         per_image=pi)
        p.sanity_ok, p.sanity_note = s1_ok, s1_note
        if base is not None and (a.value >= base).any():
            p.sanity_note += f"; S2 cap used for {worse} ({a.value.max():.4g} >= {base:.4g})"
        if base is not None and b.value.mean() >= base:
            p.sanity_ok, p.sanity_note = None, f"excluded (S2): {better} {b.value.mean():.4g} >= mean image {base:.4g}"
        pts.append(p)
    return pts


def _necst_fraction(r: Results, rel: str, dataset: str) -> tuple[float, str]:
    return r.fraction(rel, "necst", dataset)


def m_beats_vae_ldpc(r: Results) -> Outcome:
    pts, srcs, fr = [], [], []
    for ds in ("binary_mnist", "omniglot"):
        rel = f"02_necst/figure3_left_{ds}.csv"
        if not r.has(rel):
            pts.append(Point(f"{ds}: {rel} missing (notebook 02 writes it)", float("nan"), n_seeds=0,
                             uncertainty="no results", sanity_ok=None))
            continue
        srcs.append(rel)
        pts += _method_points(r, rel, ds, "NECST", "VAE+LDPC", "l2_per_pixel", "l2_per_pixel_binarized")
        fr.append(_necst_fraction(r, rel, ds)[0])
    v, reading = holm_verdict(pts)
    missing = [p for p in pts if p.n_seeds == 0]
    if missing:  # a dataset without results: the claim over both datasets cannot be decided
        v = "untested"
    head = deciding_point(pts, v)
    ref = paper_numbers("necst", "Figure 3 left")
    s1 = sorted({p.sanity_note for p in pts if p.sanity_ok is False})
    why = (f"In {' and '.join(srcs)} (l2_per_pixel of the binarized output; each system credited with "
           f"min(distortion, mean image)), VAE+LDPC minus NECST per (dataset, eps), Holm over "
           f"{sum(r_ != 'excluded' for r_ in reading)}: "
           + "; ".join(f"{p.label.split(':')[0]} {ci_text(p)} ({rd})" for p, rd in zip(pts, reading)) + "")
    if s1:
        why += (f"; untested by S1, a system does not work at its least noisy point: {'; '.join(s1)}; a VAE+LDPC "
                f"baseline trained to work at eps 0 (longer training) would test it")
    excluded = [p for p in pts if p.sanity_ok is None and p.has_interval]
    if excluded:
        why += f"; excluded by S2: {', '.join(p.label.split(':')[0] for p in excluded)}"
    why += "."
    return Outcome("VAE+LDPC - NECST l2 per pixel (binarized), per dataset and eps", pts, v, why, srcs,
                   _paper_value(ref, "binary_mnist", "VAE+LDPC", 0) - _paper_value(ref, "binary_mnist", "NECST", 0),
                   float(np.nanmin(fr)) if fr else float("nan"), head)


def m_random_bits_exception(r: Results) -> Outcome:
    """CLAIMS.md: holds when NECST is significantly better than VAE + LDPC at eps 0 and not significantly better
    at eps 0.5; needs a baseline that passes S1."""
    rel = "02_necst/figure3_left_random_bits.csv"
    pts = _method_points(r, rel, "random_bits", "NECST", "VAE+LDPC", "l2_per_pixel", "l2_per_pixel_binarized",
                         noises=[0.0, 0.5])
    if len(pts) < 2:
        raise MissingEvidence(f"{rel} lacks eps 0 or eps 0.5 for NECST and VAE+LDPC")
    low, high = pts
    n_seeds = min(p.n_seeds for p in pts)
    fr, _ = _necst_fraction(r, rel, "random_bits")
    if low.sanity_ok is False:
        v = "untested"
        why = (f"In {rel} ({n_seeds} seeds) VAE+LDPC minus NECST at eps 0 is {ci_text(low)} and at eps 0.5 "
               f"{ci_text(high)}, but the VAE+LDPC baseline fails S1 ({low.sanity_note}): its discrete VAE carries "
               f"no information, so the exception is not tested; a VAE+LDPC that works at eps 0 would test it.")
    else:
        better_low = low.verdict == "holds"
        better_high = high.has_interval and high.lo > 0
        v = "holds" if better_low and not better_high else "fails" if low.verdict == "fails" or better_high else (
            "inconclusive")
        why = (f"In {rel} ({n_seeds} seeds) VAE+LDPC minus NECST: eps 0 {ci_text(low)} (significantly better: "
               f"{better_low}); eps 0.5 {ci_text(high)} (significantly better: {better_high}); {low.sanity_note}.")
    return Outcome("VAE+LDPC - NECST at eps 0 (> 0) and at eps 0.5 (not significantly > 0)", pts, v, why, [rel],
                   float("nan"), fr, low)


MIN_TIMING_REPEATS = 5  # CLAIMS.md: >= 5 recorded repeats for each timing
SPEEDUP_CPU, SPEEDUP_GPU = 5.0, 50.0  # CLAIMS.md: "about an order of magnitude" >= 5x; "two orders" >= 50x


def _timing(r: Results, device_filter, threshold: float) -> tuple[list[Point], list[str], list[str]]:
    """Per (dataset, mode): log10(LDPC-BP50 / NECST seconds per word) - log10(threshold), with a t-interval over
    >= 5 recorded timing repeats (a ``repeat`` column); without them the point has no interval."""
    pts, srcs, missing = [], [], []
    off = math.log10(threshold)
    for ds in ("binary_mnist", "omniglot", "random_bits"):
        rel = f"02_necst/figure3_right_{ds}.csv"
        if not r.has(rel):
            missing.append(rel)
            continue
        srcs.append(rel)
        d = r.csv(rel)
        d = d[device_filter(d.device)]
        for mode in sorted(d["mode"].unique()) if len(d) else []:
            x = d[d["mode"] == mode]
            ldpc, nec = x[x.method.str.startswith("LDPC")], x[x.method == "NECST"]
            if ldpc.empty or nec.empty:
                continue
            label = f"{ds} {mode}: log10 speedup - log10 {threshold:g}"
            if "repeat" in x.columns and x.repeat.nunique() >= MIN_TIMING_REPEATS:
                j = ldpc.merge(nec, on="repeat", suffixes=("_l", "_n"))
                logs = np.log10(j.seconds_per_word_l / j.seconds_per_word_n) - off
                m, lo, hi = seed_interval(logs)
                pts.append(Point(label, m, lo, hi, len(j), f"t-interval over {len(j)} timing repeats", True,
                                 "timing", off))
            else:
                n_rep = int(x.repeat.nunique()) if "repeat" in x.columns else 1
                sp = float(ldpc.seconds_per_word.mean() / nec.seconds_per_word.mean())
                pts.append(Point(label, math.log10(sp) - off, n_seeds=n_rep,
                                 uncertainty=f"{n_rep} recorded timing(s); the rule needs >= {MIN_TIMING_REPEATS}",
                                 sanity_ok=True, sanity_note="timing", offset=off))
    return pts, srcs, missing


def _timing_outcome(pts, srcs, where: str, threshold: float) -> Outcome:
    v = combine_all(pts)  # every (dataset, mode), batched and unbatched, must clear the threshold
    sp = {p.label.split(":")[0]: 10 ** (p.effect + p.offset) for p in pts}
    why = (f"{', '.join(srcs)}: NECST's decoder is " + ", ".join(f"{k} {s_:.1f}x" for k, s_ in sp.items())
           + f" faster than 50 BP iterations on {where}; the rule needs a speed-up >= {threshold:g}x in every mode "
           f"with >= {MIN_TIMING_REPEATS} recorded repeats each (a `repeat` column, one row per timed repeat, in "
           f"figure3_right_<dataset>.csv) and uses the lower interval bound"
           + ("; these timings record fewer repeats, so untested." if v == "untested" else
              ": " + "; ".join(f"{p.label.split(':')[0]} {ci_text(p, raw=True)} (log10 speedup)" for p in pts) + "."))
    head = min(pts, key=lambda p: p.effect)
    return Outcome(f"log10(LDPC-BP50 / NECST seconds per word) on {where}, lowest over datasets and modes (claim: "
                   f">= log10 {threshold:g})", pts, v, why, srcs, float("nan"), float("nan"), head)


def m_decoder_10x_cpu(r: Results) -> Outcome:
    pts, srcs, missing = _timing(r, lambda dev: dev == "cpu", SPEEDUP_CPU)
    if not pts:
        raise MissingEvidence(f"no CPU timing rows in {', '.join(srcs + missing)}")
    return _timing_outcome(pts, srcs, "CPU", SPEEDUP_CPU)


def m_decoder_100x_gpu(r: Results) -> Outcome:
    pts, srcs, missing = _timing(r, lambda dev: dev.astype(str).str.startswith("cuda"), SPEEDUP_GPU)
    if not pts:
        raise MissingEvidence(f"{', '.join(srcs + missing)} hold only CPU timings (device column); running notebook "
                              "02 with device=cuda on a GPU machine, with >= 5 recorded repeats, would test it")
    return _timing_outcome(pts, srcs, "GPU", SPEEDUP_GPU)


def m_webp_extra_bits(r: Results) -> Outcome:
    pts, srcs, notes, fr = [], [], [], []
    for ds in ("cifar10", "celeba32"):
        rel = f"02_necst/figure2_{ds}_per_image.csv"
        if not r.has(rel):
            continue
        srcs.append(rel)
        d = r.csv(rel)
        qmin = d.quality.min()
        censored = float((d[d.matched].quality == qmin).mean())
        target = float(d.target.mean())
        ok, note = r.sane(ds, "l2_per_image", {"NECST": target})
        if censored > 0.5:
            ok = False
            note = (f"WebP's smallest file (quality {qmin}) already meets NECST's distortion for "
                    f"{censored:.0%} of {ds} images (NECST {target:.0f} per image; {note}), so the extra bits are "
                    "set by WebP's minimum size, not by a match")
        notes.append(note)
        epss = sorted(d.eps.unique())
        for eps in epss:
            x = d[(d.eps == eps) & d.matched]
            lo, hi = S.bootstrap_mean_interval(x.extra_bits)
            pts.append(Point(f"{ds} eps {eps:g}: extra bits", float(x.extra_bits.mean()), lo, hi, 1,
                             f"bootstrap over {len(x)} test images", ok, note))
        for e0, e1 in zip(epss, epss[1:]):
            j = d[d.eps == e1].merge(d[d.eps == e0], on="image", suffixes=("_1", "_0"))
            diff = (j.extra_bits_1 - j.extra_bits_0).to_numpy()
            lo, hi = S.bootstrap_mean_interval(diff)
            pts.append(Point(f"{ds} eps {e1:g} - {e0:g}: extra-bit increase", float(diff.mean()), lo, hi, 1,
                             f"paired bootstrap over {len(j)} test images", ok, note))
        params_rel = f"02_necst/figure2_{ds}.csv"
        fr.append(_necst_fraction(r, params_rel, ds)[0])
    if not pts:
        raise MissingEvidence("02_necst/figure2_<dataset>_per_image.csv are missing; notebook 02 writes them")
    v = combine_all(pts)
    why = (f"{' and '.join(srcs)}: " + "; ".join(notes) + ". A NECST coder trained long enough that WebP must "
           "raise its quality to match it would test the claim." if v == "untested" else
           f"{' and '.join(srcs)}: " + "; ".join(f"{p.label} {ci_text(p)}" for p in pts) + ".")
    return Outcome("extra bits of WebP + ideal code over NECST per eps, and their increase with eps", pts, v, why,
                   srcs, float("nan"), float(np.nanmin(fr)) if fr else float("nan"), deciding_point(pts, v))


def qda_setting(repo: Path | None = None) -> str:
    """The QDA constructor of notebook 02, read from its source (the shrinkage behind Table 1's QDA row)."""
    path = (repo or repo_root()) / "notebooks" / "02_necst.py"
    if not path.exists():
        return "notebooks/02_necst.py not found"
    m = re.search(r"QuadraticDiscriminantAnalysis\(([^)]*)\)", path.read_text())
    return f"QuadraticDiscriminantAnalysis({m.group(1)})" if m else "QDA not found in notebooks/02_necst.py"


FEATURE_MIN_SIGNIFICANT = 4  # CLAIMS.md: at least 4 of the 7 classifiers significant (Holm) in one direction


def m_noise_improves_features(r: Results) -> Outcome:
    """CLAIMS.md: per classifier (KNN excepted), the accuracy gain of codes trained at eps 0.1 and 0.2 over eps-0
    codes, pooled over both eps and over MNIST and noisy MNIST, paired by seed; Holm over the classifiers;
    ``holds`` when at least 4 are significantly positive and none significantly negative, ``fails`` when at least 4
    are significantly negative, else ``inconclusive``."""
    rel = "02_necst/table1.csv"
    d = r.csv(rel)
    pts = []
    for clf in [m for m in d.method.unique() if m != "KNN"]:
        x = d[d.method == clf]
        gains = {}
        for var in ("mnist", "noisy_mnist"):
            xv = x[x.dataset == var]
            base = xv[xv.noise == 0.0].groupby("seed").value.mean()
            for eps in (0.1, 0.2):
                hi_ = xv[xv.noise == eps].groupby("seed").value.mean()
                for seed in sorted(set(base.index) & set(hi_.index)):
                    gains.setdefault(seed, []).append(float(hi_[seed] - base[seed]))
        if not gains:
            continue
        per_seed = [float(np.mean(v)) for v in gains.values()]
        m, lo, hi = seed_interval(per_seed)
        chance_ok = bool(x.value.min() > 0.1 + 0.1)
        pts.append(Point(f"{clf}: mean gain over eps 0.1/0.2 and MNIST/noisy MNIST", m, lo, hi, len(per_seed),
                         f"t-interval over {len(per_seed)} seeds" if len(per_seed) > 1 else "one seed",
                         chance_ok, "accuracies above chance (0.1) + 0.1"))
    if not pts:
        raise MissingEvidence(f"{rel} has no classifier rows at eps 0 and 0.1/0.2")
    if any(p.sanity_ok is False for p in pts) or min(p.n_seeds for p in pts) < 3:
        v, reading = "untested", ["untested"] * len(pts)
    else:
        _, reading = holm_verdict(pts)
        n_for, n_against = reading.count("for"), reading.count("against")
        v = ("holds" if n_for >= FEATURE_MIN_SIGNIFICANT and n_against == 0 else
             "fails" if n_against >= FEATURE_MIN_SIGNIFICANT else "inconclusive")
    fr, _ = _necst_fraction(r, rel, "mnist")
    converged, conv_note = _feature_models_convergence(r)
    why = (f"In {rel}, accuracy gain of eps 0.1/0.2 codes over eps-0 codes per classifier (KNN excepted), pooled "
           f"over both eps and MNIST / noisy MNIST, paired by seed; Holm over {len(pts)} classifiers: "
           + "; ".join(f"{p.label.split(':')[0]} {ci_text(p)} p={p.p_value:.2g} ({rd})" for p, rd in zip(pts, reading))
           + f"; {reading.count('for')} significantly positive, {reading.count('against')} significantly negative "
           f"(the rule needs >= {FEATURE_MIN_SIGNIFICANT} in one direction); QDA is {qda_setting()}. "
           f"Convergence: {conv_note}.")
    head = max(pts, key=lambda p: abs(p.effect) if not math.isnan(p.effect) else -1)
    return Outcome("accuracy gain of eps 0.1/0.2 codes over eps-0 codes, pooled, per classifier except KNN", pts, v,
                   why, [rel, FEATURE_HISTORY, "notebooks/02_necst.py"], float("nan"), fr, head,
                   converged=converged, convergence_note=conv_note)


FEATURE_HISTORY = "02_necst/training_history_mnist.csv"  # the validation curves of Table 1's NECST coders


def _feature_models_convergence(r: Results) -> tuple[bool | None, str]:
    """Converged (CLAIMS.md) for every NECST coder behind Table 1 (MNIST, eps 0 / 0.1 / 0.2, each seed): a
    validation plateau in its training history, or half the paper's image passes at the epochs it actually
    trained (``table1.csv`` holds accuracies, not distortions, so the paper-number criterion does not apply).
    ``None`` (judged by compute fraction alone) when the history is missing."""
    if not r.has(FEATURE_HISTORY):
        return None, f"{FEATURE_HISTORY} missing"
    h = r.csv(FEATURE_HISTORY)
    if "method" in h.columns:
        h = h[h.method == "NECST"]
    n = r.n_train("02_necst/table1.csv", "mnist")
    models = []
    for (eps, seed), g in h[h.eps.isin([0.0, 0.1, 0.2])].groupby(["eps", "seed"]):
        g = g.sort_values("epoch")
        frac = S.compute_fraction("necst", "mnist", float(g.epoch.max()), n)[0] if n is not None else None
        curve = g.val_l2_per_image.tolist() if "val_l2_per_image" in g.columns else None
        ok, why = model_converged(val_curve=curve, compute_fraction=frac)
        models.append((f"eps {eps:g} seed {int(seed)}", ok, why))
    if not models:
        return None, f"{FEATURE_HISTORY} has no NECST model at eps 0, 0.1 or 0.2"
    bad = [f"{name}: {why}" for name, ok, why in models if not ok]
    note = (f"{len(models) - len(bad)} of {len(models)} Table 1 coders converged ({FEATURE_HISTORY})"
            + (f"; not: {'; '.join(bad[:3])}{'; ...' if len(bad) > 3 else ''}" if bad else f"; e.g. {models[0][2]}"))
    return not bad, note


# ------------------------------------------------------------------------------------------ papers 001/004

IABF_DATASETS = ("binary_mnist", "mnist", "omniglot", "cifar10")


def _iabf_fraction(r: Results, ds: str) -> tuple[float, str]:
    return r.fraction(f"03_iabf/table1_{ds}.csv", "iabf", ds)


def _paper_value(ref: pd.DataFrame, dataset: str, method: str, noise: float) -> float:
    return float(ref[(ref.dataset == dataset) & (ref.method == method) & (ref.noise == noise)].value.iloc[0])


# CLAIMS.md, iabf.ordering: primary NECST - ABF and NECST - IABF at eps 0.1 on MNIST, binary MNIST and Omniglot
# (Holm over the 6); ABF - IABF secondary; other datasets and eps values are reported, not deciding.
ORDERING_EPS, ORDERING_DATASETS = 0.1, ("mnist", "binary_mnist", "omniglot")
ORDERING_PRIMARY, ORDERING_SECONDARY = (("NECST", "ABF"), ("NECST", "IABF")), (("ABF", "IABF"),)
# the unit of each dataset's Table 1 number in the paper (binary MNIST: Bernoulli cross-entropy, nats per pixel)
PAPER_UNIT = {"binary_mnist": "bce_per_pixel"}


def _model_convergence(r: Results, ds: str, table: pd.DataFrame, ref: pd.DataFrame, method: str, eps: float,
                       seed: int) -> tuple[bool, str]:
    """Converged (CLAIMS.md) for one trained model of notebook 03: its test value within 10 % of the paper's (in the
    paper's unit), a validation plateau in its training history, or half the paper's image passes."""
    unit = PAPER_UNIT.get(ds, "l2_per_image")
    test = table[(table.metric == unit) & (table.method == method) & (table.noise == eps) & (table.seed == seed)]
    paper = ref[(ref.dataset == ds) & (ref.method == method) & (ref.noise == eps) & (ref.metric == unit)]
    curve, epochs = None, None
    rel = f"03_iabf/training_history_{ds}.csv"
    if r.has(rel):
        h = r.csv(rel)
        g = h[(h.method == method) & (h.eps == eps) & (h.seed == seed)].sort_values("epoch")
        if len(g) and "val_l2_per_image" in g.columns:
            curve, epochs = g.val_l2_per_image.tolist(), float(g.epoch.max())
    n = r.n_train(f"03_iabf/table1_{ds}.csv", ds)
    frac = S.compute_fraction("iabf", ds, epochs, n)[0] if epochs is not None and n is not None else None
    return model_converged(test_value=float(test.value.iloc[0]) if len(test) else None,
                           paper_value=float(paper.value.iloc[0]) if len(paper) else None,
                           val_curve=curve, compute_fraction=frac)


def _abf_noise_note(r: Results, ds: str, srcs: list[str]) -> str:
    """Which training noise the dataset's ABF / IABF used (notebook 03's validation choice, when it made one)."""
    rel = f"03_iabf/abf_noise_choice_{ds}.csv"
    if not r.has(rel):
        return f"{ds}: attack, then the channel (the default; no validation choice)"
    srcs.append(rel)
    c = r.csv(rel)
    c = c[c.chosen.astype(bool) & (c.eps == ORDERING_EPS)]
    return f"{ds}: " + ", ".join(f"{row.method} {row.abf_noise}" for row in c.itertuples()) + " (chosen on validation)"


def m_iabf_ordering(r: Results) -> Outcome:
    pts, secondary, reported, srcs, frs, conv_notes, noise_notes = [], [], [], [], {}, [], []
    ref = paper_numbers("iabf", "Table 1")
    paper_eff = {}
    for ds in IABF_DATASETS:
        rel = f"03_iabf/table1_{ds}.csv"
        if not r.has(rel):
            continue
        srcs.append(rel)
        table = r.csv(rel)
        if ds in ORDERING_DATASETS:
            noise_notes.append(_abf_noise_note(r, ds, srcs))
        d = table[table.metric == "l2_per_image"]
        base = r.baseline(ds, "l2_per_image")
        for eps in sorted(d.noise.unique()):
            x = d[d.noise == eps]
            ms = {m: x[x.method == m] for m in ("NECST", "ABF", "IABF")}
            if any(v.empty for v in ms.values()):
                continue
            ok, note = r.sane(ds, "l2_per_image", {m: v.value.mean() for m, v in ms.items()})
            n_seeds = len(set(ms["NECST"].seed) & set(ms["ABF"].seed) & set(ms["IABF"].seed))
            epochs = _epochs_trained(r, ds, eps)
            budget = f"{epochs}, {n_seeds} seed{'s' if n_seeds != 1 else ''}"
            deciding = ds in ORDERING_DATASETS and eps == ORDERING_EPS
            # S2: each system credited with min(distortion, mean image)
            capped = {m: v.assign(value=v.value.clip(upper=base)) if base is not None else v for m, v in ms.items()}
            conv = {}
            if deciding:
                for m, v in ms.items():
                    for seed in sorted(v.seed.unique()):
                        conv[(m, seed)] = _model_convergence(r, ds, table, ref, m, eps, int(seed))
                bad = [f"{m} seed {s_}: {why}" for (m, s_), (c, why) in conv.items() if not c]
                conv_notes.append(f"{ds}: {len(conv) - len(bad)} of {len(conv)} models converged"
                                  + (f" (not: {bad[0]}{'; ...' if len(bad) > 1 else ''})" if bad else
                                     f" ({next(iter(conv.values()))[1]}, ...)"))
            for a, b in ORDERING_PRIMARY + ORDERING_SECONDARY:
                p = paired_point(f"{ds} eps {eps:g} ({budget}): {a} - {b}", capped[a], capped[b])
                p.sanity_ok, p.sanity_note = ok, note
                if base is not None and ms[b].value.mean() >= base:  # S2: the favoured system carries nothing
                    p.sanity_ok, p.sanity_note = None, (f"excluded (S2): {b} {ms[b].value.mean():.4g} >= mean image "
                                                        f"{base:.4g}")
                if deciding:
                    models = [conv[(m, s_)] for m in (a, b) for s_ in sorted(ms[m].seed.unique())]
                    p.converged = all(c for c, _ in models)
                    p.convergence_note = "; ".join(w for c, w in models if not c) or "all converged"
                rr = ref[(ref.dataset == ds) & (ref.noise == eps)].set_index("method").value
                if ds != "binary_mnist" and {a, b} <= set(rr.index):
                    paper_eff[p.label] = float(rr[a] - rr[b])
                (pts if deciding and (a, b) in ORDERING_PRIMARY else
                 secondary if deciding else reported).append(p)
        frs[ds] = _iabf_fraction(r, ds)[0]
    if not pts:
        raise MissingEvidence(f"03_iabf/table1_<dataset>.csv have no eps {ORDERING_EPS:g} point with NECST, ABF "
                              f"and IABF on {', '.join(ORDERING_DATASETS)}")
    v, reading = holm_verdict(pts)
    few = [p for p in pts if p.n_seeds < 3]
    if few:
        v = "untested"
    head = next((p for p, rd in zip(pts, reading) if rd == {"holds": "for", "fails": "against"}.get(v)), pts[0])
    converged = all(p.converged for p in pts)
    why = (f"Primary (CLAIMS.md): NECST - ABF and NECST - IABF at eps {ORDERING_EPS:g} on "
           f"{', '.join(ORDERING_DATASETS)} (03_iabf/table1_<dataset>.csv, l2_per_image, each system credited with "
           f"min(distortion, mean image)), Holm over {len(pts)}: "
           + "; ".join(f"{p.label} {ci_text(p)} p={p.p_value:.2g} ({rd})" for p, rd in zip(pts, reading))
           + (f"; {len(few)} primary point(s) have fewer than 3 seeds, so untested" if few else "")
           + ". Secondary, ABF - IABF: " + ("; ".join(f"{p.label} {ci_text(p)}" for p in secondary) or "none")
           + (". Reported, not deciding: " + "; ".join(f"{p.label} {ci_text(p)}" for p in reported)
              if reported else "")
           + ". ABF training noise: " + "; ".join(noise_notes)
           + ". Convergence: " + "; ".join(conv_notes)
           + f"; compute fraction {', '.join(f'{k} {fmt(v_, 2)}' for k, v_ in frs.items())}.")
    ds_head = head.label.split()[0]
    return Outcome(f"NECST - ABF and NECST - IABF test l2 per image at eps {ORDERING_EPS:g} (> 0 as the paper "
                   f"claims), Holm over {len(pts)}", pts + secondary + reported, v, why, srcs,
                   paper_eff.get(head.label, float("nan")), frs.get(ds_head, float("nan")), head, deciding=pts,
                   converged=converged, convergence_note="; ".join(conv_notes))


def _epochs_trained(r: Results, ds: str, eps: float) -> str:
    """How many epochs the models at (ds, eps) trained, from the training history (a range when they differ)."""
    rel = f"03_iabf/training_history_{ds}.csv"
    if not r.has(rel):
        return "epochs unknown"
    h = r.csv(rel)
    last = h[h.eps == eps].groupby(["method", "seed"]).epoch.max()
    if last.empty:
        return "epochs unknown"
    lo, hi = int(last.min()), int(last.max())
    return f"{lo} epochs" if lo == hi else f"{lo}-{hi} epochs"


def m_stable_validation(r: Results) -> Outcome:
    rel = "03_iabf/training_history_cifar10.csv"
    h = r.csv(rel)
    if "val_l2_per_image" not in h.columns:
        raise MissingEvidence(f"{rel} lacks val_l2_per_image")
    fr, _ = _iabf_fraction(r, "cifar10")
    pts = []
    for eps in sorted(h.eps.unique()):
        x = h[(h.eps == eps) & h.method.isin(["NECST", "IABF"])]
        n_ep = int(x.epoch.max())
        seeds = sorted(set(x[x.method == "NECST"].seed) & set(x[x.method == "IABF"].seed))
        if n_ep < MIN_CURVE_EPOCHS or len(seeds) < 2:
            pts.append(Point(f"eps {eps:g}: curves of {n_ep} epochs, {len(seeds)} seed(s)", float("nan"),
                             n_seeds=len(seeds), uncertainty="too short / too few seeds", sanity_ok=None))
            continue
        early = max(1, n_ep // 10)
        rows = {"early IABF - NECST": [], "late NECST - IABF": [], "late NECST - IABF epoch-to-epoch std": []}
        for s in seeds:
            c = {m: x[(x.method == m) & (x.seed == s)].sort_values("epoch").val_l2_per_image.to_numpy()
                 for m in ("NECST", "IABF")}
            rows["early IABF - NECST"].append(c["IABF"][:early].mean() - c["NECST"][:early].mean())
            late = n_ep // 2
            rows["late NECST - IABF"].append(c["NECST"][late:].mean() - c["IABF"][late:].mean())
            rows["late NECST - IABF epoch-to-epoch std"].append(np.diff(c["NECST"][late:]).std()
                                                                - np.diff(c["IABF"][late:]).std())
        for k, vals in rows.items():
            m, lo, hi = seed_interval(vals)
            pts.append(Point(f"eps {eps:g}: {k}", m, lo, hi, len(seeds), f"t-interval over {len(seeds)} seeds"))
    v = combine_all(pts)
    short = [p for p in pts if "curves of" in p.label]
    why = (f"{rel} holds " + ", ".join(p.label for p in short) + f" (paper: 500 epochs; compute fraction "
           f"{fmt(fr, 2)}); validation curves of >= {MIN_CURVE_EPOCHS} epochs for NECST and IABF with >= 2 seeds "
           "per eps would test early-vs-late behaviour." if short else
           f"{rel}: " + "; ".join(f"{p.label} {ci_text(p)}" for p in pts) + ".")
    return Outcome("IABF - NECST validation error early (> 0), NECST - IABF late and in late epoch-to-epoch std (> 0)",
                   pts, v, why, [rel], float("nan"), fr, deciding_point(pts, v))


MIN_CHAINS = 100  # CLAIMS.md: >= 100 chains per seed, 3 seeds, with S3


def m_chains_diverse(r: Results) -> Outcome:
    rel = "03_iabf/figure3_chain_diversity.csv"
    d = r.csv(rel)
    per_seed = d.groupby(["method", "seed"]).distinct_classes_visited.mean().reset_index(name="value")
    p = paired_point("IABF - NECST distinct classes per chain", per_seed[per_seed.method == "IABF"],
                     per_seed[per_seed.method == "NECST"])
    md = S.message_dependence(d)
    eps = float(d.noise.iloc[0]) if "noise" in d.columns else 0.1
    t1 = "03_iabf/table1_mnist.csv"
    if md is None:
        p.sanity_ok, p.sanity_note = None, (f"{rel} has no l2_to_source / l2_to_other columns, so the chains' "
                                            "message dependence is not checked")
    else:
        p.sanity_ok = md.passes
        p.sanity_note = (f"distortion to source {md.to_source:.3g} vs to another image {md.to_other:.3g}")
    converged, conv_note = None, ""
    if r.has(t1):
        table = r.csv(t1)
        t = table[(table.metric == "l2_per_image") & (table.noise == eps) & table.method.isin(["NECST", "IABF"])]
        ok, note = r.sane("mnist", "l2_per_image", t.groupby("method").value.mean().to_dict())
        if ok is False:
            p.sanity_ok, p.sanity_note = False, note
        # each chain's model judged converged on its own (CLAIMS.md), as iabf.ordering judges the same models
        ref = paper_numbers("iabf", "Table 1")
        models = {(m, int(s_)): _model_convergence(r, "mnist", table, ref, m, eps, int(s_))
                  for m, s_ in per_seed[["method", "seed"]].itertuples(index=False)}
        bad = [f"{m} seed {s_}: {w}" for (m, s_), (c, w) in models.items() if not c]
        converged = not bad
        conv_note = (f"{len(models) - len(bad)} of {len(models)} chain models converged"
                     + (f" (not: {'; '.join(bad)})" if bad else ""))
        p.converged, p.convergence_note = converged, conv_note
    counts = d.groupby(["method", "seed"]).size()
    n_seeds = int(per_seed.groupby("method").seed.nunique().min())
    short = []
    if counts.min() < MIN_CHAINS:
        short.append(f"{int(counts.min())} chains per seed (the rule needs >= {MIN_CHAINS})")
    if n_seeds < 3:
        short.append(f"{n_seeds} seed(s) (the rule needs 3)")
    v = p.verdict if not short else "untested"
    if md is None and not short:
        v = "untested"
    fr, _ = _iabf_fraction(r, "mnist")
    nb = d.groupby("method").distinct_classes_visited.mean()
    why = (f"In {rel}, chains visit {nb.get('IABF', float('nan')):.2f} (IABF) vs {nb.get('NECST', float('nan')):.2f} "
           f"(NECST) classes on average; IABF - NECST over seeds {ci_text(p)}; {p.sanity_note}"
           + (f"; untested: {', '.join(short)}; notebook 03 at the cpu profile counts {MIN_CHAINS} chains per seed"
              if short else "") + (f"; convergence: {conv_note}" if conv_note else "") + ".")
    return Outcome("IABF - NECST mean distinct classes visited per Markov chain (MNIST)", [p], v, why,
                   [rel, t1], float("nan"), fr, p, converged=converged, convergence_note=conv_note)


def official_permutation_is_identity(official: bool, bits: int = 100, n: int = 256) -> bool:
    """The code-level fact behind ``iabf.official_tc_defect``: does the TC discriminator of an IABF model built
    with the official code's behaviour (``official=True``) or ours see, as its "permuted" input, exactly its
    unpermuted input? Computed on seeded random codes, no training involved."""
    import torch

    from repro.models.iabf import Infomax
    from repro.systems import necst

    torch.manual_seed(0)
    model = necst.build_model("mnist", eps=0.1, method="IABF", official=official, bits=bits)
    infomax = next(m for m in model.modules() if isinstance(m, Infomax))
    codes = torch.randint(0, 2, (n, bits), generator=torch.Generator().manual_seed(1)).float()
    joint, permuted = infomax.discriminator_inputs(codes, torch.Generator().manual_seed(2))
    return bool(torch.equal(joint, permuted))


TC_MIN_SEEDS = 3  # CLAIMS.md: the discriminator loss at 2 log 2 over 3 seeds


def m_official_tc_defect(r: Results) -> Outcome:
    """CLAIMS.md: a code-level test (the official discriminator's "permuted" input equals its unpermuted input;
    ours differs) plus the official discriminator's final loss at 2 log 2 over 3 seeds."""
    off_identity, ours_identity = official_permutation_is_identity(True), official_permutation_is_identity(False)
    code_fact = off_identity and not ours_identity
    rel = "03_iabf/official_vs_ours.csv"
    d = r.csv(rel)
    d = d[d.method == "IABF"]
    if "budget" in d.columns:  # one budget for every seed (the ablation's); the main budget has the first seed only
        d = d[d.budget == "ablation"]
    off = d[d.variant == "official code"]
    if off.empty:
        raise MissingEvidence(f"{rel} lacks IABF rows of the official code (code-level test: the official "
                              f"discriminator's permuted input equals its input: {off_identity})")
    chance = 2 * math.log(2)
    losses = off.groupby("seed").final_disc_loss.mean()
    m, lo, hi = seed_interval((losses - chance).abs().to_numpy())
    p = Point("official discriminator: |final loss - 2 log 2| (nats)", m, lo, hi, len(losses),
              f"t-interval over {len(losses)} seeds" if len(losses) > 1 else "one seed", True,
              "a property of the code, not of model quality")
    if not code_fact:
        v = "fails"
    elif len(losses) < TC_MIN_SEEDS:
        v = "untested"
    else:  # the loss sits at chance: every seed within 0.01 nats of 2 log 2
        v = "holds" if hi < 0.01 else "inconclusive"
    why = (f"Code-level test (repro.bundle.claims.official_permutation_is_identity, seeded random codes): the "
           f"official code's discriminator sees its input as the permuted one: {off_identity}; ours: "
           f"{ours_identity}. In {rel} (eps {off.noise.iloc[0]:g}) the official discriminator ends at loss "
           + ", ".join(f"{x:.4f}" for x in losses) + f" (2 log 2 = {chance:.4f}) over {len(losses)} seed(s)"
           + (f"; the rule needs {TC_MIN_SEEDS} seeds: official_vs_ours.csv rows for seeds 0-2 (notebook 03's "
              f"official check per seed) would decide it." if len(losses) < TC_MIN_SEEDS else "."))
    return Outcome("code-level: official discriminator input unpermuted; |official final loss - 2 log 2|", [p], v, why,
                   [rel], float("nan"), float("nan"), p)


# ------------------------------------------------------------------------------------------ paper 003

BW = "04_bandwidth_awgn"


# Paper 003 states neither its epochs nor its training-set size, so notebook 04's compute fraction is measured
# against the bundle's own `paper` profile of that notebook (its epochs, the full training split, its width), in
# convolution work: epochs x images x width^2 over the same product for the reference.
BW_REFERENCE_PROFILE = "paper"


def _bw_fraction(r: Results, rel: str, key: str | None = None) -> tuple[float, str]:
    """Compute fraction of the models behind ``rel`` against notebook 04's ``paper`` profile: ``key`` names the
    epochs parameter (default: ``bl_epochs`` for the bandwidth-limited tables, else ``epochs``)."""
    from repro.bundle.profiles import resolve

    key = key or ("bl_epochs" if "figure5" in rel or "band_" in rel else "epochs")
    params = r.params(rel)
    e, n, width = r.epochs(rel, "celeba32", key), r.n_train(rel, "celeba32"), params.get("width")
    if key == "bl_epochs":  # Figure 5's models may be larger than the sweep's (bl_width, bl_n_train)
        width = params.get("bl_width") or width
        if "bl_n_train" in params:
            n = float(params["bl_n_train"]) if params["bl_n_train"] is not None else r.n_train("", "celeba32")
    ref = resolve(BW, BW_REFERENCE_PROFILE)
    full = r.n_train("", "celeba32")  # no run parameter: the full training split
    if e is None or n is None or width is None or full is None:
        return float("nan"), f"{rel}'s manifest entry lacks {key}, n_train or width"
    frac = (e * n * float(width) ** 2) / (float(ref[key]) * full * float(ref["width"]) ** 2)
    return float(frac), (f"{e:g} epochs x {n:g} images at width {width:g} against notebook 04's "
                         f"{BW_REFERENCE_PROFILE} profile ({ref[key]:g} epochs x {full:g} images at width "
                         f"{ref['width']:g}; the paper states no training length)")


def _best_beta(r: Results) -> tuple[str, pd.DataFrame]:
    rel = f"{BW}/figure7_all_betas_celeba32.csv"
    d = r.csv(rel)
    d = d[d.metric == "l2_per_image"]
    val = d[d.split == "val"].groupby(["system", "snr_db", "beta"]).value.mean().reset_index()
    best = val.loc[val.groupby(["system", "snr_db"]).value.idxmin(), ["system", "snr_db", "beta"]]
    test = d[d.split == "test"].merge(best, on=["system", "snr_db", "beta"])
    return rel, test


def _one_seed_why(rel: str, pts: list[Point], what: str) -> str:
    return (f"{rel} has one seed and no per-image CSV ({what}); >= 2 seeds or a per-image distortion CSV "
            "would give the interval")


def _bw_s1(r: Results, t: pd.DataFrame) -> tuple[bool | None, str]:
    """S1 for notebook 04's systems: joint and separate below 0.9 x the mean image at the highest SNR."""
    top = t[t.snr_db == t.snr_db.max()]
    ok, note = r.sane("celeba32", "l2_per_image", {s: top[top.system == s].value.mean() for s in ("joint", "separate")})
    return ok, f"S1 at {top.snr_db.iloc[0]:g} dB: {note}"


def m_joint_beats_separate(r: Results) -> Outcome:
    rel, t = _best_beta(r)
    base = r.baseline("celeba32", "l2_per_image")
    s1_ok, s1_note = _bw_s1(r, t)
    pts, capped_at = [], []
    for snr in sorted(t.snr_db.unique()):
        x = t[t.snr_db == snr]
        j, s = x[x.system == "joint"], x[x.system == "separate"]
        p = paired_point(f"SNR {snr:g} dB: separate - joint", _capped(s, base), _capped(j, base))
        p.sanity_ok, p.sanity_note = s1_ok, s1_note
        if base is not None and (s.value >= base).any():
            capped_at.append(f"{snr:g} dB (separate {s.value.mean():.1f})")
        if base is not None and j.value.mean() >= base:
            p.sanity_ok, p.sanity_note = None, f"excluded (S2): joint {j.value.mean():.4g} >= mean image {base:.4g}"
        pts.append(p)
    v, reading = holm_verdict(pts)
    fr, _ = _bw_fraction(r, rel)
    excluded = [p for p in pts if p.sanity_ok is None]
    why = (f"In {rel} (best beta per SNR chosen on validation; test l2 per image; each system credited with "
           f"min(distortion, mean image {fmt(base, 4)})), separate minus joint, Holm over {len(pts) - len(excluded)}: "
           + "; ".join(f"{p.label} {ci_text(p)} p={p.p_value:.2g} ({rd})" for p, rd in zip(pts, reading)
                       if p.sanity_ok is not None)
           + (f"; the S2 cap was used at {', '.join(capped_at)}" if capped_at else "")
           + (f"; excluded: {', '.join(p.label.split(':')[0] for p in excluded)}" if excluded else "")
           + f"; {s1_note}.")
    return Outcome("separate - joint test l2 per image at the best beta per SNR (S2-capped), Holm over SNRs", pts, v,
                   why, [rel], float("nan"), fr, deciding_point(pts, v))


def m_gap_shrinks(r: Results) -> Outcome:
    rel, t = _best_beta(r)
    base = r.baseline("celeba32", "l2_per_image")
    s1_ok, s1_note = _bw_s1(r, t)
    tc = _capped(t, base)
    piv = tc.pivot_table(index=["seed", "snr_db"], columns="system", values="value").reset_index()
    piv["gap"] = piv.separate - piv.joint
    snrs = sorted(piv.snr_db.unique())
    if len(snrs) < 3:
        raise MissingEvidence(f"{rel} has {len(snrs)} SNRs; the claim needs at least 3")
    inner = snrs[1:-1]
    mean_gap = piv.groupby("snr_db").gap.mean()
    interior_max = bool(mean_gap[inner].max() >= mean_gap[[snrs[0], snrs[-1]]].max())
    joint = t[t.system == "joint"].groupby("snr_db").value.mean()
    pts = []
    for end in (snrs[0], snrs[-1]):
        vals = []
        for _seed, g in piv.groupby("seed"):
            g = g.set_index("snr_db").gap
            vals.append(g[inner].max() - g[end])
        m, lo, hi = seed_interval(vals)
        p = Point(f"largest interior gap - gap at {end:g} dB", m, lo, hi, len(vals),
                  f"t-interval over {len(vals)} seeds" if len(vals) > 1 else "one seed, no per-image CSV",
                  s1_ok, s1_note)
        if base is not None and joint[end] >= base:
            p.sanity_ok, p.sanity_note = None, f"excluded (S2): joint {joint[end]:.4g} >= mean image {base:.4g}"
        pts.append(p)
    v, reading = holm_verdict(pts)
    if not interior_max and v == "holds":
        v = "fails"
    fr, _ = _bw_fraction(r, rel)
    desc = ", ".join(f"{k:g} dB {g_:.1f}" for k, g_ in mean_gap.items())
    why = (f"In {rel} (each system credited with min(distortion, mean image {fmt(base, 4)})), gap separate - joint "
           f"per SNR: {desc}; the largest mean gap is {'at an interior SNR' if interior_max else 'at an end'}; "
           f"Holm over the 2 ends: " + "; ".join(f"{p.label} {ci_text(p)} p={p.p_value:.2g} ({rd})"
                                                   for p, rd in zip(pts, reading)) + f"; {s1_note}.")
    return Outcome("largest interior joint-separate gap minus the gap at each end of the SNR range (S2-capped)", pts,
                   v, why, [rel], float("nan"), fr, deciding_point(pts, v))


def _bandwidth(r: Results) -> tuple[str, pd.DataFrame]:
    rel = f"{BW}/figure5_bandwidth_celeba32.csv"
    d = r.csv(rel)
    if "fill" not in d.columns:  # older tables: every row is a coder with its own prior
        d = d.assign(fill="own")
    return rel, d


def _band_rate_note(r: Results) -> str:
    rel = f"{BW}/band_rates_celeba32.csv"
    if not r.has(rel):
        return f"no {rel} (per-band rates) to show whether bands 3-5 carry information"
    d = r.csv(rel)
    d = d[d.variant.isin(["gaussian prior", "learned prior"])]
    m = d.groupby("band").rate_nats.mean()
    late = float(m[m.index >= 3].sum() / m.sum()) if m.sum() > 0 else float("nan")
    return (f"per-band rate (nats, {rel}): " + ", ".join(f"band {int(b)} {v:.0f}" for b, v in m.items())
            + f"; bands 3-5 carry {late:.0%} of the rate")


def m_linear_bandwidth(r: Results) -> Outcome:
    rel, d = _bandwidth(r)
    x = d[(d.metric == "l2_per_image") & (d.fill == "own") & d.variant.isin(["gaussian prior", "learned prior"])]
    pts = []
    curv = []
    for var, g in x.groupby("variant"):
        r2s, slopes, cs = [], [], []
        for _seed, gs in g.groupby("seed"):
            gs = gs.sort_values("bandwidth")
            fit = stats.linregress(gs.bandwidth, gs.value)
            r2s.append(fit.rvalue ** 2 - LINEAR_R2)
            slopes.append(-fit.slope)
            cs.append(float(np.polyfit(gs.bandwidth, gs.value, 2)[0]))
        ok, note = r.sane("celeba32", "l2_per_image", {var: g.value.max()})
        for lab, vals, off in ((f"{var}: R^2 - {LINEAR_R2}", r2s, LINEAR_R2), (f"{var}: -slope per band", slopes, 0)):
            m, lo, hi = seed_interval(vals)
            pts.append(Point(lab, m, lo, hi, len(vals), f"t-interval over {len(vals)} seeds" if len(vals) > 1
                             else "one seed, no per-image CSV", ok, note, off))
        m, lo, hi = seed_interval(cs)
        curv.append(f"{var} curvature {m:.2f} [{lo:.2f}, {hi:.2f}] per band^2")
    v = combine_all(pts)
    fr, _ = _bw_fraction(r, rel)
    desc = "; ".join(f"{p.label} {fmt(p.effect)}" for p in pts)
    why = (_one_seed_why(rel, pts, desc) if v == "untested" else
           f"In {rel}: " + "; ".join(f"{p.label} {ci_text(p)}" for p in pts))
    why += "; " + "; ".join(curv) + "; " + _band_rate_note(r) + "."
    return Outcome(f"R^2 of a line through distortion vs bandwidth B = 1..5 (claim: >= {LINEAR_R2}; slope < 0 in why)",
                   pts, v,
                   why, [rel], float("nan"), fr, deciding_point(pts, v))


def m_learned_prior(r: Results) -> Outcome:
    """CLAIMS.md, primary: two separately trained coders (the paper's design), the Gaussian-prior coder minus the
    learned-prior coder, gap > 0 at B = 1 and gap(B=1) - gap(B=4) > 0 (both must hold). The same-coder measure
    (the learned-prior coder with lost bands filled by N(0, I), inputs its decoder never saw) is secondary, in
    ``why`` only."""
    rel, d = _bandwidth(r)
    x = d[(d.metric == "l2_per_image") & (d.fill == "own")]
    g_all, l_all = x[x.variant == "gaussian prior"], x[x.variant == "learned prior"]
    if g_all.empty or l_all.empty:
        raise MissingEvidence(f"{rel} lacks separately trained Gaussian-prior and learned-prior coders (fill 'own')")
    lo_b, hi_b = 1, 4
    base = r.baseline("celeba32", "l2_per_image")
    top = int(x.bandwidth.max())
    s1_ok, s1_note = r.sane("celeba32", "l2_per_image", {
        "gaussian prior": g_all[g_all.bandwidth == top].value.mean(),
        "learned prior": l_all[l_all.bandwidth == top].value.mean()})
    s1_note = f"S1 at B={top}: {s1_note}"

    def gap(b):
        g, l_ = g_all[g_all.bandwidth == b], l_all[l_all.bandwidth == b]
        return (_capped(g, base).groupby("seed").value.mean() - _capped(l_, base).groupby("seed").value.mean())

    if not {lo_b, hi_b} <= set(x.bandwidth.unique()):
        raise MissingEvidence(f"{rel} lacks B={lo_b} or B={hi_b}")
    g1, g4 = gap(lo_b), gap(hi_b)
    m, lo, hi = seed_interval(g1.to_numpy())
    pts = [Point(f"B={lo_b}: gaussian-prior coder - learned-prior coder", m, lo, hi, len(g1),
                 f"t-interval over {len(g1)} seeds", s1_ok, s1_note)]
    seeds = sorted(set(g1.index) & set(g4.index))
    m, lo, hi = seed_interval((g1[seeds] - g4[seeds]).to_numpy())
    pts.append(Point(f"gap at B={lo_b} - gap at B={hi_b}", m, lo, hi, len(seeds), f"t-interval over {len(seeds)} "
                     "seeds", s1_ok, s1_note))
    v = combine_all(pts)
    fr, _ = _bw_fraction(r, rel)
    same = []
    lp = d[(d.metric == "l2_per_image") & (d.variant == "learned prior")]
    for b in sorted(lp.bandwidth.unique()):
        gf, own = lp[(lp.bandwidth == b) & (lp.fill == "gaussian")], lp[(lp.bandwidth == b) & (lp.fill == "own")]
        if len(gf) and len(own):
            same.append(f"B={b} {gf.value.mean() - own.value.mean():.2f}")
    why = (f"In {rel}, separately trained coders (the paper's design; each credited with min(distortion, mean "
           f"image)): " + "; ".join(f"{p.label} {ci_text(p)} ({p.verdict})" for p in pts) + f"; {s1_note}"
           + ("; secondary, same learned-prior coder with N(0, I) fills minus its own fills: " + ", ".join(same)
              if same else "") + ".")
    return Outcome(f"separately trained coders: Gaussian-prior minus learned-prior distortion at B={lo_b}, and the "
                   f"gap at B={lo_b} minus at B={hi_b}", pts, v, why, [rel], float("nan"), fr, pts[0])


ALV_FACTOR_DEFAULT = 1.25
ALV_MAX_RATIO = S.ALV_MAX_RATIO  # CLAIMS.md, bw.alv_lower_fid


ALV_CHOICE = f"{BW}/alv_choice_celeba32.csv"  # the ALV decoder chosen on the validation split (CLAIMS.md)


def _chosen_alv(r: Results, d: pd.DataFrame) -> tuple[str, float]:
    """The ALV decoder the claim uses and the run's distortion factor: the one chosen on the validation split
    (``alv_choice_celeba32.csv``); for runs written before that table, the one the run trained on every seed."""
    params = r.params(f"{BW}/figure5_bandwidth_celeba32.csv")
    if r.has(ALV_CHOICE):
        c = r.csv(ALV_CHOICE)
        chosen = c[c.chosen.astype(str) == "True"].variant.unique()
        if len(chosen) != 1:
            raise MissingEvidence(f"{ALV_CHOICE} marks {len(chosen)} decoders chosen, not one")
        return str(chosen[0]), float(params.get("alv_factor") or ALV_FACTOR_DEFAULT)
    name, factor = params.get("alv_variant"), float(params.get("alv_factor") or ALV_FACTOR_DEFAULT)
    labels = [v for v in d.variant.unique() if str(v).startswith("learned prior + ALV")]
    if name and f"learned prior + ALV ({name})" in labels:
        return f"learned prior + ALV ({name})", factor
    if "learned prior + ALV" in labels:
        return "learned prior + ALV", factor
    if not labels:
        raise MissingEvidence("no ALV decoder rows in figure5_bandwidth_celeba32.csv")
    return max(labels, key=lambda v: d[d.variant == v].seed.nunique()), factor


def m_alv_fid(r: Results) -> Outcome:
    rel, d = _bandwidth(r)
    d = d[d.fill == "own"]
    alv, _run_factor = _chosen_alv(r, d)
    factor = ALV_MAX_RATIO  # CLAIMS.md: "about unchanged" is ALV / no-ALV distortion <= 1.1 at every B
    base = "learned prior"
    pts = []
    l2 = d[d.metric == "l2_per_image"]
    other = d[d.metric == "l2_to_other"]
    baseline = r.baseline("celeba32", "l2_per_image")
    notes = []
    ok_all: bool | None = True
    for b in sorted(d.bandwidth.unique()):
        src = l2[(l2.variant == alv) & (l2.bandwidth == b)].value.mean()
        ref = l2[(l2.variant == base) & (l2.bandwidth == b)].value.mean()
        oth = other[(other.variant == alv) & (other.bandwidth == b)].value.mean()
        checks = {"below the mean image": S.below_baseline(src, baseline),
                  "below the distortion to another image": (bool(src < S.S3_FACTOR * oth)
                                                            if np.isfinite(oth) else None),
                  f"within x{factor:g} of no-ALV": bool(src <= factor * ref)}
        bad = [k for k, v in checks.items() if v is not True]
        ok = True if not bad else (None if all(checks[k] is None for k in bad) else False)
        if ok is not True:
            ok_all = False if ok is False else (None if ok_all is not False else False)
            notes.append(f"B={b}: not {', '.join(bad)} (to source {src:.1f}, to another image {oth:.1f}, "
                         f"no-ALV {ref:.1f}, mean image {baseline})")
        y = d[(d.bandwidth == b) & (d.metric == "fid")]
        p = paired_point(f"B={b}: FID no-ALV - ALV", y[y.variant == base], y[y.variant == alv])
        p.sanity_ok = ok
        p.sanity_note = (notes[-1] if ok is not True else
                         f"to source {src:.1f} < {S.S3_FACTOR} x another image {oth:.1f}, x{src / ref:.2f} of no-ALV")
        pts.append(p)
    v = combine_holm(pts)
    fr, _ = _bw_fraction(r, rel)
    ratios = [l2[(l2.variant == alv) & (l2.bandwidth == b)].value.mean()
              / l2[(l2.variant == base) & (l2.bandwidth == b)].value.mean() for b in sorted(d.bandwidth.unique())]
    why = (f"In {rel}, decoder '{alv}': " + "; ".join(f"{p.label} {ci_text(p)}" for p in pts)
           + f"; its distortion is x{min(ratios):.2f}-x{max(ratios):.2f} that of the no-ALV decoder")
    why += ("; sanity: " + "; ".join(notes) + "." if notes else
            f"; at every B it is below the mean image, below {S.S3_FACTOR} x its distortion to another test image "
            f"(S3), and within x{factor:g} of no-ALV.")
    plain = [v_ for v_ in d.variant.unique() if "ALV" in v_ and "plain" in v_ and v_ != alv]
    for v_ in plain:  # the paper's eq. 9 as written, beside the regularised decoder the verdict uses
        fp = d[(d.variant == v_) & (d.metric == "fid")].groupby("bandwidth").value.mean()
        lp = l2[l2.variant == v_].groupby("bandwidth").value.mean()
        why += (f" Eq. 9 as written ('{v_}'): FID " + ", ".join(f"B={b} {x:.1f}" for b, x in fp.items())
                + "; distortion " + ", ".join(f"B={b} {x:.1f}" for b, x in lp.items()) + ".")
    sources = [rel]
    if r.has(ALV_CHOICE):
        why += f" The decoder was chosen on the validation split ({ALV_CHOICE}), before the test split was scored."
        sources.append(ALV_CHOICE)
    return Outcome("FID(no ALV) - FID(ALV) per bandwidth, learned prior, ALV decoder that passes message dependence",
                   pts, v, why, sources, float("nan"), fr, deciding_point(pts, v))


def m_relaxed_binary(r: Results) -> Outcome:
    rel = f"{BW}/appendix_c_binary_celeba32.csv"
    d = r.csv(rel)
    if "seed" not in d.columns:
        d = d.assign(seed=0)
    vals, finals = [], []
    for _seed, g in d.groupby("seed"):
        g = g.sort_values("epoch")
        vals.append(1 - g.val_l2_hard_bsc.min() / g.val_l2_hard_bsc.iloc[0])  # CLAIMS.md: first vs best epoch
        finals.append(float(g.test_l2_hard_bsc_final.iloc[-1]))
    m, lo, hi = seed_interval(vals)
    ok, note = r.sane("celeba32", "l2_per_image", {"relaxed-binary test": float(np.mean(finals))})
    p = Point("relative fall of validation l2 (hard BSC) from the first to the best epoch", m, lo, hi, len(vals),
              f"t-interval over {len(vals)} seeds" if len(vals) > 1 else "one seed, no per-image CSV", ok, note)
    fr, _ = _bw_fraction(r, rel, key="binary_epochs")
    why = (f"In {rel} the validation distortion through the hard BSC falls by {m:.0%} over "
           f"{int(d.epoch.max())} epochs to a test l2 of {np.mean(finals):.1f} ({note})"
           + ("; one seed: >= 2 seeds would give the interval." if not p.has_interval else f"; {ci_text(p)}."))
    return Outcome("relative fall of the hard-BSC validation distortion over training", [p], p.verdict, why, [rel],
                   float("nan"), fr, p)


MEASURES: dict[str, Callable[[Results], Outcome]] = {
    "gdna.vaen_beats_vaeu_bsc": m_vaen_beats_vaeu_bsc,
    "gdna.classic_fail_bsc": m_classic_fail_bsc,
    "gdna.vae_10x_smaller": m_vae_10x_smaller,
    "gdna.graceful_low_coverage": m_graceful_low_coverage,
    "gdna.classic_better_high_coverage": m_classic_better_high_coverage,
    "gdna.vaen_beats_vaeu_dna": m_vaen_beats_vaeu_dna,
    "gdna.graceful_vs_outer_code": m_graceful_vs_outer_code,
    "necst.beats_vae_ldpc_images": m_beats_vae_ldpc,
    "necst.random_bits_exception": m_random_bits_exception,
    "necst.decoder_10x_cpu": m_decoder_10x_cpu,
    "necst.decoder_100x_gpu": m_decoder_100x_gpu,
    "necst.webp_needs_extra_bits": m_webp_extra_bits,
    "necst.noise_improves_features": m_noise_improves_features,
    "iabf.ordering": m_iabf_ordering,
    "iabf.stable_validation": m_stable_validation,
    "iabf.chains_diverse": m_chains_diverse,
    "iabf.official_tc_defect": m_official_tc_defect,
    "bw.joint_beats_separate": m_joint_beats_separate,
    "bw.gap_shrinks_at_extremes": m_gap_shrinks,
    "bw.distortion_linear_in_bandwidth": m_linear_bandwidth,
    "bw.learned_prior_helps_low_bandwidth": m_learned_prior,
    "bw.alv_lower_fid": m_alv_fid,
    "bw.relaxed_binary_trains": m_relaxed_binary,
}
assert set(MEASURES) == set(CLAIM_IDS)

# The rule that decides each claim, in this project's words (pre-registered: fixed before the runs that test it; a
# rule changes here first, with its reason, and every verdict is recomputed). The thresholds are the constants the
# measures use. The site's rules page is generated from this table and the general rules of repro.bundle.verdict.
RULES: dict[str, str] = {
    "gdna.vaen_beats_vaeu_bsc":
        f"At N_bit {TABLE_NBIT_DEFAULT}, VAEN minus VAEU after BSC(0.05) must be positive in MS-SSIM, PSNR and ACC: "
        "three points, Holm-corrected.",
    "gdna.classic_fail_bsc":
        f"Every JPEG/PNG setting's failure rate has a Clopper-Pearson lower bound of at least {FAIL_THRESHOLD} "
        f"('fail' read as at least {FAIL_THRESHOLD:.0%} of files undecodable).",
    "gdna.vae_10x_smaller":
        f"The smallest JPEG/PNG file over a VAEN image's size exceeds {TENFOLD:g} at N_bit {TABLE_NBIT_DEFAULT}; "
        "sizes with log sigma stored and with mu only are both reported, and the verdict uses mu only, which is "
        "all the decoder reads.",
    "gdna.graceful_low_coverage":
        f"At {LOW_COVERAGE:g}x coverage, the JPEG/PNG failure rate is above {MOST_THRESHOLD} (its interval) and the "
        "VAE's MS-SSIM minus the best classic format's is positive.",
    "gdna.classic_better_high_coverage":
        "At the lowest coverage where JPEG and PNG recover every file, the best classic format's MS-SSIM minus the "
        "best VAE's is positive.",
    "gdna.vaen_beats_vaeu_dna":
        f"VAEN minus VAEU MS-SSIM at {' and '.join(f'{c:g}x' for c in VAEN_DNA_COVERAGES)} coverage, Holm-corrected, "
        f"with at least {VAEN_DNA_MIN_SEEDS} seeds (the paper's claim is qualitative, so it asks for more seeds).",
    "gdna.graceful_vs_outer_code":
        "VAE minus the best Reed-Solomon outer-coded JPEG/PNG MS-SSIM at equal nucleotides per image (the classic "
        f"format chosen on validation images), at {' and '.join(f'{c:g}x' for c in OUTER_CODE_COVERAGES)} coverage "
        f"(Holm), at least {OUTER_CODE_MIN_SEEDS} seeds; the coverage where the classic format overtakes is "
        "reported.",
    "necst.beats_vae_ldpc_images":
        "The multi-point rule over every (dataset, eps) point of binary MNIST and Omniglot, with the sanity rules "
        "S1 and S2.",
    "necst.random_bits_exception":
        "Holds when NECST is significantly better than VAE + LDPC at eps 0 and not significantly better at eps 0.5; "
        "needs a VAE + LDPC baseline that passes S1.",
    "necst.decoder_10x_cpu":
        f"A CPU speed-up of at least {SPEEDUP_CPU:g}x over 50 BP iterations, batched and unbatched, judged by the "
        f"lower interval bound over at least {MIN_TIMING_REPEATS} recorded timing repeats each.",
    "necst.decoder_100x_gpu":
        f"A speed-up of at least {SPEEDUP_GPU:g}x on CUDA, with the same repeats rule as on CPU.",
    "necst.webp_needs_extra_bits":
        "Needs WebP points at NECST's distortion (lower qualities or downscaling when the lowest quality is still "
        "too good); without them the claim is untested, and the row says so.",
    "necst.noise_improves_features":
        "Per classifier except KNN, the accuracy gain of codes trained at eps 0.1 and 0.2 over eps-0 codes (pooled, "
        f"paired by seed), Holm over the classifiers: holds when at least {FEATURE_MIN_SIGNIFICANT} are "
        f"significantly positive and none significantly negative, fails when at least {FEATURE_MIN_SIGNIFICANT} are "
        "significantly negative, else inconclusive.",
    "iabf.ordering":
        "Primary: NECST minus ABF and NECST minus IABF test distortion at eps 0.1 on MNIST, binary MNIST and "
        "Omniglot, the multi-point rule over the 6 points; ABF minus IABF is reported as secondary.",
    "iabf.stable_validation":
        f"Needs validation curves of at least {MIN_CURVE_EPOCHS} epochs with at least 2 seeds, for NECST and IABF.",
    "iabf.chains_diverse":
        f"IABF minus NECST distinct classes visited per Markov chain, at least {MIN_CHAINS} chains per seed and 3 "
        "seeds, with the message-dependence rule S3.",
    "iabf.official_tc_defect":
        "A code-level test (the official discriminator's 'permuted' input equals its unpermuted input) together "
        f"with the discriminator's loss at 2 log 2 over {TC_MIN_SEEDS} seeds.",
    "bw.joint_beats_separate":
        "The multi-point rule over the 5 SNRs (best beta per SNR, chosen on the validation split), with S1 and S2.",
    "bw.gap_shrinks_at_extremes":
        "The largest separate-minus-joint gap lies at an interior SNR, and that gap minus the gap at each end is "
        "positive (Holm over the 2 ends).",
    "bw.distortion_linear_in_bandwidth":
        f"For each prior, a straight line through distortion against bandwidth B = 1..5 has R^2 of at least "
        f"{LINEAR_R2}.",
    "bw.learned_prior_helps_low_bandwidth":
        "Primary, with separately trained coders (the paper's design): the Gaussian-prior minus learned-prior gap is "
        "positive at B = 1, and the gap at B = 1 minus the gap at B = 4 is positive; the same-coder measure is "
        "secondary.",
    "bw.alv_lower_fid":
        f"The multi-point rule on FID over every bandwidth; the ALV decoder's distortion at most {ALV_MAX_RATIO} x "
        "the decoder's without ALV at every B; S3. The row names the ALV variant and reports the paper's eq. 9 as "
        "written beside any regularised one.",
    "bw.relaxed_binary_trains":
        f"The validation distortion falls (first against best epoch) and ends below {S.CLEARLY_BELOW} x the mean "
        "image.",
}
assert set(RULES) == set(CLAIM_IDS)


# ------------------------------------------------------------------------------------------ the ledger

def load_baselines(root: Path) -> pd.DataFrame | None:
    path = Path(root) / BASELINES_CSV
    return pd.read_csv(path) if path.exists() else None


BASELINES_CSV = "sanity_mean_image.csv"


def evaluate(root, baselines: pd.DataFrame | None = None,
             commit: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(ledger rows, points) computed from the results under ``root``.

    ``commit`` fills the ledger's ``commit`` column (default: the repository's commit now); the drift check
    (:mod:`repro.bundle.drift`) passes the committed ledger's, so a ledger regenerated later can equal it.
    """
    root = Path(root)
    if baselines is None:
        baselines = load_baselines(root)
    r = Results(root, baselines)
    from repro.bundle.results import git_commit

    profile, commit = r.profile_commit[0], commit or git_commit()
    rows, prows = [], []
    for c in CLAIMS:
        try:
            o = MEASURES[c.id](r)
        except MissingEvidence as e:
            o = Outcome("not measured", [], "untested", f"Untested: {e}.", [], float("nan"), float("nan"), None)
        h = o.headline
        if o.verdict not in VERDICTS:
            raise ConfigError(f"claim {c.id}: unknown verdict {o.verdict!r}; valid: {', '.join(VERDICTS)}")
        trained = c.id not in UNTRAINED
        converged, conv_note = o.converged, o.convergence_note
        if converged is None and trained:  # no per-model check in this measure: the compute-fraction criterion
            cf = o.compute_fraction
            converged = bool(not math.isnan(cf) and cf >= 0.5)
            conv_note = (f"judged by compute fraction alone ({fmt(cf, 2)}; >= 0.5 converges)" if not math.isnan(cf)
                         else "no compute fraction (the paper states no training length for it)")
            conv_note += "; this measure does not yet check per-model validation plateaus or paper numbers"
        row_standing = standing(converged, trained)
        why = o.why
        if trained and o.verdict != "untested":
            why = (f"{why} Standing {row_standing}: {conv_note}." if o.converged is None
                   else f"{why} Standing {row_standing}.")
        sanity = [p.sanity_ok for p in (o.points if o.deciding is None else o.deciding)]
        sanity_ok = (None if not sanity or any(s is None for s in sanity) and not any(s is False for s in sanity)
                     else all(s is True for s in sanity))
        rows.append(dict(
            claim_id=c.id, paper=c.paper, notebook=c.notebook, statement=c.statement, measure=o.measure,
            ours=h.effect + h.offset if h else float("nan"), ours_ci_low=h.lo + h.offset if h else float("nan"),
            ours_ci_high=h.hi + h.offset if h else float("nan"), paper_value=o.paper_value,
            n_seeds=h.n_seeds if h else 0, uncertainty=h.uncertainty if h else "none",
            compute_fraction=o.compute_fraction, converged=converged if trained else "",
            sanity_ok=sanity_ok, verdict=o.verdict, standing=row_standing, why=why,
            sources=";".join(o.sources), profile=profile, commit=commit))
        for p in o.points:
            prows.append(dict(claim_id=c.id, point=p.label, effect=p.effect, ci_low=p.lo, ci_high=p.hi,
                              p_value=p.p_value, threshold=p.offset, n_seeds=p.n_seeds, uncertainty=p.uncertainty,
                              sanity_ok=p.sanity_ok, sanity_note=p.sanity_note,
                              converged="" if p.converged is None else p.converged,
                              convergence_note=p.convergence_note, verdict=p.verdict))
    return pd.DataFrame(rows, columns=COLUMNS), pd.DataFrame(prows, columns=POINT_COLUMNS)


def ledger(root, baselines: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ledger rows (one per claim) for the results folder ``root`` (e.g. ``figures/``)."""
    return evaluate(root, baselines)[0]


def rows_for(notebook: str, root, baselines: pd.DataFrame | None = None) -> pd.DataFrame:
    """The ledger rows of one notebook, for it to display its own claims."""
    check_choice("notebook", notebook, NOTEBOOKS)
    led = ledger(root, baselines)
    return led[led.notebook == notebook].reset_index(drop=True)


def points(root, claim_id: str | None = None, baselines: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every measured point behind the ledger (optionally of one claim)."""
    pts = evaluate(root, baselines)[1]
    if claim_id is not None:
        check_choice("claim id", claim_id, CLAIM_IDS)
        pts = pts[pts.claim_id == claim_id]
    return pts.reset_index(drop=True)
