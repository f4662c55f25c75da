"""Latent ingredients of the expected rates: calendar, seasonality, drift and AR(1) factors.

Everything returns arrays of shape ``(W, T)`` (wards x periods) or ``(T,)``; every multiplier has
mean one so that base rates stay the long-run means.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Calendar:
    """Weekly and monthly period grids of one run.

    Attributes
    ----------
    weeks:
        ``(Tw,)`` ``datetime64[D]`` Mondays.
    months:
        ``(Tm,)`` ``datetime64[D]`` first days of the months holding those Mondays.
    week_month:
        ``(Tw,)`` int: index into ``months`` of the month each week's Monday falls in.
    month_first_week:
        ``(Tm,)`` int: index of the first week of each month.
    """

    weeks: np.ndarray
    months: np.ndarray
    week_month: np.ndarray
    month_first_week: np.ndarray

    @classmethod
    def build(cls, start: dt.date, n_weeks: int) -> Calendar:
        weeks = np.datetime64(start, "D") + 7 * np.arange(n_weeks).astype("timedelta64[D]")
        wm = weeks.astype("datetime64[M]")
        months = np.unique(wm)
        week_month = np.searchsorted(months, wm)
        first = np.searchsorted(week_month, np.arange(months.size))
        return cls(weeks, months.astype("datetime64[D]"), week_month, first)

    def month_mean(self, weekly: np.ndarray) -> np.ndarray:
        """Average a ``(W, Tw)`` weekly array over the weeks of each month -> ``(W, Tm)``."""
        sums = np.add.reduceat(weekly, self.month_first_week, axis=1)
        counts = np.diff(np.append(self.month_first_week, self.weeks.size))
        return sums / counts


def day_of_year(dates: np.ndarray) -> np.ndarray:
    """Day of year (0-based) of ``datetime64[D]`` dates."""
    return (dates - dates.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)


def winter_factor(dates: np.ndarray, amplitude: float) -> np.ndarray:
    """``1 + a cos(2 pi (doy - 20) / 365.25)``: peak about 20 January, mean one over a year."""
    return 1.0 + amplitude * np.cos(2.0 * np.pi * (day_of_year(dates) - 20) / 365.25)


def christmas_factor(dates: np.ndarray, dip: float, span_days: int) -> np.ndarray:
    """Multiplier ``dip`` for periods overlapping 20 Dec - 2 Jan, renormalised to mean one.

    ``span_days`` is the period length (7 weekly, 31 monthly); a period starting on day ``d`` overlaps
    the window when ``d`` lies in [20 Dec - span + 1, 2 Jan]. The normalising constant is the share of
    period starts over a year that overlap, so the yearly mean is exactly one.
    """
    doy = day_of_year(dates)
    # window in "days after 20 December - span + 1", wrapping the year end
    lo = (353 - span_days + 1) % 365  # 20 Dec is day 353 in a common year
    width = span_days + 13  # starts from lo up to 2 Jan (day 1) inclusive
    hit = ((doy - lo) % 365) < width
    share = width / 365.0
    raw = np.where(hit, dip, 1.0)
    return raw / (1.0 - share * (1.0 - dip))


def ar1(rng: np.random.Generator, n: int, t: int, phi: float) -> np.ndarray:
    """``(n, t)`` stationary AR(1) paths with unit marginal variance (loop over periods only)."""
    eps = rng.standard_normal((n, t))
    out = np.empty((n, t))
    out[:, 0] = eps[:, 0]
    scale = np.sqrt(1.0 - phi * phi)
    for j in range(1, t):
        out[:, j] = phi * out[:, j - 1] + scale * eps[:, j]
    return out


def lognormal_drift(rng: np.random.Generator, n: int, t: int, sd: float) -> np.ndarray:
    """``(n, t)`` mean-one multiplicative random walk ``exp(X_t - sd^2 t / 2)``, ``X_0 = 0``."""
    if sd <= 0:
        return np.ones((n, t))
    steps = rng.standard_normal((n, t)) * sd
    steps[:, 0] = 0.0
    walk = np.cumsum(steps, axis=1)
    return np.exp(walk - 0.5 * sd * sd * np.arange(t))


def mean_one_gamma(rng: np.random.Generator, size: int | tuple[int, ...], cv: float) -> np.ndarray:
    """Gamma draws with mean one and coefficient of variation ``cv`` (ones when ``cv`` is 0)."""
    if cv <= 0:
        return np.ones(size)
    shape = 1.0 / (cv * cv)
    return rng.gamma(shape, 1.0 / shape, size)
