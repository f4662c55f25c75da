"""The threshold lab's trade-off chart (median delay against false alerts) and its text summary."""

from __future__ import annotations

import math

import altair as alt
import polars as pl

NHS_BLUE = "#005eb8"
NHS_ORANGE = "#ed8b00"
NHS_DARK_GREY = "#425563"


def _weeks(x: float | None, horizon: int) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    return f">{horizon}" if math.isinf(x) or x >= horizon else f"{x:.0f}"


def point_label(row: dict, horizon: int) -> str:
    """One line describing a grid point, e.g. for a picker."""
    return (
        f"concern {row['concern_threshold']:g} nats: "
        f"{row['detected']:.0f}/{row['episodes']:.0f} detected within {horizon} wk, "
        f"median delay {_weeks(row['delay_median'], horizon)} wk, "
        f"{row['false_alerts_per_ward_year']:.2f} false alerts per ward-year"
    )


def tradeoff_frame(table: pl.DataFrame, horizon: int) -> pl.DataFrame:
    """Chart rows: a median beyond the horizon is drawn at the horizon and marked ``beyond``."""
    return table.with_columns(
        (~pl.col("delay_median").is_finite() | (pl.col("delay_median") >= horizon)).alias("beyond"),
        pl.col("delay_median").clip(upper_bound=float(horizon)).alias("delay"),
        pl.col("false_alerts_per_ward_year").clip(lower_bound=1e-3).alias("fa"),
    ).with_columns(
        pl.when(pl.col("beyond"))
        .then(pl.lit(f">{horizon}"))
        .otherwise(pl.col("delay").cast(pl.Int64).cast(pl.String))
        .alias("delay_text")
    )


def tradeoff_chart(
    table: pl.DataFrame, horizon: int, chosen: str | None = None, current: str | None = None
) -> alt.LayerChart:
    """Median delay (weeks) against false concern alerts per ward-year, one point per threshold.

    Points are labelled with their concern threshold; hollow points have a median beyond the horizon
    (drawn at the horizon). ``chosen``/``current`` are point ids ringed in orange / marked grey.
    """
    data = tradeoff_frame(table, horizon).with_columns(
        (pl.col("point") == (chosen or "")).alias("chosen"),
        (pl.col("point") == (current or "")).alias("current"),
    )
    x = alt.X(
        "fa:Q",
        title="False concern alerts per ward-year",
        scale=alt.Scale(type="log", nice=False, padding=24),
    )
    y = alt.Y(
        "delay:Q",
        title="Median delay to a concern alert (weeks)",
        scale=alt.Scale(domain=[0, horizon]),
    )
    base = alt.Chart(data).encode(x=x, y=y)
    line = base.mark_line(strokeWidth=1.5, color=NHS_BLUE).encode(order="concern_threshold:Q")
    points = base.mark_point(size=70, strokeWidth=2, color=NHS_BLUE).encode(
        fill=alt.condition("datum.beyond", alt.value("white"), alt.value(NHS_BLUE)),
        tooltip=[
            alt.Tooltip("concern_threshold:Q", title="Concern threshold (nats)"),
            alt.Tooltip("detection_rate:Q", title=f"Detected within {horizon} weeks", format=".0%"),
            alt.Tooltip("delay_text:N", title="Median delay (weeks)"),
            alt.Tooltip("false_alerts_per_ward_year:Q", title="False alerts per ward-year", format=".3f"),
        ],
    )
    labels = base.mark_text(dy=-11, fontSize=11, color=NHS_DARK_GREY).encode(text="concern_threshold:Q")
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
    return alt.layer(line, points, labels, ring, now).properties(height=340, width="container")


def tradeoff_summary(table: pl.DataFrame, horizon: int, wards: int, weeks: int) -> str:
    """Plain-English summary of the trade-off for the chart's text alternative."""
    if table.is_empty():
        return "No grid points."
    lo = table.sort("false_alerts_per_ward_year").row(0, named=True)
    hi = table.sort("false_alerts_per_ward_year").row(-1, named=True)
    episodes = int(table["episodes"][0])
    text = (
        f"On a synthetic trust of {wards} wards over {weeks} weeks with {episodes} closed-culture episodes, "
        f"the {table.height} threshold settings range from {lo['false_alerts_per_ward_year']:.2f} false concern "
        f"alerts per ward-year (concern {lo['concern_threshold']:g} nats: {lo['detected']:.0f} of {episodes} "
        f"episodes detected within {horizon} weeks, median delay {_weeks(lo['delay_median'], horizon)} weeks) "
        f"to {hi['false_alerts_per_ward_year']:.2f} (concern {hi['concern_threshold']:g} nats: {hi['detected']:.0f} "
        f"detected, median delay {_weeks(hi['delay_median'], horizon)} weeks)."
    )
    if episodes < 20:
        text += (
            f" With only {episodes} episodes the delays are rough (see the confidence intervals in the table); "
            "use `wardwatch sweep` on the full benchmark before changing a live configuration."
        )
    return text
