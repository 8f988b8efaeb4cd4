"""Measured error statistics of simulated reads against their source oligos (simulator side only).

Each read is put in the oligo's orientation (reverse-complemented when it came from the reverse strand) and
aligned globally to its source oligo with ``edlib`` (edit distance, extended CIGAR). Counts per reference base:
substitutions (``X``), insertions (``I``: bases in the read absent from the oligo), deletions (``D``) inside the
read, and *end truncation* (a ``D`` run at the very end: reference bases past the read's end, which is how a
fixed-length read looks after an insertion). The decoder never sees any of this.
"""

from __future__ import annotations

import re

import numpy as np

from repro.dna.codec import reverse_complement, to_string
from repro.dna.simulator import SimulatedReads

_CIGAR = re.compile(r"(\d+)([=XIDM])")


def alignment_counts(read: str, ref: str) -> dict[str, int]:
    """Counts of matches, substitutions, insertions, deletions and end truncation of ``read`` against ``ref``."""
    import edlib

    aln = edlib.align(read, ref, mode="NW", task="path")
    ops = [(int(n), op) for n, op in _CIGAR.findall(aln["cigar"] or "")]
    out = {"match": 0, "substitution": 0, "insertion": 0, "deletion": 0, "truncation": 0}
    if ops and ops[-1][1] == "D":
        out["truncation"] = ops.pop()[0]
    names = {"=": "match", "M": "match", "X": "substitution", "I": "insertion", "D": "deletion"}
    for n, op in ops:
        out[names[op]] += n
    return out


def error_profile(sim: SimulatedReads, oligos: np.ndarray, *, max_reads: int = 5000, seed: int = 0) -> dict:
    """Per-base error rates of (a seeded sample of) ``sim``'s reads, plus read-level statistics.

    Returns ``reads`` (aligned), per-base ``substitution``, ``insertion``, ``deletion``, ``truncation`` rates
    (events / oligo bases), ``error_free_fraction``, ``reverse_fraction``, ``mean_length`` and
    ``length_minus_oligo`` (a dict: length difference -> fraction of reads).
    """
    n = len(sim.reads)
    idx = np.arange(n)
    if n > max_reads:
        idx = np.sort(np.random.default_rng(seed).choice(n, max_reads, replace=False))
    totals = {"match": 0, "substitution": 0, "insertion": 0, "deletion": 0, "truncation": 0}
    ref_bases = error_free = 0
    diffs = []
    for i in idx:
        read = sim.reads[i]
        if sim.reverse[i]:
            read = reverse_complement(read)
        ref = oligos[sim.source[i]]
        counts = alignment_counts(to_string(read), to_string(ref))
        for key, value in counts.items():
            totals[key] += value
        ref_bases += len(ref)
        error_free += counts["match"] == len(ref) and len(read) == len(ref)
        diffs.append(len(read) - len(ref))
    m = max(len(idx), 1)
    values, freq = np.unique(np.array(diffs, dtype=np.int64), return_counts=True)
    out = {"reads": int(len(idx)), "backend": sim.backend}
    for key in ("substitution", "insertion", "deletion", "truncation"):
        out[key] = totals[key] / max(ref_bases, 1)
    out.update(error_free_fraction=error_free / m, reverse_fraction=float(sim.reverse[idx].mean()) if len(idx) else 0.0,
               mean_length=float(np.mean([len(sim.reads[i]) for i in idx])) if len(idx) else 0.0,
               length_minus_oligo={int(v): float(f / m) for v, f in zip(values, freq)})
    return out
