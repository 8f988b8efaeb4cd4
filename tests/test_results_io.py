"""Results files are written atomically, the manifest keeps every entry under concurrent writers, write errors
name the file in one line and leave no temporary file, and the provenance footer never overlaps other text."""

import errno
import json
import multiprocessing
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from repro.bundle.results import FOOTER_GID, Run, add_footer, overlapping_texts, read_manifest  # noqa: E402
from repro.core import fsio  # noqa: E402
from repro.core.paths import output_root, repo_root  # noqa: E402


def _writer(root: str, worker: int, n: int) -> None:
    os.environ["REPRO_OUTPUT_DIR"] = root
    run = Run(f"nb{worker}", "smoke", {"worker": worker}, [0], commit="test")
    for i in range(n):
        run._record(f"nb{worker}/a{i}.csv", "table", "stress", "")


def test_concurrent_writer_processes_keep_every_manifest_entry(tmp_path):
    workers, per_worker = 6, 25
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, per_worker)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    artifacts = read_manifest(tmp_path)["artifacts"]
    expected = {f"nb{w}/a{i}.csv" for w in range(workers) for i in range(per_worker)}
    assert set(artifacts) == expected
    assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))


def test_every_results_file_is_written_through_a_temporary_file(tmp_path, monkeypatch):
    seen = []
    real = fsio.os.replace

    def spy(src, dst):
        seen.append((os.path.basename(src), os.path.basename(dst)))
        return real(src, dst)

    monkeypatch.setattr(fsio.os, "replace", spy)
    run = Run("nb", "smoke", {}, [0], output_dir=str(tmp_path), commit="test")
    run.write_table(pd.DataFrame({"a": [1]}), "t", reproduces="x")
    run.write_json({"a": 1}, "j", reproduces="x")
    fig, ax = plt.subplots()
    run.save_figure(fig, "f", reproduces="x")
    plt.close(fig)
    targets = {dst for _, dst in seen}
    assert {"t.csv", "j.json", "f.png", "f.pdf", "manifest.json"} <= targets
    assert all(src.endswith(".tmp") and src.startswith(".") for src, _ in seen)
    assert (tmp_path / "nb" / "t.csv").read_text().startswith("a,profile,commit")


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_write_errors_name_the_file_in_one_line_and_leave_no_temporary(tmp_path, monkeypatch, code):
    run = Run("nb", "smoke", {}, [0], output_dir=str(tmp_path), commit="test")

    def failing_fsync(path, directory=False):
        if not directory:
            raise OSError(code, os.strerror(code))

    monkeypatch.setattr(fsio, "_fsync_path", failing_fsync)
    with pytest.raises(fsio.OutputWriteError) as info:
        run.write_table(pd.DataFrame({"a": [1]}), "t", reproduces="x")
    message = str(info.value)
    assert "\n" not in message
    assert str(tmp_path / "nb" / "t.csv") in message and errno.errorcode[code] in message
    assert not (tmp_path / "nb" / "t.csv").exists()
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]


def test_a_failing_writer_keeps_the_old_file(tmp_path):
    target = tmp_path / "x.csv"
    fsio.write_text(target, "old\n")
    with pytest.raises(ZeroDivisionError):
        with fsio.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise ZeroDivisionError("the writer fails half way")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["x.csv"]


def test_relative_output_dirs_resolve_against_the_repo_root(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert output_root("cpu", "build/mine") == repo_root() / "build" / "mine"
    monkeypatch.setenv("REPRO_OUTPUT_DIR", "build/env")
    assert output_root("cpu") == repo_root() / "build" / "env"
    assert output_root("cpu", str(tmp_path)) == tmp_path


def _figures():
    """Layouts the notebooks use: plain, several panels with titles and a suptitle, long labels, legend below."""
    fig1, ax = plt.subplots(figsize=(4, 3))
    ax.plot([0, 1], [0, 1], label="a")
    ax.set_xlabel("bit-flip probability eps")
    ax.set_ylabel("distortion")
    yield fig1
    fig2, axes = plt.subplots(1, 3, figsize=(9, 3), layout="constrained")
    for ax in axes:
        ax.plot([1, 2, 3], [3, 1, 2])
        ax.set_title("$\\varepsilon$ = 0.1")
        ax.set_xlabel("epoch")
    fig2.suptitle("cifar10: validation distortion per epoch (star: tested checkpoint)", fontsize=9)
    yield fig2
    fig3, axes = plt.subplots(2, 2, figsize=(5, 4))
    for ax in axes.flat:
        ax.imshow([[0, 1], [1, 0]])
        ax.set_xlabel("a rather long x-axis label that reaches the right edge of the panel")
    fig3.tight_layout()
    yield fig3
    fig4, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], label="NECST")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25))
    ax.set_xlabel("SNR (dB)")
    yield fig4


@pytest.mark.filterwarnings("ignore:.*overlapping text")
def test_provenance_footer_does_not_overlap_any_text(tmp_path):
    run = Run("nb", "smoke", {"dataset": "mnist"}, [0, 1, 2], output_dir=str(tmp_path), commit="abc123")
    for i, fig in enumerate(_figures()):
        before = overlapping_texts(fig)
        run.save_figure(fig, f"f{i}", reproduces="layout")
        footer = [t for t in fig.texts if t.get_gid() == FOOTER_GID]
        assert len(footer) == 1 and footer[0].get_text() == run.stamp
        assert [pair for pair in overlapping_texts(fig) if run.stamp in pair] == []
        assert overlapping_texts(fig) == before
        plt.close(fig)


def test_overlap_check_detects_the_old_footer_placement():
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.set_xlabel("epoch")
    fig.text(0.995, 0.002, "notebook | profile=cpu | seeds=[0] | commit 0123456789ab | 2026-01-01" * 2,
             ha="right", va="bottom", fontsize=5)
    assert ("epoch" in {a for pair in overlapping_texts(fig) for a in pair})
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.set_xlabel("epoch")
    add_footer(fig, "footer")
    assert overlapping_texts(fig) == []
    plt.close(fig)


def test_manifest_is_valid_json_after_every_write(tmp_path):
    run = Run("nb", "smoke", {}, [0], output_dir=str(tmp_path), commit="test")
    for i in range(3):
        run.write_json({"i": i}, f"j{i}", reproduces="x")
        json.loads((tmp_path / "manifest.json").read_text())
    assert len(read_manifest(tmp_path)["artifacts"]) == 3


def test_colliding_text_is_warned_and_listed_in_the_manifest(tmp_path):
    run = Run("nb", "smoke", {}, [0], output_dir=str(tmp_path), commit="test")
    fig, axes = plt.subplots(1, 2, figsize=(4, 2))
    for ax in axes:
        ax.set_title("a title long enough to run into its neighbour's title")
    with pytest.warns(UserWarning, match="overlapping text"):
        run.save_figure(fig, "crowded", reproduces="layout")
    plt.close(fig)
    entry = read_manifest(tmp_path)["artifacts"]["nb/crowded.png"]
    assert entry["text_overlaps"]
    fig, ax = plt.subplots()
    ax.set_xlabel("fine")
    run.save_figure(fig, "fine", reproduces="layout")
    plt.close(fig)
    assert "text_overlaps" not in read_manifest(tmp_path)["artifacts"]["nb/fine.png"]
