"""Measured false alerts of an in-control trust, as the calibration check counts them."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from engine.evaluate.calibration_check import measured_rates


def test_measured_rates_count_openings_with_hysteresis_per_monitored_ward_year(tmp_path):
    weeks = [dt.date(2024, 1, 1) + dt.timedelta(weeks=k) for k in range(10)]
    # ward A: concern in weeks 1-2 and again in 5 (3 quiet weeks in between: one alert with
    # close_after = 4), watch in week 8; ward B: monitored from week 5 only, never above none
    a = ["none", "concern", "urgent", "none", "none", "concern", "none", "none", "watch", "none"]
    rows = [("A", w, lvl) for w, lvl in zip(weeks, a, strict=True)] + [("B", w, "none") for w in weeks[5:]]
    pl.DataFrame(rows, schema=["ward_id", "period", "level"], orient="row").write_csv(
        tmp_path / "ward_status.csv"
    )
    m = measured_rates(tmp_path, close_after=4)
    years = 15 / 52.1775
    assert m["ward_years"] == round(years, 1)
    assert m["concern_per_ward_year"] == pytest.approx(1 / years, abs=1e-3)
    # watch or above: weeks 1-2, 5 and 8 of A are one alert (never 4 quiet weeks in a row)
    assert m["watch_per_ward_year"] == pytest.approx(1 / years, abs=1e-3)
    assert m["concern_share"] == pytest.approx(3 / 15, abs=1e-4)
    assert m["watch_share"] == pytest.approx(4 / 15, abs=1e-4)
