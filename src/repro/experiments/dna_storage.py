"""Notebook 05's orchestration: what each method stores, the channel check, the coverage sweep and the tables.

The notebook (``notebooks/05_dna_storage.py``) tells the story and draws the figures; the loops live here so that
they are tested and reusable:

- :func:`vae_methods`, :func:`image_methods`: every stored variant as a :class:`Method` (payload, oligo pool,
  quantizer and erasure fill for the VAEs). Every pool has its own ``pool_id`` (from its label), so pools
  sequenced together fail each other's checks.
- :func:`pool_table`, :func:`codec_table`: the pools (rate, oligos, GC, homopolymers, tandem repeats) and the
  trits per byte of every payload with the format's Huffman table beside the classic one.
- :func:`error_profiles`: our read simulator and BBMap's measured against the set error rates.
- :func:`coverage_sweep`: for every seed, method and coverage, sequence, decode, rebuild the images and score them.
  A file is *exact* only when its bytes equal the original (``complete_images`` counts images whose stored bytes
  all came back equal to the original; ``wrong_known_bytes`` counts bytes marked known that differ: zero is the
  decoder's promise).
- :func:`cost_table`, :func:`claims_table`, :func:`bbmap_points`, :func:`throughput_table`: the tables.
- :func:`image_byte_table`: which bytes are rarest in PNG/JPEG files (the Huffman table's derivation) and the trits
  per byte before and after (``benchmarks/dna_robustness.py``).

The coverage needed for exact recovery is *monotone*: the smallest swept coverage from which every larger swept
coverage recovers every image exactly for every seed (a success below a failure does not count).
"""

from __future__ import annotations

import hashlib
import time
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from repro.core.runtime import progress
from repro.dna import codec, pipeline, storage
from repro.dna.bbmap import bbmap_available, simulate_reads_bbmap
from repro.dna.benchmark import throughput
from repro.dna.decoder import RecoveredFile
from repro.dna.errorstats import error_profile
from repro.dna.quality import image_quality
from repro.dna.simulator import simulate_reads
from repro.systems import vae_storage as vs

REPEAT_REPORT_NT = 16  # oligos with a tandem repeat at least this long are counted in the pool table


@dataclass
class Method:
    """One stored variant: its payload, its oligo pool and, for VAE latents, the quantizer and erasure fill."""

    payload: storage.MethodPayload
    pool: codec.Pool
    quantizer: object = None
    fill: torch.Tensor | None = None

    @property
    def kind(self) -> str:
        return "vae" if self.payload.family in ("VAEU", "VAEN") else "image"

    @property
    def label(self) -> str:
        return self.payload.label


def pool_id_for(label: str) -> int:
    """The pool id of a method's pool: a 32-bit hash of its label (pools of different methods differ)."""
    return zlib.crc32(label.encode())


def store(payload: storage.MethodPayload, payload_nt: int) -> codec.Pool:
    """Synthesis with the method's own pool id."""
    return pipeline.store(payload, payload_nt, pool_id=pool_id_for(payload.label))


def vae_methods(gamma_train: torch.Tensor, gamma_test: torch.Tensor, n_bits, quant_range: float, layout: str,
                pixels: int, payload_nt: int) -> list[Method]:
    """VAEU and VAEN at every ``N_bit`` for one trained model (its train and test latents)."""
    out = []
    for family in vs.METHODS:
        for nb in n_bits:
            quantizer = vs.make_quantizer(family, nb, gamma_train, quant_range)
            payload = storage.vae_payload(family, quantizer, gamma_test, pixels, layout)
            fill = storage.mean_fill(family, quantizer, gamma_test.shape[1])
            out.append(Method(payload, store(payload, payload_nt), quantizer, fill))
    return out


def image_methods(images: torch.Tensor, jpeg_qualities, payload_nt: int) -> list[Method]:
    """JPEG at every quality and PNG, one file per image."""
    payloads = [storage.image_payload(images, "JPEG", q) for q in jpeg_qualities]
    payloads.append(storage.image_payload(images, "PNG"))
    return [Method(p, store(p, payload_nt)) for p in payloads]


