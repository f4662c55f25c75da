"""Canonical observation frame and the dense ``Panel`` every statistic works on.

Two representations, one job each:

* the **observation frame** (polars, long): what the loader accepted, one row per ward, period and
  indicator, with the columns in :data:`engine.contract.OBSERVATION_SCHEMA` (the loader itself hands over the same
  rows as codes, :class:`engine.coded.CodedObservations`, and builds the frame on demand);
* the **panel** (numpy, dense): the same values laid out as ``series x periods`` arrays, one panel
  per cadence (weekly, monthly), so that detectors and charts run across every ward and indicator at
  once with array operations (a loop over periods is fine; a loop over series is not).

Missing is not zero: a period with no row, an unknown numerator and a suppressed value are all
``NaN`` in ``y``, told apart by ``status``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
import polars as pl

from engine.coded import CodedObservations, texts

# Defined in the observation contract; kept importable from here for existing callers.
from engine.contract.observations import (
    MISSING,
    OBSERVATION_SCHEMA,
    OBSERVED,
    STATUS_LABELS,
    SUPPRESSED,
    UNKNOWN,
)

__all__ = [
    "MISSING",
    "OBSERVATION_SCHEMA",
    "OBSERVED",
    "STATUS_LABELS",
    "SUPPRESSED",
    "UNKNOWN",
    "Cadence",
    "Panel",
    "SeriesRows",
    "build_panel",
    "distinct_keys",
    "period_grid",
]


Cadence = Literal["weekly", "monthly"]


def distinct_keys(keys: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The distinct values of an ``(S,)`` key array (sorted, as ``str``) and each row's index into them.

    For per-series attributes looked up by key (catalogue entry, ward type, provider): look each up
    once per distinct key (~20 indicators, ~2,500 wards nationally) and spread the results with the
    index, instead of iterating ~50,000 NumPy string scalars.
    """
    distinct, index = np.unique(np.asarray(keys), return_inverse=True)
    return [str(k) for k in distinct], index.reshape(-1)


@dataclass(frozen=True)
class Panel:
    """Dense ``(n_series, n_periods)`` arrays for all series of one cadence.

    Attributes
    ----------
    cadence:
        ``weekly`` or ``monthly``.
    periods:
        ``(T,)`` ``datetime64[D]``: first day of each period, consecutive (weekly: 7 days apart;
        monthly: first of each calendar month), spanning the data.
    ward_id, indicator:
        ``(S,)`` string arrays: the key of each series (row). Rows are sorted by (ward_id, indicator).
    y:
        ``(S, T)`` float64 numerator; ``NaN`` where not observed (see ``status``).
    n:
        ``(S, T)`` float64 exposure (denominator); ``1.0`` for indicators without exposure; ``NaN``
        where the row is missing or the denominator was not given.
    status:
        ``(S, T)`` int8: ``OBSERVED``, ``SUPPRESSED`` (published as ``*``: unknown and small),
        ``MISSING`` (no row) or ``UNKNOWN`` (row present, numerator empty).
    """

    cadence: Cadence
    periods: np.ndarray
    ward_id: np.ndarray
    indicator: np.ndarray
    y: np.ndarray
    n: np.ndarray
    status: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.y.shape

    @property
    def observed(self) -> np.ndarray:
        """``(S, T)`` bool: a numeric value is available."""
        return self.status == OBSERVED

    def rate(self) -> np.ndarray:
        """``(S, T)`` observed rate ``y / n`` (``NaN`` where not observed)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.y / self.n

    def first_period(self) -> np.ndarray:
        """``(S,)`` index of each series' first period with any row (observed, suppressed, unknown)."""
        has_row = self.status != MISSING
        first = np.argmax(has_row, axis=1)
        return np.where(has_row.any(axis=1), first, self.y.shape[1])

    def select(self, mask: np.ndarray) -> Panel:
        """A panel with only the series where ``mask`` (``(S,)`` bool) is true."""
        return Panel(
            self.cadence,
            self.periods,
            self.ward_id[mask],
            self.indicator[mask],
            self.y[mask],
            self.n[mask],
            self.status[mask],
        )

    def rows(self, rows: slice) -> Panel:
        """The series ``rows`` (a slice, so every array is a view: no copy)."""
        return Panel(
            self.cadence,
            self.periods,
            self.ward_id[rows],
            self.indicator[rows],
            self.y[rows],
            self.n[rows],
            self.status[rows],
        )

    def truncate(self, last_period: np.datetime64) -> Panel:
        """A panel holding only periods up to and including ``last_period`` (for as-of runs)."""
        keep = self.periods <= last_period
        return Panel(
            self.cadence,
            self.periods[keep],
            self.ward_id,
            self.indicator,
            self.y[:, keep],
            self.n[:, keep],
            self.status[:, keep],
        )


