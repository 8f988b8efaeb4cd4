"""Recovered oligos to files, with erasures: ``decode_reads`` is the whole read-side pipeline.

Every recovered oligo gives the bytes of one chunk at a known byte offset of a known file. A missing chunk
leaves a span of unknown bytes (zeros in ``data``, ``False`` in ``known``). A file's length is known when its
last chunk (the one ending with the EOC codeword) was recovered, when the caller knows it (``expected_sizes``:
e.g. fixed-size latent records), or, in format version 3, when its first chunk (which holds the file's header:
length and CRC-32) was recovered; otherwise the file ends after the last recovered byte. Version 3 also checks a
complete file against its CRC-32: a file that fails keeps no known byte (``files_failed_digest``).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from repro.core.checks import ConfigError, check_range
from repro.dna.codec import FILE_HEADER_BYTES, OligoFormat, payload_bytes, read_file_header
from repro.dna.consensus import RecoveredOligos, RecoveryReport, recover_oligos
from repro.dna.reads import Reads


@dataclass
class RecoveredFile:
    """One file as recovered: ``data`` (unknown bytes are 0), ``known`` ``(len(data),)`` bool per byte."""

    data: bytes
    known: np.ndarray
    length_known: bool
    verified: bool | None = None  # version 3: the complete file matched its CRC-32 (False: it did not; None: unchecked)

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
                   report: RecoveryReport | None = None, fmt: OligoFormat | None = None) -> list[RecoveredFile]:
    """Place every recovered chunk in its file. ``expected_sizes`` (``(n_files,)`` or ``None``) fixes lengths.

    Nothing is overwritten: where two chunks overlap with different bytes, those bytes become unknown
    (``chunks_conflicting``); overlaps that agree are counted (``chunks_overlapping``). A file whose recovered
    end-of-file chunks disagree on its length keeps no length (``files_with_conflicting_ends``); a chunk that runs
    past the file's known length (its end chunk, or ``expected_sizes``), or an end chunk that disagrees with
    ``expected_sizes``, is dropped (``chunks_out_of_file``). Counts go to ``report`` when given. With a version-3
    ``fmt`` the chunks hold each file behind its header (:func:`unwrap_file`).
    """
    report = report if report is not None else RecoveryReport()
    header = fmt.file_header_bytes if fmt is not None else 0
    if header and expected_sizes is not None:
        expected_sizes = [int(size) + header for size in expected_sizes]
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
        stored = RecoveredFile(buf.tobytes(), known, length_known)
        files.append(unwrap_file(stored, fid, report) if header else stored)
    if report.chunks_conflicting and len(report.problems) < 20:
        report.problems.append(f"{report.chunks_conflicting} recovered chunks overlap others with different bytes: "
                               f"{report.bytes_withdrawn} bytes withdrawn (marked unknown)")
    return files


def unwrap_file(stored: RecoveredFile, fid: int, report: RecoveryReport) -> RecoveredFile:
    """A version-3 file from its stored bytes (header, then the file). With the header known, the file's length is
    the header's: bytes recovered past it are dropped (``bytes_past_end``), and a length that disagrees with the
    one the end chunk or the caller gave withdraws the file (``files_header_mismatch``). A complete file is checked
    against the header's CRC-32: it is ``verified``, or it keeps no known byte (``files_failed_digest``). Without
    the header, the file is what follows it, its length known when the stored length is. When header and end
    disagree, the header wins only if the bytes it covers are complete and match its CRC-32."""
    buf, known = np.frombuffer(stored.data, dtype=np.uint8), stored.known
    if len(buf) < FILE_HEADER_BYTES or not known[:FILE_HEADER_BYTES].all():
        data, dknown = buf[FILE_HEADER_BYTES:], known[FILE_HEADER_BYTES:]
        return RecoveredFile(np.where(dknown, data, 0).astype(np.uint8).tobytes(), dknown.copy(), stored.length_known)
    length, digest = read_file_header(buf[:FILE_HEADER_BYTES].tobytes())
    data, dknown = buf[FILE_HEADER_BYTES:], known[FILE_HEADER_BYTES:]
    if stored.length_known and len(data) != length:
        report.files_header_mismatch += 1
        resolved = (len(data) > length and dknown[:length].all()
                    and zlib.crc32(data[:length].tobytes()) == digest)  # the digest says the header is right
        if resolved:
            report.bytes_past_end += int(dknown[length:].sum())
            report.files_verified += 1
            return RecoveredFile(data[:length].tobytes(), dknown[:length].copy(), True, True)
        if len(report.problems) < 20:
            report.problems.append(f"file {fid}: its header says {length} bytes, its end chunk (or expected_sizes) "
                                   f"{len(data)}: every byte withdrawn")
        return RecoveredFile(bytes(len(data)), np.zeros(len(data), dtype=bool), False, False)
    if len(data) > length:
        report.bytes_past_end += int(dknown[length:].sum())
        data, dknown = data[:length], dknown[:length]
    elif len(data) < length:
        data = np.concatenate([data, np.zeros(length - len(data), dtype=np.uint8)])
        dknown = np.concatenate([dknown, np.zeros(length - len(dknown), dtype=bool)])
    verified = None
    if dknown.all():
        verified = zlib.crc32(data.tobytes()) == digest
        if verified:
            report.files_verified += 1
        else:
            report.files_failed_digest += 1
            report.bytes_withdrawn += length
            if len(report.problems) < 20:
                report.problems.append(f"file {fid}: all {length} bytes recovered but their CRC-32 is not the "
                                       f"header's: every byte withdrawn")
            return RecoveredFile(bytes(length), np.zeros(length, dtype=bool), True, False)
    return RecoveredFile(np.where(dknown, data, 0).astype(np.uint8).tobytes(), dknown.copy(), True, verified)


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
    files = assemble_files(rec, n_files, expected_sizes, report, fmt)
    if len(reads) == 0:
        report.problems.append("the read set is empty: every file is an erasure")
    return files, report
