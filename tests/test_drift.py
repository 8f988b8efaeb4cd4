"""The drift checks (repro.bundle.drift, scripts/check_drift.py) pass on the committed results and catch a
removed figure, an orphan file and a renamed column; every case that must fail works on temporary copies, never
on figures/. (The smoke runs of tests/test_notebooks.py compare each notebook run's names and columns with the
committed cpu run through the same function.)"""

import importlib.util
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from repro.bundle import drift, report, runner
from repro.bundle.results import read_manifest, update_manifest
from repro.core.fsio import write_text

from .conftest import ROOT

FIGURES = ROOT / "figures"
RUN = ("01_vae_compression", {"dataset": "mnist"})
spec = importlib.util.spec_from_file_location("check_drift", ROOT / "scripts" / "check_drift.py")
check_drift = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_drift)


@pytest.fixture
def committed_copy(tmp_path) -> Path:
    """A copy of figures/ to break."""
    return Path(shutil.copytree(FIGURES, tmp_path / "figures"))


@pytest.fixture
def produced(tmp_path) -> Path:
    """What a fresh run of notebook 01 would write: its committed artifacts and their manifest entries."""
    out = tmp_path / "out"
    manifest = read_manifest(FIGURES)["artifacts"]
    mine = drift.run_artifacts(manifest, *RUN)
    for rel in mine:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(FIGURES / rel, out / rel)
    update_manifest(out, {rel: {**manifest[rel], "profile": "smoke"} for rel in mine})
    return out


# ---------------------------------------------------------------------------------- the committed results

def test_committed_manifest_lists_exactly_the_files_under_figures():
    assert drift.manifest_problems(FIGURES) == []


def test_committed_ledger_report_and_readme_equal_their_regeneration():
    """The ledger regenerated from the committed tables (python -m repro.bundle.report, in memory) is identical."""
    assert drift.ledger_problems(FIGURES, ROOT / "README.md") == []


# ---------------------------------------------------------------------------------- manifest vs files

def test_a_removed_figure_is_caught_by_the_manifest_check(committed_copy):
    (committed_copy / "02_necst" / "figure4_interpolation.png").unlink()
    assert drift.manifest_problems(committed_copy) == [
        "02_necst/figure4_interpolation.png: listed in manifest.json but missing"]


def test_an_orphan_file_and_a_missing_executed_notebook_are_caught(committed_copy):
    (committed_copy / "03_iabf" / "old_table.csv").write_text("a\n1\n")
    (committed_copy / "03_iabf" / "executed" / "omniglot.ipynb").unlink()
    (committed_copy / "manifest.json.lock").write_text("")  # a lock file is no artifact
    problems = drift.manifest_problems(committed_copy)
    assert problems == ["03_iabf/old_table.csv: not listed in manifest.json (an orphan: no notebook run writes it)",
                        "03_iabf/executed/omniglot.ipynb: missing (the executed notebook of this dataset run)"]


# ---------------------------------------------------------------------------------- a run against the committed one

def test_a_run_like_the_committed_one_has_no_drift(produced):
    assert drift.run_problems(FIGURES, produced, [RUN]) == []


def test_a_figure_the_code_no_longer_draws_is_caught(produced):
    (produced / "01_vae_compression" / "bpp_sweep.png").unlink()
    (produced / "01_vae_compression" / "bpp_sweep.pdf").unlink()
    entries = read_manifest(produced)["artifacts"]
    for rel in ("01_vae_compression/bpp_sweep.png", "01_vae_compression/bpp_sweep.pdf"):
        del entries[rel]
    write_text(produced / "manifest.json", json.dumps({"artifacts": entries}))
    assert drift.run_problems(FIGURES, produced, [RUN]) == [
        f"01_vae_compression/bpp_sweep.{ext}: in the committed results but the 01_vae_compression mnist run no "
        f"longer writes it" for ext in ("pdf", "png")]


def test_a_renamed_table_is_caught(produced):
    entries = read_manifest(produced)["artifacts"]
    entries["01_vae_compression/sweep_v2.csv"] = entries.pop("01_vae_compression/sweep.csv")
    (produced / "01_vae_compression" / "sweep.csv").rename(produced / "01_vae_compression" / "sweep_v2.csv")
    write_text(produced / "manifest.json", json.dumps({"artifacts": entries}))
    problems = drift.run_problems(FIGURES, produced, [RUN])
    assert "01_vae_compression/sweep.csv: in the committed results but the 01_vae_compression mnist run no longer " \
           "writes it" in problems
    assert "01_vae_compression/sweep_v2.csv: written by the code but missing from the committed results (new or " \
           "renamed)" in problems


def test_a_renamed_column_is_caught(produced):
    table = produced / "01_vae_compression" / "sweep.csv"
    pd.read_csv(table).rename(columns={"bpp": "bits_per_pixel"}).to_csv(table, index=False)
    assert drift.run_problems(FIGURES, produced, [RUN]) == [
        "01_vae_compression/sweep.csv: columns differ: the committed file lacks bits_per_pixel; the committed file "
        "has bpp, which the code no longer writes"]


