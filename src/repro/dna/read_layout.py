"""Reads against the pool's layout: where the index sits in them, and trimming what surrounds it.

The decoder expects reads of the oligo as synthesized: the index at the first base (or, for a read of the other
strand, at the first base of its reverse complement) and ``L`` bases in all. Real read sets can differ by a
constant: an adapter left on every read, primers on both ends, one extra base that a pipeline appended. Such reads
used to pass the length filter and then fail every check, slowly and without a word (issue 25, item 3).

:func:`diagnose` looks at an evenly spaced sample of the reads: the read lengths, and for every offset
``0 .. max_trim`` the fraction of reads whose index passes its check there (as read, and in the reverse
complement). Four outcomes:

- **as is**: the index sits at offset 0 and the reads have the oligo's length, a trim would not help, or there are
  fewer than ``MIN_READS`` reads (too few to tell a layout from chance): the
  reads are decoded untouched, so an ordinary read set decodes exactly as before;
- **trim**: another offset gives valid indexes to more reads (``front`` as read, ``back`` in the reverse
  complement), or the common read length is not ``L``: :func:`trim` cuts the surplus off every read on the side
  its index says (reads whose index passes nowhere are cut as the forward strand), and the report says what was seen
  ("93 % of reads are 1 nt longer than the layout's 184 nt; the index is at offset 0 as read and 1 in the
  reverse complement: adapter?");
- **short**: most reads are shorter than ``L`` with the index in place (reads trimmed by a pipeline): nothing can
  restore the bases they lack; they are decoded as they are, and the report says what was seen;
- **no fit**: hardly any read has a valid index at any offset: the reads are probably of another pool or
  layout; the decoder uses the few reads that do fit and skips the (costly and here hopeless) search among the
  others, and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from repro.core.checks import check_range
from repro.dna.codec import OligoFormat, parse_headers, reverse_complement
from repro.dna.reads import Reads

MAX_TRIM = 16  # offsets searched for the index (an adapter or primer of up to this many nt)
SAMPLE_READS = 20_000  # reads looked at by the diagnosis (evenly spaced over the read set)
MIN_FIT = 0.05  # fewer sampled reads than this with a valid index at any offset: the reads do not fit
MIN_GAIN = 0.05  # a trim is used when it gives a valid index to at least this many more of the sampled reads
MIN_MODAL = 0.5  # a common read length other than L means a trim when at least this fraction of reads has it
MIN_READS = 500  # smaller read sets are decoded as they are: too few reads to tell a layout from chance


@dataclass(frozen=True)
class LayoutFit:
    """What the sample showed: the reads' modal length and its share, the share with a valid index at offset 0
    (either strand), the best offsets ``front`` (as read) and ``back`` (in the reverse complement), the share valid
    at those, the outcome (``as is``, ``trim``, ``no fit``) and one line saying so."""

    sampled: int
    oligo_length: int
    modal_length: int
    modal_share: float
    valid_at_zero: float
    front: int
    back: int
    valid_trimmed: float
    action: str
    message: str


def index_valid_at(reads: Reads, index: np.ndarray, fmt: OligoFormat, offset: int, reverse: bool,
                   max_file: int) -> np.ndarray:
    """Whether the index of each read at ``index`` passes its check at ``offset`` bases from the read's start
    (``reverse``: from the start of its reverse complement) and names a file below ``max_file``."""
    H = fmt.header
    if reverse:
        window = reverse_complement(reads.rows(index, offset + H, from_end=True)[:, :H])
    else:
        window = reads.rows(index, offset + H)[:, offset:]
    ok, file_id, _ = parse_headers(window, fmt)
    return ok & (file_id < max_file)


def diagnose(reads: Reads, fmt: OligoFormat, *, max_file: int, max_trim: int = MAX_TRIM,
             sample: int = SAMPLE_READS) -> LayoutFit:
    """Measure the read lengths and where the index sits on an evenly spaced sample (see the module docstring)."""
    check_range("max_trim", max_trim, 0, 64, integer=True)
    check_range("sample", sample, 1, 10**7, integer=True)
    L = fmt.length
    n = len(reads)
    if n == 0:
        return LayoutFit(0, L, 0, 0.0, 0.0, 0, 0, 0.0, "as is", "the read set is empty")
    idx = np.unique(np.linspace(0, n - 1, min(n, sample)).astype(np.int64))
    lengths = reads.lengths[idx]
    values, counts = np.unique(lengths, return_counts=True)
    modal, modal_share = int(values[counts.argmax()]), float(counts.max() / len(idx))
    at_zero = float((index_valid_at(reads, idx, fmt, 0, False, max_file)
                     | index_valid_at(reads, idx, fmt, 0, True, max_file)).mean())
    if len(idx) < MIN_READS or (modal == L and modal_share >= MIN_MODAL and at_zero >= MIN_MODAL):
        # the usual case, or too few reads to judge: no search
        return LayoutFit(len(idx), L, modal, modal_share, at_zero, 0, 0, at_zero, "as is",
                         f"the index is at offset 0 for {100 * at_zero:.0f} % of {len(idx)} sampled reads; modal "
                         f"read length {modal} nt")
    fwd = np.stack([index_valid_at(reads, idx, fmt, s, False, max_file) for s in range(max_trim + 1)])
    rev = np.stack([index_valid_at(reads, idx, fmt, s, True, max_file) for s in range(max_trim + 1)])
    # a strand that hardly occurs keeps offset 0: its best offset would be noise (1 random index in 79 passes)
    front = int(fwd.mean(1).argmax()) if fwd.mean(1).max() >= MIN_FIT else 0
    back = int(rev.mean(1).argmax()) if rev.mean(1).max() >= MIN_FIT else 0
    trimmed = float((fwd[front] | rev[back]).mean())
    pct = f"{len(idx)} sampled reads"
    where = f"the index is at offset {front} as read and {back} in the reverse complement"
    if trimmed < MIN_FIT:
        action = "no fit"
        message = (f"{100 * (1 - trimmed):.0f} % of {pct} carry no valid index of this pool at any offset "
                   f"0-{max_trim} on either strand (modal read length {modal} nt, {100 * modal_share:.0f} % of "
                   f"reads, against the layout's {L} nt): reads of another pool, layout or pool id? Only reads "
                   f"with a valid index were used")
    elif modal < L and modal_share >= MIN_MODAL and (front, back) == (0, 0):
        action = "short"
        message = (f"{100 * modal_share:.0f} % of reads are {L - modal} nt shorter than the layout's {L} nt "
                   f"({where}): trimmed or truncated reads? Bases a read lacks cannot be restored from it; an oligo "
                   f"is recovered only where other reads cover its ends")
    elif ((front, back) != (0, 0) and trimmed >= at_zero + MIN_GAIN) or (modal != L and modal_share >= MIN_MODAL):
        action = "trim"
        diff = modal - L
        shape = (f"{100 * modal_share:.0f} % of reads are {abs(diff)} nt {'longer' if diff > 0 else 'shorter'} "
                 f"than the layout's {L} nt" if diff else f"the modal read length is the layout's {L} nt")
        message = (f"{shape}; {where} (valid indexes: {100 * trimmed:.0f} % of {pct}, {100 * at_zero:.0f} % at "
                   f"offset 0): adapter or primers? The surplus was cut off every read")
    else:
        action = "as is"
        message = f"{where} for {100 * trimmed:.0f} % of {pct}; modal read length {modal} nt"
    return LayoutFit(len(idx), L, modal, modal_share, at_zero, front, back, trimmed, action, message)


def trim(reads: Reads, fmt: OligoFormat, fit: LayoutFit, *, max_file: int) -> tuple[Reads, int]:
    """Cut what surrounds the oligo off every read: ``excess = modal length - L`` bases in all, ``front`` of them
    at the start where the index is valid there as read, else ``back`` at the end where it is valid there in the
    reverse complement, else ``front`` at the start. The rest of a read is kept whole, so a read with an
    insertion or a deletion keeps its length difference for the consensus. Returns the trimmed reads and how many
    changed."""
    everyone = np.arange(len(reads))
    excess = max(fit.modal_length - fmt.length, 0)
    fwd = index_valid_at(reads, everyone, fmt, fit.front, False, max_file)
    rev = ~fwd & index_valid_at(reads, everyone, fmt, fit.back, True, max_file)
    lengths = reads.lengths
    start = np.where(rev, max(excess - fit.back, 0), fit.front)
    stop = np.where(rev, lengths - fit.back, lengths - max(excess - fit.front, 0))
    return reads.windows(start, stop), int(((start > 0) | (stop < lengths)).sum())
