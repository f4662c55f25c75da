"""Anhoej run-chart rules (qicharts2): longest run and number of crossings, many series at once.

Useful observations are those not on the centre line (a point exactly on the centre neither
breaks nor extends a run), not missing and not excluded. With ``n`` useful observations in a
(series, rebase group) segment:

* longest run = longest sequence of consecutive useful points on the same side of the centre;
* crossings = number of runs - 1;
* signal when ``longest run > round(log2(n)) + 3`` (Schilling 2012) or
  ``crossings < qbinom(0.05, n - 1, 0.5)`` (Chen 2010), as qicharts2 0.8.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import overload

import numpy as np

from engine.charts.layout import Layout, build_layout


def critical_values(n: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Anhoej critical values ``(longest_run_max, crossings_min)`` for ``n`` useful observations.

    ``longest_run_max = round(log2 n) + 3``; ``crossings_min`` is the smallest ``k`` with
    ``P(X <= k) >= 0.05`` for ``X ~ Binomial(n - 1, 1/2)``. ``n < 1`` gives ``(0, 0)``.
    """
    from scipy.stats import binom  # imported on use: scipy.stats adds ~0.1 s to every start-up

    n_arr = np.asarray(n, dtype=np.int64)
    safe = np.maximum(n_arr, 1)
    lmax = np.round(np.log2(safe)).astype(np.int64) + 3
    cmin = binom.ppf(0.05, safe - 1, 0.5).astype(np.int64)
    lmax = np.where(n_arr >= 1, lmax, 0)
    cmin = np.where(n_arr >= 1, cmin, 0)
    return lmax, cmin


@dataclass(frozen=True)
class RunsResult:
    """Anhoej runs analysis; every ``(S, T)`` array holds the value of the point's segment.

    Attributes
    ----------
    n_useful, longest_run, crossings, longest_run_max, crossings_min:
        ``(S, T)`` int64 per (series, rebase group); 0 at missing periods.
    runs_signal:
        ``(S, T)`` bool: the segment's longest run is too long or it crosses the centre too rarely.
    """

    n_useful: np.ndarray
    longest_run: np.ndarray
    crossings: np.ndarray
    longest_run_max: np.ndarray
    crossings_min: np.ndarray
    runs_signal: np.ndarray