# ---------------------------------------------------------------------------------------------------------------
# pools and the codec
# ---------------------------------------------------------------------------------------------------------------
def pool_row(method: Method) -> dict:
    payload, pool = method.payload, method.pool
    gc = codec.gc_content(pool.oligos)
    repeats = codec.longest_tandem_repeat(pool.oligos)
    gc_lo, gc_hi = codec.windowed_gc(pool.oligos, 20)
    return dict(method=payload.family, setting=payload.setting, label=payload.label,
                bytes_per_image=payload.bytes_per_image, bpp=payload.bpp, files=len(payload.files),
                oligos=pool.n_oligos, oligo_length=pool.fmt.length,
                oligos_per_image=pool.n_oligos / payload.n_images, nt_per_image=pool.nucleotides / payload.n_images,
                gc_mean=float(gc.mean()), gc_min=float(gc.min()), gc_max=float(gc.max()),
                max_homopolymer=codec.max_homopolymer(pool.oligos),
                longest_tandem_repeat=int(repeats.max(initial=0)),
                oligos_with_repeat_16nt=float((repeats >= REPEAT_REPORT_NT).mean()),
                gc_window20_min=gc_lo, gc_window20_max=gc_hi, check_trits=pool.fmt.check_trits,
                format_version=pool.fmt.version, pool_id=pool.fmt.pool_id)


def pool_table(methods: list[Method]) -> pd.DataFrame:
    """One row per method: rate, oligos, oligo length, nt per image, GC (per oligo and per 20-nt window), longest
    homopolymer and tandem repeat."""
    return pd.DataFrame([pool_row(m) for m in methods])


def codec_table(methods: list[Method]) -> pd.DataFrame:
    """Trits per byte of every method's payload with the format's Huffman table (six-trit codewords on the
    bytes rare in images) and with the classic table (six-trit codewords on bytes 0x00-0x13)."""
    rows = []
    for m in methods:
        data = b"".join(m.payload.files)
        now, before = codec.HUFFMAN.trits_per_byte(data), codec.CLASSIC_HUFFMAN.trits_per_byte(data)
        rows.append(dict(label=m.label, method=m.payload.family, bytes=len(data), trits_per_byte=now,
                         trits_per_byte_classic=before, change_percent=100 * (now / before - 1)))
    return pd.DataFrame(rows)


def image_byte_table(n_images: int = 2000, dataset: str = "mnist", data_dir=None, seed: int = 0,
                     n_rare: int = 20) -> dict:
    """Byte statistics of PNG and JPEG (q10, q50, q90) files of ``n_images`` training images: the ``n_rare``
    rarest bytes (mean share over the four formats; the derivation of :data:`repro.dna.codec.IMAGE_RARE_BYTES`),
    each format's share of bytes 0x00-0x13 and of the rare bytes, and trits per byte with both Huffman tables, on
    the training images and on as many test images (``test_*``, held out from the derivation)."""
    from repro.coding import classic as classic_codecs
    from repro.data import load_dataset

    train = load_dataset(dataset, "train", data_dir).subset(n_images, seed)
    shares, per_format = {}, {}
    for fmt, q in (("png", None), ("jpeg", 10), ("jpeg", 50), ("jpeg", 90)):
        data = b"".join(classic_codecs.encode(img.numpy(), fmt, q) for img in train.x)
        hist = np.bincount(np.frombuffer(data, np.uint8), minlength=256).astype(float)
        name = fmt if q is None else f"{fmt}_q{q}"
        shares[name] = hist / hist.sum()
        per_format[name] = dict(bytes=len(data), trits_per_byte=codec.HUFFMAN.trits_per_byte(data),
                                trits_per_byte_classic=codec.CLASSIC_HUFFMAN.trits_per_byte(data))
    mean = np.mean(list(shares.values()), axis=0)
    rare = np.argsort(mean, kind="stable")[:n_rare]
    test = load_dataset(dataset, "test", data_dir).subset(n_images, seed)  # held out from the derivation
    for fmt, q in (("png", None), ("jpeg", 10), ("jpeg", 50), ("jpeg", 90)):
        data = b"".join(classic_codecs.encode(img.numpy(), fmt, q) for img in test.x)
        per_format[fmt if q is None else f"{fmt}_q{q}"].update(
            test_trits_per_byte=codec.HUFFMAN.trits_per_byte(data),
            test_trits_per_byte_classic=codec.CLASSIC_HUFFMAN.trits_per_byte(data))
    for name, share in shares.items():
        per_format[name].update(share_bytes_00_13=float(share[:20].sum()), share_rare_bytes=float(share[rare].sum()),
                                share_format_table=float(share[list(codec.IMAGE_RARE_BYTES)].sum()))
        per_format[name]["change_percent"] = 100 * (per_format[name]["trits_per_byte"]
                                                     / per_format[name]["trits_per_byte_classic"] - 1)
    return {"images": len(train), "dataset": dataset, "rarest_bytes": sorted(int(b) for b in rare),
            "formats": per_format}


