"""Per-period log-likelihood-ratio increments and standardised residuals under the baseline.

Inputs are ``(S, T)`` arrays; ``expected_rate`` is the in-control rate per unit exposure (a probability
for proportions) and ``dispersion`` follows :mod:`engine.baselines` (NB ``alpha`` for counts,
beta-binomial ``rho`` for proportions, quasi-Poisson ``phi`` for measures). Any NaN input gives a NaN
output (the detectors then skip the period).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy.special import betaln


def _broadcast(dispersion: float | np.ndarray | None, shape: tuple[int, int], default: float) -> np.ndarray:
    """Scalar, ``(S,)`` or ``(S, T)`` dispersion as an ``(S, T)`` array (``None`` -> ``default``)."""
    if dispersion is None:
        return np.full(shape, default)
    d = np.asarray(dispersion, dtype=float)
    if d.ndim == 1:
        d = d[:, None]
    return np.broadcast_to(d, shape)


def poisson_llr(
    y: np.ndarray,
    mu: np.ndarray,
    rate_ratio: float | np.ndarray,
    family: str = "count",
    dispersion: float | np.ndarray | None = None,
) -> np.ndarray:
    """Log-likelihood ratio of ``mu1 = rate_ratio * mu`` against ``mu`` for each period.

    * count, no/zero dispersion (Poisson): ``y ln(rho) + (1 - rho) mu``;
    * count with NB ``alpha > 0`` (Höhle–Paul NB score): ``kappa y + (y + 1/alpha) ln[(1 + alpha mu) /
      (1 + alpha mu e^kappa)]`` with ``kappa = ln(rho)``;
    * measure: quasi-likelihood ratio ``(y ln(rho) + (1 - rho) mu) / phi``.
    """
    kappa = np.log(rate_ratio)
    with np.errstate(invalid="ignore", divide="ignore"):
        pois = kappa * y + (1.0 - rate_ratio) * mu
        if family == "measure":
            phi = _broadcast(dispersion, y.shape, 1.0)
            return pois / phi
        if dispersion is None:
            return pois
        a = _broadcast(dispersion, y.shape, 0.0)
        safe = np.where(a > 0, a, 1.0)
        nb = kappa * y + (y + 1.0 / safe) * (np.log1p(safe * mu) - np.log1p(safe * mu * rate_ratio))
        return np.where(a > 0, nb, pois)


def binomial_llr(
    y: np.ndarray,
    n: np.ndarray,
    p: np.ndarray,
    odds_ratio: float | np.ndarray,
    dispersion: float | np.ndarray | None = None,
) -> np.ndarray:
    """Log-likelihood ratio of odds ``odds_ratio * p/(1-p)`` against ``p`` for ``y`` out of ``n``.

    Binomial: ``y ln(OR) - n ln(1 - p + OR p)``. Beta-binomial with intra-class correlation
    ``rho > 0`` (mean ``p``, ``a + b = (1 - rho)/rho``): difference of the log beta-binomial pmfs
    (the binomial coefficients cancel).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        binom = y * np.log(odds_ratio) - n * np.log1p(p * (odds_ratio - 1.0))
        if dispersion is None:
            return binom
        rho = _broadcast(dispersion, y.shape, 0.0)
        y, n, p, odds = np.broadcast_arrays(y, n, p, np.asarray(odds_ratio, dtype=float))
        # The beta-binomial ratio (eight lgamma calls, the expensive part) is evaluated only where
        # it is used and its inputs are finite; elsewhere it would be NaN, as is ``binom``.
        use = rho > 0
        cells = use & np.isfinite(y) & np.isfinite(n) & np.isfinite(p)
        out = np.where(use, np.nan, binom)
        out[cells] = _beta_binomial_llr(
            *(np.ascontiguousarray(a[cells], dtype=np.float64) for a in (y, n, p, rho, odds))
        )
        return out


