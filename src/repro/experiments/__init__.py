"""What each notebook computes, as functions: its settings at a profile, the training jobs it needs, its
evaluation loops and the tables it writes. Notebooks call these and keep the story, the equations and the plots.

``plan(notebook, profile, params)`` lists a notebook run's training jobs (:class:`repro.jobs.Job`); the job runner
(``python -m repro.jobs``) trains them ahead of the notebooks, in parallel or on a Ray cluster.
"""

from __future__ import annotations

import importlib

# notebook -> (module, function) returning its jobs for one run: ``fn(profile, params) -> list[Job]``
PLANNERS = {
    "01_vae_compression": ("repro.experiments.generative_dna", "plan"),
    "02_necst": ("repro.experiments.necst", "plan"),
    "03_iabf": ("repro.experiments.iabf", "plan"),
    "04_bandwidth_awgn": ("repro.experiments.bandwidth", "plan"),
    "05_dna_storage": ("repro.experiments.generative_dna", "plan_dna_storage"),
}


def plan(notebook: str, profile: str, params: dict | None = None) -> list:
    """The training jobs of one run of ``notebook`` at ``profile`` with papermill-style ``params``."""
    from repro.core.checks import check_choice

    check_choice("notebook", notebook, sorted(PLANNERS))
    module, attr = PLANNERS[notebook]
    return getattr(importlib.import_module(module), attr)(profile, dict(params or {}))
