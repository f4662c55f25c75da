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
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.charts import codes, rules
from engine.charts.layout import build_layout
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


def _lag(a: np.ndarray, lag: int, fill: float | int) -> np.ndarray:
    """``a[:, t - lag]`` (``fill`` for ``t < lag``)."""
    if lag == 0:
        return a
    out = np.full(a.shape, fill, dtype=a.dtype)
    out[:, lag:] = a[:, :-lag]
    return out


def _row_cumsum0(a: np.ndarray) -> np.ndarray:
    """Row cumulative sums with a leading zero column: ``C[:, j] = sum(a[:, :j])``."""
    c = np.zeros((a.shape[0], a.shape[1] + 1))
    np.cumsum(a, axis=1, out=c[:, 1:])
    return c


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
    arr = as_2d(values)
    if groups is not None:
        groups = np.atleast_2d(np.asarray(groups))
    direction = codes.direction_codes(improvement, arr.shape[0])
    layout = build_layout(~np.isnan(arr), groups)
    valid, rank = layout.valid, layout.rank
    x = np.where(valid, layout.compact(arr), 0.0)
    t_count = arr.shape[1]
    cols = np.arange(t_count)[None, :]
    start = cols - np.maximum(rank, 0)  # compacted column of the segment's first point

    # Baseline of cell k: segment columns start .. end (inclusive), n_b = end - start + 1.
    last_in = rank - (0 if monitor.include_current else 1)
    cap = monitor.warm_up - 1 if monitor.baseline == "fixed" else t_count
    end = start + np.minimum(last_in, cap)
    n_b = np.where(valid, np.maximum(end - start + 1, 0), 0)
    end_c = np.clip(end, 0, t_count - 1)

    cx = _row_cumsum0(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (np.take_along_axis(cx, end_c + 1, 1) - np.take_along_axis(cx, start, 1)) / n_b

    # Mean moving range of the baseline ending at every cell j (ranges at columns start+1 .. j).
    mr = np.zeros(x.shape)
    mr[:, 1:] = np.abs(x[:, 1:] - x[:, :-1])
    mr_ok = valid & (rank >= 1)
    mr = np.where(mr_ok, mr, 0.0)
    cm = _row_cumsum0(mr)
    n_mr_at = np.maximum(rank, 0).astype(float)  # ranges in segment up to and including j
    with np.errstate(invalid="ignore", divide="ignore"):
        amr_at = (cm[:, 1:] - np.take_along_axis(cm, start + 1, 1)) / n_mr_at
    if settings.screen_outliers:
        thr = settings.screen_multiplier * amr_at
        kept_sum = np.zeros(x.shape)
        kept_n = np.zeros(x.shape)
        max_lag = min(t_count, cap + 1)
        for lag in range(max_lag):
            m_l = _lag(mr, lag, 0.0)
            in_seg = (rank - lag >= 1) & _lag(mr_ok, lag, False)
            keep = in_seg & (m_l < thr)
            kept_sum += np.where(keep, m_l, 0.0)
            kept_n += keep
        with np.errstate(invalid="ignore", divide="ignore"):
            amr_at = np.where(kept_n > 0, kept_sum / kept_n, amr_at)
    amr = np.where(n_b >= 2, np.take_along_axis(amr_at, end_c, 1), np.nan)

    half = settings.limit_multiplier * amr
    lpl, upl = mean - half, mean + half
    lower_2s, upper_2s = mean - half * (2.0 / 3.0), mean + half * (2.0 / 3.0)
    evaluated = valid & (n_b >= monitor.min_points) & np.isfinite(half)

    # Rules for the last point of the chart drawn at k (windows ending at k, judged at k's lines).
    with np.errstate(invalid="ignore"):
        outside = evaluated & ((x > upl) | (x < lpl))
        n_window = max(settings.run_length, 3)
        rel_l, close_l = [], []
        for lag in range(n_window):
            xl = _lag(x, lag, np.nan)
            rel_l.append(np.nan_to_num(np.sign(xl - mean), nan=0.0).astype(np.int8))
            beyond = (xl > upper_2s) | (xl < lower_2s)
            inside = ~((xl > upl) | (xl < lpl))
            close_l.append(beyond if settings.two_in_three_beyond_3sigma else beyond & inside)
    trend_end = rules.trend_ends(x, rank, settings.trend_length)
    side3 = rel_l[0].astype(np.int32) + rel_l[1] + rel_l[2]
    n_close = close_l[0].astype(np.int32) + close_l[1] + close_l[2]
    two3 = evaluated & (rank >= 2) & close_l[0] & (n_close >= 2) & (np.abs(side3) == 3)
    run_sum = sum(r.astype(np.int32) for r in rel_l[: settings.run_length])
    run = evaluated & (rank >= settings.run_length - 1) & (np.abs(run_sum) == settings.run_length)
    trend = evaluated & (trend_end != 0)

    rule = np.select(
        [outside, trend, two3, run], [codes.OUTSIDE_LIMITS, codes.TREND, codes.TWO_IN_THREE, codes.RUN], 0
    ).astype(np.int8)
    high_low = np.where(rel_l[0] > 0, 1, -1)
    side = np.where(rule == codes.TREND, trend_end, np.where(rule == 0, 0, high_low)).astype(np.int8)
    point_type = rules.classify(side, direction)
    point_type[~evaluated] = codes.MISSING_POINT

    nan = np.nan
    show = valid & (n_b >= 1)
    return MonitorResult(
        mean=layout.scatter(np.where(show, mean, nan), nan),
        lpl=layout.scatter(np.where(show, lpl, nan), nan),
        upl=layout.scatter(np.where(show, upl, nan), nan),
        lower_2sigma=layout.scatter(np.where(show, lower_2s, nan), nan),
        upper_2sigma=layout.scatter(np.where(show, upper_2s, nan), nan),
        n_baseline=layout.scatter(n_b.astype(np.int64), 0),
        evaluated=layout.scatter(evaluated, False),
        point_type=layout.scatter(point_type, np.int8(codes.MISSING_POINT)),
        rule=layout.scatter(rule, np.int8(0)),
        side=layout.scatter(side, np.int8(0)),
    )
