"""Evidence that adapts to the size of the change: an adaptive LLR whose alternative is estimated.

Page's CUSUM of log-likelihood ratios for a *fixed* design shift (rate ratio 1.5, say) is optimal for
exactly that shift and slow for others: a rise from 12% to 25% agency share on 450 shifts a week earns
little more per week than the design shift would, and a ramp earns almost nothing until it is large.
The adaptive CUSUM (Sparks 2000; Lorden & Pollak 2005) replaces the fixed alternative at period ``t``
by an estimate of the shift made from data *before* ``t``:

    r_hat_t = clip( (sum_u w_u y_u + k r0) / (sum_u w_u mu_u + k), r_lo, r_hi ),   u < t

an exponentially weighted observed/expected ratio (weights ``(1 - lam)^(t-1-u)``; ``k`` pseudo
expected events at the design ratio ``r0`` start it), clipped to the closure direction's range of
interest (``r >= r_min`` for a rise, ``r <= 1 / r_min`` for a fall). The increment

    z_t = log f(y_t; r_hat_t mu_t) - log f(y_t; mu_t)

is a true log-likelihood ratio of a *predictable* alternative, so under the in-control model
``E exp(z_t | past) = 1``: the CUSUM of ``z`` is a non-negative supermartingale argument away from
Lorden's ARL bound ``ARL0 >= exp(h)`` (Lorden & Pollak 2005), whatever the estimates do.
Counts use the negative binomial, proportions the beta-binomial with the odds of ``r_hat p``
(capped below 1), measures the quasi-Poisson ratio, exactly as the fixed-shift increments
(:mod:`engine.detectors.scores`).

Everything is ``(S, T)`` arrays; the ratio recursion is one compiled pass (no per-series Python loop).
Output at ``t`` uses inputs at periods ``<= t`` only.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engine.detectors.scores import binomial_llr, poisson_llr

_EPS = 1e-9


@njit(cache=True, nogil=True)
def _ewma_ratio(
    y: np.ndarray, mu: np.ndarray, lam: float, prior_events: float, r0: float, lo: float, hi: float
) -> np.ndarray:
    """``(S, T)`` clipped exponentially weighted observed/expected ratio from periods ``< t``."""
    s_count, t_count = y.shape
    out = np.empty((s_count, t_count))
    keep = 1.0 - lam
    for s in range(s_count):
        sy = prior_events * r0
        sm = prior_events
        for t in range(t_count):
            r = sy / sm if sm > 0 else r0
            out[s, t] = min(max(r, lo), hi)
            yt, mt = y[s, t], mu[s, t]
            if yt == yt and mt == mt and mt >= 0:  # observed, baseline ready
                sy = keep * sy + lam * yt
                sm = keep * sm + lam * mt
            # a missing period is no evidence: the estimate carries over unchanged
        # end of series
    return out


def shift_estimate(
    y: np.ndarray,
    expected: np.ndarray,
    direction: str,
    design_ratio: float,
    min_ratio: float,
    max_ratio: float,
    lam: float,
    prior_events: float,
) -> np.ndarray:
    """``(S, T)`` predictable ratio ``r_hat_t`` in ``direction`` (``up``: ``>= min_ratio``; ``down``:
    ``<= 1 / min_ratio``), from the exponentially weighted ratio of ``y`` to ``expected`` before ``t``.

    ``expected`` is the in-control expected numerator (``rate * n``; NaN where not ready).
    """
    if direction == "up":
        lo, hi = min_ratio, max_ratio
    else:
        lo, hi = 1.0 / max_ratio, 1.0 / min_ratio
    yy = np.ascontiguousarray(y, dtype=np.float64)
    mm = np.ascontiguousarray(expected, dtype=np.float64)
    return _ewma_ratio(yy, mm, float(lam), float(prior_events), float(design_ratio), lo, hi)


def adaptive_llr(
    family: str,
    y: np.ndarray,
    n: np.ndarray,
    rate: np.ndarray,
    dispersion: np.ndarray,
    direction: str,
    design_ratio: float,
    min_ratio: float,
    max_ratio: float,
    lam: float,
    prior_events: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive LLR increments (nats; NaN where no evidence) and the ratio used at each period.

    For proportions the ratio applies to the probability (``p1 = min(r p, 1 - eps)``) and enters the
    beta-binomial LLR as the odds ratio ``p1 (1 - p) / (p (1 - p1))``.
    """
    with np.errstate(invalid="ignore"):
        expected = rate * n
    ratio = shift_estimate(y, expected, direction, design_ratio, min_ratio, max_ratio, lam, prior_events)
    if family == "proportion":
        p = np.clip(rate, _EPS, 1 - _EPS)
        p1 = np.clip(ratio * p, _EPS, 1 - 1e-6)
        odds = p1 * (1 - p) / (p * (1 - p1))
        return binomial_llr(y, n, p, odds, dispersion), ratio
    return poisson_llr(y, expected, ratio, family, dispersion), ratio
