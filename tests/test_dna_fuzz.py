"""Hostile input for the DNA read side: whatever the reads or read files, the decoder raises nothing but its
documented errors (ConfigError for bad settings, ReadFileError for files that are not FASTQ/FASTA), finishes in
bounded time and memory, and never marks a wrong byte as known."""

import gzip
import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repro.dna import codec
from repro.dna.consensus import recover_oligos
from repro.dna.decoder import decode_reads
from repro.dna.reads import ReadFileError, Reads, read_reads
from repro.dna.simulator import ErrorModel, simulate_reads

N_FILES = 30


@pytest.fixture(scope="module")
def pool_and_files():
    rng = np.random.default_rng(11)
    header = bytes(rng.integers(0, 256, 120, dtype=np.uint8))  # shared by every file, like a JPEG header
    files = [header + bytes(rng.integers(0, 256, int(n), dtype=np.uint8)) for n in rng.integers(0, 300, N_FILES)]
    fmt = codec.OligoFormat.for_files([len(f) for f in files], payload=150, pool_id=3)
    return codec.encode_files(files, fmt), files


@pytest.fixture(scope="module")
def good_reads(pool_and_files):
    pool, _ = pool_and_files
    return simulate_reads(pool.oligos, 6, ErrorModel(), bias_sigma=0.3, seed=21).reads.strings()


def assert_no_wrong_known_bytes(out, files):
    for f, original in zip(out, files):
        data, ref = np.frombuffer(f.data, np.uint8), np.frombuffer(original, np.uint8)
        m = min(len(data), len(ref))
        assert np.array_equal(data[:m][f.known[:m]], ref[:m][f.known[:m]])
        assert not f.known[m:].any(), "bytes past the original's end marked known"
        if f.length_known:
            assert len(f.data) == len(original)


def decode_bounded(reads, fmt, files, seconds=60.0, **options):
    t0 = time.perf_counter()
    out, report = decode_reads(reads, fmt, len(files), **options)
    assert time.perf_counter() - t0 < seconds
    assert_no_wrong_known_bytes(out, files)
    return out, report


IUPAC = "ACGTNRYKMSWBDHVacgtn-*.1 \t"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet=IUPAC, max_size=400), max_size=60))
def test_arbitrary_strings_are_never_fatal(pool_and_files, seqs):
    pool, files = pool_and_files
    out, report = decode_bounded(Reads.from_strings(seqs), pool.fmt, files, seconds=30)
    assert report.reads == len(seqs) and len(out) == len(files)


OPS = st.sampled_from(["keep", "lower", "iupac", "truncate", "extend", "revcomp", "duplicate", "drop", "shuffle",
                       "substitute"])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(OPS, st.integers(0, 10**6)), min_size=1, max_size=12))
