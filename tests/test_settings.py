"""The notebooks' settings are declared once, each in its part's module (repro.parts): each parameters cell has
exactly the declared names, documents the declared choices truthfully, every profile value is valid, each list of
choices is the registry in the package that decides it, and the runner, profiles, planners, figure catalog and
ledger take their lists of notebooks from the parts' registry (issue 24, item 1)."""

import re

import pytest

from repro import parts as st
from repro.bundle import profiles, runner
from repro.core.checks import ConfigError

from .conftest import ROOT

NOTEBOOKS = list(st.NOTEBOOKS)


def parameters_cell(notebook: str) -> list[tuple[str, str]]:
    source = (ROOT / "notebooks" / f"{notebook}.py").read_text()
    cell = source.split('# %% tags=["parameters"]')[1].split("# %%")[0]
    out = []
    for line in cell.splitlines():
        code, _, comment = line.partition("#")
        if "=" in code:
            out.append((code.split("=")[0].strip(), comment))
    return out


def test_every_list_of_notebooks_is_the_parts_registry():
    from repro import experiments
    from repro.bundle import claims
    from repro.plots import catalog
    from repro.plots.registry import FIGURES

    assert list(profiles.RUNS) == list(profiles.PROFILES) == list(st.NOTEBOOKS)
    assert list(runner.RUNS) == list(st.NOTEBOOKS)
    assert list(experiments.PLANNERS) == list(st.NOTEBOOKS) and claims.NOTEBOOKS == st.NOTEBOOKS
    assert [m.__name__ for m in catalog.PARTS] == [p.plots for p in st.PARTS]
    assert {f.notebook for f in FIGURES} <= set(st.NOTEBOOKS)
    for p in st.PARTS:  # every part's planner exists
        module, function = experiments.PLANNERS[p.notebook]
        assert callable(getattr(__import__(module, fromlist=[function]), function)), p.jobs


def test_a_part_declaring_a_setting_twice_or_a_run_it_cannot_run_is_refused():
    p = st.part("04_bandwidth_awgn")
    with pytest.raises(ValueError, match=r"setting\(s\) \['epochs'\] declared twice"):
        st.Part(**{**p.__dict__, "settings": p.settings + (st.setting.count("epochs"),)})
    with pytest.raises(ValueError, match="are not among its dataset choices"):
        st.Part(**{**p.__dict__, "runs": ("omniglot",)})
    with pytest.raises(ValueError, match="profiles"):
        st.Part(**{**p.__dict__, "profiles": {"cpu": {}}})


def test_given_reads_the_parameters_cell_by_the_declared_names():
    names = {name: None for name in st.settings("01_vae_compression")}
    assert st.given("01_vae_compression", {**names, "profile": "cpu", "epochs": 3, "other": 1}) == {"epochs": 3}
    del names["seeds"]
    with pytest.raises(ConfigError, match=r"\['seeds'\] are not defined by its parameters cell"):
        st.given("01_vae_compression", names)


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
    from repro.data.registry import DATASETS
    from repro.dna.consensus import CONSENSUS_METHODS
    from repro.dna.peers import PEERS
    from repro.dna.storage import VAE_LAYOUTS
    from repro.experiments.bandwidth import ALV_VARIANTS
    from repro.metrics.fid import FEATURES
    from repro.systems.bandwidth import MARGINALIZE, datasets

    s = st.settings
    assert set(s("02_necst")["channel"].choices) == set(CHANNELS)
    assert set(s("05_dna_storage")["consensus"].choices) == set(CONSENSUS_METHODS)
    assert set(s("05_dna_storage")["vae_layout"].choices) == set(VAE_LAYOUTS)
    assert set(s("05_dna_storage")["peer_codecs"].choices) == set(PEERS)
    assert set(s("04_bandwidth_awgn")["fid_features"].choices) == set(FEATURES)
    assert set(s("04_bandwidth_awgn")["bl_marginalize"].choices) == set(MARGINALIZE)
    assert s("04_bandwidth_awgn")["dataset"].choices == datasets() == ("mnist", "cifar10", "celeba32")
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
    ("04_bandwidth_awgn", "joint_betas", [-0.1, 1.0], "joint_betas must be a list of numbers, each >= 0"),
    ("04_bandwidth_awgn", "separate_betas", [0.0, 1.0], "separate_betas must be a list of numbers, each > 0"),
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


def test_an_unknown_notebook_names_the_valid_ones():
    with pytest.raises(ConfigError, match="unknown notebook '06_x'; valid: 01_vae_compression, 02_necst"):
        st.part("06_x")
