"""Kernels, method conditions from series.parquet, oracle pieces, grid parsing, config rendering."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib

import numpy as np
import polars as pl
import pytest

from engine.alerting import alert_episodes
from engine.cli import main
from engine.config import Config, config_from_mapping
from engine.detectors.scores import poisson_llr
from engine.evaluate.configdoc import render_config
from engine.evaluate.grid import grid_from_status
from engine.evaluate.methods import series_conditions
from engine.evaluate.metrics import openings, quantile
from engine.evaluate.oracle import (
    SeriesArrays,
    calibrate_threshold,
    cusum,
    false_alerts_by_threshold,
    true_llr,
)
from engine.evaluate.sweep import parse_grid
from engine.settings import SettingsError
from signals import CATALOGUE
from tests.evaluate.helpers import week


@pytest.mark.parametrize("close_after", [1, 2, 4])
def test_openings_match_scoring_alert_episodes(close_after):
    rng = np.random.default_rng(3)
    cond = rng.random((200, 120)) < 0.15
    ep = alert_episodes(cond, close_after)
    expected = np.zeros_like(cond)
    expected[ep.row, ep.start] = True
    assert np.array_equal(openings(cond, close_after), expected)


def test_quantile_order_statistic_with_inf():
    assert quantile(np.array([2.0, 3.0, np.inf, np.inf]), 0.5) == 3.0
    assert quantile(np.array([2.0, np.inf, np.inf]), 0.5) == np.inf


def _status(wards, weeks):
    return pl.DataFrame(
        [{"ward_id": w, "period": week(t).isoformat(), "level": "none"} for w in wards for t in range(weeks)]
    )


def _series_rows(**kw):
    base = {
        "cusum_up": np.nan,
        "cusum_down": np.nan,
        "cusum_threshold": 7.0,
        "ewma": 0.0,
        "ewma_lcl": -1.0,
        "ewma_ucl": 1.0,
        "silence_prob": 1.0,
        "indicator_alarm": False,
        "mdc_concern": False,
    }
    base.update(kw)
    return base


def test_series_conditions_rules():
    grid = grid_from_status(_status(["A", "B"], 10))
    rows = [
        {
            "ward_id": "A",
            "indicator": "restraint",
            "period": week(2),
            "cadence": "weekly",
            **_series_rows(cusum_up=8.0),
        },
        # NaN statistics never flag (polars orders NaN above every number)
        {"ward_id": "A", "indicator": "restraint", "period": week(3), "cadence": "weekly", **_series_rows()},
        # complaints fall is of concern: ewma below its lower limit flags, above the upper does not
        {
            "ward_id": "A",
            "indicator": "complaints",
            "period": week(4),
            "cadence": "weekly",
            **_series_rows(ewma=-2.0),
        },
        {
            "ward_id": "A",
            "indicator": "complaints",
            "period": week(5),
            "cadence": "weekly",
            **_series_rows(ewma=2.0),
        },
        {
            "ward_id": "B",
            "indicator": "complaints",
            "period": week(6),
            "cadence": "weekly",
            **_series_rows(silence_prob=1e-4),
        },
        # a monthly MDC concern holds over the weeks whose Monday falls in that month (Feb 2023)
        {
            "ward_id": "B",
            "indicator": "staff_turnover",
            "period": dt.date(2023, 2, 1),
            "cadence": "monthly",
            **_series_rows(mdc_concern=True),
        },
    ]
    series = pl.DataFrame(rows).with_columns(pl.col("period").cast(pl.Date))
    c = series_conditions(grid, series, CATALOGUE, silence_level=1e-3)
    assert np.nonzero(c["cusum"])[0].tolist() == [0] and np.nonzero(c["cusum"][0])[0].tolist() == [2]
    assert np.nonzero(c["ewma"][0])[0].tolist() == [4] and not c["ewma"][1].any()
    assert np.nonzero(c["silence"][1])[0].tolist() == [6]
    feb = [t for t in range(10) if week(t).month == 2]
    assert np.nonzero(c["mdc"][1])[0].tolist() == feb and not c["mdc"][0].any()


def test_cusum_recursion():
    z = np.array([[1.0, -3.0, 2.0, 2.0, -1.0]])
    assert cusum(z).tolist() == [[1.0, 0.0, 2.0, 4.0, 3.0]]


def test_true_llr_poisson_and_missing():
    y = np.array([[3.0, np.nan]])
    a = SeriesArrays(
        "count", "weekly", np.zeros(2), y, np.array([[10.0, 10.0]]), np.array([[0.2, 0.2]]), np.zeros((1, 2))
    )
    z = true_llr(a, 1.5)
    assert z[0, 0] == pytest.approx(3 * np.log(1.5) + (1 - 1.5) * 2.0) and z[0, 1] == 0.0
    nb = SeriesArrays("count", "weekly", np.zeros(2), y, a.n, a.rate, np.full((1, 2), 0.3))
    assert true_llr(nb, 1.5)[0, 0] == pytest.approx(
        poisson_llr(y, a.rate * a.n, 1.5, "count", nb.dispersion)[0, 0]
    )


def test_calibration_meets_target_minimally():
    rng = np.random.default_rng(5)
    stat = cusum(rng.normal(-0.5, 1.0, size=(300, 150)))
    outside = np.ones_like(stat, dtype=bool)
    targets = np.array([0, 5, 20])
    h, counts = calibrate_threshold(stat, outside, targets, close_after=4)
    for k, target in enumerate(targets):
        assert counts[k] <= target
        assert false_alerts_by_threshold(stat, outside, np.array([h[k]]), 4)[0] <= target
        if target > 0:  # a clearly lower threshold exceeds the target: the search is not lazy
            assert false_alerts_by_threshold(stat, outside, np.array([h[k] * 0.8]), 4)[0] > target


def test_parse_grid_product_and_validation():
    pts = parse_grid("combination.concern_threshold=3,4 combination.close_after=2,4,6")
    assert len(pts) == 6 and len({p.id for p in pts}) == 6
    assert pts[0].apply(Config()).combination.concern_threshold == 3.0
    with pytest.raises(SettingsError, match=r"combination\.concern_treshold"):
        parse_grid("combination.concern_treshold=3")
    with pytest.raises(SettingsError, match="close_after"):
        parse_grid("combination.close_after=0")


def test_render_config_round_trip_and_docs():
    cfg = (
        Config().replace("combination.concern_threshold", 4.5).replace("indicators.restraint.threshold", 6.0)
    )
    text = render_config(cfg)
    assert config_from_mapping(tomllib.loads(render_config(cfg, all_indicators=False))) == cfg
    full = config_from_mapping(tomllib.loads(text))  # every indicator listed: same effective settings
    assert dataclasses.replace(full, indicators={}) == dataclasses.replace(cfg, indicators={})
    assert all(full.indicator(k) == cfg.indicator(k) for k in CATALOGUE)
    for line in text.splitlines():
        if (
            line.startswith("concern_threshold")
            or line.startswith("warmup_periods")
            or line.startswith("warm_up")
        ):
            assert "  # " in line  # every documented key carries its comment
    assert "# threshold =   (unset)" in render_config(Config())


def test_config_cli(tmp_path, capsys):
    assert main(["config", "write", str(tmp_path / "c.toml")]) == 0
    assert main(["config", "write", str(tmp_path / "c.toml")]) == 2
    assert main(["config", "check", str(tmp_path / "c.toml")]) == 0
    assert "0 setting(s) differ" in capsys.readouterr().out
    (tmp_path / "bad.toml").write_text("[combination]\nconcern_treshold = 3\n")
    assert main(["config", "check", str(tmp_path / "bad.toml")]) == 2
    assert (
        "combination.concern_treshold (did you mean combination.concern_threshold?)"
        in capsys.readouterr().err
    )
    assert main(["config", "show"]) == 0
    assert "[indicators.restraint]" in capsys.readouterr().out
