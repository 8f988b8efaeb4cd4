"""A checkpoint cache keyed by the training configuration.

A trained model is stored under ``<cache root>/<name>-<key>.pt`` where ``key`` hashes the canonical JSON of its
configuration (architecture, data, optimizer, epochs, seed): the same configuration always finds its own
checkpoint, a changed one never does. Files are written atomically (temporary file, fsync, rename), so a kill
mid-write leaves either the old file or the new one; a full disk or a read-only cache folder raises
:class:`~repro.core.fsio.OutputWriteError` naming the file, and the temporary file is removed. On load, every member
of the checkpoint's zip container is checked against its CRC (``zipfile.testzip``) before torch reads it, so a
flipped bit inside the tensor data is caught. An unreadable or inconsistent file raises
:class:`CorruptCheckpointError` naming the file instead of silently retraining over it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import torch

from repro.core.checks import ReproError
from repro.core.fsio import write_bytes
from repro.core.paths import cache_root

FORMAT = 1
REQUIRED = ("format", "config", "complete", "epoch", "model")


class CorruptCheckpointError(ReproError):
    """A cached checkpoint cannot be read or does not belong to its configuration."""


def config_key(config: dict) -> str:
    """16 hex digits of the sha256 of the configuration's canonical JSON."""
    text = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def verify_container(path: Path) -> None:
    """Raise :class:`CorruptCheckpointError` unless ``path`` is a zip archive whose members all match their CRC."""
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
        raise CorruptCheckpointError(
            f"checkpoint {path} is corrupt: not a readable zip archive ({type(err).__name__}: {err}). "
            f"Delete the file to train again.") from err
    except Exception as err:  # zlib.error on a garbled compressed member, ...
        raise CorruptCheckpointError(
            f"checkpoint {path} is corrupt ({type(err).__name__}: {err}). Delete the file to train again.") from err
    if bad is not None:
        raise CorruptCheckpointError(
            f"checkpoint {path} is corrupt: member {bad!r} fails its CRC check. Delete the file to train again.")


class CheckpointCache:
    """Reads and writes training checkpoints under ``root`` (default ``$REPRO_CACHE_DIR`` or ``build/cache``)."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root else cache_root()

    def path(self, name: str, config: dict) -> Path:
        return self.root / f"{name}-{config_key(config)}.pt"

    def load(self, name: str, config: dict) -> dict | None:
        """The stored payload for ``config``, or ``None`` if there is none."""
        path = self.path(name, config)
        if not path.exists():
            return None
        verify_container(path)
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # torch raises several types for truncated or garbled files
            raise CorruptCheckpointError(
                f"checkpoint {path} is corrupt and cannot be read ({type(err).__name__}: {err}). "
                f"Delete the file to train again."
            ) from err
        missing = [k for k in REQUIRED if not isinstance(payload, dict) or k not in payload]
        if missing:
            raise CorruptCheckpointError(f"checkpoint {path} lacks {missing}; delete the file to train again")
        if payload["format"] != FORMAT:
            raise CorruptCheckpointError(f"checkpoint {path} has format {payload['format']}, expected {FORMAT}")
        if config_key(payload["config"]) != config_key(config):
            raise CorruptCheckpointError(f"checkpoint {path} was written for another configuration")
        return payload

    def shorter_run(self, name: str, config: dict) -> dict | None:
        """The complete checkpoint of the longest run of ``name`` whose configuration equals ``config`` except for a
        smaller ``epochs``, or ``None``. :func:`repro.core.training.fit` extends such a run instead of training
        from scratch (its epochs are a prefix of the longer run's). A file that cannot be read is skipped here;
        :meth:`load` reports it when its own configuration asks for it."""
        want = {k: v for k, v in config.items() if k != "epochs"}
        best = None
        for path in sorted(self.root.glob(f"{name}-*.pt")):
            if path.stem.rsplit("-", 1)[0] != name:
                continue
            try:
                verify_container(path)
                payload = torch.load(path, map_location="cpu", weights_only=True)
            except Exception:  # noqa: BLE001 - a corrupt neighbour is reported by load() when asked for
                continue
            if not isinstance(payload, dict) or payload.get("format") != FORMAT or "config" not in payload:
                continue
            cfg = payload["config"]
            epochs = cfg.get("epochs")
            if ({k: v for k, v in cfg.items() if k != "epochs"} != want or not isinstance(epochs, int)
                    or epochs >= int(config["epochs"]) or not payload.get("complete")):
                continue
            if best is None or epochs > best["config"]["epochs"]:
                best = payload
        return best

    def save(self, name: str, config: dict, payload: dict) -> Path:
        """Write ``payload`` (must hold ``complete``, ``epoch`` and ``model``) atomically."""
        path = self.path(name, config)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {**payload, "format": FORMAT, "config": config}
        # serialize in memory first: torch's own writer turns a full disk into an opaque RuntimeError without
        # the path; a plain file write raises OSError, which write_bytes reports with the path
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        return write_bytes(path, buffer.getvalue())
