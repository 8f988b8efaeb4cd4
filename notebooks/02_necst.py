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
# # 02 · NECST: neural joint source-channel coding with discrete codes
#
# *Reproduces Choi et al., "Neural Joint Source-Channel Coding", ICML 2019 (`shared/papers/002_*.txt`): Figure 3
# (NECST vs a VAE + rate-1/2 LDPC separation scheme, and decoding time against belief propagation), Figure 2
# (extra bits a WebP + ideal channel code system needs), Figure 4 (bit-flip interpolation), Table 1 (downstream
# classification) and Markov-chain samples. One notebook, run once per dataset: the `dataset` parameter selects
# which of these a run produces.*
#
# | dataset | what this notebook produces for it |
# | --- | --- |
# | `binary_mnist` (100 bits), `omniglot` (200), `random_bits` (50) | Figure 3 left and right |
# | `cifar10` (500 bits), `celeba32` (500) | Figure 2 |
# | `mnist` (100 bits) | Table 1, Figure 4, Markov-chain samples |
#
# ## The idea
#
# Classical systems compress first (source code) and then add redundancy (channel code); Shannon's separation
# theorem says this is optimal only for infinitely long blocks. NECST learns both at once for a fixed budget of
# $m$ bits. An encoder gives independent Bernoulli probabilities $\sigma(f_\phi(x)_i)$ for the $m$ code bits; a
# binary symmetric channel flips each bit with probability $\varepsilon$, and since a flip of a Bernoulli bit is
# again a Bernoulli bit, the channel can be folded into the code distribution:
#
# $$q^{\text{noisy}}(y_i = 1 \mid x) = \sigma(f_\phi(x)_i)\,(1 - 2\varepsilon) + \varepsilon .$$
#
# (For the erasure channel each bit is erased with probability $\varepsilon$; the decoder then sees 0 in the signed
# code $2y - 1$.) A decoder $p_\theta(x \mid y)$ reconstructs the image. Training maximizes a variational lower
# bound on the mutual information between $x$ and the *received* code $\hat y$ (Barber and Agakov's bound):
#
# $$I(X; \hat Y) = H(X) - H(X \mid \hat Y) \;\ge\; H(X) + \mathbb{E}_{x}\,\mathbb{E}_{\hat y \sim q^{\text{noisy}}(\hat y \mid x)}
#   \big[\log p_\theta(x \mid \hat y)\big],$$
#
# with equality when $p_\theta(x \mid \hat y)$ is the true posterior. $H(X)$, the entropy of the data, does not
# depend on the parameters, so the bound is maximized by maximizing the expected log-likelihood alone; the numbers
# we report (squared error, binary cross-entropy) are that term without the constant. In training the expectation
# uses $K = 5$ codes $\hat y_{1:K} \sim q^{\text{noisy}}(\cdot \mid x)$ per image and the tighter multi-sample
# objective
#
# $$\hat L(\hat y_{1:K}) = \log \frac1K \sum_{k=1}^{K} p_\theta(x \mid \hat y_k).$$
#
# Its gradient in the decoder's parameters is an average of per-sample gradients weighted by the normalized
# likelihoods, $\nabla_\theta \hat L = \sum_k \tilde w_k \nabla_\theta \log p_\theta(x \mid \hat y_k)$ with
# $\tilde w_k = p_\theta(x \mid \hat y_k) / \sum_j p_\theta(x \mid \hat y_j)$. The encoder's parameters enter only
# through the discrete samples, so it gets a score-function gradient with VIMCO's leave-one-out control variate
# (Mnih and Rezende, 2016):
#
# $$\nabla_\phi \hat L \approx \sum_{k=1}^{K} \big(\hat L(\hat y_{1:K}) - \hat L_{-k}\big)\,
#   \nabla_\phi \log q^{\text{noisy}}(\hat y_k \mid x),\qquad
#   \hat L_{-k} = \log \frac1K \Big(\sum_{j \ne k} p_\theta(x \mid \hat y_j)
#   + \exp\Big(\tfrac{1}{K-1} \textstyle\sum_{j \ne k} \log p_\theta(x \mid \hat y_j)\Big)\Big):$$
#
# each sample's learning signal is how much the objective drops when that sample is replaced by the geometric
# mean of the others. $\hat L_{-k}$ does not depend on $\hat y_k$, so the estimator stays unbiased, and it removes
# most of the variance of the plain score-function estimator. `repro.coding.vimco` builds a surrogate whose gradient is
# exactly this pair.
#
# The separation baseline is a discrete VAE with $m/2$ Bernoulli latents and a uniform prior (the best
# compressor of this kind at $m/2$ bits), protected by a rate-1/2 LDPC code of length $m$ and decoded with 50
# iterations of belief propagation (the `ldpc` package). Whatever bits BP returns, valid codeword or not, go to
# the VAE decoder.

