"""A Reed-Solomon erasure code across the oligos of a file: the outer code DNA storage systems put on their files.

Grass et al., Organick et al. and DNA Fountain protect a file with redundancy *across* oligos, so that a lost oligo
costs nothing as long as enough others came back. :class:`OuterCode` does this for the bundle's own layout, with
the field arithmetic of the maintained ``reedsolo`` library (GF(256), no hand-written GF code):

- A file of ``S`` bytes is cut into **rows** of ``row_bytes`` bytes (set it to the bytes one oligo carries, so a
  lost oligo erases about one row), and the rows into **blocks** of ``k`` data rows. Each block gets ``m`` parity
  rows; column ``c`` of a block, ``(row_0[c], ..., row_{k-1}[c], parity_0[c], ..., parity_{m-1}[c])``, is one
  codeword of a shortened RS(``k + m``, ``k``) code (``k + m <= 255``). A lost oligo therefore erases one symbol
  in each of the ~``row_bytes`` codewords it crossed, and any ``m`` lost rows of a block are recovered.
- The stored (protected) file is the data followed by every block's parity rows: ``S + blocks * m * row_bytes``
  bytes, counted exactly by :meth:`OuterCode.protected_size`. Parity rows are stored rotated so that every stored
  byte's offset modulo ``row_bytes`` is its column: any lost span of at most ``row_bytes`` bytes erases at most one
  symbol per codeword. The last block's missing data rows are known zeros
  (a shortened code), never stored.
- Decoding takes the inner decoder's per-byte ``known`` mask (:class:`repro.dna.decoder.RecoveredFile`): unknown
  bytes are **erasures** at known positions. A codeword with at most ``m`` erasures is decoded erasures-only; when
  fewer than ``m`` symbols were erased the spare parity is used as a check (``reedsolo`` rejects a codeword whose
  syndrome is not zero after the correction), so an inconsistent codeword fills nothing. A codeword with more
  than ``m`` erasures is left as it was. No byte the inner decoder did not know is ever marked known unless its
  codeword decoded; bytes it did know are kept as they were (with exactly ``m`` erasures no check is left).

Redundancy is ``m / k`` per block (``for_redundancy``); ``0`` is the identity (no parity, nothing to decode).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from reedsolo import ReedSolomonError, RSCodec

from repro.core.checks import ReproError, check_range
from repro.dna.decoder import RecoveredFile

MAX_CODEWORD = 255  # symbols of a GF(256) Reed-Solomon codeword


class OuterCodeError(ReproError):
    """An outer-coded file could not be recovered (raised only when the caller asks for a complete file)."""


@dataclass(frozen=True)
class OuterCode:
    """RS(``data_rows + parity_rows``, ``data_rows``) across rows of ``row_bytes`` bytes (see the module doc)."""

    data_rows: int
    parity_rows: int
    row_bytes: int

    def __post_init__(self):
        check_range("outer code data_rows", self.data_rows, 1, MAX_CODEWORD)
        check_range("outer code parity_rows", self.parity_rows, 0, MAX_CODEWORD - self.data_rows)
        check_range("outer code row_bytes", self.row_bytes, 1, 1 << 20)

    @classmethod
    def for_redundancy(cls, redundancy: float, row_bytes: int, size: int | None = None,
                       max_data_rows: int = 200) -> OuterCode:
        """The code with ``parity_rows / data_rows`` closest above ``redundancy`` (0 to 1.5).

        With ``size`` (the file's bytes) a file smaller than ``max_data_rows`` rows is one block of exactly its
        rows, so its parity is ``ceil(redundancy * rows)`` rows; larger files use blocks of ``max_data_rows``.
        """
        check_range("outer code redundancy", redundancy, 0.0, 1.5)
        if size is not None:
            check_range("file size", size, 0, 1 << 40)
        rows = max_data_rows if size is None else max(1, min(max_data_rows, math.ceil(size / row_bytes)))
        parity = math.ceil(round(redundancy * rows, 9))
        if rows + parity > MAX_CODEWORD:
            rows = max(1, math.floor(MAX_CODEWORD / (1 + redundancy)))
            parity = min(MAX_CODEWORD - rows, math.ceil(round(redundancy * rows, 9)))
        return cls(rows, parity, row_bytes)

    @property
    def redundancy(self) -> float:
        return self.parity_rows / self.data_rows

    @property
    def block_bytes(self) -> int:
        return self.data_rows * self.row_bytes

    def blocks(self, size: int) -> int:
        return max(1, math.ceil(size / self.block_bytes)) if size else 0

    def protected_size(self, size: int) -> int:
        """Bytes stored for a file of ``size`` bytes: the data plus every block's parity rows."""
        return size + self.blocks(size) * self.parity_rows * self.row_bytes

    def _shift(self, size: int, b: int) -> int:
        """Parity rows are stored rotated so that the byte at stored offset ``p`` always belongs to column
        ``p mod row_bytes``: a lost span of at most ``row_bytes`` bytes (one oligo) then erases at most one symbol
        of every codeword, also where it straddles the data's end and the parity."""
        return (size + b * self.parity_rows * self.row_bytes) % self.row_bytes

    def _codec(self) -> RSCodec:
        return RSCodec(self.parity_rows, nsize=MAX_CODEWORD)

    def _block_matrix(self, data: bytes | np.ndarray, b: int) -> np.ndarray:
        """Block ``b`` of ``data`` as a ``(data_rows, row_bytes)`` matrix, zero-padded (the shortened code)."""
        buf = np.frombuffer(bytes(data), dtype=np.uint8) if not isinstance(data, np.ndarray) else data
        chunk = buf[b * self.block_bytes:(b + 1) * self.block_bytes]
        out = np.zeros(self.block_bytes, dtype=chunk.dtype)
        out[: len(chunk)] = chunk
        return out.reshape(self.data_rows, self.row_bytes)

    def encode(self, data: bytes) -> bytes:
        """The protected file: ``data`` then the parity rows of each block, block after block."""
        if self.parity_rows == 0 or not data:
            return bytes(data)
        codec = self._codec()
        parity = []
        for b in range(self.blocks(len(data))):
            block = self._block_matrix(data, b)
            par = np.zeros((self.parity_rows, self.row_bytes), dtype=np.uint8)
            for c in range(self.row_bytes):
                word = codec.encode(bytes(block[:, c]))
                par[:, c] = np.frombuffer(bytes(word[self.data_rows:]), dtype=np.uint8)
            parity.append(np.roll(par, -self._shift(len(data), b), axis=1).tobytes())
        return bytes(data) + b"".join(parity)

    def decode(self, stored: RecoveredFile, size: int, *, require_complete: bool = False) -> OuterDecoded:
        """Recover the ``size`` data bytes from a stored (protected) file read back with erasures.

        Bytes past the stored file's recovered end are erasures. With ``require_complete`` a file that is not
        fully recovered raises :class:`OuterCodeError` saying how many rows were missing against how many the
        code corrects; otherwise the result carries the same numbers.
        """
        check_range("file size", size, 0, 1 << 40)
        total = self.protected_size(size)
        buf = np.zeros(total, dtype=np.uint8)
        known = np.zeros(total, dtype=bool)
        n = min(total, len(stored.data))
        buf[:n] = np.frombuffer(stored.data, dtype=np.uint8)[:n]
        known[:n] = np.asarray(stored.known[:n], dtype=bool)
        data, data_known = buf[:size].copy(), known[:size].copy()
        report = OuterDecoded(b"", np.zeros(0, bool), capacity=self.parity_rows)
        if self.parity_rows == 0 or size == 0:
            report.data, report.known = data.tobytes(), data_known
            report.blocks = self.blocks(size)
            self._finish(report, require_complete, size)
            return report
        codec = self._codec()
        parity_start = size
        for b in range(self.blocks(size)):
            block = self._block_matrix(data, b)
            block_known = self._block_matrix(data_known, b).astype(bool)
            # the shortened code's padding (rows past the file's end) is known: it is zero by construction
            pad = np.ones(self.block_bytes, dtype=bool)
            pad[: max(0, min(self.block_bytes, size - b * self.block_bytes))] = False
            block_known |= pad.reshape(block_known.shape)
            p0 = parity_start + b * self.parity_rows * self.row_bytes
            shift = self._shift(size, b)
            par = np.roll(buf[p0:p0 + self.parity_rows * self.row_bytes].reshape(self.parity_rows, self.row_bytes),
                          shift, axis=1)
            par_known = np.roll(known[p0:p0 + self.parity_rows * self.row_bytes].reshape(
                self.parity_rows, self.row_bytes), shift, axis=1)
            for c in range(self.row_bytes):
                word_known = np.concatenate([block_known[:, c], par_known[:, c]])
                erasures = np.flatnonzero(~word_known)
                if not np.any(~block_known[:, c]):
                    continue  # every data symbol known: nothing to fill
                report.codewords_with_erasures += 1
                report.max_erasures = max(report.max_erasures, len(erasures))
                if len(erasures) > self.parity_rows:
                    report.codewords_failed += 1
                    continue
                word = bytearray(np.concatenate([block[:, c], par[:, c]]).tobytes())
                try:
                    msg, _, _ = codec.decode(word, erase_pos=erasures.tolist(), only_erasures=True)
                except ReedSolomonError:
                    report.codewords_inconsistent += 1
                    continue
                block[:, c] = np.frombuffer(bytes(msg), dtype=np.uint8)
                block_known[:, c] = True
                report.codewords_recovered += 1
            lo = b * self.block_bytes
            hi = min(size, lo + self.block_bytes)
            data[lo:hi] = block.reshape(-1)[: hi - lo]
            data_known[lo:hi] = block_known.reshape(-1)[: hi - lo]
        report.blocks = self.blocks(size)
        report.data, report.known = data.tobytes(), data_known
        self._finish(report, require_complete, size)
        return report

    def _finish(self, report: OuterDecoded, require_complete: bool, size: int) -> None:
        if require_complete and not report.complete:
            raise OuterCodeError(
                f"outer code could not recover the file: {report.missing_bytes} of {size} bytes unknown; up to "
                f"{report.max_erasures} symbols of one codeword were missing (one per lost oligo of its block) and "
                f"the code corrects {self.parity_rows} (RS({self.data_rows + self.parity_rows}, {self.data_rows}) "
                f"over {self.row_bytes}-byte rows); {report.codewords_failed} codewords had more erasures than "
                f"that, {report.codewords_inconsistent} failed the parity check")


@dataclass
class OuterDecoded:
    """The data bytes after outer decoding, with what the code did."""

    data: bytes
    known: np.ndarray
    capacity: int  # erasures per codeword the code corrects (= parity rows)
    blocks: int = 0
    codewords_with_erasures: int = 0
    codewords_recovered: int = 0
    codewords_failed: int = 0  # more erasures than parity rows
    codewords_inconsistent: int = 0  # the spare parity disagreed after correction: nothing filled
    max_erasures: int = 0  # most erased symbols in one codeword (about the lost oligos of its block)
    extra: dict = field(default_factory=dict)

    @property
    def missing_bytes(self) -> int:
        return int((~self.known).sum())

    @property
    def complete(self) -> bool:
        return bool(self.known.all())

    def as_file(self, length_known: bool = True) -> RecoveredFile:
        """The recovered data as a :class:`~repro.dna.decoder.RecoveredFile` (its length is the known size)."""
        return RecoveredFile(self.data, self.known.copy(), length_known)
