# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · DNA storage end to end: oligos, sequencing, consensus, and the coverage sweep
#
# *Reproduces Figures 2a-2d and 3a/3b of Franzese et al., "Generative DNA: Representation Learning for DNA-based
# Approximate Image Storage" (`shared/papers/000_*.txt`, sections III-IV), and adds the cost table that the
# paper's conclusion argues in words.*
#
# ## The idea
#
# Notebook 01 compressed each MNIST digit into the quantized parameters $\gamma = [\mu, \log\sigma]$ of a VAE
# posterior ($2K = 32$ numbers of $N_{bit}$ bits) and sent the bits through a binary symmetric channel. Here the
# same bits, and for comparison the same images as JPEG and PNG files, go through a simulated **DNA storage
# channel**: they are written into short DNA strands (oligos), the oligos are "synthesized" with uneven
# abundance, "sequenced" into noisy reads, and the reads are turned back into files. The quantity that controls
# cost and quality is the **coverage** $c$, the mean number of reads per oligo.
#
# **Writing (the codec).** A file's bytes become trits with a ternary Huffman code (Goldman et al. 2013): with
# uniform byte frequencies 236 bytes get 5 trits and 20 get 6, and the 257th leaf of the ternary tree is an
# end-of-chunk mark. Bytes are packed greedily into chunks of $P = 150$ trits, whole bytes only, so a lost chunk
# loses a known span. Each chunk gets a header $[\text{file id}, \text{byte offset}, \text{header check}]$ and a
# closing check over header and payload; a check is $\sum_i w_i t_i \bmod p$ with fixed pseudo-random weights and
# $p$ the largest prime below $3^n$ ($n = 4$ for the header, $8$ for the whole oligo), so a corrupted oligo passes
# with probability about $1/p$. Trits become bases with the rotating code
#
# $$b_i = (b_{i-1} + 1 + t_i) \bmod 4 \quad\text{over } (A, C, G, T),$$
#
# which never repeats a base: no homopolymers by construction, and GC content near one half.
#
# **The channel.** Synthesis and PCR give every oligo an abundance $w_i \sim \mathrm{LogNormal}(-\sigma^2/2,
# \sigma)$ (mean 1). Sequencing at coverage $c$ draws $\mathrm{round}(c\,n)$ reads, each from oligo $i$ with
# probability $w_i / \sum_j w_j$, so an oligo receives about $\mathrm{Poisson}(c\,w_i)$ reads and drops out with
# probability $\mathbb{E}[e^{-c w}]$. A read comes from either strand with equal probability, and every base is
# deleted, substituted or followed by an insertion with Illumina-like per-base rates. The same coverage model also
# drives the real BBMap `randomreads.sh`, the simulator the paper used, as a second backend.
#
# **Reading (the decoder).** It sees sequences only: it orients each read by its header check, takes reads that
# pass the full check as exact copies, groups the others by index, places reads with a damaged index by shared
# payload k-mers, and builds a consensus per group (partial-order alignment with `pyspoa`, or an edit-distance
# majority with `edlib`). An oligo that is missing or whose consensus fails its check is an **erasure**. For VAE
# latents an erased value becomes the quantizer's value for the mean (VAEN: the fitted mean $m_i$; VAEU: 0); a
# JPEG or PNG file is decoded from whatever bytes came back (unknown ones are zero) and a file Pillow cannot
# decode is a **failure**, shown and scored as a blank image.
#
# **Rate and cost.** The x axis of Figure 2 is bits per pixel of the stored representation,
# $\text{bpp} = 8 \times \text{bytes per image} / 784$. Synthesis cost is nucleotides per image
# ($\text{oligos per image} \times L$); sequencing cost is reads per image ($c \times$ oligos per image).

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | paper; the remaining None values come from the profile
dataset = "mnist"  # mnist | binary_mnist
device = "auto"  # auto | cpu | cuda
output_dir = None  # default: figures/ for cpu, build/figures-<profile>/ otherwise
data_dir = None  # searched before $REPRO_DATA_DIR and data/
epochs = None
n_train = None
n_test = None
seeds = None
n_bits = None
jpeg_qualities = None
coverages = None
figure_coverages = None
figure_images = None
classifier_epochs = None
classifier_n_train = None
payload_nt = None
substitution_rate = None
insertion_rate = None
deletion_rate = None
bias_sigma = None
consensus = None
vae_layout = None
bbmap_coverages = None
error_profile_reads = None
benchmark_files = None
benchmark_coverages = None

# %%
import hashlib
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from repro import vae_storage as vs
from repro.cache import CheckpointCache
from repro.checks import check_choice, check_range
from repro.classifier import train_classifier
from repro.compare import paper_numbers
from repro.data import load_dataset
from repro.dna import codec, pipeline, storage
from repro.dna.bbmap import bbmap_available, missing_reason, simulate_reads_bbmap
from repro.dna.benchmark import throughput
from repro.dna.decoder import RecoveredFile
from repro.dna.errorstats import error_profile
from repro.dna.quality import PSNR_CAP_DB, image_quality
from repro.dna.simulator import ErrorModel, simulate_reads
from repro.profiles import resolve
from repro.results import Run
from repro.runtime import pick_device, progress, seed_everything

