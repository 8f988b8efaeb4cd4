"""Throughput of the DNA pipeline's stages on random files (``benchmarks/dna_throughput.py`` and notebook 05).

Stages: encoding files to oligos (bytes/s), the codec's own error-free decoding (bytes/s), simulating reads
(reads/s, per backend), and recovering files from reads: orientation, grouping, consensus and assembly (reads/s).
Random bytes are the worst case for nothing and the typical case for the compressed payloads stored here.
"""

from __future__ import annotations

import time

import numpy as np

from repro.dna.bbmap import bbmap_available, simulate_reads_bbmap
from repro.dna.codec import OligoFormat, decode_pool_exact, encode_files
from repro.dna.decoder import decode_reads
from repro.dna.simulator import ErrorModel, simulate_reads


def random_files(n_files: int, file_bytes: int, seed: int = 0) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, file_bytes, dtype=np.uint8).tobytes() for _ in range(n_files)]


def _timed(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` and its wall time in seconds."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def throughput(n_files: int = 400, file_bytes: int = 500, coverages=(3, 10, 30), payload_nt: int = 150,
               errors: ErrorModel | None = None, bias_sigma: float = 0.5, consensus: str = "spoa",
               bbmap: bool = False, seed: int = 0) -> list[dict]:
    """One row per stage (and coverage): ``stage``, ``items``, ``unit``, ``seconds``, ``per_second``.

    ``errors`` defaults to ``ErrorModel()``.
    """
    errors = ErrorModel() if errors is None else errors
    files = random_files(n_files, file_bytes, seed)
    total = n_files * file_bytes
    fmt = OligoFormat.for_files([file_bytes] * n_files, payload=payload_nt, pool_id=seed)
    pool, t_enc = _timed(encode_files, files, fmt)
    back, t_dec = _timed(decode_pool_exact, pool)
    assert back == files, "codec round trip failed"
    base = {"files": n_files, "file_bytes": file_bytes, "oligos": pool.n_oligos, "oligo_length": fmt.length}
    rows = [{**base, "stage": "encode files to oligos", "coverage": None, "items": total, "unit": "bytes",
             "seconds": t_enc, "per_second": total / t_enc},
            {**base, "stage": "decode error-free oligos", "coverage": None, "items": total, "unit": "bytes",
             "seconds": t_dec, "per_second": total / t_dec}]
    for cov in coverages:
        sim, t_sim = _timed(simulate_reads, pool.oligos, cov, errors, bias_sigma=bias_sigma, seed=seed)
        (out, report), t_rec = _timed(decode_reads, sim.reads, fmt, n_files, consensus=consensus)
        n = len(sim.reads)
        complete = sum(f.complete and f.data == g for f, g in zip(out, files))
        rows.append({**base, "stage": "simulate reads (numpy)", "coverage": cov, "items": n, "unit": "reads",
                     "seconds": t_sim, "per_second": n / t_sim})
        rows.append({**base, "stage": f"cluster, consensus and decode ({consensus})", "coverage": cov, "items": n,
                     "unit": "reads", "seconds": t_rec, "per_second": n / t_rec, "complete_files": complete,
                     "oligos_recovered": report.oligos_recovered})
        if bbmap and bbmap_available():
            simb, t_bb = _timed(simulate_reads_bbmap, pool.oligos, cov, errors, bias_sigma=bias_sigma, seed=seed)
            rows.append({**base, "stage": "simulate reads (BBMap randomreads.sh)", "coverage": cov,
                         "items": len(simb.reads), "unit": "reads", "seconds": t_bb,
                         "per_second": len(simb.reads) / t_bb})
    return rows
