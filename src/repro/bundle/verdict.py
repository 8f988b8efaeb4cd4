"""The one verdict module: points with intervals and p-values, the multi-point (Holm) rule, and standing.

Everything here follows ``shared/CLAIMS.md`` as written:

- A *point* is a signed effect (positive = the direction the paper claims) with a 95 % two-sided interval: a
  Student-t interval over seeds (paired by seed), a Clopper-Pearson or two-proportion interval, or a bootstrap
  over test images for one fixed, untrained artefact. Its p-value (two-sided, zero effect) comes from the same
  distribution: Student t with ``n_seeds - 1`` degrees of freedom for seed intervals, normal otherwise (the
  interval's half-width / 1.96 as the standard error).
- :func:`decide`: one point's verdict (``holds`` / ``fails`` when its interval excludes zero, ``inconclusive``
  when it crosses zero, ``untested`` without an interval or when a sanity rule fails).
- :func:`holm_verdict`: a claim over several points, Holm-corrected at a family-wise 5 %: ``holds`` when every
  point is significant in the claimed direction, ``fails`` when at least one is significant against it,
  ``inconclusive`` otherwise. One chance outlier among many points does not decide.
- :func:`model_converged` and :func:`standing`: a trained model is *converged* when its test distortion is within
  10 % of the paper's own number, or its validation distortion improved by less than 1 % over the last quarter of
  its epochs (:mod:`repro.core.convergence`), or it had at least half the paper's training; a verdict is ``final``
  when every trained model it rests on is converged, else ``provisional``. Untrained artefacts are final by nature.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from repro.core.checks import ConfigError
from repro.core.convergence import PLATEAU_REL, last_quarter_improvement

VERDICTS = ("holds", "fails", "inconclusive", "untested")
STANDINGS = ("final", "provisional")
ALPHA = 0.05
LEVEL = 0.95
WITHIN_PAPER = 0.10       # converged: test distortion within 10 % of the paper's own number
HALF_THE_PAPER = 0.5      # converged: at least half the paper's image passes


@dataclass
class Point:
    label: str
    effect: float
    lo: float = float("nan")
    hi: float = float("nan")
    n_seeds: int = 1
    uncertainty: str = "none"
    sanity_ok: bool | None = True
    sanity_note: str = ""
    offset: float = 0.0  # the claim's threshold: the measured quantity is effect + offset
    converged: bool | None = None  # every trained model behind the point converged (None: not assessed / untrained)
    convergence_note: str = ""

    @property
    def has_interval(self) -> bool:
        return not (math.isnan(self.lo) or math.isnan(self.hi))

    @property
    def verdict(self) -> str:
        return decide(self.lo, self.hi, self.sanity_ok, self.has_interval)

    @property
    def t_interval(self) -> bool:
        return "t-interval" in self.uncertainty and self.n_seeds >= 2

    @property
    def p_value(self) -> float:
        """Two-sided p-value of a zero effect, from the distribution behind the interval (NaN without one)."""
        if not self.has_interval:
            return float("nan")
        half = (self.hi - self.lo) / 2
        centre = (self.hi + self.lo) / 2
        if half <= 0:
            return 0.0 if centre != 0 else 1.0
        if self.t_interval:
            df = self.n_seeds - 1
            se = half / stats.t.ppf(0.5 + LEVEL / 2, df)
            return float(2 * stats.t.sf(abs(centre) / se, df))
        se = half / stats.norm.ppf(0.5 + LEVEL / 2)
        return float(2 * stats.norm.sf(abs(centre) / se))


def decide(lo: float, hi: float, sanity_ok: bool | None, has_interval: bool = True) -> str:
    """The verdict of one signed effect (positive = as the paper claims) with its 95 % interval."""
    if not has_interval:
        return "untested"
    if lo > hi:
        raise ConfigError(f"interval low {lo} is above high {hi}")
    crosses = lo <= 0 <= hi
    if sanity_ok is not True:
        return "inconclusive" if crosses else "untested"
    if crosses:
        return "inconclusive"
    return "holds" if lo > 0 else "fails"


def seed_interval(diffs, level: float = LEVEL) -> tuple[float, float, float]:
    """(mean, low, high): Student-t interval over per-seed (paired) differences; NaN bounds with one seed."""
    d = np.asarray(diffs, dtype=np.float64)
    d = d[~np.isnan(d)]
    if len(d) == 0:
        raise ConfigError("no values to summarize")
    m = float(d.mean())
    if len(d) < 2:
        return m, float("nan"), float("nan")
    half = float(stats.t.ppf(0.5 + level / 2, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d)))
    return m, m - half, m + half


def holm(p_values: list[float], alpha: float = ALPHA) -> list[bool]:
    """Holm's step-down procedure: which hypotheses are rejected at family-wise level ``alpha`` (NaN: never)."""
    order = sorted(range(len(p_values)), key=lambda i: (math.isnan(p_values[i]), p_values[i]))
    m = len(p_values)
    rejected = [False] * m
    for rank, i in enumerate(order):
        p = p_values[i]
        if math.isnan(p) or p > alpha / (m - rank):
            break
        rejected[i] = True
    return rejected