# %% tags=["parameters"]
profile = "cpu"  # smoke | cpu | paper; the remaining None values come from the profile
dataset = "binary_mnist"  # binary_mnist | omniglot | random_bits | mnist | cifar10 | celeba32
channel = "bsc"  # bsc | bec (the LDPC and WebP baselines are defined for the BSC only)
device = "auto"  # auto | cpu | cuda
output_dir = None
data_dir = None
epochs = None
vae_epochs = None
n_train = None
n_test = None
seeds = None
eps_values = None
table1_eps = None
clf_n_train = None
clf_n_test = None
timing_batch = None
timing_words = None
chain_steps = None
chain_starts = None
webp_images = None
threads = None  # torch CPU threads per process (smoke/cpu: 1, the fastest on a busy 2-core machine)
precision = None  # auto | fp32 | bf16 (auto: bf16 only with native hardware bf16; part of the checkpoint key)
stop_plateau = None  # stop once validation improved < this fraction over the last quarter (epochs = maximum)
min_epochs = None  # no plateau stop before this many epochs

# %%
import dataclasses
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import display

from repro.bundle.compare import paper_numbers, side_by_side
from repro.bundle.results import Run, point_to_executed
from repro.coding.ldpc import time_ldpc
from repro.core.cache import CheckpointCache
from repro.core.runtime import pick_device, pin_threads
from repro.data import load_dataset
from repro.experiments import necst as necst_exp
from repro.parts import given
from repro.plots import necst as plots
from repro.plots.registry import image_bytes
from repro.systems import necst

# The role of this dataset's run, its eps sweep and every other setting (repro.experiments.necst.settings), from
# every value the parameters cell set, by the names notebook 02 declares (repro.parts.necst).
P = necst_exp.settings(profile, given("02_necst", globals()))
role = P["role"]
pin_threads(P["threads"])
dev = pick_device(device)
run = Run("02_necst", profile, P, P["seeds"], output_dir)
cache = CheckpointCache()
T0 = time.perf_counter()
print(f"{dataset} ({role}) profile {profile} on {dev}; outputs to {run.folder}")
print(P)

# %% [markdown]
# ## Data and models
#
# The MLP datasets use the official architecture: encoder $D$-500 (leaky ReLU 0.2)-$m$, decoder $m$-500-500-$D$
# without biases and with Glorot initialization; 32x32 colour images use three conv blocks (64/32/16 channels)
# and a mirrored upsampling decoder. Adam with learning rate $10^{-3}$, batch 100, encoder L2 weight $10^{-4}$.
# Binary data have a Bernoulli decoder; real-valued data a Gaussian one with fixed variance, whose log-likelihood
# is the negative squared error.

# %%
train = load_dataset(dataset, "train", data_dir).subset(P["n_train"])
test = load_dataset(dataset, "test", data_dir).subset(P["n_test"])
print(f"train {tuple(train.x.shape)}  test {tuple(test.x.shape)}  ({train.source} data)")
for note in train.notes:
    print("note:", note)

