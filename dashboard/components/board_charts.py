"""Board-facing Altair charts (overview and ward page), each returned with a plain-English summary.

These charts never show the evidence's units (nats): current evidence is the bounded
``evidence_strength`` (0-100) of the results contract, per-domain and cumulative evidence are shown
as multiples of the calibrated threshold (1 = the threshold). Time axes read "Jan 2024", dates in
text "3 March 2025"; colours follow the level vocabulary of ``services.formatting``.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

import altair as alt
import numpy as np
import polars as pl

from dashboard.components.icons import FONT_STACK
from dashboard.services.formatting import (
    LEVEL_COLOURS,
    LEVEL_WORDS,
    MONTH_AXIS,
    UK_DATE_FORMAT,
    domain_label,
    event_words,
    indicator_label,
    long_date,
    strength_word,
)
from engine.contract.results import domain_score_column

#: white at zero, warm yellow near the threshold, dark red at three times it (clamped beyond).
HEAT_DOMAIN = [0.0, 0.5, 1.0, 3.0]
HEAT_RANGE = ["#ffffff", "#fde7b0", "#e46c0a", "#8a1538"]
_LEVEL_DOMAIN = list(LEVEL_WORDS.values())
_LEVEL_RANGE = [LEVEL_COLOURS[k] for k in LEVEL_WORDS]
_RISE, _FALL = "Evidence of a rise", "Evidence of a fall"


def two_lines(label: str) -> str:
    """A header split into at most two lines at the word boundary nearest its middle (``|`` between)."""
    words = label.split()
    if len(words) < 2:
        return label
    cut = min(range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i])) - len(" ".join(words[i:]))))
    return " ".join(words[:cut]) + "|" + " ".join(words[cut:])


def _time_x(title: str | None = None) -> alt.X:
    return alt.X("period:T", title=title, axis=alt.Axis(format=MONTH_AXIS, labelAngle=0, tickCount=6))


# ------------------------------------------------------------------------------------ heatmap
def domain_heatmap(latest: pl.DataFrame, domains: list[str], threshold: float) -> tuple[alt.Chart, str]:
    """Ward x domain heatmap of the latest per-domain evidence as a multiple of ``threshold``.

    White means no evidence; the colour saturates at three times the threshold. Wards keep their
    rank order; domain headers sit on top, split over two lines so they never overlap.
    """
    cols = [domain_score_column(d) for d in domains if domain_score_column(d) in latest.columns]
    if not cols or latest.is_empty():
        return alt.Chart(pl.DataFrame({"x": []})).mark_rect(), "No per-domain evidence in the results."
    labels = {domain_score_column(d): domain_label(d) for d in domains}
    long = (
        latest.select("rank", "ward_name", "ward_id", *cols)
        .unpivot(index=["rank", "ward_name", "ward_id"], on=cols, variable_name="domain", value_name="raw")
        .with_columns(
            pl.col("domain").replace_strict(labels, return_dtype=pl.String),
            (pl.col("raw").fill_nan(None).fill_null(0.0).clip(lower_bound=0.0) / threshold).alias("times"),
            (pl.col("rank").cast(pl.String) + ". " + pl.col("ward_name")).alias("ward"),
        )
        .with_columns(
            pl.when(pl.col("times") < 0.05)
            .then(pl.lit("none"))
            .when(pl.col("times") < 1)
            .then(pl.lit("below the threshold"))
            .otherwise(pl.col("times").round(1).cast(pl.String) + " times the threshold")
            .alias("evidence")
        )
        .sort("rank")
    )
    order = long.unique("ward", keep="first", maintain_order=True)["ward"].to_list()
    header = [two_lines(domain_label(d)) for d in domains]
    long = long.with_columns(pl.col("domain").map_elements(two_lines, return_dtype=pl.String).alias("header"))
    chart = (
        alt.Chart(long)
        .mark_rect(stroke="#d8dde0", strokeWidth=0.5)
        .encode(
            x=alt.X(
                "header:N",
                title=None,
                sort=header,
                axis=alt.Axis(
                    orient="top",
                    labelAngle=0,
                    labelLimit=0,
                    # two lines at most, drawn downwards from the label's top: the padding lifts the
                    # block by one line so the second line ends above the cells
                    labelExpr="split(datum.label, '|')",
                    labelFontSize=11,
                    labelLineHeight=13,
                    labelPadding=17,
                ),
            ),
            y=alt.Y("ward:N", title=None, sort=order, axis=alt.Axis(labelLimit=240, labelFontSize=11)),
            color=alt.Color(
                "times:Q",
                title="Evidence (1 = threshold)",
                # rgb, not Vega's default hcl: hcl turns white (no hue) pale yellow
                scale=alt.Scale(domain=HEAT_DOMAIN, range=HEAT_RANGE, clamp=True, interpolate="rgb"),
                legend=alt.Legend(orient="right", gradientLength=160),
            ),
            tooltip=[
                alt.Tooltip("ward:N", title="Ward"),
                alt.Tooltip("domain:N", title="Domain"),
                alt.Tooltip("evidence:N", title="Evidence"),
            ],
        )
        .properties(height=max(140, 22 * len(order)), width="container")
        .configure_axis(labelFont=FONT_STACK)
    )
    strongest = long.filter(pl.col("times") >= 1).sort("times", descending=True).head(3)
    top = "; ".join(f"{r['ward']}, {r['domain'].lower()}" for r in strongest.iter_rows(named=True))
    summary = (
        f"Evidence in each domain now, for the {len(order)} highest-ranked wards: white is none, darker "
        "is stronger, dark red three times the threshold or more. "
        + (f"Strongest: {top}." if top else "No ward has a domain at its threshold.")
    )
    return chart, summary


# ------------------------------------------------------------------------------------ strength
def _with_level_words(history: pl.DataFrame) -> pl.DataFrame:
    return history.with_columns(
        pl.col("level").replace_strict(LEVEL_WORDS, default="No concern").alias("level_word"),
        (pl.col("evidence_strength").fill_nan(None).fill_null(0.0) * 100).alias("strength"),
    )


def strength_history(history: pl.DataFrame, height: int = 170) -> tuple[alt.LayerChart | alt.FacetChart, str]:
    """One ward's current evidence (0-100) week by week, points coloured by level.

    ``history``: ``period, level, evidence_strength`` rows of ``ward_status``.
    """
    h = _with_level_words(history)
    y = alt.Y(
        "strength:Q",
        title="Current evidence",
        scale=alt.Scale(domain=[0, 100]),
        axis=alt.Axis(values=[0, 50, 100], titleFontSize=11),
    )
    base = alt.Chart(h).encode(x=_time_x())
    bands = (
        alt.Chart(pl.DataFrame({"y": [100 / 3, 50.0, 75.0], "word": ["moderate", "strong", "very strong"]}))
        .mark_rule(color="#d8dde0", strokeDash=[2, 2])
        .encode(y="y:Q")
    )
    chart = alt.layer(
        bands,
        base.mark_line(color="#768692", strokeWidth=1).encode(y=y),
        base.mark_point(filled=True, size=22, opacity=1).encode(
            y=y,
            color=alt.Color(
                "level_word:N",
                title="Level",
                scale=alt.Scale(domain=_LEVEL_DOMAIN, range=_LEVEL_RANGE),
                legend=alt.Legend(orient="right", labelLimit=0),
            ),
            tooltip=[
                alt.Tooltip("period:T", format=UK_DATE_FORMAT, title="Week of"),
                alt.Tooltip("level_word:N", title="Level"),
                alt.Tooltip("strength:Q", format=".0f", title="Current evidence"),
            ],
        ),
    ).properties(height=height, width="container")
    if h.is_empty():
        return chart, "No history."
    last = h.row(-1, named=True)
    peak = h.sort("strength", descending=True).row(0, named=True)
    return chart, (
        f"Current evidence (evidence gained over the previous 13 weeks, 0-100) from "
        f"{long_date(cast(dt.date, h['period'].min()))} to {long_date(last['period'])}: now "
        f"{strength_word(last['evidence_strength']).lower()} ({last['level_word']}); highest "
        f"{strength_word(peak['evidence_strength']).lower()} in the week of {long_date(peak['period'])}."
    )


def strength_multiples(history: pl.DataFrame, columns: int = 4) -> tuple[alt.FacetChart, str]:
    """Each ward's current evidence (0-100) over the window, one small panel per ward (rank order)."""
    h = _with_level_words(history)
    order = h.unique("ward", keep="first", maintain_order=True)["ward"].to_list()
    y = alt.Y("strength:Q", title="Evidence", scale=alt.Scale(domain=[0, 100]))
    base = alt.Chart().encode(
        x=alt.X("period:T", title=None, axis=alt.Axis(format=MONTH_AXIS, tickCount=3, labelAngle=0))
    )
    chart = (
        alt.layer(
            base.mark_line(color="#768692", strokeWidth=1).encode(y=y),
            base.mark_point(filled=True, size=12, opacity=1).encode(
                y=y,
                color=alt.Color(
                    "level_word:N", title="Level", scale=alt.Scale(domain=_LEVEL_DOMAIN, range=_LEVEL_RANGE)
                ),
                tooltip=[
                    alt.Tooltip("period:T", format=UK_DATE_FORMAT, title="Week of"),
                    alt.Tooltip("level_word:N", title="Level"),
                    alt.Tooltip("strength:Q", format=".0f", title="Current evidence"),
                ],
            ),
            data=h,
        )
        .properties(width=190, height=80)
        .facet(
            facet=alt.Facet("ward:N", title=None, sort=order, header=alt.Header(labelLimit=0)),
            columns=columns,
        )
    )
    if h.is_empty():
        return chart, "No history."
    return chart, (
        f"Current evidence (0-100) week by week from {long_date(cast(dt.date, h['period'].min()))} to "
        f"{long_date(cast(dt.date, h['period'].max()))} for {len(order)} wards, points coloured by level; the same scale "
        "in every panel."
    )


