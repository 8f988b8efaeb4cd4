"""Papers 001/004 (IABF), notebook 03: resolved settings and the training jobs (NECST, ABF and IABF per eps and
seed, the official-code variants, the chain classifier)."""

from __future__ import annotations

from .. import necst_pipeline as necst
from ..checks import check_choice, check_range
from ..jobs.spec import Job
from ..profiles import for_dataset, resolve
from .common import cost, n_images, split_params
from .necst import mnist_classifier_job

NOTEBOOK = "03_iabf"
DATASETS = ("binary_mnist", "mnist", "omniglot", "cifar10")
# ABF / IABF cost over NECST per image (one extra decoder pass for the gradient; the TC discriminator).
METHOD_COST = {"NECST": 1.0, "ABF": 1.5, "IABF": 1.9}


def settings(profile: str, params: dict) -> dict:
    runtime, overrides = split_params(params)
    dataset = runtime.get("dataset") or "mnist"
    check_choice("dataset", dataset, DATASETS)
    P = for_dataset(resolve(NOTEBOOK, profile, **overrides), dataset)
    P["extra_seeds"] = [s for s in (P["extra_seeds"] or []) if s not in P["seeds"]]
    for e in P["eps_values"] + [P["extra_seed_eps"]]:
        check_range("BSC noise eps", e, 0.0, 0.5)
    check_range("infomax weight lambda", P["infomax_weight"], 0.0, 100.0)
    P.update(dataset=dataset, device=runtime.get("device") or "auto", bits=necst.SETTINGS[dataset]["bits"])
    return P


def model_job(P: dict, method: str, eps: float, seed: int, official: bool = False) -> Job:
    d = P["dataset"]
    kwargs = dict(dataset=d, eps=float(eps), seed=int(seed), epochs=int(P["epochs"]), n_train=P["n_train"],
                  batch_size=int(P["batch_size"]), lr=float(P["lr"]), method=method,
                  infomax_weight=float(P["infomax_weight"]), n_val=P["n_val"] or 10_000, select_best=True,
                  precision=P.get("precision", "fp32"))
    if official:
        kwargs["official"] = True
    conv = necst.SETTINGS[d]["arch"] == "conv"
    family = "necst_conv" if conv else "necst_mlp"
    name = f"{method.lower()}{'-official' if official else ''}-{d}-eps{eps:g}-seed{seed}"
    return Job(NOTEBOOK, name, "repro.necst_pipeline:train", kwargs,
               cost=cost(family, P["epochs"], n_images(d, P["n_train"]), METHOD_COST[method]),
               meta={"method": method, "eps": eps, "seed": seed, "official": official},
               family="conv" if conv else "mlp")


def jobs(P: dict, profile: str) -> list[Job]:
    grid = [(m, e, s) for s in P["seeds"] for e in P["eps_values"] for m in necst.METHODS]
    grid += [(m, P["extra_seed_eps"], s) for s in P["extra_seeds"] for m in necst.METHODS]
    out = [model_job(P, m, e, s) for m, e, s in grid]
    if P["dataset"] == "mnist":
        if P["official_check"]:
            eps_off, seed_off = P["extra_seed_eps"], P["seeds"][0]
            out += [model_job(P, m, eps_off, seed_off, official=o) for m in ("ABF", "IABF") for o in (False, True)]
        out.append(mnist_classifier_job(NOTEBOOK, profile))
    unique: dict[str, Job] = {}
    for job in out:
        unique.setdefault(job.key, job)
    return list(unique.values())


def plan(profile: str, params: dict) -> list[Job]:
    return jobs(settings(profile, params), profile)