# %%
# NBVAL_CHECK_OUTPUT
print(necst.build_model(dataset, eps=0.0))


# %%
# One training job per (eps, seed) (repro.experiments.necst.necst_job): trained here when its checkpoint is
# missing, or ahead of time, in parallel, by `python -m repro.jobs run --notebook 02_necst`.
histories = []
models = {}
for seed in P["seeds"]:
    for eps in P["eps_values"]:
        models[(eps, seed)], hist = necst_exp.necst_job(P, eps, seed).train(device=dev, cache=cache,
                                                                            data_root=data_dir)
        histories += [{**h, "eps": eps, "seed": seed, "method": "NECST"} for h in hist]
history = pd.DataFrame(histories)
run.write_table(history, f"training_history_{dataset}", reproduces="training log",
                description=f"NECST training on {dataset}: VIMCO bound and training distortion per epoch")
print(history.groupby(["eps", "seed"]).tail(1)[["eps", "seed", "epoch", "bound", "l2_per_image",
                                                 "images_per_s"]].to_string(index=False))

# %% [markdown]
# ## Figure 3 (left): NECST against VAE + rate-1/2 LDPC
#
# *(Runs for `binary_mnist`, `omniglot` and `random_bits`; executed notebooks:
# [`binary_mnist`](../figures/02_necst/executed/binary_mnist.ipynb),
# [`omniglot`](../figures/02_necst/executed/omniglot.ipynb),
# [`random_bits`](../figures/02_necst/executed/random_bits.ipynb).)*
# Test images are encoded (codes sampled from the
# encoder), sent through a BSC at the noise level the model was trained for, and decoded. The distortion is the
# per-pixel squared error of the **binarized** reconstruction (decoder mean > 1/2), i.e. the fraction of wrong
# pixels: the paper does not say which reconstruction it scores, but its random-bits numbers (0.50 at
# $\varepsilon = 0.5$, where nothing gets through) are only possible for binary outputs; the error of the
# decoder's mean (`l2_per_pixel_mean`, at most 0.25 per pixel for a chance-level output) is in the results file
# too. The baseline's discrete VAE is trained once (no channel) and its $m/2$ latent bits are LDPC-encoded to
# $m$ bits for every $\varepsilon$.

# %%
# The paper's numbers are compared with the binarized reconstruction's error; the decoder-mean error is kept too.
METRIC_KEYS = {"l2_per_pixel": "l2_per_pixel_binarized", "l2_per_pixel_mean": "l2_per_pixel"}
if role == "figure3":
    rows = []
    for seed in P["seeds"]:
        for eps in P["eps_values"]:
            d = necst.distortion(models[(eps, seed)], test.x, eps, seed=seed)
            rows += [dict(dataset=dataset, method="NECST", channel="bsc", noise=eps, metric=metric,
                          value=d[key], seed=seed, bits=P["bits"]) for metric, key in METRIC_KEYS.items()]
        vae, vae_hist = necst_exp.discrete_vae_job(P, seed).train(device=dev, cache=cache, data_root=data_dir)
        baseline = necst.VAEWithLDPC(vae, code_seed=0, max_iter=P["max_iter"])
        for eps in P["eps_values"]:
            out = baseline.reconstruct_with_info(test.x, generator=torch.Generator().manual_seed(seed), eps=eps)
            d = necst.reconstruction_errors(test.x, out.x_hat, binary=True)
            rows += [dict(dataset=dataset, method="VAE+LDPC", channel="bsc", noise=eps, metric=metric,
                          value=d[key], seed=seed, bits=P["bits"]) for metric, key in METRIC_KEYS.items()]
            rows.append(dict(dataset=dataset, method="VAE+LDPC", channel="bsc", noise=eps,
                             metric="ldpc_converged_fraction", value=float(out.converged.mean()), seed=seed,
                             bits=P["bits"]))
    fig3 = pd.DataFrame(rows)
    run.write_table(fig3, f"figure3_left_{dataset}", reproduces="NECST Figure 3 (left)",
                    description=f"per-pixel L2 after a BSC, NECST vs VAE+LDPC, {dataset}")
    ref = paper_numbers("necst", "Figure 3 left")
    ref = ref[ref.dataset == dataset]
    comparison = side_by_side(fig3[fig3.metric == "l2_per_pixel"], ref)
    comparison = comparison[comparison.noise.isin(P["eps_values"])]
    run.write_table(comparison, f"figure3_left_{dataset}_comparison", reproduces="NECST Figure 3 (left)",
                    kind="comparison", description=f"{dataset}, {P['bits']} bits: paper vs ours (per-pixel L2)")
    display(comparison.round(4))

    run.draw(plots.figure3_left, dataset=dataset)
    plt.show()
