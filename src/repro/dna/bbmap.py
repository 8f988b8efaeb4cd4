"""A second read simulator backend: BBMap's ``randomreads.sh``, the tool the paper used ("default Illumina model").

Facts about ``randomreads.sh`` (BBMap 39.01, Debian package ``bbmap``) that shape this driver, measured here:

- Mutation rates ``snprate``, ``insrate``, ``delrate`` are *per read*: a read gets at least one event with
  probability ``X``, two or more with ``X**2``, ... (up to ``maxsnps`` / ``maxinss`` / ``maxdels``). We convert a
  per-base rate ``p`` over ``L`` bases to ``X = pL / (1 + pL)``, which gives the same expected count ``pL``.
  Insertion and deletion lengths are set to 1. On top, ``adderrors=t`` (its default) adds substitutions drawn
  from simulated Illumina base qualities: that is the paper's "default Illumina sequencing error model".
- Reads are exactly ``length`` long. With ``length`` = oligo length a read spans the whole oligo, so an insertion
  pushes the oligo's last base out of the read and a deletion is impossible (it would need reference beyond the
  oligo's end): deletions only appear when reads are shorter than the reference.
- About half the reads are reverse-complemented. FASTQ names carry the source scaffold and strand (FASTA names do
  not); we read them only to impose our coverage model and to measure error statistics, never in the decoder.
- It writes a reference index into ``./ref`` unless given ``path=``; we always give a temporary folder.

Coverage uses the same model as :mod:`repro.dna.simulator` (log-normal abundance, multinomial reads): BBMap
draws reads uniformly over oligos, so we ask it for more reads than needed and keep, for every oligo, as many as
our model assigns to it (asking again for oligos that fell short).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from repro.core.checks import ReproError, check_range
from repro.dna.codec import write_fasta
from repro.dna.reads import Reads, read_fastq
from repro.dna.simulator import ErrorModel, SimulatedReads, draw_read_counts

DEBIAN_PATH = "/usr/share/bbmap/randomreads.sh"


class BBMapNotFound(ReproError):
    """``randomreads.sh`` is not installed."""


def find_randomreads() -> str | None:
    """Path of ``randomreads.sh``: on ``PATH``, else the Debian package's location; ``None`` when absent."""
    found = shutil.which("randomreads.sh")
    if found:
        return found
    return DEBIAN_PATH if os.access(DEBIAN_PATH, os.X_OK) else None


def bbmap_available() -> bool:
    return find_randomreads() is not None and shutil.which("java") is not None


def missing_reason() -> str:
    """Why the BBMap backend cannot run here (for skip messages)."""
    if find_randomreads() is None:
        return (f"BBMap's randomreads.sh is not on PATH nor at {DEBIAN_PATH} "
                "(install the Debian package: apt-get install bbmap)")
    if shutil.which("java") is None:
        return "BBMap's randomreads.sh needs java, which is not on PATH"
    return ""


def per_read_rate(per_base: float, length: int) -> float:
    """randomreads' per-read rate ``X`` whose expected event count ``X / (1 - X)`` equals ``per_base * length``."""
    lam = per_base * length
    return lam / (1.0 + lam)


def run_randomreads(reference: Path, out: Path, *, length: int, reads: int, seed: int, errors: ErrorModel,
                    index_dir: Path, illumina_errors: bool = True, timeout: int = 600) -> None:
    """One call of ``randomreads.sh`` writing FASTQ ``out``; raises :class:`BBMapNotFound` or ``ReproError``."""
    exe = find_randomreads()
    if exe is None or shutil.which("java") is None:
        raise BBMapNotFound(missing_reason())
    args = [exe, f"ref={reference}", f"out={out}", f"path={index_dir}", f"length={length}", f"reads={reads}",
            f"seed={seed}", "overwrite=t", "simplenames=f",
            f"snprate={per_read_rate(errors.substitution, length):.6g}", f"maxsnps={max(3, length // 10)}",
            f"insrate={per_read_rate(errors.insertion, length):.6g}", "maxinss=8", "mininslen=1", "maxinslen=1",
            f"delrate={per_read_rate(errors.deletion, length):.6g}", "maxdels=8", "mindellen=1", "maxdellen=1",
            f"adderrors={'t' if illumina_errors else 'f'}", "-Xmx1g"]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0 or not out.exists():
        raise ReproError(f"randomreads.sh failed (exit {proc.returncode}): {proc.stderr[-1500:]}")


