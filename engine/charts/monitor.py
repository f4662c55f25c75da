"""Monitoring (prospective) mode for XmR charts: the state at period t uses data up to t only.

The retrospective display chart (:func:`engine.charts.xmr.xmr_chart`) recomputes its limits from
the whole series and flags every point of a pattern, so points can change colour when later data
arrive. Monitoring mode answers "what would the chart drawn at period t say about period t?":

* limits at t come from the baseline available at t: the first ``warm_up`` observed points of the
  rebase group (``baseline="fixed"``; while fewer exist, all points so far) or every point so far
  (``baseline="expanding"``); with ``include_current=False`` the point at t is left out;
* mean, moving ranges and screening are as in the display chart (same :class:`XmRSettings`);
* point t is classified as the *last* point of that chart: outside the limits at t; a trend ending
  at t; a 2-of-3 window ending at t in which t itself is beyond 2 sigma; a run ending at t (all
  relative to the mean at t). Same precedence and point types as the display chart.

Nothing at t depends on data after t (tested by truncation). Missing periods are skipped as in
display mode, and each rebase group starts a new baseline.

Arithmetic (per series, on the compacted sequence of observed values ``x``, see
:mod:`engine.charts.layout`): with row cumulative sums ``CX`` of ``x`` and ``CM`` of the in-segment
moving ranges, the baseline of cell ``k`` spans compacted cells ``start .. end`` (``n_b`` points),
``mean = (CX[end + 1] - CX[start]) / n_b`` and the unscreened mean moving range at ``end`` is
``(CM[end + 1] - CM[start + 1]) / rank(end)``; screening then averages the in-segment ranges of the
``min(T, cap + 1)`` lags ending at ``end`` that are below ``screen_multiplier`` times it, summed from
lag 0 upwards. The compiled kernel (:mod:`engine.charts._monitor_kernel`) does exactly these
operations in this order, one series at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.charts import codes
from engine.charts._monitor_kernel import monitor_rows
from engine.charts.settings import MonitorSettings, XmRSettings
from engine.charts.xmr import as_2d


@dataclass(frozen=True)
class MonitorResult:
    """Monitoring-mode state of every period, ``(S, T)`` arrays at the original periods.

    Attributes
    ----------
    mean, lpl, upl, lower_2sigma, upper_2sigma:
        Lines of the chart as it stood at t (NaN when missing or not estimable).
    n_baseline:
        Number of points the limits at t rest on (0 at missing periods).
    evaluated:
        bool: t is observed and ``n_baseline >= min_points`` with finite limits.
    point_type, rule, side:
        int8 codes as in :class:`engine.charts.result.ChartResult`; ``MISSING_POINT`` / 0 where
        not evaluated.
    """

    mean: np.ndarray
    lpl: np.ndarray
    upl: np.ndarray
    lower_2sigma: np.ndarray
    upper_2sigma: np.ndarray
    n_baseline: np.ndarray
    evaluated: np.ndarray
    point_type: np.ndarray
    rule: np.ndarray
    side: np.ndarray

    def point_type_labels(self) -> np.ndarray:
        """``(S, T)`` point-type labels (``""`` where not evaluated)."""
        return codes.labels(self.point_type, codes.POINT_TYPE_LABELS)


def xmr_monitor(
    values: np.ndarray,
    improvement: object = "increase",
    *,
    groups: np.ndarray | None = None,
    settings: XmRSettings | None = None,
    monitor: MonitorSettings | None = None,
) -> MonitorResult:
    """Prospective XmR limits and point classification for ``S`` series at once.

    Parameters
    ----------
    values:
        ``(S, T)`` values (NaN = missing) or one ``(T,)`` series.
    improvement:
        Improvement direction(s), as in :func:`engine.charts.xmr.xmr_chart`.
    groups:
        Optional ``(S, T)`` rebase-group ids; a new group starts a new baseline.
    settings:
        Limits and rules (:class:`XmRSettings`; ``fix_after_n_points`` and the short-group fields
        are not used: the baseline is set by ``monitor``).
    monitor:
        :class:`MonitorSettings`.
    """
    settings = settings or XmRSettings()
    monitor = monitor or MonitorSettings()
    arr = np.ascontiguousarray(as_2d(values))
    s_count, t_count = arr.shape
    if groups is None:
        group = np.zeros(arr.shape, dtype=np.int32)
    else:
        groups = np.atleast_2d(np.asarray(groups))
        if groups.shape != arr.shape:
            raise ValueError(f"groups has shape {groups.shape}, expected {arr.shape}")
        group = np.ascontiguousarray(groups, dtype=np.int32)
    direction = codes.direction_codes(improvement, s_count)
    cap = monitor.warm_up - 1 if monitor.baseline == "fixed" else t_count
    out = MonitorResult(
        mean=np.full(arr.shape, np.nan),
        lpl=np.full(arr.shape, np.nan),
        upl=np.full(arr.shape, np.nan),
        lower_2sigma=np.full(arr.shape, np.nan),
        upper_2sigma=np.full(arr.shape, np.nan),
        n_baseline=np.zeros(arr.shape, dtype=np.int64),
        evaluated=np.zeros(arr.shape, dtype=bool),
        point_type=np.full(arr.shape, codes.MISSING_POINT, dtype=np.int8),
        rule=np.zeros(arr.shape, dtype=np.int8),
        side=np.zeros(arr.shape, dtype=np.int8),
    )
    monitor_rows(
        arr,
        group,
        direction,
        monitor.include_current,
        cap,
        min(t_count, cap + 1),
        settings.screen_outliers,
        settings.screen_multiplier,
        settings.limit_multiplier,
        monitor.min_points,
        settings.run_length,
        settings.trend_length,
        settings.two_in_three_beyond_3sigma,
        out.mean,
        out.lpl,
        out.upl,
        out.lower_2sigma,
        out.upper_2sigma,
        out.n_baseline,
        out.evaluated,
        out.point_type,
        out.rule,
        out.side,
    )
    return out
