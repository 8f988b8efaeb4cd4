"""Sequencing reads as one ragged array, and FASTQ / FASTA reading through ``dnaio``.

:class:`Reads` holds ``n`` reads of varying length as one flat uint8 array of base codes (``A C G T`` = 0..3,
anything else = 4) plus ``offsets`` (``n + 1``), so that millions of reads cost a few bytes each and whole-set
operations stay vectorized. :func:`read_reads` streams FASTQ/FASTA (compressed or not, multi-line records too)
into one :class:`Reads`; a file that is not a read file is a :class:`ReadFileError` naming the file and the
place, never a silently empty read set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from repro.core.checks import ReproError, check_choice
from repro.dna.codec import _TO_CODE, COMPLEMENT, N_CODE, reverse_complement, to_string


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
        if len(self.flat) and int(self.flat.max()) > 4:
            raise ValueError(f"base codes must be 0..4 (A, C, G, T, N), got {int(self.flat.max())}")

    @classmethod
    def empty(cls) -> Reads:
        return cls(np.zeros(0, np.uint8), np.zeros(1, np.int64))

    @classmethod
    def from_strings(cls, seqs) -> Reads:
        """From DNA strings (any characters; non-ACGT become code 4)."""
        seqs = list(seqs)
        raw = "".join(seqs).encode("ascii", "replace")
        lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
        return cls(_TO_CODE[np.frombuffer(raw, dtype=np.uint8)], np.concatenate([[0], np.cumsum(lengths)]))

    @classmethod
    def from_rows(cls, rows: np.ndarray, lengths: np.ndarray | None = None) -> Reads:
        """From ``(n, W)`` base codes, row ``i`` truncated to ``lengths[i]`` (default ``W``)."""
        rows = np.atleast_2d(rows)
        if lengths is None:
            lengths = np.full(len(rows), rows.shape[1], dtype=np.int64)
        mask = np.arange(rows.shape[1])[None, :] < np.asarray(lengths)[:, None]
        return cls(rows[mask], np.concatenate([[0], np.cumsum(lengths)]))

    @classmethod
    def concat(cls, parts: list[Reads]) -> Reads:
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

    def take(self, index) -> Reads:
        """The reads at ``index`` (int array or boolean mask), in that order."""
        index = np.flatnonzero(index) if np.asarray(index).dtype == bool else np.asarray(index, dtype=np.int64)
        lengths = self.lengths[index]
        new_offsets = np.concatenate([[0], np.cumsum(lengths)])
        src = np.repeat(self.offsets[:-1][index] - new_offsets[:-1], lengths) + np.arange(new_offsets[-1])
        return Reads(self.flat[src], new_offsets)

    def windows(self, start, stop, chunk: int = 100_000) -> Reads:
        """Read ``i`` cut to bases ``start[i] .. stop[i] - 1`` (both clipped to the read; an empty window where
        ``stop <= start``): trimming adapters or primers, one window per read. Gathered ``chunk`` reads at a time,
        so the work arrays stay a few hundred MB for a million reads (the output is the only full-size array)."""
        n = len(self)
        lengths = self.lengths
        start = np.clip(np.broadcast_to(np.asarray(start, dtype=np.int64), (n,)), 0, lengths)
        stop = np.clip(np.broadcast_to(np.asarray(stop, dtype=np.int64), (n,)), 0, lengths)
        new_lengths = np.maximum(stop - start, 0)
        new_offsets = np.concatenate([[0], np.cumsum(new_lengths)])
        flat = np.empty(int(new_offsets[-1]), dtype=np.uint8)
        for a in range(0, n, chunk):
            b = min(a + chunk, n)
            lo, hi = int(new_offsets[a]), int(new_offsets[b])
            src = np.repeat(self.offsets[a:b] + start[a:b] - new_offsets[a:b], new_lengths[a:b]) + np.arange(lo, hi)
            flat[lo:hi] = self.flat[src]
        return Reads(flat, new_offsets)

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

    def reverse_complement(self) -> Reads:
        """Every read reverse-complemented (same order)."""
        lengths = self.lengths
        starts = np.repeat(self.offsets[:-1], lengths)
        within = np.arange(len(self.flat)) - starts
        src = starts + np.repeat(lengths, lengths) - 1 - within
        return Reads(COMPLEMENT[self.flat[src]], self.offsets.copy())

    def oriented(self, index, reverse) -> list[np.ndarray]:
        """Reads at ``index``, each reverse-complemented where ``reverse`` is True."""
        return [reverse_complement(self[i]) if r else self[i].copy() for i, r in zip(index, reverse)]


class ReadFileError(ReproError, ValueError):
    """A file that cannot be read as FASTQ or FASTA (names the file, the place and what was expected)."""


READ_FORMATS = ("fastq", "fasta")
_BATCH = 50_000  # records converted to base codes at a time (streaming: memory is the reads, not the file)


@dataclass
class ReadFileReport:
    """What a reader read, and what it could not use."""

    path: str
    records: int = 0
    malformed: int = 0
    format: str = ""
    problems: list[str] = field(default_factory=list)

    def note(self, message: str, limit: int = 5) -> None:
        self.malformed += 1
        if len(self.problems) < limit:
            self.problems.append(message)


def read_reads(path: str | Path, *, fileformat: str | None = None, with_names: bool = False,
               on_error: str = "raise"):
    """Read a FASTQ or FASTA file (plain, gzip, bz2, xz or zstd; detected from its content) with ``dnaio``,
    streaming: ``(Reads, report)`` (and the record names when ``with_names``).

    Multi-line FASTQ (legal, rare) is read by Biopython's parser when ``dnaio`` reports it. Bases other than
    A, C, G, T (``N``, IUPAC codes, anything else) become code 4; lower case counts as upper case; CRLF line
    ends are fine. A file that is not FASTQ/FASTA, or breaks off inside a record, raises :class:`ReadFileError`
    (``on_error="raise"``), or with ``on_error="keep"`` returns the records read before the damage and says where
    it stopped in ``report.problems``. A missing file raises ``FileNotFoundError``.
    """
    import dnaio

    check_choice("on_error", on_error, ("raise", "keep"))
    if fileformat is not None:
        check_choice("read file format", fileformat, READ_FORMATS)
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"read file {str(path)!r} is a directory: give one FASTQ or FASTA file (plain or "
                                f"gzip), or read each file of the folder and concatenate (Reads.concat)")
    if not path.is_file():
        raise FileNotFoundError(f"read file {str(path)!r} does not exist")
    report = ReadFileReport(str(path))
    parts: list[Reads] = []
    names: list[str] = []
    batch: list[str] = []

    def flush():
        if batch:
            parts.append(Reads.from_strings(batch))
            batch.clear()

    def consume(records):
        for name, seq in records:
            batch.append(seq)
            if with_names:
                names.append(name)
            report.records += 1
            if len(batch) >= _BATCH:
                flush()

    try:
        try:
            with dnaio.open(path, fileformat=fileformat) as reader:
                report.format = "fastq" if type(reader).__name__.startswith("Fastq") else "fasta"
                consume((r.name, r.sequence) for r in reader)
        except dnaio.FastqFormatError as err:
            if "expected to start with '+'" not in str(err) or report.records:
                raise
            report.records = 0  # multi-line FASTQ from the start: Biopython reads it
            batch.clear()
            names.clear()
            report.format = "fastq (multi-line)"
            consume(_multiline_fastq(path))
    except (dnaio.UnknownFileFormat, dnaio.FileFormatError, ValueError, UnicodeDecodeError, EOFError,
            OSError) as err:
        if isinstance(err, FileNotFoundError):
            raise
        where = f"after {report.records} good records"
        message = (f"{str(path)!r} is not a readable FASTQ or FASTA file ({where}): {str(err).rstrip('.')}. "
                   f"Valid inputs: FASTQ (4-line or multi-line records) or FASTA, plain or compressed (gzip, bz2, "
                   f"xz, zstd)")
        if on_error == "raise":
            raise ReadFileError(message) from err
        report.note(message)
    flush()
    reads = Reads.concat(parts)
    return (reads, report, names) if with_names else (reads, report)


def _multiline_fastq(path: Path):
    from Bio.SeqIO.QualityIO import FastqGeneralIterator
    from xopen import xopen

    with xopen(path, "rt") as fh:
        for title, seq, _qual in FastqGeneralIterator(fh):
            yield title, seq


def read_fastq(path: str | Path, *, with_names: bool = False, on_error: str = "raise"):
    """A FASTQ file as :class:`Reads`: :func:`read_reads` with the format fixed to FASTQ."""
    return read_reads(path, fileformat="fastq", with_names=with_names, on_error=on_error)


def read_fasta(path: str | Path, *, with_names: bool = False, on_error: str = "raise"):
    """A FASTA file (multi-line records allowed) as :class:`Reads`: :func:`read_reads` with the format fixed."""
    return read_reads(path, fileformat="fasta", with_names=with_names, on_error=on_error)


def write_fastq(path: str | Path, reads: Reads, quality: str = "I") -> Path:
    """Write reads as FASTQ with a constant quality character (names ``read_<i>``)."""
    path = Path(path)
    with open(path, "w") as fh:
        for i, seq in enumerate(reads.strings()):
            fh.write(f"@read_{i}\n{seq}\n+\n{quality * len(seq)}\n")
    return path