# ------------------------------------------------------------------------------------ cumulative evidence
def evidence_chart(
    series: pl.DataFrame, key: str, events: pl.DataFrame, height: int = 190
) -> tuple[alt.LayerChart | alt.FacetChart, str]:
    """One indicator's cumulative evidence (its CUSUMs) as a multiple of its alert threshold.

    1 on the y axis is the alert threshold (red dashed line, labelled). Ward events are grey rules
    labelled in words at the top; change points are not shown here (analysts' view).
    """
    f = series.filter(pl.col("indicator") == key).sort("period")
    long = _evidence_lines(f)
    ev = _events_within(events, f)
    layers: list[alt.Chart] = [*_threshold_layers(), _evidence_line_layer(long)]
    if ev.height:
        layers += _event_layers(ev)
    chart = alt.layer(*layers).properties(height=height, width="container")
    return chart, _evidence_text(key, long, ev)


def _evidence_lines(f: pl.DataFrame) -> pl.DataFrame:
    """``period, value, side``: the rise and fall CUSUMs of one series over its latest threshold."""
    thr = f["cusum_threshold"].drop_nulls().drop_nans()
    threshold = float(thr[-1]) if thr.len() and float(thr[-1]) > 0 else 1.0
    return pl.concat(
        [
            f.select("period", (pl.col("cusum_up") / threshold).alias("value"), pl.lit(_RISE).alias("side")),
            f.select(
                "period", (pl.col("cusum_down") / threshold).alias("value"), pl.lit(_FALL).alias("side")
            ),
        ]
    ).filter(pl.col("value").is_not_null() & pl.col("value").is_not_nan())


