"""Robustness and scale of the DNA decoder (issue 14): time and peak memory on large and hostile read sets,
wrong bytes marked known, the check/agreement trade-off, and the ratio against a plain exact-read decoder.

    .venv/bin/python benchmarks/dna_robustness.py [--quick] [--out benchmarks/results/dna_robustness.json]

Every decode runs in a child process (this script with ``--worker``) that loads the reads from a temporary
``.npz`` file, so its wall time and peak resident memory (``VmHWM``) are the decoder's alone, imports, the reads
and the answer included. The machine's load average is recorded beside every timed number (the development
machine is shared), and so is each decode's CPU time (one thread: its wall time on an idle machine).
Sections (``--only`` picks some): ``scale`` (1M reads at 10x; 100k reads of another pool mixed in; 1M random
reads), ``hostile`` (issue 25's hostile read sets at 1M reads, beside the majority-vote decoder), ``wrong_bytes``
(>= 10 seeds x 3 coverages, no wrong byte may be marked known), ``tradeoff`` (oligo check of 8 vs 12 trits (format
version 1) vs CRC-32 (version 2), one vs two agreeing exact reads: oligos recovered and wrong oligos per
coverage), ``baseline`` (time against an exact-index majority-vote decoder at 1x, 3x, 10x, 30x), ``codec`` (trits
per byte of PNG and JPEG files with the format's Huffman table and with the classic one, and the table
re-derived). Seeds are fixed: the
same command gives the same counts (times vary with the machine).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

FILE_BYTES = 500


def load() -> dict:
    return {"loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()], "cpus": os.cpu_count()}


def peak_rss_mb() -> float:
    """This process's peak resident memory (``VmHWM``; ``ru_maxrss`` would include the parent's memory at fork,
    which Linux carries across ``exec``)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def random_files(n_files: int, seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, FILE_BYTES, dtype=np.uint8).tobytes() for _ in range(n_files)]


def wrong_known_bytes(out, files) -> tuple[int, int, int]:
    """(wrong bytes marked known, known bytes, files equal to the original)."""
    wrong = known = equal = 0
    for f, g in zip(out, files):
        data, ref = np.frombuffer(f.data, np.uint8), np.frombuffer(g, np.uint8)
        m = min(len(data), len(ref))
        k = f.known[:m]
        wrong += int((data[:m][k] != ref[:m][k]).sum()) + int(f.known[m:].sum())  # known bytes past the end
        known += int(f.known.sum())
        equal += f.data == g and f.complete
    return wrong, known, equal


# ---------------------------------------------------------------------------------------------------------------
# the child: one decode, timed
# ---------------------------------------------------------------------------------------------------------------
def worker(path: str) -> None:
    t_import = time.perf_counter()
    from repro.dna.codec import OligoFormat
    from repro.dna.decoder import decode_reads
    from repro.dna.reads import Reads

    z = np.load(path, allow_pickle=False)
    fmt = OligoFormat.from_dict(json.loads(str(z["fmt"])))
    options = json.loads(str(z["options"]))
    reads = Reads(z["flat"], z["offsets"])
    files = [bytes(b[:n]) for b, n in zip(z["files"], z["sizes"])] if "files" in z else None
    t0, c0 = time.perf_counter(), time.process_time()
    if options.pop("baseline", False):
        out = baseline_decode(reads, fmt, int(z["n_files"]))
        report = {}
    else:
        out, rep = decode_reads(reads, fmt, int(z["n_files"]), show_progress=False, **options)
        report = rep.summary()
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    result = {"seconds": seconds, "cpu_seconds": cpu_seconds, "seconds_with_load": time.perf_counter() - t_import,
              "peak_rss_mb": peak_rss_mb(), "reads": len(reads), "report": report}
    if files is not None:
        w, k, e = wrong_known_bytes(out, files)
        result.update(wrong_known_bytes=w, known_bytes=k, files_equal=e, files=len(files))
    print(json.dumps(result))


