import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import pytest

from repro.bundle.compare import paper_numbers, side_by_side
from repro.bundle.report import build_report
from repro.bundle.results import Run


def test_paper_numbers_hold_the_spec_values():
    t3 = paper_numbers("generative_dna", "Table III").set_index(["method", "metric"]).value
    assert t3[("VAEN", "ms_ssim")] == 0.863 and t3[("VAEU", "acc")] == 0.422
    necst = paper_numbers("necst", "Figure 3 left")
    assert len(necst) == 3 * 2 * 6
    with pytest.raises(ValueError, match="unknown paper"):
        paper_numbers("nope")


def test_side_by_side_mean_spread_and_difference():
    ref = paper_numbers("generative_dna", "Table III")
    ours = pd.DataFrame([dict(dataset="mnist", method="VAEN", channel="bsc", noise=0.05, metric="psnr", value=v,
                              seed=s) for s, v in enumerate([14.0, 16.0])])
    table = side_by_side(ours, ref).set_index(["method", "metric"])
    row = table.loc[("VAEN", "psnr")]
    assert row.ours_mean == 15.0 and row.n_seeds == 2 and row.difference == 0.0
    assert row.ours_std == pytest.approx(2**0.5)
    assert pd.isna(table.loc[("VAEU", "psnr")].ours_mean)  # missing reproductions stay visible


def test_run_records_tables_and_figures_with_provenance(tmp_path):
    run = Run("99_test", "smoke", {"a": 1}, [0, 1], output_dir=str(tmp_path))
    run.write_table(pd.DataFrame({"x": [1]}), "t", reproduces="Table X", kind="comparison")
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    run.save_figure(fig, "f", reproduces="Figure Y")
    manifest = json.loads((tmp_path / "manifest.json").read_text())["artifacts"]
    assert set(manifest) == {"99_test/t.csv", "99_test/f.png", "99_test/f.pdf"}
    entry = manifest["99_test/f.png"]
    assert entry["reproduces"] == "Figure Y" and entry["seeds"] == [0, 1] and entry["profile"] == "smoke"
    assert entry["params"] == {"a": 1} and entry["commit"] and entry["date"]
    assert (tmp_path / "99_test/f.pdf").stat().st_size > 0
    assert pd.read_csv(tmp_path / "99_test/t.csv").profile[0] == "smoke"
    report = build_report(tmp_path)
    assert "Table X" in report and "99_test/f.png" in report
