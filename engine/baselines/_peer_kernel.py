"""Compiled per-stratum sums of the peer windows (the hot part of the group priors).

:func:`engine.baselines.fit._peer_priors` needs, for each stratum, sums over its ~10-1,000 peer
windows (~1.5 M windows on the national panel): the dispersion moment terms
(:func:`engine.baselines.dispersion.moment_terms`) and the group-prior sums of
:func:`engine.baselines.shrinkage.group_prior`. Written with NumPy they take six passes and a dozen
``(P,)`` temporaries; here they take two passes and none.

Exactness: every cell value is the same IEEE expression, in the same operation order, as the NumPy
code (numba does not contract ``a * b + c`` into a fused multiply-add without ``fastmath``), and the
sums add the windows in row order like ``np.bincount(stratum, weights=...)``. The per-stratum
finishing steps stay in NumPy. ``family``: 0 count, 1 proportion, 2 measure
(:data:`engine.baselines._update.FAMILY_CODE`).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engine.baselines._sums import N_PERIODS, SUM_X, SUM_XX, SUM_XXX, SUM_XY, SUM_Y, SUM_YY, SUM_YY_OVER_X

_BIG = np.finfo(np.float64).max


@njit(nogil=True, cache=True, error_model="numpy")
def moment_sums(stratum, sums, family, n_strata):
    """Per stratum: summed moment terms ``(num, den)`` of its windows at their own rate ``Y/X``,
    and ``(total_w, total_y, n_peers)`` (exposure, events, windows with exposure)."""
    num_s = np.zeros(n_strata)
    den_s = np.zeros(n_strata)
    total_w = np.zeros(n_strata)
    total_y = np.zeros(n_strata)
    n_peers = np.zeros(n_strata)
    for i in range(stratum.size):
        j = stratum[i]
        m, sy, sx = sums[i, N_PERIODS], sums[i, SUM_Y], sums[i, SUM_X]
        syy, sxy, sxx, sxxx = sums[i, SUM_YY], sums[i, SUM_XY], sums[i, SUM_XX], sums[i, SUM_XXX]
        r = sy / sx
        if np.isnan(r):  # np.nan_to_num
            r = 0.0
        elif r == np.inf:
            r = _BIG
        elif r == -np.inf:
            r = -_BIG
        inv_n = 1.0 / sx if sx > 0 else 0.0
        if family == 0:
            num = (syy - 2 * r * sxy + r * r * sxx) - (sy - sxy * inv_n)
            den = r * r * (sxx - sxxx * inv_n)
        elif family == 1:
            pq = r * (1 - r)
            num = (syy - 2 * r * sxy + r * r * sxx) - pq * (sx - sxx * inv_n)
            den = pq * (sxx - sx - (sxxx - sxx) * inv_n)
        else:
            num = (sums[i, SUM_YY_OVER_X] - 2 * r * sy + r * r * sx) / r if r > 0 else 0.0
            den = max(m - 1, 0.0)
        ok = np.isfinite(num) and np.isfinite(den) and den > 0
        num_s[j] += num if ok else 0.0
        den_s[j] += den if ok else 0.0
        use = sx > 0
        total_w[j] += sx if use else 0.0
        total_y[j] += sy if use else 0.0
        n_peers[j] += 1.0 if use else 0.0
    return num_s, den_s, total_w, total_y, n_peers


@njit(nogil=True, cache=True, error_model="numpy")
def prior_sums(stratum, sums, rbar, pooled, total_w, family, n_strata):
    """Per stratum: ``q``, ``expected_noise`` and ``c`` of the between-ward variance estimate, each
    window's sampling variance taken at its stratum's group rate and pooled dispersion."""
    q = np.zeros(n_strata)
    noise = np.zeros(n_strata)
    c = np.zeros(n_strata)
    for i in range(stratum.size):
        j = stratum[i]
        sy, sx, sxx = sums[i, SUM_Y], sums[i, SUM_X], sums[i, SUM_XX]
        use = sx > 0
        w = sx if use else 0.0
        rb = rbar[j]
        d = pooled[j]
        r_j = sy / sx if use else 0.0
        if family == 0:
            v = rb / sx + d * rb * rb * sxx / (sx * sx)
        elif family == 1:
            v = rb * (1 - rb) / sx * (1 + d * (sxx / sx - 1))
        else:
            v = d * rb / sx
        if not sx > 0:
            v = np.inf
        frac = 1 - w / total_w[j] if use else 0.0
        dev = r_j - rb
        q[j] += w * (dev * dev) if use else 0.0
        noise[j] += w * frac * v if use and np.isfinite(v) else 0.0
        c[j] += w * frac
    return q, noise, c
