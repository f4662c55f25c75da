"""Real-world mess: late joiners, missed submissions, gaps, unknowns, reconfigurations, suppression."""

from __future__ import annotations

import functools

import numpy as np
import polars as pl
import pytest

from engine.panel import MISSING, OBSERVED, SUPPRESSED, UNKNOWN
from signals import CATALOGUE, WARD_INDICATORS
from synthetic import MessSettings, ScenarioSettings, TrustSpec, generate
from synthetic.mess import suppress

WEEKLY = [k for k in WARD_INDICATORS if CATALOGUE[k].cadence == "weekly" and k != "cetr_overdue"]


@functools.cache
def messy(suppression: bool = False):
    spec = TrustSpec(
        n_wards=300,
        mess=MessSettings(suppression=suppression),
        scenarios=ScenarioSettings.from_spec("closed_culture=2,acute_patient=2"),
    )
    return generate(spec, seed=21)


def _binomial_ok(hits: float, n: float, p: float, z: float = 4.0) -> bool:
    return abs(hits - n * p) < z * np.sqrt(n * p * (1 - p)) + 1


def test_missing_is_a_whole_submission_and_never_zero():
    t = messy()
    written = t.arrays["restraint"].written
    for key in WEEKLY:
        assert np.array_equal(t.arrays[key].written, written), key
    assert not written.all()
    # missing rows are absent from the frame, never written as zero
    n_rows = t.frame.filter(pl.col("indicator") == "restraint").height
    assert n_rows == written.sum()


def test_late_joiners_have_no_rows_before_joining():
    t = messy()
    m = MessSettings()
    written = t.arrays["restraint"].written
    first = np.argmax(written, axis=1)
    late = first > 0
    # a ward present from the start can still miss week 0 (probability single_miss_prob)
    assert _binomial_ok(late.sum(), t.spec.n_wards, m.late_joiner_share + m.single_miss_prob, z=4.5)
    joined_late = first >= m.late_join_weeks[0]
    assert joined_late.sum() > 10
    assert (first[joined_late] <= m.late_join_weeks[1] + 5).all()
    first_month = np.argmax(t.arrays["vacancy_rate"].written, axis=1)
    assert (t.calendar.week_month[first[joined_late]] <= first_month[joined_late] + 1).all()


def test_single_misses_and_long_gaps():
    t = messy()
    m = MessSettings()
    written = t.arrays["restraint"].written
    T = written.shape[1]
    runs = []  # longest run of missing weeks after joining, per ward
    for row in written:
        start = int(np.argmax(row))
        miss = ~row[start:]
        edges = np.flatnonzero(np.diff(np.concatenate([[0], miss.astype(int), [0]])))
        lengths = edges[1::2] - edges[::2]
        runs.append(lengths.max() if lengths.size else 0)
    runs = np.array(runs)
    gaps = runs >= m.gap_weeks[0]
    assert _binomial_ok(gaps.sum(), t.spec.n_wards, m.gap_ward_share, z=4.5)
    assert runs.max() <= m.gap_weeks[1] + 2
    no_gap = ~gaps
    cells = sum(T - int(np.argmax(r)) for r in written[no_gap])
    missed = sum(int((~r[int(np.argmax(r)) :]).sum()) for r in written[no_gap])
    assert _binomial_ok(missed, cells, m.single_miss_prob, z=4.5)


def test_unknown_values_keep_the_row_with_an_empty_numerator():
    t = messy()
    unknown = t.frame.filter(pl.col("status") == "unknown")
    written = t.frame.height
    assert _binomial_ok(unknown.height, written, MessSettings().unknown_prob, z=4.5)
    assert unknown["numerator"].null_count() == unknown.height
    has_exposure = unknown.filter(pl.col("indicator") != "manager_changes")
    assert has_exposure["denominator"].null_count() == 0
    assert (t.observations.filter(pl.col("numerator").is_null()).height) == unknown.height
    for key in WARD_INDICATORS:
        a = t.arrays[key]
        assert np.isnan(a.published[a.status == UNKNOWN]).all()


