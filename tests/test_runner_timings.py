"""The README's timings are generated from the committed run_info files and the measured smoke timing, and are
not stale."""

import importlib.util
import json

import pytest

from .conftest import ROOT

spec = importlib.util.spec_from_file_location("readme_timings", ROOT / "scripts" / "readme_timings.py")
timings = importlib.util.module_from_spec(spec)
spec.loader.exec_module(timings)


def test_readme_timings_are_not_stale():
    assert timings.main(["--check"]) == 0, "run: python scripts/readme_timings.py"


def test_the_block_follows_its_sources(tmp_path, monkeypatch):
    smoke = json.loads(timings.SMOKE.read_text())
    assert smoke["exit_status"] == 0 and len(smoke["runs"]) == sum(len(r) for r in timings.RUNS.values())
    block = timings.render()
    assert f"{smoke['total_seconds'] / 60:.1f} min" in block
    for name, runs in timings.cpu_runs().items():
        assert f"`{name}`" in block and runs
    changed = {**smoke, "total_seconds": smoke["total_seconds"] + 600}
    (tmp_path / "smoke.json").write_text(json.dumps(changed))
    monkeypatch.setattr(timings, "SMOKE", tmp_path / "smoke.json")
    assert timings.render() != block
    readme = timings.README.read_text()
    assert timings.rewrite(readme, timings.render()) != readme


def test_missing_markers_are_an_error():
    with pytest.raises(SystemExit, match="lacks the markers"):
        timings.rewrite("# README without markers\n", "block")
