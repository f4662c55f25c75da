"""Compiled monitoring-mode XmR kernel: one pass per series, rows in parallel.

The arithmetic is that of the array formulation documented in :mod:`engine.charts.monitor`, done in
the same order (row cumulative sums over the compacted series, differences of those sums, screening
sums accumulated from lag 0 upwards), so the results are bit-identical to it; the kernel only avoids
materialising the ``(S, T)`` temporaries of every lag. No look-ahead: the state at column ``k`` reads
compacted cells ``<= k`` only.
"""

from __future__ import annotations

import numba as nb
import numpy as np

# point-type and rule codes: plain ints, which numba freezes as compile-time constants
from engine.charts.codes import COMMON_CAUSE as _COMMON
from engine.charts.codes import CONCERN as _CONCERN
from engine.charts.codes import IMPROVEMENT as _IMPROVEMENT
from engine.charts.codes import NEUTRAL_HIGH as _NEUTRAL_HIGH
from engine.charts.codes import NEUTRAL_LOW as _NEUTRAL_LOW
from engine.charts.codes import OUTSIDE_LIMITS as _OUTSIDE
from engine.charts.codes import RUN as _RUN
from engine.charts.codes import TREND as _TREND
from engine.charts.codes import TWO_IN_THREE as _TWO_IN_THREE
from engine.runtime.kernels import sized


@nb.njit(nogil=True, cache=True, inline="always")
def _sign(v: float) -> int:
    """``sign(v)`` as an int, 0 for NaN (as ``np.sign(...).astype(int8)`` on NaN)."""
    if v > 0.0:
        return 1
    if v < 0.0:
        return -1
    return 0