def test_damaged_real_reads_never_give_wrong_bytes(pool_and_files, good_reads, ops):
    pool, files = pool_and_files
    seqs = list(good_reads)
    for op, r in ops:
        rng = np.random.default_rng(r)
        pick = rng.choice(len(seqs), max(1, len(seqs) // 5), replace=False)
        for i in pick:
            s = seqs[i]
            if op == "lower":
                seqs[i] = s.lower()
            elif op == "iupac" and s:
                j = int(rng.integers(len(s)))
                seqs[i] = s[:j] + "RYKMN"[j % 5] + s[j + 1:]
            elif op == "truncate":
                seqs[i] = s[: int(rng.integers(len(s) + 1))]
            elif op == "extend":
                seqs[i] = s + "".join(rng.choice(list("ACGT"), int(rng.integers(1, 40))))
            elif op == "revcomp":
                seqs[i] = codec.to_string(codec.reverse_complement(codec.to_codes(s)))
            elif op == "substitute" and s:
                j = int(rng.integers(len(s)))
                seqs[i] = s[:j] + "ACGT"[(("ACGT".find(s[j].upper()) + 1) % 4)] + s[j + 1:]
        if op == "duplicate":
            seqs += [seqs[i] for i in pick]
        elif op == "drop":
            keep = np.ones(len(seqs), bool)
            keep[pick] = False
            seqs = [s for s, k in zip(seqs, keep) if k]
        elif op == "shuffle":
            seqs = [seqs[i] for i in rng.permutation(len(seqs))]
        if not seqs:
            break
    decode_bounded(Reads.from_strings(seqs), pool.fmt, files, seconds=60)


def test_empty_and_degenerate_read_sets(pool_and_files):
    pool, files = pool_and_files
    L = pool.fmt.length
    for seqs in ([], [""], ["A" * L] * 50, ["ACGT" * (L // 4)] * 50, ["N" * L] * 10, ["A" * 100_000]):
        out, report = decode_bounded(Reads.from_strings(seqs), pool.fmt, files, seconds=30)
        assert report.oligos_recovered == 0 and not any(f.known.any() for f in out)
    _, report = decode_bounded(Reads.from_strings(["A" * 100_000]), pool.fmt, files)
    assert report.too_long == 1
    short = [s[: L // 2] for s in codec.to_string(pool.oligos[0]).split()] * 20
    _, report = decode_bounded(Reads.from_strings(short), pool.fmt, files)
    assert report.too_short == 20 and any("full-length reads" in p for p in report.problems)


def test_reverse_complements_only_and_lowercase(pool_and_files):
    pool, files = pool_and_files
    sim = simulate_reads(pool.oligos, 10, ErrorModel(), bias_sigma=0.2, reverse_fraction=1.0, seed=5)
    lower = Reads.from_strings([s.lower() for s in sim.reads.strings()])
    out, report = decode_bounded(lower, pool.fmt, files)
    assert sum(f.data == g and f.complete for f, g in zip(out, files)) >= N_FILES - 2


def test_floods_of_identical_reads_are_bounded(pool_and_files):
    pool, files = pool_and_files
    rng = np.random.default_rng(1)
    garbage = ["".join(rng.choice(list("ACGT"), pool.fmt.length)) for _ in range(300)]
    good = codec.to_string(pool.oligos[3])
    seqs = garbage * 60 + [good] * 3000  # 18,000 copies of 300 garbage reads: k-mers shared by 60 reads each
    tracemalloc.start()
    out, report = decode_bounded(Reads.from_strings(seqs), pool.fmt, files, seconds=120)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 400e6, f"peak {peak / 1e6:.0f} MB"
    assert report.oligos_exact == 1 and report.orphan_clusters_rejected >= 1


def test_random_reads_are_diagnosed_and_bounded(pool_and_files):
    pool, files = pool_and_files
    rows = np.random.default_rng(2).integers(0, 4, (30_000, pool.fmt.length), dtype=np.uint8)
    tracemalloc.start()
    out, report = decode_bounded(Reads.from_rows(rows), pool.fmt, files, seconds=60)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 400e6, f"peak {peak / 1e6:.0f} MB"
    assert report.layout == "no fit" and report.low_read_use
    assert report.orphans_not_clustered == report.orphan_reads > 0  # no search among reads of no pool of ours
    assert any("carry no valid index of this pool at any offset" in p for p in report.problems)
    assert not any(f.known.any() for f in out)


def test_orphans_beyond_max_orphans_are_counted_and_reported(pool_and_files, good_reads):
    pool, files = pool_and_files
    rows = np.random.default_rng(2).integers(0, 4, (30_000, pool.fmt.length), dtype=np.uint8)
    reads = Reads.concat([Reads.from_rows(rows), Reads.from_strings(good_reads)])  # enough reads of the pool
    out, report = decode_bounded(reads, pool.fmt, files, seconds=120, max_orphans=10_000)
    assert report.layout == "as is" or report.layout == "trim"
    assert report.orphans_not_clustered > 0 and any("max_orphans" in p for p in report.problems)
    assert report.low_read_use  # most reads are random


def _known(out) -> list[bytes]:
    return [bytes(np.frombuffer(f.data, np.uint8)[f.known]) for f in out]


def test_ordinary_reads_decode_as_they_are(pool_and_files, good_reads):
    pool, files = pool_and_files
    out, report = decode_bounded(Reads.from_strings(good_reads), pool.fmt, files)
    assert report.layout == "as is" and report.trimmed_reads == 0 and report.incoherent_reads == 0
    assert not report.low_read_use and report.read_use > 0.9


@pytest.mark.parametrize("prefix, suffix", [("", "A"), ("ACGTC", ""), ("", "GGATCCTA"), ("GATC", "TTGCAA"),
                                            ("ACGTACGTTGCA", "TCGATCGATCGA")])
def test_adapters_primers_and_extra_bases_are_found_and_trimmed(pool_and_files, good_reads, prefix, suffix):
    pool, files = pool_and_files
    plain, _ = decode_bounded(Reads.from_strings(good_reads), pool.fmt, files)
    reads = Reads.from_strings([prefix + s + suffix for s in good_reads])
    out, report = decode_bounded(reads, pool.fmt, files, seconds=30)
    assert report.layout == "trim" and report.trimmed_reads > 0.9 * len(reads)
    extra = len(prefix) + len(suffix)
    assert any(f"are {extra} nt longer than the layout's {pool.fmt.length} nt" in p for p in report.problems)
    assert sum(f.complete for f in out) >= sum(f.complete for f in plain) - 1
    assert sum(int(f.known.sum()) for f in out) >= 0.97 * sum(int(f.known.sum()) for f in plain)


def test_molecules_with_primers_read_from_both_strands_are_trimmed(pool_and_files):
    pool, files = pool_and_files
    p5, p3 = codec.to_codes("GATCGATTACA"), codec.to_codes("CCATG")
    molecules = np.concatenate([np.tile(p5, (pool.n_oligos, 1)), pool.oligos, np.tile(p3, (pool.n_oligos, 1))], 1)
    reads = simulate_reads(molecules, 6, ErrorModel(), bias_sigma=0.3, seed=21).reads  # half reverse strand
    plain, _ = decode_bounded(simulate_reads(pool.oligos, 6, ErrorModel(), bias_sigma=0.3, seed=21).reads,
                              pool.fmt, files)
    out, report = decode_bounded(reads, pool.fmt, files, seconds=30)
    assert report.layout == "trim"
    assert sum(int(f.known.sum()) for f in out) >= 0.95 * sum(int(f.known.sum()) for f in plain)


def test_reads_shorter_than_the_layout_are_diagnosed(pool_and_files, good_reads):
    pool, files = pool_and_files
    _, plain = decode_bounded(Reads.from_strings(good_reads), pool.fmt, files)
    reads = Reads.from_strings([s[:-3] for s in good_reads])
    out, report = decode_bounded(reads, pool.fmt, files, seconds=60)
    assert report.layout == "short"
    assert any(f"are 3 nt shorter than the layout's {pool.fmt.length} nt" in p for p in report.problems)
    # the two strands lack opposite ends: a stitch of two error-free reads of opposite strands, or one error-free
    # read completed at its missing end (27 ways), is the oligo; the rest go to spoa's heaviest path
    print("short / full-length oligos recovered:", report.oligos_recovered, plain.oligos_recovered)
    assert report.oligos_recovered >= 0.85 * plain.oligos_recovered, report.summary()


def test_stitches_and_completions_rebuild_an_oligo_from_reads_short_at_one_end(pool_and_files):
    from repro.dna import consensus as C

    pool, _ = pool_and_files
    oligo, L = pool.oligos[0], pool.fmt.length
    head, tail = oligo[:-3], oligo[3:]  # a forward read and a reverse-strand read, oriented, each 3 nt short
    stitched = C.stitch_candidates([head, head, tail], L)
    assert any(np.array_equal(c, oligo) for c in stitched) and all(len(c) == L for c in stitched)
    done = C.complete_candidates([head], L)
    assert 27 < len(done) < 54  # 27 ends; the 27 starts less those whose last base repeats the read's first
    assert sum(np.array_equal(c, oligo) for c in done) == 1
    assert any(np.array_equal(c, oligo) for c in C.complete_candidates([tail], L))
    # the check picks the oligo out of the candidates: exactly one passes
    parsed = codec.parse_oligos(np.stack(done), pool.fmt)
    assert int(C.accepted(parsed, pool.fmt.max_files).sum()) == 1
    assert C.complete_candidates([oligo[:-5]], L) == []  # more than MAX_MISSING bases: nothing enumerated


@pytest.mark.parametrize("per_index", [1, 2, 12])
def test_reads_that_share_valid_indexes_but_not_content_are_bounded(pool_and_files, per_index):
    # valid indexes of the pool with random content behind them: one read per index, pairs, or floods
    pool, files = pool_and_files
    rng = np.random.default_rng(per_index)
    n = 12_000
    heads = np.repeat(pool.oligos[rng.integers(0, pool.n_oligos, n // per_index), : pool.fmt.header], per_index, 0)
    rows = np.concatenate([heads, rng.integers(0, 4, (len(heads), pool.fmt.length - pool.fmt.header),
                                               dtype=np.uint8)], axis=1)
    t0 = time.perf_counter()
    out, report = decode_bounded(Reads.from_rows(rows), pool.fmt, files, seconds=30)
    assert time.perf_counter() - t0 < 15
    assert not any(f.known.any() for f in out)
    assert report.low_read_use and any("unlike the other reads of their index" in p for p in report.problems)
    assert report.groups_incoherent > 0


def test_a_few_foreign_reads_under_a_valid_index_do_not_spoil_its_consensus(pool_and_files, good_reads):
    pool, files = pool_and_files
    rng = np.random.default_rng(5)
    heads = pool.oligos[rng.integers(0, pool.n_oligos, 300), : pool.fmt.header]
    junk = np.concatenate([heads, rng.integers(0, 4, (300, pool.fmt.length - pool.fmt.header), dtype=np.uint8)], 1)
    plain, _ = decode_bounded(Reads.from_strings(good_reads), pool.fmt, files)
    out, report = decode_bounded(Reads.concat([Reads.from_rows(junk), Reads.from_strings(good_reads)]), pool.fmt,
                                 files)
    assert report.incoherent_reads > 0
    assert sum(int(f.known.sum()) for f in out) >= 0.97 * sum(int(f.known.sum()) for f in plain)


def test_other_pools_mixed_in_give_no_wrong_bytes(pool_and_files):
    pool, files = pool_and_files
    from dataclasses import replace

    rng = np.random.default_rng(9)
    other_files = [bytes(rng.integers(0, 256, 250, dtype=np.uint8)) for _ in range(N_FILES)]
    same_layout = codec.encode_files(other_files, replace(pool.fmt, pool_id=4))
    # another layout of the same oligo length: one trit moved from the file id to the offset field
    moved = replace(pool.fmt, file_trits=pool.fmt.file_trits - 1, offset_trits=pool.fmt.offset_trits + 1,
                    pool_id=3)
    other_layout = codec.encode_files(other_files[: moved.max_files], moved)
    assert other_layout.fmt.length == pool.fmt.length
    parsed = codec.parse_oligos(np.concatenate([same_layout.oligos, other_layout.oligos]), pool.fmt)
    assert not parsed.full_ok.any()  # foreign oligos fail our full check
    ours = simulate_reads(pool.oligos, 3, ErrorModel(), seed=1).reads
    theirs = [simulate_reads(p.oligos, 10, ErrorModel(), seed=2).reads for p in (same_layout, other_layout)]
    mixed = Reads.concat([ours, *theirs])
    out, report = decode_bounded(mixed.take(np.random.default_rng(0).permutation(len(mixed))), pool.fmt, files)
    alone, _ = decode_reads(ours, pool.fmt, len(files))
    assert sum(f.known.sum() for f in out) >= 0.97 * sum(f.known.sum() for f in alone)


def test_conflicting_exact_reads_are_not_trusted(pool_and_files):
    pool, files = pool_and_files
    fmt = pool.fmt
    # a forged oligo with the same index as oligo 0 and a valid check (an adversary, or a 1-in-2**32 read)
    parsed = codec.parse_oligos(pool.oligos[:1], fmt)
    trits, _ = codec.bases_to_trits(pool.oligos[:1])
    forged = trits.copy()
    forged[0, fmt.header + 10] = (forged[0, fmt.header + 10] + 1) % 3
    body = forged[:, : fmt.header + fmt.payload]
    forged[:, fmt.header + fmt.payload:] = fmt.check_field(body)
    forged_bases = codec.trits_to_bases(forged)
    assert codec.parse_oligos(forged_bases, fmt).full_ok[0]
    reads = Reads.from_rows(np.concatenate([pool.oligos[:1], forged_bases]))
    rec, report = recover_oligos(reads, fmt, n_files=len(files))
    assert report.exact_keys_conflicting == 1 and len(rec) == 0
    # two agreeing reads outvote the forged one
    reads = Reads.from_rows(np.concatenate([pool.oligos[:1], pool.oligos[:1], forged_bases]))
    rec, report = recover_oligos(reads, fmt, n_files=len(files))
    assert len(rec) == 1 and np.array_equal(rec.payload[0], parsed.payload[0])
    # with min_exact_reads=2 a lone exact read is not trusted either
    rec, report = recover_oligos(Reads.from_rows(pool.oligos[:1]), fmt, n_files=len(files), min_exact_reads=2)
    assert len(rec) == 0 and report.exact_keys_too_few == 1


# ---------------------------------------------------------------------------------------------------------------
# read files
# ---------------------------------------------------------------------------------------------------------------
def test_read_files_of_every_legal_shape(tmp_path, good_reads):
    seqs = good_reads[:20]
    plain = "".join(f"@r{i} x\n{s}\n+\n{'I' * len(s)}\n" for i, s in enumerate(seqs))
    multi = "".join(f"@r{i}\n{s[:70]}\n{s[70:]}\n+\n{'I' * 70}\n{'I' * (len(s) - 70)}\n" for i, s in enumerate(seqs))
    fasta = "".join(f">r{i}\n{s[:60]}\n{s[60:]}\n" for i, s in enumerate(seqs))
    cases = {"plain.fq": plain, "crlf.fq": plain.replace("\n", "\r\n"), "multi.fastq": multi, "reads.fa": fasta,
             "lower.fq": plain.lower().replace("@r", "@R")}
    for name, text in cases.items():
        (tmp_path / name).write_bytes(text.encode())
    with gzip.open(tmp_path / "plain.fq.gz", "wt") as fh:
        fh.write(plain)
    with gzip.open(tmp_path / "noext", "wt") as fh:  # the format is found from the content, not the name
        fh.write(fasta)
    for name in list(cases) + ["plain.fq.gz", "noext"]:
        reads, report = read_reads(tmp_path / name)
        assert reads.strings() == seqs, name
        assert report.records == 20 and report.malformed == 0
    reads, report, names = read_reads(tmp_path / "plain.fq", with_names=True)
    assert names[0] == "r0 x" and report.format == "fastq"


@pytest.mark.parametrize("content", [b"", b"hello world\n", b"\x00\x01\x02binary", b"@r1\nACGT\n+\nII\n",
                                     b"@r1\nACGT\n+\nIIII\n@r2\nAC", b">\n", b"ACGT\nACGT\n", "\u00e9\u00e8".encode()])
def test_bad_read_files_raise_one_documented_error(tmp_path, content):
    path = tmp_path / "reads.txt"
    path.write_bytes(content)
    try:
        reads, report = read_reads(path)
    except ReadFileError as err:
        assert "reads.txt" in str(err) and "Valid inputs" in str(err)
        reads, report = read_reads(path, on_error="keep")
        assert report.malformed == 1 and report.problems
    assert isinstance(reads, Reads)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_reads(tmp_path / "missing.fq")


def test_the_batched_index_test_answers_as_the_per_cluster_one(pool_and_files):
    # clusters of real, foreign, damaged and random reads: wherever the batch decides, it agrees with
    # _index_plausible; where it defers (ties, disagreeing columns), _index_plausible decides as before
    from dataclasses import replace

    from repro.dna.consensus import _index_plausible, _index_plausible_batch

    pool, files = pool_and_files
    rng = np.random.default_rng(17)
    other = codec.encode_files(files, replace(pool.fmt, pool_id=pool.fmt.pool_id + 1))
    clusters = []
    for source in (pool.oligos, other.oligos):
        for j in range(60):
            n = int(rng.integers(1, 6))
            reads = simulate_reads(source[j: j + 1], n, ErrorModel(0.02, 0.01, 0.01), seed=int(rng.integers(1e9)))
            clusters.append([codec.reverse_complement(r) if rev else r
                             for r, rev in zip([reads.reads[i] for i in range(len(reads.reads))], reads.reverse)])
    clusters += [[rng.integers(0, 4, pool.fmt.length).astype(np.uint8) for _ in range(3)] for _ in range(30)]
    clusters += [[np.zeros(5, np.uint8)]]  # too short for an index
    decided = _index_plausible_batch(clusters, pool.fmt, len(files))
    assert True in decided and False in decided and None in decided
    for seqs, d in zip(clusters, decided):
        if d is not None:
            assert d == _index_plausible(seqs, pool.fmt, len(files), 3)
