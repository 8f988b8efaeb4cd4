import time

import pytest

from repro.core.checks import ConfigError
from repro.core.timing import median_seconds


def test_median_of_repeats_after_a_warm_up():
    calls = []

    def work():
        calls.append(1)
        time.sleep(0.01)
        return len(calls)

    median, times, warm = median_seconds(work, repeats=3)
    assert warm == 1 and len(calls) == 4 and len(times) == 3
    assert 0.009 < median < 0.2 and min(times) <= median <= max(times)
    with pytest.raises(ConfigError, match="repeats"):
        median_seconds(work, repeats=0)
