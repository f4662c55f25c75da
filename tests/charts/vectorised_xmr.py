"""The array formulation of the XmR display chart, kept as an oracle for the compiled kernel.

This is the implementation :func:`engine.charts.xmr_chart` had before it became one compiled pass
per series (:mod:`engine.charts._xmr_kernel`): build the layout, per-segment sums with
``np.bincount``, broadcast the limits, then :func:`engine.charts.result.finish` (rules, icons,
scatter back). The kernel must reproduce it bit for bit.
"""

from __future__ import annotations

import numpy as np

from engine.charts import codes
from engine.charts.layout import Layout, build_layout
from engine.charts.result import ChartResult, finish
from engine.charts.settings import XmRSettings
from engine.charts.xmr import as_2d, mean_moving_range, moving_ranges


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


def xmr_chart_vectorised(
    values: np.ndarray,
    improvement: object = "increase",
    *,
    groups: np.ndarray | None = None,
    target: np.ndarray | float | None = None,
    settings: XmRSettings | None = None,
) -> ChartResult:
    """:func:`engine.charts.xmr_chart`, computed with ``(S, T)`` array operations."""
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
