"""Format version 3 (issue 25, item 4): each file is stored behind its length and CRC-32, so no byte past a file's
end and no byte of a file that fails its digest is ever marked known; pool ids are random unless given."""

import zlib

import numpy as np
import pytest

from repro.dna import codec
from repro.dna.consensus import RecoveredOligos, RecoveryReport
from repro.dna.decoder import assemble_files, check_files


def _rec(oligos: np.ndarray, fmt: codec.OligoFormat) -> RecoveredOligos:
    p = codec.parse_oligos(oligos, fmt)
    assert p.full_ok.all()
    return RecoveredOligos(p.file_id, p.offset, p.payload, np.zeros(len(p.file_id), dtype=np.int64))


def _files(seed: int, sizes) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, n, dtype=np.uint8).tobytes() for n in sizes]


def test_version_3_round_trip_stores_length_and_digest_before_each_file():
    files = _files(0, [300, 0, 1, 1000])
    fmt = codec.OligoFormat.for_files([len(f) for f in files], payload=150, pool_id=11)
    assert fmt.version == 3 and fmt.file_header_bytes == codec.FILE_HEADER_BYTES == 8
    pool = codec.encode_files(files, fmt)
    assert codec.decode_pool_exact(pool) == files
    assert codec.read_file_header(codec.file_header(files[0])) == (300, zlib.crc32(files[0]))
    # the header is whitened: an empty file's header (length 0, CRC 0) is not eight zero bytes, which the rotating
    # code would write as a long tandem repeat
    assert codec.file_header(b"") == codec.HEADER_MASK and codec.read_file_header(codec.HEADER_MASK) == (0, 0)
    assert codec.longest_tandem_repeat(pool.oligos).max() < 16
    # offsets count header and file together: file 0's chunks cover 8 + 300 bytes
    ends = pool.offset[pool.file_id == 0] + pool.n_bytes[pool.file_id == 0]
    assert ends.max() == 308
    report = RecoveryReport()
    out = assemble_files(_rec(pool.oligos, fmt), len(files), report=report, fmt=fmt)
    assert [f.data for f in out] == files and all(f.complete and f.verified for f in out)
    assert report.files_verified == 4 and report.files_failed_digest == 0


def test_no_byte_past_the_end_is_known_when_the_end_chunk_is_lost():
    """The issue's case: the end chunk of a file is lost and valid oligos of a longer file of the same pool id
    and layout (a stale or foreign pool) cover offsets past its end. The header in the first chunk gives the
    length: those bytes are dropped, and every known byte is the file's own."""
    short, long_ = _files(1, [300]), _files(2, [900])
    fmt = codec.OligoFormat.for_files([900], payload=150, pool_id=11)
    a, b = codec.encode_files(short, fmt), codec.encode_files(long_, fmt)
    a_end = a.offset + a.n_bytes == a.offset.max() + a.n_bytes[a.offset.argmax()]
    keep = a.oligos[~a_end]  # the end chunk lost
    b_end = b.offset + b.n_bytes == b.offset.max() + b.n_bytes[b.offset.argmax()]
    beyond = b.oligos[(b.offset >= 8 + 300) & ~b_end]  # the other file's chunks past this one's end
    report = RecoveryReport()
    out = assemble_files(_rec(np.concatenate([keep, beyond]), fmt), 1, report=report, fmt=fmt)[0]
    assert len(out.data) == 300 and out.length_known and report.bytes_past_end > 0
    known = np.frombuffer(out.data, np.uint8)[out.known]
    assert out.known.sum() > 200 and np.array_equal(known, np.frombuffer(short[0], np.uint8)[out.known])
    # with the other file's end chunk too, header (300) and end (900) disagree and the bytes the header covers are
    # incomplete, so nothing can say which is right: the file is withdrawn, not returned with foreign bytes
    report = RecoveryReport()
    both = np.concatenate([keep, b.oligos[(b.offset >= 8 + 300)]])
    out = assemble_files(_rec(both, fmt), 1, report=report, fmt=fmt)[0]
    assert not out.known.any() and report.files_header_mismatch == 1
    # two end chunks (its own and the other's) leave the stored length unknown; the header's length and digest
    # decide: the file is exact and verified
    report = RecoveryReport()
    out = assemble_files(_rec(np.concatenate([a.oligos, b.oligos[b_end]]), fmt), 1, report=report, fmt=fmt)[0]
    assert out.data == short[0] and out.verified and report.files_with_conflicting_ends == 1
    # a foreign end chunk alone (the file's own end lost, its header and every byte there): the digest decides
    own_end_bytes_elsewhere = [b"\x00" * 1911]  # a file whose end mark falls alone into its last chunk
    fmt_e = codec.OligoFormat.for_files([2200], payload=150, pool_id=12)
    a_e, b_e = codec.encode_files(own_end_bytes_elsewhere, fmt_e), codec.encode_files([b"\x01" * 2200], fmt_e)
    assert (a_e.n_bytes == 0).sum() == 1  # the end mark went alone into a chunk: losing it loses no byte
    own = a_e.oligos[a_e.n_bytes > 0]
    foreign_end = b_e.oligos[b_e.offset + b_e.n_bytes == b_e.offset.max() + b_e.n_bytes[b_e.offset.argmax()]]
    report = RecoveryReport()
    out = assemble_files(_rec(np.concatenate([own, foreign_end]), fmt_e), 1, report=report, fmt=fmt_e)[0]
    assert out.data == own_end_bytes_elsewhere[0] and out.verified and report.files_header_mismatch == 1
    # the same read set without the header's help (version 2) marks bytes past the end known
    fmt2 = codec.OligoFormat.for_files([900], payload=150, pool_id=11, version=2)
    a2, b2 = codec.encode_files(short, fmt2), codec.encode_files(long_, fmt2)
    end2 = a2.offset + a2.n_bytes == a2.offset.max() + a2.n_bytes[a2.offset.argmax()]
    old = assemble_files(_rec(np.concatenate([a2.oligos[~end2], b2.oligos[b2.offset >= 300]]), fmt2), 1)[0]
    assert len(old.data) > 300 and old.known[300:].any()


