"""Charts for rare events: g charts, T charts with Anhoej runs, and times between events.

qicharts2 0.8 formulas (``R/helper.functions.R``, ``qic.g`` and ``qic.t``), per (series, rebase
group), over the baseline (observed points within the first ``fix_after_n_points`` when set):

* **g chart** (opportunities, e.g. days or occupied bed days, between events): ``m`` = mean of the
  baseline; ``sigma = sqrt(m (m + 1))`` (the standard deviation of a geometric distribution with
  mean ``m``, Montgomery p. 319); limits ``m +/- 3 sigma`` (2-sigma lines at ``+/- 2 sigma``),
  lower lines floored at 0. The *centre line* drawn is the baseline median (qicharts2 draws the
  median when it computes the centre itself), and runs are analysed around it.
* **T chart** (:func:`engine.charts.xmr.t_chart`): an individuals chart of ``y ** (1/3.6)`` (Nelson's
  transformation) transformed back with ``** 3.6``; the lower limit is floored at 0.

A *longer* time between events is an improvement when events are harmful (improvement direction
``"increase"``), the reverse of a rate chart of the same events.

:func:`event_intervals` turns per-period event counts into times between events (for series that
only report counts per week or month), spreading the events of a period evenly across it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from engine.charts import codes
from engine.charts.anhoej import RunsResult, anhoej_runs, runs_result, segment_median, segment_runs
from engine.charts.layout import as_2d_groups, baseline_masks, build_layout
from engine.charts.result import ChartResult, finish_sigma_limits
from engine.charts.settings import GSettings, XmRSettings
from engine.charts.xmr import as_2d, t_chart


@dataclass(frozen=True)
class EventChartResult(ChartResult):
    """A :class:`ChartResult` of a g or T chart plus the Anhoej runs analysis around its centre.

    Attributes
    ----------
    runs:
        :class:`engine.charts.anhoej.RunsResult` around the drawn centre line.
    limit_centre:
        ``(S, T)`` the centre the limits are built on (g chart: the baseline mean; T chart: the
        back-transformed mean of the transformed values, equal to ``mean``).
    """

    runs: RunsResult
    limit_centre: np.ndarray


def g_chart(
    values: np.ndarray,
    improvement: object = "increase",
    *,
    groups: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    target: np.ndarray | float | None = None,
    settings: GSettings | None = None,
) -> EventChartResult:
    """g charts (qicharts2 ``chart = "g"``) of opportunities between events, ``S`` series at once.

    Parameters
    ----------
    values:
        ``(S, T)`` non-negative counts of opportunities (days, bed days, admissions) between
        consecutive events; NaN = missing.
    improvement:
        Improvement direction(s); default ``"increase"`` (longer gaps between harmful events).
    groups, exclude, target:
        As in :func:`engine.charts.attribute.attribute_chart`.
    settings:
        :class:`GSettings`.
    """
    settings = settings or GSettings()
    arr = as_2d(values)
    if np.any(arr < 0):
        raise ValueError("opportunities between events must be non-negative")
    observed = ~np.isnan(arr)
    layout = build_layout(observed, as_2d_groups(groups))
    x = layout.compact(arr)
    include, base = baseline_masks(layout, exclude, settings.fix_after_n_points)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_s = layout.seg_sum(x, base) / layout.seg_sum(None, base)
    mean = layout.broadcast(mean_s)
    sigma = np.sqrt(mean * (mean + 1.0))
    centre = layout.broadcast(segment_median(x, base, layout))
    direction = codes.direction_codes(improvement, arr.shape[0])
    chart = finish_sigma_limits(layout, x, centre, mean, sigma, direction, target, settings)
    runs = runs_result(segment_runs(x, centre, layout, include), layout)
    base_fields = {f.name: getattr(chart, f.name) for f in fields(ChartResult)}
    return EventChartResult(**base_fields, runs=runs, limit_centre=layout.scatter(mean, np.nan))


def t_chart_with_runs(
    times: np.ndarray,
    improvement: object = "increase",
    *,
    groups: np.ndarray | None = None,
    target: np.ndarray | float | None = None,
    settings: XmRSettings | None = None,
) -> EventChartResult:
    """:func:`engine.charts.xmr.t_chart` plus the Anhoej runs analysis around its centre line.

    The runs are those of qicharts2's T chart: signs of ``time - centre`` (the transform is monotone,
    so they are the signs on the transformed scale too).
    """
    res = t_chart(times, improvement, groups=groups, target=target, settings=settings)
    runs = anhoej_runs(res.value, res.mean, groups=groups)
    base_fields = {f.name: getattr(res, f.name) for f in fields(ChartResult)}
    return EventChartResult(**base_fields, runs=runs, limit_centre=res.mean)


@dataclass(frozen=True)
class EventIntervals:
    """Times between consecutive events of each series, ``(S, K)`` padded with NaN.

    Attributes
    ----------
    interval:
        ``(S, K)`` time from the previous event to event ``k`` (days; the first event of a series
        has none: intervals start at the second event), NaN padding.
    at:
        ``(S, K)`` time of event ``k`` (days since the start of the first period), NaN padding.
    n_events:
        ``(S,)`` number of events.
    open_interval:
        ``(S,)`` time from the last event to the end of the last period (days; NaN without events):
        the gap still running, not charted (it is censored) but worth saying.
    """

    interval: np.ndarray
    at: np.ndarray
    n_events: np.ndarray
    open_interval: np.ndarray


def event_intervals(counts: np.ndarray, period_start: np.ndarray, period_days: np.ndarray) -> EventIntervals:
    """Times between events from per-period counts, events spread evenly across their period.

    Parameters
    ----------
    counts:
        ``(S, T)`` event counts per period (NaN = not observed: contributes no event). Fractional
        counts are rounded to whole events.
    period_start:
        ``(T,)`` start of each period in days (e.g. days since an epoch).
    period_days:
        ``(T,)`` length of each period in days (7 for weeks).

    Notes
    -----
    ``c`` events in a period starting at ``d`` of length ``L`` are placed at
    ``d + L (j + 0.5) / c`` for ``j = 0 .. c-1``: the midpoint rule, so intervals are positive (as
    a T chart needs) and average ``L / c`` within a busy period. With only period counts the true
    times are unknown; the chart is of these estimates (said in the caption).
    """
    c = np.nan_to_num(as_2d(counts), nan=0.0)
    c = np.maximum(np.rint(c), 0).astype(np.int64)
    start = np.asarray(period_start, dtype=float)
    length = np.asarray(period_days, dtype=float)
    s_count = c.shape[0]
    n_events = c.sum(axis=1)
    k_max = int(n_events.max()) if s_count and n_events.size else 0
    at = np.full((s_count, max(k_max, 1)), np.nan)
    if k_max:
        flat = c.ravel()
        rows = np.repeat(np.repeat(np.arange(s_count), c.shape[1]), flat)
        cols_t = np.repeat(np.tile(np.arange(c.shape[1]), s_count), flat)
        # position j of each event within its (series, period) cell
        cell_first = np.cumsum(flat) - flat
        j = np.arange(flat.sum()) - np.repeat(cell_first, flat)
        when = start[cols_t] + length[cols_t] * (j + 0.5) / np.repeat(flat, flat)
        series_first = np.concatenate(([0], np.cumsum(n_events)[:-1]))
        k = np.arange(rows.size) - series_first[rows]
        at[rows, k] = when
    interval = np.full(at.shape, np.nan)
    interval[:, 1:] = at[:, 1:] - at[:, :-1]
    end = start[-1] + length[-1] if start.size else 0.0
    last = np.where(n_events > 0, at[np.arange(s_count), np.maximum(n_events - 1, 0)], np.nan)
    return EventIntervals(interval, at, n_events, end - last)
