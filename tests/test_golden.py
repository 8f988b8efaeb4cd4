"""Golden tests: fixed inputs, outputs compared with the expected values committed in ``tests/expected/``.

Each test computes a JSON document from inputs that never change and compares it with
``tests/expected/<name>.json``:

- ``ldpc``: the LDPC codes the bundle builds (the VAE+LDPC baseline of notebook 02 and its timing rows use
  ``LDPCCode(n, rate=0.5, seed=0)`` at n = 50, 100, 200, 500; a few other seeds, rates and column weights
  besides): SHA-256 of ``H`` and ``G``, the draw that gave ``H``, the girth, and the encode / BP-decode results of
  fixed messages through a fixed BSC noise pattern.
- ``dna_codec``: the oligos (as strings) that the DNA codec writes for fixed files, in two formats.
- ``dna_reads``: the seed-0 simulated reads of a fixed oligo set (SHA-256 of every array, the first reads
  spelled out).
- ``dna_recovery``: what the read decoder recovers from a fixed read set built to exercise every stage of
  ``repro.dna.consensus.recover_oligos`` (exact reads, header groups, rescued orphans, an orphan cluster, a
  rejected cluster of foreign reads), with both consensus methods: the recovered oligos, the report's counts
  and the bytes of every file.
- ``training_necst``, ``training_abf``, ``training_iabf``: one epoch of NECST, ABF and IABF on 300 MNIST images of
  the committed sample ``data/sample`` (the history row and sums of the trained weights). Training on this
  machine is bit-for-bit deterministic with one thread; the comparison allows a relative difference of 1e-4, so
  that another CPU's float kernels pass while any change of the algorithm or of its random draws fails.

Strings, integers and hashes must match exactly; floats within the relative tolerance each test names.

Regenerating: after a change that is *meant* to change one of these outputs, run

    REPRO_REGENERATE_GOLDEN=1 python -m pytest tests/test_golden.py [-k NAME]

which rewrites the expected files of the selected tests instead of comparing (each test owns one file), then
review and commit the diff of ``tests/expected/`` together with the change that caused it. Inputs are derived
from SHAKE-256 of fixed labels (not from numpy's generators), so they stay the same whatever the library
versions; the tests read only ``data/sample`` (``tests/conftest.py`` points ``REPRO_DATA_DIR`` there).
"""

from __future__ import annotations

import hashlib
import json
import math
import os

import numpy as np
import pytest
import torch

from .conftest import ROOT

EXPECTED = ROOT / "tests" / "expected"
REGENERATE = os.environ.get("REPRO_REGENERATE_GOLDEN", "") == "1"


# -- helpers ----------------------------------------------------------------------------------------------------

def stable_bytes(label: str, n: int) -> bytes:
    """``n`` pseudo-random bytes fixed by ``label`` (SHAKE-256), independent of numpy and its version."""
    return hashlib.shake_256(label.encode()).digest(n)


