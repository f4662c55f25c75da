"""Compiled window sums over observed periods (the sufficient statistics of every baseline estimate).

A *window* is ``(row, start, end)``: periods ``start <= t < end`` of series ``row``. Only periods where
``ok`` is true (numerator and exposure observed, exposure positive) contribute.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Column order of the arrays returned by :func:`window_sums`.
SUM_FIELDS: tuple[str, ...] = ("m", "y", "x", "yy", "xy", "xx", "xxx", "yy_over_x")
M, Y, X, YY, XY, XX, XXX, YYX = range(8)


@njit(cache=True)
def window_sums(
    y: np.ndarray, x: np.ndarray, ok: np.ndarray, rows: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> np.ndarray:
    """Sums over each window of the observed ``y`` (numerator) and ``x`` (effective exposure).

    Parameters
    ----------
    y, x : (S, T) float64
        Numerator and effective exposure (exposure times seasonal factor).
    ok : (S, T) bool
        Period observed and usable.
    rows, starts, ends : (K,) int64
        The windows; ``starts``/``ends`` are clipped to ``[0, T]``.

    Returns
    -------
    (K, 8) float64
        Columns :data:`SUM_FIELDS`: number of observed periods, sum y, sum x, sum y^2, sum x*y,
        sum x^2, sum x^3, sum y^2/x.
    """
    k_count = rows.shape[0]
    t_count = y.shape[1]
    out = np.zeros((k_count, 8))
    for k in range(k_count):
        r = rows[k]
        a = max(starts[k], 0)
        b = min(ends[k], t_count)
        for t in range(a, b):
            if ok[r, t]:
                yv = y[r, t]
                xv = x[r, t]
                out[k, 0] += 1.0
                out[k, 1] += yv
                out[k, 2] += xv
                out[k, 3] += yv * yv
                out[k, 4] += xv * yv
                out[k, 5] += xv * xv
                out[k, 6] += xv * xv * xv
                out[k, 7] += yv * yv / xv
    return out