P = resolve("05_dna_storage", profile, epochs=epochs, n_train=n_train, n_test=n_test, seeds=seeds, n_bits=n_bits,
            jpeg_qualities=jpeg_qualities, coverages=coverages, figure_coverages=figure_coverages,
            figure_images=figure_images, classifier_epochs=classifier_epochs,
            classifier_n_train=classifier_n_train, payload_nt=payload_nt, substitution_rate=substitution_rate,
            insertion_rate=insertion_rate, deletion_rate=deletion_rate, bias_sigma=bias_sigma, consensus=consensus,
            vae_layout=vae_layout, bbmap_coverages=bbmap_coverages, error_profile_reads=error_profile_reads,
            benchmark_files=benchmark_files, benchmark_coverages=benchmark_coverages)
check_choice("dataset", dataset, vs.VAE_DATASETS)
check_choice("vae_layout", P["vae_layout"], storage.VAE_LAYOUTS)
if P["n_bits_table"] not in P["n_bits"]:
    raise ValueError(f"n_bits={P['n_bits']} must include n_bits_table={P['n_bits_table']} (Figures 3a/3b)")
if P["jpeg_figure_quality"] not in P["jpeg_qualities"]:
    raise ValueError(f"jpeg_qualities={P['jpeg_qualities']} must include {P['jpeg_figure_quality']} (Figures 3a/3b)")
for c in P["coverages"]:
    check_range("coverage", c, 0.01, 1000)
# the figure coverages are always part of the sweep
P["coverages"] = sorted(set(P["coverages"]) | set(P["figure_coverages"]))
P.update(dataset=dataset, device=device)
dev = pick_device(device)
run = Run("05_dna_storage", profile, P, P["seeds"], output_dir)
cache = CheckpointCache()
T0 = time.perf_counter()
channel = pipeline.Channel(ErrorModel(P["substitution_rate"], P["insertion_rate"], P["deletion_rate"]),
                           bias_sigma=P["bias_sigma"], consensus=P["consensus"])
print(f"profile {profile} on {dev}; outputs to {run.folder}")
print({k: v for k, v in P.items()})
print(channel)

# %% [markdown]
# ## The codec on a known message
#
# Twenty-eight bytes of text become one oligo. The output below is deterministic: the Huffman table, the header
# fields and the check weights are fixed parts of the format. The oligo has no repeated neighbouring bases, and
# decoding it returns the bytes exactly; an empty file is one oligo holding only the end-of-chunk mark.

# %%
# NBVAL_CHECK_OUTPUT
demo_files = [b"Generative DNA, approximately", b""]
demo_fmt = codec.OligoFormat.for_files([len(f) for f in demo_files], payload=150)
demo_pool = codec.encode_files(demo_files, demo_fmt)
print(demo_fmt, "-> oligo length", demo_fmt.length, "nt")
trit_counts = np.unique(codec.HUFFMAN.lengths[:256], return_counts=True)
print("Huffman code: bytes per codeword length", {int(n): int(c) for n, c in zip(*trit_counts)},
      "| end-of-chunk mark", "".join(map(str, codec.HUFFMAN.eoc)))
for i, row in enumerate(demo_pool.oligos):
    print(f"file {demo_pool.file_id[i]} offset {demo_pool.offset[i]} bytes {demo_pool.n_bytes[i]}:",
          codec.to_string(row))
print("longest homopolymer:", codec.max_homopolymer(demo_pool.oligos),
      "| GC content:", np.round(codec.gc_content(demo_pool.oligos), 3))
print("round trip exact:", codec.decode_pool_exact(demo_pool) == demo_files)

# %% [markdown]
# ## Data, the VAE and the ACC classifier
#
# The same test images, VAE and classifier as notebook 01: the models are trained with notebook 01's settings
# (latent dimension 16, batch 64, Adam $10^{-3}$, the whole training split) and therefore come from the shared
# checkpoint cache when notebook 01 has run. The `cpu` profile stores the **first 1,000 test images of a fixed
# seeded subset** (not the full 10,000, to keep the sweep within the CPU budget); `paper` stores all of them.

# %%
train = load_dataset(dataset, "train", data_dir).subset(P["n_train"])
test = load_dataset(dataset, "test", data_dir).subset(P["n_test"])
pixels = int(np.prod(test.shape))
print(f"train {tuple(train.x.shape)} test {tuple(test.x.shape)} from {train.root} ({train.source} data)")
models = {}
for seed in P["seeds"]:
    seed_everything(seed)
    models[seed], _ = vs.train_vae(dataset, seed=seed, epochs=P["epochs"], device=dev, latent_dim=P["latent_dim"],
                                   batch_size=P["batch_size"], lr=P["lr"], n_train=P["n_train"], data_root=data_dir,
                                   cache=cache)
