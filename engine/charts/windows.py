"""Sliding-window counts along the time axis of ``(S, T)`` arrays, via cumulative sums."""

from __future__ import annotations

import numpy as np


def trailing_sum(a: np.ndarray, width: int) -> np.ndarray:
    """Sum of ``a[:, t - width + 1 : t + 1]`` at every ``t`` (shorter window near the start).

    Boolean input is counted as int32.
    """
    a = np.asarray(a)
    dtype = np.int32 if a.dtype.kind in "bi" else np.float64
    c: np.ndarray = np.cumsum(a, axis=1, dtype=dtype)
    if width < c.shape[1]:
        c[:, width:] -= c[:, :-width].copy()
    return c


def leading_any(a: np.ndarray, width: int) -> np.ndarray:
    """True where any of ``a[:, t : t + width]`` is true (the "part of a pattern" expansion)."""
    return trailing_sum(np.asarray(a, dtype=bool)[:, ::-1], width)[:, ::-1] > 0
