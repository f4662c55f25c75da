"""Altair charts of an evaluation or a sweep, saved as PNG and SVG (rendered by vl-convert)."""

from __future__ import annotations

from pathlib import Path

import altair as alt
import polars as pl


def save(chart: alt.TopLevelMixin, stem: Path) -> list[Path]:
    """Write ``stem.png`` and ``stem.svg``."""
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    for p in paths:
        chart.save(str(p))
    return paths


def detection_curve(curves: pl.DataFrame, horizon: int) -> alt.Chart:
    """Share of episodes detected by each week since onset, one line per method."""
    base = alt.Chart(curves.to_pandas()).encode(
        x=alt.X("week:Q", title="weeks since onset"),
        y=alt.Y("detected_share:Q", title="share of episodes detected", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("label:N", title="method"),
    )
    rule = (
        alt.Chart(pl.DataFrame({"week": [horizon]}).to_pandas())
        .mark_rule(strokeDash=[4, 4])
        .encode(x="week:Q")
    )
    return (base.mark_line(interpolate="step-after") + rule).properties(
        title=f"Time to detection (dashed: {horizon}-week horizon)", width=520, height=300
    )


def tradeoff(summary: pl.DataFrame) -> alt.Chart:
    """Median delay against false alerts per ward-year, one point per method."""
    data = summary.filter(pl.col("false_alerts_per_ward_year").is_not_null()).with_columns(
        pl.col("false_alerts_per_ward_year").clip(lower_bound=1e-3).alias("fa"),
        pl.when(pl.col("delay_median").is_infinite())
        .then(None)
        .otherwise(pl.col("delay_median"))
        .alias("delay"),
    )
    return (
        alt.Chart(data.to_pandas())
        .mark_point(filled=True, size=90)
        .encode(
            x=alt.X("fa:Q", title="false alerts per ward-year", scale=alt.Scale(type="log")),
            y=alt.Y("delay:Q", title="median delay (weeks)"),
            color=alt.Color("label:N", title="method"),
            tooltip=["label", "fa", "delay", "detection_rate"],
        )
        .properties(
            title="Speed against false alerts (methods beyond the horizon not shown)", width=520, height=300
        )
    )


def decoy_bars(decoys: pl.DataFrame) -> alt.Chart:
    """Decoy escalation rate by decoy kind and method."""
    return (
        alt.Chart(decoys.to_pandas())
        .mark_bar()
        .encode(
            x=alt.X("escalation_rate:Q", title="share of decoys escalated", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("method:N", title=None),
            row=alt.Row("kind:N", title=None),
            color=alt.Color("method:N", legend=None),
        )
        .properties(width=360, height=120, title="Decoy escalation")
    )


def sweep_curve(table: pl.DataFrame) -> alt.Chart:
    """Sweep trade-off: median delay against false alerts per ward-year, one line per method."""
    data = table.with_columns(
        pl.col("false_alerts_per_ward_year").clip(lower_bound=1e-3).alias("fa"),
        pl.when(pl.col("delay_median").is_infinite())
        .then(None)
        .otherwise(pl.col("delay_median"))
        .alias("delay"),
    ).sort("method", "fa")
    return (
        alt.Chart(data.to_pandas())
        .mark_line(point=True)
        .encode(
            x=alt.X("fa:Q", title="false alerts per ward-year", scale=alt.Scale(type="log")),
            y=alt.Y("delay:Q", title="median delay (weeks)"),
            color=alt.Color("method:N"),
            tooltip=["point", "method", "fa", "delay", "detection_rate"],
        )
        .properties(title="Trade-off over the sweep grid", width=560, height=320)
    )