def holm_verdict(pts: list[Point], alpha: float = ALPHA) -> tuple[str, list[str]]:
    """The multi-point rule of CLAIMS.md over ``pts`` and each point's reading (``for`` / ``against`` / ``n.s.`` /
    ``excluded``).

    A point with ``sanity_ok`` None is excluded (S2: the favoured system at or above the mean image carries no
    information) and is not part of the Holm family; any point with ``sanity_ok`` False (S1: a system that does
    not work at its least noisy point) makes the claim ``untested``, as does a claim with no point left or whose
    every point lacks an interval. Points without an interval stay in the family and are never significant."""
    kept = [p for p in pts if p.sanity_ok is not None]
    if not kept or not any(p.has_interval for p in kept) or any(p.sanity_ok is False for p in kept):
        return "untested", ["excluded" if p.sanity_ok is None else "untested" for p in pts]
    usable = [p.has_interval for p in kept]
    pv = [p.p_value if ok else float("nan") for p, ok in zip(kept, usable)]
    sig = iter(holm(pv, alpha))
    reading = []
    for p in pts:
        if p.sanity_ok is None:
            reading.append("excluded")
            continue
        s_ = next(sig)
        reading.append("for" if s_ and p.effect > 0 else "against" if s_ else "n.s.")
    live = [r_ for r_ in reading if r_ != "excluded"]
    if "against" in live:
        return "fails", reading
    if all(r_ == "for" for r_ in live):
        return "holds", reading
    return "inconclusive", reading


def model_converged(*, test_value: float | None = None, paper_value: float | None = None,
                    val_curve: list[float] | None = None, compute_fraction: float | None = None) -> tuple[bool, str]:
    """``(converged, why)`` for one trained model under the three criteria of CLAIMS.md (any one suffices)."""
    reasons = []
    if test_value is not None and paper_value is not None and not (math.isnan(test_value) or math.isnan(paper_value)):
        rel = (test_value - paper_value) / abs(paper_value)
        if rel <= WITHIN_PAPER:
            return True, f"test {test_value:.4g} within 10 % of the paper's {paper_value:.4g} ({100 * rel:+.1f} %)"
        reasons.append(f"test {test_value:.4g} is {100 * rel:+.1f} % from the paper's {paper_value:.4g}")
    if val_curve is not None and len(val_curve) >= 2:
        imp = last_quarter_improvement(val_curve)
        if imp < PLATEAU_REL:
            return True, f"validation plateau ({100 * imp:.2f} % over the last quarter of {len(val_curve)} epochs)"
        reasons.append(f"validation still improving ({100 * imp:.1f} % over the last quarter of "
                       f"{len(val_curve)} epochs)")
    if compute_fraction is not None and not math.isnan(compute_fraction):
        if compute_fraction >= HALF_THE_PAPER:
            return True, f"compute fraction {compute_fraction:.2f} >= {HALF_THE_PAPER}"
        reasons.append(f"compute fraction {compute_fraction:.2g}")
    return False, "; ".join(reasons) or "no convergence evidence"


def standing(converged: bool | None, trained: bool = True) -> str:
    """``final`` for untrained artefacts and for verdicts whose trained models all converged, else
    ``provisional``."""
    if not trained:
        return "final"
    return "final" if converged is True else "provisional"
