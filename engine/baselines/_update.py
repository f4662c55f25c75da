"""Compiled recursion for the slowly updated baseline (exponentially weighted, guard lag, exclusions)."""

from __future__ import annotations

import numpy as np
from numba import njit

from engine.baselines._sums import SUM_X, SUM_XX, SUM_Y

FAMILY_CODE = {"count": 0, "proportion": 1, "measure": 2}


@njit(nogil=True, cache=True)
def _shrunk(sy, sx, sxd2, sxxd2, rbar, tau2, disp, fam, zero_events):
    """Posterior-mean rate from exponentially weighted sums (same algebra as ``shrinkage.shrink``)."""
    if sx <= 0:
        return np.nan
    own = sy / sx
    rate = own
    if np.isfinite(rbar) and np.isfinite(tau2) and rbar > 0:
        if fam == 0:
            v = (rbar * sxd2 + disp * rbar * rbar * sxxd2) / (sx * sx)
        elif fam == 1:
            v = rbar * (1 - rbar) * (sxd2 + disp * (sxxd2 - sxd2)) / (sx * sx)
        else:
            v = disp * rbar * sxd2 / (sx * sx)
        if tau2 <= 0:
            rate = rbar
        elif v > 0:
            if fam == 1:
                pq = rbar * (1 - rbar)
                strength = max(pq / tau2 - 1.0, 0.0)
                n_eff = pq / v
            else:
                strength = rbar / tau2
                n_eff = rbar / v
            w = n_eff / (strength + n_eff)
            rate = w * own + (1 - w) * rbar
    if rate <= 0:
        rate = zero_events / sx
    if fam == 1 and rate >= 1:
        rate = 1 - zero_events / sx
    return rate


@njit(nogil=True, cache=True)
def updating_rates(
    y, x, ok, head_of, head_end, head_sums, head_rbar, head_tau2, head_disp, fam, weight, guard, zero_events
):
    """``(S, T)`` expected rate of the updated baseline (NaN before the warm-up ends).

    At period ``t`` the rate uses the warm-up window plus every usable period ``p`` with
    ``warm-up end <= p <= t - 1 - guard``; each absorbed period multiplies the earlier data's weight by
    ``1 - weight``. ``ok`` already excludes missing and caller-excluded periods (held, not decayed).
    """
    s_count, t_count = y.shape
    out = np.full((s_count, t_count), np.nan)
    for s in range(s_count):
        cur = -1
        sy = sx = sxd2 = sxxd2 = 0.0
        nxt = 0
        for t in range(t_count):
            h = head_of[s, t]
            e = head_end[h]
            if t < e:
                continue
            if h != cur:
                cur = h
                sy = head_sums[h, SUM_Y]
                sx = head_sums[h, SUM_X]
                sxd2 = head_sums[h, SUM_X]
                sxxd2 = head_sums[h, SUM_XX]
                nxt = e
            while nxt <= t - 1 - guard:
                if ok[s, nxt]:
                    d = 1.0 - weight
                    sy = d * sy + y[s, nxt]
                    sx = d * sx + x[s, nxt]
                    sxd2 = d * d * sxd2 + x[s, nxt]
                    sxxd2 = d * d * sxxd2 + x[s, nxt] * x[s, nxt]
                nxt += 1
            out[s, t] = _shrunk(
                sy, sx, sxd2, sxxd2, head_rbar[h], head_tau2[h], head_disp[h], fam, zero_events
            )
    return out
