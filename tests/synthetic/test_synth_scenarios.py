"""Injected episodes: timing, sizes, shapes, and the effect present in the data at the stated size."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import numpy as np
import polars as pl
import pytest
from conftest import many_episodes
from synth_helpers import row_profile, truth_multiplier
from synth_helpers import week_index as _week

from signals import CATALOGUE
from synthetic import (
    MessSettings,
    ScenarioError,
    ScenarioSettings,
    ScenarioSpecError,
    TrustSpec,
    format_scenarios,
    generate,
    parse_scenarios,
    rates,
)
from synthetic.scenarios import COMPLIANCE

# weekly counts some scenario moves (sexual safety incidents are never injected)
WEEKLY_COUNTS = [k for k in rates.NB_SIZE if k not in ("manager_changes", "sexual_safety_incidents")] + [
    "prone_restraint",
    "seclusion_hours",
]


def _rows(trust, kinds):
    return trust.truth.filter(pl.col("kind").is_in(kinds)).iter_rows(named=True)


# ---------------------------------------------------------------------------------- grammar
def test_scenario_grammar_round_trip():
    spec = "closed_culture=3, concealment=1,acute_patient=2"
    counts = parse_scenarios(spec)
    assert counts == {"closed_culture": 3, "concealment": 1, "acute_patient": 2}
    assert parse_scenarios(format_scenarios(counts)) == counts
    assert parse_scenarios("none") == {} == parse_scenarios("")


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("closed_cultur=3", "unknown scenario kind"),
        ("closed_culture", "KIND=COUNT"),
        ("closed_culture=-1", "KIND=COUNT"),
        ("closed_culture=1,closed_culture=2", "twice"),
    ],
)
def test_scenario_grammar_errors(spec, message):
    with pytest.raises(ScenarioSpecError, match=message):
        parse_scenarios(spec)


def test_too_many_episodes_is_a_clear_error():
    spec = TrustSpec(n_wards=5, scenarios=ScenarioSettings.from_spec("closed_culture=6"))
    with pytest.raises(ScenarioError, match="no ward left"):
        generate(spec, seed=1)
    short = TrustSpec(n_wards=20, n_weeks=50, scenarios=ScenarioSettings.from_spec("closed_culture=1"))
    with pytest.raises(ScenarioError):
        generate(short, seed=1)


# ---------------------------------------------------------------------------------- timing
def test_ward_level_episodes_do_not_overlap_and_follow_warm_up(episodes_trust):
    t = episodes_trust
    ward_level = t.truth.filter(
        pl.col("kind").is_in(["closed_culture", "concealment", "acute_patient", "staffing_crisis"])
    )
    assert ward_level["ward_id"].is_unique().all()
    assert ward_level.height == 30 + 15 + 15 + 15
    for row in ward_level.iter_rows(named=True):
        onset, full = _week(t, row["onset"]), _week(t, row["full_effect"])
        assert onset >= 40
        assert full + 8 <= t.calendar.weeks.size - 1 or row["end"] is not None
        if row["kind"] in ("closed_culture", "concealment"):
            assert 8 <= full - onset + 1 <= 26
            assert row["end"] is None
        elif row["kind"] == "acute_patient":
            assert onset == full
            assert 2 <= _week(t, row["end"]) - onset + 1 <= 6


@pytest.mark.parametrize(
    "key", ["restraint", "injuries", "incidents_reported", "family_visits", "agency_use"]
)
def test_truth_rebuilds_the_latent_multiplier_exactly(episodes_trust, key):
    """truth.csv alone reproduces the injected multiplier of every weekly indicator, every week."""
    assert np.allclose(truth_multiplier(episodes_trust, key), episodes_trust.arrays[key].multiplier)


def test_multiplier_ramps_then_holds_or_ends(episodes_trust):
    t = episodes_trust
    for row in _rows(t, ["closed_culture", "concealment", "acute_patient", "staffing_crisis"]):
        w = int(np.flatnonzero(t.ward_ids == row["ward_id"])[0])
        onset, full = _week(t, row["onset"]), _week(t, row["full_effect"])
        end = None if row["end"] is None else _week(t, row["end"])
        for key, m in json.loads(row["effects"]).items():
            if key in ("manager_changes", "seclusion_hours") or CATALOGUE[key].cadence != "weekly":
                continue
            own = t.arrays[key].multiplier[w] / (truth_multiplier(t, key)[w] / row_profile(t, row, key))
            assert own[onset - 1] == pytest.approx(1.0)
            assert own[onset] != pytest.approx(1.0)
            stop = own.size if end is None else end + 1
            assert np.allclose(own[full:stop], m), (row["episode_id"], key)
            seg = np.log(own[onset : full + 1]) / np.log(m)
            assert (np.diff(seg) > 0).all() or seg.size == 1
            if end is not None and end + 1 < own.size:
                assert own[end + 1] == pytest.approx(1.0)


def test_effect_sizes_are_within_configured_ranges(episodes_trust):
    cc = ScenarioSettings().closed_culture
    sets = set()
    for row in _rows(episodes_trust, ["closed_culture"]):
        eff = json.loads(row["effects"])
        sets.add(row["indicators"])
        for key, m in eff.items():
            if key in ("manager_changes", "seclusion_hours", "prone_restraint"):
                continue
            if key in COMPLIANCE:
                assert cc.compliance_fall[0] <= m <= cc.compliance_fall[1]
            elif CATALOGUE[key].direction == "down" or key in ("incidents_reported", "ftsu_concerns"):
                assert cc.fall[0] <= m <= cc.fall[1], key
            else:
                assert cc.rise[0] <= m <= cc.rise[1], key
    assert len(sets) > 10  # not every episode moves every indicator


def test_concealment_pattern(episodes_trust):
    for row in _rows(episodes_trust, ["concealment"]):
        eff = json.loads(row["effects"])
        assert eff["restraint"] < 1 and eff["incidents_reported"] < 1
        assert eff["injuries"] > 1 and eff["safeguarding_referrals"] > 1


def test_provider_wide_decoys_share_group_date_and_effect(episodes_trust):
    t = episodes_trust
    provider = dict(zip(t.wards["ward_id"], t.wards["provider"], strict=True))
    for kind in ("definition_change", "reporting_migration"):
        rows = t.truth.filter(pl.col("kind") == kind)
        assert rows["group_id"].n_unique() == 2
        for _, g in rows.group_by("group_id"):
            provs = {provider[w] for w in g["ward_id"]}
            assert len(provs) == 1
            everyone = [w for w, p in provider.items() if p in provs]
            assert sorted(g["ward_id"]) == sorted(everyone)
            assert g["onset"].n_unique() == 1
            key = g["indicators"][0].split(";")[0]
            assert len({json.loads(e)[key] for e in g["effects"]}) == 1
            if kind == "reporting_migration":
                row = g.row(0, named=True)
                assert 4 <= _week(t, row["end"]) - _week(t, row["onset"]) + 1 <= 5
                assert row["indicators"] == "incidents_reported"
            else:
                assert g["end"].null_count() == g.height


def test_winter_pressure_is_trust_wide_in_december(episodes_trust):
    rows = episodes_trust.truth.filter(pl.col("kind") == "winter_pressure")
    assert rows.height > 0.25 * episodes_trust.spec.n_wards  # wards busy with other episodes are spared
    assert rows["onset"].n_unique() == 1
    onset = rows["onset"][0]
    assert onset.month == 12 and onset.day <= 7
    for eff in rows["effects"]:
        e = json.loads(eff)
        assert set(e) == {"agency_use", "sickness_absence"} and min(e.values()) > 1


# ---------------------------------------------------------------------------------- effect in data
@pytest.mark.parametrize("key", WEEKLY_COUNTS)
def test_injected_effect_present_at_stated_size(episodes_trust, key):
    """Pooled over episodes, counts after full effect match truth.csv's stated effect.

    The counterfactual comes from an independent run of the same trust with no scenarios (its
    latent rates are the in-control ones); the stated mean is that counterfactual times the
    multiplier rebuilt from truth.csv alone. For each truth row moving ``key`` the weeks from
    ``full_effect`` to ``end`` are pooled; the observed total must match the stated one within
    4.5 NB standard deviations, and differ from the counterfactual when the effect is large.
    """
    t, quiet = episodes_trust, many_episodes(scenarios=False)
    a, q = t.arrays[key], quiet.arrays[key]
    assert np.array_equal(a.n, q.n)
    k = rates.NB_SIZE.get(key, rates.NB_SIZE["restraint"])  # a thinned NB(k) is NB(k)
    stated_all = None if key == "seclusion_hours" else q.expected * q.n * truth_multiplier(t, key)
    obs = base = stated = var = 0.0
    n_rows = 0
    for row in t.truth.filter(pl.col("kind") != "reconfiguration").iter_rows(named=True):
        if key not in json.loads(row["effects"]):
            continue
        w = int(np.flatnonzero(t.ward_ids == row["ward_id"])[0])
        lo = _week(t, row["full_effect"])
        hi = a.y.shape[1] if row["end"] is None else _week(t, row["end"]) + 1
        m0 = q.expected[w, lo:hi] * q.n[w, lo:hi]
        m = a.expected[w, lo:hi] * a.n[w, lo:hi] if stated_all is None else stated_all[w, lo:hi]
        obs += a.y[w, lo:hi].sum()
        base += m0.sum()
        stated += m.sum()
        var += (m + m * m / k).sum()
        n_rows += 1
    assert n_rows >= 3, key
    if key == "seclusion_hours":  # a measure: no NB variance; check the level loosely
        assert obs / stated == pytest.approx(1.0, abs=0.25)
        assert abs(np.log(stated / base)) > 0.1
        return
    assert abs(obs - stated) < 4.5 * np.sqrt(var), (key, obs, stated, np.sqrt(var))
    if abs(np.log(stated / base)) > 0.3:  # a real effect is visible, in its direction
        assert np.sign(np.log(stated / base)) * (obs - base) > 3 * np.sqrt(var), key


def test_monthly_staffing_effect_after_full_effect(episodes_trust):
    """Monthly indicators: months wholly after full effect carry the stated multiplier."""
    t = episodes_trust
    cal = t.calendar
    checked = 0
    for row in _rows(t, ["closed_culture", "staffing_crisis"]):
        eff = json.loads(row["effects"])
        w = int(np.flatnonzero(t.ward_ids == row["ward_id"])[0])
        full = _week(t, row["full_effect"])
        end = cal.weeks.size - 1 if row["end"] is None else _week(t, row["end"])
        months = np.flatnonzero(
            (cal.month_first_week > full) & (np.append(cal.month_first_week[1:], cal.weeks.size) - 1 <= end)
        )
        for key in ("sickness_absence", "vacancy_rate", "staff_turnover", "training_compliance"):
            if key in eff and months.size:
                assert np.allclose(t.arrays[key].multiplier[w, months], eff[key])
                checked += 1
    assert checked > 10


def test_manager_change_added_during_ramp(episodes_trust):
    t = episodes_trust
    events = t.events.filter(pl.col("kind") == "manager_change")
    n = 0
    for row in _rows(t, ["closed_culture", "concealment"]):
        eff = json.loads(row["effects"])
        if "manager_changes" not in eff:
            continue
        n += 1
        date = dt.date.fromisoformat(eff["manager_changes"]["date"])
        assert row["onset"] <= date <= row["full_effect"]
        w = int(np.flatnonzero(t.ward_ids == row["ward_id"])[0])
        assert t.arrays["manager_changes"].y[w, _week(t, date)] >= 1
        assert events.filter((pl.col("ward_id") == row["ward_id"]) & (pl.col("date") == date)).height == 1
    assert n > 5


def test_scenarios_leave_the_latent_trust_untouched():
    """Same seed with and without scenarios: the in-control latent rates are identical everywhere.

    (The random counts share streams across wards, so they are not compared.)
    """
    spec = TrustSpec(n_wards=30, mess=MessSettings.none())
    quiet = generate(dataclasses.replace(spec, scenarios=ScenarioSettings.from_spec("none")), seed=8)
    busy = generate(spec, seed=8)
    assert busy.truth.height > 10
    for key in ("restraint", "complaints", "agency_use", "vacancy_rate", "seclusion_hours"):
        q, b = quiet.arrays[key], busy.arrays[key]
        assert np.allclose(q.expected, b.expected / b.multiplier)
        assert np.array_equal(q.n, b.n)
        assert (b.multiplier != 1).any()
