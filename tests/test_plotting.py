"""repro.bundle.plotting: image grids (tile positions, clipping, labels, marked tiles) and the paper-vs-ours error
bars."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from repro.bundle.plotting import image_grid, paper_vs_ours, paper_vs_ours_dots, show_image_grid  # noqa: E402


def rows(r=2, k=3, c=1, side=4):
    # tile (i, j) is filled with the value (i * k + j) / 10, so every tile is recognisable
    values = torch.arange(r * k, dtype=torch.float32).view(r, k, 1, 1, 1) / 10
    return values.expand(r, k, c, side, side).clone()


def test_image_grid_places_every_tile_and_clips_to_the_unit_interval():
    t = rows()
    t[1, 2] = 3.0  # out of range: drawn as 1
    grid = image_grid(t, padding=2)
    assert grid.shape == (3, 2 + 2 * (4 + 2), 2 + 3 * (4 + 2))  # grey becomes RGB
    for i in range(2):
        for j in range(3):
            y, x = 2 + i * 6, 2 + j * 6
            tile = grid[:, y:y + 4, x:x + 4]
            expected = 1.0 if (i, j) == (1, 2) else (i * 3 + j) / 10
            assert torch.allclose(tile, torch.full_like(tile, expected))
    assert bool((grid[:, :2, :] == 1.0).all()) and bool((grid[:, :, :2] == 1.0).all())  # white padding
    # a list of rows is the same picture as the stacked tensor; colour images keep their channels
    assert torch.equal(image_grid([t[0], t[1]]), grid)
    colour = rows(c=3)
    colour[0, 0, 0] = 0.0
    assert image_grid(colour)[0, 2, 2] == 0.0 and image_grid(colour)[1, 2, 2] == 0.0


def test_image_grid_rejects_ragged_or_misshaped_rows():
    with pytest.raises(ValueError, match="same shape"):
        image_grid([torch.zeros(3, 1, 4, 4), torch.zeros(2, 1, 4, 4)])
    with pytest.raises(ValueError, match=r"\(R, K, C, H, W\)"):
        image_grid(torch.zeros(2, 3, 4, 4))
    with pytest.raises(ValueError, match="at least one row"):
        image_grid([])


def test_show_image_grid_labels_rows_and_columns_and_marks_tiles():
    fig, ax = plt.subplots()
    marked = np.array([[False, True, False], [False, False, True]])
    show_image_grid(ax, rows(), row_labels=["a", "b"], col_labels=["0", "5", "9"], marked=marked, title="t")
    assert [tick.get_text() for tick in ax.get_yticklabels()] == ["a", "b"]
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["0", "5", "9"]
    assert list(ax.get_yticks()) == [3.5, 9.5] and list(ax.get_xticks()) == [3.5, 9.5, 15.5]  # tile centres
    boxes = [p for p in ax.patches if isinstance(p, plt.Rectangle)]
    assert sorted((b.get_x(), b.get_y()) for b in boxes) == [(7.5, 1.5), (13.5, 7.5)]
    assert [t.get_text() for t in ax.texts] == ["decode\nfailed"] * 2
    assert ax.get_title(loc="left") == "t"
    with pytest.raises(ValueError, match="row_labels has 1 entries for 2 rows"):
        show_image_grid(ax, rows(), row_labels=["a"])
    with pytest.raises(ValueError, match=r"marked must be a \(2, 3\) boolean array"):
        show_image_grid(ax, rows(), marked=np.zeros((3, 2), bool))
    plt.close(fig)


def test_paper_vs_ours_draws_mean_and_std_over_seeds_beside_the_paper():
    ours = pd.DataFrame({"method": ["A"] * 4 + ["B"] * 2, "noise": [0.1, 0.1, 0.2, 0.2, 0.1, 0.2],
                         "value": [1.0, 3.0, 2.0, 2.0, 5.0, 6.0], "seed": [0, 1, 0, 1, 0, 0]})
    paper = pd.DataFrame({"method": ["A", "A", "B"], "noise": [0.2, 0.1, 0.1], "value": [1.5, 1.0, 4.0]})
    fig, ax = plt.subplots()
    summary = paper_vs_ours(ax, ours, paper, x="noise", group="method", colors={"A": "tab:blue", "B": "tab:red"})
    a = summary[summary.method == "A"].set_index("noise")
    assert a.loc[0.1, "mean"] == 2.0 and a.loc[0.1, "std"] == pytest.approx(np.sqrt(2.0)) and a.loc[0.1, "count"] == 2
    assert a.loc[0.2, "std"] == 0.0
    assert np.isnan(summary[summary.method == "B"]["std"]).all()  # one seed: no spread (drawn as 0)
    assert sorted(ax.get_legend_handles_labels()[1]) == ["A (ours)", "A (paper)", "B (ours)", "B (paper)"]
    paper_line = [line for line in ax.lines if line.get_label() == "A (paper)"][0]
    assert list(paper_line.get_xdata()) == [0.1, 0.2] and list(paper_line.get_ydata()) == [1.0, 1.5]  # sorted by x
    bars = ax.containers[0]  # A's error bars: centre 2.0 at 0.1 with half-width sqrt(2)
    segments = bars.lines[2][0].get_segments()
    low, high = segments[0][0][1], segments[0][1][1]
    assert low == pytest.approx(2.0 - np.sqrt(2.0)) and high == pytest.approx(2.0 + np.sqrt(2.0))
    with pytest.raises(ValueError, match=r"paper lacks the columns \['noise'\]"):
        paper_vs_ours(ax, ours, paper.drop(columns="noise"), x="noise", group="method", colors={"A": "k"})
    plt.close(fig)


def test_dot_plot_shows_each_seed_the_mean_with_its_t_interval_and_the_paper():
    ours = pd.DataFrame({"method": ["NECST"] * 3 + ["ABF"] * 3, "value": [18.0, 18.2, 18.4, 17.0, 17.0, 17.0]})
    paper = pd.DataFrame({"method": ["NECST", "ABF"], "value": [14.44, 13.37]})
    fig, ax = plt.subplots()
    summary = paper_vs_ours_dots(ax, ours, paper, group="method", colors={"NECST": "C0", "ABF": "C1"})
    s = summary.set_index("method")
    half = 4.302653 * 0.2 / np.sqrt(3)  # t(0.975, 2) x sd / sqrt(n)
    assert s.loc["NECST", "mean"] == pytest.approx(18.2)
    assert s.loc["NECST", "ci_high"] - s.loc["NECST", "mean"] == pytest.approx(half, rel=1e-5)
    assert s.loc["ABF", "ci_low"] == s.loc["ABF", "ci_high"] == pytest.approx(17.0)  # no spread, no bar
    assert [t.get_text() for t in ax.get_xticklabels()] == ["NECST", "ABF"]
    # 2 seed clouds + 2 paper crosses; the paper's crosses sit at the paper's values
    offsets = np.concatenate([c.get_offsets() for c in ax.collections if len(c.get_offsets())])
    assert any(np.isclose(offsets[:, 1], 14.44)) and any(np.isclose(offsets[:, 1], 13.37))
    with pytest.raises(ValueError, match="lacks the columns"):
        paper_vs_ours_dots(ax, ours.rename(columns={"value": "v"}), paper, group="method", colors={"NECST": "C0"})
    plt.close(fig)