else:
    point_to_executed("02_necst", "Figure 3 (left)", ['binary_mnist', 'omniglot', 'random_bits'])

# %% [markdown]
# ### Random bits: why the discrete VAE does not learn
#
# *(Runs for `random_bits`.)* The baseline's discrete VAE scores chance (0.50) on random bits at every
# $\varepsilon$, also without noise. This is not a training budget problem. Its objective is the ELBO
# $\mathbb E_q[\log p(x \mid z)] - \mathrm{KL}(q(z \mid x)\,\|\,\text{uniform})$. For $D$ = 100 independent
# uniform bits, a code of $m/2$ = 25 bits that copies 25 input bits reconstructs those exactly, a gain of
# $25 \log 2$ nats, and pays $\mathrm{KL} = 25 \log 2$ for a deterministic code: both the copying code and the
# collapsed code ($q(z \mid x)$ = uniform, decoder = 1/2 everywhere) reach $-100 \log 2 = -69.3$ nats, which is
# also the ceiling no model can beat on fresh strings (Gibbs' inequality). The objective is indifferent between
# them, and any residual noise in the encoder makes the copying code strictly worse, so training slides to the
# collapse. NECST has no KL term and is pushed to use its bits; the VAE + LDPC row is a property of the ELBO at
# $m/2$ bits, not an under-trained model. The table measures it: the test bound against the ceiling, and
# $\sum_d [H(Y_d) - H(Y_d \mid X)]$, an upper bound on what the code bits say about the input (0 when collapsed).

# %%
if dataset == "random_bits":
    usage = []
    for seed in P["seeds"]:
        vae, vae_hist = necst_exp.discrete_vae_job(P, seed).train(device=dev, cache=cache, data_root=data_dir)
        u = necst.latent_usage(vae, test.x, seed=seed)
        usage.append({"seed": seed, "epochs": len(vae_hist), "train_bound_last_epoch": vae_hist[-1]["bound"],
                      "test_bound": u["bound"], "ceiling_-D_log2": u["ceiling"],
                      "code_information_nats": u["code_information"], "code_bits": u["code_bits"],
                      "mean_abs_p_minus_half": u["mean_abs_p_minus_half"]})
    usage = pd.DataFrame(usage)
    run.write_table(usage, "random_bits_vae_collapse", reproduces="NECST Figure 3 (left), random-bits baseline",
                    description="discrete VAE on random bits: ELBO vs the -D log 2 ceiling and code information")
    display(usage.round(4))
    print(f"test bound - ceiling: {(usage.test_bound - usage['ceiling_-D_log2']).mean():+.3f} nats per string; "
          f"code information {usage.code_information_nats.mean():.3f} nats over {int(usage.code_bits[0])} bits")

# %% [markdown]
# ## Figure 3 (right): decoding time
#
# One forward pass of NECST's decoder against 50 iterations of belief propagation for the same $m$ bits, per
# word, with a whole batch at once and one word at a time. BP stops early when a word satisfies every parity
# check, so the timing uses $\varepsilon = 0.2$ (beyond the BP threshold of a (3, 6) code), where almost every
# word runs all 50 iterations. The `ldpc` decoder is single-threaded C++; NECST's decoder runs on the notebook's
# device with torch's threads.