def _evidence_line_layer(long: pl.DataFrame) -> alt.Chart:
    """The two evidence lines (rise solid, fall dashed) on a y axis reaching at least 1.3."""
    top = max(1.3, float(np.nanmax(long["value"].to_numpy())) * 1.08) if long.height else 1.3
    y = alt.Y("value:Q", title="Evidence (1 = alert)", scale=alt.Scale(domain=[0, top], nice=False))
    return (
        alt.Chart(long)
        .mark_line(strokeWidth=2)
        .encode(
            x=_time_x(),
            y=y,
            color=alt.Color(
                "side:N",
                scale=alt.Scale(domain=[_RISE, _FALL], range=["#8a1538", "#425563"]),
                legend=alt.Legend(title=None, orient="top", labelLimit=0, symbolStrokeWidth=3),
            ),
            strokeDash=alt.StrokeDash(
                "side:N", scale=alt.Scale(domain=[_RISE, _FALL], range=[[1, 0], [6, 3]]), legend=None
            ),
            tooltip=[
                alt.Tooltip("period:T", format=UK_DATE_FORMAT, title="Week of"),
                alt.Tooltip("side:N", title="Line"),
                alt.Tooltip("value:Q", format=".2f", title="Times the threshold"),
            ],
        )
    )


def _threshold_layers() -> list[alt.Chart]:
    """The alert threshold at 1: a red dashed rule and its label."""
    rule_df = pl.DataFrame({"value": [1.0], "label": ["alert threshold"]})
    thr_rule = (
        alt.Chart(rule_df).mark_rule(color="#da291c", strokeDash=[6, 3], strokeWidth=1.5).encode(y="value:Q")
    )
    thr_text = (
        alt.Chart(rule_df)
        .mark_text(align="left", dx=4, dy=-6, color="#da291c", fontSize=11)
        .encode(y="value:Q", x=alt.value(0), text="label:N")
    )
    return [thr_rule, thr_text]


