"""Altair charts of the dashboard and the briefing, each with a plain-English text summary.

Every builder returns ``(chart, summary)``: the summary is shown under the chart on screen and in
the briefing, so no information lives in colour or shape alone. Values are shown in display units
(rates times the catalogue scale: "per 1,000 occupied bed days", "%"). Dates are UK format.

Charts take small, pre-aggregated frames (one ward's series, the top wards' scores): Vega does
the rendering in the browser and slows beyond ~10k marks.
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import numpy as np
import polars as pl

from dashboard.components.icons import FONT_STACK, POINT_COLOURS, POINT_LABELS, variation_icon
from dashboard.services.formatting import (
    LEVEL_COLOURS,
    LEVEL_WORDS,
    display_scale,
    domain_label,
    format_rate,
    indicator,
    indicator_label,
    uk_date,
)
from dashboard.services.funnel import FunnelResult

UK_AXIS = "%d/%m/%Y"
_PT_DOMAIN = list(POINT_LABELS.values())
_PT_RANGE = [POINT_COLOURS[k] for k in POINT_LABELS]
_PT_SHAPES = ["circle", "triangle-up", "square", "diamond", "diamond"]


def for_print(chart: alt.TopLevelMixin, width: int = 620, height: int = 170) -> alt.TopLevelMixin:
    """Chart configured for static export: fixed size, font stack with fallbacks, no view stroke."""
    return (
        chart.properties(width=width, height=height)
        .configure(font=FONT_STACK)
        .configure_view(stroke=None)
        .configure_axis(labelFont=FONT_STACK, titleFont=FONT_STACK, labelFontSize=10, titleFontSize=10)
        .configure_legend(labelFont=FONT_STACK, titleFont=FONT_STACK, labelFontSize=9)
    )


# ------------------------------------------------------------------------------ MDC control chart
def mdc_frame(series: pl.DataFrame, key: str) -> pl.DataFrame:
    """One indicator's rows in display units with a readable point-type label."""
    mult, _unit = display_scale(key)
    return (
        series.filter(pl.col("indicator") == key)
        .sort("period")
        .select(
            pl.col("period"),
            # NaN (not observed) becomes null: a gap in the chart and valid JSON for static export
            (pl.col("rate") * mult).fill_nan(None).alias("value"),
            (pl.col("chart_mean") * mult).fill_nan(None).alias("mean"),
            # a rate cannot be negative: a lower limit below zero is shown at zero (MDC practice)
            (pl.col("chart_lpl") * mult).fill_nan(None).clip(lower_bound=0.0).alias("lpl"),
            (pl.col("chart_upl") * mult).fill_nan(None).alias("upl"),
            # empty point type = no limits yet (too few points): drawn as common cause, never special
            pl.col("point_type").replace("", None).fill_null("common_cause"),
            pl.col("rule").fill_null(""),
            pl.col("status"),
        )
        .with_columns(
            pl.col("point_type").replace_strict(POINT_LABELS, default="Common cause").alias("point"),
            (pl.col("point_type") != "common_cause").alias("special"),
            pl.col("period").dt.strftime(UK_AXIS).alias("week"),
        )
    )


def mdc_summary(frame: pl.DataFrame, key: str, recent: int = 13) -> str:
    """Text summary of an MDC chart: latest value, centre and limits, recent special causes, icon."""
    ind = indicator(key)
    label = indicator_label(key)
    obs = frame.filter(pl.col("value").is_not_null())
    if obs.is_empty():
        return f"{label}: no observed values."
    mult, _ = display_scale(key)
    last = obs.row(-1, named=True)
    icon = variation_icon(last["point_type"], ind.direction if ind else "both")
    tail = frame.tail(recent)
    n_concern = int((tail["point_type"] == "special_cause_concern").sum())
    n_improve = int((tail["point_type"] == "special_cause_improvement").sum())
    missing = int(frame["value"].is_null().sum())
    lim = ""
    if last["mean"] is not None and np.isfinite(last["mean"]):
        lim = (
            f" Centre line {format_rate(key, last['mean'] / mult)}; process limits "
            f"{format_rate(key, last['lpl'] / mult)} to {format_rate(key, last['upl'] / mult)}."
        )
    return (
        f"{label}: latest {format_rate(key, last['value'] / mult)} (week of {uk_date(last['period'])}).{lim} "
        f"In the last {min(recent, frame.height)} periods: {n_concern} special-cause point(s) of concern, "
        f"{n_improve} of improvement. {icon.meaning}."
        + (f" {missing} period(s) missing or suppressed (shown as gaps)." if missing else "")
    )


