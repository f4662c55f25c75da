"""Valid ranges of settings, declared once and checked on every load of a configuration.

A numeric setting declares its range either on its own field,
``field(default=7.0, metadata={"range": Range(0, 1000, low_open=True)})``, or in :data:`RANGES`
(``"ClassName.field"``) for settings classes that predate this module. Every float must in any case
be finite (TOML can write ``nan`` and ``inf``). :func:`check_ranges` walks a whole configuration
and raises :class:`engine.settings.SettingsError` naming the dotted key, its value and the range.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.settings import SettingsError


@dataclass(frozen=True)
class Range:
    """A closed (or, with ``low_open``/``high_open``, open) interval of valid values."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def contains(self, value: float) -> bool:
        """Whether ``value`` (finite) lies in the interval."""
        above = value > self.low if self.low_open else value >= self.low
        below = value < self.high if self.high_open else value <= self.high
        return above and below

    def describe(self) -> str:
        """E.g. ``a number > 0 and <= 1000``."""
        lo = f"> {self.low:g}" if self.low_open else f">= {self.low:g}"
        hi = f"< {self.high:g}" if self.high_open else f"<= {self.high:g}"
        return f"{lo} and {hi}"


def _r(low: float, high: float, lo_open: bool = False, hi_open: bool = False) -> Range:
    return Range(low, high, lo_open, hi_open)


_POSITIVE_NATS = _r(0, 1000, lo_open=True)
_LEVEL = _r(0, 1, lo_open=True, hi_open=True)
_PERIODS = _r(1, 520)

#: Ranges of the settings classes' numeric fields, by ``ClassName.field``.
RANGES: dict[str, Range] = {
    # engine.baselines.BaselineSettings
    "BaselineSettings.warmup_periods": _r(2, 520),
    "BaselineSettings.min_observed": _PERIODS,
    "BaselineSettings.update_weight": _r(0, 1, lo_open=True),
    "BaselineSettings.guard_periods": _r(0, 520),
    "BaselineSettings.min_group_size": _r(1, 100_000),
    "BaselineSettings.seasonal_harmonics": _r(0, 6),
    "BaselineSettings.periods_per_year": _r(0, 366, lo_open=True),
    "BaselineSettings.seasonal_fit_periods": _r(1, 5200),
    "BaselineSettings.zero_rate_events": _r(0, 100, lo_open=True),
    # engine.scoring.settings.CombinationSettings
    "CombinationSettings.cusum_threshold": _POSITIVE_NATS,
    "CombinationSettings.domain_threshold": _POSITIVE_NATS,
    "CombinationSettings.concern_threshold": _POSITIVE_NATS,
    "CombinationSettings.urgent_threshold": _POSITIVE_NATS,
    "CombinationSettings.silence_level": _LEVEL,
    "CombinationSettings.data_silence_level": _LEVEL,
    "CombinationSettings.data_silence_min_run": _PERIODS,
    "CombinationSettings.close_after": _PERIODS,
    "CombinationSettings.provider_kappa": _r(0, 1e6),
    "CombinationSettings.provider_min_wards": _r(1, 100_000),
    "CombinationSettings.provider_share": _r(0, 1, lo_open=True),
    "CombinationSettings.provider_min_ratio": _r(1, 100),
    "CombinationSettings.provider_threshold": _POSITIVE_NATS,
    "CombinationSettings.target_false_concern_per_ward_year": _r(0, 52, lo_open=True),
    "CombinationSettings.target_false_indicator_alerts_per_ward_year": _r(0, 52, lo_open=True),
    "CombinationSettings.calibration_replicates": _r(1, 10_000),
    "CombinationSettings.calibration_seed": _r(0, 2**63 - 1),
    "CombinationSettings.measure_min_dispersion": _r(0, 1e6, lo_open=True),
    "CombinationSettings.max_explained_indicators": _r(1, 100),
    # engine.scoring.settings.IndicatorSettings
    "IndicatorSettings.rate_ratio_up": _r(1, 100, lo_open=True),
    "IndicatorSettings.rate_ratio_down": _LEVEL,
    "IndicatorSettings.odds_ratio_up": _r(1, 100, lo_open=True),
    "IndicatorSettings.odds_ratio_down": _LEVEL,
    "IndicatorSettings.threshold": _POSITIVE_NATS,
    "IndicatorSettings.weight": _r(0, 100),
    # engine.charts.XmRSettings / MonitorSettings
    "XmRSettings.multiplier": _r(0, 100, lo_open=True),
    "XmRSettings.screen_multiplier": _r(0, 100, lo_open=True),
    "XmRSettings.run_length": _r(2, 100),
    "XmRSettings.trend_length": _r(2, 100),
    "XmRSettings.fix_after_n_points": _r(12, 10_000),
    "XmRSettings.min_points": _r(2, 10_000),
    "MonitorSettings.warm_up": _r(2, 10_000),
    "MonitorSettings.min_points": _r(2, 10_000),
    # engine.changepoint.ChangePointSettings
    "ChangePointSettings.penalty_value": _r(0, 1e9),
    "ChangePointSettings.min_size": _r(1, 10_000),
    "ChangePointSettings.sigma": _r(0, 1e9),
    "ChangePointSettings.rebase_ratio": _r(1, 1000, lo_open=True),
    "ChangePointSettings.rebase_shift_sd": _r(0, 1000),
    # engine.store.StoreSettings
    "StoreSettings.busy_timeout_ms": _r(0, 3_600_000),
    # settings added with issue 26 (detection), 21 (real data), 24 (charts) and 22 (triage)
    "BaselineSettings.uncertainty_periods": _r(0, 520),
    "BaselineSettings.persistence_periods": _r(0, 52),
    "CombinationSettings.watch_threshold": _POSITIVE_NATS,
    "CombinationSettings.provider_window": _PERIODS,
    "CombinationSettings.provider_gate_share": _r(0, 1, lo_open=True),
    "CombinationSettings.provider_trim": _r(0, 0.5, hi_open=True),
    "CombinationSettings.target_watch_share": _LEVEL,
    "CombinationSettings.target_false_watch_per_ward_year": _r(0, 52, lo_open=True),
    "CombinationSettings.target_decoy_escalation": _LEVEL,
    "CombinationSettings.calibration_decoy_share": _r(0, 1, hi_open=True),
    "CombinationSettings.calibration_decoy_ratio": _r(1, 100, lo_open=True),
    "CombinationSettings.calibration_decoy_weeks": _PERIODS,
    "CombinationSettings.adaptive_lambda": _r(0, 1, lo_open=True),
    "CombinationSettings.adaptive_min_ratio": _r(1, 100, lo_open=True),
    "CombinationSettings.adaptive_max_ratio": _r(1, 100, lo_open=True),
    "CombinationSettings.adaptive_prior_events": _r(0, 1000, lo_open=True),
    "CombinationSettings.domain_window": _r(0, 520),
    "CombinationSettings.mixture_p0": _r(0, 1, lo_open=True),
    "CombinationSettings.concern_balance": _r(1, 2, hi_open=True),
    "CombinationSettings.concern_floor": _POSITIVE_NATS,
    "CombinationSettings.concern_cap": _POSITIVE_NATS,
    "CombinationSettings.concern_gate": _r(0, 100, lo_open=True),
    "ChartChoiceSettings.collapse_ratio": _r(0, 1),
    "ChartChoiceSettings.max_zero_share": _r(0, 1),
    "ChartChoiceSettings.min_points": _r(2, 520),
    "ChartChoiceSettings.min_events": _r(1, 10_000),
    "PeerSilence.level": _LEVEL,
    "PeerSilence.min_run": _PERIODS,
    "PeerSilence.min_run_monthly": _r(1, 120),
    "PeerSilence.min_peer_share": _r(0, 1),
    "PeerSilence.min_peers": _r(1, 100_000),
    "PeerSilence.suppressed_below": _r(1, 1000),
    "PeerSilence.min_dispersion": _r(0, 100),
    "PeerSilence.max_dispersion": _r(0, 100, lo_open=True),
    "PeerSilence.min_peer_events": _r(0, 1e6),
    "PeerSilence.min_gap": _PERIODS,
    "PeerSilence.fold": _r(1, 1000, lo_open=True),
    "PeerSilence.level_discontinuity": _LEVEL,
    "RetrospectiveSettings.min_segment_weeks": _r(2, 520),
    "RetrospectiveSettings.min_segment_months": _r(1, 120),
    "RetrospectiveSettings.silence_level": _LEVEL,
    "RetrospectiveSettings.min_change_ratio": _r(1, 1000, lo_open=True),
    "StoreSettings.ended_before_triage_days": _r(0, 3660),
}