classifier, clf_info = train_classifier(dataset, epochs=P["classifier_epochs"], device=dev,
                                        n_train=P["classifier_n_train"], data_root=data_dir, cache=cache)
print(f"VAE seeds {list(models)}; classifier accuracy on the clean test set: {clf_info['test_accuracy']:.4f}")
# From here on torch only runs small inference batches (decoding latents, MS-SSIM, the classifier) between numpy
# and spoa work; one thread avoids the spin-waiting of idle worker threads, which on the busy 2-core machine made
# scoring 40 images take 0.9 s instead of 0.02 s.
torch.set_num_threads(1)

# %% [markdown]
# ## What each method stores
#
# VAEU and VAEN store all $2K$ values of $\gamma$ with $N_{bit}$ bits each: $4 N_{bit}$ bytes per image. With the
# `packed` layout the records of all images form one file, as the paper materializes "the latent space
# representation as a binary file"; an erasure then touches the few images whose record bytes sat in the lost
# chunk. JPEG (several qualities) and PNG store one file per image. The table lists the pools: their rate, the
# oligo length (header fields are as narrow as the pool allows, so it varies a little), and the synthesis cost.

# %%
gammas = {seed: (vs.encode_all(m, train.x), vs.encode_all(m, test.x)) for seed, m in models.items()}
image_payloads = [storage.image_payload(test.x, "JPEG", q) for q in P["jpeg_qualities"]]
image_payloads.append(storage.image_payload(test.x, "PNG"))
image_pools = [pipeline.store(p, P["payload_nt"]) for p in image_payloads]


def vae_methods(seed):
    """Payload, pool, quantizer and erasure fill of every VAE variant for one trained seed."""
    gamma_train, gamma_test = gammas[seed]
    out = []
    for family in vs.METHODS:
        for nb in P["n_bits"]:
            quantizer = vs.make_quantizer(family, nb, gamma_train, P["quant_range"])
            payload = storage.vae_payload(family, quantizer, gamma_test, pixels, P["vae_layout"])
            fill = storage.mean_fill(family, quantizer, gamma_test.shape[1])
            out.append((payload, pipeline.store(payload, P["payload_nt"]), quantizer, fill))
    return out


def pool_row(payload, pool):
    gc = codec.gc_content(pool.oligos)
    return dict(method=payload.family, setting=payload.setting, label=payload.label,
                bytes_per_image=payload.bytes_per_image, bpp=payload.bpp, files=len(payload.files),
                oligos=pool.n_oligos, oligo_length=pool.fmt.length,
                oligos_per_image=pool.n_oligos / payload.n_images, nt_per_image=pool.nucleotides / payload.n_images,
                gc_mean=float(gc.mean()), gc_min=float(gc.min()), gc_max=float(gc.max()),
                max_homopolymer=codec.max_homopolymer(pool.oligos))


pool_table = pd.DataFrame([pool_row(p, pool) for p, pool, _, _ in vae_methods(P["seeds"][0])]
                          + [pool_row(p, pool) for p, pool in zip(image_payloads, image_pools)])
run.write_table(pool_table, "oligo_pools", reproduces="Section III (encoding) and the cost table",
                description="per method: bytes and bits per pixel, oligos, oligo length, nt per image, GC content, "
                            "longest homopolymer")
pool_table.round(3)

# %% [markdown]
# ## The channel, measured: our simulator beside BBMap's `randomreads.sh`
#
# Every read is aligned globally to its source oligo (the simulator's ground truth; the decoder never sees it)
# and the events are counted per oligo base. Our simulator should return the rates it was given. BBMap is driven
# with the same per-base rates converted to its per-read rates, plus its default Illumina quality model, which adds
# substitutions that grow along the read. Its reads all have the oligo's length: an insertion pushes the oligo's
# last base out of the read ("truncation" below) and deletions cannot occur, a property of the tool with
# full-length reads (SPEC section 5). When BBMap is not installed the BBMap rows are missing and the reason is
# printed.

# %%
probe_payload, probe_pool, _, _ = [m for m in vae_methods(P["seeds"][0])
                                   if m[0].family == "VAEN" and m[0].setting == P["n_bits_table"]][0]
probe_cov = 10
profiles_rows = []
sims = {"numpy": simulate_reads(probe_pool.oligos, probe_cov, channel.errors, bias_sigma=channel.bias_sigma, seed=0)}
if bbmap_available():
    sims["bbmap"] = simulate_reads_bbmap(probe_pool.oligos, probe_cov, channel.errors, bias_sigma=channel.bias_sigma,
                                         seed=0)
else:
    print("BBMap backend skipped:", missing_reason())
