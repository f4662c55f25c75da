"""evaluate on hand-built truth/results pairs with known answers."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from engine.evaluate.grid import WEEKS_PER_YEAR
from engine.evaluate.run import evaluate
from engine.evaluate.settings import EvaluationSettings
from tests.evaluate.helpers import levels, week, write_status, write_truth

WEEKS = 60
ST = EvaluationSettings(horizon_weeks=16, grace_weeks=8, bootstrap_replicates=200, seed=1)


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    d = tmp_path_factory.mktemp("hand")
    wards = {
        # detected: onset 10, watch from 12, concern 13-20, urgent 15-16
        "A": levels([(12, 12, "watch"), (13, 20, "concern"), (15, 16, "urgent")]),
        # missed: onset 10, never above watch
        "B": levels([(11, 30, "watch")]),
        # late: onset 5, concern first at 25 (delay 20 > horizon)
        "C": levels([(25, 27, "concern")]),
        # false alarms: no episode; concern 30-31, gap of 2 (< close_after 4), 34 -> one alert; 45 -> second
        "D": levels([(30, 31, "concern"), (34, 34, "concern"), (45, 45, "concern")]),
        # decoy escalated: acute_patient 20-23, concern at 25 (within the 8-week grace)
        "E": levels([(25, 26, "concern")]),
        # decoy not escalated: acute_patient 20-23; concern at 40 is outside its window -> false alert
        "F": levels([(40, 40, "concern")]),
        # episode at the start of data: onset week 0, concern at 2
        "G": levels([(2, 5, "concern")]),
        # ward with a gap (weeks 10-19 without rows); concern at 5 and 25 -> two false alerts
        "H": levels([(5, 5, "concern"), (25, 25, "concern")]),
        # alert already open before onset (opened 8, onset 10, stays): not credited to the episode
        "I": levels([(8, 30, "concern")]),
    }
    write_status(d / "results", wards, WEEKS, gaps={"H": range(10, 20)})
    truth = write_truth(
        d / "truth.csv",
        [
            {"ward_id": "A", "kind": "closed_culture", "onset": 10},
            {"ward_id": "B", "kind": "closed_culture", "onset": 10},
            {"ward_id": "C", "kind": "concealment", "onset": 5},
            {"ward_id": "E", "kind": "acute_patient", "onset": 20, "end": 23},
            {"ward_id": "F", "kind": "acute_patient", "onset": 20, "end": 23},
            {"ward_id": "G", "kind": "closed_culture", "onset": 0},
            {"ward_id": "I", "kind": "closed_culture", "onset": 10},
            {"ward_id": "D", "kind": "reconfiguration", "onset": 3},  # known change: not a window
        ],
    )
    return evaluate(truth, d / "results", ST)


def _ep(ev, ward):
    return ev.episodes.filter(pl.col("ward_id") == ward).row(0, named=True)


def test_detected(case):
    r = _ep(case, "A")
    assert (r["watch_delay_weeks"], r["concern_delay_weeks"], r["urgent_delay_weeks"]) == (2, 3, 5)
    assert r["concern_detected"] and r["concern_week"] == week(13)


def test_missed(case):
    r = _ep(case, "B")
    assert r["concern_delay_weeks"] is None and not r["concern_detected"]
    assert r["watch_delay_weeks"] == 1 and r["watch_detected"]


def test_late(case):
    r = _ep(case, "C")
    assert r["concern_delay_weeks"] == 20 and not r["concern_detected"]


def test_start_of_data(case):
    r = _ep(case, "G")
    assert r["concern_delay_weeks"] == 2 and r["history_weeks"] == 0 and r["concern_detected"]


def test_already_open_is_not_credited(case):
    r = _ep(case, "I")
    assert r["already_concern_before_onset"] and r["concern_delay_weeks"] is None


def test_summary_detection_and_delays(case):
    s = case.summary.filter(pl.col("method") == "wardwatch").row(0, named=True)
    # five episodes: A 3, B never, C 20 (censored), G 2, I never
    assert s["episodes"] == 5 and s["detected"] == 2 and s["detection_rate"] == pytest.approx(0.4)
    # censored delays sorted: 2, 3, inf, inf, inf; order-statistic median = inf, q25 = 3
    assert s["delay_median"] == math.inf
    assert s["delay_q25"] == 3


def test_false_alerts_and_ward_years(case):
    s = case.summary.filter(pl.col("method") == "wardwatch").row(0, named=True)
    # D: one merged alert (30-34) + one at 45; F: 40; H: 5 and 25; I opened at 8 (before onset 10): false
    assert s["false_alerts"] == 6
    outside = {
        "A": 10,
        "B": 10,
        "C": 5,
        "D": 60,
        "E": 60 - 12,
        "F": 60 - 12,
        "G": 0,
        "H": 50,
        "I": 10,
    }  # episode windows run from onset to the end of data; decoys onset..end+8 (20..31)
    years = sum(outside.values()) / WEEKS_PER_YEAR
    assert s["ward_years"] == pytest.approx(years)
    assert s["false_alerts_per_ward_year"] == pytest.approx(6 / years)
    assert s["fa_lo"] <= s["false_alerts_per_ward_year"] <= s["fa_hi"]


def test_decoys(case):
    d = case.decoys.filter(pl.col("method") == "wardwatch").row(0, named=True)
    assert (d["kind"], d["decoys"], d["escalated"]) == ("acute_patient", 2, 1)
    assert d["escalation_rate"] == pytest.approx(0.5)


def test_no_series_means_level_methods_only(case):
    assert set(case.summary["method"]) == {"wardwatch", "wardwatch_watch", "wardwatch_urgent"}


def test_rerun_identical(tmp_path):
    write_status(tmp_path / "r", {"A": levels([(12, 14, "concern")]), "B": levels([(3, 3, "concern")])}, 30)
    truth = write_truth(tmp_path / "t.csv", [{"ward_id": "A", "kind": "closed_culture", "onset": 10}])
    a = evaluate(truth, tmp_path / "r", ST)
    b = evaluate(truth, tmp_path / "r", ST)
    assert a.summary.equals(b.summary) and a.episodes.equals(b.episodes) and a.decoys.equals(b.decoys)
    # a different bootstrap seed changes intervals only, not the estimates
    c = evaluate(truth, tmp_path / "r", EvaluationSettings(bootstrap_replicates=200, seed=2))
    assert np.allclose(a.summary["false_alerts_per_ward_year"], c.summary["false_alerts_per_ward_year"])


def test_unknown_ward_is_not_evaluable(tmp_path):
    write_status(tmp_path / "r", {"A": {}}, 20)
    truth = write_truth(tmp_path / "t.csv", [{"ward_id": "Z", "kind": "closed_culture", "onset": 5}])
    ev = evaluate(truth, tmp_path / "r", ST)
    assert not ev.episodes["evaluable"][0]
    assert ev.summary.filter(pl.col("method") == "wardwatch")["episodes"][0] == 0


def test_onset_before_data(tmp_path):
    write_status(tmp_path / "r", {"A": levels([(1, 2, "concern")])}, 20)
    truth = write_truth(tmp_path / "t.csv", [{"ward_id": "A", "kind": "closed_culture", "onset": week(-2)}])
    ev = evaluate(truth, tmp_path / "r", ST)
    assert ev.episodes["concern_delay_weeks"][0] == 3
