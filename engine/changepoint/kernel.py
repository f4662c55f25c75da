"""Compiled per-series pipeline: observed points, statistics, dispersion, penalty, PELT, segments.

One parallel loop over series does everything for a series in one pass over its row, so that the
whole nation (50,000 weekly series) needs no full-array numpy passes besides the output.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from engine.changepoint.costs import BINOMIAL, NORMAL, segment_cost
from engine.changepoint.dispersion import dispersion_row, sigma_row
from engine.changepoint.pelt import log_table, pelt_core, pelt_work, workspace
from engine.changepoint.penalty import penalty_row
from engine.runtime.kernels import sized

#: Input cells from which PELT runs series on threads (each series costs O(T) to O(T^2)).
PELT_MIN_CELLS = 20_000
#: Series per parallel work item (buffers are allocated once per block).
BLOCK = 64

#: ``dispersion_mode`` codes: phi = 1, phi estimated per series, phi given per series.
DISPERSION_NONE, DISPERSION_ESTIMATE, DISPERSION_GIVEN = 0, 1, 2
#: per-series error codes
OK, NEGATIVE, EXCEEDS_TRIALS = 0, 1, 2


@nb.njit(nogil=True, cache=True, error_model="numpy")
def _prepare(
    y: np.ndarray,
    n: np.ndarray,
    code: int,
    dispersion_mode: int,
    phi_given: float,
    sigma_given: float,
    idx: np.ndarray,
    va: np.ndarray,
    vb: np.ndarray,
    ca: np.ndarray,
    cb: np.ndarray,
) -> tuple[int, float, float, float, float, int]:
    """Compress one row to its observed points and build the cumulative statistics.

    Returns ``(m, scale, phi, sigma, offset, error)``: observed count, cost multiplier, dispersion
    (NaN for normal), noise sd (NaN otherwise), the mean subtracted from ``x`` (normal), error code.
    """
    m = 0
    for t in range(y.shape[0]):
        if np.isfinite(y[t]) and np.isfinite(n[t]) and n[t] > 0.0:
            idx[m] = t
            va[m] = y[t]
            vb[m] = n[t]
            m += 1
    phi = np.nan
    sigma = np.nan
    offset = 0.0
    scale = 1.0
    error = 0
    if code == NORMAL:
        total = 0.0
        for j in range(m):
            va[j] = va[j] / vb[j]
            total += va[j]
        if m > 0:
            offset = total / m
        for j in range(m):
            va[j] -= offset
            vb[j] = va[j] * va[j]
        sigma = sigma_given if sigma_given > 0.0 else sigma_row(va, m)
        scale = 1.0 / (sigma * sigma) if sigma > 0.0 else 0.0
    else:
        for j in range(m):
            if va[j] < 0.0:
                error = 1
            elif code == BINOMIAL and va[j] > vb[j]:
                error = 2
        if dispersion_mode == DISPERSION_ESTIMATE:
            phi = dispersion_row(va, vb, m, code)
        elif dispersion_mode == DISPERSION_GIVEN:
            phi = phi_given
        else:
            phi = 1.0
        scale = 1.0 / phi
    ca[0] = 0.0
    cb[0] = 0.0
    for j in range(m):
        ca[j + 1] = ca[j] + va[j]
        cb[j + 1] = cb[j] + vb[j]
    return m, scale, phi, sigma, offset, error


@sized(PELT_MIN_CELLS)
@nb.njit(nogil=True, cache=True, parallel=True, error_model="numpy")
def segment_many(
    y: np.ndarray,
    n: np.ndarray,
    codes: np.ndarray,
    dispersion_mode: int,
    phi_given: np.ndarray,
    sigma_given: float,
    penalty_kind: int,
    penalty_value: float,
    min_size: int,
):
    """Segment every row of ``(S, T)`` ``y`` (numerator, NaN = not observed) and ``n`` (exposure).

    Returns
    -------
    ``starts (S, T) bool, segment_id (S, T) int32, segment_rate (S, T) float, effect (S, T) float
    (all ``NaN``: filled at the change points by the caller), objective, n_changes, n_obs, phi,
    sigma, beta, lam, error`` (the last eight ``(S,)``).
    """
    s_count, t_count = y.shape
    # (S, T) outputs are first written row by row on the threads (page faults are paid in parallel)
    starts = np.empty((s_count, t_count), dtype=np.bool_)
    segment_id = np.empty((s_count, t_count), dtype=np.int32)
    segment_rate = np.empty((s_count, t_count))
    effect = np.empty((s_count, t_count))
    objective = np.zeros(s_count)
    n_changes = np.zeros(s_count, dtype=np.int64)
    n_obs = np.zeros(s_count, dtype=np.int64)
    phi = np.full(s_count, np.nan)
    sigma = np.full(s_count, np.nan)
    beta = np.zeros(s_count)
    lam = np.zeros(s_count)
    error = np.zeros(s_count, dtype=np.int64)
    logs = log_table(t_count + 1 + min_size)
    n_blocks = (s_count + BLOCK - 1) // BLOCK
    for blk in nb.prange(n_blocks):
        idx = np.empty(t_count, dtype=np.int64)
        va = np.empty(t_count)
        vb = np.empty(t_count)
        ca = np.empty(t_count + 1)
        cb = np.empty(t_count + 1)
        last = np.empty(t_count + 1, dtype=np.int64)
        fw, iw = workspace(t_count + 1)
        for i in range(blk * BLOCK, min(s_count, (blk + 1) * BLOCK)):
            code = codes[i]
            last[:] = 0
            starts[i] = False
            effect[i] = np.nan
            segment_id[i] = 0
            segment_rate[i] = np.nan
            m, scale, ph, sg, offset, err = _prepare(
                y[i], n[i], code, dispersion_mode, phi_given[i], sigma_given, idx, va, vb, ca, cb
            )
            n_obs[i] = m
            phi[i] = ph
            sigma[i] = sg
            error[i] = err
            if err != 0:
                continue
            bt, lm = penalty_row(penalty_kind, m, 1, penalty_value)
            beta[i] = bt
            lam[i] = lm
            objective[i] = pelt_work(ca, cb, m, code, scale, bt, lm, min_size, last, logs, fw, iw)
            if m == 0:
                continue
            # walk the segments back from the end, filling ids, rates and starts
            k = 0
            e = m
            while e > 0:
                k += 1
                e = last[e]
            n_changes[i] = k - 1
            e = m
            seg = k - 1
            end_orig = t_count
            while e > 0:
                t = last[e]
                if code == NORMAL:
                    rate = (ca[e] - ca[t]) / (e - t) + offset
                else:
                    rate = (ca[e] - ca[t]) / (cb[e] - cb[t])
                start_orig = idx[t] if t > 0 else 0
                if t > 0:
                    starts[i, start_orig] = True
                for p in range(start_orig, end_orig):
                    segment_id[i, p] = seg
                    segment_rate[i, p] = rate
                end_orig = start_orig
                seg -= 1
                e = t
    return starts, segment_id, segment_rate, effect, objective, n_changes, n_obs, phi, sigma, beta, lam, error


@nb.njit(nogil=True, cache=True, error_model="numpy")
def _saturated_gap(ca: np.ndarray, cb: np.ndarray, m: int, code: int, scale: float, lam: float) -> float:
    """Upper bound on (objective without change - objective with k changes) / k, for any k >= 1."""
    if m == 0:
        return 0.0
    sat = 0.0
    for j in range(m):
        sat += segment_cost(code, ca[j + 1] - ca[j], cb[j + 1] - cb[j], 1.0)
    return scale * (segment_cost(code, ca[m], cb[m], m) - sat) + lam * np.log(m)


@sized(PELT_MIN_CELLS)
@nb.njit(nogil=True, cache=True, parallel=True, error_model="numpy")
def critical_penalty_many(
    y: np.ndarray,
    n: np.ndarray,
    code: int,
    dispersion_mode: int,
    sigma_given: float,
    min_size: int,
    rel_tol: float,
) -> np.ndarray:
    """Per series, the smallest penalty per change (``set`` penalty) at which it shows no change.

    The number of changes of the optimal segmentation never increases with the penalty, so
    bisection on ``beta`` finds the threshold ``beta*``: the series shows at least one change exactly
    when ``beta < beta*``. Bisection stops when the bracket is narrower than ``rel_tol * beta*`` (or
    ``1e-9``); the upper end is returned, at which the series shows no change.

    Returns
    -------
    ``(S,)`` float ``beta*`` (``0`` when no change is possible at any penalty).
    """
    s_count, t_count = y.shape
    out = np.zeros(s_count)
    logs = log_table(t_count + 1 + min_size)
    for i in nb.prange(s_count):
        idx = np.empty(t_count, dtype=np.int64)
        va = np.empty(t_count)
        vb = np.empty(t_count)
        ca = np.empty(t_count + 1)
        cb = np.empty(t_count + 1)
        last = np.zeros(t_count + 1, dtype=np.int64)
        m, scale, _, _, _, _ = _prepare(
            y[i], n[i], code, dispersion_mode, 1.0, sigma_given, idx, va, vb, ca, cb
        )
        lo = 0.0
        hi = _saturated_gap(ca, cb, m, code, scale, 0.0) + 1.0
        pelt_core(ca, cb, m, code, scale, lo, 0.0, min_size, last, logs)
        if m == 0 or last[m] == 0:
            continue  # no change even without penalty
        while hi - lo > max(rel_tol * hi, 1e-9):
            mid = 0.5 * (lo + hi)
            pelt_core(ca, cb, m, code, scale, mid, 0.0, min_size, last, logs)
            if last[m] == 0:
                hi = mid
            else:
                lo = mid
        out[i] = hi
    return out
