"""The ward x week grid of a results folder and truth windows on it.

Everything in the evaluation is a ``(W, T)`` boolean or integer array: ``W`` wards (sorted ids),
``T`` consecutive weeks (Mondays) from the first to the last period of ``ward_status.csv``. A
ward-week is *monitored* when ``ward_status.csv`` has a row for it (scoring writes one per week from
the ward's first week with data, so a gap in submissions is still monitored time; a hand-made
results file without rows for some weeks leaves them unmonitored).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import cast

import numpy as np
import polars as pl

from engine.contract.levels import LEVEL_RANK
from engine.evaluate.settings import EvaluationSettings

#: level name -> code in ``WardGrid.level`` (alias of ``engine.contract.LEVEL_RANK``).
LEVEL_CODES: dict[str, int] = LEVEL_RANK
#: Weeks per year used for ward-years (365.25 / 7).
WEEKS_PER_YEAR: float = 365.25 / 7.0


@dataclass(frozen=True)
class WardGrid:
    """Ward levels on a dense weekly grid.

    Attributes
    ----------
    ward_id:
        ``(W,)`` ward ids, sorted.
    periods:
        ``(T,)`` ``datetime64[D]`` Mondays, consecutive.
    monitored:
        ``(W, T)`` True where ``ward_status.csv`` has a row.
    level:
        ``(W, T)`` int8 level code (0 none, 1 watch, 2 concern, 3 urgent); 0 where not monitored.
    """

    ward_id: np.ndarray
    periods: np.ndarray
    monitored: np.ndarray
    level: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.level.shape

    def ward_index(self, ward_ids: np.ndarray) -> np.ndarray:
        """Index of each ward id in the grid (-1 when the results have no such ward)."""
        ids = np.asarray(ward_ids, dtype=str)
        if len(self.ward_id) == 0:
            return np.full(len(ids), -1)
        idx = np.searchsorted(self.ward_id, ids)
        ok = (idx < len(self.ward_id)) & (self.ward_id[np.minimum(idx, len(self.ward_id) - 1)] == ids)
        return np.where(ok, idx, -1)

    def week_index(self, days: np.ndarray) -> np.ndarray:
        """Grid index of the week containing each date (may be < 0 or >= T outside the grid)."""
        d = np.asarray(days, dtype="datetime64[D]")
        return ((d - self.periods[0]).astype(np.int64) // 7).astype(np.int64)


def grid_from_status(ward_status: pl.DataFrame) -> WardGrid:
    """Build the grid from a ``ward_status.csv`` frame (``ward_id``, ``period``, ``level``)."""
    status = ward_status.with_columns(
        pl.col("period").cast(pl.String).str.to_date("%Y-%m-%d"), pl.col("ward_id").cast(pl.String)
    )
    unknown = set(status["level"].unique().to_list()) - set(LEVEL_CODES)
    if unknown:
        raise ValueError(f"ward_status.csv: unknown level(s) {sorted(unknown)}")
    wards = np.array(sorted(status["ward_id"].unique().to_list()), dtype=str)
    first = cast("dt.date | None", status["period"].min())
    last = cast("dt.date", status["period"].max())
    if first is None:
        raise ValueError("ward_status.csv has no rows")
    weeks = ((last - first).days // 7) + 1
    periods = np.datetime64(first, "D") + 7 * np.arange(weeks)
    grid = WardGrid(
        wards, periods, np.zeros((len(wards), weeks), bool), np.zeros((len(wards), weeks), np.int8)
    )
    w = grid.ward_index(status["ward_id"].to_numpy())
    days = status["period"].to_numpy().astype("datetime64[D]")
    t = grid.week_index(days)
    if np.any(periods[t] != days):
        raise ValueError("ward_status.csv: periods must be weekly on the same weekday")
    grid.monitored[w, t] = True
    grid.level[w, t] = status["level"].replace_strict(LEVEL_CODES, return_dtype=pl.Int8).to_numpy()
    return grid


def window_end(truth: pl.DataFrame, last_period: dt.date, settings: EvaluationSettings) -> pl.Series:
    """Last day of each truth row's window.

    ``end + grace_weeks`` when the row has an end; an ongoing episode runs to the end of the data;
    a decoy with no end (a permanent step such as a definition change) is a decoy for
    ``step_window_weeks`` after its full effect, after which it is the ward's new normal.
    """
    grace = dt.timedelta(weeks=settings.grace_weeks)
    step = dt.timedelta(weeks=settings.step_window_weeks)
    return truth.select(
        pl.when(pl.col("end").is_not_null())
        .then(pl.col("end") + grace)
        .when(pl.col("role") == "episode")
        .then(pl.lit(last_period))
        .otherwise(pl.col("full_effect") + step)
        .alias("window_end")
    )["window_end"]


def windows_mask(grid: WardGrid, truth: pl.DataFrame, settings: EvaluationSettings) -> np.ndarray:
    """``(W, T)`` True inside any episode or decoy window (known changes are not windows)."""
    rows = truth.filter(pl.col("role") != "known_change")
    mask = np.zeros(grid.shape, dtype=bool)
    if rows.height == 0:
        return mask
    last = grid.periods[-1].astype(dt.date)
    ends = window_end(rows, last, settings).to_numpy().astype("datetime64[D]")
    w = grid.ward_index(rows["ward_id"].to_numpy())
    t0 = grid.week_index(rows["onset"].to_numpy().astype("datetime64[D]"))
    t1 = grid.week_index(ends)
    t_all = np.arange(grid.shape[1])
    ok = w >= 0
    inside = (t_all[None, :] >= t0[ok, None]) & (t_all[None, :] <= t1[ok, None])
    np.logical_or.at(mask, w[ok], inside)
    return mask
