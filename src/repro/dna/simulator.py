"""A seeded sequencing simulator: synthesis/PCR bias, dropouts, both strands, per-base substitutions and indels.

Coverage. Each oligo gets an abundance ``w_i ~ LogNormal(-sigma^2 / 2, sigma)`` (mean 1; synthesis and PCR bias).
A sequencing run of mean coverage ``c`` draws ``round(c * n)`` reads, each from oligo ``i`` with probability
``w_i / sum(w)`` (multinomial), so an oligo's read count is close to ``Poisson(c w_i)`` and low-abundance oligos
drop out at low ``c``. Each read comes from the reverse strand with probability ``reverse_fraction`` (it is then
the reverse complement of the oligo, errors included).

Errors (:class:`ErrorModel`), per base of the strand being read: the base is deleted with probability ``deletion``,
substituted by one of the three other bases with ``substitution``, or followed by a random inserted base with
``insertion`` (at most one event per template base). Reads are the full molecule, so their length is the oligo's
plus insertions minus deletions. Defaults are Illumina-like with array-synthesis deletions (SPEC section 5).

The returned :class:`SimulatedReads` keeps the ground truth (source oligo, strand) *beside* the reads, for
measuring error statistics only; the decoder is given ``.reads`` alone, in a shuffled order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from repro.core.checks import check_range
from repro.core.runtime import progress
from repro.dna.codec import reverse_complement
from repro.dna.reads import Reads

READ_CHUNK = 100_000  # reads built per vectorized block (memory about 40 bytes per base of a block)


@dataclass(frozen=True)
class ErrorModel:
    """Per-base error probabilities of the simulated sequencing (and synthesis) channel."""

    substitution: float = 2e-3
    insertion: float = 5e-4
    deletion: float = 1e-3

    def __post_init__(self):
        for name in ("substitution", "insertion", "deletion"):
            check_range(f"{name} rate", getattr(self, name), 0.0, 0.25)

    @property
    def total(self) -> float:
        return self.substitution + self.insertion + self.deletion


@dataclass
class SimulatedReads:
    """Reads plus the simulator's ground truth (never given to the decoder)."""

    reads: Reads
    source: np.ndarray  # (n_reads,) oligo index of each read
    reverse: np.ndarray  # (n_reads,) True for reads of the reverse strand
    counts: np.ndarray  # (n_oligos,) reads drawn per oligo
    backend: str = "numpy"

    @property
    def dropouts(self) -> int:
        return int((self.counts == 0).sum())


def check_coverage(coverage: float) -> float:
    check_range("coverage", coverage, 1e-3, 1e4)
    return float(coverage)


def draw_read_counts(n_oligos: int, coverage: float, bias_sigma: float, rng: np.random.Generator) -> np.ndarray:
    """``(n_oligos,)`` reads per oligo: multinomial over log-normal abundances, ``round(coverage * n)`` in all."""
    check_coverage(coverage)
    check_range("bias_sigma", bias_sigma, 0.0, 3.0)
    if n_oligos == 0:
        return np.zeros(0, dtype=np.int64)
    weights = rng.lognormal(-bias_sigma**2 / 2, bias_sigma, n_oligos) if bias_sigma > 0 else np.ones(n_oligos)
    return rng.multinomial(int(round(coverage * n_oligos)), weights / weights.sum()).astype(np.int64)


def apply_errors(templates: np.ndarray, errors: ErrorModel, rng: np.random.Generator) -> Reads:
    """``(m, L)`` template base codes -> ``m`` reads with sparse per-base substitutions, insertions, deletions."""
    m, length = templates.shape
    size = m * length
    n_events = int(rng.binomial(size, min(errors.total, 1.0))) if size else 0
    pos = np.unique(rng.integers(0, size, n_events)) if n_events else np.zeros(0, dtype=np.int64)
    p = np.array([errors.substitution, errors.deletion, errors.insertion])
    kind = rng.choice(3, size=len(pos), p=p / p.sum()) if len(pos) and p.sum() > 0 else np.zeros(0, dtype=np.int64)
    flat = templates.reshape(-1)
    repeat = np.ones(size, dtype=np.int8)
    repeat[pos[kind == 1]] = 0
    repeat[pos[kind == 2]] = 2
    out = np.repeat(flat, repeat)
    # output index of each event's template base: its position plus net insertions before it
    net = np.cumsum(np.where(kind == 2, 1, np.where(kind == 1, -1, 0)))
    before = np.concatenate([[0], net[:-1]]) if len(net) else net
    out_pos = pos + before
    subs = kind == 0
    out[out_pos[subs]] = (flat[pos[subs]] + rng.integers(1, 4, int(subs.sum()))) % 4
    ins = kind == 2
    out[out_pos[ins] + 1] = rng.integers(0, 4, int(ins.sum()))
    row = pos // length
    lengths = (np.full(m, length, dtype=np.int64) + np.bincount(row[ins], minlength=m)
               - np.bincount(row[kind == 1], minlength=m))
    return Reads(out, np.concatenate([[0], np.cumsum(lengths)]))


def simulate_reads(oligos: np.ndarray, coverage: float, errors: ErrorModel = ErrorModel(), *, bias_sigma: float = 0.5,
                   reverse_fraction: float = 0.5, seed: int = 0, show_progress: bool = False) -> SimulatedReads:
    """Sequence ``(n, L)`` oligos at mean ``coverage``; seeded, shuffled reads with their ground truth."""
    check_range("reverse_fraction", reverse_fraction, 0.0, 1.0)
    oligos = np.atleast_2d(np.asarray(oligos, dtype=np.uint8))
    rng = np.random.default_rng(seed)
    counts = draw_read_counts(len(oligos), coverage, bias_sigma, rng)
    source = np.repeat(np.arange(len(oligos)), counts)
    source = source[rng.permutation(len(source))]
    reverse = rng.random(len(source)) < reverse_fraction
    rc = reverse_complement(oligos)
    parts = []
    blocks = range(0, len(source), READ_CHUNK)
    for start in (progress(blocks, desc=f"reads at {coverage}x", leave=False) if show_progress else blocks):
        src, rev = source[start: start + READ_CHUNK], reverse[start: start + READ_CHUNK]
        templates = np.where(rev[:, None], rc[src], oligos[src])
        parts.append(apply_errors(templates, errors, rng))
    return SimulatedReads(Reads.concat(parts), source, reverse, counts)