# ---------------------------------------------------------------------------------------------------------------
# the channel, measured
# ---------------------------------------------------------------------------------------------------------------
def error_profiles(oligos: np.ndarray, channel: pipeline.Channel, *, coverage: float = 10, max_reads: int = 5000,
                   seed: int = 0) -> tuple[pd.DataFrame, dict]:
    """Measured per-base error rates of our simulator (and BBMap's when installed) beside the set rates; also
    returns the simulated read sets by backend."""
    sims = {"numpy": simulate_reads(oligos, coverage, channel.errors, bias_sigma=channel.bias_sigma, seed=seed)}
    if bbmap_available():
        sims["bbmap"] = simulate_reads_bbmap(oligos, coverage, channel.errors, bias_sigma=channel.bias_sigma,
                                             seed=seed)
    rows = []
    for sim in sims.values():
        prof = error_profile(sim, oligos, max_reads=max_reads)
        lengths = prof.pop("length_minus_oligo")
        rows.append({**prof, "set_substitution": channel.errors.substitution,
                     "set_insertion": channel.errors.insertion, "set_deletion": channel.errors.deletion,
                     "reads_equal_length": lengths.get(0, 0.0), "coverage": coverage,
                     "oligo_length": oligos.shape[1]})
    return pd.DataFrame(rows), sims


# ---------------------------------------------------------------------------------------------------------------
# exactness and reconstruction
# ---------------------------------------------------------------------------------------------------------------
def _file_wrong_bytes(f: RecoveredFile, original: bytes) -> int:
    data, ref = np.frombuffer(f.data, np.uint8), np.frombuffer(original, np.uint8)
    m = min(len(data), len(ref))
    return int((data[:m][f.known[:m]] != ref[:m][f.known[:m]]).sum()) + int(f.known[m:].sum())


def exact_images(payload: storage.MethodPayload, files: list[RecoveredFile]) -> np.ndarray:
    """``(n_images,)``: the image's stored bytes all came back known *and equal to the original*."""
    if payload.family in ("VAEU", "VAEN") and payload.layout == "packed":
        n, rb = payload.n_images, payload.record_bytes
        ref = np.frombuffer(payload.files[0], np.uint8)
        got = np.zeros(n * rb, np.uint8)
        known = np.zeros(n * rb, bool)
        m = min(len(files[0].data), n * rb)
        got[:m] = np.frombuffer(files[0].data, np.uint8)[:m]
        known[:m] = files[0].known[:m]
        return (known & (got == ref[: n * rb])).reshape(n, rb).all(1)
    return np.array([f.complete and f.data == orig for f, orig in zip(files, payload.files)], dtype=bool)


def wrong_known_bytes(payload: storage.MethodPayload, files: list[RecoveredFile]) -> int:
    """Bytes marked known that differ from the original (the decoder promises zero)."""
    return sum(_file_wrong_bytes(f, orig) for f, orig in zip(files, payload.files))


def restore(method: Method, files: list[RecoveredFile], model, image_shape) -> tuple[torch.Tensor, dict]:
    """Recovered files -> reconstructed images and what happened: ``complete_images`` (exact, see
    :func:`exact_images`), ``erased_values`` (VAE), ``decode_failures`` (JPEG/PNG, per image: the failure mask is
    in ``info['failed']``), ``wrong_known_bytes``."""
    exact = exact_images(method.payload, files)
    wrong = wrong_known_bytes(method.payload, files)
    if method.kind == "vae":
        gamma_hat, erased = storage.vae_latents(method.payload, files, method.quantizer, method.fill)
        return vs.reconstruct(model, gamma_hat), dict(complete_images=float(exact.mean()),
                                                      erased_values=erased.float().mean().item(),
                                                      decode_failures=0.0, wrong_known_bytes=wrong,
                                                      failed=np.zeros(len(exact), bool))
    x_hat, failed = storage.images_from_files(files, tuple(image_shape))
    return x_hat, dict(complete_images=float(exact.mean()), erased_values=np.nan,
                       decode_failures=float(failed.mean()), wrong_known_bytes=wrong, failed=failed)


class Scorer:
    """Image quality of reconstructions; identical reconstructions (every coverage that recovers everything)
    are scored once."""

    def __init__(self, test, classifier):
        self.test, self.classifier, self.memo = test, classifier, {}

    def __call__(self, x_hat: torch.Tensor) -> dict:
        digest = hashlib.sha1(x_hat.numpy().tobytes()).hexdigest()
        if digest not in self.memo:
            self.memo[digest] = image_quality(self.test.x, x_hat, self.test.y, self.classifier)
        return self.memo[digest]


