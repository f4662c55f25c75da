"""The chart result dataclass and the step shared by every chart: rules, icons, scatter back."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.charts import codes, rules
from engine.charts.icons import assurance_icon, variation_icon
from engine.charts.layout import Layout
from engine.charts.settings import AttributeSettings, GSettings

#: settings of the charts whose limits are centre +- k sigma (attribute charts, g charts)
SigmaChartSettings = AttributeSettings | GSettings


@dataclass(frozen=True)
class ChartResult:
    """A chart of ``S`` series over ``T`` periods (retrospective display mode).

    All ``(S, T)`` arrays are at the original periods; at a missing period the float arrays are
    ``NaN`` and the code arrays ``MISSING_POINT`` (-1) / 0.

    Attributes
    ----------
    value:
        ``(S, T)`` charted value (the individual value, or the rate / proportion).
    mean:
        ``(S, T)`` centre line of the point's rebase group.
    lpl, upl:
        ``(S, T)`` lower / upper process (3-sigma) limits; NaN when not estimable (one point) or
        suppressed for a short group.
    lower_2sigma, upper_2sigma:
        ``(S, T)`` inner (2-sigma) lines.
    sigma:
        ``(S, T)`` one sigma, in the units of ``value`` (XmR: ``multiplier * mR-bar / 3``).
    point_type:
        ``(S, T)`` int8 :data:`engine.charts.codes.POINT_TYPE_LABELS` codes.
    rule:
        ``(S, T)`` int8 :data:`engine.charts.codes.RULE_LABELS` code of the rule that labels the
        point (highest precedence); 0 = none.
    rule_flags:
        ``(S, T)`` int8 bitmask of every pattern the point is part of (``codes.FLAG_*``).
    side:
        ``(S, T)`` int8 +1 / -1: the labelling rule points high / low (0 = no rule).
    relative_to_mean:
        ``(S, T)`` int8 sign of ``value - mean`` (0 exactly on the mean).
    rebase_group:
        ``(S, T)`` int32 rebase-group id of each point (as given; 0 without rebasing).
    short_group:
        ``(S, T)`` bool: the point's rebase group has fewer than ``min_points`` observations.
    limits_shown:
        ``(S, T)`` bool: the point is observed, its limits are finite and its group is not short.
    direction:
        ``(S,)`` int8 improvement direction (+1 increase, -1 decrease, 0 neutral).
    n_points:
        ``(S,)`` number of observed points.
    last_index:
        ``(S,)`` period index of the last observed point (-1 when none).
    variation_icon, assurance_icon:
        ``(S,)`` int8 icon codes (``codes.VARIATION_LABELS``, ``codes.ASSURANCE_LABELS``).
    """

    value: np.ndarray
    mean: np.ndarray
    lpl: np.ndarray
    upl: np.ndarray
    lower_2sigma: np.ndarray
    upper_2sigma: np.ndarray
    sigma: np.ndarray
    point_type: np.ndarray
    rule: np.ndarray
    rule_flags: np.ndarray
    side: np.ndarray
    relative_to_mean: np.ndarray
    rebase_group: np.ndarray
    short_group: np.ndarray
    limits_shown: np.ndarray
    direction: np.ndarray
    n_points: np.ndarray
    last_index: np.ndarray
    variation_icon: np.ndarray
    assurance_icon: np.ndarray

    def point_type_labels(self) -> np.ndarray:
        """``(S, T)`` object array of point-type labels (``""`` at missing periods)."""
        return codes.labels(self.point_type, codes.POINT_TYPE_LABELS)

    def rule_labels(self) -> np.ndarray:
        """``(S, T)`` object array of rule labels (``""`` when no rule or missing)."""
        return codes.labels(self.rule, codes.RULE_LABELS)

    def variation_labels(self) -> np.ndarray:
        """``(S,)`` variation icon labels (None when the series has no point)."""
        return codes.labels(self.variation_icon, codes.VARIATION_LABELS, None)

    def assurance_labels(self) -> np.ndarray:
        """``(S,)`` assurance icon labels (None without target, for neutral, or unknown limits)."""
        return codes.labels(self.assurance_icon, codes.ASSURANCE_LABELS, None)

    def last(self, field: str) -> np.ndarray:
        """``(S,)`` value of an ``(S, T)`` field at each series' last observed point (NaN/-1 if none)."""
        arr = getattr(self, field)
        idx = np.maximum(self.last_index, 0)
        out = arr[np.arange(arr.shape[0]), idx]
        if arr.dtype.kind == "f":
            return np.where(self.last_index >= 0, out, np.nan)
        return np.where(self.last_index >= 0, out, -1)


