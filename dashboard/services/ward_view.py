"""What the ward page draws, built once per (results content, ward, indicator) and reused.

A ward page shows a few indicators with two charts each. Building an Altair chart and turning it
into a Vega-Lite spec (with schema validation) costs tens of milliseconds a chart; cached as a
JSON spec here, a repeat visit or another session pays only ``json.loads``. Specs are stored as
JSON text because Streamlit moves a spec's datasets out of the dict it is given.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from dashboard.services.formatting import MONTH_AXIS, split_list
from dashboard.services.results import Results, cached_ward_series

#: indicators charted at the top of a ward page when no open alert names them.
LEAD_INDICATORS = 5
#: weeks of history in the ward's evidence chart.
HISTORY_WEEKS = 104


@dataclass(frozen=True)
class ChartSpec:
    """A chart as Vega-Lite JSON text and its plain-English summary."""

    spec_json: str
    summary: str

    @property
    def spec(self) -> dict:
        """A fresh dict of the spec (safe to hand to Streamlit, which edits it)."""
        return json.loads(self.spec_json)


def lead_indicators(row: dict, alert: dict, present: Sequence[str]) -> tuple[list[str], list[str]]:
    """(indicators drawn first, every indicator contributing this week), strongest first.

    Drawn first: those the open ward alert's explanation names, else the strongest few
    contributing this week (``LEAD_INDICATORS`` at most).
    """
    contrib = [k for k in split_list(row.get("indicators")) if k in present]
    named = (
        [k for k in split_list(alert.get("contributing")) if k in contrib]
        if alert.get("closed") is None
        else []
    )
    return (named or contrib)[:LEAD_INDICATORS], contrib


def _month_ticks(node: object) -> None:
    """Time axes read "Jan 2024": day-level tick formats of x axes become month and year (in place)."""
    if isinstance(node, dict):
        x = node.get("x")
        axis = x.get("axis") if isinstance(x, dict) and x.get("type") == "temporal" else None
        if isinstance(axis, dict) and axis.get("format") in ("%d/%m/%Y", "%d/%m/%y", "%m/%y"):
            axis["format"] = MONTH_AXIS
        for value in node.values():
            _month_ticks(value)
    elif isinstance(node, list):
        for value in node:
            _month_ticks(value)


def _spec(chart: object) -> str:
    """Vega-Lite JSON of an Altair chart, with month ticks; legends wrap instead of truncating labels."""
    spec = chart.to_dict(validate=False)  # type: ignore[attr-defined]
    _month_ticks({k: v for k, v in spec.items() if k != "datasets"})
    legend = spec.setdefault("config", {}).setdefault("legend", {})
    legend.setdefault("labelLimit", 0)
    legend.setdefault("columns", 3)
    return json.dumps(spec)


def indicator_charts(
    results: Results, ward_id: str, key: str, series: pl.DataFrame | None = None
) -> tuple[ChartSpec, ChartSpec]:
    """(Making Data Count chart, cumulative-evidence chart) of one indicator of one ward."""
    from dashboard.components.board_charts import evidence_chart
    from dashboard.components.charts import mdc_chart

    if series is None:
        series = cached_ward_series(results, ward_id)
    events = results.events.filter(pl.col("ward_id") == ward_id)
    fitted = cached_ward_fitted(results, ward_id).get(key)  # the chart that fits the series
    mdc, mdc_text = mdc_chart(series, key, height=190, fitted=fitted)
    ev, ev_text = evidence_chart(series, key, events, height=190)
    return ChartSpec(_spec(mdc), mdc_text), ChartSpec(_spec(ev), ev_text)


def strength_chart(results: Results, ward_id: str, weeks: int = HISTORY_WEEKS) -> ChartSpec:
    """The ward's current evidence (0-100) over its last ``weeks`` weeks, coloured by level."""
    from dashboard.components.board_charts import strength_history

    hist = results.ward_status.filter(pl.col("ward_id") == ward_id).tail(weeks)
    chart, text = strength_history(hist, height=120)
    return ChartSpec(_spec(chart), text)


@functools.cache
def _strength_impl():
    import streamlit as st

    @st.cache_resource(max_entries=1024, show_spinner=False)
    def load(key: str, ward_id: str, _results: Results) -> ChartSpec:
        return strength_chart(_results, ward_id)

    return load


def cached_strength_chart(results: Results, ward_id: str) -> ChartSpec:
    """:func:`strength_chart` cached on (results content key, ward)."""
    return _strength_impl()(results.key, ward_id, results)


@functools.cache
def _charts_impl():
    import streamlit as st

    @st.cache_resource(max_entries=1024, show_spinner=False)
    def load(key: str, ward_id: str, indicator: str, _results: Results) -> tuple[ChartSpec, ChartSpec]:
        return indicator_charts(_results, ward_id, indicator)

    return load


def cached_indicator_charts(results: Results, ward_id: str, key: str) -> tuple[ChartSpec, ChartSpec]:
    """:func:`indicator_charts` cached on (results content key, ward, indicator)."""
    return _charts_impl()(results.key, ward_id, key, results)


@functools.cache
def _fitted_impl():
    import streamlit as st

    @st.cache_resource(max_entries=256, show_spinner=False)
    def load(key: str, ward_id: str, _results: Results) -> dict:
        from dashboard.components.charts import ward_charts

        return ward_charts(_results, ward_id, cached_ward_series(_results, ward_id))

    return load


def cached_ward_fitted(results: Results, ward_id: str) -> dict:
    """The chart that fits each indicator of a ward (``ward_charts``), cached on (results, ward):
    the ward page's charts and icons, the indicator summary and the briefing agree."""
    return _fitted_impl()(results.key, ward_id, results)
