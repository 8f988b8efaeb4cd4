"""Papers 001/004 (IABF), notebook 03: resolved settings and the training jobs (NECST, ABF and IABF per eps and
seed, the official-code variants, the chain classifier)."""

from __future__ import annotations

from repro.bundle.profiles import for_dataset, resolve
from repro.channels.discrete import check_level
from repro.core.checks import check_choice, check_range
from repro.experiments.common import cost, n_images, resolve_precision, split_params
from repro.experiments.necst import mnist_classifier_job, selected_model_kwargs
from repro.jobs.spec import Job
from repro.parts.iabf import PART
from repro.systems import necst

NOTEBOOK = PART.notebook
DATASETS = ("binary_mnist", "mnist", "omniglot", "cifar10")
# ABF / IABF cost over NECST per image (one extra decoder pass for the gradient; the TC discriminator).
METHOD_COST = {"NECST": 1.0, "ABF": 1.5, "IABF": 1.9}
# "main": the Table 1 models (at extra_seed_eps: ``epochs``, the converge budget where ``stop_plateau`` is set);
# "ablation": the one-seed ablations and the same-seed models they are compared with (``ablation_epochs``).
BUDGETS = ("main", "ablation")


def method_cost(method: str) -> float:
    """ABF / IABF training cost over NECST per image: measured on this machine when available
    (``python -m repro.jobs measure``), else :data:`METHOD_COST`."""
    from repro.core.throughput import method_factor

    return method_factor(method) or METHOD_COST[method]


def settings(profile: str, params: dict) -> dict:
    runtime, overrides = split_params(params)
    dataset = runtime.get("dataset") or "mnist"
    check_choice("dataset", dataset, DATASETS)
    P = for_dataset(resolve(NOTEBOOK, profile, **overrides), dataset)
    P["extra_seeds"] = [s for s in (P["extra_seeds"] or []) if s not in P["seeds"]]
    for e in P["eps_values"] + [P["extra_seed_eps"]]:
        check_level("bsc", e)
    for lam in [P["infomax_weight"]] + list(P.get("lambda_sweep") or []):
        check_range("infomax weight lambda", lam, 0.0, 100.0)
    P.update(dataset=dataset, device=runtime.get("device") or "auto", bits=necst.SETTINGS[dataset]["bits"])
    family = "necst_conv" if necst.SETTINGS[dataset]["arch"] == "conv" else "necst_mlp"
    return resolve_precision(P, family)


def epochs_at(P: dict, eps: float, seed: int, budget: str = "main") -> int:
    """Training epochs of the models at (``eps``, ``seed``): the full budget ``epochs`` at the point where every
    seed is trained (``extra_seed_eps``), ``sweep_epochs`` (a lower, one-seed budget) elsewhere; with
    ``budget='ablation'``, ``ablation_epochs`` (the one-seed ablations and the models they are compared with;
    ``None`` means the main budget)."""
    check_choice("budget", budget, BUDGETS)
    if budget == "ablation" and P.get("ablation_epochs") is not None:
        return int(P["ablation_epochs"])
    if eps == P["extra_seed_eps"] or P.get("sweep_epochs") is None:
        return int(P["epochs"])
    return int(P["sweep_epochs"])


def model_job(P: dict, method: str, eps: float, seed: int, official: bool = False,
              infomax_weight: float | None = None, abf_spend: str = "all", budget: str = "main",
              abf_channel: bool = True) -> Job:
    """One NECST / ABF / IABF model (``official``: the official code's behaviour; ``infomax_weight``: lambda,
    default the profile's; ``abf_spend``: see :class:`repro.models.iabf.AdversarialBitFlip`; ``abf_channel``:
    ``False`` trains on the adversarial flips alone, eqs. 28-30 as written; ``budget``: one of :data:`BUDGETS`).
    The stopping rule (``stop_plateau``) applies to the main budget at ``extra_seed_eps`` only."""
    d = P["dataset"]
    lam = float(P["infomax_weight"] if infomax_weight is None else infomax_weight)
    epochs = epochs_at(P, eps, seed, budget)
    ablation = budget == "ablation" and P.get("ablation_epochs") is not None
    sweep = eps != P["extra_seed_eps"] and P.get("sweep_epochs") is not None
    kwargs = selected_model_kwargs({**P, "stop_plateau": None} if ablation or sweep else P, method=method, eps=eps,
                                   seed=seed, epochs=epochs, infomax_weight=lam, official=official,
                                   abf_spend=abf_spend, abf_channel=abf_channel)
    conv = necst.SETTINGS[d]["arch"] == "conv"
    family = "necst_conv" if conv else "necst_mlp"
    variant = ("-official" if official else "") + ("-masked" if abf_spend != "all" else "")
    variant += "" if abf_channel else "-adversary-only"
    variant += f"-lambda{lam:g}" if method == "IABF" and lam != P["infomax_weight"] else ""
    variant += "-ablation" if ablation else ""
    name = f"{method.lower()}{variant}-{d}-eps{eps:g}-seed{seed}"
    return Job(NOTEBOOK, name, "repro.systems.necst:train", kwargs,
               cost=cost(family, epochs, n_images(d, P["n_train"]), method_cost(method), kwargs["precision"]),
               meta={"method": method, "eps": eps, "seed": seed, "official": official, "infomax_weight": lam,
                     "abf_spend": abf_spend, "abf_channel": abf_channel, "epochs": epochs, "budget": budget,
                     "stop_plateau": kwargs.get("stop_plateau"), "precision_reason": P.get("precision_reason")},
               family="conv" if conv else "mlp")


