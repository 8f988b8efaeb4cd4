"""Reads to oligos: orientation, grouping by index, consensus per group, rescue of reads with a damaged index.

The decoder sees sequences only. For a pool of format ``fmt`` (oligo length ``L``):

1. **Length filter.** Reads shorter or longer than ``L`` by more than ``length_tolerance`` are set aside (counted,
   with a message in the report). *The decoder needs full-length reads*: every read must span the whole oligo
   (index to check). Reads trimmed by a sequencer, or BBMap reads that start at a random place in the oligo,
   are reported as too short and not used.
2. **Exact reads.** A read of length ``L`` that passes the full check in one orientation (as read, or reverse-
   complemented) is an error-free copy (format version 2's CRC-32 catches every single-base substitution and
   every burst of up to 16 bases; other corruptions pass with probability about ``2**-32``; version 1's
   12-trit weighted check, about ``3**-12``, missed some one-base substitutions: :mod:`repro.dna.codec`).
   Per index the most frequent exact payload wins when it has at least ``min_exact_reads`` reads and strictly
   more than any other payload of that index; a tie is a conflict (counted) and all reads of that index go to
   consensus. Most oligos at useful coverage are solved here, vectorized.
3. **Header grouping.** Other reads are oriented by their header check (first ``header`` bases as read, or of
   the reverse complement) and grouped by (file id, offset).
4. **Orphans** (no valid header in either orientation, e.g. a substitution or deletion in the index) are
   placed by their payload: k-mers at a few anchor positions are looked up among the k-mers of one
   representative read per group (taken at and around the same anchors, so indels shift nothing out of reach).
   k-mers shared by several groups are ignored: repeated content such as identical JPEG headers or chunk filler,
   and the content of spurious groups (a damaged index that passed the header check under another index, or a
   read taken in the wrong orientation, which is why the representatives' reverse complements are in the table
   too). A placement needs ``min_anchor_hits`` agreeing anchors. An orphan placed in a group that already has an
   exact read is redundant. Orphans that match nothing (at most ``max_orphans`` of them; the rest are counted)
   are clustered among themselves by shared anchor k-mers (connected components of a star graph: memory and
   time linear in the orphans, chunked); a cluster whose reads agree on an index that is not valid is rejected
   cheaply (foreign or garbage reads), otherwise its full consensus yields its index.
5. **Consensus** for groups without a trusted exact read: partial-order alignment (``pyspoa``, global, bases kept
   when a majority supports them) or an edit-distance majority (``edlib``: align to a reference read, vote per
   position; where two bases tie, up to 3 tied positions are tried both ways); when the chosen method's
   consensus fails the check the other one is tried, then spoa's plain heaviest path. A consensus that passes
   the full check *and names the group's own index* recovers the oligo (at most ``max_consensus_reads`` reads
   enter a consensus); otherwise the group is a failure and its chunk an erasure. (Failed groups include
   spurious ones: a damaged header can pass its small check under another index, about 1 in 79.) Consensus is
   two stages, one feeding the other: :func:`consensus_candidates` yields a group's candidate oligos lazily in
   order of preference, and :func:`first_accepted` parses and checks them. For reads short at one end (layout
   ``short``), batches come first: stitches of two reads of opposite strands (:func:`stitch_candidates`) and
   completions of one read at its missing end (:func:`complete_candidates`, 27 ways for 3 bases), checked by the
   thousand in one vectorized parse; only the groups they leave go to a consensus.

**One acceptance rule.** Every oligo the decoder admits, an exact read (stage 2) or a consensus (stage 5), passes
the same test, :func:`accepted` (the full check, and a file id the caller can hold); indexes alone are judged by
:func:`header_accepted`, which routes and groups reads but admits nothing. The assembled files are then checked
again per file in format version 3 (:mod:`repro.dna.decoder`).

Memory and time are bounded in the number of reads: every stage works on fixed-size chunks or on arrays of a
few bytes per read, k-mers held by more than ``max_cluster`` reads link nothing, and large read sets show
progress bars.

Nothing here raises on read content: reads with ``N``, of odd lengths, empty read sets all end up counted in the
:class:`RecoveryReport`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from repro.core.checks import check_choice, check_range
from repro.dna.codec import (
    N_CODE,
    OligoFormat,
    ParsedOligos,
    exact_dot,
    parse_headers,
    parse_oligos,
    reverse_complement,
    to_codes,
    to_string,
)
from repro.dna.read_layout import MAX_TRIM, diagnose, trim
from repro.dna.reads import Reads

CONSENSUS_METHODS = ("spoa", "majority")
EXACT, CONSENSUS, ORPHAN_CLUSTER = 0, 1, 2
PARSE_CHUNK = 10_000  # reads parsed per vectorized block (about 3 kB of work arrays per read)
PLACE_CHUNK = 25_000  # orphans placed / clustered per vectorized block (about 2 kB of work arrays per orphan)
MAX_ORPHANS = 100_000  # default cap on the orphans that enter clustering
PROGRESS_READS = 200_000  # read sets at least this large show progress bars (show_progress=None)
PROGRESS_JOBS = 2_000  # and their consensus loop too, when it has this many groups
SHIFTED_GROUPS = 200_000  # up to this many header groups enter the orphan table at shifted anchors too
MIN_READ_USE = 0.5  # a decode that uses fewer of its reads is flagged (RecoveryReport.low_read_use)
MIN_K = 8  # the shortest k-mer that places a read by its payload


@dataclass
class RecoveryReport:
    """What happened to the reads and the oligo groups (counts)."""

    reads: int = 0
    too_short: int = 0
    too_long: int = 0
    with_n: int = 0
    exact_reads: int = 0
    header_reads: int = 0
    orphan_reads: int = 0
    rescued_reads: int = 0
    redundant_orphans: int = 0
    unknown_file_reads: int = 0
    exact_keys_conflicting: int = 0
    exact_keys_too_few: int = 0
    exact_payloads_outvoted: int = 0
    orphans_not_clustered: int = 0
    orphan_clusters: int = 0
    orphan_clusters_rejected: int = 0
    consensus_other_index: int = 0
    chunks_conflicting: int = 0
    chunks_overlapping: int = 0
    chunks_out_of_file: int = 0
    files_with_conflicting_ends: int = 0
    bytes_withdrawn: int = 0
    files_verified: int = 0  # format version 3: complete files whose CRC-32 matched their header
    files_failed_digest: int = 0  # ... complete files whose CRC-32 did not (every byte withdrawn)
    files_header_mismatch: int = 0  # ... files whose header's length disagrees with their end chunk or the caller
    bytes_past_end: int = 0  # ... recovered bytes past the length the header gives (dropped)
    groups: int = 0
    oligos_exact: int = 0
    oligos_consensus: int = 0
    oligos_from_orphans: int = 0
    groups_failed: int = 0
    consensus_errors: int = 0
    consensus_fallbacks: int = 0
    tie_breaks: int = 0
    groups_incoherent: int = 0
    incoherent_reads: int = 0
    layout: str = "as is"
    trimmed_reads: int = 0
    low_read_use: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def oligos_recovered(self) -> int:
        return self.oligos_exact + self.oligos_consensus + self.oligos_from_orphans

    @property
    def unused_reads(self) -> int:
        return self.too_short + self.too_long

    @property
    def used_reads(self) -> int:
        """Reads that went into a recovered or attempted oligo: exact, grouped by index (less those unlike the rest of
        their group), or placed by k-mers."""
        return (self.exact_reads + self.header_reads + self.rescued_reads + self.redundant_orphans
                - self.incoherent_reads)

    @property
    def read_use(self) -> float:
        return self.used_reads / self.reads if self.reads else 0.0

    def summary(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if k != "problems"}
        out["oligos_recovered"] = self.oligos_recovered
        return out


@dataclass
class RecoveredOligos:
    """Oligos recovered from reads: their file id, byte offset, payload trits ``(k, P)`` and how (EXACT, ...)."""

    file_id: np.ndarray
    offset: np.ndarray
    payload: np.ndarray
    how: np.ndarray

    def __len__(self) -> int:
        return len(self.file_id)


# ---------------------------------------------------------------------------------------------------------------
# consensus of one group
# ---------------------------------------------------------------------------------------------------------------
def spoa_consensus(seqs: list[np.ndarray], majority: bool = True) -> np.ndarray:
    """Partial-order-alignment consensus (global alignment) as base codes. With ``majority`` only bases that a
    majority of the reads support are kept (spoa's heaviest path alone keeps some lone insertions); without it, the
    heaviest path, which keeps ends that few reads cover (fixed-length reads lose their last bases to insertions)."""
    import spoa

    strings = [to_string(s) for s in seqs]
    kwargs = {"min_coverage": len(strings) // 2 + 1} if majority else {}
    consensus, _ = spoa.poa(strings, algorithm=1, genmsa=False, **kwargs)
    return to_codes(consensus)


def majority_votes(seqs: list[np.ndarray], length: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Edit-distance majority: align every read to a reference read with ``edlib`` (global) and vote per
    reference position among A, C, G, T and deletion; an insertion after a position is kept when most reads have
    it. The reference is the first read of the target ``length`` (else the first read).

    Returns the consensus base codes and its *ties*: ``(position in the consensus, runner-up base)`` wherever two
    bases got the same number of votes (two reads that disagree, or a shared error)."""
    import edlib

    ref = next((s for s in seqs if len(s) == length), seqs[0])
    ref_s = to_string(ref)
    votes = np.zeros((len(ref), 6), dtype=np.int64)  # A C G T N deletion
    ins_votes: dict[int, dict[bytes, int]] = {}
    for s in seqs:
        aln = edlib.align(to_string(s), ref_s, mode="NW", task="path")
        i = j = 0  # query, reference positions
        num = ""
        for ch in aln["cigar"] or "":
            if ch.isdigit():
                num += ch
                continue
            n, num = int(num), ""
            if ch in "=X":
                votes[np.arange(j, j + n), s[i: i + n]] += 1
                i, j = i + n, j + n
            elif ch == "I":  # bases of the read missing from the reference
                at = ins_votes.setdefault(j, {})
                at[s[i: i + n].tobytes()] = at.get(s[i: i + n].tobytes(), 0) + 1
                i += n
            elif ch == "D":
                votes[j: j + n, 5] += 1
                j += n
    order = np.argsort(-votes, axis=1, kind="stable")
    call = order[:, 0]
    top = votes[np.arange(len(ref)), call]
    second = order[:, 1]
    tied = (votes[np.arange(len(ref)), second] == top) & (call < 4) & (second < 4)
    out: list[int] = []
    ties: list[tuple[int, int]] = []
    for pos in range(len(ref) + 1):
        for bases, v in ins_votes.get(pos, {}).items():
            if v * 2 > len(seqs):
                out.extend(bases)
        if pos < len(ref) and call[pos] != 5:
            if tied[pos]:
                ties.append((len(out), int(second[pos])))
            out.append(int(call[pos]))
    return np.array(out, dtype=np.uint8), ties


def majority_consensus(seqs: list[np.ndarray], length: int) -> np.ndarray:
    """The consensus of :func:`majority_votes` (ties go to the base first in A, C, G, T order)."""
    return majority_votes(seqs, length)[0]


def tie_variants(consensus: np.ndarray, ties: list[tuple[int, int]], max_ties: int = 3):
    """The consensus with every combination of runner-up bases at up to ``max_ties`` tied positions (none when
    there are more: each variant is one more chance for a wrong sequence to pass the check)."""
    if not ties or len(ties) > max_ties:
        return
    for mask in range(1, 2 ** len(ties)):
        variant = consensus.copy()
        for b, (pos, alt) in enumerate(ties):
            if mask >> b & 1:
                variant[pos] = alt
        yield variant


def group_consensus(seqs: list[np.ndarray], length: int, method: str) -> np.ndarray:
    """Consensus base codes of oriented reads of one oligo (one read: itself). ``method``: ``spoa`` (majority
    bases), ``majority`` (edlib votes) or ``spoa-heaviest`` (spoa's plain heaviest path, a last resort)."""
    if len(seqs) == 1:
        return seqs[0]
    if method in ("spoa", "spoa-heaviest"):
        return spoa_consensus(seqs, majority=method == "spoa")
    return majority_consensus(seqs, length)


STITCH_READS = 4  # reads of a group tried as each half of a stitch (at most STITCH_READS * (STITCH_READS - 1))


def stitch_candidates(seqs: list[np.ndarray], length: int, n: int = STITCH_READS) -> list[np.ndarray]:
    """Oligos joined from two reads that each lack bases at one end (reads short at one end: the two strands
    lack opposite ends of the oligo): for pairs of one of the first ``n`` reads and one of the last ``n`` (a
    group lists the reads of one strand before those of the other), in both orders, ``a`` followed by the last
    ``length - len(a)`` bases of ``b``. A stitch of two error-free halves is the oligo itself, found without a
    consensus; any other fails the check."""
    out, seen = [], set()
    firsts, lasts = list(range(min(n, len(seqs)))), list(range(max(0, len(seqs) - n), len(seqs)))
    pairs = [(i, j) for i in firsts for j in lasts if i != j] + [(j, i) for i in firsts for j in lasts if i != j]
    for i, j in pairs:
        a, b = seqs[i], seqs[j]
        need = length - len(a)
        if 0 < need <= len(b):
            cand = np.concatenate([a, b[len(b) - need:]])
            key = cand.tobytes()
            if key not in seen:
                seen.add(key)
                out.append(cand)
    return out


COMPLETE_READS = 2  # reads of a group whose missing end is enumerated
MAX_MISSING = 3  # at most this many bases are enumerated at a read's missing end (3**3 = 27 per end)


def complete_candidates(seqs: list[np.ndarray], length: int, n: int = COMPLETE_READS,
                        max_missing: int = MAX_MISSING) -> list[np.ndarray]:
    """Oligos completed from one read that lacks ``m <= max_missing`` bases at one end: every continuation the
    rotating code allows, ``3**m`` after the read and ``3**m`` before it (the base before the oligo is ``A`` and
    no base repeats its neighbour), for each of the first ``n`` reads. For a group whose reads all come from one
    strand, where a stitch has no partner: an error-free read then completes to the oligo, which the check alone
    picks out (a false pass needs 54 candidates to beat a 2**-32 check)."""
    from itertools import product

    from repro.dna.codec import START_BASE, trits_to_bases

    out = []
    for a in seqs[:n]:
        m = length - len(a)
        if not 0 < m <= max_missing or len(a) == 0:
            continue
        trits = np.array(list(product(range(3), repeat=m)), dtype=np.uint8)
        after = trits_to_bases(trits, start=int(a[-1]))
        before = trits_to_bases(trits, start=START_BASE)
        before = before[before[:, -1] != a[0]]
        out += [np.concatenate([a, e]) for e in after] + [np.concatenate([p, a]) for p in before]
    return out


# ---------------------------------------------------------------------------------------------------------------
# k-mers
# ---------------------------------------------------------------------------------------------------------------
def kmers_at(reads: Reads, k: int, positions: np.ndarray, chunk: int = 50_000) -> np.ndarray:
    """``(n, len(positions))`` int64 k-mers (2 bits per base) starting at ``positions`` of every read; -1 where
    the k-mer would run past the read's end, start before it, or contain a non-ACGT base."""
    positions = np.asarray(positions, dtype=np.int64)
    n, m = len(reads), len(positions)
    out = np.full((n, m), -1, dtype=np.int64)
    flat = reads.flat
    for a in range(0, n, chunk):
        b = min(a + chunk, n)
        start = reads.offsets[a:b, None] + positions[None, :]
        ok = (positions[None, :] >= 0) & (positions[None, :] + k <= reads.lengths[a:b, None])
        start = np.where(ok, start, 0)
        value = np.zeros((b - a, m), dtype=np.int64)
        bad = ~ok
        for t in range(k):
            base = flat[start + t] if len(flat) else np.zeros_like(start, dtype=np.uint8)
            bad |= base == N_CODE
            value = (value << 2) | (base & 3)
        out[a:b] = np.where(bad, -1, value)
    return out


class KmerIndex:
    """Sorted distinct k-mer values with a 2**24-bit presence filter in front: a query whose hash bucket holds no
    value is a miss without a binary search (most queries of foreign or random reads), the others are searched
    in sorted order (random queries into a large table miss the cache at every step, sorted ones walk it)."""

    BITS = 24

    def __init__(self, values: np.ndarray):
        self.values = np.asarray(values, dtype=np.int64)  # sorted, distinct, >= 0
        self.present = np.zeros(1 << self.BITS, dtype=bool)
        self.present[self._bucket(self.values)] = True

    @classmethod
    def _bucket(cls, v: np.ndarray) -> np.ndarray:
        h = v.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing (wraps modulo 2**64)
        return (h >> np.uint64(64 - cls.BITS)).astype(np.int64)

    def find(self, queries: np.ndarray) -> np.ndarray:
        """Index of each query in ``values`` (-1: absent or an invalid query), shaped like ``queries``."""
        flat = np.asarray(queries, dtype=np.int64).ravel()
        out = np.full(len(flat), -1, dtype=np.int64)
        if len(self.values) == 0 or len(flat) == 0:
            return out.reshape(np.shape(queries))
        cand = np.flatnonzero((flat >= 0) & self.present[self._bucket(np.maximum(flat, 0))])
        if len(cand):
            sub = flat[cand]
            order = np.argsort(sub)
            pos = np.empty(len(sub), dtype=np.int64)
            pos[order] = np.searchsorted(self.values, sub[order])
            pos = np.minimum(pos, len(self.values) - 1)
            hit = self.values[pos] == sub
            out[cand[hit]] = pos[hit]
        return out.reshape(np.shape(queries))


class KmerTable:
    """k-mers with a label each (e.g. the group a representative read belongs to); a k-mer seen under more than
    one label is ambiguous (label -1)."""

    def __init__(self, values: np.ndarray, labels: np.ndarray):
        ok = values >= 0
        values, labels = values[ok], labels[ok]
        order = np.lexsort((labels, values))
        values, labels = values[order], labels[order]
        self.values, first = np.unique(values, return_index=True)
        last = np.concatenate([first[1:], [len(values)]]) - 1
        self.label = np.where(labels[first] == labels[last], labels[first], -1) if len(first) else labels[:0]
        self.index = KmerIndex(self.values)

    def lookup(self, queries: np.ndarray) -> np.ndarray:
        """Label of each query k-mer (-1: absent, ambiguous or an invalid query)."""
        at = self.index.find(queries)
        return np.where(at >= 0, self.label[np.maximum(at, 0)] if len(self.label) else -1, -1)


def shifted(positions: np.ndarray, max_shift: int) -> np.ndarray:
    """Anchor positions and their neighbours up to ``max_shift`` bases away (indels move anchors)."""
    return (positions[:, None] + np.arange(-max_shift, max_shift + 1)[None, :]).ravel()


def _vote(labels: np.ndarray, min_hits: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise mode of non-negative labels ``(n, m)``: the label and its count (-1, 0 where no label has
    ``min_hits``, or two labels tie)."""
    n, m = labels.shape
    s = np.sort(labels, axis=1)
    run = np.ones((n, m), dtype=np.int64)
    for j in range(1, m):
        run[:, j] = np.where(s[:, j] == s[:, j - 1], run[:, j - 1] + 1, 1)
    run = np.where(s >= 0, run, 0)
    best = run.argmax(1)
    count = run[np.arange(n), best]
    label = s[np.arange(n), best]
    # a tie: another label reaching the same count
    tie = ((run == count[:, None]) & (s != label[:, None]) & (s >= 0)).any(1)
    ok = (count >= min_hits) & ~tie
    return np.where(ok, label, -1), np.where(ok, count, 0)


# ---------------------------------------------------------------------------------------------------------------
# the decoder's first half
# ---------------------------------------------------------------------------------------------------------------
def _payload_hash(payload: np.ndarray) -> np.ndarray:
    """``(n, P)`` trits -> ``(n,)`` int64 fingerprints (exact integer sums, random 40-bit weights)."""
    w = np.random.default_rng(7).integers(1, 2**40, size=payload.shape[1], dtype=np.int64)
    return exact_dot(payload, w)


def progress(iterable, *, disable: bool = False, **kwargs):
    """A tqdm bar over ``iterable`` (nothing when ``disable``), with :func:`repro.core.runtime.progress`'s settings:
    sparse updates in logs and CI. Imported from tqdm directly, because :mod:`repro.core.runtime` loads torch (about
    0.7 GB of resident memory), which the read decoder does not need."""
    if disable:
        return iterable
    import os
    import sys

    from tqdm.std import tqdm

    if os.environ.get("REPRO_PROGRESS") == "lines":
        return iterable
    if os.environ.get("CI") or os.environ.get("REPRO_QUIET") or not sys.stderr.isatty():
        kwargs.setdefault("mininterval", 30.0 if (os.environ.get("CI") or os.environ.get("REPRO_QUIET")) else 5.0)
    return tqdm(iterable, **kwargs)


def recover_oligos(reads: Reads, fmt: OligoFormat, *, n_files: int | None = None, consensus: str = "spoa",
                   length_tolerance: int = 8, k: int = 16, n_anchors: int = 6, max_shift: int = 3,
                   min_anchor_hits: int = 2, max_cluster: int = 500, max_consensus_reads: int = 40,
                   min_exact_reads: int = 1, max_orphans: int = MAX_ORPHANS, max_trim: int = MAX_TRIM,
                   show_progress: bool | None = None) -> tuple[RecoveredOligos, RecoveryReport]:
    """Recover the oligos of a pool of format ``fmt`` from reads (sequences only). See the module docstring.

    ``min_exact_reads``: agreeing exact reads needed before an index is solved without consensus (1: one read
    that passes the full check; 2: two identical ones). ``max_orphans``: orphans (reads placed nowhere) that enter
    clustering; the rest are counted in ``RecoveryReport.orphans_not_clustered``. ``max_trim``: offsets searched
    for the index when the reads do not fit the layout as they are (:mod:`repro.dna.read_layout`: adapters,
    primers, extra bases are trimmed, or reads of another pool diagnosed). ``show_progress``: progress bars over
    the chunked stages (``None``: only for large read sets).

    A decode that uses fewer than ``MIN_READ_USE`` of its reads sets ``RecoveryReport.low_read_use`` and says why
    in ``problems``.

    The stages, in order (numbered as in the module docstring), each its own function:
    :func:`_usable_reads` (1, length filter), :func:`_header_calls` (orientation by the header check),
    :func:`_exact_reads` and :func:`_trusted_exact` (2, exact reads and the vote per index),
    :func:`_group_by_header` (3), :func:`_place_orphans` and :func:`_cluster_orphans` (4),
    :func:`_exact_payloads` and :func:`_consensus_groups` (5), and :func:`_assemble` (the recovered oligos).
    """
    check_choice("consensus method", consensus, CONSENSUS_METHODS)
    check_range("length_tolerance", length_tolerance, 0, fmt.length, integer=True)
    check_range("k", k, MIN_K, 31, integer=True)
    check_range("n_anchors", n_anchors, 2, 64, integer=True)
    check_range("max_shift", max_shift, 0, 16, integer=True)
    check_range("min_anchor_hits", min_anchor_hits, 1, n_anchors, integer=True)
    check_range("max_cluster", max_cluster, 2, 10**6, integer=True)
    check_range("max_consensus_reads", max_consensus_reads, 2, 10**4, integer=True)
    check_range("min_exact_reads", min_exact_reads, 1, 100, integer=True)
    check_range("max_orphans", max_orphans, 0, 10**9, integer=True)
    report = RecoveryReport(reads=len(reads))
    place = True  # reads with a damaged index are placed by payload k-mers, which must fit the payload
    if fmt.payload < k + 2 * max_shift:
        k_fit = fmt.payload - 2 * max_shift
        if k_fit >= MIN_K:
            report.problems.append(f"k={k} with max_shift={max_shift} does not fit the payload of {fmt.payload} nt: "
                                   f"reads with a damaged index are placed by {k_fit}-mers")
            k = k_fit
        else:
            place = False
            report.problems.append(f"the payload of {fmt.payload} nt is too short to place reads with a damaged "
                                   f"index by k-mers (needs {MIN_K + 2 * max_shift} nt): only reads whose index "
                                   f"passes its check are used")
    verbose = len(reads) >= PROGRESS_READS if show_progress is None else bool(show_progress)
    max_file = n_files if n_files is not None else fmt.max_files

    fit = diagnose(reads, fmt, max_file=max_file, max_trim=max_trim)
    report.layout = fit.action
    if fit.action != "as is":
        report.problems.append(fit.message)
    if fit.action == "trim":
        reads, report.trimmed_reads = trim(reads, fmt, fit, max_file=max_file)
    usable = _usable_reads(reads, fmt, length_tolerance, report)
    calls = _header_calls(reads, usable, fmt, max_file, report)
    exact = _exact_reads(reads, usable, calls, fmt, max_file, report)
    solved = _trusted_exact(exact, usable, min_exact_reads, report)
    groups, orphans = _group_by_header(usable, calls, exact, solved, report)
    if fit.action == "no fit" or not place:  # hardly any read is of this pool: searching among the others is
        report.orphans_not_clustered = len(orphans)  # hopeless; or the payload holds no k-mer to place them by
        orphans = orphans[:0]
    clusters = _place_orphans(reads, orphans, groups, solved, fmt, k=k, n_anchors=n_anchors, max_shift=max_shift,
                              min_anchor_hits=min_anchor_hits, max_cluster=max_cluster, max_orphans=max_orphans,
                              report=report, verbose=verbose)
    parts = [(solved.key, _exact_payloads(reads, solved, fmt), np.full(len(solved.key), EXACT))]
    report.oligos_exact = len(solved.key)
    report.groups = len(solved.key) + len(groups)
    parts += _consensus_groups(reads, groups, clusters, solved, fmt, consensus=consensus, max_file=max_file,
                               max_shift=max_shift, max_consensus_reads=max_consensus_reads, report=report,
                               verbose=verbose, ends_from_either_strand=fit.action == "short")
    _flag_read_use(report, fit)
    return _assemble(parts, fmt), report


def _flag_read_use(report: RecoveryReport, fit) -> None:
    """Set ``low_read_use`` with the reason when fewer than ``MIN_READ_USE`` of the reads were used."""
    if not report.reads or report.read_use >= MIN_READ_USE:
        return
    report.low_read_use = True
    parts = [f"{report.exact_reads} exact", f"{report.header_reads} grouped by index",
             f"{report.rescued_reads + report.redundant_orphans} placed by content"]
    why = []
    if report.unused_reads:
        why.append(f"{report.unused_reads} of the wrong length")
    if report.incoherent_reads:
        why.append(f"{report.incoherent_reads} that carry a valid index but are unlike the other reads of their index")
    if report.orphan_reads:
        why.append(f"{report.orphan_reads - report.rescued_reads - report.redundant_orphans} with no valid index "
                   f"that matched no known oligo")
    report.problems.append(f"only {100 * report.read_use:.0f} % of {report.reads} reads were used ("
                           + ", ".join(parts) + "); unused: " + (", ".join(why) or "none counted")
                           + f"; layout check: {fit.message}")


# -- the stages of recover_oligos ------------------------------------------------------------------------------
def _cat(parts: list[np.ndarray], dtype) -> np.ndarray:
    """``np.concatenate(parts)``, or an empty array of ``dtype`` when there are no parts."""
    return np.concatenate(parts) if parts else np.zeros(0, dtype)


def _key(file_id, offset, fmt: OligoFormat):
    """The index of an oligo as one integer: ``file_id * 3**offset_trits + offset``."""
    return file_id * 3**fmt.offset_trits + offset


def accepted(parsed: ParsedOligos, max_file: int) -> np.ndarray:
    """The one rule by which an oriented oligo-length sequence is trusted, whatever produced it (an exact read, a
    group's consensus, an orphan cluster's consensus): it passes the full check and names a file below
    ``max_file``. ``(n,)`` bool."""
    return parsed.full_ok & (parsed.file_id < max_file)


def header_accepted(ok: np.ndarray, file_id: np.ndarray, max_file: int) -> np.ndarray:
    """The same rule for an index alone (:func:`repro.dna.codec.parse_headers`' output): the header check passes
    and the file id is below ``max_file``. It routes and groups reads; it never admits an oligo."""
    return ok & (file_id < max_file)


def _usable_reads(reads: Reads, fmt: OligoFormat, length_tolerance: int, report: RecoveryReport) -> np.ndarray:
    """Stage 1, length filter: indices of the reads within ``length_tolerance`` of the oligo length ``L``.

    Counts the reads that are too short, too long or contain an ``N`` call, and says in ``report.problems`` why
    reads were left out (the decoder needs reads that span the whole oligo)."""
    L = fmt.length
    lengths = reads.lengths
    report.too_short = int((lengths < L - length_tolerance).sum())
    report.too_long = int((lengths > L + length_tolerance).sum())
    n_at = np.flatnonzero(reads.flat == N_CODE)
    report.with_n = len(np.unique(np.searchsorted(reads.offsets, n_at, side="right") - 1))
    if report.too_short or report.too_long:
        report.problems.append(
            f"{report.too_short} reads shorter than {L - length_tolerance} nt and {report.too_long} longer than "
            f"{L + length_tolerance} nt were not used: the decoder needs full-length reads of the {L}-nt oligos "
            f"(within length_tolerance={length_tolerance}); trimmed reads, or reads that start at a random place "
            f"in the oligo, cannot be placed")
    return np.flatnonzero((lengths >= L - length_tolerance) & (lengths <= L + length_tolerance))


@dataclass
class _HeaderCalls:
    """Per usable read: whether its first ``header`` bases pass the header check as read (``fwd``) and whether
    the reverse complement of its last ``header`` bases does (``rev``), each for a file id below ``max_file``,
    and the index key read each way (``key_fwd``, ``key_rev``; meaningful where the check passed)."""

    fwd: np.ndarray
    rev: np.ndarray
    key_fwd: np.ndarray
    key_rev: np.ndarray


def _header_calls(reads: Reads, usable: np.ndarray, fmt: OligoFormat, max_file: int,
                  report: RecoveryReport) -> _HeaderCalls:
    """Orientation by the header check, both ways, for the ``usable`` reads. A header that passes its check but
    names a file id at or above ``max_file`` counts in ``report.unknown_file_reads`` and is not used."""
    H = fmt.header
    hf, ff, of = parse_headers(reads.rows(usable, H), fmt)
    hr, fr, orr = parse_headers(reverse_complement(reads.rows(usable, H, from_end=True)), fmt)
    any_header = hf | hr
    hf, hr = header_accepted(hf, ff, max_file), header_accepted(hr, fr, max_file)
    report.unknown_file_reads = int((any_header & ~hf & ~hr).sum())
    return _HeaderCalls(hf, hr, _key(ff, of, fmt), _key(fr, orr, fmt))


@dataclass
class _ExactReads:
    """Usable reads of length ``L`` that pass the full check: position among the usable reads (``pos``, sorted),
    orientation (``rev``), index key and a fingerprint of the payload (``payload_hash``)."""

    pos: np.ndarray
    rev: np.ndarray
    key: np.ndarray
    payload_hash: np.ndarray


def _exact_reads(reads: Reads, usable: np.ndarray, calls: _HeaderCalls, fmt: OligoFormat, max_file: int,
                 report: RecoveryReport) -> _ExactReads:
    """Stage 2, exact reads: length ``L``, a valid header and the full check, in chunks of ``PARSE_CHUNK``.

    A read whose header passes both ways is tried both ways (rare), each orientation in its own pass; a read that
    is exact both ways counts once, forward."""
    L = fmt.length
    cand = np.flatnonzero((reads.lengths[usable] == L) & (calls.fwd | calls.rev))
    ex_pos, ex_rev, ex_key, ex_hash = [], [], [], []
    for rev_pass in (False, True):
        sel = cand[calls.rev[cand]] if rev_pass else cand[calls.fwd[cand]]
        for start in range(0, len(sel), PARSE_CHUNK):
            pos = sel[start: start + PARSE_CHUNK]
            rows = reads.rows(usable[pos], L)
            p = parse_oligos(reverse_complement(rows) if rev_pass else rows, fmt)
            ok = accepted(p, max_file)
            ex_pos.append(pos[ok])
            ex_rev.append(np.full(int(ok.sum()), rev_pass))
            ex_key.append(_key(p.file_id[ok], p.offset[ok], fmt))
            ex_hash.append(_payload_hash(p.payload[ok]))
    pos, first = np.unique(_cat(ex_pos, np.int64), return_index=True)
    exact = _ExactReads(pos, _cat(ex_rev, bool)[first], _cat(ex_key, np.int64)[first],
                        _cat(ex_hash, np.int64)[first])
    report.exact_reads = len(pos)
    return exact


@dataclass
class _Solved:
    """Indexes solved by exact reads: ``key``, and the representative read (index into all reads) and its
    orientation, one per key."""

    key: np.ndarray
    read: np.ndarray
    rev: np.ndarray


def _trusted_exact(exact: _ExactReads, usable: np.ndarray, min_exact_reads: int,
                   report: RecoveryReport) -> _Solved:
    """Stage 2, the vote: per key, the most frequent payload among the exact reads is trusted when it has at least
    ``min_exact_reads`` reads and strictly more than any other payload of the key. A tie is a conflict
    (``exact_keys_conflicting``; those reads go to consensus), too few agreeing reads ``exact_keys_too_few``,
    and the payloads that lost ``exact_payloads_outvoted``."""
    # runs of equal (key, payload) in sorted order, then per key the largest run first
    order = np.lexsort((exact.payload_hash, exact.key))
    sk, sh = exact.key[order], exact.payload_hash[order]
    new_run = np.ones(len(order), dtype=bool)
    new_run[1:] = (sk[1:] != sk[:-1]) | (sh[1:] != sh[:-1])
    run_count = np.bincount(np.cumsum(new_run) - 1) if len(order) else np.zeros(0, np.int64)
    run_first = np.flatnonzero(new_run)
    run_key = sk[run_first]
    best = np.lexsort((-run_count, run_key))
    rk, rc = run_key[best], run_count[best]
    first_of_key = np.ones(len(best), dtype=bool)
    first_of_key[1:] = rk[1:] != rk[:-1]
    at_first = np.flatnonzero(first_of_key)
    has_second = np.zeros(len(best), dtype=bool)
    has_second[:-1] = rk[1:] == rk[:-1]
    top = rc[at_first]
    second = np.where(has_second[at_first], rc[np.minimum(at_first + 1, max(len(rc) - 1, 0))], 0)
    trusted = (top > second) & (top >= min_exact_reads)
    report.exact_keys_conflicting = int((top == second).sum())
    report.exact_keys_too_few = int(((top > second) & (top < min_exact_reads)).sum())
    report.exact_payloads_outvoted = int(len(run_key) - len(at_first))
    chosen = order[run_first[best[at_first[trusted]]]]  # index into exact.* of each trusted key's representative
    return _Solved(exact.key[chosen], usable[exact.pos[chosen]], exact.rev[chosen])


def _group_by_header(usable: np.ndarray, calls: _HeaderCalls, exact: _ExactReads, solved: _Solved,
                     report: RecoveryReport) -> tuple[dict[int, list[tuple[int, bool]]], np.ndarray]:
    """Stage 3, header grouping: ``(groups, orphans)``.

    ``groups`` maps each key not solved by exact reads to its reads ``[(read, reverse), ...]``: the reads whose
    header passes one way only, and the exact reads of untrusted keys in their exact orientation. ``orphans``
    are the usable reads with no valid header either way (indices into all reads). Reads whose header passes
    both ways and that are not exact are left out (neither grouped nor orphans)."""
    n = len(usable)
    solved_exact = np.isin(exact.key, solved.key)
    is_exact = np.zeros(n, dtype=bool)
    is_exact[exact.pos[solved_exact]] = True
    is_untrusted = np.zeros(n, dtype=bool)
    is_untrusted[exact.pos[~solved_exact]] = True
    ex_rev_at = np.zeros(n, dtype=bool)
    ex_rev_at[exact.pos] = exact.rev
    fwd_only = (calls.fwd & ~calls.rev & ~is_exact) | (is_untrusted & ~ex_rev_at)
    rev_only = (calls.rev & ~calls.fwd & ~is_exact) | (is_untrusted & ex_rev_at)
    hd_read = np.concatenate([usable[fwd_only], usable[rev_only]])
    hd_rev = np.concatenate([np.zeros(int(fwd_only.sum()), bool), np.ones(int(rev_only.sum()), bool)])
    hd_key = np.concatenate([calls.key_fwd[fwd_only], calls.key_rev[rev_only]])
    report.header_reads = len(hd_read)
    orphans = usable[~is_exact & ~fwd_only & ~rev_only]
    report.orphan_reads = len(orphans)
    need = ~np.isin(hd_key, solved.key)
    groups: dict[int, list[tuple[int, bool]]] = {}
    for r, rev, key in zip(hd_read[need].tolist(), hd_rev[need].tolist(), hd_key[need].tolist(), strict=True):
        groups.setdefault(key, []).append((r, rev))
    return groups, orphans


def _anchor_positions(fmt: OligoFormat, k: int, n_anchors: int) -> np.ndarray:
    """``n_anchors`` evenly spaced payload positions where k-mers are taken (between the header and the check)."""
    return np.linspace(fmt.header, fmt.length - fmt.check_trits - k, n_anchors).astype(np.int64)


def _representative_table(reads: Reads, groups: dict, solved: _Solved, anchor_pos: np.ndarray, k: int,
                          max_shift: int) -> tuple[KmerTable, np.ndarray]:
    """The k-mer table of the representatives, and the key of each label: ``(table, rep_keys)``.

    Labels ``0 .. n_solved - 1`` are the solved keys (their exact read's k-mers at the anchors: exact reads have
    no indels), then one per group (its first read's k-mers at the anchors and up to ``max_shift`` bases around
    them, since that read may have indels; at the anchors only beyond ``SHIFTED_GROUPS`` groups). The reverse
    complements enter under labels of their own, which are
    then masked to -1: a spurious group (a read whose damaged index passed the header check under another index,
    or a read taken in the wrong orientation) shares its k-mers with the true oligo's entries, they become
    ambiguous, and no orphan is placed into it."""
    group_keys = np.array(list(groups), dtype=np.int64)
    rep_keys = np.concatenate([solved.key, group_keys])
    n_solved, n_reps = len(solved.key), len(rep_keys)
    # many groups (floods of reads with a valid index and foreign content) enter at their anchors only, so the
    # table stays linear in the groups with a small constant; orphans are still searched at shifted positions
    group_positions = shifted(anchor_pos, max_shift) if len(groups) <= SHIFTED_GROUPS else anchor_pos
    t_values, t_labels = [], []
    for reps_read, reps_rev, labels, positions in (
            (solved.read, solved.rev, np.arange(n_solved), anchor_pos),
            (np.array([g[0][0] for g in groups.values()], dtype=np.int64),
             np.array([g[0][1] for g in groups.values()], dtype=bool), np.arange(n_solved, n_reps),
             group_positions)):
        for a in range(0, len(labels), PARSE_CHUNK):
            reps = _oriented_reads(reads, reps_read[a: a + PARSE_CHUNK], reps_rev[a: a + PARSE_CHUNK])
            lab = np.repeat(labels[a: a + PARSE_CHUNK], len(positions))
            t_values += [kmers_at(reps, k, positions).ravel(), kmers_at(reps.reverse_complement(), k,
                                                                        positions).ravel()]
            t_labels += [lab, lab + n_reps]
    table = KmerTable(_cat(t_values, np.int64), _cat(t_labels, np.int64))
    table.label = np.where(table.label >= n_reps, -1, table.label)
    return table, rep_keys


def _place(part: Reads, table: KmerTable, anchor_pos: np.ndarray, k: int, shift: int,
           min_anchor_hits: int) -> np.ndarray:
    """Representative label (``rep * 2 + reverse``, -1 if none) of each orphan in ``part``: each anchor votes once,
    for the label it matches at any shift up to ``shift`` (conflicting matches of one anchor do not vote), and a
    label needs ``min_anchor_hits`` votes and no tie (:func:`_vote`)."""
    n_anchors = len(anchor_pos)
    positions = shifted(anchor_pos, shift)
    votes = []
    for orient, seqs in ((0, part), (1, part.reverse_complement())):
        lab = table.lookup(kmers_at(seqs, k, positions)).reshape(len(part), n_anchors, -1)
        hi = lab.max(-1)
        lo = np.where(lab >= 0, lab, np.iinfo(np.int64).max).min(-1)
        one = np.where((hi >= 0) & (lo == hi), hi, -1)
        votes.append(np.where(one >= 0, one * 2 + orient, -1))
    return _vote(np.concatenate(votes, axis=1), min_anchor_hits)[0]


def _place_orphans(reads: Reads, orphans: np.ndarray, groups: dict, solved: _Solved, fmt: OligoFormat, *, k: int,
                   n_anchors: int, max_shift: int, min_anchor_hits: int, max_cluster: int, max_orphans: int,
                   report: RecoveryReport, verbose: bool) -> list[list[tuple[int, bool]]]:
    """Stage 4, orphans: place each by its payload k-mers, then cluster those placed nowhere; returns the
    clusters ``[[(read, reverse), ...], ...]``.

    An orphan placed on a solved key is redundant (``redundant_orphans``); one placed on a group joins it
    (``groups`` is extended in place, ``rescued_reads``). The table covers shifted anchors of groups, so one
    unshifted look-up per anchor places most orphans; the rest (indels before an anchor) are searched with
    shifts up to ``max_shift``; in chunks of ``PLACE_CHUNK``, so memory stays bounded. At most ``max_orphans``
    of the unplaced enter :func:`_cluster_orphans` (the rest are counted and reported)."""
    if not len(orphans):
        return []
    anchor_pos = _anchor_positions(fmt, k, n_anchors)
    table, rep_keys = _representative_table(reads, groups, solved, anchor_pos, k, max_shift)
    n_solved = len(solved.key)
    label = np.full(len(orphans), -1, dtype=np.int64)
    blocks = range(0, len(orphans), PLACE_CHUNK)
    for a in progress(blocks, desc="placing orphan reads", leave=False, disable=not verbose):
        part = reads.take(orphans[a: a + PLACE_CHUNK])
        lab = _place(part, table, anchor_pos, k, 0, min_anchor_hits)
        retry = np.flatnonzero(lab < 0)
        if len(retry) and max_shift:
            lab[retry] = _place(part.take(retry), table, anchor_pos, k, max_shift, min_anchor_hits)
        label[a: a + PLACE_CHUNK] = lab
    placed = label >= 0
    rep_idx, rev = label[placed] // 2, (label[placed] % 2).astype(bool)
    for r, ri, rv in zip(orphans[placed].tolist(), rep_idx.tolist(), rev.tolist(), strict=True):
        if ri < n_solved:
            report.redundant_orphans += 1
        else:
            groups[int(rep_keys[ri])].append((r, rv))
            report.rescued_reads += 1
    left = orphans[~placed]
    if len(left) > max_orphans:
        report.orphans_not_clustered = len(left) - max_orphans
        report.problems.append(f"{len(left)} reads matched no index and no known oligo; only the first "
                               f"max_orphans={max_orphans} were clustered, {report.orphans_not_clustered} "
                               f"were left out (foreign or garbage reads?)")
        left = left[:max_orphans]
    clusters = []
    if len(left) >= 2:
        clusters = _cluster_orphans(reads, left, k, anchor_pos, max_shift, table, min_anchor_hits, max_cluster,
                                    verbose)
    report.orphan_clusters = len(clusters)
    return clusters


def _exact_payloads(reads: Reads, solved: _Solved, fmt: OligoFormat) -> np.ndarray:
    """Stage 5 for solved keys: ``(n_solved, P)`` payload trits of their representative exact reads."""
    payloads = [np.zeros((0, fmt.payload), np.uint8)]
    for a in range(0, len(solved.key), PARSE_CHUNK):
        rows = reads.rows(solved.read[a: a + PARSE_CHUNK], fmt.length)
        rows = np.where(solved.rev[a: a + PARSE_CHUNK, None], reverse_complement(rows), rows)
        payloads.append(parse_oligos(rows, fmt).payload)
    return np.concatenate(payloads)


def consensus_candidates(seqs: list[np.ndarray], length: int, methods: list[str], report: RecoveryReport):
    """Stage 5a: the candidate oligos of a group, lazily and in order of preference: per method in ``methods``,
    its consensus (``majority`` also with its tie variants) of length ``length``, as ``(attempt, variant,
    (k, length) array)``. Generating stops where the consumer stops, so a later method runs only when the earlier
    ones' candidates were all refused. A method that raises is counted (``consensus_errors``, the first messages
    in ``report.problems``) and skipped."""
    for attempt, method in enumerate(methods):
        try:
            if method == "stitch":
                candidates = stitch_candidates(seqs, length)
            elif method == "complete":
                candidates = complete_candidates(seqs, length)
            elif method == "spoa-complete":  # the consensus of reads short at one end, completed at that end
                candidates = complete_candidates([spoa_consensus(seqs)], length, n=1)
            elif method == "majority" and len(seqs) > 1:
                cons, ties = majority_votes(seqs, length)
                candidates = [cons, *tie_variants(cons, ties)]
            else:
                candidates = [group_consensus(seqs, length, method)]
        except Exception as err:  # a consensus library failing on odd input must not stop the decoder
            report.consensus_errors += 1
            if len(report.problems) < 10:
                report.problems.append(f"{method} consensus failed for a group of {len(seqs)} reads: {err!r}")
            continue
        candidates = [c for c in candidates if len(c) == length]
        if candidates:
            yield attempt, np.stack(candidates)


def first_accepted(candidates, fmt: OligoFormat, max_file: int, report: RecoveryReport) -> ParsedOligos | None:
    """Stage 5b: parse and check the candidates of :func:`consensus_candidates` by :func:`accepted`, the rule every
    path shares, and return the first that passes (or ``None``). One from a fallback method counts in
    ``consensus_fallbacks``, one from a tie variant in ``tie_breaks``."""
    for attempt, rows in candidates:
        p = parse_oligos(rows, fmt)
        good = np.flatnonzero(accepted(p, max_file))
        if len(good):
            i = int(good[0])
            report.consensus_fallbacks += attempt > 0
            report.tie_breaks += i > 0
            return ParsedOligos(p.header_ok[i:i + 1], p.full_ok[i:i + 1], p.file_id[i:i + 1], p.offset[i:i + 1],
                                p.payload[i:i + 1])
    return None


def _checked_consensus(seqs: list[np.ndarray], fmt: OligoFormat, methods: list[str], max_file: int,
                       report: RecoveryReport) -> ParsedOligos | None:
    """The first consensus of ``seqs`` that is :func:`accepted`: stage 5a's candidates through stage 5b."""
    return first_accepted(consensus_candidates(seqs, fmt.length, methods, report), fmt, max_file, report)


def _consensus_groups(reads: Reads, groups: dict, clusters: list, solved: _Solved, fmt: OligoFormat, *,
                      consensus: str, max_file: int, max_shift: int, max_consensus_reads: int,
                      report: RecoveryReport, verbose: bool,
                      ends_from_either_strand: bool = False) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Stage 5, consensus of the header groups (then of the orphan clusters): ``[(key, payload, how), ...]``, one
    ``(1,)``, ``(1, P)``, ``(1,)`` triple per recovered oligo.

    A group needs two reads; at most ``max_consensus_reads`` enter a consensus (a few dozen are as good as
    hundreds, and much cheaper). The chosen method, then the other, then spoa's plain heaviest path are tried
    (:func:`_checked_consensus`). A group's consensus must name the group's own index (else
    ``consensus_other_index``: trust neither); an orphan cluster is first tested cheaply for a plausible index
    (:func:`_index_plausible`) and its consensus gives its index. An index recovered before is not repeated."""
    known = set(solved.key.tolist())
    jobs = [(key, members, CONSENSUS) for key, members in groups.items()]
    jobs += [(None, members, ORPHAN_CLUSTER) for members in clusters]
    methods = [consensus] + [m for m in CONSENSUS_METHODS if m != consensus] + ["spoa-heaviest"]
    if ends_from_either_strand:  # reads short at one end: only the two strands together cover both ends, which
        methods = ["spoa-heaviest", "spoa-complete"] + methods[:-1]  # spoa's heaviest path keeps and a majority
        # drops, and a majority consensus short at one end is completed there; before
        # any of them, the batched stitches and completions (_short_read_candidates): a stitch of two error-free
        # reads of opposite strands, or one error-free read completed at its missing end, is the oligo itself
    out = []
    batched = (_short_read_candidates(reads, groups, clusters, fmt, max_file, max_consensus_reads)
               if ends_from_either_strand else {})
    cluster_seqs = [_oriented_list(reads, members[:max_consensus_reads]) for members in clusters]
    plausible = iter(_index_plausible_batch(cluster_seqs, fmt, max_file))
    cluster_seqs = iter(cluster_seqs)
    n_cluster = 0
    for key, members, how in progress(jobs, desc="consensus", leave=False,
                                      disable=not (verbose and len(jobs) >= PROGRESS_JOBS)):
        owner = key if how == CONSENSUS else -1 - n_cluster
        if how == ORPHAN_CLUSTER:
            n_cluster += 1
        if owner in batched:  # solved in a batch (reads short at one end), by the same acceptance rule
            if how == ORPHAN_CLUSTER:
                next(cluster_seqs), next(plausible)
            found, payload = batched[owner]
            if found not in known:
                known.add(found)
                out.append((np.array([found], dtype=np.int64), payload[None], np.array([how])))
                report.oligos_consensus += how == CONSENSUS
                report.oligos_from_orphans += how == ORPHAN_CLUSTER
            continue
        if how == ORPHAN_CLUSTER:
            seqs, decided = next(cluster_seqs), next(plausible)
            if not (decided if decided is not None else _index_plausible(seqs, fmt, max_file, max_shift)):
                report.orphan_clusters_rejected += 1  # no valid index even in a consensus of the prefixes: foreign
                continue
        if how == CONSENSUS and len(members) < 2:
            report.groups_failed += 1
            continue
        if how == CONSENSUS:
            seqs = _oriented_list(reads, members[:max_consensus_reads])
            kept = _coherent_reads(seqs, fmt.length)
            report.incoherent_reads += len(seqs) - len(kept)
            if not kept:
                report.groups_incoherent += 1  # reads that share an index but not their content
                report.groups_failed += 1
                continue
            seqs = kept
        parsed = _checked_consensus(seqs, fmt, methods, max_file, report)
        if parsed is None:
            report.groups_failed += how == CONSENSUS
            continue
        found = int(_key(parsed.file_id[0], parsed.offset[0], fmt))
        if how == CONSENSUS and found != key:
            # the reads were grouped under one index and their consensus names another: trust neither
            report.consensus_other_index += 1
            report.groups_failed += 1
            continue
        if found in known:
            continue
        known.add(found)
        out.append((np.array([found], dtype=np.int64), parsed.payload, np.array([how])))
        if how == CONSENSUS:
            report.oligos_consensus += 1
        else:
            report.oligos_from_orphans += 1
    return out


STITCH_BATCH_GROUPS = 5_000  # groups whose stitches are built and checked in one vectorized batch


def _batched_candidates(reads: Reads, items: list, make, fmt: OligoFormat, max_file: int,
                        max_consensus_reads: int) -> dict:
    """Candidates of many groups at once, checked in vectorized batches by the one acceptance rule
    (:func:`accepted`). ``items``: ``[(owner, members), ...]``; ``make(seqs)`` gives a group's candidates. A
    candidate counts for an owner that is an index key only when it names that key; an owner ``< 0`` (an orphan
    cluster) takes the first accepted candidate whatever its index. Returns ``{owner: (key, payload)}``."""
    solved: dict = {}
    for a in range(0, len(items), STITCH_BATCH_GROUPS):
        owners, cands = [], []
        for owner, members in items[a: a + STITCH_BATCH_GROUPS]:
            for c in make(_oriented_list(reads, members[:max_consensus_reads])):
                owners.append(owner)
                cands.append(c)
        if not cands:
            continue
        owners_a = np.array(owners, dtype=np.int64)
        rows = np.stack(cands)
        for b in range(0, len(rows), PARSE_CHUNK):
            p = parse_oligos(rows[b: b + PARSE_CHUNK], fmt)
            own = owners_a[b: b + PARSE_CHUNK]
            keys = _key(p.file_id, p.offset, fmt)
            ok = accepted(p, max_file) & ((keys == own) | (own < 0))
            for i in np.flatnonzero(ok).tolist():
                solved.setdefault(int(own[i]), (int(keys[i]), p.payload[i]))
    return solved


def _short_read_candidates(reads: Reads, groups: dict, clusters: list, fmt: OligoFormat, max_file: int,
                           max_consensus_reads: int) -> dict:
    """Reads short at one end (layout ``short``), solved in batches before any per-group consensus: first the
    stitches of every header group (:func:`stitch_candidates`, two reads from each end of a group), then, for the
    groups left and the orphan clusters, the completions of their first reads (:func:`complete_candidates`).
    Returns ``{owner: (key, payload)}``, owners being group keys and ``-1 - i`` for orphan cluster ``i``; the rest
    go to the per-group stages. One vectorized check per batch instead of one per group is what makes this
    layout's decode fast."""
    L = fmt.length
    items = [(key, members) for key, members in groups.items() if len(members) >= 2]
    solved = _batched_candidates(reads, items, lambda seqs: stitch_candidates(seqs, L, n=3), fmt, max_file,
                                 max_consensus_reads)
    rest = [(key, members) for key, members in items if key not in solved]
    rest += [(-1 - i, members) for i, members in enumerate(clusters)]
    solved.update(_batched_candidates(reads, rest, lambda seqs: complete_candidates(seqs, L, n=4), fmt, max_file,
                                      max_consensus_reads))
    return solved


COHERENT_PIVOTS = 3  # reads tried as the centre of a group by _coherent_reads


def _coherent_reads(seqs: list[np.ndarray], length: int) -> list[np.ndarray]:
    """The reads of a group that lie within ``length // 4`` edits of its centre (in their order), or ``[]``.

    The centre is the first of the first ``COHERENT_PIVOTS`` reads that has another read within that bound
    (``edlib`` with the bound, so unrelated reads cost microseconds). Reads of one oligo, at any error rate the
    decoder can correct, all lie within it, so an ordinary group keeps every read; reads that only share a valid
    index (a flood of foreign content under it) do not, and the group's consensus, milliseconds per read, is
    skipped or made of the reads that agree."""
    import edlib

    if len(seqs) < 2:
        return list(seqs)
    strings = [to_string(s) for s in seqs]
    bound = max(length // 4, 1)
    for c in range(min(COHERENT_PIVOTS, len(seqs))):
        near = [i for i in range(len(seqs)) if i == c or
                edlib.align(strings[i], strings[c], mode="NW", task="distance", k=bound)["editDistance"] >= 0]
        if len(near) >= 2:
            return [seqs[i] for i in near]
    return []


def _assemble(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], fmt: OligoFormat) -> RecoveredOligos:
    """``[(keys, payloads, how), ...]`` (exact ones first, then consensus in job order) -> one
    :class:`RecoveredOligos`, the keys split into file id and offset."""
    offset_base = 3**fmt.offset_trits
    keys = _cat([p[0] for p in parts], np.int64)
    payload = np.concatenate([np.zeros((0, fmt.payload), np.uint8)] + [p[1] for p in parts])
    how = _cat([p[2] for p in parts], np.int64)
    return RecoveredOligos(keys // offset_base, keys % offset_base, payload, how)


def _index_plausible_batch(clusters: list[list[np.ndarray]], fmt: OligoFormat, max_file: int) -> list[bool | None]:
    """The first steps of :func:`_index_plausible` for many clusters at once, with one vectorized header check:
    per cluster ``True`` (the column-wise majority of the reads' first ``header`` bases is a valid index),
    ``False`` (it is not and every column agrees well, or no read is long enough) or ``None`` (tied columns, or
    columns that disagree: :func:`_index_plausible` decides, as it always did). Foreign reads, clusters of a few
    agreeing reads each, are rejected here at a fraction of the per-cluster cost, with the same answers."""
    H = fmt.header
    decided: list[bool | None] = [None] * len(clusters)
    calls, at, agree = [], [], []
    for i, seqs in enumerate(clusters):
        heads = [s[:H] for s in seqs if len(s) >= H]
        if not heads:
            decided[i] = False
            continue
        rows = np.stack(heads)
        counts = (rows[None, :, :] == np.arange(4, dtype=rows.dtype)[:, None, None]).sum(1)  # (4, H)
        top = counts.max(0)
        n_tied = int((((counts == top) & (top > 0)).sum(0) >= 2).sum())
        if 0 < n_tied <= 3:  # _index_plausible tries the tie variants
            continue
        calls.append(counts.argmax(0).astype(np.uint8))
        at.append(i)
        agree.append(bool((top >= 0.75 * len(rows)).all()))
    if calls:
        ok, file_id, _ = parse_headers(np.stack(calls), fmt)
        for i, valid, good in zip(at, header_accepted(ok, file_id, max_file).tolist(), agree):
            decided[i] = True if valid else (False if good else None)
    return decided


def _index_plausible(seqs: list[np.ndarray], fmt: OligoFormat, max_file: int, max_shift: int,
                     max_ties: int = 3) -> bool:
    """Whether the reads' first ``header`` bases agree on a valid index: a cheap test before the full consensus of
    an orphan cluster, which for foreign or garbage reads would fail anyway (a random index passes about 1 time in
    79). The column-wise majority (and its variants at up to ``max_ties`` tied columns) is tried first; when the
    columns agree well (three quarters of the reads or more in every column, as for foreign reads) and no variant
    is valid, the answer is no. Columns that disagree (indels, or two reads) get the consensus of the reads'
    first ``header + 2 max_shift`` bases (spoa, and the edit-distance majority with its tie variants)."""
    H = fmt.header
    rows = np.stack([s[:H] for s in seqs if len(s) >= H]) if any(len(s) >= H for s in seqs) else None
    if rows is None:
        return False
    counts = np.stack([(rows == b).sum(0) for b in range(4)])  # (4, H)
    order = np.argsort(-counts, axis=0, kind="stable")
    call, alt = order[0], order[1]
    top = np.take_along_axis(counts, order[:1], 0)[0]
    tied = np.flatnonzero((np.take_along_axis(counts, order[1:2], 0)[0] == top) & (top > 0))
    variants = [call]
    if 0 < len(tied) <= max_ties:
        for mask in range(1, 2 ** len(tied)):
            v = call.copy()
            for b, pos in enumerate(tied):
                if mask >> b & 1:
                    v[pos] = alt[pos]
            variants.append(v)
    ok, file_id, _ = parse_headers(np.stack(variants).astype(np.uint8), fmt)
    if header_accepted(ok, file_id, max_file).any():
        return True
    if (top >= 0.75 * len(rows)).all():
        return False
    width = H + 2 * max_shift
    prefixes = [s[:width] for s in seqs]
    try:
        candidates = [spoa_consensus(prefixes)]
        cons, ties = majority_votes(prefixes, width)
        candidates += [cons, *tie_variants(cons, ties)]
    except Exception:  # a consensus library failing on odd input: let the full consensus decide
        return True
    candidates = [c[:H] for c in candidates if len(c) >= H]
    if not candidates:
        return False
    ok, file_id, _ = parse_headers(np.stack(candidates), fmt)
    return bool(header_accepted(ok, file_id, max_file).any())


def _oriented_reads(reads: Reads, index: np.ndarray, reverse: np.ndarray) -> Reads:
    """The reads at ``index`` as a new :class:`Reads`, reverse-complemented where ``reverse``."""
    sub = reads.take(index)
    if not reverse.any():
        return sub
    rc = sub.reverse_complement()
    return Reads(np.where(np.repeat(reverse, sub.lengths), rc.flat, sub.flat), sub.offsets)


def _oriented_list(reads: Reads, members: list[tuple[int, bool]]) -> list[np.ndarray]:
    return [reverse_complement(reads[r]) if rev else reads[r] for r, rev in members]


def _cluster_orphans(reads: Reads, orphans: np.ndarray, k: int, anchor_pos: np.ndarray, max_shift: int,
                     rep_table: KmerTable, min_hits: int, max_cluster: int,
                     verbose: bool = False) -> list[list[tuple[int, bool]]]:
    """Connected components of orphans (each orientation a separate node) linked by ``min_hits`` shared anchor
    k-mers that are not ambiguous among the known groups. Returns clusters of ``(read, reverse)``, 2+ reads.

    Memory and time are linear in the number of orphans: every anchor k-mer value is held by one *centre* (the
    first node that has it), and a node links to a centre with which it shares ``min_hits`` anchors (a star per
    k-mer instead of every pair of nodes that share it); k-mers held by more than ``max_cluster`` nodes (floods of
    identical reads, repeated content) link nothing. Nodes are processed in chunks.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    n = len(orphans)
    n_nodes = 2 * n  # node v: orphan v % n, reverse = v >= n
    n_anch = len(anchor_pos)
    q_pos = shifted(anchor_pos, max_shift)  # anchor-major: the shifts of anchor a are contiguous
    n_q = len(q_pos) // n_anch

    def oriented_chunks():
        for a in range(0, n, PLACE_CHUNK):
            part = reads.take(orphans[a: a + PLACE_CHUNK])
            node = np.arange(a, a + len(part))
            yield part, node
            yield part.reverse_complement(), node + n

    values, node = [], []
    for seqs, nd in oriented_chunks():
        values.append(kmers_at(seqs, k, anchor_pos).ravel())
        node.append(np.repeat(nd, n_anch))
    values, node = np.concatenate(values), np.concatenate(node)
    # k-mers of repeated content (ambiguous among known groups) would merge unrelated oligos
    drop = values < 0
    if len(rep_table.values):
        at = rep_table.index.find(values)
        drop |= (at >= 0) & (rep_table.label[np.maximum(at, 0)] < 0)
    values, node = values[~drop], node[~drop]
    order = np.lexsort((node, values))
    values, node = values[order], node[order]
    uniq, first, counts = np.unique(values, return_index=True, return_counts=True)
    keep = counts <= max_cluster
    t_values, t_centre = uniq[keep], node[first[keep]]
    t_index = KmerIndex(t_values)
    del values, node, order
    src, dst = [], []
    for seqs, nd in progress(oriented_chunks(), desc="clustering orphan reads", leave=False, disable=not verbose,
                             total=2 * (-(-n // PLACE_CHUNK))):
        q = kmers_at(seqs, k, q_pos)  # (c, anchors * shifts)
        at = t_index.find(q)
        centre = np.where(at >= 0, t_centre[np.maximum(at, 0)] if len(t_centre) else -1, -1)
        me = np.repeat(nd, q.shape[1])
        anchor = np.tile(np.repeat(np.arange(n_anch), n_q), len(nd))
        centre = centre.ravel()
        ok = (centre >= 0) & (centre != me)
        # one vote per (node, anchor, centre), then count anchors per (node, centre)
        triple = np.unique((me[ok] * n_anch + anchor[ok]) * n_nodes + centre[ok])
        pair, cnt = np.unique((triple // n_nodes // n_anch) * n_nodes + triple % n_nodes, return_counts=True)
        s, d = pair // n_nodes, pair % n_nodes
        good = (cnt >= min_hits) & (s % n != d % n)
        src.append(s[good])
        dst.append(d[good])
    s, d = np.concatenate(src), np.concatenate(dst)
    graph = coo_matrix((np.ones(len(s), dtype=np.int8), (s, d)), shape=(n_nodes, n_nodes))
    _, comp = connected_components(graph, directed=False)
    sizes = np.bincount(comp)
    multi = np.flatnonzero(sizes[comp] >= 2)  # nodes in components of two or more
    out = []
    order = multi[np.argsort(comp[multi], kind="stable")]
    for members in np.split(order, np.flatnonzero(np.diff(comp[order])) + 1) if len(order) else []:
        if len(members) > max_cluster or len(np.unique(members % n)) != len(members):
            continue
        out.append([(int(orphans[v % n]), bool(v >= n)) for v in members])
    return out
