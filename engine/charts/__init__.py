"""SPC charts: XmR with Making Data Count rules, c/u/p and Laney u'/p', Anhoej run charts, icons.

Everything takes ``(S, T)`` arrays (series x periods, ``NaN`` = missing) and is vectorised across
series; see each module's docstring and ``../shared/reference/spc-methods.md`` for the sources.

* :func:`xmr_chart` - XmR chart, NHSRplotthedots 0.2.x by default (:class:`XmRSettings`);
* :func:`attribute_chart` - c, u, p, Laney u' and p' (qicharts2 formulas) with MDC rules and
  Anhoej runs (:class:`AttributeSettings`);
* :func:`run_chart`, :func:`anhoej_runs`, :func:`critical_values` - Anhoej run-chart rules;
* :func:`t_chart`, :func:`moving_range_chart` - qicharts2 T and MR charts;
* :func:`g_chart`, :func:`t_chart_with_runs`, :func:`event_intervals` - rare events (qicharts2 g, T);
* :func:`fit_charts` - the chart that fits each series (rare events: monthly, T or run charts);
* :func:`xmr_monitor` - prospective mode (limits at t from data up to t; :class:`MonitorSettings`);
* :func:`chart_panel` - every series of an :class:`engine.panel.Panel` at once.
"""

from engine.charts.anhoej import RunsResult, anhoej_runs, critical_values, run_chart
from engine.charts.attribute import AttributeResult, attribute_chart
from engine.charts.codes import (
    ASSURANCE_LABELS,
    POINT_TYPE_LABELS,
    RULE_LABELS,
    VARIATION_LABELS,
)
from engine.charts.fit import (
    CHART_KIND_LABELS,
    CHART_KINDS,
    FittedCharts,
    fit_charts,
    improvement_contradicts,
)
from engine.charts.icons import assurance_icon, variation_icon
from engine.charts.layout import build_layout, groups_from_markers
from engine.charts.monitor import MonitorResult, xmr_monitor
from engine.charts.panel_charts import PanelChart, chart_panel
from engine.charts.rare import EventChartResult, event_intervals, g_chart, t_chart_with_runs
from engine.charts.result import ChartResult
from engine.charts.settings import (
    AttributeSettings,
    ChartChoiceSettings,
    GSettings,
    MonitorSettings,
    XmRSettings,
)
from engine.charts.xmr import MovingRangeResult, moving_range_chart, t_chart, xmr_chart

__all__ = [
    "ASSURANCE_LABELS",
    "CHART_KINDS",
    "CHART_KIND_LABELS",
    "POINT_TYPE_LABELS",
    "RULE_LABELS",
    "VARIATION_LABELS",
    "AttributeResult",
    "AttributeSettings",
    "ChartChoiceSettings",
    "ChartResult",
    "EventChartResult",
    "FittedCharts",
    "GSettings",
    "MonitorResult",
    "MonitorSettings",
    "MovingRangeResult",
    "PanelChart",
    "RunsResult",
    "XmRSettings",
    "anhoej_runs",
    "assurance_icon",
    "attribute_chart",
    "build_layout",
    "chart_panel",
    "critical_values",
    "event_intervals",
    "fit_charts",
    "g_chart",
    "groups_from_markers",
    "improvement_contradicts",
    "moving_range_chart",
    "run_chart",
    "t_chart",
    "t_chart_with_runs",
    "variation_icon",
    "xmr_chart",
    "xmr_monitor",
]
