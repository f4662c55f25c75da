"""Carry monthly evidence into the weeks it covers."""

from __future__ import annotations

import numpy as np


def month_of_week(week_starts: np.ndarray, month_starts: np.ndarray) -> np.ndarray:
    """Index into ``month_starts`` of the calendar month containing each week's first day (-1: none).

    Parameters
    ----------
    week_starts:
        ``(W,)`` ``datetime64[D]`` first day of each week.
    month_starts:
        ``(M,)`` ``datetime64[D]`` first day of consecutive calendar months.
    """
    week_month = week_starts.astype("datetime64[M]").astype("datetime64[D]")
    idx = np.searchsorted(month_starts, week_month)
    ok = (idx < len(month_starts)) & (month_starts[np.minimum(idx, len(month_starts) - 1)] == week_month)
    return np.where(ok, idx, -1)


def spread_monthly_to_weeks(
    values: np.ndarray, month_starts: np.ndarray, week_starts: np.ndarray
) -> np.ndarray:
    """Spread per-month increments evenly over the weeks whose first day falls in that month.

    ``values`` is ``(S, M)``; returns ``(S, W)``. A month's value divided by the number of grid weeks
    starting in it, so that the weekly values of a month sum to the monthly value. Weeks outside
    the monthly grid get 0 (no evidence). NaN months give 0.
    """
    m = month_of_week(week_starts, month_starts)
    weeks_per_month = np.bincount(m[m >= 0], minlength=len(month_starts)).astype(float)
    per_week = np.nan_to_num(values) / np.where(weeks_per_month > 0, weeks_per_month, 1.0)
    out = np.zeros((values.shape[0], len(week_starts)))
    inside = m >= 0
    out[:, inside] = per_week[:, m[inside]]
    return out


def carry_monthly_to_weeks(
    values: np.ndarray, month_starts: np.ndarray, week_starts: np.ndarray
) -> np.ndarray:
    """Hold each month's level (e.g. a statistic) over the weeks whose first day falls in it.

    ``values`` is ``(S, M)``; returns ``(S, W)``, NaN for weeks outside the monthly grid.
    """
    m = month_of_week(week_starts, month_starts)
    out = np.full((values.shape[0], len(week_starts)), np.nan)
    inside = m >= 0
    out[:, inside] = values[:, m[inside]]
    return out
