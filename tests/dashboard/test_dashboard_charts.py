"""The chart that fits each series, on a whole scored trust: no collapsed limits, no unexplained icon
that contradicts an open alert, captions that describe the points."""

from __future__ import annotations

import polars as pl
import pytest

from dashboard.components.charts import DISAGREE, chart_audit, chart_summary, fit_ward_charts
from dashboard.services.results import load_results


@pytest.fixture(scope="module")
def audit(fixture_paths) -> pl.DataFrame:
    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    return chart_audit(res)


def test_no_chart_on_the_trust_shows_collapsed_limits(audit):
    assert audit.height > 300
    # the weekly XmR charts of the results do collapse for rare events: the check can fail
    assert audit["weekly_collapsed"].sum() > 50
    assert audit["collapsed"].sum() == 0
    kinds = set(audit["kind"].to_list())
    assert {"xmr", "xmr_month", "t", "run"} <= kinds


def test_no_improvement_icon_contradicts_an_open_alert_without_saying_why(audit):
    assert audit["under_alert"].sum() > 0
    bad = audit.filter(pl.col("contradicts_alert") & ~pl.col("explained"))
    assert bad.is_empty(), bad


def test_captions_describe_the_points_and_the_disagreement(fixture_paths):
    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    series = pl.read_parquet(fixture_paths.results_dir / "series.parquet").filter(
        pl.col("cadence") == "weekly"
    )
    busy = (
        series.filter(pl.col("point_type") == "special_cause_concern")
        .group_by("ward_id", "indicator")
        .len()
        .sort("len", descending=True)
        .row(0, named=True)
    )
    mine = series.filter((pl.col("ward_id") == busy["ward_id"]) & (pl.col("indicator") == busy["indicator"]))
    fc = fit_ward_charts(mine)[busy["indicator"]]
    text = chart_summary(fc)
    n_concern = int((fc.frame["point_type"] == "special_cause_concern").sum())
    if n_concern:
        assert f"{n_concern} special cause of concern" in text
        assert "common cause variation: no sign of change" not in text
    # an improvement icon on an indicator under alert carries the explanation
    forced = fit_ward_charts(mine, under_alert={busy["indicator"]})[busy["indicator"]]
    assert (DISAGREE in chart_summary(forced)) == forced.icon.key.startswith("improvement")
    assert res.latest.height == 20


def test_chart_choice_follows_the_runs_configuration(fixture_paths):
    import dataclasses
    import json

    from dashboard.components.charts import run_chart_settings, ward_charts
    from dashboard.services.results import ward_series
    from engine.charts.settings import ChartChoiceSettings

    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    assert (
        run_chart_settings(json.dumps(res.run.get("config", {}), sort_keys=True))[1] == ChartChoiceSettings()
    )
    assert run_chart_settings(json.dumps({"chart_choice": {"nope": 1}}))[1] == ChartChoiceSettings()
    loose = {**res.run.get("config", {}), "chart_choice": {"max_zero_share": 1.0, "collapse_ratio": 0.0}}
    series = ward_series(res, fixture_paths.episode_ward)
    default = ward_charts(res, fixture_paths.episode_ward, series)
    relaxed = ward_charts(
        dataclasses.replace(res, run={**res.run, "config": loose}), fixture_paths.episode_ward, series
    )
    n_weekly = sum(fc.kind == "xmr" for fc in default.values())
    assert sum(fc.kind == "xmr" for fc in relaxed.values()) > n_weekly


def test_short_and_empty_series_say_so_instead_of_drawing_limits():
    import datetime as dt

    weeks = [dt.date(2024, 1, 1) + dt.timedelta(weeks=i) for i in range(30)]

    def frame(key: str, counts: list[float]) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "ward_id": "W",
                "indicator": key,
                "period": weeks[: len(counts)],
                "cadence": "weekly",
                "numerator": counts,
                "denominator": 100.0,
                "status": "observed",
            }
        )

    short = fit_ward_charts(frame("restraint", [2.0]))["restraint"]
    assert short.kind == "none" and "too little data to chart yet" in chart_summary(short)
    never = fit_ward_charts(frame("prone_restraint", [0.0] * 30))["prone_restraint"]
    assert never.kind == "run" and not never.has_limits
    assert "no events recorded" in chart_summary(never)
    assert never.icon.key == "no_icon"


def test_trust_wide_summary_agrees_with_the_ward_pages(fixture_paths, audit):
    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    from dashboard.components.charts import indicator_summary

    table = indicator_summary(res, pl.read_parquet(fixture_paths.results_dir / "series.parquet"))
    both = table.join(audit, on=["ward_id", "indicator"], suffix="_page")
    assert both.height == audit.height == table.height
    assert (both["kind"] == both["kind_page"]).all()
    assert (both["under_alert"] == both["under_alert_page"]).all()
    # the table flags the same contradictions as the pages, and every one of them is explained there
    assert table["contradicts_alert"].sum() == audit["contradicts_alert"].sum()
    assert table.filter(pl.col("kind") != "none")["value"].null_count() == 0
