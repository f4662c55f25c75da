"""Ward-level alert conditions of each method compared, as ``(W, T)`` booleans on the ward grid.

* ``wardwatch``: the ward's level is ``concern`` or ``urgent`` (what opens a ward alert);
* ``wardwatch_watch``: level ``watch`` or above (any single-indicator alert or one domain);
* ``cusum``, ``ewma``, ``silence``: any indicator of the ward has that detector in alarm (CUSUM at or
  above its threshold on a monitored side; EWMA beyond its limit on the side of concern; the
  probability of the current run of zeros below ``combination.silence_level``);
* ``indicator_alerts``: any indicator alert condition (chosen detector, silence or data silence);
* ``mdc``: Making Data Count: any indicator shows special-cause concern on its prospective XmR chart
  (``mdc_concern``: the chart drawn at t, four MDC rules).

Monthly series hold their state over the weeks whose Monday falls in the month, as in scoring.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from engine.combine.cadence import month_of_week
from engine.evaluate.grid import WardGrid
from signals import Catalogue

SERIES_METHODS: tuple[str, ...] = ("cusum", "ewma", "silence", "indicator_alerts", "mdc")


def level_condition(grid: WardGrid, min_level: int) -> np.ndarray:
    """``(W, T)`` True where the ward's level code is at least ``min_level`` (monitored weeks only)."""
    return grid.monitored & (grid.level >= min_level)


def _flag_exprs(catalogue: Catalogue, silence_level: float, columns: list[str]) -> dict[str, pl.Expr]:
    keys = list(catalogue)
    direction = pl.col("indicator").replace_strict(
        {k: catalogue[k].direction for k in keys}, default="up", return_dtype=pl.String
    )

    def num(name: str) -> pl.Expr:  # NaN compares greater than everything in polars: make it null
        return pl.col(name).cast(pl.Float64).fill_nan(None)

    up = num("ewma") >= num("ewma_ucl")
    down = num("ewma") <= num("ewma_lcl")
    exprs = {
        "cusum": (num("cusum_up") >= num("cusum_threshold")).fill_null(False)
        | (num("cusum_down") >= num("cusum_threshold")).fill_null(False),
        "ewma": pl.when(direction == "up")
        .then(up)
        .when(direction == "down")
        .then(down)
        .otherwise(up | down)
        .fill_null(False),
        "silence": (num("silence_prob") < silence_level).fill_null(False),
        "indicator_alerts": pl.col("indicator_alarm").fill_null(False),
        "mdc": pl.col("mdc_concern").fill_null(False),
    }
    needs = {
        "cusum": ["cusum_up", "cusum_down", "cusum_threshold"],
        "ewma": ["ewma", "ewma_lcl", "ewma_ucl"],
        "silence": ["silence_prob"],
        "indicator_alerts": ["indicator_alarm"],
        "mdc": ["mdc_concern"],
    }
    return {m: e for m, e in exprs.items() if all(c in columns for c in needs[m])}


def series_conditions(
    grid: WardGrid, series: pl.DataFrame, catalogue: Catalogue, silence_level: float
) -> dict[str, np.ndarray]:
    """``{method: (W, T) bool}`` for the per-indicator methods available in ``series``.

    Parameters
    ----------
    series:
        ``series.parquet`` (see docs/results-contract.md). Methods whose columns are absent (e.g.
        ``mdc`` after ``score --no-charts``) are left out.
    silence_level:
        ``combination.silence_level`` of the scoring run.
    """
    exprs = _flag_exprs(catalogue, silence_level, series.columns)
    out = {m: np.zeros(grid.shape, dtype=bool) for m in exprs}
    if not exprs or series.height == 0:
        return out
    flags = (
        series.select(
            pl.col("ward_id").cast(pl.String),
            pl.col("period").cast(pl.Date),
            pl.col("cadence"),
            *(e.alias(m) for m, e in exprs.items()),
        )
        .group_by("ward_id", "period", "cadence")
        .agg(pl.col(m).any() for m in exprs)
        .sort("ward_id", "period", "cadence")
    )
    w_count, t_count = grid.shape
    for cadence, part in flags.partition_by("cadence", as_dict=True).items():
        cad = cadence[0]
        w = grid.ward_index(part["ward_id"].to_numpy())
        days = part["period"].to_numpy().astype("datetime64[D]")
        keep = w >= 0
        if cad == "weekly":
            t = grid.week_index(days)
            keep &= (t >= 0) & (t < t_count)
            for m in exprs:
                v = part[m].to_numpy()
                out[m][w[keep], t[keep]] |= v[keep]
            continue
        months = np.arange(
            grid.periods[0].astype("datetime64[M]"), grid.periods[-1].astype("datetime64[M]") + 1
        ).astype("datetime64[D]")
        week_month = month_of_week(grid.periods, months)
        mi = np.searchsorted(months, days.astype("datetime64[M]").astype("datetime64[D]"))
        keep &= (mi < len(months)) & (months[np.minimum(mi, len(months) - 1)] == days)
        for m in exprs:
            monthly = np.zeros((w_count, len(months)), dtype=bool)
            v = part[m].to_numpy()
            monthly[w[keep], mi[keep]] |= v[keep]
            inside = week_month >= 0
            out[m][:, inside] |= monthly[:, week_month[inside]]
    return out
