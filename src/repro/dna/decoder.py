"""Recovered oligos to files, with erasures: ``decode_reads`` is the whole read-side pipeline.

Every recovered oligo gives the bytes of one chunk at a known byte offset of a known file. A missing chunk
leaves a span of unknown bytes (zeros in ``data``, ``False`` in ``known``). A file's length is known when its
last chunk (the one ending with the EOC codeword) was recovered, or when the caller knows it
(``expected_sizes``: e.g. fixed-size latent records); otherwise the file ends after the last recovered byte.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from repro.core.checks import ConfigError, check_range
from repro.dna.codec import OligoFormat, payload_bytes
from repro.dna.consensus import RecoveredOligos, RecoveryReport, recover_oligos
from repro.dna.reads import Reads


@dataclass
class RecoveredFile:
    """One file as recovered: ``data`` (unknown bytes are 0), ``known`` ``(len(data),)`` bool per byte."""

    data: bytes
    known: np.ndarray
    length_known: bool

    @classmethod
    def exact(cls, data: bytes) -> RecoveredFile:
        """A file read back without loss (the error-free reference)."""
        return cls(bytes(data), np.ones(len(data), dtype=bool), True)

    @property
    def complete(self) -> bool:
        return self.length_known and bool(self.known.all())

    @property
    def missing_bytes(self) -> int:
        return int((~self.known).sum())


def assemble_files(rec: RecoveredOligos, n_files: int, expected_sizes=None,
                   report: RecoveryReport | None = None) -> list[RecoveredFile]:
    """Place every recovered chunk in its file. ``expected_sizes`` (``(n_files,)`` or ``None``) fixes lengths.

    Nothing is overwritten: where two chunks overlap with different bytes, those bytes become unknown
    (``chunks_conflicting``); overlaps that agree are counted (``chunks_overlapping``). A file whose recovered
    end-of-file chunks disagree on its length keeps no length (``files_with_conflicting_ends``); a chunk that runs
    past the file's known length (its end chunk, or ``expected_sizes``), or an end chunk that disagrees with
    ``expected_sizes``, is dropped (``chunks_out_of_file``). Counts go to ``report`` when given.
    """
    report = report if report is not None else RecoveryReport()
    chunks, ended = payload_bytes(rec.payload) if len(rec) else ([], np.zeros(0, bool))
    per_file: dict[int, list[tuple[int, bytes, bool]]] = {}
    for fid, off, data, end in zip(rec.file_id.tolist(), rec.offset.tolist(), chunks, ended.tolist()):
        if fid < n_files:
            per_file.setdefault(fid, []).append((off, data, end))
    files = []
    for fid in range(n_files):
        parts = sorted(per_file.get(fid, []), key=lambda p: p[0])
        ends = sorted({off + len(d) for off, d, e in parts if e})
        if expected_sizes is not None:
            size, length_known = int(expected_sizes[fid]), True
            bad_end = [p for p in parts if p[2] and p[0] + len(p[1]) != size]
            report.chunks_out_of_file += len(bad_end)
            parts = [p for p in parts if not (p[2] and p[0] + len(p[1]) != size)]
        elif len(ends) == 1:
            size, length_known = ends[0], True
        else:
            if len(ends) > 1:
                report.files_with_conflicting_ends += 1
                if len(report.problems) < 20:
                    report.problems.append(f"file {fid}: end-of-file chunks at {ends} disagree; its length is "
                                           f"unknown")
            size, length_known = max((off + len(d) for off, d, _ in parts), default=0), False
        if length_known:
            beyond = [p for p in parts if p[0] + len(p[1]) > size]
            report.chunks_out_of_file += len(beyond)
            parts = [p for p in parts if p[0] + len(p[1]) <= size]
        buf = np.zeros(size, dtype=np.uint8)
        known = np.zeros(size, dtype=bool)
        bad = np.zeros(size, dtype=bool)
        for off, data, _ in parts:
            stop = off + len(data)
            if stop <= off:
                continue
            new = np.frombuffer(data, dtype=np.uint8)
            seen = known[off:stop]
            if seen.any():
                differ = seen & (buf[off:stop] != new)
                if differ.any():
                    report.chunks_conflicting += 1
                    bad[off:stop] |= seen  # the whole overlap is suspect: one of the two chunks is wrong
                else:
                    report.chunks_overlapping += 1
            buf[off:stop] = np.where(seen, buf[off:stop], new)
            known[off:stop] = True
        if bad.any():
            report.bytes_withdrawn += int(bad.sum())
            known &= ~bad
            buf[bad] = 0
        files.append(RecoveredFile(buf.tobytes(), known, length_known))
    if report.chunks_conflicting and len(report.problems) < 20:
        report.problems.append(f"{report.chunks_conflicting} recovered chunks overlap others with different bytes: "
                               f"{report.bytes_withdrawn} bytes withdrawn (marked unknown)")
    return files


def check_files(fmt: OligoFormat, n_files, expected_sizes=None) -> None:
    """Raise :class:`ConfigError` unless ``n_files`` (1 .. the format's file count) and ``expected_sizes`` (``None``
    or one size per file, each 0 .. the largest file the format addresses) fit the format."""
    check_range("n_files", n_files, 1, fmt.max_files, integer=True)
    if expected_sizes is None:
        return
    sizes = list(expected_sizes)
    if len(sizes) != n_files:
        raise ConfigError(f"expected_sizes has {len(sizes)} entries for n_files={n_files}: give one size per file")
    for i, size in enumerate(sizes):
        check_range(f"expected_sizes[{i}]", size, 0, fmt.max_file_bytes, integer=True)


def decode_reads(reads: Reads, fmt: OligoFormat, n_files: int, expected_sizes=None,
                 **options) -> tuple[list[RecoveredFile], RecoveryReport]:
    """Reads (sequences only) -> the ``n_files`` files of the pool and a report of what could not be used.

    ``options`` go to :func:`repro.dna.consensus.recover_oligos` (consensus method, length tolerance, ...).
    ``n_files`` and ``expected_sizes`` are checked against what the format can address before anything is
    allocated (a one-line :class:`~repro.core.checks.ConfigError` naming the value and the valid range).
    """
    check_files(fmt, n_files, expected_sizes)
    rec, report = recover_oligos(reads, fmt, n_files=n_files, **options)
    files = assemble_files(rec, n_files, expected_sizes, report)
    if len(reads) == 0:
        report.problems.append("the read set is empty: every file is an erasure")
    return files, report
