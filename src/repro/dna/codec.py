"""Files to oligos and back, in the style of Goldman et al. (2013) and OligoArchive (paper 000, section III).

Three layers, each invertible:

1. **Bytes to trits** with a ternary Huffman code (:class:`HuffmanCode`) of Goldman's shape: 236 bytes get 5
   trits, 20 bytes get 6, and the 257th symbol of the full ternary tree is an *end-of-chunk* (EOC) codeword.
   Which 20 bytes get the six-trit codewords is a fixed part of the format (:data:`IMAGE_RARE_BYTES`): the bytes
   rarest in PNG and JPEG files (measured once on 2,000 MNIST training images as PNG and JPEG q10/q50/q90;
   ``benchmarks/dna_robustness.py --only codec`` re-derives and checks the table). They make up about 3 % of
   those files' bytes, against 16-25 % for bytes 0x00-0x13, which a plain canonical code would make long.
   Quantized latents are close to uniform and hardly care.
2. **Chunks**: every file is cut into chunks holding whole bytes (greedy: as many as fit in the payload), so a
   lost chunk loses a known span of bytes and never desynchronizes the rest. The file's last chunk ends with the
   full EOC codeword (a new chunk is opened if it does not fit), so a decoder knows a file's length exactly when
   that chunk is recovered. Unused payload trits of a middle chunk hold a proper prefix of EOC (never a complete
   codeword); after the EOC of a file's last chunk the rest is *pseudo-random padding* seeded by the chunk's file
   id and offset (zeros would become ``ACGTACGT...`` tandem repeats under the rotating code). Each chunk carries a
   header: file id, byte offset of its first byte, and a small header check; a check over header and payload
   closes the oligo::

       | file id (F) | byte offset (O) | header check (H) | payload (P) | check (C) |     (trits = nucleotides)

   The **header check** (H) is a weighted sum of the index trits modulo the largest prime below ``3**H``, with
   pseudo-random weights seeded by the layout and the pool id: a cheap filter that routes reads to their oligo; it
   can pass a corrupted index, and nothing is trusted on it alone. The **oligo check** (C) decides what is trusted.
   Its definition is the format's *version* (:attr:`OligoFormat.version`, :data:`FORMAT_VERSIONS`):

   - **Version 3** (the default, from 2026-12-04): version 2's oligo check, and every file is stored behind an
     8-byte header, its length and the CRC-32 of its bytes (:func:`file_header`), so that the decoder knows a
     file's length from its first chunk as well as from its last, never marks bytes past the end known, and
     checks a complete file against its digest (a file that fails loses every byte: nothing known is wrong).
     Offsets count the bytes of header and file together. Cost: 8 bytes per file.
   - **Version 2**: CRC-32 (``zlib.crc32``, the IEEE 802.3 polynomial) over the bases of index and
     payload, two bits per base in sequence order, started from the CRC of a descriptor of the layout and the
     pool id, and written as 21 trits (``3**21 > 2**32``), least significant first. It detects, for every pool id
     and layout: every single-base substitution anywhere in the oligo; every change confined to 16 consecutive
     bases of index and payload (a burst of at most 32 bits, which CRC-32 always detects) or to the check field
     (base-3 digits are unique); and every error-free oligo of another pool of the same layout (the start values
     differ, so the CRCs of the same bases differ). The one substitution whose effect crosses the boundary, the last
     payload base (the rotating code below makes it change the check's first trit too), moves the CRC by one of
     three fixed syndromes, all multiples of 16, while the check's value moves by 1 or 2: it cannot pass
     (:func:`boundary_syndromes`; ``tests/test_dna_check.py`` checks this and every single-base edit of a sample
     of oligos and pools). Insertions and deletions shift the rest of the oligo; they pass with probability about
     ``2**-32``. Cost: 21 nt per oligo.
   - **Version 1** (pools written before 2026-12-04): a weighted sum of all trits modulo the largest prime below
     ``3**C`` (12 trits by default). It catches any single *trit* error, but a substituted base changes two
     adjacent trits, and for some pool ids such a change passes (issue 25: 13 of 20,000 ids for one layout). It
     is kept so that such pools still decode; new pools use version 2.

3. **Trits to bases** with Goldman's rotating code: each trit picks one of the three bases that differ from the
   previous one, ``base_i = (base_{i-1} + 1 + trit_i) mod 4`` over ``A, C, G, T`` (the base before the oligo is
   ``A``). No two neighbours are equal, so there are no homopolymers by construction; one nucleotide per trit.

Shapes: oligos are ``(n_oligos, L)`` uint8 arrays of base codes 0..3 (``A C G T``), ``L = F + O + H + P + C``.
"""

from __future__ import annotations

import heapq
import math
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from repro.core.checks import ConfigError, check_range

BASES = "ACGT"
N_CODE = 4  # any base call that is not A, C, G or T (N, lower-case junk, ...) decodes to this code
_TO_CODE = np.full(256, N_CODE, dtype=np.uint8)
for _i, _b in enumerate(BASES):
    _TO_CODE[ord(_b)] = _i
    _TO_CODE[ord(_b.lower())] = _i
_TO_CHAR = np.frombuffer(b"ACGTN", dtype=np.uint8)
COMPLEMENT = np.array([3, 2, 1, 0, N_CODE], dtype=np.uint8)  # A<->T, C<->G, N->N

