"""Generator knobs of the robustness grid and the provider_deterioration scenario."""

from __future__ import annotations

import dataclasses
import json
from types import MappingProxyType

import numpy as np
import polars as pl
import pytest

from synthetic import TrustSpec, generate
from synthetic.frames import LATENT_COLUMNS, latent_frame
from synthetic.scenarios import CULTURE_DOMAIN_KEYS
from synthetic.spec import CULTURE_KINDS, ProviderDeteriorationSettings, parse_scenarios


def _spec(scenarios: str, **kw: object) -> TrustSpec:
    base = TrustSpec(n_wards=40, n_weeks=156)
    sc = dataclasses.replace(base.scenarios, counts=MappingProxyType(parse_scenarios(scenarios)))
    return dataclasses.replace(base, scenarios=sc, **kw)  # type: ignore[arg-type]


def test_provider_deterioration_hits_several_wards_of_one_provider_with_staggered_onsets():
    spec = _spec("provider_deterioration=2,closed_culture=2")
    t = generate(spec, seed=4)
    rows = t.truth.filter(pl.col("kind") == "provider_deterioration")
    assert "provider_deterioration" in CULTURE_KINDS
    provider = dict(zip(t.wards["ward_id"], t.wards["provider"], strict=True))
    for (gid,), grp in rows.group_by("group_id"):
        assert 3 <= grp.height <= 6, gid
        assert len({provider[w] for w in grp["ward_id"]}) == 1  # one provider
        assert grp["ward_id"].is_unique().all()
        onsets = np.array(grp["onset"].to_list(), dtype="datetime64[D]")
        assert (onsets - onsets.min()).astype(
            int
        ).max() <= 7 * spec.scenarios.provider_deterioration.stagger_weeks[1]
        assert grp["end"].null_count() == grp.height  # ongoing
        for eff in grp["effects"]:
            assert json.loads(eff)  # each ward has its own effects
    # every affected ward's multiplier is 1 before its onset and moved at full effect
    for row in rows.iter_rows(named=True):
        w = int(np.flatnonzero(t.ward_ids == row["ward_id"])[0])
        t0 = int(np.searchsorted(t.calendar.weeks, np.datetime64(row["onset"], "D")))
        key = next(k for k in json.loads(row["effects"]) if t.arrays[k].cadence == "weekly")
        assert np.all(t.arrays[key].multiplier[w, :t0] == 1.0)
    assert generate(spec, seed=4).truth.equals(t.truth)  # deterministic


def test_provider_deterioration_share_of_provider_wards():
    sc = dataclasses.replace(
        _spec("provider_deterioration=1").scenarios,
        provider_deterioration=ProviderDeteriorationSettings(ward_share=0.5),
    )
    t = generate(dataclasses.replace(_spec("provider_deterioration=1"), scenarios=sc), seed=1)
    assert t.truth.filter(pl.col("kind") == "provider_deterioration").height == 5  # half of 10 wards


def test_designed_episodes_move_exactly_the_requested_domains_and_indicators():
    base = _spec("closed_culture=6")
    cc = dataclasses.replace(base.scenarios.closed_culture, n_domains=2, n_indicators=5, effect_scale=0.5)
    spec = dataclasses.replace(base, scenarios=dataclasses.replace(base.scenarios, closed_culture=cc))
    domain_of = {k: d for d, keys in CULTURE_DOMAIN_KEYS.items() for k in keys}
    for eff in generate(spec, seed=2).truth.filter(pl.col("kind") == "closed_culture")["effects"]:
        e = {k: v for k, v in json.loads(eff).items() if k in domain_of}  # derived ones excluded
        assert len(e) == 5 and len({domain_of[k] for k in e}) == 2
        assert all(0.3 < v < 1.5 for v in e.values())  # half the log-effect: at most sqrt(2)


def test_onset_window_fixes_the_history_before_onset():
    base = _spec("closed_culture=5")
    sc = dataclasses.replace(base.scenarios, min_onset_week=13, onset_window_weeks=4)
    t = generate(
        dataclasses.replace(base, scenarios=sc, mess=dataclasses.replace(base.mess, late_joiner_share=0.0)),
        seed=3,
    )
    onsets = t.truth.filter(pl.col("kind") == "closed_culture")["onset"]
    weeks = (np.array(onsets.to_list(), dtype="datetime64[D]") - np.datetime64(base.start)).astype(int) // 7
    assert weeks.min() >= 13 and weeks.max() <= 17


