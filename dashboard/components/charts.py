"""Altair charts of the dashboard and the briefing, each with a plain-English text summary.

Every builder returns ``(chart, summary)``: the summary is shown under the chart on screen and in
the briefing, so no information lives in colour or shape alone. Values are shown in display units
(rates times the catalogue scale: "per 1,000 occupied bed days", "%"). Dates are UK format.

Indicator charts are the chart that *fits* each series (:func:`engine.charts.fit.fit_charts`):
weekly XmR where weekly limits mean something, else XmR of monthly rates, a T chart of the days
between rare events, or a run chart; never collapsed limits. :func:`ward_charts` (one ward, for the
ward page and the briefing) and :func:`indicator_summary` (every ward at once, for tables) apply the
run's settings, rebase events and open alerts identically, so icons agree everywhere; an improvement
icon on an indicator under an open alert carries the reason the two differ (:data:`DISAGREE`).

Charts take small, pre-aggregated frames (one ward's series, the top wards' scores): Vega does
the rendering in the browser and slows beyond ~10k marks.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from dataclasses import dataclass
from typing import cast

import altair as alt
import numpy as np
import polars as pl

from dashboard.components.icons import FONT_STACK, POINT_COLOURS, POINT_LABELS, Icon, variation_icon
from dashboard.services.formatting import (
    LEVEL_COLOURS,
    LEVEL_WORDS,
    display_scale,
    domain_label,
    format_rate,
    indicator,
    indicator_label,
    split_list,
    uk_date,
)
from dashboard.services.funnel import FunnelResult
from dashboard.services.results import Results
from engine.charts import codes
from engine.charts.fit import fit_charts, improvement_contradicts
from engine.charts.settings import ChartChoiceSettings, XmRSettings
from engine.contract.dates import MONTH_AXIS_FORMAT, MONTH_YEAR_FORMAT, UK_DATE_FORMAT
from engine.contract.results import domain_score_column
from engine.io.events import REBASE_KINDS

UK_AXIS = UK_DATE_FORMAT
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
#: How each chart kind is introduced in its caption (what the points are).
KIND_PHRASES: dict[str, str] = {
    "xmr": "XmR chart of the {cadence} rate",
    "xmr_month": "XmR chart of the monthly rate (complete months)",
    "t": "T chart of the days between events",
    "run": "run chart of the monthly rate (no process limits)",
    "none": "no chart",
}
#: Why a chart other than the weekly XmR was chosen (said in the caption).
KIND_REASONS: dict[str, str] = {
    "xmr_month": "Weekly rates are too often zero for meaningful weekly limits, so months are charted.",
    "t": (
        "Events are rare (most months have none), so the chart shows the days between events, as NHS "
        "guidance recommends for rare events; a longer gap is better. Dates within a week are estimated."
    ),
    "run": (
        "Too few events or values for meaningful control limits, so a run chart (median line, runs "
        "rules) is shown and no variation icon is given."
    ),
}
NO_ICON_RUN = Icon("no_icon", "#768692", "–", "No variation icon: a run chart has no process limits")
DISAGREE = (
    "Why the chart and the alert differ: the chart compares each point with this indicator's own "
    "long-run centre line, so a recent value below an unusually high past can show as improvement; the "
    "alert weighs the recent weeks against the rate expected for this ward from its earlier data and its "
    "peers. Treat the alert as the current signal."
)


@dataclass(frozen=True)
class IndicatorChart:
    """The chart that fits one indicator of one ward (:func:`engine.charts.fit.fit_charts`).

    ``frame`` has ``period`` (date of the point), ``value``, ``mean``, ``lpl``, ``upl`` in display
    units, ``point_type``, ``rule``, ``point`` (label), ``special`` and ``week`` (UK date text).
    """

    key: str
    kind: str
    cadence: str
    frame: pl.DataFrame
    icon: Icon
    runs_signal: bool
    under_alert: bool
    contradicts_alert: bool
    n_events: int
    open_days: float | None
    #: observed periods of the series (at its own cadence)
    n_observed: int = 0

    @property
    def has_limits(self) -> bool:
        return self.kind in ("xmr", "xmr_month", "t")

    @property
    def unit(self) -> str:
        """Display unit of the points."""
        if self.kind == "t":
            return "days between events"
        return display_scale(self.key)[1]


def _icon_of(code: int, direction: str) -> Icon:
    labels = {
        codes.V_IMPROVEMENT_HIGH: "special_cause_improvement",
        codes.V_IMPROVEMENT_LOW: "special_cause_improvement",
        codes.V_CONCERN_HIGH: "special_cause_concern",
        codes.V_CONCERN_LOW: "special_cause_concern",
        codes.V_NEUTRAL_HIGH: "special_cause_neutral_high",
        codes.V_NEUTRAL_LOW: "special_cause_neutral_low",
    }
    if code == codes.NO_ICON:
        return NO_ICON_RUN
    icon = variation_icon(labels.get(code, "common_cause"), direction)
    if code in (codes.V_IMPROVEMENT_HIGH, codes.V_CONCERN_HIGH) and icon.letter != "H":
        icon = Icon(
            icon.key.replace("_low", "_high"), icon.colour, "H", icon.meaning.replace("lower", "higher")
        )
    elif code in (codes.V_IMPROVEMENT_LOW, codes.V_CONCERN_LOW) and icon.letter != "L":
        icon = Icon(
            icon.key.replace("_high", "_low"), icon.colour, "L", icon.meaning.replace("higher", "lower")
        )
    return icon


def rebase_groups(periods: np.ndarray, dates: list[dt.date]) -> np.ndarray | None:
    """``(T,)`` rebase-group ids: a new baseline from the first period on or after each rebase date."""
    if not dates:
        return None
    p = np.asarray(periods).astype("datetime64[D]")
    marks = np.zeros(p.size, dtype=np.int32)
    for d in dates:
        i = int(np.searchsorted(p, np.datetime64(d, "D")))
        if 0 < i < p.size:
            marks[i] = 1
    return np.cumsum(marks).astype(np.int32) if marks.any() else None


def fit_ward_charts(
    series: pl.DataFrame,
    under_alert: set[str] | frozenset[str] = frozenset(),
    rebase_dates: list[dt.date] | None = None,
    *,
    xmr: XmRSettings | None = None,
    settings: ChartChoiceSettings | None = None,
) -> dict[str, IndicatorChart]:
    """The chart that fits each indicator of one ward's ``series.parquet`` rows, by indicator key.

    Chosen by :func:`engine.charts.fit.fit_charts` on every indicator of a cadence at once. The
    variation icon is that of the chosen chart (none for a run chart); ``contradicts_alert`` marks an
    improvement icon on an indicator under an open alert (the caption then says why).
    """
    out: dict[str, IndicatorChart] = {}
    for cad in series["cadence"].unique(maintain_order=True).to_list() if not series.is_empty() else []:
        out |= _fit_cadence(
            series.filter(pl.col("cadence") == cad), cad, under_alert, rebase_dates, xmr, settings
        )
    return out


def _fit_cadence(
    f: pl.DataFrame,
    cad: str,
    under_alert: set[str] | frozenset[str],
    rebase_dates: list[dt.date] | None,
    xmr: XmRSettings | None,
    settings: ChartChoiceSettings | None,
) -> dict[str, IndicatorChart]:
    """:func:`fit_ward_charts` for the indicators of one cadence (one ``(indicators, periods)`` grid)."""
    periods = np.sort(f["period"].unique().to_numpy())
    keys = f["indicator"].unique(maintain_order=True).to_list()
    s_idx = (
        f["indicator"].replace_strict({k: i for i, k in enumerate(keys)}, return_dtype=pl.Int64).to_numpy()
    )
    t_idx = np.searchsorted(periods, f["period"].to_numpy())
    shape = (len(keys), periods.size)
    num, den = np.full(shape, np.nan), np.full(shape, np.nan)
    obs, covered = np.zeros(shape, dtype=bool), np.zeros(shape, dtype=bool)
    covered[s_idx, t_idx] = True  # the periods the series has a row for (any status)
    num[s_idx, t_idx] = f["numerator"].fill_null(np.nan).to_numpy()
    den[s_idx, t_idx] = f["denominator"].fill_null(np.nan).to_numpy()
    obs[s_idx, t_idx] = (f["status"] == "observed").to_numpy()
    inds = [indicator(k) for k in keys]
    improvement = [i.improvement_direction if i else "neutral" for i in inds]
    family = [i.family if i else "measure" for i in inds]
    g = rebase_groups(periods, rebase_dates or [])
    groups = None if g is None else np.broadcast_to(g, shape)
    fitted = fit_charts(
        num, den, obs, periods, improvement, family,
        cadence=cad, groups=groups, covered=covered, xmr=xmr, settings=settings,
    )  # fmt: skip
    out: dict[str, IndicatorChart] = {}
    for i, key in enumerate(keys):
        ind = inds[i]
        code = int(fitted.variation_icon[i])
        under = key in under_alert
        n_events = int(np.nansum(np.where(obs[i], num[i], 0.0)))
        n_obs = int(obs[i].sum())
        picked = fitted.chosen(i)
        if picked is None:
            frame = _points_frame(
                key, "none", *(np.zeros(0),) * 5, np.zeros(0, dtype=np.int8), np.zeros(0, np.int8)
            )
            out[key] = IndicatorChart(
                key, "none", cad, frame, NO_ICON_RUN, False, under, False, n_events, None, n_obs
            )
            continue
        cand, r = picked
        contradicts = bool(improvement_contradicts(np.array([code]), np.array([under]))[0])
        frame = _points_frame(
            key, cand.kind, cand.x[r], cand.value[r], cand.mean[r], cand.lpl[r], cand.upl[r],
            cand.point_type[r], cand.rule[r],
        )  # fmt: skip
        open_days = float(cand.open_interval[r]) if cand.kind == "t" and cand.open_interval.size else None
        out[key] = IndicatorChart(
            key, cand.kind, cad, frame, _icon_of(code, ind.direction if ind else "both"),
            bool(cand.runs_signal[r]), under, contradicts, n_events, open_days, n_obs,
        )  # fmt: skip
    return out


def _points_frame(
    key: str,
    kind: str,
    x: np.ndarray,
    value: np.ndarray,
    mean: np.ndarray,
    lpl: np.ndarray,
    upl: np.ndarray,
    point_type: np.ndarray,
    rule: np.ndarray,
) -> pl.DataFrame:
    """Points of one chart in display units (days for T charts), missing points dropped."""
    mult = 1.0 if kind == "t" else display_scale(key)[0]
    keep = ~np.isnan(value) if value.size else np.zeros(0, dtype=bool)
    if kind == "t":
        keep = keep & ~np.isnan(value)
    pts = codes.labels(point_type[keep], codes.POINT_TYPE_LABELS)
    rules = codes.labels(rule[keep], codes.RULE_LABELS)

    ind = indicator(key)
    top = mult if (kind != "t" and ind is not None and ind.is_proportion) else np.inf

    def col(a: np.ndarray, clip: bool = False) -> np.ndarray:
        v = a[keep] * mult
        # a rate cannot be negative nor a proportion above 100%: limits beyond are shown at the bound
        return np.where(np.isnan(v), np.nan, np.clip(v, 0.0, top)) if clip else v

    frame = pl.DataFrame(
        {
            "period": np.asarray(x)[keep].astype("datetime64[D]"),
            "value": col(value),
            "mean": col(mean),
            "lpl": col(lpl, clip=True),
            "upl": col(upl, clip=True),
            "point_type": pts.astype(str) if pts.size else np.zeros(0, dtype=str),
            "rule": rules.astype(str) if rules.size else np.zeros(0, dtype=str),
        },
        schema={
            "period": pl.Date,
            "value": pl.Float64,
            "mean": pl.Float64,
            "lpl": pl.Float64,
            "upl": pl.Float64,
            "point_type": pl.String,
            "rule": pl.String,
        },
    )
    return frame.with_columns(pl.col(c).fill_nan(None) for c in ("value", "mean", "lpl", "upl")).with_columns(
        pl.col("point_type").replace_strict(POINT_LABELS, default="Common cause").alias("point"),
        (pl.col("point_type") != "common_cause").alias("special"),
        pl.col("period").dt.strftime(UK_AXIS).alias("week"),
    )


def _fmt(fc: IndicatorChart, v: float | None) -> str:
    if v is None or not np.isfinite(v):
        return "no data"
    if fc.kind == "t":
        return f"{v:,.0f} day{'s' if round(v) != 1 else ''}"
    mult, _ = display_scale(fc.key)
    return format_rate(fc.key, v / mult)


def _range(fc: IndicatorChart, lo: float | None, hi: float | None) -> str:
    """ "2.1 to 9.8 per 1,000 occupied bed days": the unit said once."""
    a, b = _fmt(fc, lo), _fmt(fc, hi)
    unit = fc.unit if fc.kind != "t" else ""
    if fc.kind == "t":
        return f"{a.split(' ')[0]} to {b}"
    if unit and unit != "%" and a.endswith(" " + unit):
        return f"{a[: -len(unit) - 1]} to {b}"
    return f"{a} to {b}"


def _special_runs(frame: pl.DataFrame, kind: str) -> list[tuple[str, int, dt.date, dt.date]]:
    """Consecutive stretches of special-cause points: (point_type, length, first, last)."""
    if frame.is_empty():
        return []
    runs = (
        frame.with_columns(
            (pl.col("point_type") != pl.col("point_type").shift(1)).fill_null(True).cum_sum().alias("_g")
        )
        .filter(pl.col("special"))
        .group_by("_g", maintain_order=True)
        .agg(
            pl.col("point_type").first(),
            pl.len(),
            pl.col("period").min().alias("a"),
            pl.col("period").max().alias("b"),
        )
    )
    return [(r[1], r[2], r[3], r[4]) for r in runs.iter_rows()]


def chart_summary(fc: IndicatorChart, window: dt.date | None = None) -> str:
    """Caption of a chart: what the points are, the latest point, the lines, and what the points show.

    ``window``: describe only points from this date (the chart's visible window).
    """
    label = indicator_label(fc.key)
    frame = fc.frame if window is None else fc.frame.filter(pl.col("period") >= window)
    obs = frame.filter(pl.col("value").is_not_null())
    what = KIND_PHRASES[fc.kind].format(cadence="weekly" if fc.cadence == "weekly" else "monthly")
    if obs.is_empty():
        if fc.kind == "none" and fc.n_observed:
            return f"{label}: too little data to chart yet ({fc.n_observed} period(s), less than a complete month)."
        if fc.kind == "t" or fc.n_events == 0:
            return f"{label}: no events recorded in this period, so there is nothing to chart."
        return f"{label}: no observed values in this period."
    ind = indicator(fc.key)
    if fc.n_events == 0 and ind is not None and ind.family == "count":
        return f"{label}: no events recorded in the {obs.height} periods shown, so there is no variation to chart."
    last = obs.row(-1, named=True)
    when = (
        f"event of about {uk_date(last['period'])}"
        if fc.kind == "t"
        else (
            f"week of {uk_date(last['period'])}"
            if fc.kind == "xmr" and fc.cadence == "weekly"
            else f"{_month(last['period'])}"
        )
    )
    parts = [f"{label}: {what}; latest {_fmt(fc, last['value'])} ({when})."]
    if fc.kind in KIND_REASONS:
        parts.append(KIND_REASONS[fc.kind])
    if fc.has_limits and last["mean"] is not None:
        parts.append(
            f"Centre line {_fmt(fc, last['mean'])}; process limits {_range(fc, last['lpl'], last['upl'])}."
        )
    elif fc.kind == "run" and last["mean"] is not None:
        parts.append(f"Median {_fmt(fc, last['mean'])}.")
    n = obs.height
    n_concern = int((obs["point_type"] == "special_cause_concern").sum())
    n_improve = int((obs["point_type"] == "special_cause_improvement").sum())
    n_neutral = int(obs["point_type"].str.starts_with("special_cause_neutral").sum())
    if fc.has_limits:
        if n_concern + n_improve + n_neutral == 0:
            parts.append(f"All {n} points shown are common cause variation: no sign of change.")
        else:
            bits = []
            for name, k in (
                ("of concern", n_concern),
                ("of improvement", n_improve),
                ("without a direction", n_neutral),
            ):
                if k:
                    bits.append(f"{k} special cause {name}")
            longest = sorted(_special_runs(obs, fc.kind), key=lambda r: -r[1])[:1]
            tail = ""
            if longest and longest[0][1] >= 3:
                pt, length, a, b = longest[0]
                tail = f"; the longest stretch is {length} points of {POINT_LABELS[pt].split(': ')[-1].lower()} from {uk_date(a)} to {uk_date(b)}"
            parts.append(f"Of the {n} points shown, {' and '.join(bits)}{tail}.")
        parts.append(
            f"Latest point: {fc.icon.meaning.lower() if fc.icon.key != 'common_cause' else 'common cause variation'}."
        )
    else:
        parts.append(
            "Runs analysis: a non-random pattern (a long run on one side of the median or too few crossings)."
            if fc.runs_signal
            else "Runs analysis: no non-random pattern."
        )
    if fc.kind == "t" and fc.open_days is not None and np.isfinite(fc.open_days):
        parts.append(f"No event in the last {fc.open_days:,.0f} days of data.")
    if fc.contradicts_alert:
        parts.append(DISAGREE)
    return " ".join(parts)


def _month(d: dt.date) -> str:
    return d.strftime(MONTH_YEAR_FORMAT)


def indicators_under_alert(alerts: pl.DataFrame) -> set[str]:
    """Indicators under an open alert of one ward: indicator alerts and a ward alert's contributors."""
    if alerts.is_empty():
        return set()
    open_ = alerts.filter(pl.col("closed").is_null() & (pl.col("scope") != "provider"))
    out: set[str] = set()
    for row in open_.iter_rows(named=True):
        if row["scope"] == "indicator" and row.get("indicator"):
            out.add(str(row["indicator"]))
        elif row["scope"] == "ward":
            out.update(split_list(row.get("contributing")))
    return out


def ward_charts(results: Results, ward_id: str, series: pl.DataFrame) -> dict[str, IndicatorChart]:
    """:func:`fit_ward_charts` for a ward of the results: its open alerts and rebase events applied.

    What the ward page, the overview's indicator table and the briefing all show, so their icons
    and charts agree.
    """
    events = results.events.filter((pl.col("ward_id") == ward_id) & pl.col("kind").is_in(list(REBASE_KINDS)))
    xmr, choice = run_chart_settings(json.dumps((results.run or {}).get("config", {}), sort_keys=True))
    return fit_ward_charts(
        series,
        indicators_under_alert(results.ward_alerts(ward_id)),
        events["date"].to_list(),
        xmr=xmr,
        settings=choice,
    )


@functools.lru_cache(maxsize=8)
def run_chart_settings(config_json: str) -> tuple[XmRSettings, ChartChoiceSettings]:
    """The ``[charts]`` and ``[chart_choice]`` settings of the run that wrote the results (defaults
    when the run's configuration is absent or unreadable)."""
    from engine.config import config_from_mapping

    try:
        config = config_from_mapping(json.loads(config_json))
    except (ValueError, TypeError):  # SettingsError is a ValueError
        return XmRSettings(), ChartChoiceSettings()
    return config.charts, config.chart_choice


def short_unit(unit: str) -> str:
    """Axis-friendly unit ("per 1,000 occupied bed days" -> "per 1,000 OBD")."""
    return unit.replace("occupied bed days", "OBD")


def mdc_chart(
    series: pl.DataFrame,
    key: str,
    height: int = 200,
    *,
    compact: bool = False,
    fitted: IndicatorChart | None = None,
    window: dt.date | None = None,
) -> tuple[alt.LayerChart | alt.FacetChart, str]:
    """Making Data Count style chart of the chart that fits one indicator of one ward.

    ``fitted``: the indicator's :class:`IndicatorChart` when already computed (else fitted here from
    ``series``); ``window``: draw only points from this date (limits from the whole history).
    Points are coloured (grey / orange / blue / purple) *and* shaped by MDC point type; special-cause
    points are drawn larger; centre line and process limits are step lines, so recalculations at
    rebases show as steps. Run charts draw the median only.
    """
    if fitted is None:
        fitted = fit_ward_charts(series.filter(pl.col("indicator") == key)).get(key)
    if fitted is None:
        empty = alt.Chart(pl.DataFrame({"x": []})).mark_point()
        return alt.layer(empty), f"{indicator_label(key)}: no data."
    frame = fitted.frame if window is None else fitted.frame.filter(pl.col("period") >= window)
    unit = fitted.unit
    # the card heading / caption names the indicator; a long rotated axis title would squeeze the plot
    y_title = short_unit(unit) or indicator_label(key)
    base = alt.Chart(frame).encode(x=alt.X("period:T", title=None, axis=alt.Axis(format=MONTH_AXIS_FORMAT)))

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
            alt.Tooltip("week:N", title="Date"),
            alt.Tooltip("value:Q", title=unit or "value", format=",.2f"),
            alt.Tooltip("point:N", title="Point type"),
            alt.Tooltip("rule:N", title="Rule"),
        ],
    )
    layers = [step("mean", [1, 0], "#000000"), line, pts]
    if fitted.has_limits:
        layers = [step("upl", [4, 3], "#a6a6a6"), step("lpl", [4, 3], "#a6a6a6"), *layers]
    chart = alt.layer(*layers).properties(height=height, width="container")
    return chart, chart_summary(fitted, window)