for backend, sim in sims.items():
    prof = error_profile(sim, probe_pool.oligos, max_reads=P["error_profile_reads"])
    lengths = prof.pop("length_minus_oligo")
    profiles_rows.append({**prof, "set_substitution": channel.errors.substitution,
                          "set_insertion": channel.errors.insertion, "set_deletion": channel.errors.deletion,
                          "reads_equal_length": lengths.get(0, 0.0), "coverage": probe_cov,
                          "oligo_length": probe_pool.fmt.length})
error_profiles = pd.DataFrame(profiles_rows)
run.write_table(error_profiles, "backend_error_profiles", reproduces="simulator check (Section IV, randomreads)",
                description="per-base substitution/insertion/deletion/truncation rates measured by alignment, for "
                            "our simulator and BBMap randomreads.sh (when installed), with the set rates")
error_profiles.round(5)

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
kinds = ["substitution", "insertion", "deletion", "truncation"]
width = 0.8 / (len(sims) + 1)
xs = np.arange(len(kinds))
axes[0].bar(xs, [channel.errors.substitution, channel.errors.insertion, channel.errors.deletion, 0.0], width,
            color="0.7", label="set (per base)")
for j, row in enumerate(profiles_rows):
    axes[0].bar(xs + (j + 1) * width, [row[k] for k in kinds], width, label=f"measured: {row['backend']}")
axes[0].set_xticks(xs + width * len(sims) / 2, kinds)
axes[0].set_ylabel("events per oligo base")
axes[0].legend(fontsize=7)
for backend, sim in sims.items():
    diff = sim.reads.lengths - probe_pool.fmt.length
    vals, counts = np.unique(diff, return_counts=True)
    axes[1].plot(vals, counts / counts.sum(), marker="o", label=backend)
axes[1].set_yscale("log")
axes[1].set_xlabel("read length - oligo length (nt)")
axes[1].set_ylabel("fraction of reads")
axes[1].legend(fontsize=7)
fig.suptitle(f"Read simulators at coverage {probe_cov} on the {probe_payload.label} pool "
             f"({'BBMap not installed' if 'bbmap' not in sims else 'numpy vs BBMap randomreads.sh'})", fontsize=9)
fig.tight_layout()
run.save_figure(fig, "backend_error_profiles", reproduces="simulator check (Section IV, randomreads)",
                description="measured error rates and read-length distribution of both read simulators")
plt.show()

# %% [markdown]
# ## The coverage sweep
#
# For every trained seed, method and coverage: sequence the method's pool, decode the reads, rebuild the images
# and score them. The error-free reference (coverage $\infty$) decodes the stored files directly. Seeds of the
# channel are derived from (seed, method, coverage), so every point is reproducible on its own. Besides the three
# image metrics, each row records the fraction of images that came back complete, the fraction of latent values
# erased (VAE) or of files that failed to decode (JPEG/PNG), and the read counts and timings.

# %%
fig_keys = {("VAEN", P["n_bits_table"]), ("VAEU", P["n_bits_table"]), ("JPEG", P["jpeg_figure_quality"]),
            ("PNG", None)}
rows, recon = [], {}
sweep_seconds = {"sequencing": 0.0, "decoding": 0.0, "reads": 0}
t_sweep = time.perf_counter()


quality_memo = {}  # identical reconstructions (every coverage that recovers everything) are scored once


def score(payload, x_hat, seed, coverage, backend, info):
    digest = hashlib.sha1(x_hat.numpy().tobytes()).hexdigest()
    if digest not in quality_memo:
        quality_memo[digest] = image_quality(test.x, x_hat, test.y, classifier)
    q = quality_memo[digest]
    base = dict(dataset=dataset, method=payload.family, setting=payload.setting, label=payload.label,
                bpp=payload.bpp, coverage=coverage, inv_coverage=1.0 / coverage, backend=backend, seed=seed, **info)
    return [{**base, "metric": m, "value": v} for m, v in q.items()]


for seed in P["seeds"]:
    model = models[seed]
    methods = [(p, pool, ("vae", q, fill)) for p, pool, q, fill in vae_methods(seed)]
    methods += [(p, pool, ("image", None, None)) for p, pool in zip(image_payloads, image_pools)]
    for payload, pool, (kind, quantizer, fill) in progress(methods, desc=f"seed {seed}"):

        def restore(files):
            if kind == "vae":
                gamma_hat, erased = storage.vae_latents(payload, files, quantizer, fill)
                per_image = (~erased.any(1)).float().mean().item()
                return vs.reconstruct(model, gamma_hat), dict(complete_images=per_image,
                                                              erased_values=erased.float().mean().item(),
                                                              decode_failures=0.0)
            x_hat, failed = storage.images_from_files(files, tuple(test.shape))
            complete = np.mean([f.complete for f in files])
            return x_hat, dict(complete_images=float(complete), erased_values=np.nan,
                               decode_failures=float(failed.mean()))

        x_hat, info = restore([RecoveredFile.exact(f) for f in payload.files])
        rows += score(payload, x_hat, seed, np.inf, "none", {**info, "reads": 0, "oligos": pool.n_oligos,
                                                              "oligos_recovered": pool.n_oligos})
        for cov in P["coverages"]:
            got = pipeline.retrieve(pool, payload, cov, channel, seed)
            sweep_seconds["sequencing"] += got.seconds_sequencing
            sweep_seconds["decoding"] += got.seconds_decoding
            sweep_seconds["reads"] += got.reads
            x_hat, info = restore(got.files)
            rows += score(payload, x_hat, seed, cov, "numpy",
                          {**info, "reads": got.reads, "oligos": pool.n_oligos, "dropouts": got.dropouts,
                           "oligos_recovered": got.report.oligos_recovered,
                           "seconds_sequencing": got.seconds_sequencing, "seconds_decoding": got.seconds_decoding})
            if seed == P["seeds"][0] and cov in P["figure_coverages"] and (payload.family, payload.setting) in fig_keys:
                recon[(payload.family, cov)] = x_hat[: P["figure_images"]]
