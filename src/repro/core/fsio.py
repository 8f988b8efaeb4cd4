"""Safe file writes for results and checkpoints: atomic replacement, file locks, one-line errors.

Every results file (CSV, JSON, PNG, PDF, the manifest) and every checkpoint is written through
:func:`atomic_path`: the writer fills a temporary file beside the target, the file is flushed to disk
(``fsync``) and renamed over the target, so a reader (or a kill, or a full disk) sees either the old file or
the new one, never a truncated one. If anything fails, the temporary file is removed; an ``OSError`` (disk
full, read-only file system, permission denied) becomes :class:`OutputWriteError`, one line that names the
file. :func:`locked` serializes read-modify-write cycles (the manifest) between processes with ``fcntl.flock``
on a ``<file>.lock`` beside the file.
"""

from __future__ import annotations

import errno
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from repro.core.checks import ReproError


class OutputWriteError(ReproError, OSError):
    """A results file or checkpoint could not be written (the message names the file and the reason)."""


def describe_os_error(err: OSError) -> str:
    """``'No space left on device (ENOSPC)'`` for an ``OSError``; its text when it has no errno."""
    if err.errno is None:
        return str(err)
    name = errno.errorcode.get(err.errno, str(err.errno))
    return f"{err.strerror or os.strerror(err.errno)} ({name})"


def write_error(path: Path, err: OSError) -> OutputWriteError:
    out = OutputWriteError(f"cannot write {path}: {describe_os_error(err)}")
    out.errno = err.errno
    return out


def _fsync_path(path: Path, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is fsynced and renamed onto ``path``.

    The writer must write the whole file to the yielded path (``df.to_csv(tmp)``, ``fig.savefig(tmp,
    format=...)``). On any exception the temporary file is removed and the exception re-raised, an ``OSError``
    as :class:`OutputWriteError` naming ``path``.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        _fsync_path(tmp)
        os.replace(tmp, path)
    except BaseException as err:
        try:
            tmp.unlink()
        except FileNotFoundError:
            pass
        except OSError:
            pass  # the directory itself is unwritable: nothing was created there
        if isinstance(err, OSError) and not isinstance(err, OutputWriteError):
            raise write_error(path, err) from err
        raise
    try:
        _fsync_path(path.parent, directory=True)
    except OSError:
        pass  # some file systems refuse to fsync a directory; the rename itself is done


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))


@contextmanager
def locked(path: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive inter-process lock for ``path`` (on ``<path>.lock``) for the ``with`` block."""
    import fcntl

    lock = Path(path).with_name(Path(path).name + ".lock")
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise write_error(lock, err) from err
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
