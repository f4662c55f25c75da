"""Observed and expected rates over alert spans, for many alerts at once.

An alert's explanation quotes the raw rate since the onset estimate and the rate the baseline
expected over the same periods (``y / n`` and ``sum(rate * n) / n`` over the observed periods of
``[onset, t]``). National runs explain ~40,000 alerts; one compiled pass computes every span.

The sums are numpy's: :func:`pairwise_sum` reproduces ``np.add.reduce`` on a contiguous float64
array (pairwise summation with eight accumulators, blocks of 128), so the rates are bit-identical to
``y[ok].sum() / n[ok].sum()`` written with numpy.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engine.contract.observations import OBSERVED

_BLOCK = 128  # numpy's PW_BLOCKSIZE


@njit(cache=True, nogil=True)
def _block_sum(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's sum of ``1 <= n <= 128`` values: sequential below 8, else eight accumulators."""
    if n < 8:
        res = -0.0
        for i in range(n):
            res += a[lo + i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = 8
    while i < n - (n % 8):
        j = lo + i
        r0 += a[j]
        r1 += a[j + 1]
        r2 += a[j + 2]
        r3 += a[j + 3]
        r4 += a[j + 4]
        r5 += a[j + 5]
        r6 += a[j + 6]
        r7 += a[j + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@njit(cache=True, nogil=True)
def pairwise_sum(a: np.ndarray, lo: int, n: int) -> float:
    """``np.add.reduce(a[lo:lo + n])`` for contiguous float64 ``a`` (same order of additions).

    numpy halves a run longer than 128 (at a multiple of 8) and adds the two halves' sums; the halving
    is walked here with explicit stacks (numba cannot cache a recursive function).
    """
    if n == 0:
        return 0.0
    if n <= _BLOCK:
        return _block_sum(a, lo, n)
    node_lo = np.empty(128, dtype=np.int64)
    node_n = np.empty(128, dtype=np.int64)
    node_done = np.zeros(128, dtype=np.bool_)
    values = np.empty(128)
    top, depth = 0, 0
    node_lo[0], node_n[0] = lo, n
    while top >= 0:
        cur_lo, cur_n, done = node_lo[top], node_n[top], node_done[top]
        top -= 1
        if cur_n <= _BLOCK:
            values[depth] = _block_sum(a, cur_lo, cur_n)
            depth += 1
        elif done:
            depth -= 1
            values[depth - 1] = values[depth - 1] + values[depth]
        else:
            n2 = cur_n // 2
            n2 -= n2 % 8
            node_lo[top + 1], node_n[top + 1], node_done[top + 1] = cur_lo, cur_n, True
            node_lo[top + 2], node_n[top + 2], node_done[top + 2] = cur_lo + n2, cur_n - n2, False
            node_lo[top + 3], node_n[top + 3], node_done[top + 3] = cur_lo, n2, False
            top += 3
    return values[0]


@njit(cache=True, nogil=True, error_model="numpy")
def span_rates(
    y: np.ndarray,
    n: np.ndarray,
    rate: np.ndarray,
    status: np.ndarray,
    series: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per span ``(series[i], first[i]..last[i])``: observed periods, observed and expected rate.

    A period counts when ``y``, ``n`` and ``rate`` are finite and the status is observed; rates are
    NaN when no period counts.
    """
    k = series.size
    count = np.zeros(k, dtype=np.int64)
    observed = np.full(k, np.nan)
    expected = np.full(k, np.nan)
    width = 0
    for i in range(k):
        width = max(width, last[i] - first[i] + 1)
    ys = np.empty(max(width, 1))
    ns = np.empty(max(width, 1))
    mus = np.empty(max(width, 1))
    for i in range(k):
        s = series[i]
        m = 0
        for t in range(first[i], last[i] + 1):
            yv, nv, rv = y[s, t], n[s, t], rate[s, t]
            if np.isfinite(yv) and np.isfinite(nv) and np.isfinite(rv) and status[s, t] == OBSERVED:
                ys[m] = yv
                ns[m] = nv
                mus[m] = rv * nv
                m += 1
        count[i] = m
        if m > 0:
            n_sum = pairwise_sum(ns, 0, m)
            observed[i] = pairwise_sum(ys, 0, m) / n_sum
            expected[i] = pairwise_sum(mus, 0, m) / n_sum
    return count, observed, expected
