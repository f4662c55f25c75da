"""Exact ARL of a Shewhart chart for individual normal observations (known σ).

Each period signals independently with probability ``p``, so the run length is geometric and
``ARL = 1/p`` exactly.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.stats import norm

from engine.arl.results import ArlResult

Sided = Literal["one", "two"]


def shewhart_signal_probability(L: float, shift: float = 0.0, sided: Sided = "two") -> float:
    """Probability that one observation falls outside the limits.

    Parameters
    ----------
    L : float
        Limit multiplier (limits at ``±L`` σ around the in-control mean), > 0.
    shift : float
        True mean minus in-control mean, in σ units.
    sided : {"two", "one"}
        ``"two"``: both limits; ``"one"``: the upper limit only (use a negative ``shift`` mirrored
        for a lower chart).

    Returns
    -------
    float
        ``Φ(−L−δ) + 1 − Φ(L−δ)`` (two-sided) or ``1 − Φ(L−δ)`` (one-sided).
    """
    if L <= 0:
        raise ValueError("L must be positive")
    upper = float(norm.sf(L - shift))
    if sided == "one":
        return upper
    if sided != "two":
        raise ValueError(f"sided must be 'one' or 'two', not {sided!r}")
    return upper + float(norm.cdf(-L - shift))


def shewhart_arl(L: float, shift: float = 0.0, sided: Sided = "two") -> ArlResult:
    """Exact zero-state ARL (periods) of an individuals Shewhart chart: ``1/p``.

    See :func:`shewhart_signal_probability` for the parameters. 3-sigma two-sided gives 370.4.
    """
    p = shewhart_signal_probability(L, shift, sided)
    return ArlResult(arl=float(np.inf) if p == 0 else 1.0 / p, method="closed_form")


def shewhart_false_alarm_probability(L: float, periods: int, sided: Sided = "two") -> float:
    """Exact probability of at least one in-control signal within ``periods`` periods."""
    p = shewhart_signal_probability(L, 0.0, sided)
    return float(-np.expm1(periods * np.log1p(-p)))
