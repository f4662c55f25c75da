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


def weeks_starting_in_month(month_starts: np.ndarray, weekday: int) -> np.ndarray:
    """``(M,)`` number of calendar days in each month falling on ``weekday`` (0 = Monday): 4 or 5."""
    mask = [0] * 7
    mask[weekday] = 1
    nxt = (month_starts.astype("datetime64[M]") + 1).astype("datetime64[D]")
    return np.busday_count(month_starts, nxt, weekmask=mask)


def spread_monthly_to_weeks(
    values: np.ndarray, month_starts: np.ndarray, week_starts: np.ndarray
) -> np.ndarray:
    """Spread per-month increments evenly over the weeks whose first day falls in that month.

    ``values`` is ``(S, M)``; returns ``(S, W)``. A month's value is divided by the number of
    *calendar* weeks starting in it (4 or 5, counted on the weekday of the grid), not by how many
    of those weeks the grid holds, so a week's share never depends on where the data end (an
    ``--as-of`` run gets the same weekly values). Weeks outside the monthly grid get 0 (no
    evidence); NaN months give 0.
    """
    m = month_of_week(week_starts, month_starts)
    out = np.zeros((values.shape[0], len(week_starts)))
    if len(week_starts) == 0 or len(month_starts) == 0:
        return out
    weekday = int(
        (week_starts[0].astype("datetime64[D]").astype(np.int64) + 3) % 7
    )  # 1970-01-01 was a Thursday
    per_week = np.nan_to_num(values) / weeks_starting_in_month(month_starts, weekday)
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


def carry_flags_to_weeks(flags: np.ndarray, month_starts: np.ndarray, week_starts: np.ndarray) -> np.ndarray:
    """Boolean ``(S, M)`` monthly flags held over the weeks starting in each month (False outside)."""
    return carry_monthly_to_weeks(flags.astype(float), month_starts, week_starts) == 1
