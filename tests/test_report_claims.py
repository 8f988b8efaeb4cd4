"""python -m repro.bundle.report writes the ledger files and REPORT.md; the README's results section is the ledger's."""

from pathlib import Path

import pandas as pd
import pytest

from repro.bundle import claims as C
from repro.bundle import report
from repro.core.checks import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_readme_results_section_is_generated_and_fresh():
    text = (ROOT / "README.md").read_text()
    assert text.count(report.BEGIN) == 1 and text.count(report.END) == 1
    current = text[text.index(report.BEGIN): text.index(report.END) + len(report.END)]
    expected = report.readme_section(C.ledger(ROOT / "figures"))
    assert current == expected, "README results section is stale: run `python -m repro.bundle.report`"


def test_replace_readme_section_needs_one_pair_of_markers():
    new = report.replace_readme_section(f"a\n{report.BEGIN}\nold\n{report.END}\nb", "NEW")
    assert new == "a\nNEW\nb"
    with pytest.raises(ConfigError, match="marker"):
        report.replace_readme_section("no markers", "NEW")


def test_report_writes_ledger_files_and_summary(tmp_path):
    (tmp_path / "manifest.json").write_text('{"artifacts": {}}')
    pd.DataFrame([dict(dataset="mnist", split="test", unit="l2_per_image", value=52.9, n_train=50000,
                       n_test=10000, pixels=784)]).to_csv(tmp_path / C.BASELINES_CSV, index=False)
    assert report.main(["--profile", "smoke", "--output-dir", str(tmp_path), "--no-readme"]) == 0
    led = pd.read_csv(tmp_path / "claims.csv")
    assert list(led.claim_id) == list(C.CLAIM_IDS)
    n = len(C.CLAIM_IDS)
    assert (tmp_path / "claims.md").read_text().count("| `") == n
    text = (tmp_path / "REPORT.md").read_text()
    assert text.startswith("# Reproduction report")
    assert f"{n} claims (profile `unknown`)" in text  # no artifact in the manifest names a profile
    assert f"**provisional** ({n - len(C.UNTRAINED)}): 0 holds, 0 fails, 0 inconclusive, {n - len(C.UNTRAINED)} " \
           f"untested" in text and f"**final** ({len(C.UNTRAINED)})" in text
    assert (tmp_path / "claims_points.csv").exists()
