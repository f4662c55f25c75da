"""c, u and p charts and Laney's u' and p' (qicharts2 0.8 formulas), with MDC rules on top.

Per (series, rebase group), over the baseline (observed, not excluded, within the first
``fix_after_n_points`` observed points when set):

* ``c``: value = count; centre = mean count; sigma = sqrt(centre);
* ``u``: value = count / exposure; centre = sum(count) / sum(exposure); sigma_i = sqrt(centre / n_i);
* ``p``: value = count / n; centre = sum(count) / sum(n); sigma_i = sqrt(centre (1 - centre) / n_i);
* ``up`` / ``pp`` (Laney): z_i = (value_i - centre) / sigma_i over the baseline; sigma_z =
  mean moving range of z / 1.128 (moving ranges between consecutive baseline points, optionally
  screened once at 3.267 mR-bar); limits use sigma_i * sigma_z. sigma_z is not floored at 1.

Limits are centre +/- 3 sigma_i (2-sigma lines at +/- 2 sigma_i); lower lines are clamped at 0 and
p / p' upper lines at 1. Points with a missing count, a missing exposure or a non-positive
exposure are missing. Anhoej runs are analysed around the centre with excluded points left out.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from engine.charts import codes
from engine.charts.anhoej import RunsResult, runs_result, segment_runs
from engine.charts.layout import Layout, as_2d_groups, baseline_masks, build_layout
from engine.charts.result import ChartResult, finish_sigma_limits
from engine.charts.settings import SCREEN_MULTIPLIER, AttributeSettings
from engine.charts.xmr import as_2d, mean_moving_range

D2 = 1.128


@dataclass(frozen=True)
class AttributeResult(ChartResult):
    """A :class:`ChartResult` plus the Anhoej runs analysis and Laney's sigma_z.

    Attributes
    ----------
    runs:
        :class:`engine.charts.anhoej.RunsResult` around the centre line.
    sigma_z:
        ``(S, T)`` Laney's sigma_z of the point's group (1.0 for c, u and p charts).
    """

    runs: RunsResult
    sigma_z: np.ndarray


def attribute_chart(
    y: np.ndarray,
    n: np.ndarray | None = None,
    improvement: object = "decrease",
    *,
    groups: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    target: np.ndarray | float | None = None,
    settings: AttributeSettings | None = None,
) -> AttributeResult:
    """Charts for counts and proportions with per-point limits for varying exposure.

    Parameters
    ----------
    y:
        ``(S, T)`` counts (numerators); NaN = missing.
    n:
        ``(S, T)`` exposure (u, u'), or subgroup size (p, p'); ignored for c charts. Required for
        u, p, u', p'.
    improvement:
        Improvement direction(s), as in :func:`engine.charts.xmr.xmr_chart` (default decrease).
    groups:
        Optional ``(S, T)`` rebase-group ids (qicharts2 ``part``).
    exclude:
        Optional ``(S, T)`` bool: points kept on the chart but left out of the centre line, the
        Laney moving ranges and the runs analysis (qicharts2 ``exclude``).
    target:
        Optional scalar or ``(S,)`` target in the units of the value (rate or proportion).
    settings:
        :class:`AttributeSettings`.
    """
    settings = settings or AttributeSettings()
    kind = settings.kind
    counts = as_2d(y)
    if kind == "c":
        size = np.ones_like(counts)
    else:
        if n is None:
            raise ValueError(f"a {kind} chart needs the exposure / subgroup size n")
        size = np.broadcast_to(as_2d(n), counts.shape).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        observed = ~np.isnan(counts) & ~np.isnan(size) & (size > 0)
        value = np.where(observed, counts / np.where(observed, size, 1.0), np.nan)
    layout = build_layout(observed, as_2d_groups(groups))
    x = layout.compact(value)
    include, base = baseline_masks(layout, exclude, settings.fix_after_n_points)
    centre, sigma, sigma_z_s = _centre_and_sigma(
        kind, layout, x, layout.compact(counts), layout.compact(size), base, settings.screen_outliers
    )
    chart = finish_sigma_limits(
        layout,
        x,
        centre,
        centre,
        sigma,
        codes.direction_codes(improvement, counts.shape[0]),
        target,
        settings,
        upper_cap=1.0 if kind in ("p", "pp") else np.inf,
        two_in_three_beyond_3sigma=settings.two_in_three_beyond_3sigma,
    )
    runs = runs_result(segment_runs(x, centre, layout, include), layout)
    sigma_z = layout.scatter(layout.broadcast(sigma_z_s), np.nan)
    base_fields = {f.name: getattr(chart, f.name) for f in fields(ChartResult)}
    return AttributeResult(**base_fields, runs=runs, sigma_z=sigma_z)


def _centre_and_sigma(
    kind: str,
    layout: Layout,
    x: np.ndarray,
    cnt: np.ndarray,
    nn: np.ndarray,
    base: np.ndarray,
    screen_outliers: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(centre, sigma, sigma_z per segment)`` of a chart of ``kind`` from compacted values ``x``,
    counts ``cnt`` and sizes ``nn`` over the ``base`` cells (sigma includes Laney's sigma_z)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if kind == "c":
            centre_s = layout.seg_sum(cnt, base) / layout.seg_sum(None, base)
        else:
            centre_s = layout.seg_sum(cnt, base) / layout.seg_sum(nn, base)
        centre = layout.broadcast(centre_s)
        if kind in ("p", "pp"):
            sigma = np.sqrt(centre * (1.0 - centre) / nn)
        elif kind in ("u", "up"):
            sigma = np.sqrt(centre / nn)
        else:
            sigma = np.sqrt(centre) * np.ones_like(nn)
        sigma_z_s = np.ones(layout.n_seg)
        if kind in ("up", "pp"):
            z = (x - centre) / sigma
            mr = np.full(x.shape, np.nan)
            mr[:, 1:] = np.abs(z[:, 1:] - z[:, :-1])
            ok = base & (layout.rank >= 1)
            ok[:, 1:] &= base[:, :-1]
            ok[:, 0] = False
            amr = mean_moving_range(layout, mr, ok, screen_outliers, SCREEN_MULTIPLIER)
            sigma_z_s = amr / D2
        sigma = sigma * layout.broadcast(sigma_z_s)
    return centre, sigma, sigma_z_s
