"""The gated_total concern rule: one CUSUM over every culture indicator, gated on a second domain."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from engine.combine.domains import culture_total_blocks
from engine.combine.levels import CONCERN, NONE, URGENT, WATCH, LevelThresholds, named_domains, ward_levels
from engine.config import Config, config_from_mapping
from engine.io import load_dataset
from engine.scoring.calibrate import calibrate_alerts, level_at_least
from engine.scoring.run import score
from engine.scoring.settings import CombinationSettings
from engine.scoring.wards import level_thresholds
from engine.settings import SettingsError
from synthetic import ScenarioSettings, TrustSpec, generate, write_trust


def _blocks(seed: int = 3) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(seed)
    z = rng.normal(-0.1, 1.0, (20, 70))
    z[3, 5] = np.nan  # missing: no evidence
    ward, domain = np.arange(20) % 4, (np.arange(20) % 5) - 1  # domain -1: not a culture indicator
    return [(z[:12], ward[:12], domain[:12]), (z[12:], ward[12:], domain[12:])]


def _summed(blocks, n_wards: int) -> np.ndarray:
    out = np.zeros((n_wards, blocks[0][0].shape[1]))
    for z, ward, domain in blocks:
        keep = domain >= 0
        np.add.at(out, ward[keep], np.nan_to_num(z[keep]))
    return out


@pytest.mark.parametrize("window", [0, 8, 52])
def test_culture_total_is_the_cusum_of_every_culture_increment(window: int) -> None:
    blocks = _blocks()
    got = culture_total_blocks(blocks, 4, window)
    summed = _summed(blocks, 4)
    for w in range(4):
        page = 0.0
        for t in range(70):
            page = max(0.0, page + summed[w, t])
            lo = 0 if window <= 0 else max(t - window + 1, 0)
            best = max(0.0, max(summed[w, k : t + 1].sum() for k in range(lo, t + 1)))
            assert got[w, t] == pytest.approx(page if window <= 0 else best)


def _gated(concern: float = 4.0, gate: float = 3.0, watch: float = 3.0) -> LevelThresholds:
    return LevelThresholds(
        domain=np.inf, concern=concern, urgent=6.75, watch=watch, rule="gated_total", parameter=gate
    )


def test_a_single_domain_never_reaches_watch_or_concern() -> None:
    culture = np.array([[[40.0], [2.5], [0.0], [0.0]]])  # a staffing crisis: one domain, another wandering
    total = np.array([[45.0]])
    level, _ = ward_levels(culture, np.zeros((1, 1), dtype=bool), _gated(), total=total)
    assert level[0, 0] == NONE


def test_levels_follow_the_total_once_two_domains_moved_and_urgent_still_needs_a_severe_domain() -> None:
    culture = np.array(
        [
            [[3.5], [3.0], [0.0], [0.0]],  # two domains at the gate, total 5: concern
            [[8.0], [3.2], [0.0], [0.0]],  # restrictive practice above urgent: urgent
            [[0.0], [0.0], [3.0], [9.0]],  # voice and staffing: concern, never urgent
            [[3.5], [3.0], [0.0], [0.0]],  # the same domains, total only 3.5: watch
        ]
    )
    total = np.array([[5.0], [10.0], [11.0], [3.5]])
    level, score = ward_levels(culture, np.zeros((4, 1), dtype=bool), _gated(), total=total)
    np.testing.assert_array_equal(level[:, 0], [CONCERN, URGENT, CONCERN, WATCH])
    np.testing.assert_allclose(score[:, 0], culture.sum(axis=1)[:, 0])  # the score is unchanged
    # the calibration's path to the level rule gives the same answer
    above = level_at_least(culture, CONCERN, concern=4.0, rule="gated_total", parameter=3.0, total=total)
    np.testing.assert_array_equal(above[:, 0], level[:, 0] >= CONCERN)


def test_the_rule_needs_the_total() -> None:
    culture = np.ones((2, 4, 3))
    with pytest.raises(ValueError, match="culture total"):
        ward_levels(culture, np.zeros((2, 3), dtype=bool), _gated())
    with pytest.raises(ValueError, match="does not match"):
        ward_levels(culture, np.zeros((2, 3), dtype=bool), _gated(), total=np.ones((3, 2)))


def test_named_domains_are_the_domains_at_the_gate_while_at_concern() -> None:
    culture = np.array([[[6.0], [3.1], [2.0], [0.0]], [[6.0], [3.1], [2.0], [0.0]]])
    total = np.array([[9.0], [3.0]])
    named = named_domains(culture, _gated(concern=4.0, gate=3.0), total)[:, :, 0]
    np.testing.assert_array_equal(named[0], [True, True, False, False])
    np.testing.assert_array_equal(named[1], [True, False, False, False])  # no concern: own threshold only


def test_settings_carry_the_gate_and_refuse_a_bad_one() -> None:
    th = level_thresholds(CombinationSettings(concern_rule="gated_total", concern_gate=2.5))
    assert (th.rule, th.parameter) == ("gated_total", 2.5)
    with pytest.raises(SettingsError, match="concern_gate"):
        config_from_mapping({"combination": {"concern_rule": "gated_total", "concern_gate": -1.0}})


@pytest.fixture(scope="module")
def gated_run():
    """A small synthetic trust scored with the gated_total rule (threshold on the total's scale)."""
    scenarios = ScenarioSettings.from_spec("closed_culture=3,acute_patient=1,staffing_crisis=1")
    trust = generate(TrustSpec(n_wards=20, n_weeks=120, wards_per_provider=7, scenarios=scenarios), seed=11)
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_trust(trust, Path(tmp))
        loaded = load_dataset(paths["observations"], paths["wards"], paths["events"])
    config = (
        Config()
        .replace("combination.concern_rule", "gated_total")
        .replace("combination.concern_threshold", 1.125)
        .replace("combination.watch_threshold", 0.5)
    )
    return loaded, config, score(loaded, config)


def test_scoring_with_the_rule_levels_by_the_gated_total(gated_run) -> None:
    _, _, run = gated_run
    ev = run.wards
    d2 = np.sort(ev.domain_stat, axis=1)[:, -2, :]
    at_concern = ev.level >= CONCERN
    assert at_concern.any()
    assert np.all(d2[at_concern] >= 3.0) and np.all(ev.culture_total[at_concern] >= 1.125)
    started = np.arange(ev.level.shape[1])[None, :] >= ev.first_period[:, None]
    np.testing.assert_array_equal(at_concern, started & (d2 >= 3.0) & (ev.culture_total >= 1.125))
    # every ward alert names at least two culture domains and the indicators behind them
    ward = run.alerts.filter(pl.col("scope") == "ward")
    assert ward.height > 0
    status = run.ward_status.filter(pl.col("level").is_in(["concern", "urgent"]))
    assert (
        status["domains"].str.count_matches(
            "restrictive_practice|harm_and_reporting|voice_and_oversight|staffing"
        )
        >= 2
    ).all()
    assert (status["indicators"].str.len_chars() > 0).all()
    for row in ward.iter_rows(named=True):
        assert row["statistic"] >= row["threshold"] == pytest.approx(1.125)
        assert any(ch.isdigit() for ch in row["explanation"])


def test_the_rule_does_not_look_ahead(gated_run) -> None:

    loaded, config, run = gated_run
    as_of = run.ward_status["period"].max() - dt.timedelta(weeks=30)
    part = score(loaded, config, as_of=as_of)
    assert part.ward_status.equals(run.ward_status.filter(pl.col("period") <= as_of))


def test_calibration_simulates_the_rule(gated_run) -> None:
    """calibrate-alerts chooses thresholds for the gated total through scoring's own level rule."""
    loaded, config, _ = gated_run
    rep = calibrate_alerts(
        loaded.observations, loaded.wards, loaded.events, loaded.cadence, config, replicates=1, seed=5
    )
    comb = config.combination
    i = int(np.searchsorted(rep.grid, rep.concern_threshold))
    assert (rep.concern_rate[i:] <= comb.target_false_concern_per_ward_year).all()
    assert (rep.decoy_rate[i:] <= comb.target_decoy_escalation).all()
    assert rep.concern_rate[0] >= rep.concern_rate[-1]
