"""The oligo check of format version 2 (CRC-32): every single-base edit of a sample of oligos and pools is caught,
as are bursts of up to 16 bases and another pool's oligos; version 1 pools still decode (issue 25, item 1)."""

from __future__ import annotations

import numpy as np
import pytest

from repro.core.checks import ConfigError
from repro.dna import codec

# Layouts of the held-out test (2,000 files of 500 B, payload 150 nt) and a small one; pool 1514 is the id for which
# version 1's weighted check let one-base substitutions through.
LAYOUTS = {"2000x500B_payload150": ([500] * 2000, 150), "5x60B_payload20": ([60] * 5, 20)}
POOL_IDS = [0, 1514, 2**32 - 1, 987_654_321]


def _files(n: int, size: int, seed: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 256, size, dtype=np.uint8).tobytes() for _ in range(n)]


def _pool(layout: str, pool_id: int, version: int = 2, n_files: int = 4):
    sizes, payload = LAYOUTS[layout]
    fmt = codec.OligoFormat.for_files(sizes, payload=payload, pool_id=pool_id, version=version)
    return codec.encode_files(_files(n_files, sizes[0], pool_id % 1000), fmt)


def single_base_edits(oligo: np.ndarray) -> np.ndarray:
    """Every sequence of the oligo's length one edit away: each substitution; each deletion, followed by each base
    at the end; each insertion, truncated to the length."""
    L = len(oligo)
    out = []
    for i in range(L):
        for b in range(4):
            if b != oligo[i]:
                sub = oligo.copy()
                sub[i] = b
                out.append(sub)
            out.append(np.concatenate([np.delete(oligo, i), [b]]))
            out.append(np.insert(oligo, i, b)[:L])
    edits = np.array(out, dtype=np.uint8)
    return edits[(edits != oligo).any(1)]  # an edit can give the oligo back (deleting a base and appending it)


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_every_single_base_edit_of_a_sample_fails_the_check(layout):
    rng = np.random.default_rng(25)
    edits_tried = 0
    for pool_id in POOL_IDS:
        pool = _pool(layout, pool_id)
        assert codec.parse_oligos(pool.oligos, pool.fmt).full_ok.all()
        sample = rng.choice(pool.n_oligos, size=min(12, pool.n_oligos), replace=False)
        for j in sample:
            edits = single_base_edits(pool.oligos[j])
            passed = codec.parse_oligos(edits, pool.fmt).full_ok
            assert not passed.any(), (pool_id, j, np.flatnonzero(passed)[:5])
            edits_tried += len(edits)
    assert edits_tried > 1_000


def test_bursts_of_up_to_16_bases_in_index_and_payload_fail_the_check():
    pool = _pool("2000x500B_payload150", 1514)
    fmt, rng = pool.fmt, np.random.default_rng(7)
    body = fmt.header + fmt.payload
    rows = np.repeat(pool.oligos[:20], 500, axis=0)
    width = rng.integers(1, 17, len(rows))
    start = rng.integers(0, body - width + 1)
    pos = np.arange(fmt.length)[None, :]
    inside = (pos >= start[:, None]) & (pos < (start + width)[:, None])
    burst = np.where(inside, (rows + rng.integers(1, 4, rows.shape)) % 4, rows).astype(np.uint8)
    assert (burst != rows).any(1).all()
    assert not codec.parse_oligos(burst, fmt).full_ok.any()


def test_the_last_payload_base_cannot_pass_through_the_checks_first_trit():
    # changing it moves the CRC by one of three fixed syndromes (multiples of 16) and the check's value by 1 or 2
    syndromes = codec.boundary_syndromes()
    assert len(set(syndromes)) == 3 and all(s > 0 and s % 16 == 0 for s in syndromes)
    zeros = np.zeros((1, 40), dtype=np.uint8)
    for start in (0, 12345):  # the same syndrome whatever the row and the start value
        base = int(codec.crc32_rows(zeros, start)[0])
        for flip, s in zip((1, 2, 3), syndromes):
            changed = zeros.copy()
            changed[0, -1] ^= flip
            assert int(codec.crc32_rows(changed, start)[0]) ^ base == s


def test_another_pools_oligos_of_the_same_layout_never_pass():
    a, b = _pool("2000x500B_payload150", 1), _pool("2000x500B_payload150", 2)
    assert a.fmt.length == b.fmt.length
    assert not codec.parse_oligos(b.oligos, a.fmt).full_ok.any()
    assert not codec.parse_oligos(a.oligos, b.fmt).full_ok.any()


def test_version_1_had_the_blind_spot_and_its_pools_still_decode():
    old = _pool("2000x500B_payload150", 1514, version=1, n_files=10)
    assert old.fmt.check_trits == 12 and old.fmt.length == _pool("2000x500B_payload150", 1514).fmt.length - 9
    assert codec.decode_pool_exact(old) == _files(10, 500, 514)
    passed = sum(int(codec.parse_oligos(single_base_edits(o), old.fmt).full_ok.sum()) for o in old.oligos[:40])
    assert passed > 0  # the weakness issue 25 found: one substituted base is a two-trit change


def test_stored_layouts_keep_their_version():
    fmt = codec.OligoFormat(payload=100, pool_id=5)
    assert fmt.version == codec.FORMAT_VERSION == 3 and fmt.check_trits == codec.CRC_TRITS
    assert codec.OligoFormat.from_dict(fmt.to_dict()) == fmt
    old = {"payload": 100, "file_trits": 7, "offset_trits": 7, "header_check_trits": 4, "check_trits": 12,
           "pool_id": 5}  # written before versions existed
    assert codec.OligoFormat.from_dict(old) == codec.OligoFormat(payload=100, pool_id=5, check_trits=12, version=1)


def test_bad_versions_and_widths_are_refused_with_the_valid_choices():
    with pytest.raises(ConfigError, match=r"version=4 is not known; valid versions: 1 \(.*\); 2 \(.*\); 3 \("):
        codec.OligoFormat(version=4)
    with pytest.raises(ConfigError, match="check_trits=12: format version 3's check is CRC-32, written in 21 trits"):
        codec.OligoFormat(check_trits=12)
    with pytest.raises(ConfigError, match=r"unknown layout field\(s\) \['colour'\]"):
        codec.OligoFormat.from_dict({"payload": 100, "colour": 1})