def segment_runs(
    x: np.ndarray, centre: np.ndarray, layout: Layout, include: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """Per-segment runs statistics for compacted ``x`` and ``centre`` (arrays of length ``n_seg``)."""
    with np.errstate(invalid="ignore"):
        sign = np.nan_to_num(np.sign(x - centre), nan=0.0).astype(np.int8)
    useful = layout.valid & (sign != 0)
    if include is not None:
        useful &= include
    t_count = x.shape[1]
    cols = np.arange(t_count)
    n_use = useful.sum(axis=1)
    order = np.argsort(~useful, axis=1, kind="stable")
    s2 = np.take_along_axis(sign, order, axis=1)
    g2 = np.take_along_axis(layout.seg, order, axis=1)
    v2 = cols[None, :] < n_use[:, None]
    new = np.zeros(x.shape, dtype=bool)
    new[:, 0] = True
    new[:, 1:] = (s2[:, 1:] != s2[:, :-1]) | (g2[:, 1:] != g2[:, :-1])
    new &= v2
    run_id = np.cumsum(new.ravel()) - 1
    n_runs_total = int(run_id[-1] + 1) if run_id.size else 0
    run_len = np.bincount(run_id[v2.ravel()], minlength=n_runs_total)
    run_seg = g2[new]
    n_seg = layout.n_seg
    n_runs = np.bincount(run_seg, minlength=n_seg)[:n_seg]
    longest = np.zeros(n_seg, dtype=np.int64)
    if n_runs_total:
        first = np.flatnonzero(np.r_[True, run_seg[1:] != run_seg[:-1]])
        longest[run_seg[first]] = np.maximum.reduceat(run_len, first)
    n_useful = layout.seg_sum(None, useful).astype(np.int64)
    crossings = np.maximum(n_runs - 1, 0).astype(np.int64)
    lmax, cmin = critical_values(n_useful)
    signal = (n_useful >= 1) & ((longest > lmax) | (crossings < cmin))
    return {
        "n_useful": n_useful,
        "longest_run": longest,
        "crossings": crossings,
        "longest_run_max": lmax,
        "crossings_min": cmin,
        "runs_signal": signal,
    }


def runs_result(per_seg: dict[str, np.ndarray], layout: Layout) -> RunsResult:
    """Broadcast per-segment statistics to every observed period."""
    out = {}
    for key, arr in per_seg.items():
        if arr.dtype == bool:
            out[key] = layout.scatter(layout.broadcast(arr.astype(np.int8), 0).astype(bool), False)
        else:
            out[key] = layout.scatter(layout.broadcast(arr, 0).astype(np.int64), 0)
    return RunsResult(**out)


def anhoej_runs(
    values: np.ndarray,
    centre: np.ndarray | float,
    *,
    groups: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
) -> RunsResult:
    """Anhoej runs analysis of ``(S, T)`` values around a given centre line.

    Parameters
    ----------
    values:
        ``(S, T)`` values (or one ``(T,)`` series); NaN = missing.
    centre:
        Scalar or ``(S, T)`` centre line (e.g. a chart's ``mean``).
    groups:
        Optional ``(S, T)`` rebase-group ids: each group is analysed separately.
    exclude:
        Optional ``(S, T)`` bool: points left out of the analysis (qicharts2 ``exclude``).
    """
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    cl = np.broadcast_to(np.asarray(centre, dtype=float), arr.shape)
    layout = build_layout(~np.isnan(arr), _2d(groups))
    include = None if exclude is None else ~layout.compact(_2d(exclude).astype(bool))
    per_seg = segment_runs(layout.compact(arr), layout.compact(cl), layout, include)
    return runs_result(per_seg, layout)


def segment_median(x: np.ndarray, mask: np.ndarray, layout: Layout) -> np.ndarray:
    """``(n_seg,)`` median of compacted ``x`` over ``mask`` cells of each segment (NaN if none)."""
    seg = np.where(mask, layout.seg, layout.n_seg).ravel()
    vals = np.where(mask, x, np.inf).ravel()
    order = np.lexsort((vals, seg))
    count = np.bincount(seg, minlength=layout.n_seg + 1)[: layout.n_seg]
    start = np.concatenate(([0], np.cumsum(count)[:-1]))
    sorted_vals = vals[order]
    lo = start + np.maximum(count - 1, 0) // 2
    hi = start + count // 2
    n_total = sorted_vals.size
    med = 0.5 * (sorted_vals[np.minimum(lo, n_total - 1)] + sorted_vals[np.minimum(hi, n_total - 1)])
    return np.where(count > 0, med, np.nan)


def run_chart(
    values: np.ndarray,
    *,
    groups: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    fix_after_n_points: int | None = None,
) -> tuple[np.ndarray, RunsResult]:
    """Run charts (qicharts2 ``chart = "run"``): median centre line and Anhoej rules.

    Returns the ``(S, T)`` centre line (median of each group's baseline: the first
    ``fix_after_n_points`` observed values, excluded points left out) and the runs analysis.
    """
    arr = np.asarray(values, dtype=float)
    if arr.ndim == 1:
        arr = arr[None, :]
    layout = build_layout(~np.isnan(arr), _2d(groups))
    x = layout.compact(arr)
    include = (
        np.ones(arr.shape, dtype=bool) if exclude is None else ~layout.compact(_2d(exclude).astype(bool))
    )
    base = layout.valid & include
    if fix_after_n_points is not None:
        base &= layout.rank < fix_after_n_points
    centre = layout.broadcast(segment_median(x, base, layout))
    per_seg = segment_runs(x, centre, layout, include)
    return layout.scatter(centre, np.nan), runs_result(per_seg, layout)


@overload
def _2d(a: np.ndarray) -> np.ndarray: ...
@overload
def _2d(a: None) -> None: ...
@overload
def _2d(a: np.ndarray | None) -> np.ndarray | None: ...
def _2d(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.asarray(a)
    return a[None, :] if a.ndim == 1 else a
