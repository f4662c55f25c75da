"""The threshold lab's trade-off chart (detection against false alerts) and its text summary."""

from __future__ import annotations

import math

import altair as alt
import polars as pl

from engine.evaluate.tradeoff import TradeoffResult, TradeoffSettings

NHS_BLUE = "#005eb8"
NHS_ORANGE = "#ed8b00"
NHS_DARK_GREY = "#425563"
#: detection horizon (weeks) drawn on the chart's vertical axis.
CHART_HORIZON = 16


def _weeks(x: float | None, horizon: int) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f">{horizon}" if math.isinf(x) or x >= horizon else f"{x:.0f}"


def _horizon(s: TradeoffSettings) -> int:
    return CHART_HORIZON if CHART_HORIZON in s.horizons else sorted(s.horizons)[len(s.horizons) // 2]


def point_label(row: dict, s: TradeoffSettings) -> str:
    """One line describing a candidate threshold, e.g. for a picker."""
    h, longest = _horizon(s), max(s.horizons)
    level = "watch" if s.swept == "watch" else "concern"
    return (
        f"{row['threshold']:g} nats: {row[f'false_{level}_per_ward_year']:.3f} false {level} alerts per "
        f"ward-year, {100 * row[f'detected_{h}w']:.0f}% detected within {h} wk, "
        f"median delay {_weeks(row['delay_median'], longest)} wk"
    )


def tradeoff_chart(
    table: pl.DataFrame, s: TradeoffSettings, chosen: float | None = None, current: float | None = None
) -> alt.LayerChart | alt.FacetChart:
    """Share of episodes detected within 16 weeks against false alerts per ward-year (concern alerts,
    or watch alerts when the watch threshold is swept).

    One point per candidate threshold (labelled), with ± one Monte Carlo standard error bars on
    both axes; ``chosen`` is ringed in orange, ``current`` (in force) marked with a dashed square.
    """
    h = _horizon(s)
    level = "watch" if s.swept == "watch" else "concern"
    rate, se = f"false_{level}_per_ward_year", f"false_{level}_se"
    data = table.with_columns(
        pl.col(rate).clip(lower_bound=1e-3).alias("fa"),
        (pl.col(rate) - pl.col(se)).clip(lower_bound=1e-3).alias("fa_lo"),
        (pl.col(rate) + pl.col(se)).clip(lower_bound=1e-3).alias("fa_hi"),
        pl.col(f"detected_{h}w").alias("det"),
        (pl.col(f"detected_{h}w") - pl.col(f"detected_{h}w_se")).clip(0, 1).alias("det_lo"),
        (pl.col(f"detected_{h}w") + pl.col(f"detected_{h}w_se")).clip(0, 1).alias("det_hi"),
        (pl.col("threshold") == (chosen if chosen is not None else -1.0)).alias("chosen"),
        (pl.col("threshold") == (current if current is not None else -1.0)).alias("current"),
    )
    x = alt.X(
        "fa:Q",
        title=f"False {level} alerts per ward-year",
        scale=alt.Scale(type="log", nice=False, padding=24),
    )
    y = alt.Y(
        "det:Q",
        title=f"Episodes detected within {h} weeks",
        axis=alt.Axis(format="%"),
        scale=alt.Scale(domain=[0, 1]),
    )
    base = alt.Chart(data).encode(x=x, y=y)
    line = base.mark_line(strokeWidth=1.5, color=NHS_BLUE).encode(order="threshold:Q")
    ybars = alt.Chart(data).mark_rule(color=NHS_BLUE, opacity=0.5).encode(x=x, y="det_lo:Q", y2="det_hi:Q")
    xbars = alt.Chart(data).mark_rule(color=NHS_BLUE, opacity=0.5).encode(x="fa_lo:Q", x2="fa_hi:Q", y=y)
    points = base.mark_point(size=70, strokeWidth=2, color=NHS_BLUE, filled=True).encode(
        tooltip=[
            alt.Tooltip("threshold:Q", title="Threshold (nats)"),
            alt.Tooltip(f"{rate}:Q", title=f"False {level} alerts / ward-year", format=".3f"),
            alt.Tooltip(f"detected_{h}w:Q", title=f"Detected within {h} weeks", format=".0%"),
            alt.Tooltip("delay_median:Q", title="Median delay (weeks)"),
        ]
    )
    labels = base.mark_text(dy=-11, fontSize=11, color=NHS_DARK_GREY).encode(text="threshold:Q")
    ring = (
        alt.Chart(data.filter(pl.col("chosen")))
        .mark_point(size=320, strokeWidth=3, color=NHS_ORANGE)
        .encode(x=x, y=y)
    )
    now = (
        alt.Chart(data.filter(pl.col("current")))
        .mark_point(size=520, shape="square", strokeWidth=1.5, color=NHS_DARK_GREY, strokeDash=[3, 2])
        .encode(x=x, y=y)
    )
    return alt.layer(ybars, xbars, line, points, labels, ring, now).properties(height=340, width="container")


def tradeoff_summary(result: TradeoffResult) -> str:
    """Plain-English summary of the trade-off (the chart's text alternative)."""
    table, s = result.table, result.settings
    if table.is_empty():
        return "No thresholds."
    h = _horizon(s)
    lo = table.sort("false_concern_per_ward_year").row(0, named=True)
    hi = table.sort("false_concern_per_ward_year").row(-1, named=True)
    return (
        f"On replicates of this trust ({result.wards} wards, {result.weeks} weeks) with {result.episodes} "
        f"injected episodes, the thresholds range from {lo['false_concern_per_ward_year']:.3f} false concern "
        f"alerts per ward-year ({lo['threshold']:g} nats: {100 * lo[f'detected_{h}w']:.0f}% of episodes "
        f"detected within {h} weeks) to {hi['false_concern_per_ward_year']:.3f} ({hi['threshold']:g} nats: "
        f"{100 * hi[f'detected_{h}w']:.0f}% detected)."
    )
