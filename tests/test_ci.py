"""The CI workflows (.github/workflows/): valid against the GitHub workflow schema (check-jsonschema), free of
zizmor's security findings, every job bounded and least-privileged, actions pinned to commit SHAs, the tests
workflow running the README's test command, and the figures workflow's matrix coming from the runner's table."""

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from repro.bundle import runner
from repro.bundle.results import read_manifest, update_manifest

from .conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
spec = importlib.util.spec_from_file_location("ci", ROOT / "scripts" / "ci.py")
ci = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ci)


def tool(name: str) -> str:
    """The linter's executable: beside this interpreter (the project's .venv), else on PATH; skip when missing."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (it is in requirements.txt: bash scripts/setup_env.sh installs it)")
    return found


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def test_both_workflows_exist():
    assert {p.name for p in WORKFLOWS} == {"tests.yml", "figures.yml"}


def test_workflows_match_the_github_workflow_schema():
    proc = subprocess.run([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                           *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_workflows_have_no_zizmor_findings():
    proc = subprocess.run([tool("zizmor"), "--offline", "--persona", "pedantic", str(ROOT / ".github" / "workflows")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_job_is_bounded_least_privileged_and_cancelled_when_superseded(path):
    wf = load(path)
    assert wf["permissions"] == {"contents": "read"}
    assert wf["concurrency"]["cancel-in-progress"] is True
    assert "github.ref" in wf["concurrency"]["group"]
    for name, job in wf["jobs"].items():
        assert "timeout-minutes" in job, f"{path.name}: job {name} has no timeout-minutes"
        assert job.get("permissions", wf["permissions"]) == {"contents": "read"}, name


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_to_commit_shas_with_their_tag(path):
    uses = re.findall(r"uses:\s*(\S+)(.*)", path.read_text())
    assert uses
    for ref, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{path.name}: {ref} is not pinned to a commit"
        assert re.fullmatch(r"\s*# v\d+\.\d+\.\d+", comment), f"{path.name}: {ref} has no '# vX.Y.Z' comment"
    # one SHA per action across the workflows
    pins = {}
    for wf in WORKFLOWS:
        for ref, _ in re.findall(r"uses:\s*(\S+)(.*)", wf.read_text()):
            action, sha = ref.split("@")
            assert pins.setdefault(action, sha) == sha, f"{action} pinned to two commits"


def test_tests_workflow_runs_the_readme_test_command_on_python_311_with_pip_cache():
    wf = load(ROOT / ".github" / "workflows" / "tests.yml")
    assert set(wf["on"]) == {"push", "pull_request"}
    (job,) = wf["jobs"].values()
    setup = next(s for s in job["steps"] if "setup-python" in s.get("uses", ""))
    assert setup["with"]["python-version"] == "3.11" and setup["with"]["cache"] == "pip"
    assert [s["run"] for s in job["steps"] if "run" in s] == ["bash scripts/test.sh"]
    assert "bash scripts/test.sh" in (ROOT / "README.md").read_text()
    assert "bash scripts/test.sh" in (ROOT / ".ci" / "run").read_text()


def test_figures_workflow_profiles_matrix_artifacts_and_gather():
    wf = load(ROOT / ".github" / "workflows" / "figures.yml")
    assert {"workflow_dispatch", "schedule"} <= set(wf["on"])
    profile = wf["on"]["workflow_dispatch"]["inputs"]["profile"]
    assert profile["options"] == ["smoke", "cpu"] and profile["default"] == "smoke"
    jobs = wf["jobs"]
    assert "scripts/ci.py matrix" in jobs["plan"]["steps"][-1]["run"]
    assert jobs["run"]["strategy"]["matrix"] == "${{ fromJSON(needs.plan.outputs.matrix) }}"
    run_steps = " ".join(s.get("run", "") for s in jobs["run"]["steps"])
    assert "repro.bundle.runner" in run_steps and "scripts/check_drift.py run" in run_steps
    upload = next(s for s in jobs["run"]["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "build/ci/" and upload["if"] == "${{ !cancelled() }}"
    gather = " ".join(s.get("run", "") for s in jobs["gather"]["steps"])
    assert "scripts/ci.py gather" in gather and "repro.bundle.report" in gather
    assert any("upload-artifact" in s.get("uses", "") for s in jobs["gather"]["steps"])


def test_matrix_is_the_runners_table():
    entries = ci.matrix()["include"]
    assert [(e["notebook"], {"dataset": e["dataset"]}) for e in entries] == runner.all_runs()
    assert len({e["name"] for e in entries}) == len(entries)
    assert [e["dataset"] for e in ci.matrix("03_iabf")["include"]] == [p["dataset"] for p in runner.RUNS["03_iabf"]]
    assert ci.matrix("", "")["include"] == entries  # the workflow's empty inputs mean everything
    assert ci.matrix("02_necst", "mnist")["include"] == [{"notebook": "02_necst", "dataset": "mnist",
                                                          "name": "02_necst-mnist"}]


def test_matrix_rejects_an_unknown_notebook_or_dataset(capsys):
    assert ci.main(["matrix", "--notebook", "99_nope"]) == 2
    assert "notebook" in capsys.readouterr().err
    assert ci.main(["matrix", "--notebook", "01_vae_compression", "--dataset", "cifar10"]) == 2
    assert "valid: mnist" in capsys.readouterr().err


def _part(root: Path, name: str, notebook: str, dataset: str, files: dict[str, str]) -> Path:
    part = root / name
    figures = part / "figures"
    for rel, text in files.items():
        (figures / rel).parent.mkdir(parents=True, exist_ok=True)
        (figures / rel).write_text(text)
    update_manifest(figures, {rel: {"notebook": notebook, "params": {"dataset": dataset}, "profile": "smoke"}
                              for rel in files})
    (figures / "claims.csv").write_text("stale ledger of one run\n")
    (part / "executed").mkdir()
    (part / "executed" / f"{notebook}__smoke__dataset-{dataset}.log").write_text("log\n")
    (part / "runner.log").write_text("runner\n")
    return part


def test_gather_merges_the_runs_in_the_runners_order(tmp_path):
    # 03_iabf's cifar10 run comes after its mnist run in RUNS: a file both write ends as the cifar10 run left it
    late = _part(tmp_path / "parts", "a-late", "03_iabf", "cifar10", {"03_iabf/shared.csv": "cifar10\n"})
    early = _part(tmp_path / "parts", "z-early", "03_iabf", "mnist",
                  {"03_iabf/shared.csv": "mnist\n", "03_iabf/table1_mnist.csv": "x\n"})
    failed = tmp_path / "parts" / "failed"
    failed.mkdir()
    into = tmp_path / "all"
    assert ci.gather([late, early, failed], into) == [early, late]
    assert (into / "figures" / "03_iabf" / "shared.csv").read_text() == "cifar10\n"
    manifest = read_manifest(into / "figures")["artifacts"]
    assert set(manifest) == {"03_iabf/shared.csv", "03_iabf/table1_mnist.csv"}
    assert manifest["03_iabf/shared.csv"]["params"] == {"dataset": "cifar10"}
    assert not (into / "figures" / "claims.csv").exists()  # the report regenerates the ledger of all runs
    assert (into / "runs" / "z-early" / "runner.log").exists()
    assert (into / "runs" / "a-late" / "executed" / "03_iabf__smoke__dataset-cifar10.log").exists()
    assert ci.main(["gather", "--into", str(tmp_path / "none"), str(failed)]) == 1


def test_pinned_linters_are_in_requirements():
    text = (ROOT / "requirements.txt").read_text()
    assert re.search(r"^check-jsonschema==\S+$", text, flags=re.M) and re.search(r"^zizmor==\S+$", text, flags=re.M)
