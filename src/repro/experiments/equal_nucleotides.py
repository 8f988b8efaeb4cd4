"""VAE latents against outer-coded JPEG / PNG at equal nucleotides per image (notebook 05; claim
``gdna.graceful_vs_outer_code``).

Paper 000 compares VAE latents with JPEG and PNG files stored without any outer code. Systems in use protect files
with Reed-Solomon parity across oligos, paid for in nucleotides. This module asks the question at **equal
nucleotides per image**:

- **The budget** (fixed before any result): the nucleotides per image of paper 000's system, VAEN latents at
  ``N_bit`` 8 without an outer code (:data:`BUDGET_N_BIT`), measured on the same images.
- **VAE arms**: ``VAEN 8-bit`` (the budget itself; the claim's VAE) and a *light outer code* at the same budget:
  VAEN at :data:`LIGHT_N_BIT` bits with the largest listed redundancy that fits.
- **Classic arms**: JPEG or PNG **mosaics** of ``group`` images (one header per group;
  :func:`repro.dna.storage.mosaic_payload`), optionally downscaled, protected at a redundancy from the list; for each
  (format, scale, redundancy) the highest JPEG quality whose pool fits the budget (PNG: the variant fits or not).
- **Choice on validation**: the coverage sweep runs on validation images first; at each coverage the classic arm
  with the highest mean validation MS-SSIM over seeds is *the best outer-coded classic* (:func:`select_classic`).
  Its (format, scale, redundancy) is then stored for the test images with the highest quality that fits there.
- **Read side**: the same simulator, clustering, consensus and inner decoder as every other method
  (:func:`repro.dna.pipeline.retrieve`), then the outer decoder (:func:`repro.dna.storage.unprotect`), then the
  image decoder. Seeds: the VAE model seed and the channel seed are the same number.

Tables: :func:`sweep` (tidy, one row per arm, seed and coverage), :func:`select_classic`, :func:`claim_table` (what
the ledger reads: ``05_dna_storage/outer_code.csv``), :func:`recovery_table` (the coverage where each arm reaches 95 %
of its error-free MS-SSIM, and nt synthesised x coverage per image there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from repro.core.checks import ConfigError, check_range
from repro.core.runtime import progress
from repro.dna import codec, pipeline, storage
from repro.dna.decoder import RecoveredFile
from repro.experiments import dna_storage as ds
from repro.systems import vae_storage as vs

BUDGET_N_BIT = 8  # the budget: VAEN at this N_bit, no outer code (paper 000's system)
LIGHT_N_BIT = 6  # the VAE with a light outer code: fewer bits, parity in the nucleotides saved
RECOVERY_FRACTION = 0.95  # "full-recovery quality" reached: mean MS-SSIM >= this x the error-free MS-SSIM
CLAIM_COVERAGES = (2.0, 3.0)  # the claim's points (CLAIMS.md)


@dataclass
class Arm:
    """One stored variant at the budget: the method (payload possibly protected, its pool) and its settings."""

    method: ds.Method
    kind: str  # "vae" or "classic"
    family: str
    setting: int | None  # N_bit or JPEG quality
    scale: int
    redundancy: float

    @property
    def label(self) -> str:
        return self.method.label

    @property
    def nt_per_image(self) -> float:
        return self.method.pool.nucleotides / self.method.payload.n_images

    @property
    def choice(self) -> tuple:
        """What validation chooses for a classic arm: (format, scale, redundancy)."""
        return (self.family, self.scale, self.redundancy)


def row_bytes(payload_nt: int) -> int:
    """The most bytes one oligo carries (every byte costs at least the Huffman code's shortest codeword)."""
    return payload_nt // codec.HUFFMAN.min_len


def _stored(payload: storage.MethodPayload, redundancy: float, payload_nt: int) -> ds.Method:
    protected = storage.protect(payload, redundancy, row_bytes(payload_nt)) if redundancy > 0 else payload
    return ds.Method(protected, ds.store(protected, payload_nt))


def vae_arms(gamma_train: torch.Tensor, gamma: torch.Tensor, pixels: int, quant_range: float, payload_nt: int,
             redundancies) -> tuple[list[Arm], float]:
    """The VAE arms for one model's latents ``gamma`` and the budget (nt per image of VAEN ``BUDGET_N_BIT``)."""
    arms, budget = [], None
    for n_bit, reds in ((BUDGET_N_BIT, [0.0]), (LIGHT_N_BIT, sorted((r for r in redundancies if r > 0),
                                                                     reverse=True))):
        quantizer = vs.make_quantizer("VAEN", n_bit, gamma_train, quant_range)
        fill = storage.mean_fill("VAEN", quantizer, gamma.shape[1])
        payload = storage.vae_payload("VAEN", quantizer, gamma, pixels, "packed")
        for r in reds:
            m = _stored(payload, r, payload_nt)
            m.quantizer, m.fill = quantizer, fill
            arm = Arm(m, "vae", "VAEN", n_bit, 1, r)
            if budget is None:
                budget = arm.nt_per_image
            if arm.nt_per_image <= budget:
                arms.append(arm)
                break
    return arms, budget


def classic_arms(images: torch.Tensor, budget: float, payload_nt: int, *, qualities, scales, redundancies,
                 group: int, only: tuple | None = None) -> list[Arm]:
    """Every (format, scale, redundancy) that fits ``budget`` nt per image, each at the highest JPEG quality that
    fits (``only``: just that choice)."""
    check_range("nucleotide budget per image", budget, 1.0, 1e9)
    arms = []
    for family in ("JPEG", "PNG"):
        for scale in scales:
            for r in redundancies:
                if only is not None and (family, scale, r) != tuple(only):
                    continue
                for q in (sorted(qualities, reverse=True) if family == "JPEG" else [None]):
                    payload = storage.mosaic_payload(images, family, q, group, scale)
                    if payload.total_bytes * (1 + r) * codec.HUFFMAN.min_len / payload.n_images > budget:
                        continue  # a lower bound on its nt per image is over the budget: no need to encode it
                    m = _stored(payload, r, payload_nt)
                    if m.pool.nucleotides / payload.n_images <= budget:
                        arms.append(Arm(m, "classic", family, q, scale, r))
                        break
    if not arms:
        raise ConfigError(
            f"no JPEG/PNG mosaic fits the budget of {budget:.1f} nt per image with qualities {list(qualities)}, "
            f"scales {list(scales)}, redundancies {list(redundancies)} and {group} images per file"
            + (f" for the choice {tuple(only)}" if only is not None else "")
            + ": allow lower qualities, larger scales or larger groups (outer_qualities, outer_scales, outer_group)")
    return arms


def restore(arm: Arm, files: list[RecoveredFile], model, shape) -> tuple[torch.Tensor, dict]:
    """Recovered (protected) files -> images and what happened (``complete_images`` over the data files,
    ``decode_failures``, ``wrong_known_bytes`` after the outer code, the outer code's counts)."""
    inner, data_files, outer = storage.unprotect(arm.method.payload, files)
    method = ds.Method(inner, arm.method.pool, arm.method.quantizer, arm.method.fill)
    if arm.kind == "vae":
        x_hat, info = ds.restore(method, data_files, model, shape)
    else:
        x_hat, failed = storage.images_from_mosaics(inner, data_files, tuple(shape))
        exact = ds.exact_images(inner, data_files)
        per_image = np.repeat(exact, inner.extra["group"])[: inner.n_images]
        info = dict(complete_images=float(per_image.mean()), erased_values=np.nan,
                    decode_failures=float(failed.mean()), wrong_known_bytes=ds.wrong_known_bytes(inner, data_files))
    info = {k: v for k, v in info.items() if k != "failed"}
    return x_hat, {**info, **{k: outer.get(k, 0) for k in OUTER_COLUMNS}}


OUTER_COLUMNS = ("outer_codewords_recovered", "outer_codewords_failed", "outer_codewords_inconsistent",
                 "outer_files_recovered")


def sweep(*, split: str, images, models: dict, arms_for_seed, coverages, channel: pipeline.Channel,
          scorer: ds.Scorer) -> pd.DataFrame:
    """Every arm (``arms_for_seed(seed)``), seed (``models``: seed -> VAE) and coverage, plus the error-free
    reference (coverage inf): one row each with MS-SSIM, PSNR and the recovery counts."""
    rows, shape = [], tuple(images.shape[1:])
    for seed, model in models.items():
        for arm in progress(arms_for_seed(seed), desc=f"{split} seed {seed}"):
            payload, pool = arm.method.payload, arm.method.pool
            base = dict(split=split, label=arm.label, kind=arm.kind, family=arm.family, setting=arm.setting,
                        scale=arm.scale, redundancy=arm.redundancy, nt_per_image=arm.nt_per_image,
                        bytes_per_image=payload.bytes_per_image, oligos=pool.n_oligos, seed=seed)
            x_hat, info = restore(arm, [RecoveredFile.exact(f) for f in payload.files], model, shape)
            rows.append({**base, "coverage": math.inf, "reads": 0, **info, **scorer(x_hat)})
            for cov in coverages:
                got = pipeline.retrieve(pool, payload, cov, channel, seed)
                x_hat, info = restore(arm, got.files, model, shape)
                rows.append({**base, "coverage": float(cov), "reads": got.reads,
                             "oligos_recovered": got.report.oligos_recovered, **info, **scorer(x_hat)})
    return pd.DataFrame(rows)


def select_classic(val: pd.DataFrame) -> pd.DataFrame:
    """Per coverage, the classic arm with the highest mean validation MS-SSIM over seeds: its format, scale and
    redundancy (the choice carried to the test images)."""
    cl = val[(val.kind == "classic") & np.isfinite(val.coverage)]
    mean = cl.groupby(["coverage", "family", "scale", "redundancy", "label"], dropna=False).ms_ssim.mean()
    best = mean.reset_index().sort_values(["coverage", "ms_ssim", "redundancy"], ascending=[True, False, True])
    return (best.groupby("coverage").head(1).rename(columns={"ms_ssim": "val_ms_ssim", "label": "val_label"})
            .reset_index(drop=True))


def claim_table(test: pd.DataFrame, choice: pd.DataFrame) -> pd.DataFrame:
    """One row per (coverage, seed): the claim's VAE (VAEN ``BUDGET_N_BIT``, no outer code), the VAE with the
    light outer code, and the best outer-coded classic chosen on validation for that coverage, with their nt per
    image. This is ``outer_code.csv``, the ledger's evidence."""
    rows = []
    vae = test[(test.kind == "vae") & (test.setting == BUDGET_N_BIT)]
    light = test[(test.kind == "vae") & (test.setting == LIGHT_N_BIT)]
    for _, ch in choice.iterrows():
        cl = test[(test.kind == "classic") & (test.family == ch.family) & (test.scale == ch.scale)
                  & (test.redundancy == ch.redundancy)]
        for seed in sorted(vae.seed.unique()):
            def pick(d, cov=ch.coverage, s=seed):
                r = d[(d.coverage == cov) & (d.seed == s)]
                return r.iloc[0] if len(r) else None

            v, li, c = pick(vae), pick(light), pick(cl)
            if v is None or c is None:
                continue
            rows.append(dict(coverage=float(ch.coverage), seed=int(seed), vae_label=v.label,
                             vae_ms_ssim=float(v.ms_ssim), vae_psnr=float(v.psnr),
                             vae_nt_per_image=float(v.nt_per_image),
                             light_label=None if li is None else li.label,
                             light_ms_ssim=np.nan if li is None else float(li.ms_ssim),
                             light_nt_per_image=np.nan if li is None else float(li.nt_per_image),
                             classic_label=c.label, classic_ms_ssim=float(c.ms_ssim),
                             classic_nt_per_image=float(c.nt_per_image), classic_val_ms_ssim=float(ch.val_ms_ssim),
                             classic_decode_failures=float(c.decode_failures),
                             vae_minus_classic=float(v.ms_ssim - c.ms_ssim)))
    return pd.DataFrame(rows)


def overtake_coverage(claim: pd.DataFrame) -> float:
    """The smallest coverage from which the best classic's mean MS-SSIM is at least the VAE's at every larger
    coverage of the table (NaN when it never is)."""
    mean = claim.groupby("coverage")[["vae_ms_ssim", "classic_ms_ssim"]].mean().sort_index()
    return ds.monotone_threshold(mean.index.to_numpy(), (mean.classic_ms_ssim >= mean.vae_ms_ssim).to_numpy())


def recovery_table(table: pd.DataFrame) -> pd.DataFrame:
    """Per arm: error-free MS-SSIM, the coverage from which its mean MS-SSIM stays at or above
    ``RECOVERY_FRACTION`` of it (monotone), and nt synthesised x that coverage per image (the cost per image)."""
    rows = []
    for label, d in table.groupby("label", sort=False):
        mean = d.groupby("coverage").ms_ssim.mean()
        ref = float(mean[np.isinf(mean.index)].iloc[0])
        finite = mean[np.isfinite(mean.index)].sort_index()
        cov = ds.monotone_threshold(finite.index.to_numpy(), (finite >= RECOVERY_FRACTION * ref).to_numpy())
        nt = float(d.nt_per_image.iloc[0])
        rows.append(dict(label=label, kind=d.kind.iloc[0], nt_per_image=nt, error_free_ms_ssim=ref,
                         coverage_95=cov, nt_times_coverage_per_image=nt * cov))
    return pd.DataFrame(rows)