def range_of(cls: type, f: dataclasses.Field) -> Range | None:
    """The declared range of field ``f`` of settings class ``cls`` (its metadata first)."""
    declared = f.metadata.get("range")
    if isinstance(declared, Range):
        return declared
    return RANGES.get(f"{cls.__name__}.{f.name}")


def check_ranges(obj: Any, where: str = "") -> None:
    """Refuse any numeric setting of ``obj`` (nested settings, dicts of settings) outside its range.

    Raises
    ------
    SettingsError
        Naming the dotted key, the value and the valid range.
    """
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            check_ranges(v, f"{where}.{k}" if where else str(k))
        return
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        return
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        key = f"{where}.{f.name}" if where else f.name
        if dataclasses.is_dataclass(value) or isinstance(value, Mapping):
            check_ranges(value, key)
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if isinstance(value, float) and not math.isfinite(value):
            raise SettingsError(f"{key} = {value} is not a finite number")
        rng = range_of(type(obj), f)
        if rng is not None and not rng.contains(float(value)):
            raise SettingsError(f"{key} = {value!r} is out of range: it must be {rng.describe()}")


def numeric_fields_without_range(cls: type, where: str = "") -> list[str]:
    """Dotted names of ``int``/``float`` fields of ``cls`` (and nested settings) with no declared range."""
    import typing

    out: list[str] = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        key = f"{where}.{f.name}" if where else f.name
        if dataclasses.is_dataclass(tp):
            out += numeric_fields_without_range(tp, key)  # type: ignore[arg-type]
            continue
        if typing.get_origin(tp) in (dict, Mapping):  # tables of values (provenance), not settings
            continue
        args = set(typing.get_args(tp)) or {tp}
        if args & {int, float} and range_of(cls, f) is None:
            out.append(f"{cls.__name__}.{f.name}")
    return out
