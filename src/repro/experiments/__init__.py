"""What each notebook computes, as functions: its settings at a profile, the training jobs it needs, its
evaluation loops and the tables it writes. Notebooks call these and keep the story, the equations and the plots.

``plan(notebook, profile, params)`` lists a notebook run's training jobs (:class:`repro.jobs.Job`); the job runner
(``python -m repro.jobs``) trains them ahead of the notebooks, in parallel or on a Ray cluster.
"""

from __future__ import annotations

import importlib

from repro.parts import PARTS

# notebook -> (module, function) returning its jobs for one run: ``fn(profile, params) -> list[Job]``; each part
# declares its own (:mod:`repro.parts`)
PLANNERS = {p.notebook: tuple(p.jobs.split(":")) for p in PARTS}


def plan(notebook: str, profile: str, params: dict | None = None) -> list:
    """The training jobs of one run of ``notebook`` at ``profile`` with papermill-style ``params``."""
    from repro.core.checks import check_choice

    check_choice("notebook", notebook, sorted(PLANNERS))
    module, attr = PLANNERS[notebook]
    jobs = getattr(importlib.import_module(module), attr)(profile, dict(params or {}))
    for job in jobs:  # why each job trains at its precision (jobs plan prints it; not part of the key)
        if "precision" in job.kwargs and "precision_reason" not in job.meta:
            job.meta["precision_reason"] = precision_reason(job, (params or {}).get("precision"),
                                                            (params or {}).get("device") or "auto")
    return jobs


def precision_family(job) -> str:
    """The :mod:`repro.experiments.compute` model family of a job (its probe and parity run)."""
    if job.family == "resnet":
        return "resnet"
    if "necst" in job.target:
        return "necst_conv" if job.family == "conv" else "necst_mlp"
    return "vae" if "vae" in job.target else job.family


def precision_reason(job, requested: str | None, device: str) -> str:
    from repro.experiments.compute import resolve

    resolved, why = resolve(requested, precision_family(job), device)
    if resolved != job.kwargs["precision"]:  # a job that fixes its own precision
        return f"{job.kwargs['precision']} set by the job"
    return why
