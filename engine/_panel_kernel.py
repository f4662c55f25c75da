"""Compiled long-to-dense scatter of the observation rows into a panel (one pass, serial).

Imported on first use by :func:`engine.panel.build_panel` (``engine.panel`` itself is imported by the
loader, which must not pay numba's import time). Serial on purpose: the pass is memory-bound (the
national weekly panel takes ~30 ms), and a parallel compilation was no faster on two cores while its
first call in a process costs hundreds of milliseconds of thread start-up.
"""

from __future__ import annotations

import numba as nb
import numpy as np

# Status codes of engine.panel, repeated as literals for the compiled code.
_OBSERVED, _MISSING = 0, 2


@nb.njit(nogil=True, cache=True)
def scatter_runs(
    y: np.ndarray,
    n: np.ndarray,
    status: np.ndarray,
    run_start: np.ndarray,
    runs: np.ndarray,
    days: np.ndarray,
    num: np.ndarray,
    den: np.ndarray,
    code: np.ndarray,
    col_of_day: np.ndarray,
    first_day: int,
) -> int:
    """Fill row ``s`` of ``y``, ``n``, ``status`` (``(S, T)``, uninitialised) from run ``runs[s]``.

    Run ``r`` is the observation rows ``run_start[r] <= i < run_start[r + 1]`` of one series. Row
    ``i`` lands in column ``col_of_day[days[i] - first_day]`` (skipped when out of range or ``-1``):
    ``status = code[i]``, ``y = num[i]`` if observed else NaN, ``n = den[i]`` (1.0 when NaN). Cells
    without a row are NaN / NaN / MISSING.

    Returns the number of rows whose day is not after the previous row's day of the same run (0 when
    every run is in strictly increasing period order).
    """
    s_count, t_count = y.shape
    n_days = col_of_day.shape[0]
    unsorted = 0
    for s in range(s_count):
        for t in range(t_count):
            y[s, t] = np.nan
            n[s, t] = np.nan
            status[s, t] = _MISSING
        r = runs[s]
        prev = np.int64(np.iinfo(np.int64).min)
        for i in range(run_start[r], run_start[r + 1]):
            d = np.int64(days[i])
            if d <= prev:
                unsorted += 1
            prev = d
            k = d - first_day
            if k < 0 or k >= n_days:
                continue
            c = col_of_day[k]
            if c < 0:
                continue
            st = code[i]
            status[s, c] = st
            y[s, c] = num[i] if st == _OBSERVED else np.nan
            dv = den[i]
            n[s, c] = 1.0 if np.isnan(dv) else dv
    return unsorted