def parse_read_names(names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Source oligo index and reverse-strand flag from randomreads' FASTQ names (references named ``o<i>``)."""
    source = np.empty(len(names), dtype=np.int64)
    reverse = np.empty(len(names), dtype=bool)
    for i, name in enumerate(names):
        fields = name.split()[0].split("_")
        reverse[i] = fields[5] == "-"
        source[i] = int(fields[-1][1:])
    return source, reverse


def simulate_reads_bbmap(oligos: np.ndarray, coverage: float, errors: ErrorModel | None = None, *,
                         bias_sigma: float = 0.5, seed: int = 0, illumina_errors: bool = True,
                         max_rounds: int = 10, workdir: str | Path | None = None) -> SimulatedReads:
    """Sequence ``(n, L)`` oligos with BBMap under our coverage model; reads shuffled, ground truth beside them.

    ``errors`` defaults to ``ErrorModel()``.
    """
    errors = ErrorModel() if errors is None else errors
    check_range("max_rounds", max_rounds, 1, 50, integer=True)
    if not bbmap_available():
        raise BBMapNotFound(missing_reason())
    oligos = np.atleast_2d(np.asarray(oligos, dtype=np.uint8))
    n, length = oligos.shape
    rng = np.random.default_rng(seed)
    counts = draw_read_counts(n, coverage, bias_sigma, rng)
    want = counts.copy()
    java_seed = int(rng.integers(1, 2**40))  # randomreads parses its seed as a Java long
    kept_reads, kept_src, kept_rev = [], [], []
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        tmp = Path(tmp)
        for round_ in range(max_rounds):
            todo = np.flatnonzero(want > 0)
            if len(todo) == 0:
                break
            ref = write_fasta(tmp / f"ref{round_}.fa", oligos[todo], [f"o{i}" for i in todo])
            # uniform draws: ask for enough that most oligos get their share; the rest come in the next round
            n_reads = int(np.ceil(1.3 * max(want[todo].sum(), np.percentile(want[todo], 90) * len(todo)))) + 20
            out = tmp / f"reads{round_}.fq"
            run_randomreads(ref, out, length=length, reads=n_reads, seed=java_seed + round_, errors=errors,
                            index_dir=tmp / f"index{round_}", illumina_errors=illumina_errors)
            reads, report, names = read_fastq(out, with_names=True)
            if report.malformed:
                raise ReproError(f"randomreads.sh wrote {report.malformed} malformed FASTQ records: {report.problems}")
            src, rev = parse_read_names(names)
            # keep the first want[i] reads of every oligo i
            order = np.argsort(src, kind="stable")
            rank = np.empty(len(src), dtype=np.int64)
            starts = np.searchsorted(src[order], src[order], side="left")
            rank[order] = np.arange(len(src)) - starts
            keep = rank < want[src]
            kept_reads.append(reads.take(keep))
            kept_src.append(src[keep])
            kept_rev.append(rev[keep])
            want -= np.bincount(src[keep], minlength=n)
        if (want > 0).any():
            raise ReproError(f"randomreads.sh did not cover {int((want > 0).sum())} oligos after {max_rounds} rounds")
    reads = Reads.concat(kept_reads)
    source = np.concatenate(kept_src) if kept_src else np.zeros(0, np.int64)
    reverse = np.concatenate(kept_rev) if kept_rev else np.zeros(0, bool)
    perm = rng.permutation(len(source))
    return SimulatedReads(reads.take(perm), source[perm], reverse[perm], counts, backend="bbmap")


__all__ = ["BBMapNotFound", "find_randomreads", "bbmap_available", "missing_reason", "per_read_rate",
           "run_randomreads", "parse_read_names", "simulate_reads_bbmap"]