def short_unit(unit: str) -> str:
    """Axis-friendly unit ("per 1,000 occupied bed days" -> "per 1,000 OBD")."""
    return unit.replace("occupied bed days", "OBD")


def mdc_chart(
    series: pl.DataFrame, key: str, height: int = 200, *, compact: bool = False
) -> tuple[alt.LayerChart, str]:
    """Making Data Count style XmR chart for one indicator of one ward.

    Points are coloured (grey / orange / blue / purple) *and* shaped by MDC point type; special-cause
    points are drawn larger; centre line and process limits are step lines, so recalculations at
    rebases show as steps.
    """
    frame = mdc_frame(series, key)
    _mult, unit = display_scale(key)
    # the card heading / caption names the indicator; a long rotated axis title would squeeze the plot
    y_title = short_unit(unit) or indicator_label(key)
    base = alt.Chart(frame).encode(x=alt.X("period:T", title=None, axis=alt.Axis(format=UK_AXIS)))

    def step(col: str, dash: list[int], colour: str) -> alt.Chart:
        return base.mark_line(
            interpolate="step-after", strokeDash=dash, color=colour, strokeWidth=1.2
        ).encode(y=alt.Y(f"{col}:Q", title=y_title))

    line = base.mark_line(color="#768692", strokeWidth=1).encode(y=alt.Y("value:Q", title=y_title))
    pts = base.mark_point(filled=True, opacity=1).encode(
        y=alt.Y("value:Q", title=y_title),
        color=alt.Color(
            "point:N",
            scale=alt.Scale(domain=_PT_DOMAIN, range=_PT_RANGE),
            legend=None if compact else alt.Legend(title=None, orient="top"),
        ),
        shape=alt.Shape("point:N", scale=alt.Scale(domain=_PT_DOMAIN, range=_PT_SHAPES), legend=None),
        size=alt.condition("datum.special", alt.value(70), alt.value(22)),
        tooltip=[
            alt.Tooltip("week:N", title="Week of"),
            alt.Tooltip("value:Q", title=unit or "value", format=",.2f"),
            alt.Tooltip("point:N", title="Point type"),
            alt.Tooltip("rule:N", title="Rule"),
        ],
    )
    chart = alt.layer(
        step("upl", [4, 3], "#a6a6a6"),
        step("lpl", [4, 3], "#a6a6a6"),
        step("mean", [1, 0], "#000000"),
        line,
        pts,
    ).properties(height=height, width="container")
    return chart, mdc_summary(frame, key)


