"""Recovered oligos to files, with erasures: ``decode_reads`` is the whole read-side pipeline.

Every recovered oligo gives the bytes of one chunk at a known byte offset of a known file. A missing chunk
leaves a span of unknown bytes (zeros in ``data``, ``False`` in ``known``). A file's length is known when its
last chunk (the one ending with the EOC codeword) was recovered, or when the caller knows it
(``expected_sizes``: e.g. fixed-size latent records); otherwise the file ends after the last recovered byte.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .codec import OligoFormat, payload_bytes
from .consensus import RecoveredOligos, RecoveryReport, recover_oligos
from .reads import Reads


@dataclass
class RecoveredFile:
    """One file as recovered: ``data`` (unknown bytes are 0), ``known`` ``(len(data),)`` bool per byte."""

    data: bytes
    known: np.ndarray
    length_known: bool

    @classmethod
    def exact(cls, data: bytes) -> "RecoveredFile":
        """A file read back without loss (the error-free reference)."""
        return cls(bytes(data), np.ones(len(data), dtype=bool), True)

    @property
    def complete(self) -> bool:
        return self.length_known and bool(self.known.all())

    @property
    def missing_bytes(self) -> int:
        return int((~self.known).sum())


def assemble_files(rec: RecoveredOligos, n_files: int, expected_sizes=None) -> list[RecoveredFile]:
    """Place every recovered chunk in its file. ``expected_sizes`` (``(n_files,)`` or ``None``) fixes lengths."""
    chunks, ended = payload_bytes(rec.payload) if len(rec) else ([], np.zeros(0, bool))
    per_file: dict[int, list[tuple[int, bytes, bool]]] = {}
    for fid, off, data, end in zip(rec.file_id.tolist(), rec.offset.tolist(), chunks, ended.tolist()):
        if fid < n_files:
            per_file.setdefault(fid, []).append((off, data, end))
    files = []
    for fid in range(n_files):
        parts = per_file.get(fid, [])
        ends = [off + len(d) for off, d, e in parts if e]
        if expected_sizes is not None:
            size, length_known = int(expected_sizes[fid]), True
        elif ends:
            size, length_known = max(ends), True
        else:
            size, length_known = max((off + len(d) for off, d, _ in parts), default=0), False
        buf = np.zeros(size, dtype=np.uint8)
        known = np.zeros(size, dtype=bool)
        for off, data, _ in parts:
            stop = min(off + len(data), size)
            if stop > off:
                buf[off:stop] = np.frombuffer(data, dtype=np.uint8)[: stop - off]
                known[off:stop] = True
        files.append(RecoveredFile(buf.tobytes(), known, length_known))
    return files


def decode_reads(reads: Reads, fmt: OligoFormat, n_files: int, expected_sizes=None,
                 **options) -> tuple[list[RecoveredFile], RecoveryReport]:
    """Reads (sequences only) -> the ``n_files`` files of the pool and a report of what could not be used.

    ``options`` go to :func:`repro.dna.consensus.recover_oligos` (consensus method, length tolerance, ...).
    """
    rec, report = recover_oligos(reads, fmt, n_files=n_files, **options)
    files = assemble_files(rec, n_files, expected_sizes)
    if len(reads) == 0:
        report.problems.append("the read set is empty: every file is an erasure")
    return files, report