START_BASE = 0  # the implicit base before every oligo (A)
MAX_OLIGO_LENGTH = 400  # "a few hundred nucleotides at most" (array synthesis)
CHECK_WEIGHT_SEED = 20130123  # fixed once: the check weights are part of the format
FORMAT_VERSIONS = {1: "weighted sum of the trits modulo a prime (12 trits by default; before 2026-12-04)",
                   2: "CRC-32 over the bases of index and payload, 21 trits, least significant first",
                   3: "version 2's check, and each file stored behind a header of its length and CRC-32"}
FORMAT_VERSION = 3  # what new pools are written in
FILE_HEADER_BYTES = 8  # version 3: the file's length (4 bytes, big-endian) and the CRC-32 of its bytes (4 bytes)
CRC_TRITS = 21  # 3**21 > 2**32: the CRC-32 value in base 3
V1_CHECK_TRITS = 12  # version 1's default
PAD_SEED = 20260105  # fixed once: the padding after a file's end mark is part of the format
# The 20 bytes that get six-trit codewords: the rarest bytes of PNG and JPEG (q10, q50, q90) files of 2,000 MNIST
# training images (benchmarks/dna_robustness.py --only codec re-derives them). Part of the format, never changed.
IMAGE_RARE_BYTES = (27, 32, 45, 47, 59, 76, 94, 108, 139, 144, 155, 157, 160, 172, 176, 189, 204, 208, 221, 236)


# ---------------------------------------------------------------------------------------------------------------
# Bases
# ---------------------------------------------------------------------------------------------------------------
def to_codes(seq: str | bytes) -> np.ndarray:
    """A DNA string to uint8 base codes (A=0, C=1, G=2, T=3, anything else 4)."""
    raw = seq.encode("ascii", "replace") if isinstance(seq, str) else bytes(seq)
    return _TO_CODE[np.frombuffer(raw, dtype=np.uint8)]


def to_string(codes: np.ndarray) -> str:
    """uint8 base codes to a DNA string (code 4 becomes ``N``)."""
    return _TO_CHAR[np.minimum(np.asarray(codes, dtype=np.uint8), N_CODE)].tobytes().decode("ascii")


def reverse_complement(codes: np.ndarray) -> np.ndarray:
    """Reverse complement along the last axis (works on one sequence or on ``(n, L)`` equal-length rows)."""
    return COMPLEMENT[np.asarray(codes)[..., ::-1]]


def trits_to_bases(trits: np.ndarray, start: int = START_BASE) -> np.ndarray:
    """Rotating code on the last axis: ``(..., n)`` trits 0..2 -> ``(..., n)`` base codes, no homopolymers."""
    trits = np.asarray(trits)
    if trits.size and (trits.min() < 0 or trits.max() > 2):
        raise ValueError("trits must be 0, 1 or 2")
    # uint8 sums wrap modulo 256, a multiple of 4, so the running sum stays exact modulo 4
    steps = np.cumsum(trits.astype(np.uint8) + np.uint8(1), axis=-1, dtype=np.uint8)
    return (steps + np.uint8(start)) & np.uint8(3)


_PAIR_TRIT = np.full(25, 3, dtype=np.uint8)  # (previous base * 5 + base) -> trit, 3 where invalid
for _p in range(4):
    for _c in range(4):
        if (_c - _p - 1) % 4 < 3:
            _PAIR_TRIT[_p * 5 + _c] = (_c - _p - 1) % 4


def bases_to_trits(bases: np.ndarray, start: int = START_BASE) -> tuple[np.ndarray, np.ndarray]:
    """Inverse rotating code on the last axis: ``(..., n)`` base codes -> ``(..., n)`` trits and a validity mask.

    A position is invalid when its base repeats the previous one (impossible in an encoded oligo) or either base is
    not A/C/G/T; its trit is then 0.
    """
    bases = np.asarray(bases, dtype=np.uint8)
    prev = np.empty_like(bases)
    prev[..., 0] = start
    prev[..., 1:] = bases[..., :-1]
    trit = _PAIR_TRIT[prev * np.uint8(5) + bases]
    valid = trit < 3
    trit[~valid] = 0
    return trit, valid


def gc_content(oligos: np.ndarray) -> np.ndarray:
    """``(n, L)`` base codes -> ``(n,)`` fraction of G and C per oligo."""
    oligos = np.atleast_2d(oligos)
    return ((oligos == 1) | (oligos == 2)).mean(axis=1)


def max_homopolymer(oligos: np.ndarray) -> int:
    """Longest run of one repeated base over all rows of ``(n, L)`` base codes (1 means none)."""
    oligos = np.atleast_2d(np.asarray(oligos))
    if oligos.shape[0] == 0 or oligos.shape[1] == 0:
        return 0
    same = oligos[:, 1:] == oligos[:, :-1]
    best, run = 1, np.ones(oligos.shape[0], dtype=np.int64)
    for j in range(same.shape[1]):
        run = np.where(same[:, j], run + 1, 1)
        best = max(best, int(run.max()))
    return best


