"""Sequencing reads as one ragged array, and tolerant FASTQ / FASTA readers.

:class:`Reads` holds ``n`` reads of varying length as one flat uint8 array of base codes (``A C G T`` = 0..3,
anything else = 4) plus ``offsets`` (``n + 1``), so that millions of reads cost a few bytes each and whole-set
operations stay vectorized. Readers never raise on bad content: a record that is not FASTQ/FASTA is skipped and
counted in a :class:`ReadFileReport`, so the decoder downstream always gets whatever could be used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .codec import COMPLEMENT, N_CODE, _TO_CODE, reverse_complement, to_string


@dataclass
class Reads:
    """``n`` reads: ``flat`` uint8 base codes of all reads back to back and ``offsets`` int64 ``(n + 1,)``."""

    flat: np.ndarray
    offsets: np.ndarray

    def __post_init__(self):
        self.flat = np.asarray(self.flat, dtype=np.uint8)
        self.offsets = np.asarray(self.offsets, dtype=np.int64)
        o = self.offsets
        if o.ndim != 1 or len(o) == 0 or o[0] != 0 or o[-1] != len(self.flat) or (np.diff(o) < 0).any():
            raise ValueError("offsets must start at 0, never decrease and end at len(flat)")

    @classmethod
    def empty(cls) -> "Reads":
        return cls(np.zeros(0, np.uint8), np.zeros(1, np.int64))

    @classmethod
    def from_strings(cls, seqs) -> "Reads":
        """From DNA strings (any characters; non-ACGT become code 4)."""
        seqs = list(seqs)
        raw = "".join(seqs).encode("ascii", "replace")
        lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
        return cls(_TO_CODE[np.frombuffer(raw, dtype=np.uint8)], np.concatenate([[0], np.cumsum(lengths)]))

    @classmethod
    def from_rows(cls, rows: np.ndarray, lengths: np.ndarray | None = None) -> "Reads":
        """From ``(n, W)`` base codes, row ``i`` truncated to ``lengths[i]`` (default ``W``)."""
        rows = np.atleast_2d(rows)
        if lengths is None:
            lengths = np.full(len(rows), rows.shape[1], dtype=np.int64)
        mask = np.arange(rows.shape[1])[None, :] < np.asarray(lengths)[:, None]
        return cls(rows[mask], np.concatenate([[0], np.cumsum(lengths)]))

    @classmethod
    def concat(cls, parts: list["Reads"]) -> "Reads":
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        flat = np.concatenate([p.flat for p in parts])
        lengths = np.concatenate([p.lengths for p in parts])
        return cls(flat, np.concatenate([[0], np.cumsum(lengths)]))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __getitem__(self, i: int) -> np.ndarray:
        return self.flat[self.offsets[i]: self.offsets[i + 1]]

    def strings(self) -> list[str]:
        return [to_string(self[i]) for i in range(len(self))]

    def take(self, index) -> "Reads":
        """The reads at ``index`` (int array or boolean mask), in that order."""
        index = np.flatnonzero(index) if np.asarray(index).dtype == bool else np.asarray(index, dtype=np.int64)
        lengths = self.lengths[index]
        new_offsets = np.concatenate([[0], np.cumsum(lengths)])
        src = np.repeat(self.offsets[:-1][index] - new_offsets[:-1], lengths) + np.arange(new_offsets[-1])
        return Reads(self.flat[src], new_offsets)

    def rows(self, index, width: int, from_end: bool = False) -> np.ndarray:
        """``(len(index), width)`` codes: the first (or last) ``width`` bases of each read, padded with code 4."""
        index = np.asarray(index, dtype=np.int64)
        start, length = self.offsets[index], self.lengths[index]
        cols = np.arange(width)[None, :]
        if len(index) and int(length.min()) >= width:  # every read is long enough: a plain gather
            first = start + length - width if from_end else start
            return self.flat[first[:, None] + cols]
        if from_end:
            ok = cols >= (width - length)[:, None]
            pos = (start + length - width)[:, None] + cols
        else:
            ok = cols < length[:, None]
            pos = start[:, None] + cols
        if len(self.flat) == 0:
            return np.full((len(index), width), N_CODE, dtype=np.uint8)
        return np.where(ok, self.flat[np.where(ok, pos, 0)], np.uint8(N_CODE))

    def reverse_complement(self) -> "Reads":
        """Every read reverse-complemented (same order)."""
        lengths = self.lengths
        starts = np.repeat(self.offsets[:-1], lengths)
        within = np.arange(len(self.flat)) - starts
        src = starts + np.repeat(lengths, lengths) - 1 - within
        return Reads(COMPLEMENT[self.flat[src]], self.offsets.copy())

    def oriented(self, index, reverse) -> list[np.ndarray]:
        """Reads at ``index``, each reverse-complemented where ``reverse`` is True."""
        return [reverse_complement(self[i]) if r else self[i].copy() for i, r in zip(index, reverse)]


@dataclass
class ReadFileReport:
    """What a reader could not use."""

    path: str
    records: int = 0
    malformed: int = 0
    problems: list[str] = field(default_factory=list)

    def note(self, message: str, limit: int = 5) -> None:
        self.malformed += 1
        if len(self.problems) < limit:
            self.problems.append(message)


def read_fastq(path: str | Path, *, with_names: bool = False):
    """Parse a FASTQ file tolerantly: returns ``(Reads, report)`` (and the names when ``with_names``).

    A record is four lines: ``@name``, sequence, ``+``, qualities of the same length. Records that break this
    (a file that is not FASTQ at all, truncated records, length mismatches) are skipped and counted; parsing
    resynchronizes at the next line starting with ``@``.
    """
    report = ReadFileReport(str(path))
    seqs, names = [], []
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError as err:
        report.note(f"cannot read: {err}")
        return (Reads.empty(), report, []) if with_names else (Reads.empty(), report)
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        if not line.startswith("@"):
            report.note(f"line {i + 1}: expected '@name', got {line[:30]!r}")
            i += 1
            while i < len(lines) and not lines[i].startswith("@"):
                i += 1
            continue
        if i + 3 >= len(lines):
            report.note(f"line {i + 1}: truncated record")
            break
        seq, plus, qual = lines[i + 1].strip(), lines[i + 2], lines[i + 3].strip()
        if not plus.startswith("+") or len(qual) != len(seq):
            report.note(f"line {i + 1}: malformed record (no '+' line or quality length differs)")
            i += 1
            while i < len(lines) and not lines[i].startswith("@"):
                i += 1
            continue
        seqs.append(seq)
        names.append(line[1:].strip())
        report.records += 1
        i += 4
    reads = Reads.from_strings(seqs)
    return (reads, report, names) if with_names else (reads, report)


def read_fasta(path: str | Path, *, with_names: bool = False):
    """Parse a FASTA file (multi-line records allowed) tolerantly: ``(Reads, report)`` (and names)."""
    report = ReadFileReport(str(path))
    seqs, names, current = [], [], None
    try:
        lines = Path(path).read_text(errors="replace").splitlines()
    except OSError as err:
        report.note(f"cannot read: {err}")
        return (Reads.empty(), report, []) if with_names else (Reads.empty(), report)
    for n, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        if line.startswith(">"):
            if current is not None:
                seqs.append("".join(current))
            names.append(line[1:].strip())
            current = []
            report.records += 1
        elif current is None:
            report.note(f"line {n}: sequence before any '>' header")
        else:
            current.append(line)
    if current is not None:
        seqs.append("".join(current))
    reads = Reads.from_strings(seqs)
    return (reads, report, names) if with_names else (reads, report)


def write_fastq(path: str | Path, reads: Reads, quality: str = "I") -> Path:
    """Write reads as FASTQ with a constant quality character (names ``read_<i>``)."""
    path = Path(path)
    with open(path, "w") as fh:
        for i, seq in enumerate(reads.strings()):
            fh.write(f"@read_{i}\n{seq}\n+\n{quality * len(seq)}\n")
    return path
