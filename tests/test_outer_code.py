"""The Reed-Solomon outer code across oligos, mosaics, and the comparison at equal nucleotides (issue 27)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from repro.core.checks import ConfigError
from repro.dna import storage
from repro.dna.decoder import RecoveredFile
from repro.dna.outer_code import OuterCode, OuterCodeError


def _erase(data: bytes, spans) -> RecoveredFile:
    arr = np.frombuffer(data, np.uint8).copy()
    known = np.ones(len(arr), bool)
    for lo, n in spans:
        known[lo:lo + n] = False
    arr[~known] = 0
    return RecoveredFile(arr.tobytes(), known, True)


def _wrong_known(out, original: bytes) -> int:
    got, ref = np.frombuffer(out.data, np.uint8), np.frombuffer(original, np.uint8)
    return int(((got != ref) & out.known).sum())


@pytest.fixture
def data():
    return np.random.default_rng(7).integers(0, 256, 1000, dtype=np.uint8).tobytes()


def test_sizes_are_counted_exactly_and_zero_redundancy_is_the_identity(data):
    code = OuterCode.for_redundancy(0.25, 30, size=len(data))
    assert (code.data_rows, code.parity_rows) == (34, 9)  # ceil(1000 / 30) rows, ceil(0.25 * 34) parity rows
    assert code.protected_size(len(data)) == 1000 + 9 * 30 == len(code.encode(data))
    assert code.encode(data)[:1000] == data  # systematic: the data comes first, unchanged
    big = OuterCode.for_redundancy(0.5, 30, size=30 * 500)  # 500 rows: blocks of 170 + 85 <= 255
    assert big.data_rows + big.parity_rows <= 255 and big.blocks(30 * 500) == 3
    none = OuterCode.for_redundancy(0.0, 30, size=len(data))
    assert none.encode(data) == data and none.decode(_erase(data, [(0, 5)]), len(data)).missing_bytes == 5


def test_any_lost_rows_up_to_the_parity_are_recovered_and_more_are_reported(data):
    code = OuterCode.for_redundancy(0.25, 30, size=len(data))
    stored = code.encode(data)
    rng = np.random.default_rng(0)
    # 9 lost oligos, each a 30-byte span at an arbitrary (unaligned) offset, parity rows included: each codeword
    # loses at most one symbol per span
    for trial in range(20):
        starts = rng.choice(len(stored) - 30, size=9, replace=False)
        starts = np.sort(starts)
        if np.any(np.diff(starts) < 30):
            continue  # overlapping spans are fewer lost oligos; keep the test about exactly 9
        out = code.decode(_erase(stored, [(int(s), 30) for s in starts]), len(data))
        assert out.complete and out.data == data, trial
    # 10 lost rows of the same block: beyond the code; nothing wrong is marked known, the message says why
    lost = _erase(stored, [(30 * i, 30) for i in range(10)])
    out = code.decode(lost, len(data))
    assert not out.complete and out.codewords_failed == 30 and out.max_erasures == 10
    assert _wrong_known(out, data) == 0 and out.missing_bytes == 300
    with pytest.raises(OuterCodeError, match=r"up to 10 symbols of one codeword were missing .* corrects 9"):
        code.decode(lost, len(data), require_complete=True)


def test_a_wrong_known_byte_is_caught_by_the_spare_parity(data):
    code = OuterCode.for_redundancy(0.25, 30, size=len(data))
    stored = bytearray(code.encode(data))
    stored[31] ^= 0x5A  # a byte the inner decoder marked known, but wrong, in column 1
    rec = _erase(bytes(stored), [(60, 30)])  # one lost row: column 1 has 1 erasure and 8 spare parity symbols
    out = code.decode(rec, len(data))
    assert out.codewords_inconsistent == 1 and out.codewords_recovered == 29
    assert not out.known[61] and out.known[60]  # column 1's erasure stays unknown, column 0's was filled


def test_truncated_stored_file_and_bad_arguments(data):
    code = OuterCode.for_redundancy(0.3, 25, size=len(data))
    stored = code.encode(data)
    short = RecoveredFile(stored[:-40], np.ones(len(stored) - 40, bool), False)  # the tail (parity) never came
    out = code.decode(short, len(data))
    assert out.complete and out.data == data
    with pytest.raises(ConfigError, match="redundancy=2.0 is outside its valid range"):
        OuterCode.for_redundancy(2.0, 30)
    with pytest.raises(ConfigError, match="parity_rows=250 is outside"):
        OuterCode(10, 250, 30)


def test_mosaics_round_trip_and_a_failed_file_blanks_its_group():
    imgs = torch.rand(10, 1, 28, 28)
    p = storage.mosaic_payload(imgs, "PNG", group=4)
    assert len(p.files) == 3 and p.label == "PNG mosaic4"
    files = [RecoveredFile.exact(f) for f in p.files]
    x, failed = storage.images_from_mosaics(p, files, (1, 28, 28))
    assert not failed.any()
    torch.testing.assert_close(x, torch.round(imgs * 255) / 255, atol=1e-6, rtol=0)  # PNG is lossless
    files[1] = RecoveredFile(b"", np.zeros(0, bool), False)
    x, failed = storage.images_from_mosaics(p, files, (1, 28, 28))
    assert failed.tolist() == [False] * 4 + [True] * 4 + [False] * 2 and float(x[4:8].abs().sum()) == 0
    half = storage.mosaic_payload(imgs, "JPEG", quality=50, group=5, scale=2)
    assert half.label == "JPEG q50 mosaic5 1/2" and half.extra["tile"] == (14, 14)
    x, failed = storage.images_from_mosaics(half, [RecoveredFile.exact(f) for f in half.files], (1, 28, 28))
    assert x.shape == (10, 1, 28, 28) and not failed.any()
    with pytest.raises(ConfigError, match="mosaic scale=40 is outside"):
        storage.mosaic_payload(imgs, "PNG", scale=40)


def test_protect_and_unprotect_a_payload():
    imgs = torch.rand(6, 1, 28, 28)
    p = storage.mosaic_payload(imgs, "JPEG", quality=20, group=3)
    pp = storage.protect(p, 0.5, 30)
    assert pp.label == "JPEG q20 mosaic3 +RS50%" and pp.expected_sizes() == [len(f) for f in pp.files]
    assert all(len(a) > len(b) for a, b in zip(pp.files, p.files))
    lost = [_erase(pp.files[0], [(30, 30), (90, 30)]), RecoveredFile.exact(pp.files[1])]
    inner, files, totals = storage.unprotect(pp, lost)
    assert inner.label == p.label and [f.data for f in files] == p.files and all(f.complete for f in files)
    assert totals["outer_files_recovered"] == 1 and totals["outer_codewords_failed"] == 0


def test_the_claims_table_pairs_by_seed_and_names_where_the_classic_overtakes():
    from repro.experiments import equal_nucleotides as eq

    rows = []
    for seed in (0, 1, 2):
        for cov, vae, cl in ((2.0, 0.80, 0.30), (3.0, 0.82, 0.60), (10.0, 0.83, 0.90)):
            base = dict(split="test", seed=seed, coverage=cov, scale=2, redundancy=0.25, nt_per_image=190.0,
                        decode_failures=0.0, psnr=20.0)
            rows.append({**base, "kind": "vae", "family": "VAEN", "setting": 8, "label": "VAEN 8-bit",
                         "ms_ssim": vae + 0.01 * seed})
            rows.append({**base, "kind": "classic", "family": "JPEG", "setting": 5, "label": "JPEG q5",
                         "ms_ssim": cl})
    test = pd.DataFrame(rows)
    choice = pd.DataFrame([dict(coverage=c, family="JPEG", scale=2, redundancy=0.25, val_label="JPEG q5",
                                val_ms_ssim=0.5) for c in (2.0, 3.0, 10.0)])
    claim = eq.claim_table(test, choice)
    assert len(claim) == 9 and claim.vae_minus_classic.round(3).tolist()[:3] == [0.5, 0.51, 0.52]
    assert eq.overtake_coverage(claim) == 10.0


def _outer_claim(root, vae, classic, seeds=(0, 1, 2)):
    import json

    rows = [dict(coverage=c, seed=s, vae_label="VAEN 8-bit", vae_ms_ssim=vae[c][i], vae_psnr=20.0,
                 vae_nt_per_image=195.0, light_label="VAEN 6-bit +RS25%", light_ms_ssim=0.5, light_nt_per_image=183.0,
                 classic_label="JPEG q5 mosaic100 1/2 +RS25%", classic_ms_ssim=classic[c][i],
                 classic_nt_per_image=190.0, classic_val_ms_ssim=0.5, classic_decode_failures=0.0,
                 vae_minus_classic=vae[c][i] - classic[c][i])
            for c in vae for i, s in enumerate(seeds)]
    (root / "05_dna_storage").mkdir(parents=True)
    pd.DataFrame(rows).to_csv(root / "05_dna_storage" / "outer_code.csv", index=False)
    (root / "manifest.json").write_text(json.dumps({"artifacts": {"05_dna_storage/outer_code.csv": {
        "kind": "table", "reproduces": "x", "description": "", "notebook": "05_dna_storage", "profile": "cpu",
        "seeds": list(seeds), "params": {"epochs": 10}, "commit": "abc", "date": "2026-01-01"}}}))


@pytest.mark.parametrize("classic_at_3x, verdict", [((0.30, 0.31, 0.29), "holds"), ((0.90, 0.91, 0.92), "fails"),
                                                   ((0.60, 0.85, 0.95), "inconclusive")])
def test_the_ledger_decides_graceful_vs_outer_code_at_2x_and_3x(tmp_path, classic_at_3x, verdict):
    from repro.bundle import claims as C

    _outer_claim(tmp_path, {2.0: (0.80, 0.81, 0.79), 3.0: (0.82, 0.83, 0.81), 10.0: (0.83, 0.83, 0.83)},
                 {2.0: (0.20, 0.22, 0.21), 3.0: classic_at_3x, 10.0: (0.95, 0.95, 0.95)})
    baselines = pd.DataFrame([dict(dataset="mnist", split="test", unit=u, value=v, n_train=10, n_test=10, pixels=784)
                              for u, v in (("l2_per_image", 52.9), ("l2_per_pixel", 52.9 / 784))])
    led, pts = C.evaluate(tmp_path, baselines)
    row = led.set_index("claim_id").loc["gdna.graceful_vs_outer_code"]
    assert row.verdict == verdict and row.n_seeds == 3
    assert "JPEG q5 mosaic100 1/2 +RS25%" in row.why and "from 10x" in row.why or verdict == "fails"
    assert len(pts[pts.claim_id == "gdna.graceful_vs_outer_code"]) == 2
