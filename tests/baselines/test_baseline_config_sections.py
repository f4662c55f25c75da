"""A partial ``[baselines_monthly]`` table keeps the monthly defaults for the keys it does not set."""

from __future__ import annotations

from engine.config import MONTHLY_BASELINES, Config, config_from_mapping


def test_partial_monthly_table_starts_from_the_monthly_defaults():
    cfg = config_from_mapping({"baselines_monthly": {"cold_start": False}})
    assert cfg.baselines_monthly.cold_start is False
    assert cfg.baselines_monthly.warmup_periods == MONTHLY_BASELINES.warmup_periods == 12
    assert cfg.baselines_monthly.periods_per_year == 12.0
    weekly = config_from_mapping({"baselines": {"warmup_periods": 30}})
    assert weekly.baselines.warmup_periods == 30 and weekly.baselines_monthly == Config().baselines_monthly