# %%
if role == "figure3":
    model = models[(P["eps_values"][0], P["seeds"][0])]
    # every timed repeat is a row (`repeat`): the claims ledger's interval needs >= 5 of them (CLAIMS.md)
    REPEATS = 5
    runs = [time_ldpc(P["bits"], P["timing_batch"], REPEATS, batched=True, eps=0.2, max_iter=P["max_iter"]),
            time_ldpc(P["bits"], P["timing_words"], REPEATS, batched=False, eps=0.2, max_iter=P["max_iter"]),
            necst.time_decoder(model, P["timing_batch"], REPEATS, batched=True),
            necst.time_decoder(model, P["timing_words"], REPEATS, batched=False)]
    timing_runs = pd.DataFrame([{**{k: r_[k] for k in ("method", "mode", "bits", "batch", "device")}, "repeat": i,
                                 "seconds_per_word": t} for r_ in runs for i, t in enumerate(r_["seconds_per_word_each"])])
    timing = timing_runs.groupby(["method", "mode", "bits", "batch", "device"], as_index=False).seconds_per_word.median()
    speedup = (timing[timing.method != "NECST"].set_index("mode").seconds_per_word
               / timing[timing.method == "NECST"].set_index("mode").seconds_per_word).rename("BP time / NECST time")
    run.write_table(timing_runs, f"figure3_right_{dataset}", reproduces="NECST Figure 3 (right)",
                    description=f"decoding seconds per word, NECST vs LDPC BP, {P['bits']} bits, one row per timed "
                                f"repeat ({REPEATS} per method and mode)")
    display(timing)
    display(speedup.to_frame())
    run.draw(plots.figure3_right, dataset=dataset)
    plt.show()
else:
    point_to_executed("02_necst", "Figure 3 (right)", ['binary_mnist', 'omniglot', 'random_bits'])

# %% [markdown]
# ## Figure 2: how many more bits does WebP + an ideal channel code need?
#
# *(Runs for `cifar10` and `celeba32`; executed notebooks:
# [`cifar10`](../figures/02_necst/executed/cifar10.ipynb), [`celeba32`](../figures/02_necst/executed/celeba32.ipynb).)*
# For each test image we take NECST's distortion at a given
# $\varepsilon$ (per-image squared error) and search every WebP quality (Pillow) for the smallest file, container
# headers excluded, whose distortion is at most NECST's; an ideal channel code for the BSC then needs
# $\text{bits} / (1 - H_b(\varepsilon))$ channel bits. The plot shows the mean of that minus NECST's $m$ over
# the images WebP can match at all; images WebP cannot match at any quality are counted, not dropped. The paper
# gives this figure without numbers, so there is no side-by-side table.

# %%
if role == "figure2":
    from repro.coding.webp import summarize_webp_matching, webp_bits_to_match

    images = test.subset(P["webp_images"])
    frames = []
    for seed in P["seeds"]:
        targets = np.stack([necst.distortion_per_image(models[(eps, seed)], images.x, eps, seed=seed)
                            for eps in P["eps_values"]])  # (E, N): one WebP search per image serves every eps
        f = webp_bits_to_match(images.x, targets, P["eps_values"], P["bits"])
        f["seed"] = seed
        frames.append(f)
    per_image = pd.concat(frames, ignore_index=True)
    summary = summarize_webp_matching(per_image)
    run.write_table(per_image, f"figure2_{dataset}_per_image", reproduces="NECST Figure 2",
                    description="per-image WebP bits needed to match NECST's distortion")
    run.write_table(summary, f"figure2_{dataset}", reproduces="NECST Figure 2",
                    description=f"mean extra bits of WebP + ideal channel code over NECST's {P['bits']} bits")
    display(summary)
    run.draw(plots.figure2, dataset=dataset)
    plt.show()