# ------------------------------------------------------------------------------ CUSUM panel
def cusum_chart(
    series: pl.DataFrame, key: str, events: pl.DataFrame, height: int = 150
) -> tuple[alt.LayerChart, str]:
    """CUSUM statistics (nats) in each monitored direction with the threshold, change points and events."""
    f = series.filter(pl.col("indicator") == key).sort("period")
    long = pl.concat(
        [
            f.select("period", pl.col("cusum_up").alias("value"), pl.lit("Rise (CUSUM up)").alias("side")),
            f.select(
                "period", pl.col("cusum_down").alias("value"), pl.lit("Fall (CUSUM down)").alias("side")
            ),
        ]
    ).filter(pl.col("value").is_not_null() & pl.col("value").is_not_nan())
    base_x = alt.X("period:T", title=None, axis=alt.Axis(format=UK_AXIS))
    lines = (
        alt.Chart(long)
        .mark_line(strokeWidth=1.5)
        .encode(
            x=base_x,
            y=alt.Y("value:Q", title="CUSUM (nats)"),
            color=alt.Color(
                "side:N",
                scale=alt.Scale(
                    domain=["Rise (CUSUM up)", "Fall (CUSUM down)"], range=["#e46c0a", "#005eb8"]
                ),
                legend=alt.Legend(title=None, orient="top"),
            ),
            strokeDash=alt.StrokeDash(
                "side:N",
                scale=alt.Scale(domain=["Rise (CUSUM up)", "Fall (CUSUM down)"], range=[[1, 0], [5, 3]]),
                legend=None,
            ),
        )
    )
    thr = (
        alt.Chart(f)
        .mark_line(interpolate="step-after", color="#da291c", strokeDash=[6, 3])
        .encode(x=base_x, y="cusum_threshold:Q")
    )
    seg = (
        f.filter(pl.col("segment") != pl.col("segment").shift(1)).slice(1)
        if "segment" in f.columns
        else f.head(0)
    )
    cps = seg.select("period", pl.lit("change point").alias("what"), pl.lit("").alias("note"))
    ev = (
        events.select(
            pl.col("date").alias("period"),
            pl.col("kind").str.replace_all("_", " ").alias("what"),
            pl.col("note"),
        )
        if events.height
        else cps.head(0)
    )
    marks = pl.concat([cps, ev.cast(cps.schema)]).with_columns(
        pl.col("period").dt.strftime(UK_AXIS).alias("date")
    )
    rules = (
        alt.Chart(marks)
        .mark_rule(strokeWidth=1.5)
        .encode(
            x=base_x,
            color=alt.condition(alt.datum.what == "change point", alt.value("#490092"), alt.value("#425563")),
            strokeDash=alt.condition(alt.datum.what == "change point", alt.value([2, 2]), alt.value([1, 0])),
            tooltip=[alt.Tooltip("date:N", title="Date"), "what:N", "note:N"],
        )
    )
    chart = alt.layer(lines, thr, rules).properties(height=height, width="container")
    thr_v = f["cusum_threshold"].drop_nulls()
    thr_txt = f"{thr_v[-1]:.1f} nats" if thr_v.len() else "not set"
    up = f["cusum_up"].drop_nans().drop_nulls()
    dn = f["cusum_down"].drop_nans().drop_nulls()
    parts = [f"{indicator_label(key)} CUSUM: threshold {thr_txt}."]
    if up.len():
        parts.append(f"Rise statistic now {up[-1]:.1f} (max {up.max():.1f}).")
    if dn.len():
        parts.append(f"Fall statistic now {dn[-1]:.1f} (max {dn.max():.1f}).")
    if cps.height:
        parts.append("Change points: " + ", ".join(uk_date(d) for d in cps["period"]) + ".")
    if ev.height:
        parts.append(f"{ev.height} event(s) marked (grey lines).")
    return chart, " ".join(parts)


# ------------------------------------------------------------------------------ overview charts
def heatmap(latest: pl.DataFrame, domains: list[str]) -> tuple[alt.Chart, str]:
    """Ward x domain heatmap of the latest per-domain evidence (nats), wards in rank order."""
    cols = [f"score_{d}" for d in domains if f"score_{d}" in latest.columns]
    if not cols:
        return alt.Chart(pl.DataFrame({"x": []})).mark_rect(), "No per-domain evidence in the results."
    long = (
        latest.select("rank", "ward_name", *cols)
        .unpivot(index=["rank", "ward_name"], on=cols, variable_name="domain", value_name="evidence")
        .with_columns(
            pl.col("domain").str.strip_prefix("score_").map_elements(domain_label, return_dtype=pl.String),
            pl.col("evidence").fill_null(0.0),
            (pl.col("rank").cast(pl.String) + ". " + pl.col("ward_name")).alias("ward"),
        )
        .sort("rank")
    )
    order = long.unique("ward", keep="first", maintain_order=True)["ward"].to_list()
    chart = (
        alt.Chart(long)
        .mark_rect(stroke="white")
        .encode(
            x=alt.X(
                "domain:N",
                title=None,
                sort=[domain_label(d) for d in domains],
                axis=alt.Axis(labelAngle=0, labelOverlap=False, labelLimit=160, orient="top"),
            ),
            y=alt.Y("ward:N", title=None, sort=order, axis=alt.Axis(labelOverlap=False, labelLimit=220)),
            color=alt.Color(
                "evidence:Q",
                title="Evidence (nats)",
                scale=alt.Scale(scheme="oranges", domainMin=0),
            ),
            tooltip=["ward:N", "domain:N", alt.Tooltip("evidence:Q", format=".1f", title="Evidence (nats)")],
        )
        .properties(height=max(120, 20 * len(order)), width="container")
    )
    strongest = long.sort("evidence", descending=True).head(3)
    top = "; ".join(
        f"{r['ward']} – {r['domain']} {r['evidence']:.1f} nats"
        for r in strongest.iter_rows(named=True)
        if r["evidence"] > 0
    )
    summary = f"Latest evidence by domain for the {len(order)} highest-ranked wards (darker = stronger). " + (
        f"Strongest: {top}." if top else "No ward shows evidence in any domain."
    )
    return chart, summary


