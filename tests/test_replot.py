"""``repro replot``: every registered figure redrawn from the committed tables alone, in seconds (issue 24, item 2),
and the figure registry's contract (fields, inputs, errors)."""

import json
import os
import shutil
import subprocess
import sys
import time

import matplotlib
import pandas as pd
import pytest

from repro.bundle import replot
from repro.bundle.results import Run, read_manifest
from repro.core.checks import ConfigError
from repro.plots import catalog  # noqa: F401  (registers every part's figures)
from repro.plots.registry import FIGURES, FigureSpec, figure, find, image_bytes, image_floats, spec_of

from .conftest import ROOT

matplotlib.use("Agg")

COMMITTED = read_manifest(ROOT / "figures")["artifacts"]
COMMITTED_FIGURES = replot.committed_figures(COMMITTED)


def test_every_registered_figure_draws_some_committed_figure():
    """No registered function without a committed figure it draws: a renamed figure fails here."""
    for spec in FIGURES:
        drawn = [name for nb, name in COMMITTED_FIGURES if nb == spec.notebook and spec.match(name) is not None]
        assert drawn, f"{spec.qualname} ({spec.notebook}/{spec.name}) draws no committed figure"


def test_replot_redraws_the_committed_figures_from_the_tables_alone(tmp_path):
    """In a copy of figures/ with no dataset and no checkpoint reachable: every figure whose inputs are committed is
    drawn again (new bytes, the data's provenance kept, the drawing function recorded) in under a minute."""
    root = tmp_path / "figures"
    shutil.copytree(ROOT / "figures", root)
    env = {**os.environ, "REPRO_DATA_DIR": str(tmp_path / "no-data"), "REPRO_CACHE_DIR": str(tmp_path / "no-cache"),
           "MPLBACKEND": "Agg"}
    t0, wall0 = time.perf_counter(), time.time()
    proc = subprocess.run([sys.executable, "-m", "repro.bundle.replot", "--root", str(root)], env=env,
                          capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert seconds < 60, f"replot took {seconds:.0f} s"
    assert not (tmp_path / "no-data").exists() and not (tmp_path / "no-cache").exists()
    after = read_manifest(root)["artifacts"]
    drawn = [line.split()[1] for line in proc.stdout.splitlines()
             if line.startswith("[replot] ") and " (repro.plots." in line]
    expected = []
    for nb, name in COMMITTED_FIGURES:
        found = find(nb, name)
        if found and all((ROOT / "figures" / p).exists() for p in found[0].inputs(**found[1]).values()):
            expected.append(f"{nb}/{name}")
    assert sorted(drawn) == sorted(expected)
    assert len(drawn) >= 15
    for name in drawn:
        for ext in ("png", "pdf"):
            path = f"{name}.{ext}"
            assert (root / path).stat().st_mtime >= wall0 - 1, f"{path} was not written again"
            meta = after[path]
            for key in ("profile", "seeds", "commit", "date", "params", "notebook", "reproduces"):
                assert meta[key] == COMMITTED[path][key], (path, key)
            spec, fields = find(meta["notebook"], name.split("/", 1)[1])
            assert meta["drawn_by"] == spec.qualname
            assert meta["drawn_from"] == sorted(spec.inputs(**fields).values())
    # the figures no function draws yet are listed, by name
    listed = [line for line in proc.stdout.splitlines() if "drawn only in their notebooks" in line]
    missing = [f"{nb}/{name}" for nb, name in COMMITTED_FIGURES if find(nb, name) is None]
    assert bool(listed) == bool(missing)
    for name in missing:
        assert name in listed[0]
    stale = [f"{nb}/{name}" for nb, name in COMMITTED_FIGURES
             if find(nb, name) and f"{nb}/{name}" not in expected]
    lacking = [line for line in proc.stdout.splitlines() if "lack inputs" in line]
    assert bool(lacking) == bool(stale)
    for name in stale:
        assert f"{name} (needs " in lacking[0]


def test_a_restyle_is_a_change_to_the_plot_function_only(tmp_path, monkeypatch):
    """A figure of a toy notebook drawn by a run, then restyled by changing its function and replotting: the new
    figure comes from the same table, with nothing rerun."""
    monkeypatch.setattr("repro.plots.registry.FIGURES", list(FIGURES))
    titles = {"now": "first style"}

    @figure("99_toy", "curve_{dataset}", tables={"points": "points_{dataset}"}, reproduces="toy {dataset}")
    def curve(points, *, dataset):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots()
        ax.plot(points.x, points.y)
        ax.set_title(f"{titles['now']} {dataset}")
        return fig

    run = Run("99_toy", "smoke", {"dataset": "toy"}, [0], output_dir=str(tmp_path))
    run.write_table(pd.DataFrame({"x": [0, 1, 2], "y": [1.0, 0.5, 0.25]}), "points_toy", reproduces="toy")
    fig = run.draw(curve, dataset="toy")
    assert fig.axes[0].get_title() == "first style toy"
    first = (tmp_path / "99_toy" / "curve_toy.png").read_bytes()
    titles["now"] = "second style"
    out = replot.replot(tmp_path, ["99_toy"], progress=lambda _: None)
    assert out == {"drawn": ["99_toy/curve_toy"], "not_registered": [], "missing_inputs": []}
    assert (tmp_path / "99_toy" / "curve_toy.png").read_bytes() != first
    meta = read_manifest(tmp_path)["artifacts"]["99_toy/curve_toy.png"]
    assert meta["drawn_by"].endswith(":curve") and meta["drawn_from"] == ["99_toy/points_toy.csv"]
    assert meta["reproduces"] == "toy toy"


def test_the_registry_refuses_bad_declarations_and_calls(tmp_path):
    def draw(**_):
        raise AssertionError("not drawn")

    with pytest.raises(ValueError, match=r"fields \['seed'\] that its name does not have"):
        figure("99_toy", "a_{dataset}", tables={"t": "t_{seed}"}, reproduces="x")(draw)
    spec = FigureSpec("99_toy", "b_{dataset}", draw, {"t": "t_{dataset}"})
    assert spec.match("b_mnist") == {"dataset": "mnist"} and spec.match("c_mnist") is None
    assert spec.inputs(dataset="mnist") == {"t": "99_toy/t_mnist.csv"}
    with pytest.raises(ConfigError, match=r"needs the fields \['dataset'\]; got \['seed'\]"):
        spec.inputs(seed=0)
    with pytest.raises(FileNotFoundError, match="99_toy/t_mnist.csv, which is not under"):
        spec.render(ROOT / "figures", dataset="mnist")
    with pytest.raises(ConfigError, match="is not a registered figure; registered: "):
        spec_of(draw)
    registered = FIGURES[0]
    run = Run("99_other", "smoke", {}, [0], output_dir=str(tmp_path))
    with pytest.raises(ConfigError, match=f"belongs to {registered.notebook}, not to 99_other"):
        run.draw(registered.draw, **{f: "x" for f in registered.fields})
    with pytest.raises(ConfigError, match="has no registered figures; valid: 01_vae_compression"):
        replot.replot(ROOT / "figures", ["99_nothing"])


def test_image_bytes_round_trip_within_half_a_level():
    import numpy as np

    x = np.random.default_rng(0).uniform(-0.2, 1.2, size=(4, 3, 8, 8)).astype(np.float32)
    u = image_bytes(x)
    assert u.dtype == np.uint8
    assert np.abs(image_floats(u) - np.clip(x, 0, 1)).max() <= 0.5 / 255 + 1e-7
    with pytest.raises(ValueError, match="expected uint8 pixels"):
        image_floats(x)


def test_replot_cli_names_a_missing_manifest(tmp_path, capsys):
    assert replot.main(["--root", str(tmp_path)]) == 2
    assert "has no manifest.json" in capsys.readouterr().err


def test_the_console_entry_point_lists_replot():
    from repro import cli

    assert "replot" in cli.COMMANDS
    assert json.dumps(cli.usage()).count("replot") >= 1


def test_write_array_stores_compressed_arrays_and_records_them(tmp_path):
    import numpy as np

    run = Run("99_toy", "smoke", {}, [0], output_dir=str(tmp_path))
    pixels = image_bytes(np.linspace(0, 1, 2 * 3 * 4 * 4).reshape(2, 3, 4, 4))
    path = run.write_array("grid_images", reproduces="toy grid", pixels=pixels, titles=np.array(["a", "b"]),
                           eps=np.array(0.1))
    assert path == tmp_path / "99_toy" / "grid_images.npz"
    with np.load(path) as npz:  # no pickle needed: strings are stored as fixed-width unicode
        assert np.array_equal(npz["pixels"], pixels) and list(npz["titles"]) == ["a", "b"]
        assert float(npz["eps"]) == 0.1
    meta = read_manifest(tmp_path)["artifacts"]["99_toy/grid_images.npz"]
    assert meta["kind"] == "array" and meta["reproduces"] == "toy grid"
    with pytest.raises(ValueError, match="needs at least one array"):
        run.write_array("empty", reproduces="x")