else:
    point_to_executed("02_necst", "Figure 2", ['cifar10', 'celeba32'])

# %% [markdown]
# ## Table 1: are NECST's codes useful features?
#
# *(Runs for `mnist`; executed notebook:
# [`mnist`](../figures/02_necst/executed/mnist.ipynb).)*
# The thresholded 100-bit codes of models trained at $\varepsilon$ = 0, 0.1, 0.2 are
# features for eight scikit-learn classifiers; "noisy MNIST" feeds the same frozen encoders images with Gaussian
# pixel noise of standard deviation 0.5 (the paper writes N(0, 0.5); we read 0.5 as the standard deviation and
# do not clip). The classifiers use scikit-learn defaults (the paper names them but not their settings); the MLP
# and SVM get a fixed seed. QDA gets a fixed covariance shrinkage of 0.1 (`solver="eigen"`): code bits that never
# change within a class make its class covariances singular, which current scikit-learn reports as an error
# instead of the warning older versions printed (Ledoit-Wolf's automatic shrinkage was still too small for the
# codes of the digit 1). At `cpu` the classifiers train on 5,000 training images and are tested on all 10,000
# test images, for each of three NECST seeds per $\varepsilon$: a single accuracy near 0.9 then has a binomial
# standard error of 0.003, and the seeds add the encoder's training variance. The paper's differences between
# $\varepsilon$ = 0 and 0.1/0.2 are 0.5-5 points; the ledger tests them with a t-interval over the three seeds.

# %%
if role == "table1":
    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis
    from sklearn.ensemble import AdaBoostClassifier, RandomForestClassifier
    from sklearn.naive_bayes import BernoulliNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    classifiers = {"KNN": lambda: KNeighborsClassifier(), "DT": lambda: DecisionTreeClassifier(random_state=0),
                   "RF": lambda: RandomForestClassifier(random_state=0), "MLP": lambda: MLPClassifier(random_state=0,
                   max_iter=300), "AdaB": lambda: AdaBoostClassifier(random_state=0), "NB": lambda: BernoulliNB(),
                   "QDA": lambda: QuadraticDiscriminantAnalysis(solver="eigen", shrinkage=0.1), "SVM": lambda: SVC(random_state=0)}
    clf_train = load_dataset(dataset, "train", data_dir).subset(P["clf_n_train"], 1)
    clf_test = load_dataset(dataset, "test", data_dir).subset(P["clf_n_test"], 1)
    noise_gen = torch.Generator().manual_seed(12345)

    def noisy(data):
        return dataclasses.replace(data, x=data.x + 0.5 * torch.randn(data.x.shape, generator=noise_gen))

    variants = {"mnist": (clf_train, clf_test), "noisy_mnist": (noisy(clf_train), noisy(clf_test))}
    rows = []
    import warnings

    for seed in P["seeds"]:
        for eps in P["table1_eps"]:
            model = models[(eps, seed)]
            for variant, (tr, te) in variants.items():
                f_tr, f_te = necst.code_features(model, tr), necst.code_features(model, te)
                for name, make in classifiers.items():
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")  # QDA collinearity and MLP convergence warnings
                        acc = make().fit(f_tr, tr.y.numpy()).score(f_te, te.y.numpy())
                    rows.append(dict(dataset=variant, method=name, channel="bsc", noise=eps, metric="accuracy",
                                     value=acc, seed=seed, bits=P["bits"]))
    table1 = pd.DataFrame(rows)
    run.write_table(table1, "table1", reproduces="NECST Table 1",
                    description="accuracy of 8 classifiers on NECST codes, MNIST / noisy MNIST")
    t1_cmp = side_by_side(table1, paper_numbers("necst", "Table 1"))
    t1_cmp = t1_cmp[t1_cmp.noise.isin(P["table1_eps"])].copy()
    # standard errors: of one accuracy on the n_test test images (binomial), and of the mean over NECST seeds
    t1_cmp["n_test"] = len(clf_test)
    t1_cmp["binomial_se"] = np.sqrt(t1_cmp.ours_mean * (1 - t1_cmp.ours_mean) / len(clf_test))
    t1_cmp["seed_se"] = t1_cmp.ours_std / np.sqrt(t1_cmp.n_seeds)
    run.write_table(t1_cmp, "table1_comparison", reproduces="NECST Table 1", kind="comparison",
                    description="classification accuracy on 100-bit NECST codes: paper vs ours")
    display(t1_cmp.pivot_table(index=["dataset", "noise"], columns="method", values=["paper", "ours_mean"]).round(3))
    print(f"classifiers trained on {len(clf_train)} and tested on {len(clf_test)} images: binomial standard error "
          f"{t1_cmp.binomial_se.min():.4f}-{t1_cmp.binomial_se.max():.4f}; over {int(t1_cmp.n_seeds.max())} NECST "
          f"seeds the standard error of a mean is {t1_cmp.seed_se.min():.4f}-{t1_cmp.seed_se.max():.4f}")
