"""Compiled alert-opening recursions (the same hysteresis as :func:`engine.alerting.alert_episodes`)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(nogil=True, cache=True)
def opening_matrix(condition: np.ndarray, close_after: int) -> np.ndarray:  # pragma: no cover - compiled
    """``(R, T)`` True in the week each alert opens (opens when the condition holds and no alert is
    open; closes once the condition has been absent ``close_after`` consecutive weeks)."""
    r_count, t_count = condition.shape
    out = np.zeros((r_count, t_count), dtype=np.bool_)
    for r in range(r_count):
        is_open = False
        absent = 0
        for t in range(t_count):
            c = condition[r, t]
            if c and not is_open:
                out[r, t] = True
                is_open = True
            if c:
                absent = 0
            elif is_open:
                absent += 1
                if absent >= close_after:
                    is_open = False
                    absent = 0
    return out


@njit(nogil=True, cache=True)
def openings_by_threshold(
    stat: np.ndarray, outside: np.ndarray, thresholds: np.ndarray, close_after: int
) -> np.ndarray:  # pragma: no cover - compiled
    """``(H,)`` number of alerts of ``stat >= h`` opening in ``outside`` cells, for each threshold."""
    r_count, t_count = stat.shape
    counts = np.zeros(thresholds.shape[0], dtype=np.int64)
    for k in range(thresholds.shape[0]):
        h = thresholds[k]
        total = 0
        for r in range(r_count):
            is_open = False
            absent = 0
            for t in range(t_count):
                c = stat[r, t] >= h
                if c and not is_open:
                    is_open = True
                    if outside[r, t]:
                        total += 1
                if c:
                    absent = 0
                elif is_open:
                    absent += 1
                    if absent >= close_after:
                        is_open = False
                        absent = 0
        counts[k] = total
    return counts