sweep_seconds["total"] = time.perf_counter() - t_sweep
sweep = pd.DataFrame(rows)
run.write_table(sweep, "coverage_sweep", reproduces="Figures 2a-2d",
                description="MS-SSIM, PSNR (capped at 60 dB), ACC per method, setting, coverage and seed, with "
                            "complete-image fraction, erased latent values, JPEG/PNG decode failures, reads")
print(f"sweep: {len(P['seeds'])} seeds x {len(methods)} methods x {len(P['coverages'])} coverages in "
      f"{sweep_seconds['total']:.0f} s ({sweep_seconds['reads']:,} reads: {sweep_seconds['sequencing']:.0f} s "
      f"simulating, {sweep_seconds['decoding']:.0f} s clustering/consensus/decoding)")

# %%
summary = (sweep[sweep.backend != "bbmap"]
           .pivot_table(index=["label", "bpp", "coverage"], columns="metric", values="value", aggfunc="mean")
           .join(sweep[sweep.metric == "ms_ssim"].groupby(["label", "bpp", "coverage"])
                 [["complete_images", "decode_failures", "erased_values"]].mean()))
summary.round(3)

# %% [markdown]
# ## Figures 2a-2c: quality against rate
#
# Each method at three coverages: the error-free reference (solid), coverage 10 (dashed) and coverage 3 (dotted),
# mean over seeds. The VAE curves run over $N_{bit}$, the JPEG curve over quality; PNG is a single point. The
# x axis is logarithmic, as in the paper. PSNR is capped at 60 dB per image, which is where lossless PNG sits.

# %%
families = {"VAEU": "tab:orange", "VAEN": "tab:blue", "JPEG": "tab:green", "PNG": "tab:red"}
metric_names = {"ms_ssim": "MS-SSIM", "psnr": f"PSNR (dB, capped at {PSNR_CAP_DB:.0f})", "acc": "ACC"}
styles = [(np.inf, "-", "error-free"), (10, "--", "coverage 10"), (3, ":", "coverage 3")]
styles = [s for s in styles if s[0] == np.inf or s[0] in P["coverages"]]
means = sweep.groupby(["method", "setting", "bpp", "coverage", "metric"], dropna=False).value.mean().reset_index()
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
for ax, (metric, name) in zip(axes, metric_names.items()):
    for fam, color in families.items():
        for cov, ls, cov_name in styles:
            d = means[(means.method == fam) & (means.coverage == cov) & (means.metric == metric)].sort_values("bpp")
            ax.plot(d.bpp, d.value, ls, marker="o", ms=3, color=color, label=f"{fam}, {cov_name}")
    ax.set_xscale("log")
    ax.xaxis.set_minor_formatter(plt.NullFormatter())
    ax.set_xticks([0.1, 0.3, 1, 3, 10], ["0.1", "0.3", "1", "3", "10"])
    ax.set_xlabel("bits per pixel (log scale)")
    ax.set_ylabel(name)
axes[0].legend(fontsize=6, ncol=2)
for ax, letter in zip(axes, "abc"):
    ax.set_title(f"Figure 2{letter}", fontsize=9)
fig.suptitle(f"{dataset}: quality vs rate through the DNA channel ({len(test)} test images, {profile} profile)",
             fontsize=10)
fig.tight_layout()
run.save_figure(fig, "figure2abc_quality_vs_bpp", reproduces="Figures 2a, 2b, 2c",
                description="MS-SSIM, PSNR, ACC vs bits per pixel for VAEU, VAEN, JPEG, PNG at several coverages")
plt.show()

# %% [markdown]
# ## Figure 2d: quality against inverse coverage
#
# MS-SSIM against $1/c$ for every method (mean over seeds; the band is the spread over seeds); the points at
# $1/c = 0$ are the error-free references. Right is cheaper sequencing. The paper's claim: JPEG and PNG are
# better when nearly every oligo comes back, VAE latents degrade gracefully when many do not.

