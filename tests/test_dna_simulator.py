"""The numpy read simulator: measured error rates match the set ones, coverage and bias, strands, seeding."""

import numpy as np
import pytest

from repro.core.checks import ConfigError
from repro.dna import codec
from repro.dna.errorstats import error_profile
from repro.dna.simulator import ErrorModel, draw_read_counts, simulate_reads


@pytest.fixture(scope="module")
def oligos():
    return codec.trits_to_bases(np.random.default_rng(0).integers(0, 3, (300, 170)))


def test_measured_rates_match_the_set_ones(oligos):
    errors = ErrorModel(substitution=0.01, insertion=0.004, deletion=0.006)
    sim = simulate_reads(oligos, 20, errors, seed=3)
    prof = error_profile(sim, oligos, max_reads=3000)
    # 3000 reads x 170 bases: about 5,000 substitutions, 2,000 insertions, 3,000 deletions; alignment may merge
    # an adjacent insertion and deletion into a substitution, so allow 15 %
    assert prof["substitution"] == pytest.approx(0.01, rel=0.15)
    assert prof["insertion"] == pytest.approx(0.004, rel=0.15)
    assert prof["deletion"] == pytest.approx(0.006, rel=0.15)
    assert prof["reverse_fraction"] == pytest.approx(0.5, abs=0.05)
    expected_free = (1 - errors.total) ** 170
    assert prof["error_free_fraction"] == pytest.approx(expected_free, abs=0.05)


def test_error_free_channel_gives_exact_copies(oligos):
    sim = simulate_reads(oligos, 3, ErrorModel(0, 0, 0), bias_sigma=0.0, seed=1)
    for i in range(0, len(sim.reads), 37):
        read = sim.reads[i]
        expected = codec.reverse_complement(oligos[sim.source[i]]) if sim.reverse[i] else oligos[sim.source[i]]
        assert np.array_equal(read, expected)


def test_coverage_bias_and_dropouts():
    rng = np.random.default_rng(0)
    counts = draw_read_counts(20000, 2.0, 0.5, rng)
    assert counts.sum() == 40000
    flat = draw_read_counts(20000, 2.0, 0.0, np.random.default_rng(0))
    # log-normal abundance widens the count distribution beyond Poisson and drops more oligos
    assert counts.var() > flat.var() * 1.3
    assert (counts == 0).mean() > (flat == 0).mean()
    assert (flat == 0).mean() == pytest.approx(np.exp(-2), abs=0.01)


def test_seeded_and_shuffled(oligos):
    a = simulate_reads(oligos, 2, seed=5)
    b = simulate_reads(oligos, 2, seed=5)
    c = simulate_reads(oligos, 2, seed=6)
    assert np.array_equal(a.reads.flat, b.reads.flat) and np.array_equal(a.source, b.source)
    assert not np.array_equal(a.source, c.source)
    assert not np.all(np.diff(a.source) >= 0)  # not in oligo order


def test_bad_settings_name_the_value(oligos):
    with pytest.raises(ConfigError, match="substitution rate"):
        ErrorModel(substitution=-0.1)
    with pytest.raises(ConfigError, match="coverage"):
        simulate_reads(oligos, 0, seed=0)
    with pytest.raises(ConfigError, match="bias_sigma"):
        simulate_reads(oligos, 1, bias_sigma=-1)