def period_grid(start: np.datetime64, end: np.datetime64, cadence: Cadence) -> np.ndarray:
    """Consecutive period starts from ``start`` to ``end`` inclusive (``datetime64[D]``)."""
    # numpy's stubs have no (datetime64, unit) overload of datetime64(), which numpy accepts
    start, end = np.datetime64(start, "D"), np.datetime64(end, "D")  # type: ignore[call-overload]
    if cadence == "weekly":
        return np.arange(start, end + np.timedelta64(1, "D"), np.timedelta64(7, "D"))
    months = np.arange(start.astype("datetime64[M]"), end.astype("datetime64[M]") + 1)
    return months.astype("datetime64[D]")


class SeriesRows:
    """Observation rows grouped into series runs, and the columns every panel reads.

    A run is a stretch of consecutive rows with the same (ward_id, indicator); in rows in key order
    (the loader's output) each run is one series. The runs and the numeric columns are computed once
    here and shared by the panels of every cadence cut from the same rows.

    Attributes
    ----------
    source:
        The rows: an observation frame (:data:`OBSERVATION_SCHEMA`) or the loader's
        :class:`engine.coded.CodedObservations` (runs found on the codes, no text per row).
    keys:
        ``(R,)`` frame of ``ward_id``, ``indicator``: the key of each run.
    run_start:
        ``(R + 1,)`` int64 first row of each run, then the row count.
    """

    def __init__(self, observations: pl.DataFrame | CodedObservations) -> None:
        self.source = observations
        if isinstance(observations, pl.DataFrame):
            runs = observations.select(pl.struct("ward_id", "indicator").rle().alias("_r")).unnest("_r")
            runs = runs.unnest("value")
            self.keys = runs.select("ward_id", "indicator")
            self.run_start = np.zeros(runs.height + 1, dtype=np.int64)
            np.cumsum(runs["len"].to_numpy(), out=self.run_start[1:])
            return
        ward, ind = observations.ward_codes, observations.indicator_codes
        n = ward.shape[0]
        change = np.empty(n, dtype=bool)
        change[:1] = True  # codes are ranks of the distinct texts: equal codes, equal texts
        np.not_equal(ward[1:], ward[:-1], out=change[1:])
        change[1:] |= ind[1:] != ind[:-1]
        self.run_start = np.append(np.flatnonzero(change), n).astype(np.int64)
        first = self.run_start[:-1]
        self.keys = pl.DataFrame(
            {
                "ward_id": texts(observations.ward_values, ward[first]),
                "indicator": texts(observations.indicator_values, ind[first]),
            }
        )

    def indicators(self) -> list[str]:
        """The distinct indicators of the rows, sorted (from the runs: no pass over the rows)."""
        return self.keys["indicator"].unique().sort().to_list()

    @cached_property
    def days(self) -> np.ndarray:
        """``(rows,)`` period of each row as days since 1970-01-01."""
        if not isinstance(self.source, pl.DataFrame):
            return self.source.days
        period = self.source["period"]
        return (period if period.dtype == pl.Date else period.cast(pl.Date)).to_physical().to_numpy()

    @cached_property
    def numerator(self) -> np.ndarray:
        """``(rows,)`` float64 numerator, NaN for null."""
        if not isinstance(self.source, pl.DataFrame):
            return self.source.numerator
        return _floats(self.source["numerator"])

    @cached_property
    def denominator(self) -> np.ndarray:
        """``(rows,)`` float64 denominator, NaN for null."""
        if not isinstance(self.source, pl.DataFrame):
            return self.source.denominator
        return _floats(self.source["denominator"])

    def status_codes(self, sel: np.ndarray) -> np.ndarray:
        """``(rows,)`` int8 ``Panel.status`` code of every row (labels checked on the runs ``sel``)."""
        if not isinstance(self.source, pl.DataFrame):
            return self._coded_status
        return _status_codes(self.source["status"], self.run_start, sel)

    @cached_property
    def _coded_status(self) -> np.ndarray:
        """``(rows,)`` int8 ``Panel.status`` code of every coded row (mapped by label)."""
        coded = self.source
        assert not isinstance(coded, pl.DataFrame)
        to_panel = np.array([STATUS_LABELS.index(v) for v in coded.status_values], dtype=np.int8)
        return to_panel[coded.status_codes]