def test_a_complete_file_that_fails_its_digest_keeps_no_known_byte():
    """A chunk replaced by a valid chunk of another file at the same offset (same pool id and layout): every byte
    is recovered, the CRC-32 differs from the header's, so the file is withdrawn rather than returned wrong."""
    mine, other = _files(3, [600]), _files(4, [600])
    fmt = codec.OligoFormat.for_files([600], payload=150, pool_id=11)
    a, b = codec.encode_files(mine, fmt), codec.encode_files(other, fmt)
    middle = int(np.argsort(a.offset)[len(a.offset) // 2])
    swap = np.flatnonzero((b.offset == a.offset[middle]) & (b.n_bytes == a.n_bytes[middle]))
    assert len(swap) == 1
    oligos = a.oligos.copy()
    oligos[middle] = b.oligos[swap[0]]
    report = RecoveryReport()
    out = assemble_files(_rec(oligos, fmt), 1, report=report, fmt=fmt)[0]
    assert out.verified is False and not out.known.any() and report.files_failed_digest == 1
    assert "CRC-32 is not the header's" in " ".join(report.problems)


def test_a_header_that_disagrees_with_the_catalog_withdraws_the_file():
    files = _files(5, [400])
    fmt = codec.OligoFormat.for_files([400], payload=150, pool_id=11)
    pool = codec.encode_files(files, fmt)
    report = RecoveryReport()
    out = assemble_files(_rec(pool.oligos, fmt), 1, expected_sizes=[400], report=report, fmt=fmt)[0]
    assert out.verified and out.data == files[0]
    report = RecoveryReport()
    out = assemble_files(_rec(pool.oligos, fmt), 1, expected_sizes=[399], report=report, fmt=fmt)[0]
    assert not out.known.any() and report.chunks_out_of_file >= 1
    check_files(fmt, 1, [fmt.max_file_bytes])
    with pytest.raises(codec.ConfigError, match="expected_sizes\\[0\\]"):
        check_files(fmt, 1, [fmt.max_file_bytes + 1])


def test_pool_ids_are_random_unless_given_and_travel_with_the_layout():
    ids = {codec.OligoFormat.for_files([10], payload=150).pool_id for _ in range(20)}
    assert len(ids) == 20 and 0 not in ids  # 20 draws of 32 bits: a repeat or a 0 is a 1-in-10^7 event
    fmt = codec.OligoFormat.for_files([10], payload=150)
    assert codec.OligoFormat.from_dict(fmt.to_dict()) == fmt
    assert codec.OligoFormat.for_files([10], payload=150, pool_id=0).pool_id == 0
    # two pools of the same layout with their default ids fail each other's checks
    other = codec.OligoFormat.for_files([10], payload=150)
    pool = codec.encode_files([b"0123456789"], fmt)
    assert not codec.parse_oligos(pool.oligos, other).full_ok.any()
