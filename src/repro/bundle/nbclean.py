"""Clean executed notebooks before they are committed: no progress-bar fragments, no machine paths.

* ``stderr`` stream outputs lose their progress bars: carriage-return updates are collapsed to what a terminal
  would finally show, then tqdm-style bar lines (``name:  40%|####  | 4/10 [...]``) and the kernel's "running
  over TCP" warning are dropped; whatever else was written to stderr (a real warning) is kept. Adjacent stream
  outputs of the same name are merged.
* Absolute paths of the machine that ran the notebook become symbolic names: the repository root ``<repo>``,
  the data folder ``<data>``, the checkpoint cache ``<cache>``, any other temporary or home folder
  ``<tmp>`` / ``~``. Paths of another checkout (a temporary worktree) are recognized by the repository folder
  that follows them (``.../figures/``, ``.../notebooks/``, ...).
* papermill's injected-parameters cell and its per-cell timing metadata are removed.

:func:`clean_notebook` is idempotent: cleaning a clean notebook changes nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from repro.core.paths import cache_root, env_path, repo_root

# name:  40%|####      | 4/10 [00:35<00:35,  8.97s/it, loss=-1854]   (also bars without a name)
_BAR = re.compile(r"\d{1,3}%\|.*\|\s*[\d.]+[kMG]?/[\d.?]+[kMG]?")
_BAR_ANY = re.compile(r"\|\s*\d+/\d+\s*\[\d\d:\d\d")
_KERNEL_WARNING = re.compile(r"running over TCP", re.IGNORECASE)
_REPO_DIRS = ("figures", "notebooks", "build", "src", "data", "scripts", "tests", "benchmarks")


def is_progress_line(line: str) -> bool:
    return bool(_BAR.search(line) or _BAR_ANY.search(line))


def clean_stderr(text: str) -> str:
    """``text`` of a stderr stream without progress bars and the kernel's transport warning."""
    kept = []
    for line in text.split("\n"):
        line = line.rstrip("\r").rsplit("\r", 1)[-1]  # what a terminal shows after carriage-return updates
        if not line.strip() or is_progress_line(line) or _KERNEL_WARNING.search(line):
            continue
        kept.append(line)
    return "".join(line + "\n" for line in kept)


def _known_roots() -> list[tuple[str, str]]:
    roots = [(str(repo_root()), "<repo>")]
    data = env_path("REPRO_DATA_DIR")
    if data:
        roots.append((str(data), "<data>"))
    roots.append((str(cache_root()), "<cache>"))
    home = os.path.expanduser("~")
    # longest first, so that a data folder inside the repository keeps its own name
    return sorted({(str(Path(p)), name) for p, name in roots if p and p != "/"}, key=lambda r: -len(r[0])) + \
        ([(home, "~")] if home not in ("", "/") else [])


_SHARED_DATA = re.compile(r"/(?:work|tmp|root|home|mnt|scratch)(?:/[\w.\-]+)*?/shared/data(?=[/\s'\"]|$)")
_CACHE = re.compile(r"/(?:work|tmp|root|home|mnt|scratch)(?:/[\w.\-]+)*?/cache(?=[/\s'\"]|$)")
_CHECKOUT = re.compile(r"/(?:work|tmp|root|home|Users|private|mnt|scratch)(?:/[\w.\-]+)*?/(?=(?:"
                       + "|".join(_REPO_DIRS) + r")(?:[/\s'\"]|$))")
_ANY_MACHINE_PATH = re.compile(r"/(?:work|tmp|root|home)/[\w.\-/]*")


def strip_paths(text: str, roots: Iterable[tuple[str, str]] | None = None) -> str:
    """``text`` with absolute machine paths replaced by symbolic names (see the module docstring)."""
    for path, name in roots if roots is not None else _known_roots():
        text = re.sub(re.escape(path) + r"(?=[/\s'\"\\,;:)\]]|$)", name, text)
    text = _SHARED_DATA.sub("<data>", text)
    text = _CACHE.sub("<cache>", text)
    text = _CHECKOUT.sub("<repo>/", text)
    # anything left under a temporary or home folder: keep only the last component
    return _ANY_MACHINE_PATH.sub(lambda m: "<tmp>/" + m.group(0).rstrip("/").rsplit("/", 1)[-1], text)


def _clean_value(value, roots):
    if isinstance(value, str):
        return strip_paths(value, roots)
    if isinstance(value, list):
        return [_clean_value(v, roots) for v in value]
    if isinstance(value, dict):
        return {k: _clean_value(v, roots) for k, v in value.items()}
    return value


def _join(text) -> str:
    return "".join(text) if isinstance(text, list) else text


def clean_notebook(nb, roots: Iterable[tuple[str, str]] | None = None):
    """Clean an ``nbformat`` notebook in place (and return it); see the module docstring."""
    roots = list(roots) if roots is not None else _known_roots()
    nb.cells = [c for c in nb.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                text = _join(out.get("text", ""))
                if out.get("name") == "stderr":
                    text = clean_stderr(text)
                text = strip_paths(text, roots)
                if not text:
                    continue
                if outputs and outputs[-1].get("output_type") == "stream" and outputs[-1].get("name") == out.get(
                        "name"):
                    outputs[-1]["text"] = _join(outputs[-1]["text"]) + text
                    continue
                out["text"] = text
            else:
                if "data" in out:
                    for mime in list(out["data"]):
                        if mime.startswith("text/") or mime.endswith("json"):
                            out["data"][mime] = _clean_value(out["data"][mime], roots)
                if "traceback" in out:
                    out["traceback"] = _clean_value(out["traceback"], roots)
                if "evalue" in out:
                    out["evalue"] = strip_paths(out["evalue"], roots)
            outputs.append(out)
        cell["outputs"] = outputs
    return nb


def clean_file(path: str | os.PathLike, out: str | os.PathLike | None = None) -> bool:
    """Clean the notebook at ``path`` into ``out`` (default: in place, atomically). True when it changed."""
    import nbformat

    from repro.core.fsio import write_text

    path = Path(path)
    before = path.read_text()
    nb = clean_notebook(nbformat.reads(before, as_version=4))
    after = nbformat.writes(nb) + ("\n" if not nbformat.writes(nb).endswith("\n") else "")
    target = Path(out) if out else path
    if target != path or after != before:
        write_text(target, after)
    return after != before