def latest_icons(
    point_type: np.ndarray,
    lpl: np.ndarray,
    upl: np.ndarray,
    short: np.ndarray,
    last: np.ndarray,
    has: np.ndarray,
    direction: np.ndarray,
    target: np.ndarray | float | None,
    suppress_short: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """``(variation_icon, assurance_icon)``, ``(S,)`` int8 each, of every series' latest point.

    ``last`` is the ``(S,)`` column of that point in the ``(S, T)`` arrays (any valid column where
    ``has`` is False: the series has no point and gets the no-point codes); with
    ``suppress_short`` a latest point in a short rebase group gets no icon.
    """
    rows = np.arange(point_type.shape[0])
    v_icon = variation_icon(np.where(has, point_type[rows, last], codes.MISSING_POINT), direction)
    a_icon = assurance_icon(
        np.where(has, lpl[rows, last], np.nan), np.where(has, upl[rows, last], np.nan), target, direction
    )
    if suppress_short:
        last_short = has & short[rows, last]
        v_icon = np.where(last_short, codes.NO_ICON, v_icon).astype(np.int8)
        a_icon = np.where(last_short, codes.NO_ICON, a_icon).astype(np.int8)
    return v_icon, a_icon


def finish_sigma_limits(
    layout: Layout,
    x: np.ndarray,
    centre: np.ndarray,
    limit_centre: np.ndarray,
    sigma: np.ndarray,
    direction: np.ndarray,
    target: np.ndarray | float | None,
    settings: SigmaChartSettings,
    *,
    upper_cap: float = np.inf,
    two_in_three_beyond_3sigma: bool = False,
) -> ChartResult:
    """:func:`finish` of a chart with limits ``limit_centre +- k sigma`` (``k`` = the settings'
    ``sigma_multiplier``; 2-sigma lines at 2/3 of that), lower lines floored at 0 and upper lines
    capped at ``upper_cap`` (1 for proportions)."""
    k = settings.sigma_multiplier
    lpl = np.maximum(limit_centre - k * sigma, 0.0)
    upl = np.minimum(limit_centre + k * sigma, upper_cap)
    lower_2s = np.maximum(limit_centre - (2.0 / 3.0) * k * sigma, 0.0)
    upper_2s = np.minimum(limit_centre + (2.0 / 3.0) * k * sigma, upper_cap)
    return finish(
        layout,
        x,
        centre,
        sigma,
        lpl,
        upl,
        lower_2s,
        upper_2s,
        direction,
        target,
        run_length=settings.run_length,
        trend_length=settings.trend_length,
        two_in_three_beyond_3sigma=two_in_three_beyond_3sigma,
        min_points=settings.min_points,
        short_group_mode=settings.short_group_mode,
    )


def finish(
    layout: Layout,
    x: np.ndarray,
    centre: np.ndarray,
    sigma: np.ndarray,
    lpl: np.ndarray,
    upl: np.ndarray,
    lower_2s: np.ndarray,
    upper_2s: np.ndarray,
    direction: np.ndarray,
    target: np.ndarray | float | None,
    *,
    run_length: int,
    trend_length: int,
    two_in_three_beyond_3sigma: bool,
    min_points: int,
    short_group_mode: str,
) -> ChartResult:
    """Apply the rules to compacted arrays, compute icons and scatter everything back."""
    valid = layout.valid
    short = valid & (layout.broadcast(layout.seg_len, 0) < min_points)
    if short_group_mode == "suppress":
        lpl, upl, lower_2s, upper_2s, sigma = (
            np.where(short, np.nan, a) for a in (lpl, upl, lower_2s, upper_2s, sigma)
        )
    out = rules.evaluate(
        x,
        centre,
        lpl,
        upl,
        lower_2s,
        upper_2s,
        layout.rank,
        direction,
        run_length=run_length,
        trend_length=trend_length,
        two_in_three_beyond_3sigma=two_in_three_beyond_3sigma,
    )
    rule, flags, side, point_type = out.rule, out.flags, out.side, out.point_type
    if short_group_mode == "suppress":
        rule, flags, side = (np.where(short, 0, a).astype(np.int8) for a in (rule, flags, side))
        point_type = np.where(short, codes.COMMON_CAUSE, point_type).astype(np.int8)
        point_type[~valid] = codes.MISSING_POINT

    rows = np.arange(layout.shape[0])
    last = np.maximum(layout.last_cell(), 0)
    has = layout.n_obs > 0
    v_icon, a_icon = latest_icons(
        point_type, lpl, upl, short, last, has, direction, target, short_group_mode == "suppress"
    )
    shown = valid & ~short & np.isfinite(lpl) & np.isfinite(upl)
    nan = np.nan
    return ChartResult(
        value=layout.scatter(np.where(valid, x, nan), nan),
        mean=layout.scatter(centre, nan),
        lpl=layout.scatter(lpl, nan),
        upl=layout.scatter(upl, nan),
        lower_2sigma=layout.scatter(lower_2s, nan),
        upper_2sigma=layout.scatter(upper_2s, nan),
        sigma=layout.scatter(sigma, nan),
        point_type=layout.scatter(point_type, np.int8(codes.MISSING_POINT)),
        rule=layout.scatter(rule, np.int8(0)),
        rule_flags=layout.scatter(flags, np.int8(0)),
        side=layout.scatter(side, np.int8(0)),
        relative_to_mean=layout.scatter(out.relative_to_mean, np.int8(0)),
        rebase_group=layout.scatter(layout.group, np.int32(0)),
        short_group=layout.scatter(short, False),
        limits_shown=layout.scatter(shown, False),
        direction=np.asarray(direction, dtype=np.int8),
        n_points=layout.n_obs.astype(np.int64),
        last_index=np.where(has, layout.order[rows, last], -1).astype(np.int64),
        variation_icon=v_icon,
        assurance_icon=a_icon,
    )