REPORT_COLUMNS = ("exact_keys_conflicting", "chunks_conflicting", "orphans_not_clustered", "consensus_other_index",
                  "files_with_conflicting_ends")


@dataclass
class Sweep:
    """The coverage sweep: tidy rows (one per metric), reconstructions for the figures, timings."""

    table: pd.DataFrame
    recon: dict  # (family, coverage) -> (images (n, C, H, W), failed (n,) bool)
    seconds: dict


def coverage_sweep(*, dataset: str, test, models: dict, methods_for_seed, coverages, channel: pipeline.Channel,
                   scorer: Scorer, figure_keys=(), figure_coverages=(), figure_images: int = 10) -> Sweep:
    """For every seed (``models``: seed -> VAE), method (``methods_for_seed(seed)``) and coverage: sequence the
    pool, decode the reads, rebuild the images and score them; the error-free reference has coverage inf."""
    rows, recon = [], {}
    seconds = {"sequencing": 0.0, "decoding": 0.0, "reads": 0}
    t0 = time.perf_counter()
    first_seed = next(iter(models))

    def add(payload, seed, x_hat, info, coverage, backend, extra):
        q = scorer(x_hat)
        base = dict(dataset=dataset, method=payload.family, setting=payload.setting, label=payload.label,
                    bpp=payload.bpp, coverage=coverage, inv_coverage=1.0 / coverage, backend=backend,
                    seed=seed, **{k: v for k, v in info.items() if k != "failed"}, **extra)
        rows.extend({**base, "metric": m, "value": v} for m, v in q.items())

    for seed, model in models.items():
        methods = methods_for_seed(seed)
        for method in progress(methods, desc=f"seed {seed}"):
            payload, pool = method.payload, method.pool
            x_hat, info = restore(method, [RecoveredFile.exact(f) for f in payload.files], model, test.shape)
            add(payload, seed, x_hat, info, np.inf, "none",
                {"reads": 0, "oligos": pool.n_oligos, "oligos_recovered": pool.n_oligos})
            for cov in coverages:
                got = pipeline.retrieve(pool, payload, cov, channel, seed)
                seconds["sequencing"] += got.seconds_sequencing
                seconds["decoding"] += got.seconds_decoding
                seconds["reads"] += got.reads
                x_hat, info = restore(method, got.files, model, test.shape)
                rep = got.report.summary()
                add(payload, seed, x_hat, info, cov, "numpy",
                    {"reads": got.reads, "oligos": pool.n_oligos, "dropouts": got.dropouts,
                     "oligos_recovered": got.report.oligos_recovered, "seconds_sequencing": got.seconds_sequencing,
                     "seconds_decoding": got.seconds_decoding, **{k: rep[k] for k in REPORT_COLUMNS}})
                if seed == first_seed and cov in figure_coverages and \
                        (payload.family, payload.setting) in set(figure_keys):
                    recon[(payload.family, cov)] = (x_hat[:figure_images], info["failed"][:figure_images])
    seconds["total"] = time.perf_counter() - t0
    return Sweep(pd.DataFrame(rows), recon, seconds)


def sweep_summary(sweep: pd.DataFrame) -> pd.DataFrame:
    """Mean over seeds per label and coverage: the metrics, exact-image fraction, failures, erasures."""
    return (sweep[sweep.backend != "bbmap"]
            .pivot_table(index=["label", "bpp", "coverage"], columns="metric", values="value", aggfunc="mean")
            .join(sweep[sweep.metric == "ms_ssim"].groupby(["label", "bpp", "coverage"])
                  [["complete_images", "decode_failures", "erased_values", "wrong_known_bytes"]].mean()))


# ---------------------------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------------------------
def monotone_threshold(coverages: np.ndarray, ok: np.ndarray) -> float:
    """Smallest coverage from which every larger one is ``ok`` (NaN when the largest is not)."""
    order = np.argsort(coverages)
    c, good = np.asarray(coverages, float)[order], np.asarray(ok, bool)[order]
    if len(c) == 0 or not good[-1]:
        return float("nan")
    bad = np.flatnonzero(~good)
    return float(c[bad[-1] + 1]) if len(bad) else float(c[0])


