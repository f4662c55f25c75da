"""Compiled reference recursions used to simulate run lengths inside ``engine.arl``.

These are the textbook charts in their plainest form (no exposure, no restarts), used for ARL
work and cross-checks; the production detectors with exposure, missing data and restart policies
live in ``engine.detectors`` and can be simulated with :func:`engine.arl.simulation.simulate_run_length`.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray


@njit(nogil=True, cache=True)
def _cusum_alarms(inc: NDArray[np.float64], h: float, geq: bool, start: float) -> NDArray[np.bool_]:
    R, T = inc.shape
    out = np.zeros((R, T), dtype=np.bool_)
    for r in range(R):
        s = start
        for t in range(T):
            s = max(0.0, s + inc[r, t])
            if (s >= h) if geq else (s > h):
                out[r, t] = True
                break  # the run length only needs the first alarm
    return out


def cusum_alarms(
    increments: NDArray[np.float64], h: float, signal: str = "gt", head_start: float = 0.0
) -> NDArray[np.bool_]:
    """First-alarm indicator of ``S_t = max(0, S_{t−1} + increment_t)`` for each row.

    Parameters
    ----------
    increments : (R, T) array
        Per-period increments (e.g. LLR scores, or ``x − k``).
    h : float
        Decision interval on the increments' scale.
    signal : {"gt", "geq"}
        ``S > h`` or ``S >= h``.
    head_start : float
        ``S_0``.

    Returns
    -------
    (R, T) bool array
        True at the first alarm of each row (later periods are left False: enough for run lengths).
    """
    if signal not in ("gt", "geq"):
        raise ValueError("signal must be 'gt' or 'geq'")
    return _cusum_alarms(np.ascontiguousarray(increments, dtype=np.float64), h, signal == "geq", head_start)


@njit(nogil=True, cache=True)
def _two_sided_normal_cusum(z: NDArray[np.float64], k: float, h: float, start: float) -> NDArray[np.bool_]:
    R, T = z.shape
    out = np.zeros((R, T), dtype=np.bool_)
    for r in range(R):
        up = start
        lo = start
        for t in range(T):
            up = max(0.0, up + z[r, t] - k)
            lo = max(0.0, lo - z[r, t] - k)
            if up > h or lo > h:
                out[r, t] = True
                break
    return out


def two_sided_normal_cusum_alarms(
    z: NDArray[np.float64], k: float, h: float, head_start: float = 0.0
) -> NDArray[np.bool_]:
    """First-alarm indicator of the two-sided tabular CUSUM on standardised data ``z`` (R, T)."""
    return _two_sided_normal_cusum(np.ascontiguousarray(z, dtype=np.float64), k, h, head_start)


@njit(nogil=True, cache=True)
def _ewma_alarms(
    x: NDArray[np.float64], lam: float, c: float, two: bool, reflect: float
) -> NDArray[np.bool_]:
    R, T = x.shape
    out = np.zeros((R, T), dtype=np.bool_)
    for r in range(R):
        z = 0.0
        for t in range(T):
            z = lam * x[r, t] + (1.0 - lam) * z
            if not two:
                z = max(reflect, z)
            if (abs(z) > c) if two else (z > c):
                out[r, t] = True
                break
    return out


def ewma_alarms(
    x: NDArray[np.float64], lam: float, limit: float, sided: str = "two", reflect: float = 0.0
) -> NDArray[np.bool_]:
    """First-alarm indicator of an EWMA with fixed limit ``limit`` (σ units), ``Z_0 = 0``."""
    return _ewma_alarms(np.ascontiguousarray(x, dtype=np.float64), lam, limit, sided == "two", reflect)