# ------------------------------------------------------------------------------ CUSUM panel
_CUSUM_SIDES = ["Rise (CUSUM up)", "Fall (CUSUM down)"]


def cusum_chart(
    series: pl.DataFrame, key: str, events: pl.DataFrame, height: int = 150
) -> tuple[alt.LayerChart | alt.FacetChart, str]:
    """CUSUM statistics (nats) in each monitored direction with the threshold, change points and events."""
    f = series.filter(pl.col("indicator") == key).sort("period")
    base_x = alt.X("period:T", title=None, axis=alt.Axis(format=UK_AXIS))
    thr = (
        alt.Chart(f)
        .mark_line(interpolate="step-after", color="#da291c", strokeDash=[6, 3])
        .encode(x=base_x, y="cusum_threshold:Q")
    )
    cps, ev = _change_points_and_events(f, events)
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
    chart = alt.layer(_cusum_lines(f, base_x), thr, rules).properties(height=height, width="container")
    return chart, _cusum_text(key, f, cps, ev)


def _cusum_lines(f: pl.DataFrame, base_x: alt.X) -> alt.Chart:
    """The rise (solid) and fall (dashed) CUSUM statistics of one series."""
    long = pl.concat(
        [
            f.select("period", pl.col("cusum_up").alias("value"), pl.lit(_CUSUM_SIDES[0]).alias("side")),
            f.select("period", pl.col("cusum_down").alias("value"), pl.lit(_CUSUM_SIDES[1]).alias("side")),
        ]
    ).filter(pl.col("value").is_not_null() & pl.col("value").is_not_nan())
    return (
        alt.Chart(long)
        .mark_line(strokeWidth=1.5)
        .encode(
            x=base_x,
            y=alt.Y("value:Q", title="CUSUM (nats)"),
            color=alt.Color(
                "side:N",
                scale=alt.Scale(domain=_CUSUM_SIDES, range=["#e46c0a", "#005eb8"]),
                legend=alt.Legend(title=None, orient="top"),
            ),
            strokeDash=alt.StrokeDash(
                "side:N", scale=alt.Scale(domain=_CUSUM_SIDES, range=[[1, 0], [5, 3]]), legend=None
            ),
        )
    )