def stable_bits(label: str, shape: tuple[int, ...]) -> np.ndarray:
    """A 0/1 uint8 array of ``shape`` fixed by ``label``."""
    size = math.prod(shape)
    raw = np.frombuffer(stable_bytes(label, -(-size // 8)), dtype=np.uint8)
    return np.unpackbits(raw)[:size].reshape(shape)


def sha256(array) -> str:
    """SHA-256 of an array's C-order bytes, prefixed by its dtype and shape (so a reshape changes the hash)."""
    a = np.ascontiguousarray(np.asarray(array))
    head = f"{a.dtype.str}{a.shape}".encode()
    return hashlib.sha256(head + a.tobytes()).hexdigest()


def assert_matches(actual, expected, rtol: float, where: str = "") -> None:
    """Exact equality of the JSON structure, strings, integers and booleans; floats within ``rtol`` (NaN = NaN)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict) and sorted(actual) == sorted(expected), \
            f"{where or 'top level'}: keys {sorted(actual) if isinstance(actual, dict) else actual!r} != " \
            f"{sorted(expected)}"
        for key in expected:
            assert_matches(actual[key], expected[key], rtol, f"{where}.{key}" if where else key)
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), \
            f"{where}: length {len(actual) if isinstance(actual, list) else actual!r} != {len(expected)}"
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_matches(a, e, rtol, f"{where}[{i}]")
    elif isinstance(expected, float) or isinstance(actual, float):
        a, e = float(actual), float(expected)
        assert (math.isnan(a) and math.isnan(e)) or a == pytest.approx(e, rel=rtol, abs=0.0), \
            f"{where}: {a!r} != expected {e!r} (relative tolerance {rtol})"
    else:
        assert actual == expected, f"{where}: {actual!r} != expected {expected!r}"


def golden(name: str, actual: dict, rtol: float = 0.0) -> None:
    """Compare ``actual`` with ``tests/expected/<name>.json``, or rewrite that file under the switch."""
    path = EXPECTED / f"{name}.json"
    actual = json.loads(json.dumps(actual))  # the same types as a round trip through the file (tuples -> lists)
    if REGENERATE:
        EXPECTED.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n")
        return
    if not path.exists():
        pytest.fail(f"{path} is missing; create it with REPRO_REGENERATE_GOLDEN=1 python -m pytest "
                    f"tests/test_golden.py -k {name}")
    assert_matches(actual, json.loads(path.read_text()), rtol)


# -- LDPC codes -------------------------------------------------------------------------------------------------

# (n, rate, seed, column_weight): notebook 02's codes (seed 0 at 50, 100, 200, 500 bits), the seeds of
# tests/test_ldpc_code.py, a rate-1/3 and a weight-5 code, and n = 20, where no draw is free of 4-cycles
LDPC_CODES = [(50, 0.5, 0, 3), (100, 0.5, 0, 3), (200, 0.5, 0, 3), (500, 0.5, 0, 3), (100, 0.5, 3, 3),
              (100, 0.5, 4, 3), (90, 1 / 3, 1, 3), (100, 0.5, 2, 5), (20, 0.5, 0, 3)]
LDPC_WORDS, LDPC_EPS = 64, 0.05


def ldpc_summary(n: int, rate: float, seed: int, column_weight: int) -> dict:
    from repro.coding.ldpc import LDPCCode

    code = LDPCCode(n, rate=rate, seed=seed, column_weight=column_weight)
    label = f"golden-ldpc-{n}-{rate:.6f}-{seed}-{column_weight}"
    msg = stable_bits(f"{label}-msg", (LDPC_WORDS, code.k))
    words = code.encode(msg)
    noise = np.frombuffer(stable_bytes(f"{label}-noise", LDPC_WORDS * code.n), dtype=np.uint8)
    flips = (noise.reshape(LDPC_WORDS, code.n) < round(LDPC_EPS * 256)).astype(np.uint8)
    info = code.decode_with_info(words ^ flips, LDPC_EPS, max_iter=50)
    return {"n": code.n, "k": code.k, "m": code.m, "attempts": code.attempts, "girth": code.girth,
            "H_sha256": sha256(code.H.toarray().astype(np.uint8)), "G_sha256": sha256(code.G.astype(np.uint8)),
            "parity_map_sha256": sha256(code.parity_map.astype(np.uint8)),
            "codewords_sha256": sha256(words), "flipped_bits": int(flips.sum()),
            "decoded_msg_sha256": sha256(info.msg), "decoded_codeword_sha256": sha256(info.codeword),
            "converged": int(info.converged.sum()), "bp_iterations": int(info.iterations.sum()),
            "message_bit_errors": int((info.msg != msg).sum())}


def test_ldpc_codes_match_the_committed_ones():
    golden("ldpc", {f"n={n},rate={rate:.6f},seed={seed},column_weight={w}": ldpc_summary(n, rate, seed, w)
                    for n, rate, seed, w in LDPC_CODES})


# -- DNA: codec, simulator, decoder ------------------------------------------------------------------------------

def dna_files() -> list[bytes]:
    """Five fixed files: pseudo-random bytes, every byte value, text, an empty file and a one-byte file."""
    text = (b"Golden test of the DNA codec: a fixed text, encoded with the ternary Huffman code into indexed and "
            b"checked oligos. ") * 3
    return [stable_bytes("golden-dna-file-0", 700), bytes(range(256)), text, b"", b"x"]


def dna_formats():
    from repro.dna import codec

    files = dna_files()
    return {"for_files_payload150": codec.OligoFormat.for_files([len(f) for f in files], payload=150, pool_id=0,
                                                               version=2),
            "default_payload100_pool5": codec.OligoFormat(payload=100, pool_id=5, version=2),
            # format version 3 (version 2's check, each file behind its length and CRC-32)
            "for_files_payload150_pool7_v3": codec.OligoFormat.for_files([len(f) for f in files], payload=150,
                                                                         pool_id=7, version=3),
            # format version 1 (the weighted 12-trit check): its oligos are the ones committed before version 2
            "default_payload100_pool5_v1": codec.OligoFormat(payload=100, pool_id=5, check_trits=12, version=1)}


def test_dna_codec_oligos_match_the_committed_ones():
    from repro.dna import codec

    out = {}
    for name, fmt in dna_formats().items():
        pool = codec.encode_files(dna_files(), fmt)
        assert codec.decode_pool_exact(pool) == dna_files()
        out[name] = {"format": [fmt.payload, fmt.file_trits, fmt.offset_trits, fmt.header_check_trits,
                                fmt.check_trits, fmt.pool_id, fmt.version],
                     "oligos": [codec.to_string(o) for o in pool.oligos], "oligos_sha256": sha256(pool.oligos),
                     "file_id": pool.file_id.tolist(), "offset": pool.offset.tolist(),
                     "n_bytes": pool.n_bytes.tolist()}
    golden("dna_codec", out)


def golden_pool():
    from repro.dna import codec

    return codec.encode_files(dna_files(), dna_formats()["for_files_payload150"])


def reads_summary(sim, first: int = 3) -> dict:
    from repro.dna import codec

    return {"reads": len(sim.reads), "flat_sha256": sha256(sim.reads.flat), "offsets_sha256": sha256(sim.reads.offsets),
            "source_sha256": sha256(sim.source), "reverse_sha256": sha256(sim.reverse), "counts": sim.counts.tolist(),
            "first_reads": [codec.to_string(sim.reads[i]) for i in range(min(first, len(sim.reads)))]}


def test_dna_simulated_reads_match_the_committed_ones():
    from repro.dna.simulator import ErrorModel, simulate_reads

    oligos = golden_pool().oligos
    golden("dna_reads", {
        "default_errors_coverage5_seed0": reads_summary(simulate_reads(oligos, 5, seed=0)),
        "noisy_coverage8_seed0": reads_summary(simulate_reads(oligos, 8, ErrorModel(0.01, 0.003, 0.004),
                                                              bias_sigma=0.8, seed=0)),
    })


def _mutate(seq: np.ndarray, kind: str, pos: int) -> np.ndarray:
    if kind == "sub":
        out = seq.copy()
        out[pos] = (out[pos] + 1) % 4
        return out
    if kind == "del":
        return np.delete(seq, pos)
    return np.insert(seq, pos, (seq[pos] + 2) % 4)


def recovery_reads():
    """Noisy reads of every oligo but one (seed 0), three reads of that one with a damaged index (they can only
    form an orphan cluster), and 12 foreign reads (4 copies each of 3 random sequences: a cluster to reject)."""
    from repro.dna import codec
    from repro.dna.reads import Reads
    from repro.dna.simulator import ErrorModel, simulate_reads

    pool = golden_pool()
    lost = 3
    keep = np.delete(np.arange(pool.n_oligos), lost)
    sim = simulate_reads(pool.oligos[keep], 8, ErrorModel(0.01, 0.003, 0.004), bias_sigma=0.8, seed=0)
    oligo = pool.oligos[lost]
    damaged = [_mutate(oligo, "sub", 3), codec.reverse_complement(_mutate(oligo, "del", 8)),
               _mutate(oligo, "sub", pool.fmt.header - 2)]
    foreign = [np.frombuffer(stable_bytes(f"golden-foreign-{i}", pool.fmt.length), np.uint8) % 4 for i in range(3)]
    strings = sim.reads.strings() + [codec.to_string(s) for s in damaged] + \
        [codec.to_string(f) for f in foreign for _ in range(4)]
    return pool, Reads.from_strings(strings)


def test_dna_recovered_oligos_and_bytes_match_the_committed_ones():
    from repro.dna.decoder import decode_reads

    pool, reads = recovery_reads()
    files = dna_files()
    out = {}
    for consensus in ("spoa", "majority"):
        from repro.dna.consensus import recover_oligos

        rec, report = recover_oligos(reads, pool.fmt, n_files=len(files), consensus=consensus)
        decoded, _ = decode_reads(reads, pool.fmt, len(files), consensus=consensus)
        out[consensus] = {
            "recovered": {"file_id": rec.file_id.tolist(), "offset": rec.offset.tolist(), "how": rec.how.tolist(),
                          "payload_sha256": sha256(rec.payload)},
            "report": report.summary(), "problems": report.problems,
            "files": [{"sha256": hashlib.sha256(f.data).hexdigest(), "bytes": len(f.data),
                       "known": int(f.known.sum()), "length_known": f.length_known,
                       "equals_original": f.data == original} for f, original in zip(decoded, files, strict=True)],
        }
    golden("dna_recovery", out)


def test_the_recovery_read_set_exercises_every_stage():
    """The golden read set is only a useful check of ``recover_oligos`` if every one of its stages has work."""
    from repro.dna.consensus import ORPHAN_CLUSTER, recover_oligos

    pool, reads = recovery_reads()
    rec, report = recover_oligos(reads, pool.fmt, n_files=len(dna_files()))
    assert report.exact_reads > 0 and report.oligos_exact > 0
    assert report.oligos_consensus > 0 and report.header_reads > 0
    assert report.orphan_reads > 0 and report.rescued_reads > 0
    assert report.orphan_clusters >= 2 and report.orphan_clusters_rejected >= 1
    assert (rec.how == ORPHAN_CLUSTER).sum() == 1


# -- smoke trainings on the committed data sample ------------------------------------------------------------

def training_summary(method: str) -> dict:
    from repro.systems import necst as necst_pipeline

    torch.set_num_threads(1)
    model, hist = necst_pipeline.train("mnist", eps=0.1, seed=0, epochs=1, n_train=300, n_val=100,
                                       method=method, select_best=True, device=torch.device("cpu"))
    row = {k: v for k, v in hist[-1].items() if k not in ("seconds", "images_per_s")}
    params = [p.detach().double() for p in model.parameters()]
    return {"history": row, "parameter_sum": float(sum(p.sum() for p in params)),
            "parameter_abs_sum": float(sum(p.abs().sum() for p in params))}


@pytest.mark.parametrize("method", ["NECST", "ABF", "IABF"])
def test_smoke_training_numbers_match_the_committed_ones(method, one_torch_thread):
    golden(f"training_{method.lower()}", training_summary(method), rtol=1e-4)