def small_multiples(history: pl.DataFrame, columns: int = 4) -> tuple[alt.FacetChart, str]:
    """Each ward's weekly score (nats) over the window, one small panel per ward."""
    h = history.with_columns(
        pl.col("level").replace_strict(LEVEL_WORDS, default="No concern").alias("level_word")
    )
    order = h.unique("ward", keep="first", maintain_order=True)["ward"].to_list()
    base = alt.Chart().encode(x=alt.X("period:T", title=None, axis=alt.Axis(format="%m/%y", tickCount=4)))
    line = base.mark_line(color="#425563", strokeWidth=1).encode(y=alt.Y("score:Q", title="Score (nats)"))
    pts = base.mark_point(filled=True, size=14, opacity=1).encode(
        y="score:Q",
        color=alt.Color(
            "level_word:N",
            title="Level",
            scale=alt.Scale(domain=list(LEVEL_WORDS.values()), range=list(LEVEL_COLOURS.values())),
        ),
        tooltip=[
            alt.Tooltip("period:T", format=UK_AXIS, title="Week of"),
            "level_word:N",
            alt.Tooltip("score:Q", format=".1f"),
        ],
    )
    chart = (
        alt.layer(line, pts, data=h)
        .properties(width=170, height=70)
        .facet(facet=alt.Facet("ward:N", title=None, sort=order), columns=columns)
        .resolve_scale(y="independent")
    )
    if h.is_empty():
        return chart, "No score history."
    start, end = h["period"].min(), h["period"].max()
    peaks = h.group_by("ward").agg(pl.col("score").max()).sort("score", descending=True).head(3)
    summary = (
        f"Weekly combined score (nats) from {uk_date(start)} to {uk_date(end)} for {len(order)} wards, "
        f"points coloured by level. Highest peaks: "
        + "; ".join(f"{r['ward']} {r['score']:.1f}" for r in peaks.iter_rows(named=True))
        + "."
    )
    return chart, summary


def score_history_chart(
    history: pl.DataFrame, height: int = 140, *, compact: bool = False
) -> tuple[alt.LayerChart, str]:
    """One ward's weekly combined score (nats), points coloured by level."""
    h = history.with_columns(
        pl.col("level").replace_strict(LEVEL_WORDS, default="No concern").alias("level_word")
    )
    base = alt.Chart(h).encode(x=alt.X("period:T", title=None, axis=alt.Axis(format=UK_AXIS)))
    chart = alt.layer(
        base.mark_line(color="#425563", strokeWidth=1).encode(y=alt.Y("score:Q", title="Score (nats)")),
        base.mark_point(filled=True, size=20, opacity=1).encode(
            y="score:Q",
            color=alt.Color(
                "level_word:N",
                title="Level",
                scale=alt.Scale(domain=list(LEVEL_WORDS.values()), range=list(LEVEL_COLOURS.values())),
                legend=alt.Legend(orient="right"),
            ),
        ),
    ).properties(height=height, width="container")
    if h.is_empty():
        return chart, "No score history."
    last = h.row(-1, named=True)
    return chart, (
        f"Combined score from {uk_date(h['period'].min())} to {uk_date(last['period'])}: now "
        f"{last['score']:.1f} nats ({LEVEL_WORDS.get(last['level'], last['level'])}), highest "
        f"{h['score'].max():.1f} nats."
    )


