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
Counts use the negative binomial and measures the quasi-Poisson ratio, exactly as the fixed-shift
increments (:mod:`engine.detectors.scores`). Proportions use the beta-binomial, with the estimated
ratio applied in one of two ways (``proportion_scale``):

* ``probability``: ``p1 = min(r_hat p, 1 - eps)``, entering the LLR as the odds ratio
  ``p1 (1 - p) / (p (1 - p1))``;
* ``odds``: an odds ratio, as the fixed design shift uses, estimated on the odds scale:

      OR_hat_t = clip( [(sum_u w_u y_u + k r0) / (sum_u w_u mu_u + k)]
                       / [(sum_u w_u (n_u - y_u) + k) / (sum_u w_u (n_u - mu_u) + k)], r_lo, r_hi )

  (the weighted "yes" counts against their expectation over the same ratio for the "no" counts).
  For a small proportion (agency share) the two agree; for a high one with a closure direction of
  down (supervision held in 90% of cases) the smallest alternative of interest is then odds
  ``1 / 1.5`` (90% -> 86%), where ``probability`` bets on ``90% / 1.5 = 60%``: every compliant month
  then counts several nats against a fall, and a real fall from 90% to 80% counts against itself.

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


@njit(cache=True, nogil=True)
def _ewma_odds_ratio(
    y: np.ndarray,
    n: np.ndarray,
    mu: np.ndarray,
    lam: float,
    prior_events: float,
    r0: float,
    lo: float,
    hi: float,
) -> np.ndarray:
    """``(S, T)`` clipped exponentially weighted observed/expected odds ratio from periods ``< t``."""
    s_count, t_count = y.shape
    out = np.empty((s_count, t_count))
    keep = 1.0 - lam
    for s in range(s_count):
        sy, sm = prior_events * r0, prior_events  # "yes": observed and expected, prior at r0
        fy, fm = prior_events, prior_events  # "no": observed and expected, prior at no shift
        for t in range(t_count):
            r = (sy / sm) / (fy / fm)
            out[s, t] = min(max(r, lo), hi)
            yt, nt, mt = y[s, t], n[s, t], mu[s, t]
            if yt == yt and nt == nt and mt == mt and mt >= 0 and nt >= yt:
                sy = keep * sy + lam * yt
                sm = keep * sm + lam * mt
                fy = keep * fy + lam * (nt - yt)
                fm = keep * fm + lam * max(nt - mt, 0.0)
    return out


def _ratio_range(direction: str, min_ratio: float, max_ratio: float) -> tuple[float, float]:
    """Clip range of the estimated ratio: ``[min, max]`` for a rise, ``[1/max, 1/min]`` for a fall."""
    if direction == "up":
        return min_ratio, max_ratio
    return 1.0 / max_ratio, 1.0 / min_ratio


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
    lo, hi = _ratio_range(direction, min_ratio, max_ratio)
    yy = np.ascontiguousarray(y, dtype=np.float64)
    mm = np.ascontiguousarray(expected, dtype=np.float64)
    return _ewma_ratio(yy, mm, float(lam), float(prior_events), float(design_ratio), lo, hi)


def odds_shift_estimate(
    y: np.ndarray,
    n: np.ndarray,
    expected: np.ndarray,
    direction: str,
    design_ratio: float,
    min_ratio: float,
    max_ratio: float,
    lam: float,
    prior_events: float,
) -> np.ndarray:
    """``(S, T)`` predictable odds ratio in ``direction`` for ``y`` out of ``n`` (proportions), from the
    exponentially weighted "yes" and "no" counts against their expectations before ``t``."""
    lo, hi = _ratio_range(direction, min_ratio, max_ratio)
    yy, nn, mm = (np.ascontiguousarray(a, dtype=np.float64) for a in (y, n, expected))
    return _ewma_odds_ratio(yy, nn, mm, float(lam), float(prior_events), float(design_ratio), lo, hi)


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
    proportion_scale: str = "probability",
) -> tuple[np.ndarray, np.ndarray]:
    """Adaptive LLR increments (nats; NaN where no evidence) and the ratio used at each period.

    For proportions, ``proportion_scale`` says whether the estimated ratio multiplies the probability
    (``probability``) or is an odds ratio (``odds``, :func:`odds_shift_estimate`); see the module
    docstring.
    """
    with np.errstate(invalid="ignore"):
        expected = rate * n
    if family == "proportion":
        p = np.clip(rate, _EPS, 1 - _EPS)
        if proportion_scale == "odds":
            odds = odds_shift_estimate(
                y, n, p * n, direction, design_ratio, min_ratio, max_ratio, lam, prior_events
            )
            return binomial_llr(y, n, p, odds, dispersion), odds
        if proportion_scale != "probability":
            raise ValueError(f"unknown proportion scale {proportion_scale!r}")
        ratio = shift_estimate(y, expected, direction, design_ratio, min_ratio, max_ratio, lam, prior_events)
        p1 = np.clip(ratio * p, _EPS, 1 - 1e-6)
        odds_of_p1 = p1 * (1 - p) / (p * (1 - p1))
        return binomial_llr(y, n, p, odds_of_p1, dispersion), ratio
    ratio = shift_estimate(y, expected, direction, design_ratio, min_ratio, max_ratio, lam, prior_events)
    return poisson_llr(y, expected, ratio, family, dispersion), ratio