else:
    point_to_executed("02_necst", "Table 1", ['mnist'])

# %% [markdown]
# ## Figure 4: interpolation by flipping bits, and Markov-chain samples
#
# *(Runs for `mnist`; executed notebook:
# [`mnist`](../figures/02_necst/executed/mnist.ipynb).)*
# Starting from one test digit's thresholded code, we flip, in a random order, one more of
# the bits in which it differs from another digit's code, and decode after each flip. If NECST has spread each
# digit's information redundantly over its code, the identity survives many flips before changing.
#
# The Markov chain alternates $y \sim q^{\text{noisy}}(y \mid x)$ and $x \leftarrow$ the decoder's mean; by the
# paper's Theorem 1 an optimal model would sample the data distribution. We start from test images and report
# how many distinct classes (judged by the MNIST classifier of notebook 01) each chain visits.

# %%
if role == "table1":
    eps_fig = 0.1 if 0.1 in P["table1_eps"] else P["table1_eps"][-1]
    model = models[(eps_fig, P["seeds"][0])]
    pairs = [(0, 1), (2, 3), (4, 5)]
    flips, shown, steps = [], [], []
    for r, (i, j) in enumerate(pairs):
        frames, n_diff = necst.bit_flip_interpolation(model, test.x[i], test.x[j], seed=r)
        picks = np.linspace(0, len(frames) - 1, 12).round().astype(int)
        flips.append({"start_label": int(test.y[i]), "end_label": int(test.y[j]), "differing_bits": n_diff})
        shown.append(image_bytes(frames[picks]))
        steps.append(picks)
    run.write_array("figure4_interpolation_images", reproduces="NECST Figure 4",
                    description="12 decoded frames per pair of test digits (8-bit pixels), the number of flips "
                                "before each, the pairs' test indices and the model's eps",
                    frames=np.stack(shown), flips=np.stack(steps), pairs=np.array(pairs), eps=np.array(eps_fig))
    run.draw(plots.figure4_interpolation)
    plt.show()
    display(pd.DataFrame(flips))

    digit_clf, clf_info = necst_exp.mnist_classifier_job("02_necst", profile).train(device=dev, cache=cache,
                                                                                     data_root=data_dir)
    starts = test.x[: P["chain_starts"]]
    chain = necst.markov_chain(model, starts, P["chain_steps"], eps_fig, seed=0)
    with torch.no_grad():
        labels = torch.stack([digit_clf(c.to(dev)).argmax(1).cpu() for c in chain])  # (steps + 1, N)
    visited = [len(set(labels[:, n].tolist())) for n in range(labels.shape[1])]
    chain_stats = pd.DataFrame({"start": range(len(visited)), "start_label": test.y[: len(visited)].tolist(),
                                "distinct_classes_visited": visited, "steps": P["chain_steps"], "noise": eps_fig})
    run.write_table(chain_stats, "markov_chain_diversity", reproduces="NECST Markov-chain samples",
                    description="distinct classes (MNIST classifier) visited by each chain")
    display(chain_stats)
    run.write_array("markov_chain_samples_images", reproduces="NECST Markov-chain samples",
                    description="every step of each chain (8-bit pixels, steps x chains) and the model's eps",
                    chain=image_bytes(chain), eps=np.array(eps_fig))
    run.draw(plots.markov_chain_samples)
    plt.show()
