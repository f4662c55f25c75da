"""Compiled passes of the baselines: usable cells, warm-up ends, window sums, per-cell spreading.

A *window* is ``(row, start, end)``: periods ``start <= t < end`` of series ``row``. Only periods where
``ok`` is true (numerator and exposure observed, exposure positive) contribute. The *effective
exposure* ``x`` of a usable cell is ``n`` times the seasonal factor (``n`` without seasonality); it is
formed cell by cell rather than stored. Segment *heads* are given row-major (``rows_h``, ``s0_h``
sorted), with ``head_ptr[r] .. head_ptr[r + 1]`` the heads of row ``r`` (every row has one at 0).
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Column order of the arrays returned by :func:`window_sums`.
SUM_FIELDS: tuple[str, ...] = ("m", "y", "x", "yy", "xy", "xx", "xxx", "yy_over_x")
#: Column indices into those arrays: number of usable periods, then the sums of y, x, y^2, x y, x^2,
#: x^3 and y^2 / x over them (``y`` numerator, ``x`` effective exposure).
N_PERIODS, SUM_Y, SUM_X, SUM_YY, SUM_XY, SUM_XX, SUM_XXX, SUM_YY_OVER_X = range(8)


@njit(nogil=True, cache=True)
def usable(y: np.ndarray, n: np.ndarray, exclude: np.ndarray, proportion: bool) -> np.ndarray:
    """``(S, T)`` bool: ``y`` and ``n`` finite, ``n > 0``, ``y >= 0`` (and ``y <= n`` for proportions),
    and not ``exclude`` (an ``(S, T)`` bool array, or ``(0, 0)`` for none)."""
    s_count, t_count = y.shape
    ok = np.empty((s_count, t_count), dtype=np.bool_)
    use_exclude = exclude.shape[0] > 0
    for r in range(s_count):
        for t in range(t_count):
            yv = y[r, t]
            nv = n[r, t]
            good = np.isfinite(yv) and np.isfinite(nv) and nv > 0 and yv >= 0
            if good and proportion:
                good = yv <= nv
            if good and use_exclude:
                good = not exclude[r, t]
            ok[r, t] = good
    return ok


@njit(nogil=True, cache=True)
def warmup_ends(
    ok: np.ndarray, head_ptr: np.ndarray, s0_h: np.ndarray, min_observed: int, warmup: int, floor: int
) -> np.ndarray:
    """First ready period of each segment head (``T + 1`` when the warm-up never completes).

    The first ``p`` in ``[0, T]`` with ``min_observed`` usable periods in ``[s0, p)`` (``T + 1`` if
    none), then at least ``s0 + warmup`` and ``floor``, at most ``T + 1``.
    """
    s_count, t_count = ok.shape
    out = np.empty(s0_h.shape[0], dtype=np.int64)
    cum = np.empty(t_count + 1, dtype=np.int64)  # cum[p]: usable periods in [0, p)
    for r in range(s_count):
        a, b = head_ptr[r], head_ptr[r + 1]
        if a == b:
            continue
        c = 0
        cum[0] = 0
        for t in range(t_count):
            if ok[r, t]:
                c += 1
            cum[t + 1] = c
        for k in range(a, b):
            s0 = s0_h[k]
            target = cum[s0] + min_observed
            lo, hi = 0, t_count + 1
            while lo < hi:  # first p with cum[p] >= target (cum is non-decreasing)
                mid = (lo + hi) // 2
                if cum[mid] < target:
                    lo = mid + 1
                else:
                    hi = mid
            end = max(max(lo, s0 + warmup), floor)
            out[k] = min(end, t_count + 1)
    return out


@njit(nogil=True, cache=True)
def window_sums(
    y: np.ndarray,
    n: np.ndarray,
    season: np.ndarray,
    ok: np.ndarray,
    rows: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
) -> np.ndarray:
    """Sums over each window of the observed ``y`` (numerator) and ``x`` (effective exposure).

    Parameters
    ----------
    y, n : (S, T) float64
        Numerator and exposure (read only where ``ok``).
    season : (S, T) float64 or (0, 0)
        Seasonal factor (``x = n * season``), or empty for none (``x = n``).
    ok : (S, T) bool
        Period observed and usable.
    rows, starts, ends : (K,) int64
        The windows; ``starts``/``ends`` are clipped to ``[0, T]``.

    Returns
    -------
    (K, 8) float64
        Columns :data:`SUM_FIELDS`: number of observed periods, sum y, sum x, sum y^2, sum x*y,
        sum x^2, sum x^3, sum y^2/x, each accumulated from 0 in period order.
    """
    k_count = rows.shape[0]
    t_count = y.shape[1]
    out = np.empty((k_count, 8))
    for k in range(k_count):
        _moments(y, n, season, ok, rows[k], max(starts[k], 0), min(ends[k], t_count), out[k])
    return out


@njit(nogil=True, cache=True, inline="always")
def _moments(
    y: np.ndarray, n: np.ndarray, season: np.ndarray, ok: np.ndarray, r: int, a: int, b: int, out: np.ndarray
) -> None:
    """The eight :data:`SUM_FIELDS` of row ``r`` over periods ``[a, b)`` into ``out`` (8,),
    each accumulated from 0 in period order."""
    seasonal = season.shape[0] > 0
    m = sy = sx = syy = sxy = sxx = sxxx = syyx = 0.0
    for t in range(a, b):
        if ok[r, t]:
            yv = y[r, t]
            xv = n[r, t] * season[r, t] if seasonal else n[r, t]
            m += 1.0
            sy += yv
            sx += xv
            syy += yv * yv
            sxy += xv * yv
            sxx += xv * xv
            sxxx += xv * xv * xv
            syyx += yv * yv / xv
    out[N_PERIODS] = m
    out[SUM_Y] = sy
    out[SUM_X] = sx
    out[SUM_YY] = syy
    out[SUM_XY] = sxy
    out[SUM_XX] = sxx
    out[SUM_XXX] = sxxx
    out[SUM_YY_OVER_X] = syyx


@njit(nogil=True, cache=True)
def spread(
    head_ptr: np.ndarray,
    s0_h: np.ndarray,
    e_h: np.ndarray,
    vals: np.ndarray,
    season: np.ndarray,
    out: np.ndarray,
) -> None:
    """Fill ``out`` (``(S, T)`` float64): the value of the cell's segment head where ready, else NaN.

    ``out[r, t] = vals[k]`` (times ``season[r, t]`` unless ``season`` is ``(0, 0)``) where ``k`` is
    the last head of row ``r`` starting at or before ``t`` and ``t >= e_h[k]``.
    """
    s_count, t_count = out.shape
    seasonal = season.shape[0] > 0
    for r in range(s_count):
        k = head_ptr[r]
        last = head_ptr[r + 1] - 1
        for t in range(t_count):
            while k < last and s0_h[k + 1] <= t:
                k += 1
            if t >= e_h[k]:
                out[r, t] = vals[k] * season[r, t] if seasonal else vals[k]
            else:
                out[r, t] = np.nan


@njit(nogil=True, cache=True)
def head_cells(
    head_ptr: np.ndarray, s0_h: np.ndarray, e_h: np.ndarray, not_ready: np.ndarray, seg_start: np.ndarray
) -> None:
    """Fill ``not_ready`` (``(S, T)`` bool): ``t < e_h[k]``, and ``seg_start`` (``(S, T)`` int64):
    ``s0_h[k]``, where ``k`` is the cell's head (the last head of its row starting at or before
    ``t``, as in :func:`spread`). The same as gathering ``e_h`` and ``s0_h`` through
    :meth:`engine.baselines.fit._Heads.head_of` without its ``(S, T)`` index."""
    s_count, t_count = not_ready.shape
    for r in range(s_count):
        k = head_ptr[r]
        last = head_ptr[r + 1] - 1
        for t in range(t_count):
            while k < last and s0_h[k + 1] <= t:
                k += 1
            not_ready[r, t] = t < e_h[k]
            seg_start[r, t] = s0_h[k]


@njit(nogil=True, cache=True)
def peer_sums(
    y: np.ndarray,
    n: np.ndarray,
    season: np.ndarray,
    ok: np.ndarray,
    codes: np.ndarray,
    g_first: np.ndarray,
    st_e: np.ndarray,
    head_ptr: np.ndarray,
    s0_h: np.ndarray,
    warmup: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Window sums of every (series, stratum) peer pair with data, row by row.

    Stratum ``j`` (``g_first[g] <= j < g_first[g + 1]`` for group ``g``) has warm-up end
    ``e = st_e[j]``; its peers are the series of group ``g`` whose segment at period ``e - 1`` (the
    last period when ``e = 0``) started at or before ``lo = max(e - warmup, 0)``, summed over
    ``[lo, e)``. Pairs with no usable period or no exposure are dropped. Rows ascend, so every
    stratum's peers come in ascending row order.

    Returns ``(stratum, sums)``: ``(P,)`` int64 and ``(P, 8)`` as :func:`window_sums`.
    """
    s_count, t_count = ok.shape
    n_pairs = 0
    for r in range(s_count):
        g = codes[r]
        n_pairs += g_first[g + 1] - g_first[g]
    stratum = np.empty(n_pairs, dtype=np.int64)
    sums = np.empty((n_pairs, 8))
    p = 0
    for r in range(s_count):
        g = codes[r]
        for j in range(g_first[g], g_first[g + 1]):
            e = st_e[j]
            lo = max(e - warmup, 0)
            t_chk = e - 1 if e >= 1 else t_count - 1
            k = head_ptr[r]
            while k + 1 < head_ptr[r + 1] and s0_h[k + 1] <= t_chk:
                k += 1
            if s0_h[k] > lo:
                continue  # a rebase inside the peer window
            _moments(y, n, season, ok, r, lo, min(e, t_count), sums[p])
            if not (sums[p, N_PERIODS] > 0 and sums[p, SUM_X] > 0):
                continue  # no usable period or no exposure: the row is overwritten by the next pair
            stratum[p] = j
            p += 1
    return stratum[:p], sums[:p]
