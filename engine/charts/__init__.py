"""SPC charts: XmR with Making Data Count rules, c/u/p and Laney u'/p', Anhoej run charts, icons.

Everything takes ``(S, T)`` arrays (series x periods, ``NaN`` = missing) and is vectorised across
series. See ``docs`` in each module and ``../shared/reference/spc-methods.md`` for the sources.
"""

from engine.charts.codes import (
    ASSURANCE_LABELS,
    POINT_TYPE_LABELS,
    RULE_LABELS,
    VARIATION_LABELS,
)
from engine.charts.layout import build_layout, groups_from_markers
from engine.charts.result import ChartResult
from engine.charts.settings import AttributeSettings, MonitorSettings, XmRSettings
from engine.charts.xmr import xmr_chart

__all__ = [
    "ASSURANCE_LABELS",
    "POINT_TYPE_LABELS",
    "RULE_LABELS",
    "VARIATION_LABELS",
    "AttributeSettings",
    "ChartResult",
    "MonitorSettings",
    "XmRSettings",
    "build_layout",
    "groups_from_markers",
    "xmr_chart",
]
