"""The bundle's paper parts, one registry (issue 24, item 1).

Each part is one module of this package declaring a :class:`~repro.parts.setting.Part`: its notebook, the paper its
claims come from, its settings, profiles, fixed values and dataset runs, the function that lists its training jobs
and the module that registers its figures. Everything else derives its lists from :data:`PARTS`: the profiles and
runs (:mod:`repro.bundle.profiles`), the runner and the jobs CLI, the planners (:mod:`repro.experiments`), the
figure catalog (:mod:`repro.plots.catalog`) and the claims ledger (its notebooks and papers). Adding a part means
adding its module here, its experiments and plots modules, and its notebook.

:func:`check` validates one ``-p NAME VALUE`` against the part's declared settings; :func:`given` collects the
values a notebook's parameters cell was given (papermill injects them as globals), so a notebook names its
parameters once, in that cell.
"""

from __future__ import annotations

from repro.core.checks import ConfigError
from repro.parts import bandwidth, dna_storage, iabf, necst, vae_compression
from repro.parts.setting import PROFILE_NAMES, Part, Setting

# The papers the claims come from (a claim's ``paper``), named as the README names them.
PAPERS: dict[str, str] = {
    "generative_dna": "Franzese et al., Generative DNA (VAE latents, DNA storage)",
    "necst": "Choi et al., Neural Joint Source-Channel Coding (NECST)",
    "iabf": "Song et al., Infomax NJSCC via Adversarial Bit Flip (IABF)",
    "bandwidth": "Neural Communication Systems with Bandwidth-Limited Channel",
}

# Settings that say what a run works on and where, not values of a profile.
RUNTIME: tuple[str, ...] = ("dataset", "device", "data_dir", "output_dir", "channel")

# In the order the runner executes them.
PARTS: tuple[Part, ...] = tuple(m.PART for m in (vae_compression, necst, iabf, bandwidth, dna_storage))
NOTEBOOKS: tuple[str, ...] = tuple(p.notebook for p in PARTS)

for _p in PARTS:
    if _p.paper not in PAPERS:
        raise ValueError(f"part {_p.notebook}: paper {_p.paper!r} is not one of {', '.join(PAPERS)}")

__all__ = ["NOTEBOOKS", "PAPERS", "PARTS", "PROFILE_NAMES", "RUNTIME", "Part", "Setting", "check", "given", "part",
           "settings"]


def part(notebook: str) -> Part:
    """The part of ``notebook`` (one line naming the valid notebooks otherwise)."""
    for p in PARTS:
        if p.notebook == notebook:
            return p
    raise ConfigError(f"unknown notebook {notebook!r}; valid: {', '.join(NOTEBOOKS)}")


def settings(notebook: str) -> dict[str, Setting]:
    """``{name: Setting}`` of ``notebook``'s parameters cell."""
    return {s.name: s for s in part(notebook).settings}


def check(notebook: str, name: str, value, datasets: list[str] | None = None) -> None:
    """Raise :class:`ConfigError` (one line naming the setting, the value and what is valid) unless ``value`` is a
    valid ``-p`` value of ``name`` in ``notebook``; ``datasets``: the keys a ``{dataset: value}`` may use."""
    spec = settings(notebook).get(name)
    if spec is None:
        raise ConfigError(f"unknown parameter {name!r} for {notebook}; valid names: "
                          f"{', '.join(sorted(settings(notebook)))}")
    if isinstance(value, dict) and datasets:
        bad = sorted(set(map(str, value)) - set(datasets))
        if bad:
            raise ConfigError(f"-p {name}: unknown dataset key(s) {bad}; valid: {', '.join(datasets)}")
        for v in value.values():
            check(notebook, name, v)
        return
    problem = spec.problem(value)
    if problem:
        if spec.choices and spec.kind == "str":
            problem = f"-p {name} {value!r} is not valid for {notebook}; valid choices: {', '.join(spec.choices)}"
        raise ConfigError(problem)


def given(notebook: str, namespace: dict, *, skip: tuple[str, ...] = ("profile",)) -> dict:
    """The values ``notebook``'s parameters cell holds in ``namespace`` (a notebook passes ``globals()``), by the
    declared names, leaving out ``None`` (take the profile's value) and ``skip``. A declared name missing from the
    namespace is an error: the parameters cell and the declaration disagree."""
    missing = [s.name for s in part(notebook).settings if s.name not in namespace]
    if missing:
        raise ConfigError(f"{notebook}: declared setting(s) {missing} are not defined by its parameters cell")
    return {s.name: namespace[s.name] for s in part(notebook).settings
            if s.name not in skip and namespace[s.name] is not None}
