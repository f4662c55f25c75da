"""Threshold lab trade-off: the evaluation harness on a small benchmark, its cache, saving the config."""

from __future__ import annotations

import json
import shutil

import polars as pl
import pytest

from dashboard.services.lab_sweep import (
    LabBenchmarkSettings,
    parse_thresholds,
    point_config,
    run_lab_sweep,
    scaled_scenarios,
    sweep_folders,
)
from engine.config import Config, load_config

SMALL = LabBenchmarkSettings(wards=40, weeks=156, seed=7, bootstrap_replicates=100)


def _rows(chart) -> list[dict]:  # type: ignore[no-untyped-def]
    import pyarrow as pa

    out: list[dict] = []
    for ds in chart.proto.datasets:
        out.extend(pa.ipc.open_stream(ds.data.data).read_all().to_pylist())
    return out


def test_scenarios_scale_with_wards_and_thresholds_parse():
    assert scaled_scenarios(300).startswith("closed_culture=23,concealment=8,")
    s40 = dict(item.split("=") for item in scaled_scenarios(40).split(","))
    assert s40["closed_culture"] == "3" and s40["winter_pressure"] == "1" and min(map(int, s40.values())) >= 1
    assert parse_thresholds("5, 3;4 4") == [3.0, 4.0, 5.0]
    with pytest.raises(ValueError, match="'x' is not a number"):
        parse_thresholds("3, x")
    with pytest.raises(ValueError, match="outside"):
        parse_thresholds("9", high=8.75)
    with pytest.raises(ValueError):
        LabBenchmarkSettings(wards=5)
    with pytest.raises(ValueError, match="156 to 260 weeks"):
        LabBenchmarkSettings(weeks=104)


def test_sweep_matches_the_harness_and_reruns_from_the_cache(tmp_path):
    base = Config()
    sweep = run_lab_sweep(tmp_path, SMALL, base, [4.5, 3.0])
    assert sweep.computed == 2 and sweep.table["concern_threshold"].to_list() == [3.0, 4.5]
    # the table is the harness's own sweep.csv (wardwatch concern rows), nothing recomputed here
    raw = pl.read_csv(sweep.sweep_dir / "sweep.csv").filter(pl.col("method") == "wardwatch")
    raw = raw.sort("combination.concern_threshold")
    assert sweep.table["false_alerts_per_ward_year"].to_list() == pytest.approx(
        raw["false_alerts_per_ward_year"].to_list()
    )
    assert sweep.table["detected"].to_list() == raw["detected"].to_list()
    # each point was scored with the base configuration and only its threshold changed
    for pid, c in zip(sweep.table["point"], sweep.table["concern_threshold"], strict=True):
        cfg = load_config(sweep.sweep_dir / "points" / pid / "config.toml")
        assert cfg == point_config(base, c)
        assert not (sweep.sweep_dir / "points" / pid / "results" / "series.parquet").exists()
    stamp = (sweep.sweep_dir / "points" / sweep.table["point"][0] / "evaluation" / "evaluation.json").stat()
    again = run_lab_sweep(tmp_path, SMALL, base, [3.0, 4.5])
    assert again.computed == 0 and again.table.equals(sweep.table)
    after = (again.sweep_dir / "points" / again.table["point"][0] / "evaluation" / "evaluation.json").stat()
    assert after.st_mtime_ns == stamp.st_mtime_ns
    # a base differing only in the swept key shares the folder; any other change does not
    assert sweep_folders(tmp_path, SMALL, point_config(base, 4.0), ["combination.concern_threshold"]) == (
        sweep.data_dir,
        sweep.sweep_dir,
    )
    other = base.replace("combination.cusum_threshold", 6.0)
    assert sweep_folders(tmp_path, SMALL, other, ["combination.concern_threshold"])[1] != sweep.sweep_dir


def test_lab_page_runs_benchmark_shows_tradeoff_and_saves_full_config(
    app_env, fixture_paths, tmp_path, monkeypatch
):
    data = tmp_path / "data"
    shutil.copytree(fixture_paths.data_dir, data)
    monkeypatch.setenv("WARDWATCH_DATA", str(data))
    monkeypatch.setenv("WARDWATCH_RESULTS", str(data / "results"))
    at = app_env("demo-researcher")
    at.run()
    at.switch_page("app_pages/lab.py").run()
    assert any("Choose the thresholds and run the benchmark" in i.value for i in at.info)
    # the default grid stops at the urgent threshold (6.75 nats by default)
    assert at.text_input(key="lab_b_concern").value == "3, 3.5, 4, 4.5, 5, 6"
    at.number_input(key="lab_b_wards").set_value(40)
    at.text_input(key="lab_b_concern").input("3, 4")
    at.button[-1].click()  # the form's submit button
    at.run(timeout=120)
    assert not at.exception
    chart = next(
        c
        for c in at.get("vega_lite_chart")
        if "false concern alerts" in json.dumps(json.loads(c.proto.spec)).lower()
    )
    pts = [r for r in _rows(chart) if "concern_threshold" in r]
    assert {r["concern_threshold"] for r in pts} == {3.0, 4.0}
    table = at.dataframe[-1].value
    assert list(table["Concern threshold (nats)"]) == [3.0, 4.0]
    summary = " ".join(c.value for c in at.caption)
    assert "synthetic trust of 40 wards over 156 weeks" in summary and "2 setting(s) computed" in summary
    # the current configuration (defaults, 4) is picked; choose 3 and save
    pick = at.selectbox(key="lab_pick")
    assert pick.options[1].startswith("concern 4 nats") and pick.options[1].endswith("(current)")
    assert pick.index == 1
    pick.select_index(0).run()
    at.button(key="lab_save_config").click().run()
    assert not at.exception
    saved = load_config(data / "config.toml")
    assert saved == Config().replace("combination.concern_threshold", 3.0)
    assert any("Saved the full configuration" in s.value for s in at.success)
    # the saved file is now the base: the same points come from the cache and 3 is current
    assert "read from the cache" in " ".join(c.value for c in at.caption)
    assert at.selectbox(key="lab_pick").options[0].endswith("(current)")
