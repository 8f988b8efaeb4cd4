"""The notebooks' settings are declared once (repro.bundle.settings): each parameters cell has exactly the declared
names, documents the declared choices truthfully, every profile value is valid, and each list of choices is the
registry in the package that decides it (issue 24, item 1)."""

import re

import pytest

from repro.bundle import profiles, runner
from repro.bundle import settings as st
from repro.core.checks import ConfigError

from .conftest import ROOT

NOTEBOOKS = sorted(st.SETTINGS)


def parameters_cell(notebook: str) -> list[tuple[str, str]]:
    source = (ROOT / "notebooks" / f"{notebook}.py").read_text()
    cell = source.split('# %% tags=["parameters"]')[1].split("# %%")[0]
    out = []
    for line in cell.splitlines():
        code, _, comment = line.partition("#")
        if "=" in code:
            out.append((code.split("=")[0].strip(), comment))
    return out


def test_every_notebook_run_has_declared_settings():
    assert set(st.SETTINGS) == set(profiles.RUNS)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_the_parameters_cell_has_exactly_the_declared_names(notebook):
    cell = [name for name, _ in parameters_cell(notebook)]
    assert len(cell) == len(set(cell))
    assert set(cell) == set(st.settings(notebook)), (
        f"in the cell, not declared: {sorted(set(cell) - set(st.settings(notebook)))}; declared, not in the cell: "
        f"{sorted(set(st.settings(notebook)) - set(cell))}")
    assert set(runner.notebook_parameters(notebook)) == set(cell)


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_the_cells_comments_list_the_declared_choices(notebook):
    """A comment that lists alternatives (``[text:] a (why) | b | c``) lists exactly the declared choices."""
    declared = st.settings(notebook)
    for name, comment in parameters_cell(notebook):
        alternatives = comment.split(";")[0].split("|")
        if len(alternatives) > 1:
            alternatives[0] = alternatives[0].rsplit(":", 1)[-1]
            listed = {a.split()[0] for a in alternatives if a.split()}
            assert listed == set(declared[name].choices), f"{notebook}: {name} # {comment.strip()}"


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_every_profile_value_is_valid(notebook):
    declared = st.settings(notebook)
    for profile in st.PROFILE_NAMES:
        values = {**profiles.FIXED.get(notebook, {}), **profiles.PROFILES[notebook][profile]}
        for name, value in values.items():
            if name not in declared:  # fixed for every profile, not a parameter
                continue
            for v in (value.values() if isinstance(value, dict) else [value]):
                assert declared[name].problem(v) is None, (notebook, profile, name, v)


def test_declared_choices_are_the_package_registries():
    from repro.channels.discrete import CHANNELS
    from repro.core.precision import PRECISION_CHOICES
    from repro.core.runtime import DEVICES
    from repro.data.datasets import DATASETS
    from repro.dna.consensus import CONSENSUS_METHODS
    from repro.dna.peers import PEERS
    from repro.dna.storage import VAE_LAYOUTS
    from repro.experiments.bandwidth import ALV_VARIANTS
    from repro.metrics.fid import FEATURES
    from repro.systems.bandwidth import MARGINALIZE

    s = st.settings
    assert set(s("02_necst")["channel"].choices) == set(CHANNELS)
    assert set(s("05_dna_storage")["consensus"].choices) == set(CONSENSUS_METHODS)
    assert set(s("05_dna_storage")["vae_layout"].choices) == set(VAE_LAYOUTS)
    assert set(s("05_dna_storage")["peer_codecs"].choices) == set(PEERS)
    assert set(s("04_bandwidth_awgn")["fid_features"].choices) == set(FEATURES)
    assert set(s("04_bandwidth_awgn")["bl_marginalize"].choices) == set(MARGINALIZE)
    for name in ("alv_variants", "alv_alternatives"):
        assert set(s("04_bandwidth_awgn")[name].choices) == set(ALV_VARIANTS)
    for notebook in NOTEBOOKS:
        assert set(s(notebook)["dataset"].choices) <= set(DATASETS)
        assert set(s(notebook)["device"].choices) == set(DEVICES)
        assert s(notebook)["profile"].choices == profiles.PROFILE_NAMES
        if "precision" in s(notebook):
            assert set(s(notebook)["precision"].choices) == set(PRECISION_CHOICES)
    assert [r["dataset"] for r in profiles.RUNS["02_necst"]] == list(s("02_necst")["dataset"].choices)


@pytest.mark.parametrize("notebook,name,value", [
    ("02_necst", "chain_steps", 10),  # was refused as a noise level ("eps" in "chain_steps")
    ("03_iabf", "chain_steps", 20),
    ("04_bandwidth_awgn", "alv_variants", ["plain"]),  # a list of names; its comment was read as other choices
    ("04_bandwidth_awgn", "alv_alternatives", ["kl10", "skip"]),
    ("05_dna_storage", "peer_codecs", ["Goldman", "Grass"]),
    ("05_dna_storage", "figure_coverages", [3, 10.5]),
    ("02_necst", "epochs", {"mnist": 2}),
    ("05_dna_storage", "output_dir", "build/x"),
    ("03_iabf", "extra_seeds", []),
])
def test_values_the_guessing_refused_or_mistyped_are_valid(notebook, name, value):
    st.check(notebook, name, value, datasets=["mnist"])


@pytest.mark.parametrize("notebook,name,value,message", [
    ("04_bandwidth_awgn", "alv_variants", ["ALV"], "alv_variants must be a list of names, each one of plain, kl10"),
    ("04_bandwidth_awgn", "joint_betas", [0.0, 1.0], "joint_betas must be a list of numbers, each > 0"),
    ("05_dna_storage", "peer_codecs", "Goldman", "peer_codecs must be a list of names"),
    ("05_dna_storage", "consensus", "vote", "valid choices: spoa, majority"),
    ("02_necst", "eps_values", [0.7], "each in [0, 0.5]"),
    ("02_necst", "chain_steps", 0, "chain_steps must be an integer >= 1"),
    ("02_necst", "seeds", [], "seeds must be a list of integers, each >= 0"),
    ("03_iabf", "official_check", "yes", "official_check must be True or False"),
    ("02_necst", "nope", 1, "unknown parameter 'nope' for 02_necst; valid names:"),
])
def test_bad_values_name_the_setting_and_what_is_valid(notebook, name, value, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        st.check(notebook, name, value)


def test_a_setting_of_an_unknown_kind_is_refused_at_declaration():
    with pytest.raises(ValueError, match="kind 'dict' is not one of"):
        st.Setting("x", "dict")