# %%
fig, ax = plt.subplots(figsize=(7, 4.2))
ms = sweep[sweep.metric == "ms_ssim"]  # the error-free reference sits at 1/c = 0
labels = list(dict.fromkeys(ms.sort_values(["method", "setting"]).label))
for label in labels:
    d = ms[ms.label == label].groupby("inv_coverage").value.agg(["mean", "std"]).fillna(0)
    fam = ms[ms.label == label].method.iloc[0]
    setting = ms[ms.label == label].setting.iloc[0]
    main = (fam in ("VAEU", "VAEN") and setting == P["n_bits_table"]) or fam == "PNG" or (
        fam == "JPEG" and setting == P["jpeg_figure_quality"])
    ax.plot(d.index, d["mean"], marker="o", ms=3, color=families[fam], alpha=1.0 if main else 0.35,
            lw=1.8 if main else 0.9, label=label)
    if main:
        ax.fill_between(d.index, d["mean"] - d["std"], d["mean"] + d["std"], color=families[fam], alpha=0.15)
ax.set_xlabel("inverse coverage 1/c")
ax.set_ylabel("MS-SSIM")
ax.legend(fontsize=6, ncol=2)
ax.set_title("Figure 2d: MS-SSIM vs inverse coverage", fontsize=10)
run.save_figure(fig, "figure2d_msssim_vs_inverse_coverage", reproduces="Figure 2d",
                description="MS-SSIM vs 1/coverage for every method and setting")
plt.show()

# %% [markdown]
# ## Figures 3a and 3b: reconstructions at coverage 3 and 10
#
# From top to bottom: originals, VAEN, VAEU (both $N_{bit} = 8$), JPEG (quality 50) and PNG, first seed. A JPEG
# or PNG that failed to decode is blank, as the paper shows it.

# %%
n_fig = P["figure_images"]
for letter, cov in zip("ab", P["figure_coverages"]):
    rows_img = [("original", test.x[:n_fig]), ("VAEN", recon[("VAEN", cov)]), ("VAEU", recon[("VAEU", cov)]),
                (f"JPEG q{P['jpeg_figure_quality']}", recon[("JPEG", cov)]), ("PNG", recon[("PNG", cov)])]
    fig, axes = plt.subplots(len(rows_img), n_fig, figsize=(n_fig * 0.9, len(rows_img) * 0.95), squeeze=False)
    for r, (name, imgs) in enumerate(rows_img):
        for c in range(n_fig):
            axes[r, c].imshow(imgs[c, 0].numpy(), cmap="gray", vmin=0, vmax=1)
            axes[r, c].set_xticks([])
            axes[r, c].set_yticks([])
        axes[r, 0].set_ylabel(name, fontsize=7)
    fig.suptitle(f"Figure 3{letter}: coverage {cov}", fontsize=9)
    run.save_figure(fig, f"figure3{letter}_reconstructions_coverage{cov:g}", reproduces=f"Figure 3{letter}",
                    description=f"originals, VAEN, VAEU, JPEG, PNG read back at coverage {cov}")
    plt.show()

# %% [markdown]
# ## BBMap as the read simulator
#
# The same decoder on reads from BBMap's `randomreads.sh` (the paper's simulator), for the VAE pools at
# $N_{bit} = 8$, first seed, at a few coverages, beside our simulator's numbers for the same points.

# %%
bb_rows = []
if bbmap_available():
    bb_channel = pipeline.Channel(channel.errors, bias_sigma=channel.bias_sigma, backend="bbmap",
                                  consensus=channel.consensus)
    seed = P["seeds"][0]
    for payload, pool, quantizer, fill in vae_methods(seed):
        if payload.setting != P["n_bits_table"]:
            continue
        for cov in P["bbmap_coverages"]:
            got = pipeline.retrieve(pool, payload, cov, bb_channel, seed)
            gamma_hat, erased = storage.vae_latents(payload, got.files, quantizer, fill)
            q = image_quality(test.x, vs.reconstruct(models[seed], gamma_hat), test.y, classifier)
            ours = sweep[(sweep.label == payload.label) & (sweep.seed == seed) & (sweep.backend == "numpy")]
            for metric, value in q.items():
                near = ours[(ours.metric == metric) & (ours.coverage == cov)].value
                bb_rows.append(dict(label=payload.label, coverage=cov, metric=metric, bbmap=value,
                                    numpy=float(near.iloc[0]) if len(near) else np.nan,
                                    erased_values_bbmap=erased.float().mean().item(), reads=got.reads))
else:
    print("BBMap backend skipped:", missing_reason())
bbmap_table = pd.DataFrame(bb_rows, columns=["label", "coverage", "metric", "bbmap", "numpy", "erased_values_bbmap",
                                             "reads"])
run.write_table(bbmap_table, "bbmap_backend_points", reproduces="Section IV (randomreads as the channel)",
                description="VAE quality when the reads come from BBMap randomreads.sh vs our simulator "
                            "(empty when BBMap is not installed)")
bbmap_table.round(4)