def build_panel(
    observations: pl.DataFrame | CodedObservations,
    cadence: Cadence,
    indicators: list[str] | None = None,
    periods: np.ndarray | None = None,
    rows: SeriesRows | None = None,
) -> Panel:
    """Lay the canonical observation frame out as a dense panel.

    Parameters
    ----------
    observations:
        Canonical frame (:data:`OBSERVATION_SCHEMA`) or the loader's coded rows, already validated:
        no duplicate keys, periods aligned to ``cadence``.
    cadence:
        Which grid to build.
    indicators:
        Indicators to include (default: every indicator present in ``observations``).
    periods:
        Optional explicit grid; default spans the first to the last period of the selected rows.
    rows:
        ``SeriesRows(observations)`` when the caller builds several panels from the same rows (the
        runs and columns are then computed once); built here otherwise.

    Rows in (ward_id, indicator, period) order (the loader's output) are scattered as they come; any
    other order is sorted first. Rows whose period is not on the grid are dropped.
    """
    obs = observations
    if rows is not None and rows.source is not obs:
        raise ValueError("rows must be SeriesRows(observations) of the same frame or coded rows")
    panel = (
        None if obs.height == 0 else _scatter(rows or SeriesRows(obs), cadence, indicators, periods, False)
    )
    if panel is None:  # not in key order (or empty): the selected rows sorted, then the same scatter
        if not isinstance(obs, pl.DataFrame):
            obs = obs.frame()
        if indicators is not None:
            obs = obs.filter(pl.col("indicator").is_in(indicators))
        obs = obs.sort("ward_id", "indicator", "period")
        panel = _scatter(SeriesRows(obs), cadence, None, periods, presorted=True)
    assert panel is not None
    return panel


def _scatter(
    rows: SeriesRows,
    cadence: Cadence,
    indicators: list[str] | None,
    periods: np.ndarray | None,
    presorted: bool,
) -> Panel | None:
    """The panel of the rows of ``indicators``, or ``None`` when those rows are not in key order.

    A series is a run of consecutive rows with the same (ward_id, indicator); the selected rows are in
    key order when the selected runs' keys strictly increase and each run's periods strictly increase
    (checked unless ``presorted``). The series keys come from the runs, so no string is sorted, joined
    or hashed per row; a compiled pass then fills each series' row (:mod:`engine._panel_kernel`).
    """
    run_start = rows.run_start
    if indicators is not None:
        keep = rows.keys["indicator"].is_in(indicators)
        sel = np.flatnonzero(keep.to_numpy())
        keys = rows.keys.filter(keep)
    else:
        sel = np.arange(rows.keys.height, dtype=np.int64)
        keys = rows.keys
    if not presorted and keys.height > 1:
        w, i = pl.col("ward_id"), pl.col("indicator")
        step = (w > w.shift(1)) | ((w == w.shift(1)) & (i > i.shift(1)))
        if not keys.select(step.slice(1).fill_null(False).all()).item():
            return None
    days = rows.days
    if periods is None:
        if keys.height == 0:
            periods = np.array([], dtype="datetime64[D]")
        else:  # runs in period order: first and last rows of the runs hold the extremes
            lo = int(days[run_start[sel]].min())
            hi = int(days[run_start[sel + 1] - 1].max())
            periods = period_grid(np.datetime64(lo, "D"), np.datetime64(hi, "D"), cadence)
    s_count, t_count = keys.height, len(periods)
    y = np.empty((s_count, t_count))
    n = np.empty((s_count, t_count))
    status = np.empty((s_count, t_count), dtype=np.int8)
    if s_count:
        grid = periods.astype("datetime64[D]").astype(np.int64)
        first = int(grid.min()) if t_count else 0
        col_of_day = np.full(int(grid.max()) - first + 1 if t_count else 0, -1, dtype=np.int64)
        col_of_day[grid[::-1] - first] = np.arange(t_count - 1, -1, -1)  # first match on a repeated day
        code = rows.status_codes(sel)
        from engine._panel_kernel import scatter_runs  # numba: imported on use

        unsorted = scatter_runs(
            y,
            n,
            status,
            run_start,
            sel,
            days,
            rows.numerator,
            rows.denominator,
            code,
            col_of_day,
            first,
        )
        if unsorted and not presorted:
            return None
    return Panel(
        cadence=cadence,
        periods=periods,
        ward_id=keys["ward_id"].to_numpy().astype(str),
        indicator=keys["indicator"].to_numpy().astype(str),
        y=y,
        n=n,
        status=status,
    )


def _floats(col: pl.Series) -> np.ndarray:
    """``float64`` values with NaN for null (filling first is faster than ``to_numpy``'s own fill)."""
    return col.cast(pl.Float64).fill_null(np.nan).to_numpy()


def _status_codes(status: pl.Series, run_start: np.ndarray, sel: np.ndarray) -> np.ndarray:
    """``(rows,)`` int8 status code of every row (labels checked on the selected runs' rows only)."""
    code = np.zeros(status.len(), dtype=np.int8)
    other = np.flatnonzero((status != STATUS_LABELS[OBSERVED]).fill_null(True).to_numpy())
    if other.size:
        run = np.searchsorted(run_start, other, side="right") - 1
        other = other[np.isin(run, sel)]
        labels = {label: c for c, label in enumerate(STATUS_LABELS)}
        code[other] = status.gather(other).replace_strict(labels, return_dtype=pl.Int8).to_numpy()
    return code