@njit(cache=True, nogil=True, error_model="numpy")
def _beta_binomial_llr(y, n, p, rho, odds):  # pragma: no cover - compiled
    """Beta-binomial log-likelihood ratio per cell (1-D arrays): mean ``odds``-shifted ``p`` vs ``p``.

    With ``s = (1 - rho)/rho``, ``a = p s`` and ``b = (1 - p) s``, the log pmf is
    ``ln B(y + a, n - y + b) - ln B(a, b)`` plus the binomial coefficient. Both hypotheses share
    ``a + b = s``, so the ``ln Gamma(n + s) - ln Gamma(s)`` terms of the two log beta ratios cancel
    exactly and the ratio is eight ``lgamma`` calls: ~2.5x faster than four ``scipy.special.betaln``
    calls, and at least as accurate against the exact rising-factorial sum (tested: within 1e-10 for
    ``rho >= 1e-3``; both forms lose ~1e-9 at ``rho = 1e-6``, where the arguments are ~1e6).
    """
    out = np.empty(y.size)
    for i in range(y.size):
        pc, s = p[i], (1.0 - rho[i]) / rho[i]
        p1 = odds[i] * pc / (1.0 - pc + odds[i] * pc)
        a0, b0, a1, b1 = pc * s, (1.0 - pc) * s, p1 * s, (1.0 - p1) * s
        events, others = y[i], n[i] - y[i]
        out[i] = (
            (math.lgamma(events + a1) - math.lgamma(a1))
            - (math.lgamma(events + a0) - math.lgamma(a0))
            + (math.lgamma(others + b1) - math.lgamma(b1))
            - (math.lgamma(others + b0) - math.lgamma(b0))
        )
    return out


def variance(
    n: np.ndarray, rate: np.ndarray, family: str, dispersion: float | np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Expected numerator and its in-control variance (NB, beta-binomial or quasi-Poisson)."""
    with np.errstate(invalid="ignore"):
        mu = rate * n
        if family == "count":
            a = _broadcast(dispersion, mu.shape, 0.0)
            return mu, mu + a * mu * mu
        if family == "proportion":
            rho = _broadcast(dispersion, mu.shape, 0.0)
            return mu, mu * (1.0 - rate) * (1.0 + (n - 1.0) * rho)
        if family == "measure":
            phi = _broadcast(dispersion, mu.shape, 1.0)
            return mu, phi * mu
    raise ValueError(f"unknown family {family!r}")


def pearson_residual(
    y: np.ndarray, n: np.ndarray, rate: np.ndarray, family: str, dispersion: float | np.ndarray | None = None
) -> np.ndarray:
    """``(y - E y) / sqrt(Var y)`` under the baseline, with overdispersion in the variance.

    NaN where the variance is not positive (e.g. an expected rate of exactly zero).
    """
    mu, var = variance(n, rate, family, dispersion)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var > 0, (y - mu) / np.sqrt(np.where(var > 0, var, 1.0)), np.nan)


def log_prob_zero(
    n: np.ndarray, rate: np.ndarray, family: str, dispersion: float | np.ndarray | None = None
) -> np.ndarray:
    """``log P(Y = 0)`` under the baseline.

    count: Poisson ``-mu`` or NB ``-ln(1 + alpha mu)/alpha``; proportion: binomial ``n ln(1 - p)`` or
    beta-binomial ``ln B(a, b + n) - ln B(a, b)``; measure: ``-mu/phi`` (``Y/phi`` quasi-Poisson).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = rate * n
        if family == "count":
            a = _broadcast(dispersion, mu.shape, 0.0)
            safe = np.where(a > 0, a, 1.0)
            return np.where(a > 0, -np.log1p(safe * mu) / safe, -mu)
        if family == "proportion":
            rho = _broadcast(dispersion, mu.shape, 0.0)
            r = np.where(rho > 0, rho, 0.5)
            s = (1.0 - r) / r
            bb = betaln(rate * s, (1.0 - rate) * s + n) - betaln(rate * s, (1.0 - rate) * s)
            return np.where(rho > 0, bb, n * np.log1p(-rate))
        if family == "measure":
            phi = _broadcast(dispersion, mu.shape, 1.0)
            return -mu / phi
    raise ValueError(f"unknown family {family!r}")
