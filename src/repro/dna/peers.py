"""Published DNA storage codecs as peers, through the bundle's own channel: the ``Chamaeleo`` package's
implementations (Goldman et al. 2013, Grass et al. 2015, Erlich and Zielinski's DNA Fountain 2017, Ping et al.'s
Yin-Yang code 2022; Church and Blawat also run), never re-written here.

A peer stores a byte stream (the files of a payload back to back; their sizes are the reader's catalog) the way
Chamaeleo's own pipeline does: the stream is cut into segments of ``segment_bytes``, each segment gets its index
(``indexer.connect_all``) and a Reed-Solomon check of ``check_bytes`` (Chamaeleo's ``ReedSolomon``, the per-oligo
check DNA Fountain and Grass et al. carry), and the codec turns segments into DNA. None of the codecs clusters
reads, so their reads go through the **same** simulator as the bundle's pools (:func:`simulate_ragged`: the same
coverage bias and error model; peer oligos may differ in length), with one difference in the peers' favour: their
reads arrive **oriented** (:data:`PEER_REVERSE_FRACTION`). Their published pipelines orient and trim reads by
primers, which Chamaeleo's codecs leave out, so the peers get the orientation a primer would give without paying
its nucleotides; the bundle's own format orients each read by its header check and a generic clustering and consensus
(:func:`cluster_and_consensus`: k-mer candidates checked by edit distance with ``edlib``, both orientations,
consensus by partial-order alignment with ``spoa``, as for the bundle's own pools). Each consensus sequence is then
decoded by the codec and checked by the RS code; a segment that fails the check, or an index outside the stream,
is dropped; two disagreeing segments for one index leave it unknown. DNA Fountain decodes all of its droplets at
once: Chamaeleo's decoder raises when the droplets do not determine every segment, and then nothing is known.
"""

from __future__ import annotations

import math
import random
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from repro.core.checks import check_choice, check_range
from repro.dna.codec import gc_content, max_homopolymer, reverse_complement, to_codes, to_string
from repro.dna.consensus import spoa_consensus
from repro.dna.decoder import RecoveredFile
from repro.dna.reads import Reads
from repro.dna.simulator import ErrorModel, apply_errors, check_coverage, draw_read_counts

PEERS = ("Goldman", "Grass", "DNAFountain", "YinYang", "Church", "Blawat")
ENCODE_SEED = 2017  # the global seed set before a peer encodes (Chamaeleo's codecs use the global generators)
PEER_REVERSE_FRACTION = 0.0  # reads oriented, as primers would orient them (see the module doc)
ENCODE_TIMEOUT = 600.0  # seconds a peer's encoder may take before encode() gives up (PeerEncodeError)


class PeerEncodeError(RuntimeError):
    """A peer codec did not produce its DNA (it raised, or ran past its time limit)."""


