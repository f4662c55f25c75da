"""The loader's coded rows: the same frame, and bit-identical panels, as the observation frame."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from engine.coded import CodedObservations
from engine.config import Config
from engine.io import load_dataset
from engine.panel import OBSERVATION_SCHEMA, SeriesRows, build_panel
from engine.scoring.run import cadence_panels
from engine.scoring.settings import IndicatorSettings
from tests.panel.test_panel_build import assert_identical, random_frame, reference_panel

_FRAMES = [("weekly", 0), ("weekly", 1), ("monthly", 2)]


@pytest.mark.parametrize(("cadence", "seed"), _FRAMES)
def test_frame_round_trip(cadence, seed):
    obs = random_frame(np.random.default_rng(seed), cadence)
    coded = CodedObservations.from_frame(obs)
    assert coded.height == obs.height
    back = coded.frame()
    assert back.schema == pl.Schema(OBSERVATION_SCHEMA)
    assert back.equals(obs)  # nulls where the frame has nulls, not NaN
    assert coded.take(np.arange(5, 9)).frame().equals(obs.slice(5, 4))
    assert coded.clear().frame().equals(obs.clear())


@pytest.mark.parametrize(("cadence", "seed"), _FRAMES)
def test_panels_from_codes_are_identical(cadence, seed):
    """Runs found on the codes, statuses mapped by label: the same panel as the frame's, any order."""
    obs = random_frame(np.random.default_rng(seed), cadence)
    shuffled = obs.sample(fraction=1.0, shuffle=True, seed=seed)
    for frame in (obs, shuffled):  # shuffled: not in key order, so build_panel sorts the frame
        coded = CodedObservations.from_frame(frame)
        rows = SeriesRows(coded)
        assert rows.indicators() == frame["indicator"].unique().sort().to_list()
        if frame is obs:
            assert rows.keys.equals(SeriesRows(frame).keys)
            np.testing.assert_array_equal(rows.run_start, SeriesRows(frame).run_start)
        for indicators in (None, ["restraint", "zeta"], ["absent"], []):
            expected = reference_panel(frame, cadence, indicators)
            assert_identical(build_panel(coded, cadence, indicators, rows=rows), expected)
            assert_identical(build_panel(coded, cadence, indicators), expected)
    with pytest.raises(ValueError, match="same frame or coded rows"):
        build_panel(coded, cadence, rows=SeriesRows(obs))


def test_empty_coded_rows():
    empty = CodedObservations.from_frame(pl.DataFrame(schema=OBSERVATION_SCHEMA))
    assert empty.height == 0
    assert_identical(
        build_panel(empty, "weekly"), reference_panel(pl.DataFrame(schema=OBSERVATION_SCHEMA), "weekly")
    )


@pytest.fixture(scope="module")
def loaded_with_rejections(tmp_path_factory):
    """A small long CSV with suppressed, unknown and rejected rows, two cadences, out of order."""
    d = tmp_path_factory.mktemp("coded")
    (d / "wards.csv").write_text(
        "ward_id,ward_name,provider,ward_type,beds\nW1,One,P1,acute_adult,10\nW2,Two,P1,acute_adult,12\n"
    )
    lines = ["ward_id,period,indicator,numerator,denominator"]
    for w in ("W2", "W1"):  # wards out of order: the loader sorts
        for t in range(30):
            day = dt.date(2024, 1, 1) + dt.timedelta(weeks=t)
            num = "*" if t % 7 == 3 else ("" if t % 11 == 5 else str(t % 5))
            lines.append(f"{w},{day},restraint,{num},{70 + t}")
            lines.append(f"{w},{day},manager_changes,{t % 2},")
        for m in range(1, 9):
            lines.append(f"{w},2024-{m:02d}-01,staff_turnover,{m % 3},20")
    lines.append("W9,2024-01-01,restraint,1,70")  # unknown ward: rejected
    lines.append("W1,2024-12-30,restraint,-1,70")  # negative count: rejected
    (d / "obs.csv").write_text("\n".join(lines) + "\n")
    (d / "events.csv").write_text("ward_id,date,kind,note\nW1,2024-03-04,rebase,new model of care\n")
    return load_dataset(d / "obs.csv", d / "wards.csv", d / "events.csv")


def test_loader_frame_is_built_from_its_codes(loaded_with_rejections):
    load = loaded_with_rejections
    assert load.n_rejected == 2
    obs = load.observations
    assert obs is load.observations  # built once
    assert obs.schema == pl.Schema(OBSERVATION_SCHEMA)
    assert obs.height == load.coded.height == load.accepted[next(f for f in load.accepted if "obs" in f)]
    assert obs.equals(obs.sort("ward_id", "indicator", "period"))
    assert set(obs["status"].unique()) == {"observed", "suppressed", "unknown"}
    assert obs.equals(CodedObservations.from_frame(obs).frame())


@pytest.mark.parametrize("as_of", [None, dt.date(2024, 4, 1), dt.date(2023, 1, 1)])
@pytest.mark.parametrize("disabled", [(), ("manager_changes",)])
def test_cadence_panels_from_codes_equal_those_from_the_frame(loaded_with_rejections, as_of, disabled):
    load = loaded_with_rejections
    cfg = Config(indicators={k: IndicatorSettings(enabled=False) for k in disabled})
    if as_of == dt.date(2023, 1, 1):  # before every row: nothing to score, said the same way
        for obs in (load.coded, load.observations):
            with pytest.raises(ValueError, match="no observations"):
                cadence_panels(obs, load.events, load.cadence, cfg, as_of)
        return
    a = cadence_panels(load.coded, load.events, load.cadence, cfg, as_of)
    b = cadence_panels(load.observations, load.events, load.cadence, cfg, as_of)
    assert a.enabled == b.enabled and sorted(a.panels) == sorted(b.panels) == ["monthly", "weekly"]
    assert not set(disabled) & set(a.enabled)
    for cad in a.panels:
        assert_identical(a.panels[cad], b.panels[cad])
        np.testing.assert_array_equal(a.rebase[cad], b.rebase[cad])
    assert a.events.equals(b.events)
