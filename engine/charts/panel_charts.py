"""Chart every series of an :class:`engine.panel.Panel` in one call."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine.charts.attribute import attribute_chart
from engine.charts.result import ChartResult
from engine.charts.settings import AttributeSettings, XmRSettings
from engine.charts.xmr import xmr_chart_of
from engine.panel import Panel, distinct_keys


@dataclass(frozen=True)
class PanelChart:
    """Charts of a panel: the series keys, the periods and the :class:`ChartResult`.

    Attributes
    ----------
    ward_id, indicator:
        ``(S,)`` series keys, as in the panel.
    periods:
        ``(T,)`` ``datetime64[D]`` period starts.
    chart:
        :class:`ChartResult` (an ``AttributeResult`` for attribute charts) of ``(S, T)`` arrays.
    """

    ward_id: np.ndarray
    indicator: np.ndarray
    periods: np.ndarray
    chart: ChartResult


def improvement_for(
    indicators: np.ndarray, improvement: str | Mapping[str, str] | Sequence[str] | None
) -> np.ndarray:
    """``(S,)`` improvement labels for the panel's series.

    ``improvement`` is one label for all, a mapping ``indicator -> label``, an ``(S,)`` sequence, or
    None to take each indicator's ``improvement_direction`` from :data:`signals.CATALOGUE`
    (direction of concern up -> decrease, down -> increase, both -> neutral).
    """
    if isinstance(improvement, str):
        return np.full(len(indicators), improvement, dtype=object)
    label_of: Callable[[str], str]
    if improvement is None:
        from signals import CATALOGUE

        def catalogue_label(key: str) -> str:
            return CATALOGUE[key].improvement_direction

        label_of = catalogue_label
    elif isinstance(improvement, Mapping):
        label_of = improvement.__getitem__
    else:
        return np.asarray(improvement, dtype=object)
    keys, of_key = distinct_keys(indicators)  # each label looked up once per indicator
    return np.array([label_of(k) for k in keys], dtype=object)[of_key]


def chart_panel(
    panel: Panel,
    improvement: str | Mapping[str, str] | Sequence[str] | None = None,
    *,
    settings: XmRSettings | AttributeSettings | None = None,
    groups: np.ndarray | None = None,
    target: np.ndarray | float | None = None,
    use_rate: bool = True,
) -> PanelChart:
    """Chart every (ward, indicator) series of a panel at once.

    Parameters
    ----------
    panel:
        The dense panel; only ``OBSERVED`` cells are charted (suppressed, unknown and missing
        periods are missing, never zero).
    improvement:
        See :func:`improvement_for` (default: from the indicator catalogue).
    settings:
        :class:`XmRSettings` (default) for XmR charts of the value (the rate ``y / n`` when
        ``use_rate``), or :class:`AttributeSettings` for c / u / p / u' / p' charts of ``y`` with
        exposure ``n``.
    groups:
        Optional ``(S, T)`` rebase-group ids.
    target:
        Optional scalar or ``(S,)`` targets in chart units.
    use_rate:
        XmR only: chart ``y / n`` (True, default) or ``y``.
    """
    directions = improvement_for(panel.indicator, improvement)
    observed = panel.observed
    if isinstance(settings, AttributeSettings):
        y = np.where(observed, panel.y, np.nan)
        chart: ChartResult = attribute_chart(
            y, panel.n, directions, groups=groups, target=target, settings=settings
        )
    else:
        # the chart of np.where(observed, y / n, nan), without materialising that array
        chart = xmr_chart_of(
            panel.y,
            directions,
            denominator=panel.n if use_rate else None,
            observed=observed,
            groups=groups,
            target=target,
            settings=settings,
        )
    return PanelChart(panel.ward_id, panel.indicator, panel.periods, chart)
