"""wardwatch equal-fa: each variant at the lowest threshold whose measured false alarms meet the budget."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from engine.cli import main
from engine.config import Config
from engine.evaluate.benchmark import BenchmarkSettings, make_data
from engine.evaluate.equal_fa import (
    EQUAL_FA_COLUMNS,
    EqualFASettings,
    at_equal_false_alarms,
    concern_strength,
    equal_fa_table,
    summary_by_variant,
    trust_truth,
)
from engine.evaluate.metrics import outcome
from engine.evaluate.settings import EvaluationSettings

pytestmark = pytest.mark.slow

SMALL = BenchmarkSettings(
    wards=60,
    weeks=130,
    seed=5,
    scenarios="closed_culture=6,concealment=1,acute_patient=3,staffing_crisis=2,definition_change=1",
)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("equal_fa") / "data"
    make_data(SMALL, root)
    return root


def _fa(strength, frame, h):
    o = outcome(frame.monitored & (strength >= h), frame.outside, 4, frame.episodes, frame.decoys)
    return o.false_alerts.sum() / o.ward_years.sum()


@pytest.mark.parametrize("target", [0.05, 0.1, 0.3])
def test_the_threshold_is_the_lowest_on_the_grid_meeting_the_budget(data, target):
    cfg = Config()
    strength, ward_id, periods, first = concern_strength(data, cfg)
    frame = trust_truth(
        ward_id, periods, first, data / "truth.csv", EvaluationSettings(bootstrap_replicates=0)
    )
    s = EqualFASettings(target=target, step=0.25)
    row = at_equal_false_alarms(strength, frame, cfg.combination.close_after, 16, s)
    h = row["threshold"]
    assert row["false_concern_per_ward_year"] == pytest.approx(_fa(strength, frame, h))
    assert row["false_concern_per_ward_year"] <= target
    # every lower grid threshold exceeds the budget
    for lower in np.arange(0.25, h - 1e-9, 0.25):
        assert _fa(strength, frame, lower) > target
    assert 0 <= row["detected"] <= row["episodes"] > 0
    assert row["ward_decoys"] == 5


def test_variants_table_and_summary(data, tmp_path, capsys):
    base = Config()
    variants = {"balanced": base, "second": base.replace("combination.concern_rule", "second")}
    table = equal_fa_table([data], variants, EqualFASettings(step=0.25))
    assert table.columns == list(EQUAL_FA_COLUMNS)
    assert table["variant"].to_list() == ["balanced", "second"]
    # the second-largest rule is never above the balanced strength, so it needs a threshold no higher
    th = dict(zip(table["variant"], table["threshold"], strict=True))
    assert th["second"] <= th["balanced"]
    summ = summary_by_variant(table)
    assert summ["trusts"].to_list() == [1, 1]
    out = tmp_path / "eq.csv"
    code = main(["equal-fa", str(data), "--grid", "combination.concern_rule=balanced,second", "--step", "0.25",
                 "--out", str(out)])  # fmt: skip
    assert code == 0
    written = pl.read_csv(out)
    assert written["threshold"].to_list() == table["threshold"].to_list()
    assert "concern_rule=second" in capsys.readouterr().out


def test_cli_names_a_folder_without_truth(tmp_path, capsys):
    (tmp_path / "wards.csv").write_text("ward_id\n", encoding="utf-8")
    code = main(["equal-fa", str(tmp_path)])
    assert code != 0
    assert "no truth.csv" in capsys.readouterr().err
    code = main(["equal-fa", str(tmp_path), "--grid", "combination.no_such_key=1"])
    assert code != 0
    assert "no_such_key" in capsys.readouterr().err


def test_true_baselines_replace_the_estimated_rates_where_ready(data):
    from engine.io import load_dataset
    from engine.scoring.known_rates import KnownRates
    from engine.scoring.run import evidence_frames

    cfg = Config()
    known = KnownRates.read(data / "latent.parquet")
    load = load_dataset(data / "observations.csv", data / "wards.csv", data / "events.csv")
    est, _, _, _ = evidence_frames(load.observations, load.wards, load.events, load.cadence, cfg)
    true, _, _, _ = evidence_frames(
        load.observations, load.wards, load.events, load.cadence, cfg, known_rates=known
    )
    for cadence, sc in true.items():
        rate, disp = known.dense(sc.panel)
        ready = np.isfinite(est[cadence].baseline_rate)
        assert np.isfinite(rate[ready]).mean() > 0.9
        both = ready & np.isfinite(rate)
        np.testing.assert_allclose(sc.baseline_rate[both], rate[both])
        assert np.isnan(sc.baseline_rate[~ready]).all()  # the warm-up timing is kept
        counts = np.isin(sc.family, ["count", "proportion"])[:, None] & both & np.isfinite(disp)
        np.testing.assert_allclose(sc.dispersion[counts], disp[counts])
    # a spot check of the mapping against the file itself
    lat = known.frame.filter(pl.col("cadence") == "weekly").row(1234, named=True)
    sc = true["weekly"]
    s = int(np.nonzero((sc.panel.ward_id == lat["ward_id"]) & (sc.panel.indicator == lat["indicator"]))[0][0])
    t = int(np.nonzero(sc.panel.periods.astype("datetime64[D]") == np.datetime64(lat["period"], "D"))[0][0])
    assert known.dense(sc.panel)[0][s, t] == pytest.approx(lat["expected_rate"])


def test_equal_fa_with_true_baselines_adds_rows(data):
    table = equal_fa_table([data], {"base": Config()}, EqualFASettings(step=0.25), true_baselines=True)
    assert table["baselines"].to_list() == ["estimated", "true"]
    assert summary_by_variant(table).height == 2