def official_seeds(P: dict) -> list[int]:
    """Seeds of the official-code check: every seed of the main point (CLAIMS.md's ``iabf.official_tc_defect``
    needs the official discriminator's loss over 3 seeds)."""
    return list(P["seeds"]) + [s for s in P["extra_seeds"] if s not in P["seeds"]]


def official_jobs(P: dict) -> list[Job]:
    """The official code's ABF / IABF beside ours at ``extra_seed_eps``: at the ablation budget for every seed of
    :func:`official_seeds` (``official_check``), and, with ``official_main_check``, the official pair of the first
    seed at the main budget too (ours at that budget are Table 1's models)."""
    eps, out = P["extra_seed_eps"], []
    if P["official_check"]:
        out += [model_job(P, m, eps, s, official=off, budget="ablation") for s in official_seeds(P)
                for m in ("ABF", "IABF") for off in (True, False)]
    if P.get("official_main_check"):
        out += [model_job(P, m, eps, P["seeds"][0], official=True) for m in ("ABF", "IABF")]
    return out


def ablation_jobs(P: dict) -> list[Job]:
    """The one-seed ablations at ``extra_seed_eps`` (seed ``seeds[0]``), all at the ablation budget: ABF spending
    its whole budget on the attacked bits, IABF at the other infomax weights of ``lambda_sweep``, and NECST / ABF /
    IABF of that seed for comparison; then the official-code check (:func:`official_jobs`)."""
    eps, seed = P["extra_seed_eps"], P["seeds"][0]
    out = []
    if P.get("abf_masked_check"):
        out.append(model_job(P, "ABF", eps, seed, abf_spend="masked", budget="ablation"))
    out += [model_job(P, "IABF", eps, seed, infomax_weight=lam, budget="ablation")
            for lam in (P.get("lambda_sweep") or []) if lam != P["infomax_weight"]]
    if out or P["official_check"]:  # the models the ablations are compared with, at the same budget
        out += [model_job(P, m, eps, seed, budget="ablation") for m in necst.METHODS]
    return out + official_jobs(P)


def grid(P: dict) -> list[tuple[str, float, int]]:
    """``(method, eps, seed)`` of the Table 1 models: every method at every eps for ``seeds``, and at
    ``extra_seed_eps`` for ``extra_seeds``."""
    out = [(m, e, s) for s in P["seeds"] for e in P["eps_values"] for m in necst.METHODS]
    return out + [(m, P["extra_seed_eps"], s) for s in P["extra_seeds"] for m in necst.METHODS]


# How ABF's training codes meet noise (AdversarialBitFlip.channel_noise, the jobs' ``abf_channel``): our reading,
# the attack and then the random channel, or the paper's eqs. 28-30 as written, the attack in the channel's place.
ABF_NOISE = {True: "attack, then the channel", False: "attack only (eqs. 28-30)"}


def abf_noise_jobs(P: dict) -> list[Job]:
    """With ``abf_noise_check``: every ABF and IABF model of the Table 1 grid (:func:`grid`) trained on the
    adversarial flips alone (``abf_channel=False``), the candidate validation weighs against ours
    (:func:`choose_abf_noise`)."""
    if not P.get("abf_noise_check"):
        return []
    return [model_job(P, m, e, s, abf_channel=False) for m, e, s in grid(P) if m != "NECST"]


