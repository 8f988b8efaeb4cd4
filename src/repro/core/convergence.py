"""The plateau rule of ``shared/CLAIMS.md``: a validation curve has converged when its best value improved by less
than ``rel`` (relative) over the last quarter of its epochs. One definition, used by the training loop's stopping
rule (:func:`repro.core.training.fit`, ``stop_plateau``) and by the claims ledger's ``converged`` column."""

from __future__ import annotations

import math
from collections.abc import Sequence

PLATEAU_REL = 0.01


def last_quarter_improvement(values: Sequence[float]) -> float:
    """Relative improvement of the running minimum of ``values`` (lower is better) over the last quarter of the
    epochs: ``(min(values[:n - q]) - min(values)) / min(values[:n - q])`` with ``q = ceil(n / 4)``; ``nan`` for
    fewer than 2 values."""
    vals = [float(v) for v in values]
    n = len(vals)
    if n < 2:
        return float("nan")
    q = max(1, math.ceil(n / 4))
    before = min(vals[: n - q])
    if before == 0:
        return 0.0 if min(vals) >= 0 else float("inf")
    return (before - min(vals)) / abs(before)


def plateaued(values: Sequence[float], rel: float = PLATEAU_REL) -> bool:
    """True when the curve ``values`` (lower is better) improved by less than ``rel`` over its last quarter."""
    imp = last_quarter_improvement(values)
    return not math.isnan(imp) and imp < rel