def longest_tandem_repeat(oligos: np.ndarray, max_period: int = 6) -> np.ndarray:
    """``(n, L)`` base codes -> ``(n,)`` length of the longest stretch of each row that repeats itself with a period
    of 2..``max_period`` bases (``ACGTACGTAC`` is 10 nt of period 4); 0 where no such stretch is longer than one
    period. Homopolymers (period 1) are :func:`max_homopolymer`'s business and absent by construction."""
    oligos = np.atleast_2d(np.asarray(oligos))
    n, length = oligos.shape
    best = np.zeros(n, dtype=np.int64)
    for p in range(2, max_period + 1):
        if length <= p:
            break
        same = oligos[:, p:] == oligos[:, :-p]  # (n, L - p): base i equals base i + p
        run = np.zeros(n, dtype=np.int64)
        longest = np.zeros(n, dtype=np.int64)
        for j in range(same.shape[1]):
            run = np.where(same[:, j], run + 1, 0)
            np.maximum(longest, run, out=longest)
        best = np.maximum(best, np.where(longest > 0, longest + p, 0))
    return best


def windowed_gc(oligos: np.ndarray, window: int = 20) -> tuple[float, float]:
    """Lowest and highest GC fraction over every ``window``-nt window of every row (``(nan, nan)`` when there is
    no full window)."""
    oligos = np.atleast_2d(np.asarray(oligos))
    if oligos.shape[0] == 0 or oligos.shape[1] < window:
        return float("nan"), float("nan")
    gc = ((oligos == 1) | (oligos == 2)).astype(np.int32)
    c = np.concatenate([np.zeros((len(gc), 1), np.int32), np.cumsum(gc, axis=1)], axis=1)
    frac = (c[:, window:] - c[:, :-window]) / window
    return float(frac.min()), float(frac.max())


def write_fasta(path: str | Path, oligos: np.ndarray, names: list[str] | None = None, width: int = 0) -> Path:
    """Write ``(n, L)`` base codes as FASTA (one record per row; ``width`` > 0 wraps lines). Returns the path."""
    path = Path(path)
    oligos = np.atleast_2d(oligos)
    names = names or [f"oligo_{i}" for i in range(len(oligos))]
    if len(names) != len(oligos):
        raise ValueError(f"{len(names)} names for {len(oligos)} oligos")
    with open(path, "w") as fh:
        for name, row in zip(names, oligos):
            seq = to_string(row)
            if width > 0:
                seq = "\n".join(seq[i:i + width] for i in range(0, len(seq), width))
            fh.write(f">{name}\n{seq}\n")
    return path