def cost_table(sweep: pd.DataFrame, pools: pd.DataFrame, approx_tolerance: float = 0.01) -> pd.DataFrame:
    """Nucleotides synthesized and reads sequenced per image at the coverage each method needs: **exact** (every
    image's bytes equal to the original for every seed, monotone) and **approximate** (mean MS-SSIM within
    ``approx_tolerance`` of the error-free MS-SSIM, monotone). ``coverage_exact_first`` is the smallest coverage at
    which exact recovery happened at all (the earlier, non-monotone definition), for comparison."""
    ms_mean = sweep[sweep.metric == "ms_ssim"].groupby(["label", "coverage"]).agg(
        ms_ssim=("value", "mean"), complete_min=("complete_images", "min")).reset_index()
    rows = []
    for _, pr in pools.iterrows():
        d = ms_mean[ms_mean.label == pr.label]
        ref = float(d[~np.isfinite(d.coverage)].ms_ssim.iloc[0])
        finite = d[np.isfinite(d.coverage)].sort_values("coverage")
        cov = finite.coverage.to_numpy()
        exact_ok = finite.complete_min.to_numpy() >= 1.0
        c_exact = monotone_threshold(cov, exact_ok)
        c_approx = monotone_threshold(cov, finite.ms_ssim.to_numpy() >= (1 - approx_tolerance) * ref)
        c_first = float(cov[exact_ok][0]) if exact_ok.any() else np.nan
        rows.append(dict(label=pr.label, bpp=pr.bpp, bytes_per_image=pr.bytes_per_image,
                         oligo_length=pr.oligo_length, oligos_per_image=pr.oligos_per_image,
                         nt_synthesized_per_image=pr.nt_per_image, error_free_ms_ssim=ref,
                         coverage_exact=c_exact, reads_per_image_exact=c_exact * pr.oligos_per_image,
                         coverage_approx=c_approx, reads_per_image_approx=c_approx * pr.oligos_per_image,
                         nt_sequenced_per_image_approx=c_approx * pr.oligos_per_image * pr.oligo_length,
                         coverage_exact_first=c_first))
    return pd.DataFrame(rows)


BBMAP_COLUMNS = ["label", "coverage", "metric", "bbmap", "numpy", "erased_values_bbmap", "reads"]


def bbmap_points(methods: list[Method], model, scorer: Scorer, test, coverages, channel: pipeline.Channel,
                 seed: int, sweep: pd.DataFrame) -> pd.DataFrame:
    """VAE quality when the reads come from BBMap ``randomreads.sh``, beside our simulator's number for the same
    point (empty when BBMap is not installed)."""
    rows = []
    if bbmap_available():
        bb_channel = pipeline.Channel(channel.errors, bias_sigma=channel.bias_sigma, backend="bbmap",
                                      consensus=channel.consensus)
        for method in methods:
            for cov in coverages:
                got = pipeline.retrieve(method.pool, method.payload, cov, bb_channel, seed)
                x_hat, info = restore(method, got.files, model, test.shape)
                q = scorer(x_hat)
                ours = sweep[(sweep.label == method.label) & (sweep.seed == seed) & (sweep.backend == "numpy")]
                for metric, value in q.items():
                    near = ours[(ours.metric == metric) & (ours.coverage == cov)].value
                    rows.append(dict(label=method.label, coverage=cov, metric=metric, bbmap=value,
                                     numpy=float(near.iloc[0]) if len(near) else np.nan,
                                     erased_values_bbmap=info["erased_values"], reads=got.reads))
    return pd.DataFrame(rows, columns=BBMAP_COLUMNS)


def throughput_table(n_files: int, coverages, payload_nt: int, channel: pipeline.Channel,
                     sweep_seconds: dict, n_images: int) -> pd.DataFrame:
    """Stage throughput on random 500-byte files, and the sweep's own totals."""
    bench = pd.DataFrame(throughput(n_files, 500, coverages, payload_nt, channel.errors, channel.bias_sigma,
                                    channel.consensus))
    s = sweep_seconds
    return pd.concat([bench, pd.DataFrame([
        dict(stage="whole coverage sweep: simulate reads", items=s["reads"], unit="reads", seconds=s["sequencing"],
             per_second=s["reads"] / max(s["sequencing"], 1e-9)),
        dict(stage="whole coverage sweep: cluster, consensus, decode", items=s["reads"], unit="reads",
             seconds=s["decoding"], per_second=s["reads"] / max(s["decoding"], 1e-9)),
        dict(stage="whole coverage sweep incl. image decoding and metrics", items=n_images, unit="images x seeds",
             seconds=s["total"], per_second=np.nan)])], ignore_index=True)