def test_reconfiguration_changes_beds_and_rates_and_is_announced():
    t = messy()
    rec = t.truth.filter(pl.col("kind") == "reconfiguration")
    assert rec.height == t.spec.n_wards // 40
    events = t.events.filter(pl.col("kind") == "reconfiguration")
    assert sorted(zip(rec["ward_id"], rec["onset"], strict=True)) == sorted(
        zip(events["ward_id"], events["date"], strict=True)
    )
    beds = dict(zip(t.wards["ward_id"], t.wards["beds"], strict=True))
    for row in rec.iter_rows(named=True):
        w = int(np.flatnonzero(t.ward_ids == row["ward_id"])[0])
        week = int(np.searchsorted(t.calendar.weeks, np.datetime64(row["onset"], "D")))
        obd = t.arrays["restraint"].n[w]
        new = beds[row["ward_id"]]
        assert (obd[week:] <= 7 * new).all() and obd[week:].mean() > 0.8 * 7 * new
        old = int(
            events.filter(pl.col("ward_id") == row["ward_id"])["note"][0].split("beds ")[1].split(" ")[0]
        )
        assert old != new and (obd[:week] <= 7 * old).all()
        assert abs(old - new) >= 4
        mult = t.arrays["restraint"].multiplier[w]
        assert (mult[:week] == 1).all() and np.allclose(mult[week:], mult[-1]) and mult[-1] != 1
    # reconfigured wards host no ward-level episode
    ward_level = t.truth.filter(pl.col("kind").is_in(["closed_culture", "acute_patient"]))
    assert not set(ward_level["ward_id"]) & set(rec["ward_id"])


def test_no_mess_means_every_row():
    spec = TrustSpec(
        n_wards=20, n_weeks=60, mess=MessSettings.none(), scenarios=ScenarioSettings.from_spec("none")
    )
    t = generate(spec, seed=4)
    for key in WARD_INDICATORS:
        a = t.arrays[key]
        if key == "cetr_overdue":
            applies = np.isin(t.ward_types, ["ld_autism", "forensic", "camhs"])
            assert a.written[applies].all() and not a.written[~applies].any()
        else:
            assert a.written.all(), key
        assert (a.status[a.written] == OBSERVED).all()
    assert set(t.events["kind"]) <= {"manager_change"}
    assert t.truth.height == 0


def test_suppression_rule_unit():
    values = np.array([0.0, 1, 4, 5, 7, 8, 12, 13, 102, np.nan])
    published, small = suppress(values)
    assert small.tolist() == [True, True, True] + [False] * 7
    assert np.isnan(published[:3]).all()
    assert published[3:9].tolist() == [5, 5, 10, 10, 15, 100]


def test_suppression_mode_publishes_like_nhs_digital():
    t = messy(suppression=True)
    plain = messy(suppression=False)
    for key in WARD_INDICATORS:
        a = t.arrays[key]
        observed, suppressed = a.status == OBSERVED, a.status == SUPPRESSED
        assert np.array_equal(a.written, plain.arrays[key].written), key
        if CATALOGUE[key].family == "count":
            assert suppressed.any(), key
            assert (a.y[suppressed] < 5).all()
            assert (a.y[observed] >= 5).all()
            pub = a.published[observed]
            assert (pub % 5 == 0).all()
            assert (np.abs(pub - a.y[observed]) <= 2.5).all()
        else:
            assert not suppressed.any(), key
            assert np.array_equal(a.published[observed], a.y[observed]), key
    text = t.observations.join(
        t.frame.select("ward_id", "period", "indicator", "status"), on=["ward_id", "period", "indicator"]
    )
    star = text.filter(pl.col("numerator") == "*")
    assert star.height == (text["status"] == "suppressed").sum() > 0
    assert star["denominator"].null_count() == star.filter(pl.col("indicator") == "manager_changes").height


@pytest.mark.parametrize("key", ["restraint", "agency_use"])
def test_mess_does_not_move_the_latent_rates(key):
    """Late joiners, gaps and unknowns only hide rows: latent arrays are identical without mess
    (reconfigured wards excepted)."""
    spec = TrustSpec(n_wards=40, scenarios=ScenarioSettings.from_spec("none"))
    a = generate(spec, seed=9)
    b = generate(TrustSpec(n_wards=40, mess=MessSettings.none(), scenarios=spec.scenarios), seed=9)
    rec = np.isin(a.ward_ids, a.truth.filter(pl.col("kind") == "reconfiguration")["ward_id"].to_list())
    assert rec.sum() == 1
    assert np.array_equal(a.arrays[key].expected[~rec], b.arrays[key].expected[~rec])
    assert (a.arrays[key].status == MISSING).any() and not (b.arrays[key].status == MISSING).any()
