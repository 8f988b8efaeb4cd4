"""Paper 002 (NECST), notebook 02: the role of each dataset, its resolved settings and its training jobs.

Each dataset run of notebook 02 has a *role*: ``figure3`` (binary MNIST, Omniglot, random bits: NECST against
VAE + LDPC over a sweep of eps), ``figure2`` (CIFAR-10, CelebA: the WebP comparison) or ``table1`` (MNIST: code
features for classifiers, interpolation and Markov chains)."""

from __future__ import annotations

from repro.bundle.profiles import for_dataset, resolve
from repro.channels.discrete import channel_class, check_level
from repro.core.checks import ConfigError, check_choice
from repro.experiments.common import cost, n_images, resolve_precision, split_params
from repro.jobs.spec import Job
from repro.parts.necst import PART
from repro.systems import necst

NOTEBOOK = PART.notebook
ROLES = {"binary_mnist": "figure3", "omniglot": "figure3", "random_bits": "figure3", "cifar10": "figure2",
         "celeba32": "figure2", "mnist": "table1"}
DEFAULT_EPS = {"figure3": [0.0, 0.1, 0.2, 0.3, 0.4, 0.5], "figure2": [0.0, 0.1, 0.2]}  # table1 uses table1_eps


def settings(profile: str, params: dict) -> dict:
    """Notebook 02's parameters for one dataset run (profile, per-dataset values, role, eps sweep, bits)."""
    runtime, overrides = split_params(params)
    dataset = runtime.get("dataset") or "binary_mnist"
    channel = runtime.get("channel") or "bsc"
    check_choice("dataset", dataset, sorted(ROLES))
    channel_class(channel)  # the registry of repro.channels.discrete: one line naming the valid channels
    role = ROLES[dataset]
    if channel == "bec" and role != "table1":
        raise ConfigError(f"channel='bec' with dataset={dataset!r}: the {role} comparison (VAE+LDPC or WebP + ideal "
                          f"code over a BSC) is defined for channel='bsc' only; valid: channel='bsc', or "
                          f"channel='bec' with dataset='mnist'")
    P = for_dataset(resolve(NOTEBOOK, profile, **overrides), dataset)
    P["eps_values"] = P["table1_eps"] if role == "table1" else (P["eps_values"] or DEFAULT_EPS[role])
    for e in P["eps_values"]:
        check_level(channel, e)
    P.update(dataset=dataset, channel=channel, device=runtime.get("device") or "auto",
             bits=necst.SETTINGS[dataset]["bits"], role=role)
    return resolve_precision(P, _family(dataset))


def _family(dataset: str) -> str:
    return "necst_conv" if necst.SETTINGS[dataset]["arch"] == "conv" else "necst_mlp"


# Validation images that pick the tested epoch (the whole validation split where it is smaller).
N_VAL = 10_000


def selected_model_kwargs(P: dict, *, method: str, eps: float, seed: int, epochs: int, channel: str = "bsc",
                          infomax_weight: float | None = None, official: bool = False,
                          abf_spend: str = "all", abf_channel: bool = True) -> dict:
    """Arguments of :func:`repro.systems.necst.train` for a model whose test checkpoint is the epoch with the
    lowest validation distortion (the papers' protocol). Notebooks 02 and 03 both build their NECST jobs with
    this function, so the same (dataset, eps, seed, budget) is one job, trained once and shared: arguments at
    their defaults (``bsc``, the infomax weight of a model without the infomax term, ``spend='all'``,
    ``abf_channel=True``) are left
    out of the job's key."""
    kwargs = dict(dataset=P["dataset"], eps=float(eps), seed=int(seed), epochs=int(epochs), n_train=P["n_train"],
                  batch_size=int(P["batch_size"]), lr=float(P["lr"]), method=method,
                  n_val=int(P.get("n_val") or N_VAL), select_best=True, precision=P.get("precision") or "fp32")
    if P.get("stop_plateau") is not None:  # the converge budget: epochs is the maximum (left out of the key when unset)
        kwargs.update(stop_plateau=float(P["stop_plateau"]), min_epochs=int(P["min_epochs"] or 1))
    if channel != "bsc":
        kwargs["channel"] = channel
    if method == "IABF":
        kwargs["infomax_weight"] = float(infomax_weight)
    if official:
        kwargs["official"] = True
    if abf_spend != "all":
        kwargs["abf_spend"] = abf_spend
    if not abf_channel:
        kwargs["abf_channel"] = False
    return kwargs


def necst_job(P: dict, eps: float, seed: int) -> Job:
    """NECST at ``eps``. The Figure 2 coders (CIFAR-10, CelebA) train without validation (their last epoch is
    tested, as in the committed runs); the others select their epoch on the validation split."""
    d = P["dataset"]
    if P["role"] == "figure2":
        kwargs = dict(dataset=d, eps=float(eps), seed=int(seed), epochs=int(P["epochs"]), channel=P["channel"],
                      n_train=P["n_train"], batch_size=int(P["batch_size"]), lr=float(P["lr"]),
                      precision=P.get("precision") or "fp32")
    else:
        kwargs = selected_model_kwargs(P, method="NECST", eps=eps, seed=seed, epochs=P["epochs"],
                                       channel=P["channel"])
    family = _family(d)
    return Job(NOTEBOOK, f"necst-{d}-{P['channel']}{eps:g}-seed{seed}", "repro.systems.necst:train", kwargs,
               cost=cost(family, P["epochs"], n_images(d, P["n_train"]), precision=kwargs["precision"]),
               meta={"eps": eps, "seed": seed}, family="conv" if family == "necst_conv" else "mlp")


def discrete_vae_job(P: dict, seed: int) -> Job:
    d = P["dataset"]
    kwargs = dict(dataset=d, eps=0.0, seed=int(seed), epochs=int(P["vae_epochs"]), bits=P["bits"] // 2,
                  prior="uniform", n_train=P["n_train"], batch_size=int(P["batch_size"]), lr=float(P["lr"]),
                  precision=P.get("precision") or "fp32")
    return Job(NOTEBOOK, f"dvae-{d}-seed{seed}", "repro.systems.necst:train", kwargs,
               cost=cost(_family(d), P["vae_epochs"], n_images(d, P["n_train"]), precision=kwargs["precision"]),
               meta={"seed": seed}, family="mlp")


def mnist_classifier_job(notebook: str, profile: str) -> Job:
    """The MNIST digit classifier that judges Markov-chain samples (shared with notebooks 01 and 03)."""
    from repro.models.classifier import ACC_CLASSIFIER_EPOCHS

    epochs = ACC_CLASSIFIER_EPOCHS if profile != "smoke" else 1
    n_train = None if profile != "smoke" else 1024
    return Job(notebook, "classifier-mnist", "repro.models.classifier:train_classifier",
               dict(dataset="mnist", epochs=epochs, n_train=n_train),
               cost=cost("classifier", epochs, n_images("mnist", n_train)), meta={"role": "chain_classifier"})


def jobs(P: dict) -> list[Job]:
    """The training jobs of one resolved notebook-02 run, in the order the notebook uses them."""
    out = [necst_job(P, eps, seed) for seed in P["seeds"] for eps in P["eps_values"]]
    if P["role"] == "figure3":
        out += [discrete_vae_job(P, seed) for seed in P["seeds"]]
    if P["role"] == "table1":
        out.append(mnist_classifier_job(NOTEBOOK, P["profile"]))
    return out


def plan(profile: str, params: dict) -> list[Job]:
    return jobs(settings(profile, params))
