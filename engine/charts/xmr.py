"""XmR (individuals) charts to the Making Data Count standard, for many series at once.

Limits follow NHSRplotthedots 0.2.x (``R/ptd_spc_standard.R``) per (series, rebase group):

* mean = mean of the baseline values (the first ``fix_after_n_points`` observed values of the group,
  or all of them);
* moving ranges ``|x_t - x_{t-1}|`` between consecutive baseline values; ``mR-bar`` their mean;
* screening (default on): keep a moving range only if ``mR < 3.267 mR-bar``, once, and recompute
  ``mR-bar`` (the mean is not recomputed). If screening removes every range (only possible when
  all ranges are 0) ``mR-bar`` stays 0;
* limits ``mean +/- multiplier * mR-bar`` (2.66, or 3/1.128), 2-sigma lines at 2/3 of that.

Missing values are dropped before charting (see :mod:`engine.charts.layout`). The display chart is
computed by one compiled pass per series (:mod:`engine.charts._xmr_kernel`) that does the arithmetic
of the array formulation (layout, per-segment sums, :mod:`engine.charts.rules`) in the same order,
bit for bit (``tests/charts/vectorised_xmr.py`` keeps that formulation as the test oracle).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.charts import codes
from engine.charts._xmr_kernel import xmr_rows
from engine.charts.icons import assurance_icon
from engine.charts.layout import Layout, build_layout
from engine.charts.result import ChartResult, latest_icons
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
    return xmr_chart_of(as_2d(values), improvement, groups=groups, target=target, settings=settings)


def xmr_chart_of(
    values: np.ndarray,
    improvement: object = "increase",
    *,
    denominator: np.ndarray | None = None,
    observed: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    target: np.ndarray | float | None = None,
    settings: XmRSettings | None = None,
) -> ChartResult:
    """:func:`xmr_chart` of ``values / denominator`` (when given) at the ``observed`` cells (when given).

    The same chart as ``xmr_chart(np.where(observed, values / denominator, np.nan), ...)`` without
    materialising that ``(S, T)`` array: one compiled pass per series
    (:func:`engine.charts._xmr_kernel.xmr_rows`) computes limits, rules and point types.
    """
    settings = settings or XmRSettings()
    arr = np.ascontiguousarray(as_2d(values))
    shape = arr.shape
    s_count = shape[0]
    divide, use_mask = denominator is not None, observed is not None
    den, mask, group = _kernel_inputs(shape, denominator, observed, groups)
    direction = codes.direction_codes(improvement, s_count)
    fix_after = -1 if settings.fix_after_n_points is None else settings.fix_after_n_points
    suppress = settings.short_group_mode == "suppress"
    floats = [np.empty(shape) for _ in range(7)]
    value, mean, lpl, upl, lower_2s, upper_2s, sigma = floats
    point_type, rule, flags, side, rel = (np.empty(shape, dtype=np.int8) for _ in range(5))
    rebase_group = np.empty(shape, dtype=np.int32)
    short, shown = np.empty(shape, dtype=bool), np.empty(shape, dtype=bool)
    n_obs = np.empty(s_count, dtype=np.int64)
    last_index = np.empty(s_count, dtype=np.int64)
    xmr_rows(
        arr, den, divide, mask, use_mask, group, groups is not None, direction,
        fix_after, settings.screen_outliers, settings.screen_multiplier, settings.limit_multiplier,
        settings.run_length, settings.trend_length, settings.two_in_three_beyond_3sigma,
        settings.min_points, suppress, _NO_RANGE,
        value, mean, lpl, upl, lower_2s, upper_2s, sigma, point_type, rule, flags, side, rel,
        rebase_group, short, shown, n_obs, last_index,
    )  # fmt: skip
    v_icon, a_icon = latest_icons(
        point_type, lpl, upl, short, np.maximum(last_index, 0), n_obs > 0, direction, target, suppress
    )
    return ChartResult(
        value=value,
        mean=mean,
        lpl=lpl,
        upl=upl,
        lower_2sigma=lower_2s,
        upper_2sigma=upper_2s,
        sigma=sigma,
        point_type=point_type,
        rule=rule,
        rule_flags=flags,
        side=side,
        relative_to_mean=rel,
        rebase_group=rebase_group,
        short_group=short,
        limits_shown=shown,
        direction=direction,
        n_points=n_obs,
        last_index=last_index,
        variation_icon=v_icon,
        assurance_icon=a_icon,
    )


def _kernel_inputs(
    shape: tuple[int, ...],
    denominator: np.ndarray | None,
    observed: np.ndarray | None,
    groups: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(denominator, observed, groups)`` as contiguous arrays of the values' ``shape`` for
    :func:`engine.charts._xmr_kernel.xmr_rows` (a ``(1, 1)`` placeholder for each one not given)."""
    den = np.ascontiguousarray(as_2d(denominator)) if denominator is not None else _DUMMY_FLOAT
    use_mask = observed is not None
    mask = (
        np.ascontiguousarray(np.atleast_2d(observed), dtype=np.bool_) if observed is not None else _DUMMY_BOOL
    )
    given = (
        ("denominator", den if denominator is not None else None),
        ("observed", mask if use_mask else None),
    )
    for name, other in given:
        if other is not None and other.shape != shape:
            raise ValueError(f"{name} has shape {other.shape}, expected {shape}")
    if groups is None:
        return den, mask, _DUMMY_INT
    group = np.asarray(groups)
    if group.ndim == 1:
        group = group[None, :]
    if group.shape != shape:
        raise ValueError(f"groups has shape {group.shape}, expected {shape}")
    if group.dtype not in (np.int32, np.int64):
        group = group.astype(np.int32)
    return den, mask, np.ascontiguousarray(group)


_DUMMY_FLOAT = np.zeros((1, 1))
_DUMMY_BOOL = np.zeros((1, 1), dtype=bool)
_DUMMY_INT = np.zeros((1, 1), dtype=np.int32)
with np.errstate(invalid="ignore"):
    #: mean of no moving range as the array formulation computes it (this platform's 0.0 / 0 NaN)
    _NO_RANGE = float(np.float64(0.0) / np.int64(0))


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