@sized(200_000)
@nb.njit(cache=True, parallel=True, error_model="numpy", nogil=True)
def monitor_rows(
    arr: np.ndarray,
    group: np.ndarray,
    direction: np.ndarray,
    include_current: bool,
    cap: int,
    max_lag: int,
    screen: bool,
    screen_multiplier: float,
    limit_multiplier: float,
    min_points: int,
    run_length: int,
    trend_length: int,
    two_in_three_beyond_3sigma: bool,
    mean_out: np.ndarray,
    lpl_out: np.ndarray,
    upl_out: np.ndarray,
    lo2_out: np.ndarray,
    up2_out: np.ndarray,
    nb_out: np.ndarray,
    eval_out: np.ndarray,
    pt_out: np.ndarray,
    rule_out: np.ndarray,
    side_out: np.ndarray,
) -> None:
    """Fill the ``*_out`` arrays (pre-filled with their missing values) for every row of ``arr``."""
    s_count, t_count = arr.shape
    two_thirds = 2.0 / 3.0
    n_window = max(run_length, 3)
    for i in nb.prange(s_count):
        pos = np.empty(t_count, dtype=np.int64)
        x = np.empty(t_count)
        g = np.empty(t_count, dtype=np.int32)
        m = 0
        for t in range(t_count):
            v = arr[i, t]
            if not np.isnan(v):
                pos[m] = t
                x[m] = v
                g[m] = group[i, t]
                m += 1
        if m == 0:
            continue
        rank = np.empty(m, dtype=np.int64)
        start = np.empty(m, dtype=np.int64)
        cx = np.empty(m + 1)
        cm = np.empty(m + 1)
        mr = np.empty(m)
        cx[0] = 0.0
        cm[0] = 0.0
        st = 0
        for k in range(m):
            if k == 0 or g[k] != g[k - 1]:
                st = k
            rank[k] = k - st
            start[k] = st
            mr[k] = abs(x[k] - x[k - 1]) if rank[k] >= 1 else 0.0
            # as np.cumsum: the first sum is the first element itself (keeps the sign of -0.0)
            cx[k + 1] = cx[k] + x[k] if k > 0 else x[k]
            cm[k + 1] = cm[k] + mr[k] if k > 0 else mr[k]
        # mean moving range of the baseline ending at each cell j, screened once
        amr_at = np.empty(m)
        for j in range(m):
            a = (cm[j + 1] - cm[start[j] + 1]) / float(rank[j])
            if screen and rank[j] <= cap:  # cells beyond the cap never end a baseline
                thr = screen_multiplier * a
                kept_sum = 0.0
                kept_n = 0.0
                for lag in range(max_lag):
                    if j - lag < 0 or rank[j] - lag < 1:
                        continue
                    m_l = mr[j - lag]
                    if m_l < thr:
                        kept_sum += m_l
                        kept_n += 1.0
                if kept_n > 0:
                    a = kept_sum / kept_n
            amr_at[j] = a
        up_run = 0
        down_run = 0
        for k in range(m):
            # steps and consecutive strictly increasing / decreasing steps ending at k
            d = _sign(x[k] - x[k - 1]) if rank[k] >= 1 else 0
            up_run = up_run + 1 if d == 1 else 0
            down_run = down_run + 1 if d == -1 else 0
            last_in = rank[k] - (0 if include_current else 1)
            end = start[k] + min(last_in, cap)
            n_b = max(end - start[k] + 1, 0)
            end_c = min(max(end, 0), t_count - 1)
            mean = (cx[end_c + 1] - cx[start[k]]) / n_b
            amr = amr_at[end_c] if n_b >= 2 else np.nan
            half = limit_multiplier * amr
            lpl = mean - half
            upl = mean + half
            lo2 = mean - half * two_thirds
            up2 = mean + half * two_thirds
            evaluated = n_b >= min_points and np.isfinite(half)
            p = pos[k]
            nb_out[i, p] = n_b
            if n_b >= 1:
                mean_out[i, p] = mean
                lpl_out[i, p] = lpl
                upl_out[i, p] = upl
                lo2_out[i, p] = lo2
                up2_out[i, p] = up2
            if not evaluated:
                continue
            eval_out[i, p] = True
            xk = x[k]
            outside = xk > upl or xk < lpl
            rel0 = _sign(xk - mean)
            side3 = 0
            n_close = 0
            close0 = False
            run_sum = 0
            for lag in range(n_window):
                if k - lag >= 0:
                    xl = x[k - lag]
                    rel = _sign(xl - mean)
                    beyond = xl > up2 or xl < lo2
                    inside = not (xl > upl or xl < lpl)
                else:
                    rel = 0
                    beyond = False
                    inside = True
                if lag < 3:
                    close = beyond if two_in_three_beyond_3sigma else beyond and inside
                    side3 += rel
                    n_close += close
                    if lag == 0:
                        close0 = close
                if lag < run_length:
                    run_sum += rel
            trend_end = 0
            if rank[k] >= trend_length - 1:
                if up_run >= trend_length - 1:
                    trend_end = 1
                elif down_run >= trend_length - 1:
                    trend_end = -1
            two3 = rank[k] >= 2 and close0 and n_close >= 2 and abs(side3) == 3
            run = rank[k] >= run_length - 1 and abs(run_sum) == run_length
            if outside:
                rule = _OUTSIDE
            elif trend_end != 0:
                rule = _TREND
            elif two3:
                rule = _TWO_IN_THREE
            elif run:
                rule = _RUN
            else:
                rule = 0
            if rule == _TREND:
                side = trend_end
            elif rule == 0:
                side = 0
            else:
                side = 1 if rel0 > 0 else -1
            dirn = direction[i]
            if dirn == 0:
                pt = _NEUTRAL_HIGH if side > 0 else (_NEUTRAL_LOW if side < 0 else _COMMON)
            else:
                w = side * dirn
                pt = _IMPROVEMENT if w > 0 else (_CONCERN if w < 0 else _COMMON)
            rule_out[i, p] = rule
            side_out[i, p] = side
            pt_out[i, p] = pt