def _encode_bounded(codec, segments, total_bits: int, timeout: float) -> list:
    """``codec.silicon_to_carbon`` in a forked child, given ``timeout`` seconds: Chamaeleo 1.34's Yin-Yang encoder
    retries random partner segments without bound (``YinYangCode.addition``, a ``while True``) and on some inputs
    never returns, which would hang the notebook; here it becomes a :class:`PeerEncodeError` naming the codec."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def child():
        try:
            random.seed(ENCODE_SEED)  # Yin-Yang and DNA Fountain draw from the global generators: a fixed pool per
            np.random.seed(ENCODE_SEED)  # input
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                dna = codec.silicon_to_carbon(segments, total_bits)["dna"]
            send.send(("ok", (dna, codec.__dict__)))  # the codec keeps what it learned encoding, for decoding
        except Exception as err:  # the parent reports it
            send.send(("error", f"{type(err).__name__}: {err}"))

    proc = ctx.Process(target=child, daemon=True)
    proc.start()
    send.close()
    if not receive.poll(timeout):
        proc.kill()
        proc.join()
        raise PeerEncodeError(f"{type(codec).__name__} did not finish encoding {len(segments)} segments within "
                              f"{timeout:.0f} s (Chamaeleo's Yin-Yang retries partner segments without bound)")
    status, value = receive.recv()
    proc.join()
    if status != "ok":
        raise PeerEncodeError(f"{type(codec).__name__} failed to encode: {value}")
    dna, state = value
    codec.__dict__.update(state)
    return dna


def make_codec(name: str, fountain_redundancy: float = 0.3):
    """A fresh Chamaeleo codec object by name (:data:`PEERS`)."""
    check_choice("peer codec", name, PEERS)
    from Chamaeleo.methods import fixed, flowed

    if name == "DNAFountain":
        check_range("fountain redundancy", fountain_redundancy, 0.01, 3.0)
        return flowed.DNAFountain(redundancy=fountain_redundancy)
    if name == "YinYang":
        return flowed.YinYangCode()
    return getattr(fixed, name)()


def _bits(data: bytes) -> list[int]:
    return np.unpackbits(np.frombuffer(data, np.uint8)).tolist()


def _bytes(bits) -> bytes:
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()


@dataclass
class PeerPool:
    """One payload stored by a peer codec: its oligos (base codes, possibly of different lengths) and what the
    reader needs (codec object, segment layout, catalog of file sizes)."""

    name: str
    oligos: list[np.ndarray]
    codec: object
    segment_bytes: int
    check_bytes: int
    index_bits: int
    n_segments: int
    file_sizes: list[int]
    encode_seconds: float
    extra: dict = field(default_factory=dict)

    @property
    def nucleotides(self) -> int:
        return int(sum(len(o) for o in self.oligos))

    @property
    def stream_bytes(self) -> int:
        return int(sum(self.file_sizes))

    def stats(self) -> dict:
        """Information density (stored bits per nt), GC content and the longest homopolymer."""
        lengths = [len(o) for o in self.oligos]
        gc = np.array([float(gc_content(o[None])[0]) for o in self.oligos])
        return dict(codec=self.name, oligos=len(self.oligos), oligo_length_min=min(lengths),
                    oligo_length_max=max(lengths), nucleotides=self.nucleotides,
                    bits_per_nt=8 * self.stream_bytes / self.nucleotides, gc_mean=float(gc.mean()),
                    gc_min=float(gc.min()), gc_max=float(gc.max()),
                    max_homopolymer=max(max_homopolymer(o[None]) for o in self.oligos),
                    encode_seconds=self.encode_seconds, decodes_error_free=self.extra.get("decodes_error_free"))


def encode(name: str, files: list[bytes], *, segment_bytes: int = 16, check_bytes: int = 2,
           fountain_redundancy: float = 0.3, timeout: float = ENCODE_TIMEOUT) -> PeerPool:
    """Store ``files`` (one stream) with the peer codec ``name``; a codec that raises or runs past ``timeout``
    seconds is a :class:`PeerEncodeError`."""
    from Chamaeleo.methods.ecc import ReedSolomon
    from Chamaeleo.utils import indexer

    check_range("segment_bytes", segment_bytes, 2, 200, integer=True)
    check_range("check_bytes", check_bytes, 0, 32, integer=True)
    if segment_bytes % 2 or check_bytes % 2:
        raise ValueError(f"segment_bytes={segment_bytes} and check_bytes={check_bytes} must be even (Grass's "
                         f"code works on 16-bit blocks)")
    stream = b"".join(files)
    if not stream:
        raise ValueError("nothing to store: the payload's files are empty")
    n_segments = math.ceil(len(stream) / segment_bytes)
    if name == "YinYang":
        n_segments += n_segments % 2  # it pairs segments; for an odd count Chamaeleo 1.34 adds a random one and
        # can fail drawing its index (an empty randint range when the count is near a power of two)
    padded = stream + bytes(n_segments * segment_bytes - len(stream))
    segments = [_bits(padded[i * segment_bytes:(i + 1) * segment_bytes]) for i in range(n_segments)]
    # whole 16-bit words: the RS check works on bytes and Grass's code on 16-bit blocks. DNA Fountain's droplets
    # carry their seed, not segment indexes (its decoder returns the segments in order); an index there would
    # also start every droplet with zeros, which its homopolymer screen rejects without end
    index_bits = 0 if name == "DNAFountain" else 16 * math.ceil(max(1, n_segments - 1).bit_length() / 16)
    t0 = time.perf_counter()
    if index_bits:
        segments, _ = indexer.connect_all(segments, index_bits)
    if check_bytes:
        segments, _ = ReedSolomon(check_size=check_bytes).insert(segments)
    codec = make_codec(name, fountain_redundancy)
    dna = _encode_bounded(codec, segments, len(segments) * len(segments[0]), timeout)
    seconds = time.perf_counter() - t0
    oligos = [to_codes("".join(s)) for s in dna]
    pool = PeerPool(name, oligos, codec, segment_bytes, check_bytes, index_bits, n_segments,
                    [len(f) for f in files], seconds, {"fountain_redundancy": fountain_redundancy})
    # an LT code with few segments may not be decodable even from every droplet, error-free: say so up front
    pool.extra["decodes_error_free"] = not decode(pool, oligos)[1]["decode_failed"]
    return pool


def simulate_ragged(oligos: list[np.ndarray], coverage: float, errors: ErrorModel, *, bias_sigma: float = 0.5,
                    reverse_fraction: float = 0.5, seed: int = 0) -> Reads:
    """The bundle's read simulator for oligos of different lengths: the same multinomial coverage over log-normal
    abundances and the same per-base errors (:mod:`repro.dna.simulator`), applied per oligo length."""
    check_coverage(coverage)
    rng = np.random.default_rng(seed)
    counts = draw_read_counts(len(oligos), coverage, bias_sigma, rng)
    source = np.repeat(np.arange(len(oligos)), counts)
    source = source[rng.permutation(len(source))]
    reverse = rng.random(len(source)) < reverse_fraction
    lengths = np.array([len(o) for o in oligos])
    parts, order = [], []
    for length in np.unique(lengths[source]) if len(source) else []:
        pick = np.flatnonzero(lengths[source] == length)
        templates = np.stack([oligos[s] for s in source[pick]])
        rev = reverse[pick]
        templates[rev] = reverse_complement(templates[rev])
        parts.append(apply_errors(templates, errors, rng))
        order.append(pick)
    if not parts:
        return Reads.empty()
    reads = Reads.concat(parts)
    # back to the shuffled order
    inverse = np.empty(len(reads), dtype=np.int64)
    inverse[np.concatenate(order)] = np.arange(len(reads))
    return Reads.from_strings([to_string(reads[i]) for i in inverse])


def cluster_and_consensus(reads: Reads, *, k: int = 12, n_kmers: int = 6, max_error: float = 0.2,
                          max_cluster: int = 30, both_strands: bool = False) -> list[np.ndarray]:
    """Greedy clustering of reads of unknown layout and one consensus per cluster.

    Each read (and, with ``both_strands``, its reverse complement) is compared with the cluster representatives
    that share one of its ``n_kmers`` evenly spaced k-mers; it joins the first whose edit distance is at most
    ``max_error`` of its length (in the matching orientation), else it starts a cluster. Consensus: spoa over at
    most ``max_cluster`` oriented members (a single read is its own consensus). Consensus sequences come out
    largest cluster first. Work is linear in reads times the candidates per read."""
    import edlib

    index: dict[bytes, list[int]] = {}
    reps: list[np.ndarray] = []
    members: list[list[np.ndarray]] = []
    for i in range(len(reads)):
        read = reads[i]
        if len(read) < k:
            continue
        placed = False
        for seq in ((read, reverse_complement(read)) if both_strands else (read,)):
            starts = np.linspace(0, len(seq) - k, n_kmers).astype(int)
            keys = [seq[s:s + k].tobytes() for s in starts]
            seen = set()
            for key in keys:
                for c in index.get(key, ()):
                    if c in seen:
                        continue
                    seen.add(c)
                    limit = int(max_error * len(seq))
                    d = edlib.align(to_string(seq), to_string(reps[c]), mode="NW", task="distance", k=limit)
                    if d["editDistance"] != -1:
                        if len(members[c]) < max_cluster:
                            members[c].append(seq)
                        placed = True
                        break
                if placed:
                    break
            if placed:
                break
        if not placed:
            c = len(reps)
            reps.append(read)
            members.append([read])
            starts = np.linspace(0, len(read) - k, n_kmers).astype(int)
            for s in starts:
                index.setdefault(read[s:s + k].tobytes(), []).append(c)
    # best-supported first: a decoder that keeps the first copy of an index (or, like DNA Fountain's, stops once
    # every segment is known) then prefers the consensus of many reads to a stray read's own cluster
    order = sorted(range(len(members)), key=lambda c: -len(members[c]))
    return [members[c][0] if len(members[c]) == 1 else spoa_consensus(members[c]) for c in order]


@dataclass
class PeerRecovery:
    """What a peer read back: the files (unknown bytes 0), and how the decode went."""

    files: list[RecoveredFile]
    reads: int
    clusters: int
    segments_recovered: int
    segments_conflicting: int
    decode_failed: bool  # DNA Fountain's all-or-nothing decode did not finish
    seconds_clustering: float
    seconds_decoding: float


def decode(pool: PeerPool, sequences: list[np.ndarray]) -> tuple[list[RecoveredFile], dict]:
    """Consensus sequences -> the pool's files with per-byte ``known`` masks (see the module doc)."""
    from Chamaeleo.methods.ecc import ReedSolomon
    from Chamaeleo.utils import indexer

    seg_bits = 8 * pool.segment_bytes + pool.index_bits + 8 * pool.check_bytes
    strings = [list(to_string(s)) for s in sequences if len(s)]
    segments: list[list[int]] = []
    failed = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if pool.name == "DNAFountain":
            try:
                segments = pool.codec.carbon_to_silicon(strings)["bit"]
            except Exception:  # noqa: BLE001 - Chamaeleo raises ValueError (and others on garbled droplets)
                failed = True
        else:
            for s in strings:
                try:
                    segments += pool.codec.carbon_to_silicon([s])["bit"]
                except Exception:  # noqa: BLE001 - a garbled sequence the codec cannot read is dropped
                    continue
    rs = ReedSolomon(check_size=pool.check_bytes) if pool.check_bytes else None
    data = np.zeros(pool.n_segments * pool.segment_bytes, np.uint8)
    known = np.zeros(len(data), bool)
    owner: dict[int, bytes] = {}
    conflicting = set()
    for position, seg in enumerate(segments):
        seg = list(seg)[-seg_bits:] if seg is not None and len(seg) >= seg_bits else None
        if seg is None:
            continue
        if rs is not None:
            checked = rs.remove_one(seg)
            if not checked["type"]:
                continue
            seg = checked["data"][: seg_bits - 8 * pool.check_bytes]
        idx, payload = indexer.divide(seg, pool.index_bits) if pool.index_bits else (position, seg)
        if idx >= pool.n_segments:
            continue
        chunk = _bytes(payload[: 8 * pool.segment_bytes])
        if idx in owner and owner[idx] != chunk:
            conflicting.add(idx)
        owner.setdefault(idx, chunk)
    for idx, chunk in owner.items():
        if idx in conflicting:
            continue
        lo = idx * pool.segment_bytes
        data[lo:lo + pool.segment_bytes] = np.frombuffer(chunk, np.uint8)
        known[lo:lo + pool.segment_bytes] = True
    files, pos = [], 0
    for size in pool.file_sizes:
        files.append(RecoveredFile(data[pos:pos + size].tobytes(), known[pos:pos + size].copy(), True))
        pos += size
    return files, dict(segments_recovered=len(owner) - len(conflicting), segments_conflicting=len(conflicting),
                       decode_failed=failed)


def retrieve(pool: PeerPool, coverage: float, errors: ErrorModel, *, bias_sigma: float, seed: int) -> PeerRecovery:
    """Sequence a peer pool at ``coverage`` through the bundle's simulator (oriented reads), cluster, call
    consensus, decode."""
    reads = simulate_ragged(pool.oligos, coverage, errors, bias_sigma=bias_sigma,
                            reverse_fraction=PEER_REVERSE_FRACTION, seed=seed)
    t0 = time.perf_counter()
    consensus = cluster_and_consensus(reads)
    t1 = time.perf_counter()
    files, info = decode(pool, consensus)
    t2 = time.perf_counter()
    return PeerRecovery(files, len(reads), len(consensus), info["segments_recovered"], info["segments_conflicting"],
                        info["decode_failed"], t1 - t0, t2 - t1)