# %% [markdown]
# ## The cost table
#
# Synthesis cost per image is the nucleotides written; sequencing cost is the reads needed. Two notions of "the
# coverage it needs", both read off the sweep (smallest swept coverage, every seed): **exact**, every image
# back bit for bit (VAE: no erased value; JPEG/PNG: every file complete); **approximate**, mean MS-SSIM within
# 1 % of the method's error-free MS-SSIM. "not reached" means no swept coverage achieved it.

# %%
ms_mean = sweep[sweep.metric == "ms_ssim"].groupby(["label", "coverage"]).agg(
    ms_ssim=("value", "mean"), complete_min=("complete_images", "min")).reset_index()
cost_rows = []
for _, pr in pool_table.iterrows():
    d = ms_mean[ms_mean.label == pr.label]
    ref = float(d[~np.isfinite(d.coverage)].ms_ssim.iloc[0])
    finite = d[np.isfinite(d.coverage)].sort_values("coverage")
    exact = finite[finite.complete_min >= 1.0].coverage
    approx = finite[finite.ms_ssim >= 0.99 * ref].coverage
    c_exact = float(exact.iloc[0]) if len(exact) else np.nan
    c_approx = float(approx.iloc[0]) if len(approx) else np.nan
    cost_rows.append(dict(label=pr.label, bpp=pr.bpp, bytes_per_image=pr.bytes_per_image,
                          oligo_length=pr.oligo_length, oligos_per_image=pr.oligos_per_image,
                          nt_synthesized_per_image=pr.nt_per_image, error_free_ms_ssim=ref,
                          coverage_exact=c_exact, reads_per_image_exact=c_exact * pr.oligos_per_image,
                          coverage_approx=c_approx, reads_per_image_approx=c_approx * pr.oligos_per_image,
                          nt_sequenced_per_image_approx=c_approx * pr.oligos_per_image * pr.oligo_length))
cost = pd.DataFrame(cost_rows)
run.write_table(cost, "cost_table", reproduces="cost argument of Sections IV-V",
                description="nucleotides synthesized and reads sequenced per image for each method at the coverage "
                            "it needs (exact and within 1 % MS-SSIM); NaN: not reached in the sweep")
cost.round(3).astype(object).where(cost.notna(), "not reached")

# %% [markdown]
# ## The paper's claims, checked
#
# The paper gives Figure 2 only as plots, so its checkable content is four sentences; each row below puts one
# beside our numbers (means over seeds, `cpu`: 1,000 test images). "Compression" compares bytes per image of the
# VAE variant at $N_{bit} = 8$ with the smallest JPEG or PNG file size; since the paper does not state its
# $N_{bit}$, the second row gives the largest swept $N_{bit}$ at which the factor is still 10 or more.

# %%
ref_ratio = paper_numbers("generative_dna", "Section IV claims").set_index("metric").value["compression_ratio"]
by_label = cost.set_index("label")
vaen = f"VAEN {P['n_bits_table']}-bit"
vaeu = f"VAEU {P['n_bits_table']}-bit"
jpeg_labels = [p.label for p in image_payloads if p.family == "JPEG"]
smallest_classic = min(by_label.loc[jpeg_labels + ["PNG"], "bytes_per_image"])
ratio = smallest_classic / by_label.loc[vaen, "bytes_per_image"]
ratios = {nb: smallest_classic / by_label.loc[f"VAEN {nb}-bit", "bytes_per_image"] for nb in P["n_bits"]}
enough = [nb for nb, r in ratios.items() if r >= ref_ratio]
low, high = min(P["figure_coverages"]), max(P["coverages"])
at = ms_mean.set_index(["label", "coverage"]).ms_ssim
fail = sweep[sweep.metric == "ms_ssim"].groupby(["label", "coverage"]).decode_failures.mean()
classic = jpeg_labels + ["PNG"]
claims = pd.DataFrame([
    dict(claim="VAE compresses at least 10x better than JPEG/PNG (bytes per image, smallest JPEG or PNG / VAEN)",
         paper=ref_ratio, ours=ratio, holds=bool(ratio >= ref_ratio)),
    dict(claim="largest swept N_bit at which VAE is still at least 10x smaller than the smallest JPEG/PNG",
         paper=np.nan, ours=float(max(enough)) if enough else np.nan, holds=bool(enough)),
    dict(claim=f"at low coverage ({low}x) JPEG/PNG decoding fails in the majority of cases (mean failure rate)",
         paper=np.nan, ours=float(np.mean([fail[(lb, low)] for lb in classic])),
         holds=bool(np.mean([fail[(lb, low)] for lb in classic]) > 0.5)),
    dict(claim=f"at low coverage ({low}x) VAEN keeps higher MS-SSIM than every JPEG/PNG (VAEN minus best classic)",
         paper=np.nan, ours=float(at[(vaen, low)] - max(at[(lb, low)] for lb in classic)),
         holds=bool(at[(vaen, low)] > max(at[(lb, low)] for lb in classic))),
    dict(claim=f"at high coverage ({high}x) JPEG/PNG reach higher quality than VAE (best classic minus VAEN)",
         paper=np.nan, ours=float(max(at[(lb, high)] for lb in classic) - at[(vaen, high)]),
         holds=bool(max(at[(lb, high)] for lb in classic) > at[(vaen, high)])),
    dict(claim="VAEN is qualitatively better than VAEU at low coverage (MS-SSIM difference)",
         paper=np.nan, ours=float(at[(vaen, low)] - at[(vaeu, low)]), holds=bool(at[(vaen, low)] > at[(vaeu, low)])),
])
run.write_table(claims, "claims_comparison", reproduces="Section IV claims (Figures 2-3 text)", kind="comparison",
                description="the paper's statements about Figures 2 and 3 beside our numbers")
