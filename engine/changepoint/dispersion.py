"""Per-series overdispersion and noise-scale estimates that are not fooled by level shifts.

A change-point cost must know how noisy a series is when the rate is constant, but a global Pearson
statistic over the whole series counts every level shift as noise. These estimators compare each
observed period only with the **next observed period** of the same series (a local, difference-based
estimate), so a handful of real changes barely moves them.

* Counts (quasi-Poisson, ``Var y = phi * mu``): for consecutive observed periods ``t, u`` with
  ``w = n_t / (n_t + n_u)`` and ``s = y_t + y_u``, ``D = y_t - w s`` has ``E D^2 = phi * E[s w (1 - w)]``
  when the rate is locally constant, so ``phi = sum D^2 / sum s w (1 - w)``.
* Proportions (quasi-binomial, ``Var y = phi * n p (1 - p)``): ``D = y_t / n_t - y_u / n_u``,
  ``E D^2 = phi p (1 - p) (1 / n_t + 1 / n_u)`` with ``p (1 - p)`` estimated unbiasedly from the pair.
* Normal mean: ``sigma = 1.4826 * median |x_u - x_t| / sqrt 2`` (MAD of first differences); the root
  mean square difference / sqrt 2 when the MAD is 0 (many ties); 0 for a constant series.

``phi`` is floored at 1 (under-dispersion is not credited) and set to 1 when fewer than
:data:`MIN_PAIRS` informative pairs exist. The row functions work on the compressed observed values
of one series and are called from the compiled change-point kernel.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from engine.changepoint.costs import BINOMIAL, POISSON, cost_factory
from engine.runtime.kernels import sized

#: Informative consecutive pairs needed before an estimated dispersion is used (otherwise 1).
MIN_PAIRS = 10


@nb.njit(nogil=True, cache=True, error_model="numpy")
def dispersion_row(y: np.ndarray, n: np.ndarray, m: int, code: int) -> float:
    """``phi >= 1`` from the first ``m`` (observed, consecutive) values of one series."""
    num = 0.0
    den = 0.0
    count = 0
    for j in range(m - 1):
        yt, yu, nt, nu = y[j], y[j + 1], n[j], n[j + 1]
        tot, tot_n = yt + yu, nt + nu
        if code == POISSON:
            w = nt / tot_n
            d = yt - w * tot
            e = tot * w * (1.0 - w)
        else:
            p = tot / tot_n
            e = p * (1.0 - p) * tot_n / max(tot_n - 1.0, 1.0) * (1.0 / nt + 1.0 / nu)
            d = yt / nt - yu / nu
        if e > 0.0:
            num += d * d
            den += e
            count += 1
    if count < MIN_PAIRS or den <= 0.0:
        return 1.0
    return max(num / den, 1.0)


@nb.njit(nogil=True, cache=True, error_model="numpy")
def sigma_row(x: np.ndarray, m: int) -> float:
    """Noise standard deviation from first differences of the first ``m`` observed values ``x``."""
    if m < 2:
        return 0.0
    diff = np.empty(m - 1)
    sq = 0.0
    for j in range(m - 1):
        diff[j] = abs(x[j + 1] - x[j])
        sq += diff[j] * diff[j]
    mad = np.median(diff)
    if mad > 0.0:
        return 1.4826 * mad / np.sqrt(2.0)
    return np.sqrt(sq / (m - 1)) / np.sqrt(2.0)


@sized(20_000)
@nb.njit(nogil=True, cache=True, parallel=True, error_model="numpy")
def _dispersion_many(y: np.ndarray, n: np.ndarray, code: int) -> np.ndarray:
    s_count, t_count = y.shape
    out = np.empty(s_count)
    for i in nb.prange(s_count):
        yy = np.empty(t_count)
        nn = np.empty(t_count)
        m = 0
        for t in range(t_count):
            if np.isfinite(y[i, t]) and np.isfinite(n[i, t]) and n[i, t] > 0.0:
                yy[m] = y[i, t]
                nn[m] = n[i, t]
                m += 1
        if code in (POISSON, BINOMIAL):
            out[i] = dispersion_row(yy, nn, m, code)
        else:
            for j in range(m):
                yy[j] = yy[j] / nn[j]
            out[i] = sigma_row(yy, m)
    return out


def estimate_dispersion(y: np.ndarray, n: np.ndarray, model: str) -> np.ndarray:
    """Per-series ``phi`` (``poisson``, ``binomial``) or ``sigma`` of ``y / n`` (``normal``).

    Parameters
    ----------
    y, n:
        ``(S, T)`` numerator and exposure; periods with non-finite ``y`` or ``n``, or ``n <= 0``,
        are skipped (pairs are formed between consecutive observed periods).
    model:
        Cost name.

    Returns
    -------
    ``(S,)`` float.
    """
    y = np.atleast_2d(np.asarray(y, dtype=float))
    n = np.broadcast_to(np.asarray(n, dtype=float), y.shape)
    return _dispersion_many(y, np.ascontiguousarray(n), cost_factory(model).code)
