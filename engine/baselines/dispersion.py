"""Method-of-moments overdispersion from warm-up residuals, per window (poolable by summing).

Each estimator returns a numerator and a denominator so that a pooled estimate over several series is
simply ``sum(num) / sum(den)`` (the moment equations add up). All use the leverage correction
``h_t = x_t / sum(x)`` of a single fitted rate per window, so a window of pure Poisson (binomial) data
gives an unbiased zero dispersion rather than a negative bias from estimating the rate.

Dispersion parameters by family (the meaning every detector reads):

* ``count``: negative-binomial ``alpha`` with ``Var(Y) = mu + alpha * mu**2`` (``alpha = 1/size``);
  moment equation ``E[(y - mu)^2 - (1 - h) y] = (1 - h) alpha mu^2``.
* ``proportion``: beta-binomial intra-class correlation ``rho`` with
  ``Var(Y) = n p (1 - p) (1 + (n - 1) rho)``; moment equation
  ``E[(y - n p)^2 - (1 - h) n p (1 - p)] = (1 - h) n (n - 1) p (1 - p) rho``.
* ``measure`` (hours and other non-integer amounts): quasi-Poisson scale ``phi`` with
  ``Var(Y) = phi * mu`` (``phi`` carries the unit of the measure, so it is not clipped at 1);
  Pearson estimate ``sum((y - mu)^2 / mu) / (m - 1)``.
"""

from __future__ import annotations

import numpy as np

from engine.baselines._sums import N_PERIODS, SUM_X, SUM_XX, SUM_XXX, SUM_XY, SUM_Y, SUM_YY, SUM_YY_OVER_X


def moment_terms(sums: np.ndarray, rate: np.ndarray, family: str) -> tuple[np.ndarray, np.ndarray]:
    """Numerator and denominator of the dispersion moment equation for each window.

    Parameters
    ----------
    sums : (K, 8)
        Window sums from :func:`engine.baselines._sums.window_sums`.
    rate : (K,)
        The rate fitted on the same window (events per unit exposure, or a probability).
    family : {"count", "proportion", "measure"}

    Returns
    -------
    num, den : (K,) float64
        ``dispersion = num / den`` (before clipping); windows with no information have ``den = 0``.
    """
    m, sy, sx = sums[:, N_PERIODS], sums[:, SUM_Y], sums[:, SUM_X]
    syy, sxy, sxx, sxxx = sums[:, SUM_YY], sums[:, SUM_XY], sums[:, SUM_XX], sums[:, SUM_XXX]
    r = np.nan_to_num(rate)
    with np.errstate(invalid="ignore", divide="ignore"):
        inv_n = np.where(sx > 0, 1.0 / sx, 0.0)
        if family == "count":
            num = (syy - 2 * r * sxy + r * r * sxx) - (sy - sxy * inv_n)
            den = r * r * (sxx - sxxx * inv_n)
        elif family == "proportion":
            pq = r * (1 - r)
            num = (syy - 2 * r * sxy + r * r * sxx) - pq * (sx - sxx * inv_n)
            den = pq * (sxx - sx - (sxxx - sxx) * inv_n)
        elif family == "measure":
            num = np.where(
                r > 0, (sums[:, SUM_YY_OVER_X] - 2 * r * sy + r * r * sx) / np.where(r > 0, r, 1.0), 0.0
            )
            den = np.maximum(m - 1, 0.0)
        else:
            raise ValueError(f"unknown family {family!r}")
    ok = np.isfinite(num) & np.isfinite(den) & (den > 0)
    return np.where(ok, num, 0.0), np.where(ok, den, 0.0)


def finish(num: np.ndarray, den: np.ndarray, family: str) -> np.ndarray:
    """Turn (pooled) moment terms into a dispersion value, clipped to its valid range.

    ``alpha >= 0``; ``0 <= rho <= 0.99``; ``phi >= 1e-9``. No information (``den == 0``) gives the
    equidispersed value (0 for alpha/rho, 1 for phi).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        raw = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.nan)
    if family == "count":
        return np.where(np.isnan(raw), 0.0, np.clip(raw, 0.0, None))
    if family == "proportion":
        return np.where(np.isnan(raw), 0.0, np.clip(raw, 0.0, 0.99))
    return np.where(np.isnan(raw), 1.0, np.clip(raw, 1e-9, None))
