"""The oligo codec: Goldman's ternary Huffman code, byte-aligned indexed chunks, the rotating code, FASTA."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repro.core.checks import ConfigError
from repro.dna import codec
from repro.dna.reads import read_fasta


def test_huffman_code_has_goldmans_shape():
    h = codec.HUFFMAN
    assert (h.min_len, h.max_len) == (5, 6)
    assert int((h.lengths[:256] == 5).sum()) == 236 and int((h.lengths[:256] == 6).sum()) == 20
    assert h.lengths[h.EOC] == 6
    # prefix-free: no codeword is a prefix of another
    words = {tuple(h.codes[s, : h.lengths[s]]) for s in range(257)}
    assert len(words) == 257
    assert not any(w[:5] in words for w in words if len(w) == 6)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=400), min_size=1, max_size=6), st.integers(6, 60))
def test_round_trip_of_any_files(files, payload):
    fmt = codec.OligoFormat.for_files([len(f) for f in files], payload=payload)
    pool = codec.encode_files(files, fmt)
    assert pool.oligos.shape == (pool.n_oligos, fmt.length)
    assert codec.decode_pool_exact(pool) == files
    assert codec.max_homopolymer(pool.oligos) == 1


def test_round_trip_in_any_order_and_empty_file():
    files = [b"", b"\x00", bytes(range(256)) * 2, b""]
    pool = codec.encode_files(files, codec.OligoFormat.for_files([len(f) for f in files], payload=150))
    assert pool.oligos_per_file()[0] == 1  # an empty file is one oligo holding only the end-of-chunk mark
    perm = np.random.default_rng(0).permutation(pool.n_oligos)
    shuffled = codec.Pool(pool.fmt, pool.oligos[perm], pool.file_id[perm], pool.offset[perm], pool.n_bytes[perm],
                          pool.file_sizes)
    assert codec.decode_pool_exact(shuffled) == files


def test_rotating_code_never_repeats_a_base_and_gc_is_balanced():
    trits = np.random.default_rng(1).integers(0, 3, (200, 170))
    bases = codec.trits_to_bases(trits)
    assert codec.max_homopolymer(bases) == 1
    back, valid = codec.bases_to_trits(bases)
    assert valid.all() and np.array_equal(back, trits)
    assert abs(codec.gc_content(bases).mean() - 0.5) < 0.02
    # a substitution that creates a repeat is flagged where it happens
    bad = bases[0].copy()
    bad[10] = bad[9]
    assert not codec.bases_to_trits(bad)[1][10]


def test_chunks_are_byte_aligned_and_indexed():
    data = bytes(np.random.default_rng(2).integers(0, 256, 1000, dtype=np.uint8))
    fmt = codec.OligoFormat.for_files([len(data)], payload=100)
    pool = codec.encode_files([data], fmt)
    assert pool.offset[0] == 0 and np.all(np.diff(pool.offset) >= 0)
    assert np.array_equal(pool.offset[1:], np.cumsum(pool.n_bytes)[:-1])
    parsed = codec.parse_oligos(pool.oligos, fmt)
    assert parsed.full_ok.all() and np.array_equal(parsed.offset, pool.offset)
    chunks, ended = codec.payload_bytes(parsed.payload)
    # format version 3: the file's length and CRC-32 come first
    assert b"".join(chunks) == codec.file_header(data) + data and ended[-1] and not ended[:-1].any()


def test_checks_catch_single_substitutions():
    files = [bytes(range(200))]
    fmt = codec.OligoFormat.for_files([200], payload=150)
    oligo = codec.encode_files(files, fmt).oligos[0]
    caught = 0
    for pos in range(fmt.length):
        for alt in range(4):
            if alt == oligo[pos]:
                continue
            mutant = oligo.copy()
            mutant[pos] = alt
            caught += not codec.parse_oligos(mutant[None], fmt).full_ok[0]
    assert caught == 3 * fmt.length


def test_fasta_writer(tmp_path):
    pool = codec.encode_files([b"hello DNA"], codec.OligoFormat.for_files([9], payload=60))
    path = codec.write_fasta(tmp_path / "pool.fa", pool.oligos, width=50)
    reads, report, names = read_fasta(path, with_names=True)
    assert names == [f"oligo_{i}" for i in range(pool.n_oligos)] and report.malformed == 0
    assert reads.strings() == [codec.to_string(o) for o in pool.oligos]


def test_configuration_errors_name_the_value():
    with pytest.raises(ConfigError, match="oligo_length=20"):
        codec.OligoFormat.for_files([100] * 10, oligo_length=20)
    with pytest.raises(ConfigError, match="payload=3"):
        codec.OligoFormat(payload=3)
    with pytest.raises(ConfigError, match="exceeds the synthesis limit"):
        codec.OligoFormat(payload=1000)
    with pytest.raises(ConfigError, match="check_trits"):
        codec.OligoFormat(check_trits=1)
    fmt = codec.OligoFormat.for_files([10], payload=50)
    with pytest.raises(ConfigError, match="offset_trits"):
        codec.encode_files([bytes(1000)], fmt)
    assert codec.OligoFormat.for_files([10], oligo_length=100).length == 100


def test_six_trit_codewords_sit_on_the_bytes_rare_in_images():
    h, classic = codec.HUFFMAN, codec.CLASSIC_HUFFMAN
    assert h.long_bytes == tuple(sorted(codec.IMAGE_RARE_BYTES)) and len(h.long_bytes) == 20
    assert classic.long_bytes == tuple(range(20))
    # the same shape: only which bytes are long changed
    assert sorted(h.lengths.tolist()) == sorted(classic.lengths.tolist()) and h.lengths[h.EOC] == 6
    # PNG and JPEG files of the committed MNIST sample get shorter, uniform bytes do not change
    import torch

    from repro.coding import classic as classic_codecs
    from repro.data import load_dataset

    images = load_dataset("mnist", "test").x[:50]
    for fmt, q in (("png", None), ("jpeg", 50)):
        data = b"".join(classic_codecs.encode(img.numpy(), fmt, q) for img in images)
        assert h.trits_per_byte(data) < classic.trits_per_byte(data) - 0.05
    uniform = bytes(range(256)) * 4
    assert h.trits_per_byte(uniform) == classic.trits_per_byte(uniform)
    assert isinstance(images, torch.Tensor)
    with pytest.raises(ConfigError, match="long_bytes"):
        codec.HuffmanCode(long_bytes=[1, 1])


def test_padding_is_pseudo_random_and_decoding_ignores_it():
    files = [b"a", b"", b"DNA"]
    # version 2 puts the empty file's end mark first in its payload (version 3 puts the file's header there)
    fmt = codec.OligoFormat.for_files([len(f) for f in files], payload=150, version=2)
    pool = codec.encode_files(files, fmt)
    # zero padding used to become ACGTACGT... under the rotating code: now no tandem repeat beyond chance
    # (repeated bytes in the data itself, e.g. a run of zeros, still repeat their codewords)
    assert codec.longest_tandem_repeat(pool.oligos).max() < 16
    trits, _ = codec.bases_to_trits(pool.oligos)
    tail = trits[1, fmt.header + 6: fmt.header + fmt.payload]  # file 1: the end mark, then padding only
    assert np.array_equal(tail, codec.padding_trits(1, 0, fmt.payload - 6))
    assert codec.decode_pool_exact(pool) == files
    lo, hi = codec.windowed_gc(pool.oligos, 20)
    assert 0.1 <= lo <= hi <= 0.9
    assert codec.max_homopolymer(np.zeros((0, 10), np.uint8)) == 0  # an empty pool
    assert codec.longest_tandem_repeat(codec.to_codes("ACGTACGTACGTAG")[None])[0] == 13  # ACGTACGTACGTA


def test_pool_id_and_layout_seed_the_checks():
    files = [bytes(range(100))]
    a = codec.OligoFormat.for_files([100], payload=150, pool_id=1)
    b = codec.OligoFormat.for_files([100], payload=150, pool_id=2)
    oligos_a = codec.encode_files(files, a).oligos
    assert codec.parse_oligos(oligos_a, a).full_ok.all()
    assert not codec.parse_oligos(oligos_a, b).full_ok.any()
    assert a.check_trits == codec.CRC_TRITS and a.length == b.length
    with pytest.raises(ConfigError, match="pool_id"):
        codec.OligoFormat(pool_id=-1)
