"""Compiled display-mode XmR kernel: limits, rules and point types in one pass per series.

Does, one series at a time, exactly the arithmetic of the array formulation in
:mod:`engine.charts.xmr` + :mod:`engine.charts.rules` (compaction of the observed values, segments at
rebase-group changes, per-segment sums accumulated left to right from ``0.0`` as ``np.bincount``
does, one screening pass, the four Making Data Count rules with the same windows and precedence), so
the results are bit-identical to it; it only avoids the ``(S, T)`` temporaries. Every cell of every
output is written once (missing periods get their fill values), so the outputs may be allocated
with ``np.empty``. Rows are processed in parallel blocks (serial below a size threshold).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from engine.charts._monitor_kernel import _sign

# point-type, rule and flag codes: plain ints, which numba freezes as compile-time constants
from engine.charts.codes import COMMON_CAUSE as _COMMON
from engine.charts.codes import CONCERN as _CONCERN
from engine.charts.codes import FLAG_OUTSIDE as _FLAG_OUTSIDE
from engine.charts.codes import FLAG_RUN as _FLAG_RUN
from engine.charts.codes import FLAG_TREND as _FLAG_TREND
from engine.charts.codes import FLAG_TWO_IN_THREE as _FLAG_TWO_IN_THREE
from engine.charts.codes import IMPROVEMENT as _IMPROVEMENT
from engine.charts.codes import MISSING_POINT as _MISSING
from engine.charts.codes import NEUTRAL_HIGH as _NEUTRAL_HIGH
from engine.charts.codes import NEUTRAL_LOW as _NEUTRAL_LOW
from engine.charts.codes import OUTSIDE_LIMITS as _OUTSIDE
from engine.charts.codes import RUN as _RUN
from engine.charts.codes import TREND as _TREND
from engine.charts.codes import TWO_IN_THREE as _TWO_IN_THREE
from engine.runtime.kernels import sized

#: rows per parallel work item (per-block scratch buffers are allocated once)
_BLOCK = 64


@nb.njit(nogil=True, cache=True, inline="always")
def _add_nan_first(a: float, b: float) -> float:
    """``a + b``, whose NaN is ``a``'s when both are NaN (x86 ``addsd a, b``).

    Both are NaN only with infinite input values (an infinite mean, a NaN moving range). LLVM may
    swap the operands of a commutative add, which would return ``b``'s NaN instead (subtraction
    keeps its operand order), so the order numpy used is fixed here.
    """
    if np.isnan(a):
        return a
    return a + b


@sized(200_000)
@nb.njit(cache=True, parallel=True, error_model="numpy", nogil=True)
def xmr_rows(
    values: np.ndarray,
    denominator: np.ndarray,
    divide: bool,
    mask: np.ndarray,
    use_mask: bool,
    group: np.ndarray,
    has_groups: bool,
    direction: np.ndarray,
    fix_after: int,
    screen: bool,
    screen_multiplier: float,
    limit_multiplier: float,
    run_length: int,
    trend_length: int,
    two_in_three_beyond_3sigma: bool,
    min_points: int,
    suppress: bool,
    no_range: float,
    value_out: np.ndarray,
    mean_out: np.ndarray,
    lpl_out: np.ndarray,
    upl_out: np.ndarray,
    lo2_out: np.ndarray,
    up2_out: np.ndarray,
    sigma_out: np.ndarray,
    pt_out: np.ndarray,
    rule_out: np.ndarray,
    flags_out: np.ndarray,
    side_out: np.ndarray,
    rel_out: np.ndarray,
    group_out: np.ndarray,
    short_out: np.ndarray,
    shown_out: np.ndarray,
    n_obs_out: np.ndarray,
    last_out: np.ndarray,
) -> None:
    """Chart every row of ``values`` (``/ denominator`` when ``divide``), writing all ``*_out`` cells.

    A cell is observed when its value is not NaN (and ``mask`` is true, when ``use_mask``).
    ``group`` holds rebase-group ids (cast to int32) when ``has_groups``. ``fix_after < 0`` means no
    fixed baseline. ``no_range`` is the mean moving range of a segment without a range (the NaN of
    numpy's ``0.0 / 0``, whose sign bit is platform-dependent). ``n_obs_out`` / ``last_out`` get each row's number of observations and the
    period of its last one (-1 when none).
    """
    s_count, t_count = values.shape
    two_thirds = 2.0 / 3.0
    nan = np.nan
    n_blocks = (s_count + _BLOCK - 1) // _BLOCK
    for blk in nb.prange(n_blocks):
        x = np.empty(t_count)
        pos = np.empty(t_count, dtype=np.int64)
        g = np.empty(t_count, dtype=np.int32)
        is_start = np.empty(t_count, dtype=np.bool_)
        short_at = np.empty(t_count, dtype=np.bool_)
        rel_at = np.empty(t_count, dtype=np.int8)
        step_at = np.empty(t_count, dtype=np.int8)
        outside_at = np.empty(t_count, dtype=np.bool_)
        close_at = np.empty(t_count, dtype=np.bool_)
        trend_end = np.empty(t_count, dtype=np.int8)
        run_end = np.empty(t_count, dtype=np.bool_)
        two3_end = np.empty(t_count, dtype=np.bool_)
        for i in range(blk * _BLOCK, min((blk + 1) * _BLOCK, s_count)):
            # ---- compaction; missing periods get their fill values ----
            m = 0
            for t in range(t_count):
                v = values[i, t]
                if divide:
                    v = v / denominator[i, t]
                if not np.isnan(v) and (not use_mask or mask[i, t]):
                    x[m] = v
                    pos[m] = t
                    g[m] = np.int32(group[i, t]) if has_groups else np.int32(0)
                    m += 1
                else:
                    value_out[i, t] = nan
                    mean_out[i, t] = nan
                    lpl_out[i, t] = nan
                    upl_out[i, t] = nan
                    lo2_out[i, t] = nan
                    up2_out[i, t] = nan
                    sigma_out[i, t] = nan
                    pt_out[i, t] = _MISSING
                    rule_out[i, t] = 0
                    flags_out[i, t] = 0
                    side_out[i, t] = 0
                    rel_out[i, t] = 0
                    group_out[i, t] = 0
                    short_out[i, t] = False
                    shown_out[i, t] = False
            n_obs_out[i] = m
            last_out[i] = pos[m - 1] if m > 0 else -1
            # ---- segments: limits, then the per-point rule ingredients ----
            a = 0
            while a < m:
                b = a + 1
                while b < m and g[b] == g[b - 1]:
                    b += 1
                seg_len = b - a
                n_base = seg_len if fix_after < 0 else min(seg_len, fix_after)
                total = 0.0
                for k in range(a, a + n_base):
                    total += x[k]
                mean = total / n_base
                mr_sum = 0.0
                mr_n = 0
                for k in range(a + 1, a + n_base):
                    mr_sum += abs(x[k] - x[k - 1])
                    mr_n += 1
                # no moving range: numpy's 0.0 / 0 NaN, passed in (compiled code folds its own)
                amr = mr_sum / mr_n if mr_n > 0 else no_range
                if screen:
                    threshold = screen_multiplier * amr
                    kept_sum = 0.0
                    kept_n = 0
                    for k in range(a + 1, a + n_base):
                        r = abs(x[k] - x[k - 1])
                        if r < threshold:
                            kept_sum += r
                            kept_n += 1
                    if kept_n > 0:
                        amr = kept_sum / kept_n
                half = limit_multiplier * amr
                sigma = half / 3.0
                lpl = mean - half
                upl = _add_nan_first(mean, half)
                lo2 = mean - half * two_thirds
                # numpy evaluated ``centre + half * (2 / 3)`` in place in the (large) temporary
                up2 = _add_nan_first(half * two_thirds, mean)
                short = seg_len < min_points
                if suppress and short:
                    sigma = nan
                    lpl = nan
                    upl = nan
                    lo2 = nan
                    up2 = nan
                shown = not short and np.isfinite(lpl) and np.isfinite(upl)
                up_run = 0
                down_run = 0
                above_run = 0
                below_run = 0
                for k in range(a, b):
                    rank = k - a
                    xk = x[k]
                    p = pos[k]
                    value_out[i, p] = xk
                    mean_out[i, p] = mean
                    lpl_out[i, p] = lpl
                    upl_out[i, p] = upl
                    lo2_out[i, p] = lo2
                    up2_out[i, p] = up2
                    sigma_out[i, p] = sigma
                    group_out[i, p] = g[k]
                    short_out[i, p] = short
                    shown_out[i, p] = shown
                    is_start[k] = rank == 0
                    short_at[k] = short
                    rel = _sign(xk - mean)
                    rel_at[k] = rel
                    outside = xk > upl or xk < lpl
                    beyond = xk > up2 or xk < lo2
                    outside_at[k] = outside
                    close_at[k] = beyond if two_in_three_beyond_3sigma else beyond and not outside
                    d = _sign(xk - x[k - 1]) if rank >= 1 else 0
                    step_at[k] = d
                    up_run = up_run + 1 if d == 1 else 0
                    down_run = down_run + 1 if d == -1 else 0
                    above_run = above_run + 1 if rel == 1 else 0
                    below_run = below_run + 1 if rel == -1 else 0
                    te = 0
                    if rank >= trend_length - 1:
                        if up_run >= trend_length - 1:
                            te = 1
                        elif down_run >= trend_length - 1:
                            te = -1
                    trend_end[k] = te
                    run_end[k] = rank >= run_length - 1 and (
                        above_run >= run_length or below_run >= run_length
                    )
                    w3 = False
                    if rank >= 2:
                        n_close = close_at[k] + close_at[k - 1] + close_at[k - 2]
                        side3 = rel + rel_at[k - 1] + rel_at[k - 2]
                        w3 = n_close >= 2 and abs(side3) == 3
                    two3_end[k] = w3
                a = b
            # ---- backwards: points of each pattern, label, side and point type ----
            trend_left = 0
            run_left = 0
            two3_left = 0
            next_trend = False
            next_step = 0
            dirn = direction[i]
            for k in range(m - 1, -1, -1):
                if trend_end[k] != 0:
                    trend_left = trend_length
                if run_end[k]:
                    run_left = run_length
                if two3_end[k]:
                    two3_left = 3
                in_trend = trend_left > 0
                in_run = run_left > 0
                in_two3 = close_at[k] and two3_left > 0
                trend_left = max(trend_left - 1, 0)
                run_left = max(run_left - 1, 0)
                two3_left = max(two3_left - 1, 0)
                outside = outside_at[k]
                if outside:
                    rule = _OUTSIDE
                elif in_trend:
                    rule = _TREND
                elif in_two3:
                    rule = _TWO_IN_THREE
                elif in_run:
                    rule = _RUN
                else:
                    rule = 0
                flags = (
                    outside * _FLAG_OUTSIDE
                    + in_trend * _FLAG_TREND
                    + in_two3 * _FLAG_TWO_IN_THREE
                    + in_run * _FLAG_RUN
                )
                if rule == _TREND:
                    own = next_step if next_trend else step_at[k]
                    side = 1 if own == 1 else -1
                elif rule == 0:
                    side = 0
                else:
                    side = 1 if rel_at[k] > 0 else -1
                if dirn == 0:
                    pt = _NEUTRAL_HIGH if side > 0 else (_NEUTRAL_LOW if side < 0 else _COMMON)
                else:
                    w = side * dirn
                    pt = _IMPROVEMENT if w > 0 else (_CONCERN if w < 0 else _COMMON)
                if suppress and short_at[k]:
                    rule = 0
                    flags = 0
                    side = 0
                    pt = _COMMON
                p = pos[k]
                pt_out[i, p] = pt
                rule_out[i, p] = rule
                flags_out[i, p] = flags
                side_out[i, p] = side
                rel_out[i, p] = rel_at[k]
                # the next (later) point continues a trend only within the same segment
                next_trend = in_trend and not is_start[k]
                next_step = step_at[k]