def test_dispersion_and_rate_scales_change_the_draws_as_stated():
    plain = generate(_spec("none"), seed=5)
    noisy = generate(_spec("none", dispersion_scale=2.0, rate_scale=0.5), seed=5)
    a, b = plain.arrays["incidents_reported"], noisy.arrays["incidents_reported"]
    assert b.expected.mean() == pytest.approx(0.5 * a.expected.mean(), rel=1e-9)

    # variance / mean^2 - 1/mean estimates 1/size: doubled
    def alpha(arr):  # type: ignore[no-untyped-def]
        mu = arr.expected * arr.n
        return np.mean((arr.y - mu) ** 2 - mu) / np.mean(mu**2)

    assert alpha(b) / alpha(a) == pytest.approx(2.0, rel=0.15)


def test_latent_frame_is_the_in_control_rate():
    t = generate(_spec("closed_culture=2"), seed=6)
    lf = latent_frame(t)
    assert lf.columns == list(LATENT_COLUMNS)
    a = t.arrays["restraint"]
    got = lf.filter(pl.col("indicator") == "restraint")["expected_rate"].to_numpy().reshape(a.expected.shape)
    np.testing.assert_allclose(got * a.multiplier, a.expected)
    disp = lf.filter(pl.col("indicator") == "restraint")["dispersion"].unique().to_list()
    assert disp == [pytest.approx(1 / 1.5)]


def test_monthly_workforce_returns_sum_the_weeks_and_are_scored_as_monthly(tmp_path):
    """``workforce_cadence = "monthly"``: agency and bank shifts as one row per month (first day), the
    sums of the submitted weeks whose Monday falls in it; the rest of the trust is unchanged; scoring
    infers the monthly cadence from the rows; the latent truth follows (oracle)."""
    from engine.io import load_dataset
    from engine.panel import MISSING
    from synthetic import write_trust
    from synthetic.generator import WORKFORCE_WEEKLY

    assert set(WORKFORCE_WEEKLY) == {"agency_use", "bank_use"}
    weekly = generate(_spec("closed_culture=1,staffing_crisis=1"), seed=5)
    monthly = generate(_spec("closed_culture=1,staffing_crisis=1", workforce_cadence="monthly"), seed=5)
    cal = weekly.calendar
    for key in WORKFORCE_WEEKLY:
        w, m = weekly.arrays[key], monthly.arrays[key]
        assert m.cadence == "monthly" and m.y.shape == (w.y.shape[0], cal.months.size)
        submitted = w.status != MISSING
        month_y = np.add.reduceat(np.where(submitted, w.y, 0.0), cal.month_first_week, axis=1)
        month_n = np.add.reduceat(np.where(submitted, w.n, 0.0), cal.month_first_week, axis=1)
        np.testing.assert_allclose(m.y, month_y)
        np.testing.assert_allclose(m.n, month_n)
        # E[y] = expected * n holds for the month; the injected multiplier is carried
        expect = np.add.reduceat(np.where(submitted, w.expected * w.n, 0.0), cal.month_first_week, axis=1)
        ok = month_n > 0
        np.testing.assert_allclose((m.expected * m.n)[ok], expect[ok])
    for key in set(weekly.arrays) - set(WORKFORCE_WEEKLY):  # nothing else moves
        np.testing.assert_array_equal(weekly.arrays[key].published, monthly.arrays[key].published)
    rows = monthly.observations.filter(pl.col("indicator").is_in(list(WORKFORCE_WEEKLY)))
    assert (pl.Series(rows["period"]).dt.day() == 1).all()
    latent = latent_frame(monthly).filter(pl.col("indicator") == "agency_use")
    assert set(latent["cadence"]) == {"monthly"} and latent.height == 40 * cal.months.size
    paths = write_trust(monthly, tmp_path)
    load = load_dataset(paths["observations"], paths["wards"], paths["events"])
    assert {load.cadence[k] for k in WORKFORCE_WEEKLY} == {"monthly"}
    assert load.cadence["manager_changes"] == "weekly"
    with pytest.raises(ValueError, match="workforce_cadence"):
        TrustSpec(workforce_cadence="daily")