# ------------------------------------------------------------------------------ funnel
def funnel_chart(
    totals: pl.DataFrame, result: FunnelResult, key: str, ward_id: str, names: dict[str, str]
) -> tuple[alt.LayerChart, str]:
    """Peer funnel plot: each ward's pooled rate against its exposure, with 95% / 99.8% limits."""
    mult, unit = display_scale(key)
    ind = indicator(key)
    expo_title = (ind.denominator or "periods") if ind and ind.exposure else "periods observed"
    pts = totals.with_columns(
        (pl.col("numerator") / pl.col("exposure") * mult).alias("value"),
        pl.Series("flag", result.flags.astype(str)),
        (pl.col("ward_id") == ward_id).alias("this_ward"),
        pl.col("ward_id").replace_strict(names, default=pl.col("ward_id")).alias("ward"),
    )
    lim = pl.DataFrame(
        {
            "exposure": np.tile(result.grid, 4),
            "value": np.concatenate([result.lower95, result.upper95, result.lower998, result.upper998])
            * mult,
            "limit": np.repeat(["95% lower", "95% upper", "99.8% lower", "99.8% upper"], result.grid.size),
            "band": np.repeat(["95%", "95%", "99.8%", "99.8%"], result.grid.size),
        }
    )
    x = alt.X("exposure:Q", title=f"Exposure ({expo_title})", scale=alt.Scale(type="log"))
    y_title = short_unit(unit) or indicator_label(key)
    lines = (
        alt.Chart(lim)
        .mark_line(color="#768692")
        .encode(
            x=x,
            y=alt.Y("value:Q", title=y_title),
            detail="limit:N",
            strokeDash=alt.StrokeDash(
                "band:N", scale=alt.Scale(domain=["95%", "99.8%"], range=[[4, 3], [1, 0]]), title="Limits"
            ),
        )
    )
    target = (
        alt.Chart(pl.DataFrame({"value": [result.target * mult]}))
        .mark_rule(color="#000000")
        .encode(y="value:Q")
    )
    dots = (
        alt.Chart(pts)
        .mark_point(filled=True, opacity=0.9)
        .encode(
            x=x,
            y="value:Q",
            color=alt.condition(alt.datum.this_ward, alt.value("#005eb8"), alt.value("#a6a6a6")),
            size=alt.condition(alt.datum.this_ward, alt.value(140), alt.value(30)),
            shape=alt.condition(alt.datum.this_ward, alt.value("diamond"), alt.value("circle")),
            tooltip=["ward:N", alt.Tooltip("value:Q", format=",.2f", title=unit or "value"), "flag:N"],
        )
    )
    chart = alt.layer(lines, target, dots).properties(height=260, width="container")
    me = pts.filter(pl.col("this_ward"))
    where = {
        "above_998": "above the 99.8% limit",
        "above_95": "above the 95% limit",
        "within": "within the limits",
        "below_95": "below the 95% limit",
        "below_998": "below the 99.8% limit",
        "no_data": "without data",
    }
    mine = (
        f"This ward: {format_rate(key, me['value'][0] / mult)}, {where.get(me['flag'][0], me['flag'][0])}. "
        if me.height
        else "This ward has no observed data in the window. "
    )
    od = (
        f"Overdispersion φ = {result.phi:.2f}; limits widened by τ = {np.sqrt(result.tau2):.3f} on the "
        "square-root scale."
        if result.tau2 > 0
        else f"No overdispersion detected (φ = {result.phi:.2f}); plain limits."
    )
    return chart, (
        f"{pts.height} peer wards of the same type; peer average {format_rate(key, result.target)}. {mine}{od}"
    )


def as_of_label(date: dt.date | None) -> str:
    """'as of dd/mm/yyyy' text."""
    return f"as of week beginning {uk_date(date)}" if date else "no scored periods"