def choose_abf_noise(history):
    """The ABF training noise chosen on validation, per (method, eps).

    ``history``: training-history rows with ``method, eps, seed, abf_channel, selected, val_l2_per_image`` (one
    model per (method, eps, seed, abf_channel); NECST rows are ignored). For each variant the score is the mean
    over seeds of the validation distortion at each model's selected epoch; ``chosen`` marks the lower one per
    (method, eps), a tie keeping ours (the attack, then the channel). Both variants must have the same seeds.
    Returns one row per (method, eps, variant)."""
    import pandas as pd

    need = {"method", "eps", "seed", "abf_channel", "selected", "val_l2_per_image"}
    if missing := need - set(history.columns):
        raise ValueError(f"the history lacks the columns {sorted(missing)}; it needs {sorted(need)}")
    h = history[(history.method != "NECST") & history.selected.astype(bool)]
    rows = []
    for (method, eps), g in h.groupby(["method", "eps"], sort=True):
        seeds = {bool(c): sorted(int(s) for s in d.seed.unique()) for c, d in g.groupby("abf_channel")}
        if len(seeds) == 2 and seeds[True] != seeds[False]:
            raise ValueError(f"{method} at eps {eps:g}: the two ABF noise variants were trained on different seeds "
                             f"({seeds[True]} and {seeds[False]}); compare them on the same seeds")
        score = g.groupby("abf_channel").val_l2_per_image.mean()
        best = min(score.index, key=lambda c: (score[c], not c))  # a tie keeps the channel (ours)
        rows += [{"method": method, "eps": eps, "abf_channel": bool(c), "abf_noise": ABF_NOISE[bool(c)],
                  "val_l2_selected_mean": float(score[c]), "n_seeds": len(seeds[bool(c)]), "chosen": c == best}
                 for c in sorted(score.index, reverse=True)]
    return pd.DataFrame(rows, columns=["method", "eps", "abf_channel", "abf_noise", "val_l2_selected_mean",
                                       "n_seeds", "chosen"])


def ablations(P: dict, test_x, *, device, cache=None, data_root=None, spread: dict | None = None,
              budget_images: int = 2000):
    """Test distortion of the one-seed ablations at ``extra_seed_eps`` beside NECST / ABF / IABF of the same seed:
    ABF with the paper's allocation and with the whole budget on the attacked bits (each with the adversarial
    noise it actually spends on ``budget_images`` test codes), and IABF at each infomax weight of
    ``lambda_sweep``. ``spread``: method -> std over seeds at that point, for scale. Returns a DataFrame."""
    import pandas as pd

    eps, seed = P["extra_seed_eps"], P["seeds"][0]
    variants = [("NECST", "NECST", {}, None), ("ABF, budget over all bits (paper)", "ABF", {}, "all")]
    if P.get("abf_masked_check"):
        variants.append(("ABF, whole budget on the attacked bits", "ABF", {"abf_spend": "masked"}, "masked"))
    lams = sorted(set([P["infomax_weight"]] + list(P.get("lambda_sweep") or [])), reverse=True)
    variants += [(f"IABF, lambda {lam:g}", "IABF", {"infomax_weight": lam}, None) for lam in lams]
    rows = []
    for label, method, extra, spend in variants:
        job = model_job(P, method, eps, seed, budget="ablation", **extra)
        model, _ = job.train(device=device, cache=cache, data_root=data_root)
        row = {"variant": label, "method": method, "noise": eps, "seed": seed, "epochs": job.meta["epochs"],
               "infomax_weight": job.meta["infomax_weight"] if method == "IABF" else float("nan"),
               "test_l2_per_image": necst.distortion(model, test_x, eps, seed=seed)["l2_per_image"],
               "seed_std_of_method": (spread or {}).get(method, float("nan"))}
        if spend is not None:
            b = necst.abf_budget_spent(model, test_x[:budget_images], eps, spend=spend, seed=seed)
            row.update(budget_per_code=b["budget"], noise_spent_per_code=b["spent"],
                       attacked_bits_per_code=b["attacked_bits"])
        rows.append(row)
    return pd.DataFrame(rows)


def jobs(P: dict, profile: str) -> list[Job]:
    out = [model_job(P, m, e, s) for m, e, s in grid(P)]
    out += abf_noise_jobs(P)
    if P["dataset"] == "mnist":
        out += ablation_jobs(P)
        out.append(mnist_classifier_job(NOTEBOOK, profile))
    unique: dict[str, Job] = {}
    for job in out:
        unique.setdefault(job.key, job)
    return list(unique.values())


def plan(profile: str, params: dict) -> list[Job]:
    return jobs(settings(profile, params), profile)
