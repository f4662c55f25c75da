"""Provider-wide shifts: a contemporaneous, leave-one-out common-mode factor per provider.

A change that appears on most wards of a provider at once (a new incident-reporting system, a changed
definition, winter sickness) should not become a closed-culture signal on every ward. Each ward's
expected count at period t is multiplied by the ratio of observed to expected counts on the *other*
wards of its provider at the same period, shrunk towards 1 by ``kappa`` pseudo-events:

    f_w,t = (sum_{w' != w} y_w',t + kappa) / (sum_{w' != w} mu_w',t + kappa)

Only same-period data of other wards are used: no look-ahead.
"""

from __future__ import annotations

import numpy as np
from numba import njit


def group_index(*keys: np.ndarray) -> tuple[np.ndarray, int]:
    """Dense integer codes for the combinations of the given ``(S,)`` key arrays."""
    stacked = np.rec.fromarrays([np.asarray(k).astype(str) for k in keys])
    _, codes = np.unique(stacked, return_inverse=True)
    codes = codes.ravel()
    return codes, int(codes.max()) + 1 if codes.size else 0


def common_mode_factor(
    y: np.ndarray,
    mu: np.ndarray,
    group: np.ndarray,
    n_groups: int,
    kappa: float,
) -> np.ndarray:
    """Leave-one-out common-mode factor ``f`` of shape ``(S, T)``.

    Parameters
    ----------
    y, mu:
        ``(S, T)`` observed and expected counts (expected successes for proportions); NaN where not
        observed or no baseline yet. Only periods where both are finite contribute.
    group:
        ``(S,)`` group code of each series: one group per (provider, indicator).
    kappa:
        Shrinkage in expected events: with few events on the other wards ``f`` stays near 1.
    """
    y = np.ascontiguousarray(y, dtype=np.float64)
    mu = np.ascontiguousarray(mu, dtype=np.float64)
    group = np.asarray(group, dtype=np.int64)
    y_sum, mu_sum = pooled_by_group(y, mu, group, n_groups)
    return _leave_one_out(y, mu, group, y_sum, mu_sum, float(kappa))


@njit(cache=True, nogil=True)
def _masked_group_sums(
    y: np.ndarray, mu: np.ndarray, group: np.ndarray, y_sum: np.ndarray, mu_sum: np.ndarray
) -> None:
    """Group sums of y and mu over the periods where both are finite (0.0 added elsewhere, in row
    order: the same floating-point sums as ``np.add.at`` of the zero-filled arrays)."""
    for s in range(y.shape[0]):
        g = group[s]
        for t in range(y.shape[1]):
            ok = np.isfinite(y[s, t]) and np.isfinite(mu[s, t])
            y_sum[g, t] += y[s, t] if ok else 0.0
            mu_sum[g, t] += mu[s, t] if ok else 0.0


@njit(cache=True, nogil=True, error_model="numpy")
def _leave_one_out(
    y: np.ndarray, mu: np.ndarray, group: np.ndarray, y_sum: np.ndarray, mu_sum: np.ndarray, kappa: float
) -> np.ndarray:
    out = np.empty(y.shape)
    for s in range(y.shape[0]):
        g = group[s]
        for t in range(y.shape[1]):
            ok = np.isfinite(y[s, t]) and np.isfinite(mu[s, t])
            y0 = y[s, t] if ok else 0.0
            mu0 = mu[s, t] if ok else 0.0
            out[s, t] = (y_sum[g, t] - y0 + kappa) / (mu_sum[g, t] - mu0 + kappa)
    return out


def pooled_by_group(
    y: np.ndarray, mu: np.ndarray, group: np.ndarray, n_groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """``(G, T)`` pooled observed and expected counts over the periods where both are finite."""
    y_sum = np.zeros((n_groups, y.shape[1]))
    mu_sum = np.zeros((n_groups, y.shape[1]))
    _masked_group_sums(
        np.ascontiguousarray(y, dtype=np.float64),
        np.ascontiguousarray(mu, dtype=np.float64),
        np.asarray(group, dtype=np.int64),
        y_sum,
        mu_sum,
    )
    return y_sum, mu_sum


FAMILY_CODES: dict[str, int] = {"count": 0, "proportion": 1, "measure": 2}


def pooled_moments(
    y: np.ndarray,
    observed: np.ndarray,
    n: np.ndarray,
    rate: np.ndarray,
    dispersion: np.ndarray,
    family: np.ndarray,
    group: np.ndarray,
    n_groups: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(G, T)`` pooled observed, expected, in-control variance and number of contributing series.

    The provider-wide CUSUM's inputs in one pass, with no ``(S, T)`` temporary. Per cell: the
    observation ``y`` (NaN where not ``observed``), its expectation ``mu = rate * n`` and variance
    (:func:`engine.detectors.scores.variance` of the series' ``family``: NB ``mu + alpha mu^2``,
    beta-binomial ``mu (1 - p)(1 + (n - 1) rho)``, quasi-Poisson ``phi mu``; 0 for other families).
    Observed and expected are pooled where both are finite (as :func:`pooled_by_group`); variance
    and count where all three are. Sums run in row order, so they equal ``np.add.at`` of the masked
    arrays bit for bit.
    """
    codes = np.array([FAMILY_CODES.get(str(f), -1) for f in family], dtype=np.int64)
    shape = (n_groups, y.shape[1])
    out = tuple(np.zeros(shape) for _ in range(4))
    _pooled_moments(
        np.ascontiguousarray(y, dtype=np.float64),
        np.ascontiguousarray(observed, dtype=np.bool_),
        np.ascontiguousarray(n, dtype=np.float64),
        np.ascontiguousarray(rate, dtype=np.float64),
        np.ascontiguousarray(dispersion, dtype=np.float64),
        codes,
        np.asarray(group, dtype=np.int64),
        *out,
    )
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _pooled_moments(
    y: np.ndarray,
    observed: np.ndarray,
    n: np.ndarray,
    rate: np.ndarray,
    dispersion: np.ndarray,
    family: np.ndarray,
    group: np.ndarray,
    y_sum: np.ndarray,
    mu_sum: np.ndarray,
    var_sum: np.ndarray,
    count: np.ndarray,
) -> None:
    for s in range(y.shape[0]):
        g, fam = group[s], family[s]
        for t in range(y.shape[1]):
            yv = y[s, t] if observed[s, t] else np.nan
            mu = rate[s, t] * n[s, t]
            d = dispersion[s, t]
            if fam == 0:
                var = mu + d * mu * mu
            elif fam == 1:
                var = mu * (1.0 - rate[s, t]) * (1.0 + (n[s, t] - 1.0) * d)
            elif fam == 2:
                var = d * mu
            else:
                var = 0.0
            both = np.isfinite(yv) and np.isfinite(mu)
            y_sum[g, t] += yv if both else 0.0
            mu_sum[g, t] += mu if both else 0.0
            ok = both and np.isfinite(var)
            var_sum[g, t] += var if ok else 0.0
            count[g, t] += 1.0 if ok else 0.0