def _events_within(events: pl.DataFrame, f: pl.DataFrame) -> pl.DataFrame:
    """``period, what, note``: the ward's events within the series' span, in words."""
    first, last = (f["period"].min(), f["period"].max()) if f.height else (None, None)
    if not events.height or first is None:
        return pl.DataFrame(schema={"period": pl.Date, "what": pl.String, "note": pl.String})
    return events.filter(pl.col("date").is_between(first, last)).select(
        pl.col("date").alias("period"),
        pl.col("kind").map_elements(event_words, return_dtype=pl.String).alias("what"),
        pl.col("note").fill_null(""),
    )


def _event_layers(ev: pl.DataFrame) -> list[alt.Chart]:
    """Grey rules at the events (date, what and note on hover) and their words at the top."""
    ev_base = alt.Chart(ev).encode(x=alt.X("period:T"))
    return [
        ev_base.mark_rule(color="#768692", strokeWidth=1.2).encode(
            tooltip=[alt.Tooltip("period:T", format=UK_DATE_FORMAT, title="Date"), "what:N", "note:N"]
        ),
        ev_base.mark_text(
            angle=270, align="right", baseline="bottom", dx=-4, dy=-2, fontSize=10, color="#425563"
        ).encode(y=alt.value(0), text="what:N"),
    ]


def _evidence_text(key: str, long: pl.DataFrame, ev: pl.DataFrame) -> str:
    """The chart in words: where the evidence of a rise and of a fall stands now, and the events."""
    up = long.filter(pl.col("side") == _RISE)["value"]
    dn = long.filter(pl.col("side") == _FALL)["value"]
    parts = [f"{indicator_label(key)}: cumulative evidence of a change, 1 = the alert threshold."]
    for name, values in (("a rise", up), ("a fall", dn)):
        if values.len():
            now = float(values[-1])
            state = "above the threshold" if now >= 1 else f"{100 * now:.0f}% of the way to the threshold"
            parts.append(f"Evidence of {name} is now {state}.")
    if ev.height:
        parts.append(
            "Events: "
            + "; ".join(f"{r['what']} ({long_date(r['period'])})" for r in ev.iter_rows(named=True))
            + "."
        )
    return " ".join(parts)
