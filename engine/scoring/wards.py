"""Ward-level evidence on the weekly grid: domain CUSUMs, levels, contributions.

Monthly series (workforce) contribute their LLR increments spread over the weeks whose Monday falls in
the month; their alarms hold over those weeks. When a dataset has no weekly series at all (e.g. the
monthly MHSDS provider data) the ward grid is monthly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.combine.cadence import carry_flags_to_weeks, month_of_week, spread_monthly_to_weeks
from engine.combine.domains import culture_total_blocks, domain_statistic_blocks
from engine.combine.levels import LevelThresholds, ward_levels
from engine.combine.rowgroups import group_any
from engine.scoring.indicators import SeriesScores
from engine.scoring.settings import CombinationSettings
from signals import CULTURE_DOMAINS


@dataclass(frozen=True)
class WardEvidence:
    """Ward x period results on the ward grid (``W`` wards, ``T`` periods).

    Attributes
    ----------
    ward_id:
        ``(W,)`` ward ids (sorted).
    periods:
        ``(T,)`` ``datetime64[D]`` grid (weeks, or months for monthly-only data).
    cadence:
        ``weekly`` or ``monthly``.
    domain_stat:
        ``(W, 4, T)`` culture-domain joint CUSUMs (nats), in ``CULTURE_DOMAINS`` order.
    domain_since:
        ``(W, 4, T)`` last period each domain statistic was zero (-1: never).
    culture_total:
        ``(W, T)`` one joint CUSUM over every culture indicator's increments (nats; window-limited
        like the domain statistics): the strength of the ``gated_total`` concern rule.
    data_silence:
        ``(W, T)`` bool: some series of the ward is in a data-silence alarm.
    single_alarm:
        ``(W, T)`` bool: some indicator alert condition holds.
    level, score:
        ``(W, T)`` level code and score.
    first_period:
        ``(W,)`` first grid period with any data for the ward.
    series_map:
        For each cadence, ``(S,)`` ward index of each series and ``(T,)`` index of the source period
        for each grid period (-1 when none), to look series values up at a grid period.
    contribution:
        For each cadence, ``(S, T)`` each series' summed increments (on the ward grid) since its
        domain statistic last stood at zero.
    alarm, data_silence_series:
        For each cadence, ``(S, T)`` each series' indicator-alert condition and data-silence alarm on
        the ward grid (monthly flags held over the weeks starting in their month).
    """

    ward_id: np.ndarray
    periods: np.ndarray
    cadence: str
    domain_stat: np.ndarray
    domain_since: np.ndarray
    culture_total: np.ndarray
    data_silence: np.ndarray
    single_alarm: np.ndarray
    level: np.ndarray
    score: np.ndarray
    first_period: np.ndarray
    series_ward: dict[str, np.ndarray]
    grid_to_series_period: dict[str, np.ndarray]
    contribution: dict[str, np.ndarray]
    alarm: dict[str, np.ndarray]
    data_silence_series: dict[str, np.ndarray]


def level_thresholds(combination: CombinationSettings) -> LevelThresholds:
    """The level thresholds of the combination settings (an unset threshold never fires)."""
    return LevelThresholds(
        np.inf if combination.domain_threshold is None else combination.domain_threshold,
        combination.concern_threshold,
        combination.urgent_threshold,
        np.inf if combination.watch_threshold is None else combination.watch_threshold,
        combination.concern_rule,
        RULE_PARAMETER[combination.concern_rule](combination),
    )


#: The parameter of each concern rule (``engine.combine.levels.constellation_strength``).
RULE_PARAMETER = {
    "second": lambda c: 1.0,
    "balanced": lambda c: c.concern_balance,
    "top_two": lambda c: c.concern_floor,
    "capped_sum": lambda c: c.concern_cap,
    "gated_total": lambda c: c.concern_gate,
}


def _to_grid(scores: SeriesScores, grid: np.ndarray, grid_cadence: str) -> np.ndarray:
    """``(T_grid,)`` index of the series period covering each grid period (-1 when none)."""
    periods = scores.panel.periods
    if scores.panel.cadence == grid_cadence:
        idx = np.searchsorted(periods, grid)
        ok = (idx < len(periods)) & (periods[np.minimum(idx, len(periods) - 1)] == grid)
        return np.where(ok, idx, -1)
    return month_of_week(grid, periods)


def ward_evidence(
    parts: dict[str, SeriesScores], combination: CombinationSettings, ward_ids: np.ndarray | None = None
) -> WardEvidence:
    """Combine the cadence parts (``{"weekly": ..., "monthly": ...}``) into ward-level evidence."""
    grid_cadence = "weekly" if "weekly" in parts else "monthly"
    grid = parts[grid_cadence].panel.periods
    if ward_ids is None:
        ward_ids = np.unique(np.concatenate([p.panel.ward_id for p in parts.values()]))
    w_count, t_count = len(ward_ids), len(grid)
    dom_index = {d: i for i, d in enumerate(CULTURE_DOMAINS)}

    blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # (z, ward, domain) per cadence
    series_ward: dict[str, np.ndarray] = {}
    to_grid: dict[str, np.ndarray] = {}
    single = np.zeros((w_count, t_count), dtype=bool)
    silence = np.zeros((w_count, t_count), dtype=bool)
    first = np.full(w_count, t_count, dtype=np.int64)
    alarm_grid: dict[str, np.ndarray] = {}
    silence_grid: dict[str, np.ndarray] = {}
    for cadence, sc in parts.items():
        ward = np.searchsorted(ward_ids, sc.panel.ward_id)
        series_ward[cadence] = ward
        g = _to_grid(sc, grid, grid_cadence)
        to_grid[cadence] = g
        if cadence == grid_cadence:
            z = sc.z_closure
            alarm, dsil = sc.indicator_alarm, sc.data_silence_alarm
        else:
            z = spread_monthly_to_weeks(sc.z_closure, sc.panel.periods, grid)
            alarm = carry_flags_to_weeks(sc.indicator_alarm, sc.panel.periods, grid)
            dsil = carry_flags_to_weeks(sc.data_silence_alarm, sc.panel.periods, grid)
        alarm_grid[cadence], silence_grid[cadence] = alarm, dsil
        group_any(alarm, ward, w_count, out=single)
        group_any(dsil, ward, w_count, out=silence)
        blocks.append((z, ward, np.array([dom_index.get(d, -1) for d in sc.domain], dtype=np.int64)))
        # first grid period of each ward with any row
        fp = sc.panel.first_period()
        has = fp < len(sc.panel.periods)
        if has.any():
            start_dates = sc.panel.periods[np.minimum(fp, len(sc.panel.periods) - 1)]
            gi = np.searchsorted(grid, start_dates)  # first grid period on/after the series start
            np.minimum.at(first, ward[has], gi[has])

    domain_stat, domain_since, contributions = domain_statistic_blocks(
        blocks,
        w_count,
        len(CULTURE_DOMAINS),
        combination.domain_rule,
        combination.mixture_p0,
        combination.domain_window,
    )
    culture_total = culture_total_blocks(
        blocks, w_count, combination.domain_window, combination.domain_rule, combination.mixture_p0
    )
    thresholds = level_thresholds(combination)
    raises_watch = single if combination.watch_on_indicator_alerts else np.zeros_like(single)
    level, score = ward_levels(domain_stat, raises_watch, thresholds, total=culture_total)
    before = np.arange(t_count)[None, :] < first[:, None]
    level[before] = 0
    contribution = dict(zip(parts, contributions, strict=True))
    return WardEvidence(
        ward_id=ward_ids,
        periods=grid,
        cadence=grid_cadence,
        domain_stat=domain_stat,
        domain_since=domain_since,
        culture_total=culture_total,
        data_silence=silence,
        single_alarm=single,
        level=level,
        score=score,
        first_period=first,
        series_ward=series_ward,
        grid_to_series_period=to_grid,
        contribution=contribution,
        alarm=alarm_grid,
        data_silence_series=silence_grid,
    )
