"""Finding dataset files on disk and checking them against known checksums.

Search order for a data root: the ``root`` argument, then ``$REPRO_DATA_DIR``, then the repository's ``data/``.
A file is accepted only when its sha256 equals the known checksum of the full dataset or of the committed
sample; anything else is reported as corrupt, with the path, so a truncated copy never trains a model silently.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path

from repro.core.checks import ReproError
from repro.core.paths import env_path, repo_root


class DatasetNotFoundError(ReproError, FileNotFoundError):
    """A dataset's files are in none of the searched folders."""


class ChecksumError(ReproError):
    """A dataset file exists but its content is not the known one (corrupt, truncated or a different version)."""


@lru_cache(maxsize=1)
def known_checksums() -> dict[str, dict[str, str]]:
    text = resources.files("repro.data").joinpath("checksums.json").read_text()
    return {k: v for k, v in json.loads(text).items() if not k.startswith("_")}


def candidate_roots(root: str | os.PathLike | None = None) -> list[Path]:
    """The folders searched for data, in order."""
    roots: list[Path] = []
    if root:
        roots.append(Path(root))
    env = env_path("REPRO_DATA_DIR")
    if env:
        roots.append(env)
    roots.append(repo_root() / "data")
    seen, unique = set(), []
    for r in roots:
        key = str(r.resolve())
        if key not in seen:
            seen.add(key)
            unique.append(r)
    return unique


@lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, relpath: str) -> str:
    """Return ``'full'`` or ``'sample'`` for a file with a known checksum; raise :class:`ChecksumError` otherwise."""
    stat = path.stat()
    digest = _sha256(str(path), stat.st_size, stat.st_mtime_ns)
    for kind, expected in known_checksums().get(relpath, {}).items():
        if digest == expected:
            return kind
    raise ChecksumError(
        f"{path} does not match any known checksum (sha256 {digest}); the file is corrupt, truncated or not the "
        f"expected release. Delete it and copy it again from the shared data folder (see data/README.md)."
    )


def find_files(dataset: str, relpaths: list[str], root=None, how_to_get: str = "") -> tuple[Path, str]:
    """Return ``(data_root, kind)`` of the first searched root holding every one of ``relpaths`` verified.

    ``kind`` is ``'full'`` or ``'sample'``; mixing the two within one dataset is an error.
    """
    searched = candidate_roots(root)
    for base in searched:
        paths = [base / rel for rel in relpaths]
        if all(p.is_file() for p in paths):
            kinds = {verify(p, rel) for p, rel in zip(paths, relpaths)}
            if len(kinds) != 1:
                raise ChecksumError(f"{base}: files of dataset {dataset!r} mix full and sample versions: {kinds}")
            return base, kinds.pop()
    looked = "\n  ".join(str(b / relpaths[0]) for b in searched)
    raise DatasetNotFoundError(
        f"dataset {dataset!r} not found. Looked for {relpaths[0]} (and {len(relpaths) - 1} other file(s)) in:\n  "
        f"{looked}\nSet REPRO_DATA_DIR to the folder holding the shared data, or copy the files into data/. "
        f"{how_to_get}"
    )
