"""BBMap's randomreads.sh as a second read simulator (skipped, with the reason, where it is not installed)."""

import numpy as np
import pytest

from repro.dna import bbmap, codec
from repro.dna.decoder import decode_reads
from repro.dna.errorstats import error_profile
from repro.dna.simulator import ErrorModel, simulate_reads

needs_bbmap = pytest.mark.skipif(not bbmap.bbmap_available(), reason=bbmap.missing_reason() or "BBMap found")


@pytest.fixture(scope="module")
def pool_and_files():
    rng = np.random.default_rng(0)
    files = [bytes(rng.integers(0, 256, int(n), dtype=np.uint8)) for n in rng.integers(50, 300, 12)]
    return codec.encode_files(files, codec.OligoFormat.for_files([len(f) for f in files], payload=150)), files


def test_missing_tool_gives_a_clear_message(monkeypatch):
    monkeypatch.setattr(bbmap.shutil, "which", lambda name: None)
    monkeypatch.setattr(bbmap, "DEBIAN_PATH", "/nonexistent/randomreads.sh")
    assert not bbmap.bbmap_available()
    with pytest.raises(bbmap.BBMapNotFound, match="apt-get install bbmap"):
        bbmap.simulate_reads_bbmap(np.zeros((2, 20), np.uint8), 1.0)


def test_per_read_rate_matches_the_expected_count():
    x = bbmap.per_read_rate(1e-3, 170)
    assert x / (1 - x) == pytest.approx(0.17)


@needs_bbmap
def test_bbmap_reads_follow_our_coverage_model_and_decode(pool_and_files, tmp_path):
    pool, files = pool_and_files
    sim = bbmap.simulate_reads_bbmap(pool.oligos, 12, ErrorModel(), bias_sigma=0.3, seed=1, workdir=tmp_path)
    assert np.array_equal(np.bincount(sim.source, minlength=pool.n_oligos), sim.counts)
    assert sim.backend == "bbmap" and set(np.unique(sim.reads.lengths)) == {pool.fmt.length}
    out, report = decode_reads(sim.reads, pool.fmt, len(files))
    assert [f.data for f in out] == files and report.oligos_recovered == pool.n_oligos


@needs_bbmap
def test_backends_error_statistics_compared(pool_and_files, tmp_path):
    pool, _ = pool_and_files
    errors = ErrorModel(substitution=2e-3, insertion=1e-3, deletion=1e-3)
    ours = error_profile(simulate_reads(pool.oligos, 10, errors, seed=2), pool.oligos)
    theirs = error_profile(bbmap.simulate_reads_bbmap(pool.oligos, 10, errors, seed=2, workdir=tmp_path), pool.oligos)
    assert theirs["reverse_fraction"] == pytest.approx(0.5, abs=0.08)
    # fixed-length reads: no deletions inside a read, an insertion pushes the oligo's end out of the read
    assert theirs["deletion"] < 2e-4 < ours["deletion"]
    assert theirs["truncation"] == pytest.approx(theirs["insertion"], rel=0.3)
    assert theirs["insertion"] == pytest.approx(1e-3, rel=0.35)
    # substitutions: the set SNP rate plus the Illumina quality model on top
    assert theirs["substitution"] > ours["substitution"] * 1.2
    assert ours["substitution"] == pytest.approx(2e-3, rel=0.25)
