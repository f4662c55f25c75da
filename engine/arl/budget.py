"""From a trust-wide false-alarm budget to a per-chart in-control ARL target.

Two ways to state a budget, with their assumptions:

* **Expected false alarms** per ward per year (e.g. 1). Each chart restarts after an alarm, so in
  the long run a chart raises ``periods_per_year / ARL0`` false alarms per year (renewal theorem).
  Expectations add whatever the dependence between charts, so with ``c`` charts per ward the
  per-chart target is ``ARL0 = c · periods_per_year / budget``. No independence assumption; the
  start-up transient (the first run from a zero start is slightly longer than later ones with a
  head start, and the same as ARL0 without one) is ignored.
* **Probability** of at least one false alarm per ward per year (family-wise, e.g. 0.1). The
  per-chart yearly probability is ``α/c`` (Bonferroni: valid under any dependence, conservative) or
  ``1 − (1 − α)^{1/c}`` (Šidák: exact for independent charts). It is converted to an ARL0 with the
  geometric approximation ``P(RL <= T) ≈ 1 − exp(−T/ARL0)`` (sequential-methods.md §1.11; close
  for CUSUM/EWMA once past the start-up transient). Check the result with the exact
  ``*_false_alarm_probability`` functions or by simulation.
"""

from __future__ import annotations

import numpy as np

#: Periods per year for the usual cadences.
PERIODS_PER_YEAR = {"weekly": 52.0, "monthly": 12.0, "quarterly": 4.0}


def arl0_for_expected_false_alarms(
    false_alarms_per_ward_year: float, charts_per_ward: int, periods_per_year: float = 52.0
) -> float:
    """Per-chart ARL0 (periods) giving the stated expected false alarms per ward-year."""
    if false_alarms_per_ward_year <= 0 or charts_per_ward < 1 or periods_per_year <= 0:
        raise ValueError("need a positive budget, at least one chart and positive periods per year")
    return charts_per_ward * periods_per_year / false_alarms_per_ward_year


def per_chart_probability(familywise: float, charts: int, method: str = "bonferroni") -> float:
    """Per-chart probability of a false alarm so that the family-wise probability is ``familywise``."""
    if not 0 < familywise < 1 or charts < 1:
        raise ValueError("need 0 < familywise < 1 and at least one chart")
    if method == "bonferroni":
        return familywise / charts
    if method == "sidak":
        return float(-np.expm1(np.log1p(-familywise) / charts))
    raise ValueError("method must be 'bonferroni' or 'sidak'")


def arl0_for_false_alarm_probability(probability: float, periods: float = 52.0) -> float:
    """ARL0 with ``1 − exp(−periods/ARL0) = probability`` (geometric run length approximation)."""
    if not 0 < probability < 1:
        raise ValueError("probability must lie in (0, 1)")
    return float(-periods / np.log1p(-probability))


def false_alarm_probability_geometric(arl0: float, periods: float = 52.0) -> float:
    """``1 − exp(−periods/ARL0)``: approximate probability of a false alarm within ``periods``."""
    return float(-np.expm1(-periods / arl0))


def arl0_for_familywise_probability(
    familywise: float, charts_per_ward: int, periods_per_year: float = 52.0, method: str = "bonferroni"
) -> float:
    """Per-chart ARL0 so that P(any false alarm in a ward within a year) <= ``familywise``."""
    return arl0_for_false_alarm_probability(
        per_chart_probability(familywise, charts_per_ward, method), periods_per_year
    )
