"""One method's files through the whole DNA channel: encode to oligos, sequence at a coverage, decode the reads.

:class:`Channel` gathers the channel's settings (error rates, synthesis/PCR bias, strands, backend, consensus
method). :func:`store` encodes a :class:`~repro.dna.storage.MethodPayload` into its oligo pool (the synthesis),
:func:`retrieve` sequences the pool and decodes the reads (the reading); the decoder receives the reads' sequences
only. Seeds are derived from ``(seed, method label, coverage)``, so every point of a sweep is reproducible on its
own.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field

import numpy as np

from repro.core.checks import check_choice, check_range
from repro.dna.bbmap import simulate_reads_bbmap
from repro.dna.codec import OligoFormat, Pool, encode_files
from repro.dna.consensus import CONSENSUS_METHODS, RecoveryReport
from repro.dna.decoder import RecoveredFile, decode_reads
from repro.dna.simulator import ErrorModel, SimulatedReads, check_coverage, simulate_reads
from repro.dna.storage import MethodPayload

BACKENDS = ("numpy", "bbmap")


@dataclass(frozen=True)
class Channel:
    """The DNA channel: per-base error rates, log-normal bias ``sigma``, strands, simulator and consensus."""

    errors: ErrorModel = field(default_factory=ErrorModel)
    bias_sigma: float = 0.5
    reverse_fraction: float = 0.5
    backend: str = "numpy"
    consensus: str = "spoa"

    def __post_init__(self):
        check_range("bias_sigma", self.bias_sigma, 0.0, 3.0)
        check_range("reverse_fraction", self.reverse_fraction, 0.0, 1.0)
        check_choice("read simulator backend", self.backend, BACKENDS)
        check_choice("consensus method", self.consensus, CONSENSUS_METHODS)


def point_seed(seed: int, label: str, coverage: float) -> int:
    """A 63-bit seed for one (seed, method, coverage) point."""
    ss = np.random.SeedSequence([int(seed), zlib.crc32(label.encode()), int(round(coverage * 1000))])
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


def store(payload: MethodPayload, payload_nt: int, pool_id: int | None = None) -> Pool:
    """Synthesis: the method's files as an oligo pool with ``payload_nt`` payload nucleotides per oligo (checks
    seeded by ``pool_id``: pools that may be sequenced together need different ids; ``None`` draws a random one,
    :func:`repro.dna.codec.random_pool_id`)."""
    fmt = OligoFormat.for_files([len(f) for f in payload.files], payload=payload_nt, pool_id=pool_id)
    return encode_files(payload.files, fmt)


def sequence(pool: Pool, coverage: float, channel: Channel, seed: int) -> SimulatedReads:
    """Sequencing at mean ``coverage`` with the channel's backend."""
    check_coverage(coverage)
    if channel.backend == "bbmap":
        return simulate_reads_bbmap(pool.oligos, coverage, channel.errors, bias_sigma=channel.bias_sigma, seed=seed)
    return simulate_reads(pool.oligos, coverage, channel.errors, bias_sigma=channel.bias_sigma,
                          reverse_fraction=channel.reverse_fraction, seed=seed)


@dataclass
class Retrieval:
    """What came back at one coverage: the files, the decoder's report, the read count and timings (s)."""

    files: list[RecoveredFile]
    report: RecoveryReport
    reads: int
    dropouts: int
    seconds_sequencing: float
    seconds_decoding: float

    @property
    def complete_files(self) -> int:
        return sum(f.complete for f in self.files)


def retrieve(pool: Pool, payload: MethodPayload, coverage: float, channel: Channel, seed: int) -> Retrieval:
    """Sequence the pool and decode the reads (sequences only) back into the method's files."""
    t0 = time.perf_counter()
    sim = sequence(pool, coverage, channel, point_seed(seed, payload.label, coverage))
    t1 = time.perf_counter()
    files, report = decode_reads(sim.reads, pool.fmt, len(payload.files), payload.expected_sizes(),
                                 consensus=channel.consensus)
    t2 = time.perf_counter()
    return Retrieval(files, report, len(sim.reads), sim.dropouts, t1 - t0, t2 - t1)
