"""Every setting has a valid range, checked on load (and so by ``wardwatch config check``)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from engine.config import Config, config_from_mapping
from engine.ranges import RANGES, Range, check_ranges, numeric_fields_without_range
from engine.settings import SettingsError


def test_every_numeric_setting_declares_a_range() -> None:
    assert numeric_fields_without_range(Config) == []
    for key in RANGES:  # no stale entries
        cls_name, name = key.split(".")
        assert any(cls_name == type(v).__name__ for v in _settings(Config())), key
        assert any(
            name in {f.name for f in dataclasses.fields(v)}
            for v in _settings(Config())
            if type(v).__name__ == cls_name
        ), key


def _settings(obj: object) -> list[object]:
    out = [obj]
    for f in dataclasses.fields(obj):  # type: ignore[arg-type]
        v = getattr(obj, f.name)
        if dataclasses.is_dataclass(v):
            out += _settings(v)
    from engine.scoring.settings import IndicatorSettings

    out.append(IndicatorSettings())
    return out


def test_defaults_are_in_range() -> None:
    check_ranges(Config())


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"combination": {"cusum_threshold": float("nan")}}, "not a finite number"),
        ({"combination": {"cusum_threshold": -1.0}}, "out of range"),
        ({"combination": {"cusum_threshold": 0.0}}, "must be > 0"),
        ({"baselines": {"warmup_periods": 0}}, "baselines.warmup_periods = 0"),
        ({"baselines": {"update_weight": 2.0}}, "must be > 0 and <= 1"),
        ({"baselines": {"min_observed": 30}}, "no baseline could ever be ready"),
        ({"combination": {"silence_level": float("inf")}}, "silence levels"),
        ({"combination": {"provider_kappa": float("inf")}}, "not a finite number"),
        ({"indicators": {"restraint": {"threshold": 0.0}}}, "indicators.restraint.threshold"),
        ({"input": {"max_count": 0.0}}, "input.max_count"),
        ({"input": {"earliest_period": "01/01/2000"}}, "YYYY-MM-DD"),
        ({"store": {"busy_timeout_ms": -5}}, "store.busy_timeout_ms"),
        ({"store": {"synchronous": "SOMETIMES"}}, "store.synchronous"),
    ],
)
def test_out_of_range_settings_are_refused_naming_the_key(data: dict, words: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(words)):
        config_from_mapping(data, source="c.toml")


def test_a_range_can_be_declared_on_the_field_itself() -> None:
    @dataclasses.dataclass(frozen=True)
    class NewSettings:
        level: float = dataclasses.field(default=0.5, metadata={"range": Range(0, 1, low_open=True)})

    check_ranges(NewSettings())
    with pytest.raises(SettingsError, match=re.escape("level = 0.0 is out of range")):
        check_ranges(NewSettings(level=0.0))
    assert numeric_fields_without_range(NewSettings) == []