def _change_points_and_events(f: pl.DataFrame, events: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``period, what, note`` of the series' change points (segment starts) and of the ward's events."""
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
    return cps, ev


def _cusum_text(key: str, f: pl.DataFrame, cps: pl.DataFrame, ev: pl.DataFrame) -> str:
    """The CUSUM chart in words: threshold, where each statistic stands, change points, events."""
    thr_v = f["cusum_threshold"].drop_nulls()
    thr_txt = f"{thr_v[-1]:.1f} nats" if thr_v.len() else "not set"
    up = f["cusum_up"].drop_nans().drop_nulls()
    dn = f["cusum_down"].drop_nans().drop_nulls()
    parts = [f"{indicator_label(key)} CUSUM: threshold {thr_txt}."]
    if up.len():
        parts.append(f"Rise statistic now {up[-1]:.1f} (max {cast(float, up.max()):.1f}).")
    if dn.len():
        parts.append(f"Fall statistic now {dn[-1]:.1f} (max {cast(float, dn.max()):.1f}).")
    if cps.height:
        parts.append("Change points: " + ", ".join(uk_date(d) for d in cps["period"]) + ".")
    if ev.height:
        parts.append(f"{ev.height} event(s) marked (grey lines).")
    return " ".join(parts)


# ------------------------------------------------------------------------------ overview charts
def heatmap(latest: pl.DataFrame, domains: list[str]) -> tuple[alt.Chart, str]:
    """Ward x domain heatmap of the latest per-domain evidence (nats), wards in rank order."""
    cols = [domain_score_column(d) for d in domains if domain_score_column(d) in latest.columns]
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
    start, end = cast(dt.date, h["period"].min()), cast(dt.date, h["period"].max())
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
) -> tuple[alt.LayerChart | alt.FacetChart, str]:
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
        f"Combined score from {uk_date(cast(dt.date, h['period'].min()))} to {uk_date(last['period'])}: now "
        f"{last['score']:.1f} nats ({LEVEL_WORDS.get(last['level'], last['level'])}), highest "
        f"{cast(float, h['score'].max()):.1f} nats."
    )


# ------------------------------------------------------------------------------ funnel
def funnel_chart(
    totals: pl.DataFrame, result: FunnelResult, key: str, ward_id: str, names: dict[str, str]
) -> tuple[alt.LayerChart | alt.FacetChart, str]:
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


def chart_audit(results: Results, series: pl.DataFrame | None = None) -> pl.DataFrame:
    """One row per (ward, indicator): the chart shown, whether its limits collapse and whether its
    icon contradicts an open alert (and the caption explains it). For tests and the release notes.

    ``collapsed``: some point's limits are narrower than 5% of the centre line (or absent on a chart
    that claims limits); ``weekly_collapsed``: the same for the weekly XmR in ``series.parquet``.
    """
    from dashboard.services.results import ward_series

    rows = []
    for ward_id in results.latest["ward_id"].to_list():
        s = ward_series(results, ward_id) if series is None else series.filter(pl.col("ward_id") == ward_id)
        for key, fc in ward_charts(results, ward_id, s).items():
            f = fc.frame.filter(pl.col("value").is_not_null())
            width = f["upl"] - f["lpl"]
            collapsed = fc.has_limits and bool(
                ((width.fill_null(-1.0) <= 0) | (width.fill_null(0.0) < 0.05 * f["mean"].abs())).any()
            )
            old = s.filter((pl.col("indicator") == key) & pl.col("rate").is_not_nan())
            old_width = old["chart_upl"] - old["chart_lpl"] if "chart_upl" in old.columns else None
            weekly_collapsed = old_width is not None and bool(
                (
                    (old_width.fill_nan(0.0) <= 0)
                    | (old_width.fill_nan(0.0) < 0.05 * old["chart_mean"].abs())
                ).any()
            )
            improving = fc.icon.key.startswith("improvement")
            rows.append(
                {
                    "ward_id": ward_id,
                    "indicator": key,
                    "kind": fc.kind,
                    "collapsed": collapsed,
                    "weekly_collapsed": weekly_collapsed,
                    "improvement_icon": improving,
                    "under_alert": fc.under_alert,
                    "contradicts_alert": improving and fc.under_alert,
                    "explained": DISAGREE in chart_summary(fc),
                }
            )
    return pl.DataFrame(rows)


def indicator_summary(results: Results, series: pl.DataFrame) -> pl.DataFrame:
    """Every (ward, indicator) of the trust at once: the chart that fits it and its latest reading.

    For an integrated-performance-report style table: ``ward_id, indicator, kind, period`` (date of
    the latest point), ``value`` and ``mean`` (display units; days for T charts), ``icon`` (variation
    icon key), ``icon_meaning``, ``under_alert``, ``contradicts_alert``. Computed with one
    :func:`engine.charts.fit.fit_charts` call per cadence over all wards, so the icons are those of
    the ward pages and the briefing (same choice, same rebases, same settings).
    """
    xmr, choice = run_chart_settings(json.dumps((results.run or {}).get("config", {}), sort_keys=True))
    under: set[tuple[str, str]] = set()
    for ward_id, frame in results.alerts.group_by("ward_id"):
        under.update((str(ward_id[0]), k) for k in indicators_under_alert(frame))
    rebases = results.events.filter(pl.col("kind").is_in(list(REBASE_KINDS)))
    out: list[pl.DataFrame] = []
    for cad in series["cadence"].unique(maintain_order=True).to_list():
        f = series.filter(pl.col("cadence") == cad)
        keys = f.select("ward_id", "indicator").unique(maintain_order=True)
        periods = np.sort(f["period"].unique().to_numpy())
        f = f.join(keys.with_row_index("_s"), on=["ward_id", "indicator"], how="left", maintain_order="left")
        s_idx = f["_s"].to_numpy().astype(np.int64)
        t_idx = np.searchsorted(periods, f["period"].to_numpy())
        shape = (keys.height, periods.size)
        num, den, obs = np.full(shape, np.nan), np.full(shape, np.nan), np.zeros(shape, dtype=bool)
        covered = np.zeros(shape, dtype=bool)
        covered[s_idx, t_idx] = True
        num[s_idx, t_idx] = f["numerator"].fill_null(np.nan).to_numpy()
        den[s_idx, t_idx] = f["denominator"].fill_null(np.nan).to_numpy()
        obs[s_idx, t_idx] = (f["status"] == "observed").to_numpy()
        wards = keys["ward_id"].to_numpy()
        marks = np.zeros(shape, dtype=np.int32)
        for r in rebases.iter_rows(named=True):  # a handful of events
            i = int(np.searchsorted(periods.astype("datetime64[D]"), np.datetime64(r["date"], "D")))
            if 0 < i < periods.size:
                marks[wards == r["ward_id"], i] = 1
        inds = [indicator(k) for k in keys["indicator"]]
        fitted = fit_charts(
            num, den, obs, periods,
            [i.improvement_direction if i else "neutral" for i in inds],
            [i.family if i else "measure" for i in inds],
            cadence=cad, groups=np.cumsum(marks, axis=1) if marks.any() else None, covered=covered,
            xmr=xmr, settings=choice,
        )  # fmt: skip
        n = keys.height
        period = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        value, mean = np.full(n, np.nan), np.full(n, np.nan)
        for kind, cand in fitted.candidates.items():
            use = fitted.kind[cand.rows] == kind
            rows = cand.rows[use]
            if not rows.size:
                continue
            ok = ~np.isnan(cand.value[use])
            last = np.where(ok, np.arange(ok.shape[1]), -1).max(axis=1)
            has = last >= 0
            pick = np.maximum(last, 0)
            r_idx = np.arange(rows.size)
            scale = np.array(
                [1.0 if kind == "t" else display_scale(k)[0] for k in keys["indicator"].to_numpy()[rows]]
            )
            period[rows[has]] = np.asarray(cand.x[use])[r_idx, pick][has].astype("datetime64[D]")
            value[rows[has]] = cand.value[use][r_idx, pick][has] * scale[has]
            mean[rows[has]] = cand.mean[use][r_idx, pick][has] * scale[has]
        icons = [
            _icon_of(int(c), i.direction if i else "both")
            for c, i in zip(fitted.variation_icon, inds, strict=True)
        ]
        under_alert = np.array([(w, k) in under for w, k in keys.iter_rows()], dtype=bool)
        out.append(
            keys.with_columns(
                pl.Series("kind", fitted.kind.astype(str)),
                pl.Series("period", period),
                pl.Series("value", value).fill_nan(None),
                pl.Series("mean", mean).fill_nan(None),
                pl.Series("icon", [i.key for i in icons]),
                pl.Series("icon_meaning", [i.meaning for i in icons]),
                pl.Series("under_alert", under_alert),
                pl.Series("contradicts_alert", improvement_contradicts(fitted.variation_icon, under_alert)),
            )
        )
    return pl.concat(out) if out else pl.DataFrame()
