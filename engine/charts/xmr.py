"""XmR (individuals) charts to the Making Data Count standard, for many series at once.

Limits follow NHSRplotthedots 0.2.x (``R/ptd_spc_standard.R``) per (series, rebase group):

* mean = mean of the baseline values (the first ``fix_after_n_points`` observed values of the group,
  or all of them);
* moving ranges ``|x_t - x_{t-1}|`` between consecutive baseline values; ``mR-bar`` their mean;
* screening (default on): keep a moving range only if ``mR < 3.267 mR-bar``, once, and recompute
  ``mR-bar`` (the mean is not recomputed). If screening removes every range (only possible when
  all ranges are 0) ``mR-bar`` stays 0;
* limits ``mean +/- multiplier * mR-bar`` (2.66, or 3/1.128), 2-sigma lines at 2/3 of that.

Missing values are dropped before charting (see :mod:`engine.charts.layout`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.charts import codes
from engine.charts.icons import assurance_icon
from engine.charts.layout import Layout, build_layout
from engine.charts.result import ChartResult, finish
from engine.charts.settings import SCREEN_MULTIPLIER, XmRSettings


def as_2d(values: np.ndarray) -> np.ndarray:
    """Float ``(S, T)`` view of the input (a 1-D series becomes one row)."""
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"expected a (S, T) array, got shape {arr.shape}")
    return arr


def moving_ranges(x: np.ndarray, rank: np.ndarray, base: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compacted moving ranges and the mask of those inside the baseline of one segment."""
    mr = np.full(x.shape, np.nan)
    mr[:, 1:] = np.abs(x[:, 1:] - x[:, :-1])
    ok = base & (rank >= 1)
    return mr, ok


def mean_moving_range(
    layout: Layout, mr: np.ndarray, ok: np.ndarray, screen: bool, screen_multiplier: float
) -> np.ndarray:
    """``(n_seg,)`` mean moving range per segment, optionally screened once (NaN if no range)."""
    count = layout.seg_sum(None, ok)
    with np.errstate(invalid="ignore", divide="ignore"):
        amr = layout.seg_sum(mr, ok) / count
    if not screen:
        return amr
    with np.errstate(invalid="ignore"):
        keep = ok & (mr < screen_multiplier * layout.broadcast(amr))
    kept = layout.seg_sum(None, keep)
    with np.errstate(invalid="ignore", divide="ignore"):
        screened = layout.seg_sum(mr, keep) / kept
    return np.where(kept > 0, screened, amr)