claims

# %% [markdown]
# ## Throughput
#
# How fast each stage runs here, on random files of 500 bytes (the size of an MNIST JPEG), from
# `repro.dna.benchmark.throughput`, the function behind `benchmarks/dna_throughput.py`; and the rates the sweep
# above achieved on the real payloads.

# %%
bench = pd.DataFrame(throughput(P["benchmark_files"], 500, P["benchmark_coverages"], P["payload_nt"],
                                channel.errors, channel.bias_sigma, channel.consensus))
bench = pd.concat([bench, pd.DataFrame([
    dict(stage="whole coverage sweep: simulate reads", items=sweep_seconds["reads"], unit="reads",
         seconds=sweep_seconds["sequencing"],
         per_second=sweep_seconds["reads"] / max(sweep_seconds["sequencing"], 1e-9)),
    dict(stage="whole coverage sweep: cluster, consensus, decode", items=sweep_seconds["reads"], unit="reads",
         seconds=sweep_seconds["decoding"], per_second=sweep_seconds["reads"] / max(sweep_seconds["decoding"], 1e-9)),
    dict(stage="whole coverage sweep incl. image decoding and metrics", items=len(test) * len(P["seeds"]),
         unit="images x seeds", seconds=sweep_seconds["total"], per_second=np.nan)])], ignore_index=True)
run.write_table(bench, "throughput", reproduces="benchmark (issue 6)",
                description="encode/decode throughput, reads simulated per second, reads clustered and decoded per "
                            "second; the sweep's own totals")
bench[["stage", "coverage", "items", "unit", "seconds", "per_second"]].round(2)

# %% [markdown]
# ## How this compares with the paper
#
# * **Rate (Figures 2a-2c).** The VAE variants sit one to two orders of magnitude left of JPEG and PNG on the
#   bits-per-pixel axis, the paper's main point; the claims table gives the factor at $N_{bit} = 8$.
# * **Coverage (Figure 2d, Figures 3a/3b).** The shape to check is the crossing: at high coverage JPEG/PNG give
#   higher MS-SSIM, at low coverage their files fail while the VAE images degrade towards the mean image. The
#   claims table states which of these hold in our numbers.
# * **Cost.** The cost table turns the figures into nucleotides and reads per image.
#
# Deliberate differences from the paper, all stated where they matter:
#
# * The paper used its own `pg_oligo_archive` (OligoArchive) encoder and decoder, which are not public. Ours
#   follows the same steps (Huffman base-3 code, chunks with an index, rotating code, consensus, reordering by
#   index) with choices of our own: byte-aligned chunks, a byte-offset index, a header check and a whole-oligo
#   check, no overlapping-segment redundancy (Goldman's fourfold overlap) and no primers. Oligos are
#   150 nt of payload plus the index and checks (the `oligo_pools` table gives each pool's oligo length).
# * The paper's channel was BBMap `randomreads.sh` with its default Illumina model; it does not state coverage
#   bias or rates. Our sweep uses our simulator (substitution $2\cdot10^{-3}$, insertion $5\cdot10^{-4}$,
#   deletion $10^{-3}$ per base, log-normal bias $\sigma = 0.5$) because BBMap cannot produce deletions in
#   full-length reads and is slow; BBMap drives the comparison above with the same coverage model.
# * How the paper scored a JPEG/PNG that failed to decode is not stated; ours scores it as a blank image and
#   reports the failure rate. PSNR is capped at 60 dB per image (lossless PNG).
# * `cpu` stores 1,000 test images (a fixed seeded subset) and uses VAEs trained 10 epochs (notebook 01's `cpu`
#   models); `paper` stores all 10,000 with 100-epoch models.

# %%
elapsed = time.perf_counter() - T0
run.write_json({"seconds": elapsed, "sweep_seconds": sweep_seconds, "device": str(dev),
                "classifier_test_accuracy": clf_info["test_accuracy"], "bbmap_available": bbmap_available(),
                "test_images": len(test)},
               "run_info", reproduces="run metadata", description="wall time, sweep time, device, BBMap availability")
print(f"notebook finished in {elapsed:.0f} s ({profile} profile)")