def test_a_new_or_dropped_column_is_caught_unless_only_some_rows_fill_it():
    committed = {"epoch": False, "loss": False, "stopped": True}  # name -> empty in some row
    assert drift.column_problem(committed, {"epoch": False, "loss": False}) is None  # no model stopped here
    assert drift.column_problem(committed, {"epoch": False, "stopped": True}) == \
        "columns differ: the committed file has loss, which the code no longer writes"
    assert drift.column_problem(committed, {**committed, "repeat": False}) == \
        "columns differ: the committed file lacks repeat"
    assert drift.column_problem(committed, {**committed, "note": True}) is None
    # a rename is drift whether or not its rows are filled
    assert drift.column_problem(committed, {"epoch": False, "loss": False, "halted": True}) == \
        "columns differ: the committed file lacks halted; the committed file has stopped, which the code no longer " \
        "writes"


def test_csv_columns_marks_columns_some_rows_leave_empty(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,c\n1,,3\n4,5,6\n")
    assert drift.csv_columns(path) == {"a": False, "b": True, "c": False}


def test_a_run_writing_nothing_and_an_unknown_run_are_reported(tmp_path, produced):
    assert drift.run_problems(FIGURES, tmp_path / "empty", [RUN]) == [
        f"{tmp_path / 'empty' / 'manifest.json'}: missing or empty (the run wrote nothing)"]
    # all runs expected, one ran: one line per missing run, not one per artifact
    problems = drift.run_problems(FIGURES, produced)
    assert len(problems) == len(runner.all_runs()) - 1
    assert f"{produced / 'manifest.json'}: nothing of the 05_dna_storage mnist run (did it fail?)" in problems
    assert check_drift.main(["run", "--output", str(produced), "--notebook", "99_nope"]) == 2
    assert check_drift.main(["run", "--output", str(produced), "--notebook", "01_vae_compression",
                             "--dataset", "cifar10"]) == 2
    assert check_drift.main(["run"]) == 2  # no --output


def test_script_exit_status_and_lines(produced, committed_copy, capsys):
    assert check_drift.main(["run", "--output", str(produced), "--notebook", "01_vae_compression"]) == 0
    assert "no drift" in capsys.readouterr().out
    table = produced / "01_vae_compression" / "jpeg_png_bsc.csv"
    pd.read_csv(table).rename(columns=lambda c: c.upper() if c == "format" else c).to_csv(table, index=False)
    assert check_drift.main(["run", "--output", str(produced), "--dataset", "mnist", "--notebook",
                             "01_vae_compression"]) == 1
    out = capsys.readouterr().out
    assert "drift: 01_vae_compression/jpeg_png_bsc.csv: columns differ: the committed file lacks FORMAT" in out
    (committed_copy / "05_dna_storage" / "cost_table.csv").unlink()
    assert check_drift.main(["manifest", "--figures", str(committed_copy)]) == 1
    assert "drift: 05_dna_storage/cost_table.csv: listed in manifest.json but missing" in capsys.readouterr().out


# ---------------------------------------------------------------------------------- ledger vs tables

def test_a_stale_ledger_file_or_readme_section_is_caught(committed_copy, tmp_path, monkeypatch):
    """The comparison itself (the regeneration is the report's, exercised by the committed-ledger test above)."""
    texts = {name: (FIGURES / name).read_text() for name in report.LEDGER_FILES}
    calls = []

    def render(root, baselines, commit=None):
        calls.append(commit)
        return None, texts

    monkeypatch.setattr(report, "render", render)
    monkeypatch.setattr(report, "readme_section", lambda led: report.BEGIN + "\nfresh\n" + report.END)
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{report.BEGIN}\nfresh\n{report.END}\n")
    assert drift.ledger_problems(committed_copy, readme) == []
    assert calls == [pd.read_csv(FIGURES / "claims.csv").commit.iloc[0]]  # regenerated at the committed commit
    md = committed_copy / "claims.md"
    md.write_text(md.read_text().replace("**holds**", "**fails**", 1))
    readme.write_text(f"intro\n{report.BEGIN}\nedited by hand\n{report.END}\n")
    problems = drift.ledger_problems(committed_copy, readme)
    assert len(problems) == 2
    assert problems[0].startswith("claims.md: differs from the ledger regenerated from the committed tables (line ")
    assert "**fails**" in problems[0]
    assert problems[1].startswith("README.md: results section differs from the ledger's (line 2: committed "
                                  "'edited by hand', regenerated 'fresh')")
    (committed_copy / "claims_points.csv").unlink()
    assert drift.ledger_problems(committed_copy) == [f"claims_points.csv: missing under {committed_copy}"]
