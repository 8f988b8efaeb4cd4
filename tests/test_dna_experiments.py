"""Notebook 05's orchestration: exactness means bytes equal to the original, monotone coverage thresholds."""

import numpy as np
import pandas as pd
import pytest

from repro.dna.decoder import RecoveredFile
from repro.dna.storage import MethodPayload
from repro.experiments import dna_storage as ex


def test_monotone_threshold_ignores_a_success_below_a_failure():
    cov = np.array([1, 2, 3, 5, 10])
    assert ex.monotone_threshold(cov, [False, True, False, True, True]) == 5
    assert ex.monotone_threshold(cov, [True] * 5) == 1
    assert np.isnan(ex.monotone_threshold(cov, [True, True, True, True, False]))
    assert ex.monotone_threshold(cov[::-1], [True, True, False, True, False]) == 5  # order does not matter
    assert np.isnan(ex.monotone_threshold(np.array([]), []))


def test_cost_table_uses_the_monotone_exact_coverage():
    rows = []
    for cov, complete, ms in ((np.inf, 1.0, 0.9), (1, 0.2, 0.5), (2, 1.0, 0.9), (3, 0.9, 0.895), (5, 1.0, 0.9)):
        for seed in (0, 1):
            rows.append(dict(label="PNG", coverage=cov, metric="ms_ssim", value=ms, complete_images=complete,
                             seed=seed))
    sweep = pd.DataFrame(rows)
    pools = pd.DataFrame([dict(label="PNG", bpp=2.0, bytes_per_image=200, oligo_length=180, oligos_per_image=10,
                               nt_per_image=1800)])
    cost = ex.cost_table(sweep, pools).iloc[0]
    assert cost.coverage_exact == 5 and cost.coverage_exact_first == 2
    assert cost.reads_per_image_exact == 50
    assert cost.coverage_approx == 2  # 0.895 is within 1 % of 0.9 at 3x: all of 2, 3, 5 qualify


def test_exact_means_equal_to_the_original():
    originals = [b"abcd", b"efgh"]
    payload = MethodPayload("PNG", None, originals, 2, 4)
    good = RecoveredFile.exact(b"abcd")
    wrong = RecoveredFile(b"efgX", np.ones(4, bool), True)  # complete, but one byte differs
    assert ex.exact_images(payload, [good, wrong]).tolist() == [True, False]
    assert ex.wrong_known_bytes(payload, [good, wrong]) == 1
    # packed VAE records: two images of 2 bytes in one file; the second record has an unknown byte
    vae = MethodPayload("VAEN", 8, [b"abcd"], 2, 4, record_bytes=2, layout="packed")
    partial = RecoveredFile(b"abc\x00", np.array([True, True, True, False]), True)
    assert ex.exact_images(vae, [partial]).tolist() == [True, False]
    assert ex.wrong_known_bytes(vae, [partial]) == 0


def test_every_method_gets_its_own_pool_id():
    ids = {ex.pool_id_for(label) for label in ("VAEN 8-bit", "VAEU 8-bit", "JPEG q50", "PNG")}
    assert len(ids) == 4 and all(0 <= i < 2**32 for i in ids)
    with pytest.raises(IndexError):  # ok shorter than coverages: numpy's out-of-bounds index
        ex.monotone_threshold(np.array([1, 2]), [True])
