"""The robustness grid: cells, and a tiny grid run end to end."""

from __future__ import annotations

import math

import polars as pl
import pytest

from engine.evaluate.robustness import (
    Cell,
    GridSettings,
    cell_name,
    cell_spec,
    default_cells,
    grid_markdown,
    headline_cells,
    run_grid,
    scaled_scenarios,
)
from engine.evaluate.settings import EvaluationSettings
from synthetic.spec import parse_scenarios


def test_default_grid_covers_the_axes_of_issue_26_one_factor_at_a_time():
    cells = default_cells()
    axes = {c.axis for c in cells}
    assert {
        "default", "indicators", "domains", "ramp_weeks", "effect", "dispersion", "rates", "small_wards",
        "wards_per_provider", "share_affected", "history_weeks", "workforce_cadence",
    } <= axes  # fmt: skip
    assert len({cell_name(c) for c in cells}) == len(cells)
    g = GridSettings()
    base = cell_spec(Cell("default", "default"), g)
    for c in cells:  # each cell changes the default trust (the default cell does not)
        spec = cell_spec(c, g)
        assert (spec == base) == (c.axis == "default"), c
    ramp = next(c for c in cells if c.axis == "ramp_weeks" and c.level == "26")
    assert cell_spec(ramp, g).scenarios.closed_culture.ramp_weeks == (26, 26)
    hist = next(c for c in cells if c.axis == "history_weeks" and c.level == "104")
    spec = cell_spec(hist, g)
    assert spec.scenarios.min_onset_week == 104 and spec.n_weeks >= 104 + 70
    monthly = next(c for c in cells if c.axis == "workforce_cadence")
    assert monthly.level == "monthly" and cell_spec(monthly, g).workforce_cadence == "monthly"


def test_scaled_scenarios_keep_every_kind():
    small = parse_scenarios(scaled_scenarios(40))
    assert set(small) == set(parse_scenarios(scaled_scenarios(100)))
    assert small["winter_pressure"] == 1 and small["closed_culture"] == 4


def test_headline_picks_the_median_and_the_worst_cell():
    table = pl.DataFrame(
        {
            "axis": ["a", "b", "c", "d"],
            "level": ["1", "2", "3", "4"],
            "detected": [0.9, 0.5, 0.7, 0.5],
            "delay_median": [6.0, 10.0, 8.0, math.inf],
        }
    )
    median, worst = headline_cells(table)
    assert worst["axis"] == "d"  # ties on detection: the longer delay is worse
    assert median["axis"] == "b"


@pytest.mark.slow
def test_a_tiny_grid_runs_end_to_end(tmp_path):
    g = GridSettings(
        wards=40,
        weeks=130,
        jobs=2,  # spawned worker processes (a forked pool deadlocked)
        scenarios="closed_culture=3,acute_patient=2,definition_change=1,provider_deterioration=1",
    )
    effect = next(c for c in default_cells() if c.axis == "effect" and c.level == "x0.5")
    cells = [Cell("default", "default"), effect]
    from engine.evaluate import robustness

    robustness.GRIDS["test"] = lambda: cells
    st = EvaluationSettings(bootstrap_replicates=0)
    try:
        table, md = run_grid(tmp_path, grid="test", settings=g, evaluation=st)
        again, _ = run_grid(tmp_path, grid="test", settings=g, evaluation=st)  # resumes from row.json
    finally:
        del robustness.GRIDS["test"]
    assert again.drop("seconds").equals(table.drop("seconds"))
    assert table.height == 2 and (tmp_path / "grid.csv").exists()
    text = md.read_text()
    assert "**median cell**" in text and "**worst cell**" in text and "effect = x0.5" in text
    for row in table.iter_rows(named=True):
        assert row["episodes"] >= 5  # 3 closed cultures + 2-6 provider_deterioration wards
        assert 0 <= row["detected"] <= 1 and 0 <= row["oracle_detected"] <= 1
        assert row["false_concern_per_ward_year"] >= 0
        assert (tmp_path / cell_name(Cell(row["axis"], row["level"])) / "data" / "latent.parquet").exists()
    assert grid_markdown(table, g, 16, 1.0).count("\n") == 2 + 2 + 2 + 2 + 2 + 1


def test_a_cell_whose_trust_cannot_hold_its_scenarios_is_reported_not_fatal(tmp_path):
    from engine.config import Config
    from engine.evaluate.robustness import run_cell

    g = GridSettings(wards=20, weeks=60, scenarios="definition_change=9")
    row = run_cell(
        Cell("default", "default"), g, tmp_path, Config(), EvaluationSettings(bootstrap_replicates=0)
    )
    assert row["axis"] == "default" and "definition_change" in row["error"]
    assert not (tmp_path / "default-default" / "row.json").exists()  # nothing to resume from