# ---------------------------------------------------------------------------------------------------------------
# Ternary Huffman code
# ---------------------------------------------------------------------------------------------------------------
def _to_base3(value: int, width: int) -> list[int]:
    return [(value // 3 ** (width - 1 - i)) % 3 for i in range(width)]


class HuffmanCode:
    """Canonical ternary Huffman code for the 256 byte values plus an end-of-chunk symbol (index 256).

    ``frequencies``: 256 non-negative byte weights (default uniform). EOC gets weight 0, so it receives one of the
    longest codewords. ``long_bytes``: bytes that take the longest codewords, in place of the bytes the Huffman
    tree gave them to (the code lengths are permuted among the bytes, so the shape of the code is unchanged); with
    uniform frequencies and ``long_bytes=None`` bytes 0x00-0x13 get the six-trit codewords. Codewords are assigned
    canonically: sorted by (length, symbol), consecutive base-3 numbers.
    """

    EOC = 256

    def __init__(self, frequencies=None, long_bytes=None):
        freq = np.ones(256) if frequencies is None else np.asarray(frequencies, dtype=float)
        if freq.shape != (256,) or (freq < 0).any() or not np.isfinite(freq).all():
            raise ConfigError("Huffman frequencies must be 256 finite non-negative numbers")
        weights = list(freq) + [0.0]  # 257 symbols: odd, so the ternary tree is full without dummies
        heap = [(w, i, i) for i, w in enumerate(weights)]  # (weight, tie-break, node)
        heapq.heapify(heap)
        children: dict[int, list[int]] = {}
        next_id = len(weights)
        while len(heap) > 1:
            group = [heapq.heappop(heap) for _ in range(min(3, len(heap)))]
            children[next_id] = [g[2] for g in group]
            heapq.heappush(heap, (sum(g[0] for g in group), next_id, next_id))
            next_id += 1
        lengths = np.zeros(len(weights), dtype=np.int64)
        stack = [(heap[0][2], 0)]
        while stack:
            node, depth = stack.pop()
            if node in children:
                stack += [(c, depth + 1) for c in children[node]]
            else:
                lengths[node] = depth
        if long_bytes is not None:
            long_bytes = [int(b) for b in long_bytes]
            if len(set(long_bytes)) != len(long_bytes) or not all(0 <= b < 256 for b in long_bytes):
                raise ConfigError(f"long_bytes must be distinct byte values 0..255, got {long_bytes!r}")
            # bytes by rank: the others in byte order, then long_bytes; code lengths ascending over that rank
            rank = [b for b in range(256) if b not in set(long_bytes)] + long_bytes
            lengths[rank] = np.sort(lengths[:256])
        order = sorted(range(len(weights)), key=lambda s: (lengths[s], s))
        self.lengths = lengths  # (257,) trits per symbol
        self.min_len, self.max_len = int(lengths.min()), int(lengths.max())
        self.codes = np.zeros((len(weights), self.max_len), dtype=np.uint8)  # left-aligned codewords
        # canonical assignment; first[n], count[n]: first code value and number of codes of length n
        self.first = np.zeros(self.max_len + 1, dtype=np.int64)
        self.count = np.zeros(self.max_len + 1, dtype=np.int64)
        self.symbol_at = {}  # (length, value) -> symbol, as a dense table per length below
        code, prev_len = 0, int(lengths[order[0]])
        self.first[prev_len] = 0
        for s in order:
            length = int(lengths[s])
            if length != prev_len:
                code = code * 3 ** (length - prev_len)
                self.first[length] = code
                prev_len = length
            self.codes[s, :length] = _to_base3(code, length)
            self.count[length] += 1
            self.symbol_at[(length, code)] = s
            code += 1
        self.long_bytes = tuple(int(b) for b in np.flatnonzero(lengths[:256] == self.max_len))
        # dense decode tables: for length n, symbol of value first[n] + k
        self.table = {n: np.array([self.symbol_at[(n, int(self.first[n]) + k)] for k in range(int(self.count[n]))],
                                  dtype=np.int64) for n in range(self.max_len + 1) if self.count[n]}

    @property
    def eoc(self) -> np.ndarray:
        return self.codes[self.EOC, : self.lengths[self.EOC]]

    def trits_per_byte(self, data: bytes) -> float:
        """Mean codeword length over the bytes of ``data`` (nan for no bytes)."""
        sym = np.frombuffer(bytes(data), dtype=np.uint8)
        return float(self.lengths[sym.astype(np.int64)].mean()) if sym.size else float("nan")

    def encode(self, data: bytes) -> np.ndarray:
        """Bytes -> flat uint8 trits (no EOC)."""
        sym = np.frombuffer(bytes(data), dtype=np.uint8).astype(np.int64)
        if sym.size == 0:
            return np.zeros(0, dtype=np.uint8)
        lens = self.lengths[sym]
        mask = np.arange(self.max_len)[None, :] < lens[:, None]
        return self.codes[sym][mask]

    def decode_rows(self, trits: np.ndarray,
                    max_symbols: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Decode every row of ``(n, P)`` trits independently, vectorized over rows.

        Reading stops at EOC, at a codeword that would run past the row, or after ``max_symbols``. Returns
        ``symbols (n, S)`` int64 (-1 after the end), ``n_bytes (n,)`` and ``ended (n,)`` (True where the row
        stopped at a complete EOC codeword).
        """
        trits = np.atleast_2d(np.asarray(trits, dtype=np.int64))
        n, width = trits.shape
        cap = max_symbols if max_symbols is not None else width // self.min_len + 1
        padded = np.concatenate([trits, np.zeros((n, self.max_len), dtype=np.int64)], axis=1)
        pos = np.zeros(n, dtype=np.int64)
        active = np.ones(n, dtype=bool)
        ended = np.zeros(n, dtype=bool)
        symbols = np.full((n, cap), -1, dtype=np.int64)
        n_bytes = np.zeros(n, dtype=np.int64)
        rows = np.arange(n)
        powers = 3 ** np.arange(self.max_len - 1, -1, -1)
        for step in range(cap):
            if not active.any():
                break
            window = padded[rows[:, None], pos[:, None] + np.arange(self.max_len)[None, :]]  # (n, max_len)
            value = window @ powers  # base-3 value of the next max_len trits
            length = np.zeros(n, dtype=np.int64)
            sym = np.full(n, -1, dtype=np.int64)
            for size in sorted(self.table):
                prefix = value // 3 ** (self.max_len - size)
                hit = (length == 0) & (prefix < self.first[size] + self.count[size])
                k = np.clip(prefix - self.first[size], 0, self.count[size] - 1)
                sym = np.where(hit, self.table[size][k], sym)
                length = np.where(hit, size, length)
            fits = active & (length > 0) & (pos + length <= width)
            is_eoc = fits & (sym == self.EOC)
            ended |= is_eoc
            take = fits & ~is_eoc
            symbols[take, step] = sym[take]
            n_bytes += take
            pos = np.where(take, pos + length, pos)
            active = take
        # symbols were written at their step index; rows stop at their first miss, so columns are contiguous
        return symbols, n_bytes, ended


# ---------------------------------------------------------------------------------------------------------------
# Oligo format
# ---------------------------------------------------------------------------------------------------------------
def random_pool_id() -> int:
    """A random 32-bit pool id (from the operating system's entropy, not from numpy's seeded generators)."""
    import secrets

    return secrets.randbits(32)


# Version 3's file header is whitened with this fixed mask: a small length starts with zero bytes, and repeated
# bytes become tandem repeats (ACGTACGT...) under the rotating code, which synthesis and sequencing handle badly.
HEADER_MASK = bytes.fromhex("9e3779b97f4a7c15")


def file_header(data: bytes) -> bytes:
    """Version 3's header of a file: its length and the CRC-32 of its bytes, 4 bytes each, big-endian, XORed with
    :data:`HEADER_MASK`."""
    raw = struct.pack(">II", len(data), zlib.crc32(data))
    return bytes(a ^ b for a, b in zip(raw, HEADER_MASK))


def read_file_header(header: bytes) -> tuple[int, int]:
    """``(length, crc32)`` of a version-3 file header."""
    raw = bytes(a ^ b for a, b in zip(bytes(header[:FILE_HEADER_BYTES]), HEADER_MASK))
    return struct.unpack(">II", raw)


def _trits_for(values: int) -> int:
    """Trits needed to write integers 0 .. values - 1 (at least 1)."""
    return max(1, math.ceil(math.log(max(values, 2), 3) - 1e-12))


def _largest_prime_below(n: int) -> int:
    for p in range(n - 1, 1, -1):
        if all(p % q for q in range(2, int(p**0.5) + 1)):
            return p
    return 2


_WEIGHTS: dict = {}  # (format, n, trits) -> check weights and modulus, computed once


@dataclass(frozen=True)
class OligoFormat:
    """Field widths of one oligo pool, in trits (= nucleotides). The decoder knows the format, not the files.

    ``file_trits`` and ``offset_trits`` address up to ``3**file_trits`` files of up to ``3**offset_trits`` bytes.
    ``pool_id`` (0 .. 2**32 - 1) seeds the check weights together with the layout: give every pool that may be
    sequenced together its own id, and their oligos fail each other's checks.
    """

    payload: int = 150
    file_trits: int = 7
    offset_trits: int = 7
    header_check_trits: int = 4
    check_trits: int | None = None  # version 2: 21 (CRC-32); version 1: 2..16, default 12
    pool_id: int = 0
    version: int = FORMAT_VERSION

    def __post_init__(self):
        if self.version not in FORMAT_VERSIONS:
            raise ConfigError(f"format version={self.version!r} is not known; valid versions: "
                              + "; ".join(f"{k} ({v})" for k, v in FORMAT_VERSIONS.items()))
        if self.check_trits is None:
            object.__setattr__(self, "check_trits", CRC_TRITS if self.version >= 2 else V1_CHECK_TRITS)
        check_range("file_trits", self.file_trits, 1, 20, integer=True)
        check_range("offset_trits", self.offset_trits, 1, 20, integer=True)
        check_range("header_check_trits", self.header_check_trits, 2, 8, integer=True)
        if self.version >= 2 and self.check_trits != CRC_TRITS:
            raise ConfigError(f"check_trits={self.check_trits!r}: format version {self.version}'s check is CRC-32, "
                              f"written in "
                              f"{CRC_TRITS} trits; other widths are version 1's weighted check (version=1)")
        check_range("check_trits", self.check_trits, 2, 16 if self.version == 1 else CRC_TRITS, integer=True)
        check_range("pool_id", self.pool_id, 0, 2**32 - 1, integer=True)
        overhead = self.header + self.check_trits
        if not isinstance(self.payload, (int, np.integer)) or self.payload < HUFFMAN.max_len:
            raise ConfigError(f"payload={self.payload!r} nt cannot hold one byte (needs at least {HUFFMAN.max_len} "
                              f"nt); an oligo needs {overhead} nt of index and checks plus the payload")
        if self.length > MAX_OLIGO_LENGTH:
            raise ConfigError(f"oligo length {self.length} nt (payload={self.payload}) exceeds the synthesis limit "
                              f"of {MAX_OLIGO_LENGTH} nt")

    @property
    def header(self) -> int:
        """Trits before the payload: file id, offset, header check."""
        return self.file_trits + self.offset_trits + self.header_check_trits

    @property
    def length(self) -> int:
        """Oligo length L in nucleotides."""
        return self.header + self.payload + self.check_trits

    @property
    def max_files(self) -> int:
        return 3 ** self.file_trits

    @property
    def max_offset(self) -> int:
        return 3 ** self.offset_trits - 1

    @property
    def file_header_bytes(self) -> int:
        """Bytes stored before each file's own: its length and digest (version 3), else none."""
        return FILE_HEADER_BYTES if self.version >= 3 else 0

    @property
    def max_file_bytes(self) -> int:
        """The largest file the layout can address: a last chunk at the largest offset, as full as it can be (less
        the file header of version 3)."""
        return self.max_offset + self.payload // HUFFMAN.min_len - self.file_header_bytes

    def to_dict(self) -> dict:
        """The layout as plain values (stored beside a pool; :meth:`from_dict` reads it back)."""
        return {"payload": int(self.payload), "file_trits": self.file_trits, "offset_trits": self.offset_trits,
                "header_check_trits": self.header_check_trits, "check_trits": self.check_trits,
                "pool_id": int(self.pool_id), "version": self.version}

    @classmethod
    def from_dict(cls, d: dict) -> OligoFormat:
        """A stored layout; one without ``version`` was written before versions existed, so it is version 1."""
        known = {"payload", "file_trits", "offset_trits", "header_check_trits", "check_trits", "pool_id", "version"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError(f"unknown layout field(s) {unknown}; valid fields: {sorted(known)}")
        d = dict(d)
        d.setdefault("version", 1)
        if d["version"] == 1:
            d.setdefault("check_trits", V1_CHECK_TRITS)
        return cls(**d)

    @classmethod
    def for_files(cls, sizes, *, payload: int | None = None, oligo_length: int | None = None,
                  header_check_trits: int = 4, check_trits: int | None = None, pool_id: int | None = None,
                  version: int = FORMAT_VERSION) -> OligoFormat:
        """The narrowest fields for files of ``sizes`` bytes; give ``payload`` or the total ``oligo_length``.

        ``pool_id`` ``None`` (the default) draws a random id (:func:`random_pool_id`): two pools never share the
        default, so one pool's oligos fail the other's checks. Store the layout (:meth:`to_dict`) with the pool."""
        sizes = [int(s) for s in sizes]
        if pool_id is None:
            pool_id = random_pool_id()
        file_trits = _trits_for(len(sizes))
        offset_trits = _trits_for(max(sizes, default=0) + 1 + (FILE_HEADER_BYTES if version >= 3 else 0))
        if (payload is None) == (oligo_length is None):
            raise ConfigError("give exactly one of payload and oligo_length")
        if check_trits is None:
            check_trits = CRC_TRITS if version >= 2 else V1_CHECK_TRITS
        if oligo_length is not None:
            overhead = file_trits + offset_trits + header_check_trits + check_trits
            if not isinstance(oligo_length, (int, np.integer)) or oligo_length - overhead < HUFFMAN.max_len:
                raise ConfigError(f"oligo_length={oligo_length!r} nt is too short: the index and checks take "
                                  f"{overhead} nt and the payload needs at least {HUFFMAN.max_len} nt")
            payload = oligo_length - overhead
        return cls(payload, file_trits, offset_trits, header_check_trits, check_trits, pool_id, version)

    # -- checks ---------------------------------------------------------------------------------------------
    def _weights(self, n: int, trits: int) -> tuple[np.ndarray, int]:
        key = (self, n, trits)
        if key not in _WEIGHTS:
            _WEIGHTS[key] = self._make_weights(n, trits)
        return _WEIGHTS[key]

    def _make_weights(self, n: int, trits: int) -> tuple[np.ndarray, int]:
        modulus = _largest_prime_below(3**trits)
        layout = [self.payload, self.file_trits, self.offset_trits, self.header_check_trits, self.check_trits]
        rng = np.random.default_rng([CHECK_WEIGHT_SEED, trits, n, *layout, int(self.pool_id)])
        return rng.integers(1, modulus, size=n, dtype=np.int64), modulus

    def header_check(self, fields: np.ndarray) -> np.ndarray:
        """``(n, F + O)`` header trits -> ``(n,)`` check values."""
        w, m = self._weights(self.file_trits + self.offset_trits, self.header_check_trits)
        return exact_dot(fields, w) % m

    def full_check(self, body: np.ndarray, bases: np.ndarray | None = None) -> np.ndarray:
        """``(n, header + payload)`` trits -> ``(n,)`` check values (version 1: weighted sum; 2: CRC-32 of their
        bases, which a reader passes as ``bases`` when it has them)."""
        body = np.atleast_2d(body)
        if self.version == 1:
            w, m = self._weights(self.header + self.payload, self.check_trits)
            return exact_dot(body, w) % m
        return crc32_rows(trits_to_bases(body) if bases is None else bases, self._crc_start())

    def _crc_start(self) -> int:
        """CRC-32 start value: the CRC of the layout and pool id, so another pool's oligos never match."""
        descriptor = struct.pack("<4sHIIIII", b"DNAv", self.version, int(self.payload), self.file_trits,
                                 self.offset_trits, self.header_check_trits, int(self.pool_id))
        return zlib.crc32(descriptor)

    def check_field(self, body: np.ndarray) -> np.ndarray:
        """``(n, header + payload)`` trits -> ``(n, check_trits)`` check trits as written in the oligo."""
        trits = int_to_trits(self.full_check(body), self.check_trits)
        return trits if self.version == 1 else trits[:, ::-1]  # version 2: least significant trit first

    def read_check(self, field: np.ndarray) -> np.ndarray:
        """``(n, check_trits)`` trits read from oligos -> ``(n,)`` the values they write."""
        field = np.atleast_2d(field)
        return trits_to_int(field if self.version == 1 else field[:, ::-1])


def crc32_rows(bases: np.ndarray, start: int) -> np.ndarray:
    """CRC-32 (``zlib.crc32``) of each row of ``(n, m)`` base codes 0..3, packed four bases per byte, least
    significant bits first and left-padded with zero bases, so base ``j`` of the padded row is bit pair ``2j`` in
    the CRC's (reflected) bit order and the last base is the last bit pair: a change in ``b`` consecutive bases
    is a burst of at most ``2b`` bits."""
    bases = np.atleast_2d(np.asarray(bases, dtype=np.uint8))
    n, m = bases.shape
    pad = (-m) % 4
    padded = np.concatenate([np.zeros((n, pad), dtype=np.uint8), bases], axis=1).reshape(n, -1, 4)
    packed = (padded[..., 0] | padded[..., 1] << 2 | padded[..., 2] << 4 | padded[..., 3] << 6).astype(np.uint8)
    width = packed.shape[1]
    view = memoryview(np.ascontiguousarray(packed).tobytes())
    return np.fromiter((zlib.crc32(view[i * width:(i + 1) * width], start) for i in range(n)), dtype=np.int64,
                       count=n)


def boundary_syndromes() -> list[int]:
    """How CRC-32 moves when the last base of index and payload changes (it is the last bit pair): one value per
    change of its two bits, the same for every row and start value. Each is a multiple of 16, so the CRC moves by at
    least 16 while the check's first (least significant) trit, which that base's change also moves, moves its value
    by 1 or 2: such an oligo cannot pass version 2's check."""
    row = np.zeros((1, 8), dtype=np.uint8)
    base = int(crc32_rows(row, 0)[0])
    out = []
    for flip in (1, 2, 3):
        changed = row.copy()
        changed[0, -1] ^= flip
        out.append(int(crc32_rows(changed, 0)[0]) ^ base)
    return out


def exact_dot(small: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``(n, m)`` small non-negative ints times ``(m,)`` ints, through float64 BLAS: exact while every sum stays
    below 2**53 (checks and base-3 numbers here stay far below), and much faster than integer matmul."""
    weights = np.asarray(weights)
    small = np.asarray(small)
    bound = float(np.abs(weights).sum()) * max(int(small.max(initial=0)), 1)
    dtype = np.float32 if bound < 2**24 else np.float64
    return (small.astype(dtype) @ weights.astype(dtype)).astype(np.int64)


def int_to_trits(values: np.ndarray, width: int) -> np.ndarray:
    """``(n,)`` non-negative ints -> ``(n, width)`` base-3 digits, most significant first."""
    values = np.asarray(values, dtype=np.int64)
    return ((values[:, None] // 3 ** np.arange(width - 1, -1, -1)[None, :]) % 3).astype(np.uint8)


def trits_to_int(trits: np.ndarray) -> np.ndarray:
    """``(n, width)`` base-3 digits -> ``(n,)`` ints."""
    trits = np.atleast_2d(trits)
    return exact_dot(trits, 3 ** np.arange(trits.shape[1] - 1, -1, -1))


HUFFMAN = HuffmanCode(long_bytes=IMAGE_RARE_BYTES)  # the format's code
CLASSIC_HUFFMAN = HuffmanCode()  # the same shape with bytes 0x00-0x13 long: the code before, for comparison


# ---------------------------------------------------------------------------------------------------------------
# Files <-> oligos
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Pool:
    """An encoded oligo pool: ``oligos (n, L)`` base codes and, per oligo, its file id, byte offset and bytes."""

    fmt: OligoFormat
    oligos: np.ndarray
    file_id: np.ndarray
    offset: np.ndarray
    n_bytes: np.ndarray
    file_sizes: np.ndarray

    @property
    def n_oligos(self) -> int:
        return int(self.oligos.shape[0])

    @property
    def nucleotides(self) -> int:
        return int(self.oligos.size)

    def oligos_per_file(self) -> np.ndarray:
        return np.bincount(self.file_id, minlength=len(self.file_sizes))


def padding_trits(file_id: int, offset: int, n: int) -> np.ndarray:
    """The ``n`` pseudo-random trits after the end mark of the chunk of ``file_id`` at byte ``offset``."""
    return np.random.default_rng([PAD_SEED, int(file_id), int(offset)]).integers(0, 3, n).astype(np.uint8)


def _chunk_file(data: bytes, payload: int, code: HuffmanCode,
                file_id: int = 0) -> list[tuple[int, np.ndarray, int]]:
    """Greedy byte-aligned chunks of one file: ``[(offset, payload trits (payload,), n_bytes), ...]``."""
    sym = np.frombuffer(bytes(data), dtype=np.uint8)
    lens = code.lengths[sym.astype(np.int64)]
    trits = code.encode(data)
    ends = np.cumsum(lens)  # trit position after each byte
    eoc = code.eoc
    chunks, start_byte, start_trit = [], 0, 0
    while True:
        # bytes that fit in this chunk: ends[j] - start_trit <= payload
        stop = int(np.searchsorted(ends, start_trit + payload, side="right"))
        body = trits[start_trit: int(ends[stop - 1]) if stop > start_byte else start_trit]
        last = stop == len(sym)
        room = payload - len(body)
        if last and room >= len(eoc):
            fill = np.concatenate([body, eoc, padding_trits(file_id, start_byte, room - len(eoc))])
            chunks.append((start_byte, fill, stop - start_byte))
            return chunks
        # a middle chunk closed because the next byte did not fit, so room < len(EOC): a proper prefix of EOC
        # (never a codeword) fills it exactly and tells the decoder to stop
        fill = np.concatenate([body, eoc[: min(room, len(eoc) - 1)]])
        fill = np.concatenate([fill, np.zeros(payload - len(fill), dtype=np.uint8)])
        chunks.append((start_byte, fill, stop - start_byte))
        start_byte = stop
        start_trit = int(ends[stop - 1])
        if last:  # the EOC did not fit: it goes alone into a final chunk at offset = file size
            fill = np.concatenate([eoc, padding_trits(file_id, len(sym), payload - len(eoc))])
            chunks.append((len(sym), fill, 0))
            return chunks


def encode_files(files: list[bytes], fmt: OligoFormat) -> Pool:
    """Encode every file into oligos of format ``fmt`` (file id = position in ``files``). Version 3 stores each
    file behind its header (:func:`file_header`): offsets count the bytes of header and file together."""
    if len(files) > fmt.max_files:
        raise ConfigError(f"{len(files)} files do not fit file_trits={fmt.file_trits} (at most {fmt.max_files})")
    rows, fids, offs, nbytes = [], [], [], []
    for fid, data in enumerate(files):
        stream = file_header(bytes(data)) + bytes(data) if fmt.version >= 3 else data
        if len(stream) > fmt.max_offset:
            raise ConfigError(f"file {fid} has {len(data)} bytes (+{fmt.file_header_bytes} of header); "
                              f"offset_trits={fmt.offset_trits} addresses at most {fmt.max_offset}")
        for off, payload, nb in _chunk_file(stream, fmt.payload, HUFFMAN, fid):
            rows.append(payload)
            fids.append(fid)
            offs.append(off)
            nbytes.append(nb)
    n = len(rows)
    fids_a, offs_a = np.array(fids, dtype=np.int64), np.array(offs, dtype=np.int64)
    fields = np.concatenate([int_to_trits(fids_a, fmt.file_trits), int_to_trits(offs_a, fmt.offset_trits)], axis=1)
    hcheck = int_to_trits(fmt.header_check(fields), fmt.header_check_trits)
    payload = np.array(rows, dtype=np.uint8).reshape(n, fmt.payload)
    body = np.concatenate([fields, hcheck, payload], axis=1)
    trits = np.concatenate([body, fmt.check_field(body)], axis=1)
    return Pool(fmt, trits_to_bases(trits), fids_a, offs_a, np.array(nbytes, dtype=np.int64),
                np.array([len(f) for f in files], dtype=np.int64))


@dataclass
class ParsedOligos:
    """Fields of ``n`` oriented oligo-length sequences: which passed the header / full checks, and their fields."""

    header_ok: np.ndarray
    full_ok: np.ndarray
    file_id: np.ndarray
    offset: np.ndarray
    payload: np.ndarray  # (n, P) trits


def parse_oligos(seqs: np.ndarray, fmt: OligoFormat) -> ParsedOligos:
    """Decode ``(n, L)`` base codes (already in the forward orientation) into their fields and check results."""
    seqs = np.atleast_2d(seqs)
    if seqs.shape[1] != fmt.length:
        raise ValueError(f"sequences of {seqs.shape[1]} nt, the format needs {fmt.length}")
    trits, valid = bases_to_trits(seqs)
    f, o = fmt.file_trits, fmt.offset_trits
    fields = trits[:, : f + o]
    header_ok = valid[:, : fmt.header].all(1) & (fmt.header_check(fields) == trits_to_int(trits[:, f + o: fmt.header]))
    body = trits[:, : fmt.header + fmt.payload]
    stored = fmt.read_check(trits[:, fmt.header + fmt.payload:])
    full_ok = header_ok & valid.all(1) & (fmt.full_check(body, seqs[:, : fmt.header + fmt.payload]) == stored)
    return ParsedOligos(header_ok, full_ok, trits_to_int(trits[:, :f]), trits_to_int(trits[:, f: f + o]),
                        trits[:, fmt.header: fmt.header + fmt.payload])


def parse_headers(prefix: np.ndarray, fmt: OligoFormat) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(n, >= header)`` leading base codes -> ``header_ok``, ``file_id``, ``offset`` (each ``(n,)``)."""
    trits, valid = bases_to_trits(np.atleast_2d(prefix)[:, : fmt.header])
    f, o = fmt.file_trits, fmt.offset_trits
    ok = valid.all(1) & (fmt.header_check(trits[:, : f + o]) == trits_to_int(trits[:, f + o: fmt.header]))
    return ok, trits_to_int(trits[:, :f]), trits_to_int(trits[:, f: f + o])


def payload_bytes(payload: np.ndarray) -> tuple[list[bytes], np.ndarray]:
    """``(n, P)`` payload trits -> the bytes of each chunk and whether it ended with EOC (the file's last chunk)."""
    symbols, n_bytes, ended = HUFFMAN.decode_rows(payload)
    out = [symbols[i, : n_bytes[i]].astype(np.uint8).tobytes() for i in range(len(n_bytes))]
    return out, ended


def decode_pool_exact(pool: Pool) -> list[bytes]:
    """Decode error-free oligos (any order) back to the files: the codec's own round trip."""
    parsed = parse_oligos(pool.oligos, pool.fmt)
    if not parsed.full_ok.all():
        raise ValueError(f"{int((~parsed.full_ok).sum())} oligos fail their check")
    chunks, ended = payload_bytes(parsed.payload)
    files: dict[int, list[tuple[int, bytes]]] = {}
    for fid, off, data in zip(parsed.file_id.tolist(), parsed.offset.tolist(), chunks):
        files.setdefault(fid, []).append((off, data))
    n = max(files) + 1 if files else 0
    streams = [b"".join(d for _, d in sorted(files.get(i, []))) for i in range(n)]
    if pool.fmt.version < 3:
        return streams
    out = []
    for i, stream in enumerate(streams):
        length, digest = read_file_header(stream)
        data = stream[FILE_HEADER_BYTES:]
        if len(data) != length or zlib.crc32(data) != digest:
            raise ValueError(f"file {i}: its header says {length} bytes with CRC-32 {digest:08x}, the oligos hold "
                             f"{len(data)} bytes with CRC-32 {zlib.crc32(data):08x}")
        out.append(data)
    return out
