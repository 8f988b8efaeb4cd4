"""Wall-clock timing of a callable: one warm-up call, then the median of repeated timed calls."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from repro.core.checks import check_range


def median_seconds(run_once: Callable[[], object], repeats: int = 3) -> tuple[float, list[float], object]:
    """Call ``run_once`` once untimed (warm-up; its result is returned), then ``repeats`` times timed.

    Returns ``(median seconds, every timed duration, the warm-up's result)``. ``run_once`` must finish its own
    asynchronous work (e.g. ``torch.cuda.synchronize()``) before returning.
    """
    check_range("timing repeats", repeats, 1, 10_000, integer=True)
    warm = run_once()
    times = []
    for _ in range(int(repeats)):
        t0 = time.perf_counter()
        run_once()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times, warm
