"""Every notebook runs at the smoke profile and produces exactly the artifacts the committed cpu run has (same
names, same table columns: the drift check of :mod:`repro.bundle.drift`), and its paired .ipynb re-executes under
nbval with the deterministic cells matching the committed outputs."""

import json
import os
import subprocess
import sys

import jupytext
import pytest

from repro.bundle import drift, runner
from repro.bundle.results import read_manifest
from repro.core.checks import ConfigError

from .conftest import ROOT

NOTEBOOKS = sorted(runner.RUNS)
RUNS = [(name, params) for name in NOTEBOOKS for params in runner.RUNS[name]]
pytestmark = pytest.mark.notebook


# Runs whose committed cpu results predate the code (the drift check finds it), each with why, until the run is
# regenerated at cpu and its results committed. Not an allow-list: the smoke test still fails if the drift goes
# away (remove the entry) or if any other run drifts.
PENDING_REGENERATION: dict[tuple[str, str], str] = {
}


def committed_artifacts(name, params):
    """Artifacts the committed manifest lists for this notebook run (matched on the run's parameters)."""
    return drift.run_artifacts(read_manifest(ROOT / "figures")["artifacts"], name, params)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_paired_notebooks_are_in_sync(name):
    py = jupytext.read(ROOT / "notebooks" / f"{name}.py")
    nb = jupytext.read(ROOT / "notebooks" / f"{name}.ipynb")
    assert [c.source for c in py.cells] == [c.source for c in nb.cells]


@pytest.mark.parametrize("name,params", RUNS, ids=[f"{n}-{'-'.join(map(str, p.values()))}" for n, p in RUNS])
def test_smoke_run_has_the_committed_artifacts_and_columns(name, params, tmp_path, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.setenv("REPRO_OUTPUT_DIR", str(out))
    executed, error = runner.execute(name, "smoke", params, tmp_path / "build", timeout=600)
    assert error is None, error
    produced = read_manifest(out)["artifacts"]
    expected = committed_artifacts(name, params)
    assert expected, f"figures/manifest.json lists nothing for {name} {params}"
    for path in expected & set(produced):
        assert (out / path).stat().st_size > 0
        assert produced[path]["profile"] == "smoke"
    # the same names and columns as the committed cpu run: a renamed table or column, or a figure the code no
    # longer draws, is drift between the code and figures/ (python scripts/check_drift.py run ... says the same)
    problems = drift.run_problems(ROOT / "figures", out, [(name, params)])
    key = (name, params.get("dataset"))
    if key in PENDING_REGENERATION:
        # strict, like an xfail(strict=True): once the run is regenerated, this fails until the entry is removed
        assert problems, f"{key} no longer drifts from figures/: remove it from PENDING_REGENERATION"
        pytest.xfail(f"{PENDING_REGENERATION[key]}:\n" + "\n".join(problems))
    assert not problems, "drift against the committed cpu results:\n" + "\n".join(problems)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_nbval_on_the_paired_notebook(name, tmp_path):
    nb = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())
    params = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1
    source = "".join(params[0]["source"])
    assert 'profile = "cpu"' in source
    params[0]["source"] = source.replace('profile = "cpu"', 'profile = "smoke"')
    copy = tmp_path / f"{name}.ipynb"
    copy.write_text(json.dumps(nb))
    env = {**os.environ, "REPRO_OUTPUT_DIR": str(tmp_path / "out")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                           "--nbval-current-env", str(copy)], cwd=ROOT / "notebooks", env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_runner_parses_values_and_rejects_unknown_notebooks():
    assert runner.parse_value("3") == 3 and runner.parse_value("[0, 1]") == [0, 1]
    assert runner.parse_value("mnist") == "mnist" and runner.parse_value("None") is None
    assert runner.run_label("01_x", "cpu", {"dataset": "mnist"}) == "01_x__cpu__dataset-mnist"
    with pytest.raises(ConfigError, match="unknown notebook 'nope'"):
        runner.main(["--only", "nope"])
    with pytest.raises(ConfigError, match="unknown profile"):
        runner.main(["--profile", "fast"])


@pytest.mark.parametrize("dataset", ["mnist", "cifar10"])
def test_bandwidth_notebook_also_runs_on_mnist_and_cifar10(dataset, tmp_path, monkeypatch):
    """Notebook 04's dataset is a papermill parameter: the other two datasets produce the same figures."""
    out = tmp_path / "out"
    monkeypatch.setenv("REPRO_OUTPUT_DIR", str(out))
    _, error = runner.execute("04_bandwidth_awgn", "smoke", {"dataset": dataset}, tmp_path / "build", timeout=600)
    assert error is None, error
    produced = read_manifest(out)["artifacts"]
    for figure in ("figure4", "figure5_left", "figure5_right", "figure6", "figure7", "appendix_c_binary"):
        assert f"04_bandwidth_awgn/{figure}_{dataset}.png" in produced