def baseline_decode(reads, fmt, n_files: int):
    """The plain decoder: reads of length L that pass the full check in either orientation, majority payload per
    index, chunks placed by offset; no consensus, no rescue of damaged reads."""
    from repro.dna.codec import parse_oligos, reverse_complement
    from repro.dna.consensus import RecoveredOligos, _payload_hash
    from repro.dna.decoder import assemble_files

    L = fmt.length
    rows_idx = np.flatnonzero(reads.lengths == L)
    keys, hashes, payloads = [], [], []
    for a in range(0, len(rows_idx), 20_000):
        rows = reads.rows(rows_idx[a: a + 20_000], L)
        for r in (rows, reverse_complement(rows)):
            p = parse_oligos(r, fmt)
            ok = p.full_ok & (p.file_id < n_files)
            keys.append(p.file_id[ok] * 3**fmt.offset_trits + p.offset[ok])
            hashes.append(_payload_hash(p.payload[ok]))
            payloads.append(p.payload[ok])
    if not keys:  # no read of the oligo's length: nothing to vote on
        empty = RecoveredOligos(np.zeros(0, int), np.zeros(0, int), np.zeros((0, fmt.payload), np.uint8),
                                np.zeros(0, int))
        return assemble_files(empty, n_files, fmt=fmt)
    keys, hashes, payloads = np.concatenate(keys), np.concatenate(hashes), np.concatenate(payloads)
    pair, first, count = np.unique(np.stack([keys, hashes], 1), axis=0, return_index=True, return_counts=True)
    order = np.lexsort((-count, pair[:, 0]))
    take = order[np.r_[True, pair[order[1:], 0] != pair[order[:-1], 0]]] if len(order) else order
    chosen = first[take]
    base = 3**fmt.offset_trits
    rec = RecoveredOligos(keys[chosen] // base, keys[chosen] % base, payloads[chosen], np.zeros(len(chosen), int))
    return assemble_files(rec, n_files, fmt=fmt)


# ---------------------------------------------------------------------------------------------------------------
# the parent
# ---------------------------------------------------------------------------------------------------------------
def decode_in_child(reads, fmt, n_files: int, files=None, tmp: Path = Path("."), **options) -> dict:
    path = tmp / "reads.npz"
    extra = {}
    if files is not None:
        width = max(len(f) for f in files) if files else 0
        buf = np.zeros((len(files), width), np.uint8)
        for i, f in enumerate(files):
            buf[i, : len(f)] = np.frombuffer(f, np.uint8)
        extra = {"files": buf, "sizes": np.array([len(f) for f in files])}
    np.savez(path, flat=reads.flat, offsets=reads.offsets, fmt=json.dumps(fmt.to_dict()),
             options=json.dumps(options), n_files=n_files, **extra)
    before = load()
    proc = subprocess.run([sys.executable, __file__, "--worker", str(path)], capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})
    if proc.returncode != 0:
        raise RuntimeError(f"decode worker failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["load_before"], out["load_after"] = before, load()
    return out


def pool_for(n_oligos_target: int, seed: int, pool_id: int = 0):
    from repro.dna.codec import OligoFormat, encode_files

    per_file = 18  # oligos of a 500-byte file at 150 payload nt, about
    files = random_files(max(1, n_oligos_target // per_file), seed)
    fmt = OligoFormat.for_files([len(f) for f in files], payload=150, pool_id=pool_id)
    return encode_files(files, fmt), files


def section_scale(tmp: Path, quick: bool) -> dict:
    from dataclasses import replace

    from repro.dna.codec import encode_files
    from repro.dna.reads import Reads
    from repro.dna.simulator import ErrorModel, simulate_reads

    n_oligos = 10_000 if quick else 100_000
    pool, files = pool_for(n_oligos, seed=0)
    sim = simulate_reads(pool.oligos, 10, ErrorModel(), seed=1)
    base = decode_in_child(sim.reads, pool.fmt, len(files), files, tmp)
    # another pool (other files, another pool id, same layout) sequenced in the same run: 10 % more reads
    other_files = random_files(len(files) // 10 + 1, seed=99)
    other = encode_files(other_files, replace(pool.fmt, pool_id=7))
    foreign = simulate_reads(other.oligos, 0.1 * len(sim.reads) / other.n_oligos, ErrorModel(), seed=2)
    mixed = Reads.concat([sim.reads, foreign.reads])
    perm = np.random.default_rng(3).permutation(len(mixed))
    mixed = mixed.take(perm)
    with_foreign = decode_in_child(mixed, pool.fmt, len(files), files, tmp)
    rng = np.random.default_rng(4)
    random_reads = Reads.from_rows(rng.integers(0, 4, (len(sim.reads), pool.fmt.length), dtype=np.uint8))
    rand = decode_in_child(random_reads, pool.fmt, len(files), None, tmp)
    return {"oligos": pool.n_oligos, "oligo_length": pool.fmt.length, "files": len(files),
            "at_10x": base, "foreign_reads_mixed_in": {**with_foreign, "foreign_reads": len(foreign.reads),
                                                        "time_ratio": with_foreign["seconds"] / base["seconds"],
                                                        "cpu_time_ratio": with_foreign["cpu_seconds"]
                                                        / base["cpu_seconds"]},
            "random_reads": rand}


def section_wrong_bytes(tmp: Path, quick: bool) -> dict:
    from repro.dna.decoder import decode_reads
    from repro.dna.simulator import ErrorModel, simulate_reads

    seeds = range(3 if quick else 10)
    coverages = (1, 3, 10)
    runs = []
    for seed in seeds:
        pool, files = pool_for(2_000 if quick else 9_000, seed=100 + seed)
        for cov in coverages:
            sim = simulate_reads(pool.oligos, cov, ErrorModel(), seed=1000 * seed + cov)
            out, rep = decode_reads(sim.reads, pool.fmt, len(files), show_progress=False)
            w, k, e = wrong_known_bytes(out, files)
            runs.append({"seed": seed, "coverage": cov, "reads": len(sim.reads), "wrong_known_bytes": w,
                         "known_bytes": k, "files_equal": e, "files": len(files),
                         "oligos_recovered": rep.oligos_recovered, "oligos": pool.n_oligos})
            print(json.dumps(runs[-1]), flush=True)
    return {"runs": runs, "wrong_known_bytes_total": sum(r["wrong_known_bytes"] for r in runs),
            "runs_with_wrong_bytes": sum(r["wrong_known_bytes"] > 0 for r in runs)}


CHECKS = ((8, 1), (12, 1), (21, 2))  # (check_trits, format version): version 1's weighted checks, version 2's CRC


def section_tradeoff(tmp: Path, quick: bool) -> dict:
    """Oligos recovered and wrong oligos with format version 1's 8- or 12-trit weighted check or version 2's CRC-32
    (21 trits), and 1 or 2 agreeing exact reads."""
    from repro.dna.codec import OligoFormat, encode_files, parse_oligos
    from repro.dna.consensus import recover_oligos
    from repro.dna.simulator import ErrorModel, simulate_reads

    rows = []
    files = random_files(200 if quick else 1_000, seed=5)
    for check, version in CHECKS:
        fmt = OligoFormat.for_files([len(f) for f in files], payload=150, check_trits=check, version=version)
        pool = encode_files(files, fmt)
        truth = {(int(f), int(o)): p.tobytes() for f, o, p in
                 zip(pool.file_id, pool.offset, parse_oligos(pool.oligos, fmt).payload)}
        for agree in (1, 2):
            for cov in (1, 2, 3, 5, 10):
                rec_n = wrong = 0
                for seed in range(2 if quick else 4):
                    sim = simulate_reads(pool.oligos, cov, ErrorModel(), seed=seed)
                    rec, _ = recover_oligos(sim.reads, fmt, n_files=len(files), min_exact_reads=agree,
                                            show_progress=False)
                    rec_n += len(rec)
                    wrong += sum(truth.get((int(f), int(o))) != p.tobytes()
                                 for f, o, p in zip(rec.file_id, rec.offset, rec.payload))
                n_seeds = 2 if quick else 4
                rows.append({"format_version": version, "check_trits": check, "min_exact_reads": agree,
                             "coverage": cov,
                             "oligo_length": fmt.length, "recovered_fraction": rec_n / (n_seeds * pool.n_oligos),
                             "wrong_oligos": wrong, "seeds": n_seeds})
                print(json.dumps(rows[-1]), flush=True)
    # how often a corrupted read passes each check: 1-3 random substitutions (length kept) in random oligos
    passes = []
    n_trials = 200_000 if quick else 2_000_000
    for check, version in CHECKS:
        fmt = OligoFormat.for_files([len(f) for f in files], payload=150, check_trits=check, version=version)
        pool = encode_files(files, fmt)
        rng = np.random.default_rng(check)
        passed = corrupted = 0
        for a in range(0, n_trials, 100_000):
            m = min(100_000, n_trials - a)
            source = pool.oligos[rng.integers(0, pool.n_oligos, m)]
            rows_ = source.copy()
            for _ in range(3):  # up to three substitutions per read
                r = np.flatnonzero(rng.random(m) < 0.7)
                pos = rng.integers(0, fmt.length, len(r))
                rows_[r, pos] = (rows_[r, pos] + rng.integers(1, 4, len(r))) % 4
            changed = (rows_ != source).any(1)
            corrupted += int(changed.sum())
            passed += int((parse_oligos(rows_, fmt).full_ok & changed).sum())
        n_trials_done = corrupted
        passes.append({"format_version": version, "check_trits": check, "corrupted_reads": n_trials_done,
                       "passed_full_check": passed,
                       "pass_rate": passed / n_trials_done, "one_in": n_trials_done / passed if passed else None})
        print(json.dumps(passes[-1]), flush=True)
    return {"rows": rows, "corrupted_reads_passing": passes}


def section_baseline(tmp: Path, quick: bool) -> dict:
    from repro.dna.simulator import ErrorModel, simulate_reads

    pool, files = pool_for(2_000 if quick else 20_000, seed=7)
    rows = []
    for cov in (1, 3, 10, 30):
        sim = simulate_reads(pool.oligos, cov, ErrorModel(), seed=cov)
        ours = decode_in_child(sim.reads, pool.fmt, len(files), files, tmp)
        plain = decode_in_child(sim.reads, pool.fmt, len(files), files, tmp, baseline=True)
        rows.append({"coverage": cov, "reads": len(sim.reads), "seconds_ours": ours["seconds"],
                     "seconds_plain": plain["seconds"], "time_ratio": ours["seconds"] / plain["seconds"],
                     "cpu_seconds_ours": ours["cpu_seconds"], "cpu_seconds_plain": plain["cpu_seconds"],
                     "cpu_time_ratio": ours["cpu_seconds"] / plain["cpu_seconds"],
                     "files_equal_ours": ours["files_equal"], "files_equal_plain": plain["files_equal"],
                     "wrong_known_bytes_ours": ours["wrong_known_bytes"],
                     "wrong_known_bytes_plain": plain["wrong_known_bytes"], "files": len(files),
                     "load_before": ours["load_before"]})
        print(json.dumps(rows[-1]), flush=True)
    return {"oligos": pool.n_oligos, "rows": rows}


def section_codec(tmp: Path, quick: bool) -> dict:
    from repro.dna.codec import CLASSIC_HUFFMAN, HUFFMAN, IMAGE_RARE_BYTES
    from repro.experiments.dna_storage import image_byte_table

    table = image_byte_table(n_images=300 if quick else 2_000)
    return {**table, "table_in_format": list(IMAGE_RARE_BYTES),
            "table_rederived_equals_format": sorted(table["rarest_bytes"]) == sorted(IMAGE_RARE_BYTES),
            "six_trit_bytes_classic": list(CLASSIC_HUFFMAN.long_bytes), "six_trit_bytes_now": list(HUFFMAN.long_bytes)}


def hostile_read_sets(pool, n_reads: int, seed: int = 0) -> dict:
    """The read sets of issue 25 (items 2 and 3), each ``n_reads`` reads or about: valid indexes of the pool with
    random content (one read per index drawn at random, and pairs), one extra base on every read, adapters and
    primers, reads 3 nt short at one end, twice as many reads of another pool as of ours, and random reads."""
    from dataclasses import replace

    from repro.dna.codec import encode_files
    from repro.dna.reads import Reads
    from repro.dna.simulator import ErrorModel, simulate_reads

    rng = np.random.default_rng(seed)
    fmt, L, H = pool.fmt, pool.fmt.length, pool.fmt.header
    cov = n_reads / pool.n_oligos
    real = simulate_reads(pool.oligos, cov, ErrorModel(), seed=seed + 1).reads

    def with_valid_index(n, per_index):
        heads = np.repeat(pool.oligos[rng.integers(0, pool.n_oligos, n // per_index), :H], per_index, axis=0)
        return Reads.from_rows(np.concatenate([heads, rng.integers(0, 4, (len(heads), L - H), dtype=np.uint8)], 1))

    def around(reads, prefix: str, suffix: str):
        from repro.dna.codec import to_codes

        a, b = to_codes(prefix), to_codes(suffix)
        lengths = reads.lengths + len(a) + len(b)
        flat = np.concatenate([np.concatenate([a, reads[i], b]) for i in range(len(reads))])
        return Reads(flat, np.concatenate([[0], np.cumsum(lengths)]))

    other = encode_files(random_files(len(pool.file_sizes), seed=seed + 77), replace(fmt, pool_id=fmt.pool_id + 1))
    foreign = simulate_reads(other.oligos, 2 * n_reads / 3 / other.n_oligos, ErrorModel(), seed=seed + 2).reads
    ours = simulate_reads(pool.oligos, n_reads / 3 / pool.n_oligos, ErrorModel(), seed=seed + 3).reads
    mixed = Reads.concat([ours, foreign])
    return {
        "ordinary": real,
        "valid_index_random_content": with_valid_index(n_reads, 1),
        "valid_index_pairs": with_valid_index(n_reads, 2),
        "extra_base_appended": around(real, "", "A"),
        "adapter_5nt_front": around(real, "ACGTC", ""),
        "primers_both_ends": around(real, "GATCGATTAC", "CCATGGTA"),
        "three_nt_short_at_end": real.windows(np.zeros(len(real), np.int64), real.lengths - 3),
        "two_foreign_per_real_read": mixed.take(rng.permutation(len(mixed))),
        "random_reads": Reads.from_rows(rng.integers(0, 4, (n_reads, L), dtype=np.uint8)),
    }


def section_hostile(tmp: Path, quick: bool) -> dict:
    """Issue 25's hostile read sets at scale (1M reads; ``--quick``: 100k), each decoded in a child process, with
    the plain majority-vote decoder beside it: seconds, peak memory, files exact, wrong known bytes, the layout
    diagnosis and whether the decode flagged low read use."""
    n_reads = 100_000 if quick else 1_000_000
    pool, files = pool_for(n_reads // 10, seed=0, pool_id=12345)
    rows = []
    for name, reads in hostile_read_sets(pool, n_reads).items():
        ours = decode_in_child(reads, pool.fmt, len(files), files, tmp)
        plain = decode_in_child(reads, pool.fmt, len(files), files, tmp, baseline=True)
        rep = ours["report"]
        rows.append({"case": name, "reads": len(reads), "seconds": ours["seconds"],
                     "peak_rss_mb": ours["peak_rss_mb"],
                     "files_equal": ours["files_equal"], "wrong_known_bytes": ours["wrong_known_bytes"],
                     "layout": rep.get("layout"), "low_read_use": rep.get("low_read_use"),
                     "majority_seconds": plain["seconds"], "majority_peak_rss_mb": plain["peak_rss_mb"],
                     "majority_files_equal": plain["files_equal"],
                     "majority_wrong_known_bytes": plain["wrong_known_bytes"], "files": len(files), "load": load()})
        print(json.dumps(rows[-1]), flush=True)
    return {"rows": rows, "oligos": pool.n_oligos, "oligo_length": pool.fmt.length}


SECTIONS = {"scale": section_scale, "hostile": section_hostile, "wrong_bytes": section_wrong_bytes,
            "tradeoff": section_tradeoff, "baseline": section_baseline, "codec": section_codec}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="small sizes (a check that the script runs)")
    ap.add_argument("--only", nargs="+", choices=sorted(SECTIONS), default=None, help="sections to run")
    ap.add_argument("--out", default="benchmarks/results/dna_robustness.json",
                    help="JSON file; sections not run keep their previous content")
    args = ap.parse_args()
    if args.worker:
        worker(args.worker)
        return
    out_path = Path(args.out)
    result = json.loads(out_path.read_text()) if out_path.exists() else {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.only or list(SECTIONS):
            t0 = time.perf_counter()
            print(f"== {name}", flush=True)
            result[name] = {**SECTIONS[name](Path(tmp), args.quick), "quick": args.quick,
                            "section_seconds": time.perf_counter() - t0, "load_end": load()}
            out_path.parent.mkdir(parents=True, exist_ok=True)
            out_path.write_text(json.dumps(result, indent=1) + "\n")  # after every section: resumable
            print(json.dumps({name: {k: v for k, v in result[name].items() if k not in ("runs", "rows")}})[:2000],
                  flush=True)


if __name__ == "__main__":
    main()