def xmr_limits(
    x: np.ndarray, layout: Layout, settings: XmRSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-segment ``(mean, mR-bar, n_baseline)`` for compacted values ``x``."""
    base = layout.valid
    if settings.fix_after_n_points is not None:
        base = base & (layout.rank < settings.fix_after_n_points)
    n_base = layout.seg_sum(None, base)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = layout.seg_sum(x, base) / n_base
    mr, ok = moving_ranges(x, layout.rank, base)
    amr = mean_moving_range(layout, mr, ok, settings.screen_outliers, settings.screen_multiplier)
    return mean, amr, n_base


def xmr_chart(
    values: np.ndarray,
    improvement: object = "increase",
    *,
    groups: np.ndarray | None = None,
    target: np.ndarray | float | None = None,
    settings: XmRSettings | None = None,
) -> ChartResult:
    """XmR charts with Making Data Count rules for ``S`` series at once.

    Parameters
    ----------
    values:
        ``(S, T)`` float values (or one ``(T,)`` series); ``NaN`` = missing. Series may start and
        end at different periods and have gaps.
    improvement:
        ``"increase"``, ``"decrease"`` or ``"neutral"``, for all series or as an ``(S,)`` sequence
        (labels or +1 / -1 / 0).
    groups:
        Optional ``(S, T)`` int rebase-group ids (see :func:`engine.charts.layout.groups_from_markers`).
    target:
        Optional scalar or ``(S,)`` target (NaN = none) for the assurance icon.
    settings:
        :class:`XmRSettings` (default NHSRplotthedots 0.2.x).

    Returns
    -------
    ChartResult
        ``(S, T)`` arrays and per-series icons; a 1-D input gives ``S = 1``.
    """
    settings = settings or XmRSettings()
    arr = as_2d(values)
    if groups is not None:
        groups = np.asarray(groups)
        if groups.ndim == 1:
            groups = groups[None, :]
    direction = codes.direction_codes(improvement, arr.shape[0])
    layout = build_layout(~np.isnan(arr), groups)
    x = layout.compact(arr)
    mean_s, amr_s, _ = xmr_limits(x, layout, settings)
    m = settings.limit_multiplier
    centre = layout.broadcast(mean_s)
    half = layout.broadcast(m * amr_s)
    return finish(
        layout,
        x,
        centre,
        half / 3.0,
        centre - half,
        centre + half,
        centre - half * (2.0 / 3.0),
        centre + half * (2.0 / 3.0),
        direction,
        target,
        run_length=settings.run_length,
        trend_length=settings.trend_length,
        two_in_three_beyond_3sigma=settings.two_in_three_beyond_3sigma,
        min_points=settings.min_points,
        short_group_mode=settings.short_group_mode,
    )


#: qicharts2's T chart transform: times between events ^ (1 / 3.6) are roughly normal (Nelson 1994).
T_CHART_POWER = 3.6


def t_chart(
    times: np.ndarray,
    improvement: object = "increase",
    *,
    groups: np.ndarray | None = None,
    target: np.ndarray | float | None = None,
    settings: XmRSettings | None = None,
) -> ChartResult:
    """T chart for times between rare events (qicharts2 ``chart = "t"``).

    An XmR chart of ``times ** (1 / 3.6)`` whose lines are transformed back with ``** 3.6``
    (a negative lower line becomes 0). Defaults to qicharts2's multiplier 3/1.128 with screening.
    Rules are unchanged by the monotone transform. ``sigma`` is on the transformed scale.

    Parameters
    ----------
    times:
        ``(S, T)`` non-negative times between events (e.g. days since the previous incident).
    """
    settings = settings or XmRSettings(multiplier="qic")
    arr = as_2d(times)
    if np.any(arr < 0):
        raise ValueError("times between events must be non-negative")
    res = xmr_chart(arr ** (1.0 / T_CHART_POWER), improvement, groups=groups, settings=settings)

    def back(a: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.where(np.isnan(a), np.nan, np.maximum(a, 0.0) ** T_CHART_POWER)

    lpl, upl = back(res.lpl), back(res.upl)
    rows = np.arange(arr.shape[0])
    last = np.maximum(res.last_index, 0)
    has = res.last_index >= 0
    a_icon = assurance_icon(
        np.where(has, lpl[rows, last], np.nan), np.where(has, upl[rows, last], np.nan), target, res.direction
    )
    if settings.short_group_mode == "suppress":
        a_icon = np.where(res.variation_icon == codes.NO_ICON, codes.NO_ICON, a_icon).astype(np.int8)
    return replace(
        res,
        value=np.where(np.isnan(res.value), np.nan, arr),
        mean=back(res.mean),
        lpl=lpl,
        upl=upl,
        lower_2sigma=back(res.lower_2sigma),
        upper_2sigma=back(res.upper_2sigma),
        assurance_icon=a_icon,
    )


@dataclass(frozen=True)
class MovingRangeResult:
    """Moving-range (MR) chart, qicharts2 ``chart = "mr"``.

    Attributes
    ----------
    mr:
        ``(S, T)`` moving range ``|x_t - x_{t-1}|`` between consecutive observed values of a group
        (NaN for a group's first point and at missing periods).
    centre, ucl:
        ``(S, T)`` mean moving range of the baseline (unscreened) and ``3.267 * centre``.
    signal:
        ``(S, T)`` bool, ``mr > ucl``.
    """

    mr: np.ndarray
    centre: np.ndarray
    ucl: np.ndarray
    signal: np.ndarray


def moving_range_chart(
    values: np.ndarray, *, groups: np.ndarray | None = None, fix_after_n_points: int | None = None
) -> MovingRangeResult:
    """Moving-range chart of ``(S, T)`` values (baseline = first ``fix_after_n_points`` points)."""
    arr = as_2d(values)
    layout = build_layout(~np.isnan(arr), None if groups is None else np.atleast_2d(groups))
    x = layout.compact(arr)
    base = layout.valid
    if fix_after_n_points is not None:
        base = base & (layout.rank < fix_after_n_points)
    mr, ok = moving_ranges(x, layout.rank, base)
    amr = mean_moving_range(layout, mr, ok, False, SCREEN_MULTIPLIER)
    centre = layout.broadcast(amr)
    mr = np.where(layout.valid & (layout.rank >= 1), mr, np.nan)
    ucl = SCREEN_MULTIPLIER * centre
    return MovingRangeResult(
        mr=layout.scatter(mr, np.nan),
        centre=layout.scatter(centre, np.nan),
        ucl=layout.scatter(ucl, np.nan),
        signal=layout.scatter(mr > ucl, False),
    )