else:
    point_to_executed("02_necst", "Figure 4 and the Markov chains", ['mnist'])

# %% [markdown]
# ## Differences from the paper and from the official code
#
# * **VIMCO.** The official TensorFlow code applies its log-mean-exp to the per-sample *loss* (a negative
#   log-likelihood), which gives the largest weight to the worst sample; we use the standard VIMCO objective
#   $\log\frac1K\sum_k p(x\mid y_k)$ with leave-one-out baselines (`repro.coding.vimco`, tested against exact
#   enumeration).
# * **Architectures.** MLPs as in the official code. For 32x32 colour images we use a cleaner equivalent of the
#   official conv coder (its BatchNorm is always in inference mode, i.e. a fixed affine map, which we omit).
#   Decoders see the signed code $2y - 1$ (erasures as 0) instead of $\{0, 1\}$.
# * **Data.** Binary MNIST is thresholded at 0.5 (not Larochelle's fixed binarization); Omniglot is resized from
#   105x105 (not Burda's 28x28 split); CelebA is a 10k subset at 32x32. The CelebA code length (500) is our choice.
# * **LDPC.** A (3, 6)-regular code built by progressive edge growth (`repro.coding.ldpc`); the paper does not say
#   which LDPC code it used. Sum-product BP, 50 iterations.
# * **Budget.** The paper trains 200 epochs. The `cpu` profile trains full training sets with three seeds for
#   Figure 3 left and Table 1, at 4 (binary MNIST), 5 (Omniglot) and 8 (MNIST, random bits) epochs, each model
#   tested at the epoch with the lowest validation distortion; the MNIST models at $\varepsilon$ = 0.1 are the
#   ones notebook 03 trains for its main point. A calibration run (MNIST, $\varepsilon$ = 0.1) reached test L2
#   27.4 / 19.8 / 17.9 / 16.0 per image after 1 / 5 / 10 / 30 epochs against the paper's 14.44: these budgets are
#   short of convergence, and the training histories show by how much. The 32x32 coders (CIFAR-10 on 10,000
#   images, CelebA) get 3-4 epochs, one seed. The `paper` profile is the paper's budget, for a GPU or a Ray
#   cluster: `python -m repro.jobs run --notebook 02_necst --profile paper --ray auto`, then
#   `python -m repro.bundle.runner --profile paper --only 02_necst --no-jobs`.

# %% [markdown]
# ## Verdicts
#
# The claims ledger (`repro.bundle.claims`; `python -m repro.bundle.report` writes `figures/claims.csv`) decides each claim of
# this paper from the results files, with a 95 % interval over seeds (or a paired bootstrap over test images for
# one seed), the mean-image baseline and the convergence check. The rows below are its verdicts on the files in
# this run's output folder; claims whose evidence comes from another dataset's run count it as missing until
# that run is there.

# %%
from repro.bundle import claims

display(claims.rows_for("02_necst", run.folder)[["claim_id", "verdict", "ours", "ours_ci_low", "ours_ci_high",
                                                 "n_seeds", "sanity_ok", "compute_fraction", "why"]])

# %%
elapsed = time.perf_counter() - T0
run.write_json({"seconds": elapsed, "device": str(dev), "dataset": dataset, "role": role},
               f"run_info_{dataset}", reproduces="run metadata", description="wall time and device")
print(f"{dataset}: finished in {elapsed:.0f} s ({profile} profile)")
