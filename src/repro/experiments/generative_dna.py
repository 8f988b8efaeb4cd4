"""Paper 000 (Generative DNA), notebooks 01 and 05: settings and the training jobs (the Table I/II VAE per seed and
the ACC classifier). Notebook 05's evaluation lives in :mod:`repro.experiments.dna_storage`."""

from __future__ import annotations

from repro.bundle.profiles import resolve
from repro.experiments.common import cost, n_images, resolve_precision, split_params
from repro.jobs.spec import Job
from repro.parts import dna_storage, vae_compression

VAE_NOTEBOOK, DNA_NOTEBOOK = vae_compression.PART.notebook, dna_storage.PART.notebook


def settings(profile: str, params: dict, notebook: str = VAE_NOTEBOOK) -> dict:
    """The resolved parameters of a run (profile values, overridden one by one by ``params``)."""
    runtime, overrides = split_params(params)
    P = resolve(notebook, profile, **overrides)
    P.update(dataset=runtime.get("dataset") or "mnist", device=runtime.get("device") or "auto")
    return resolve_precision(P, "vae")


def vae_job(notebook: str, P: dict, seed: int) -> Job:
    dataset = P["dataset"]
    kwargs = dict(dataset=dataset, seed=int(seed), epochs=int(P["epochs"]), latent_dim=int(P["latent_dim"]),
                  batch_size=int(P["batch_size"]), lr=float(P["lr"]), n_train=P["n_train"],
                  precision=P.get("precision", "fp32"))
    images = n_images(dataset, P["n_train"])
    return Job(notebook, f"vae-{dataset}-seed{seed}", "repro.systems.vae_storage:train_vae", kwargs,
               cost=cost("vae", P["epochs"], images), meta={"seed": int(seed)}, family="small")


def classifier_job(notebook: str, P: dict) -> Job:
    dataset = P["dataset"]
    kwargs = dict(dataset=dataset, epochs=int(P["classifier_epochs"]), n_train=P["classifier_n_train"])
    return Job(notebook, f"classifier-{dataset}", "repro.models.classifier:train_classifier", kwargs,
               cost=cost("classifier", P["classifier_epochs"], n_images(dataset, P["classifier_n_train"])),
               meta={"role": "acc_classifier"}, family="small")


def vae_jobs(notebook: str, P: dict) -> list[Job]:
    return [vae_job(notebook, P, s) for s in P["seeds"]]


def plan(profile: str, params: dict) -> list[Job]:
    """Notebook 01: one VAE per seed and the ACC classifier."""
    P = settings(profile, params)
    return vae_jobs(VAE_NOTEBOOK, P) + [classifier_job(VAE_NOTEBOOK, P)]


def plan_dna_storage(profile: str, params: dict) -> list[Job]:
    """Notebook 05 stores the latents of notebook 01's VAEs (same jobs, same checkpoints at equal settings)."""
    P = settings(profile, params, DNA_NOTEBOOK)
    return vae_jobs(DNA_NOTEBOOK, P) + [classifier_job(DNA_NOTEBOOK, P)]
