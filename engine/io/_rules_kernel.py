"""Compiled row passes of the observations validator: rule checks and the accepted output columns.

Both are single passes over the rows (rows in parallel above a size threshold, see
:mod:`engine.runtime.kernels`) replacing a dozen full-length numpy temporaries each. They do the
same IEEE comparisons as the array formulation, so the results are identical.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from engine.runtime.kernels import sized

# Bits of the per-value tables (ward ids, indicator keys).
EMPTY, UNKNOWN, EXPOSURE, PROPORTION, INTEGER = 1, 2, 4, 8, 16
#: Status codes (engine.io.observation_rules): observed, suppressed, unknown.
_OBSERVED = 0


@sized(1_000_000)
@nb.njit(nogil=True, cache=True, parallel=True)
def first_failures(
    out: np.ndarray,
    bad_fields: np.ndarray,
    ward: np.ndarray,
    ward_bits: np.ndarray,
    period_empty: np.ndarray,
    period_valid: np.ndarray,
    period_out: np.ndarray,
    ind: np.ndarray,
    ind_bits: np.ndarray,
    status: np.ndarray,
    status_bad: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    den_unparseable: np.ndarray,
    max_num: np.ndarray,
    max_den: float,
) -> None:
    """``out[i]``: index of the first failing rule 0-17 of row ``i`` (``observation_rules.RULES``), or -1.

    ``bad_fields`` and ``status_bad`` are empty when the file has no such column; ``x`` and ``y``
    are numerator and denominator (NaN = null); ``status`` is 0 for an observed numerator;
    ``max_num`` is the plausibility limit of each indicator code's numerator, ``max_den`` of every
    denominator.
    """
    has_bad_fields = bad_fields.size > 0
    has_status = status_bad.size > 0
    for i in nb.prange(out.size):
        wb = ward_bits[ward[i]]
        kb = ind_bits[ind[i]]
        obs = status[i] == _OBSERVED
        xi = x[i]
        yi = y[i]
        exposure = (kb & EXPOSURE) != 0
        r = -1
        if has_bad_fields and bad_fields[i]:
            r = 0
        elif wb & EMPTY:
            r = 1
        elif period_empty[i]:
            r = 2
        elif not period_valid[i]:
            r = 3
        elif period_out[i]:
            r = 4
        elif kb & EMPTY:
            r = 5
        elif kb & UNKNOWN:
            r = 6
        elif wb & UNKNOWN:
            r = 7
        elif has_status and status_bad[i]:
            r = 8
        elif obs and np.isnan(xi):
            r = 9
        elif den_unparseable[i]:
            r = 10
        elif obs and xi < 0.0:
            r = 11
        elif obs and xi > max_num[ind[i]]:
            r = 12
        elif exposure and np.isnan(yi):
            r = 13
        elif exposure and yi <= 0.0:
            r = 14
        elif exposure and yi > max_den:
            r = 15
        elif obs and (kb & PROPORTION) != 0 and xi > yi:
            r = 16
        elif obs and (kb & INTEGER) != 0 and xi != np.floor(xi):
            r = 17
        out[i] = r


@sized(1_000_000)
@nb.njit(nogil=True, cache=True, parallel=True)
def accepted_columns(
    num_out: np.ndarray,
    rows: np.ndarray,
    identity: bool,
    ward: np.ndarray,
    ind: np.ndarray,
    ind_bits: np.ndarray,
    days: np.ndarray,
    status: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    ward_out: np.ndarray,
    ind_out: np.ndarray,
    days_out: np.ndarray,
    status_out: np.ndarray,
    den_out: np.ndarray,
) -> int:
    """Gather the accepted rows (``rows``, or every row when ``identity``) into the ``*_out`` arrays.

    The numerator is kept for observed rows only and the denominator for indicators with exposure
    (NaN otherwise). Returns how many denominators were given for indicators without exposure.
    """
    ignored = 0
    for j in nb.prange(num_out.size):
        i = np.intp(j) if identity else np.intp(rows[j])
        k = ind[i]
        s = status[i]
        yi = y[i]
        ward_out[j] = ward[i]
        ind_out[j] = k
        days_out[j] = days[i]
        status_out[j] = s
        num_out[j] = x[i] if s == _OBSERVED else np.nan
        if (ind_bits[k] & EXPOSURE) != 0:
            den_out[j] = yi
        else:
            den_out[j] = np.nan
            if not np.isnan(yi):
                ignored += 1
    return ignored


@nb.njit(nogil=True, cache=True, inline="always")
def _row(j: int, rows: np.ndarray, all_rows: bool) -> np.intp:
    """Row index of the ``j``-th selected row (``rows[j]``, or ``j`` when every row is selected)."""
    return np.intp(j) if all_rows else np.intp(rows[j])


@sized(1_000_000)
@nb.njit(nogil=True, cache=True, parallel=True)
def sort_keys(
    key: np.ndarray,
    rows: np.ndarray,
    all_rows: bool,
    ward: np.ndarray,
    ind_rank: np.ndarray,
    ind: np.ndarray,
    days: np.ndarray,
    n_ind: int,
    span: int,
    day0: int,
) -> None:
    """``key[j] = (ward * n_ind + ind_rank[ind]) * span + day - day0`` of the ``j``-th selected row."""
    for j in nb.prange(key.size):
        i = _row(j, rows, all_rows)
        key[j] = (np.int64(ward[i]) * n_ind + np.int64(ind_rank[ind[i]])) * span + (np.int64(days[i]) - day0)


@nb.njit(nogil=True, cache=True)
def count_cells(
    counts: np.ndarray,
    rows: np.ndarray,
    all_rows: bool,
    m: int,
    ind: np.ndarray,
    days: np.ndarray,
    span: int,
    day0: int,
) -> None:
    """``counts[ind * span + day - day0] += 1`` over the ``m`` selected rows (a 2-D bincount)."""
    for j in range(m):
        i = _row(j, rows, all_rows)
        counts[np.int64(ind[i]) * span + (np.int64(days[i]) - day0)] += 1


@sized(1_000_000)
@nb.njit(nogil=True, cache=True, parallel=True)
def lookup_cells(
    out: np.ndarray,
    rows: np.ndarray,
    all_rows: bool,
    m: int,
    table: np.ndarray,
    ind: np.ndarray,
    days: np.ndarray,
    span: int,
    day0: int,
) -> None:
    """``out[i] = table[ind * span + day - day0]`` for the ``m`` selected rows ``i`` (others untouched)."""
    for j in nb.prange(m):
        i = _row(j, rows, all_rows)
        out[i] = table[np.int64(ind[i]) * span + (np.int64(days[i]) - day0)]
