"""Causal baselines: no look-ahead, shrinkage, overdispersion, rebase, NaN handling, updating, seasonality."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.baselines import BaselineSettings, fit_baselines, segment_starts


def _nb(rng, mu, alpha):
    return rng.poisson(rng.gamma(1 / alpha, alpha, mu.shape) * mu).astype(float)


@pytest.fixture(scope="module")
def counts():
    rng = np.random.default_rng(3)
    s, t = 120, 90
    n = rng.uniform(20, 600, (s, 1)) * rng.uniform(0.8, 1.2, (s, t))
    true_rate = rng.gamma(16, 0.012 / 16, (s, 1))
    y = _nb(rng, true_rate * n, 0.3)
    y[rng.random((s, t)) < 0.05] = np.nan
    group = np.repeat(np.array(["acute", "picu", "forensic"]), 40)
    rebase = np.zeros((s, t), dtype=bool)
    rebase[7, 50] = True
    rebase[8, 30] = True
    return y, n, group, rebase, true_rate[:, 0]


ARRAYS = (
    "expected_rate",
    "dispersion",
    "ready",
    "segment_start",
    "warmup_end",
    "group_rate",
    "shrinkage_weight",
    "seasonal_factor",
)


def _arrays(b):
    return {name: getattr(b, name) for name in ARRAYS}


SETTINGS = [
    BaselineSettings(),
    BaselineSettings(mode="updating", guard_periods=3, update_weight=0.05),
    BaselineSettings(dispersion_pooling="series", shrinkage=False),
    BaselineSettings(seasonal_harmonics=1, seasonal_fit_periods=52, periods_per_year=52.0),
]


@pytest.mark.parametrize("settings", SETTINGS, ids=["frozen", "updating", "series", "seasonal"])
def test_no_look_ahead(counts, settings):
    """Baseline at t uses no data at or after t: perturbing periods >= t0 changes nothing before t0."""
    y, n, group, rebase, _ = counts
    full = _arrays(fit_baselines(y, n, "count", group=group, rebase=rebase, settings=settings))
    for t0 in (27, 40, 58, 75):
        y2 = y.copy()
        y2[:, t0:] = np.where(np.isfinite(y2[:, t0:]), y2[:, t0:] * 5 + 7, 3.0)
        n2 = n.copy()
        n2[:, t0:] *= 0.3
        pert = _arrays(fit_baselines(y2, n2, "count", group=group, rebase=rebase, settings=settings))
        cut = _arrays(
            fit_baselines(
                y[:, :t0], n[:, :t0], "count", group=group, rebase=rebase[:, :t0], settings=settings
            )
        )
        for key, arr in full.items():
            np.testing.assert_array_equal(pert[key][:, :t0], arr[:, :t0], err_msg=f"{key} perturbed t0={t0}")
            np.testing.assert_array_equal(cut[key], arr[:, :t0], err_msg=f"{key} truncated t0={t0}")


def test_ready_after_warmup_and_rate_recovered(counts):
    y, n, group, _, true_rate = counts
    b = fit_baselines(y, n, "count", group=group)
    assert not b.ready[:, :26].any()
    assert b.ready[:, 40:].all()
    # cold start: before the own warm-up the rate is the peer group's (nothing at week 0: no data yet)
    assert np.isnan(b.expected_rate[:, 0]).all()
    assert b.peer_based[:, 1:26].all() and not b.peer_based[:, 40:].any()
    assert np.isfinite(b.expected_rate[:, 1:26]).all()
    no_cold = fit_baselines(y, n, "count", group=group, settings=BaselineSettings(cold_start=False))
    assert np.isnan(no_cold.expected_rate[:, :26]).all()
    np.testing.assert_array_equal(no_cold.expected_rate[:, 26:], b.expected_rate[:, 26:])
    est = b.expected_rate[:, 60]
    assert np.corrcoef(est, true_rate)[0, 1] > 0.7
    assert np.median(np.abs(est / true_rate - 1)) < 0.25


def test_dispersion_recovered(counts):
    y, n, group, _, _ = counts
    b = fit_baselines(y, n, "count", group=group)
    alpha = np.unique(b.dispersion[:, 60])
    assert alpha.size == 3  # pooled per group
    assert np.all((alpha > 0.18) & (alpha < 0.45))
    rng = np.random.default_rng(4)
    n2 = np.full((200, 40), 300.0)
    pois = rng.poisson(0.01 * n2).astype(float)
    assert fit_baselines(pois, n2, "count").dispersion[0, 30] < 0.03


def test_shrinkage_pulls_small_wards_more():
    rng = np.random.default_rng(5)
    s, t = 60, 40
    size = np.where(np.arange(s) % 2 == 0, 20.0, 2000.0)  # small and large wards
    n = np.repeat(size[:, None], t, axis=1)
    rate = rng.gamma(25, 0.01 / 25, s)
    y = rng.poisson(rate[:, None] * n).astype(float)
    b = fit_baselines(y, n, "count", group=np.zeros(s))
    w = b.shrinkage_weight[:, 30]
    assert np.all(w[::2] < w[1::2].min())
    assert np.all((w >= 0) & (w <= 1))
    raw = np.nansum(y[:, :26], axis=1) / n[:, :26].sum(axis=1)
    g = b.group_rate[0, 30]
    moved = np.abs(b.expected_rate[:, 30] - raw) / np.maximum(np.abs(raw - g), 1e-12)
    assert np.median(moved[::2]) > np.median(moved[1::2])
    # a ward with zero events in its warm-up still gets a positive expected rate
    y[0, :26] = 0.0
    assert fit_baselines(y, n, "count", group=np.zeros(s)).expected_rate[0, 30] > 0


def test_no_shrinkage_for_tiny_group():
    rng = np.random.default_rng(6)
    n = np.full((2, 40), 100.0)
    y = rng.poisson(0.05 * n).astype(float)
    b = fit_baselines(y, n, "count", group=np.array(["a", "b"]))
    np.testing.assert_array_equal(b.shrinkage_weight[:, 30], 1.0)
    np.testing.assert_allclose(b.expected_rate[:, 30], y[:, :26].sum(axis=1) / 2600)


def test_rebase_restarts_warmup():
    rng = np.random.default_rng(7)
    s, t = 30, 120
    n = np.full((s, t), 200.0)
    rate = np.full((s, t), 0.01)
    rate[0, 60:] = 0.03
    y = rng.poisson(rate * n).astype(float)
    rebase = np.zeros((s, t), dtype=bool)
    rebase[0, 60] = True
    b = fit_baselines(
        y, n, "count", group=np.zeros(s), rebase=rebase, settings=BaselineSettings(shrinkage=False)
    )
    assert b.ready[0, 59] and not b.ready[0, 60:86].any() and b.ready[0, 86:].all()
    assert (b.segment_start[0, 60:] == 60).all() and (b.segment_start[0, :60] == 0).all()
    assert b.warmup_end[0, 70] == -1 and b.warmup_end[0, 90] == 86
    np.testing.assert_allclose(b.expected_rate[0, 100], y[0, 60:86].sum() / n[0, 60:86].sum())
    assert b.expected_rate[0, 100] > 2 * b.expected_rate[0, 50]
    np.testing.assert_array_equal(segment_starts(rebase, (s, t))[0, 58:62], [0, 0, 60, 60])


def test_nan_handling_extends_warmup():
    rng = np.random.default_rng(8)
    n = np.full((3, 80), 100.0)
    y = rng.poisson(0.05 * n).astype(float)
    y[0, :20] = np.nan  # first 20 periods missing: 13 observations reached at period 33
    y[1, :] = np.nan  # never observed
    n[2, 5:10] = np.nan  # exposure missing
    st = BaselineSettings(shrinkage=False)
    b = fit_baselines(y, n, "count", settings=st)
    assert b.warmup_end[0, 40] == 33 and not b.ready[0, 32] and b.ready[0, 33]
    assert not b.ready[1].any() and np.isnan(b.expected_rate[1]).all()
    assert b.warmup_end[2, 40] == 26
    np.testing.assert_allclose(b.expected_rate[2, 40], (y[2, :5].sum() + y[2, 10:26].sum()) / 2100)


def test_proportion_beta_binomial():
    rng = np.random.default_rng(9)
    s, t = 150, 60
    n = np.round(rng.uniform(30, 90, (s, t)))
    p_true = rng.beta(40, 360, s)  # around 0.1
    rho = 0.04
    a, b_ = p_true * (1 - rho) / rho, (1 - p_true) * (1 - rho) / rho
    pp = rng.beta(a[:, None] * np.ones((1, t)), b_[:, None] * np.ones((1, t)))
    y = rng.binomial(n.astype(int), pp).astype(float)
    base = fit_baselines(y, n, "proportion", group=np.zeros(s))
    assert 0.02 < base.dispersion[0, 40] < 0.06
    assert np.all((base.expected_rate[:, 40] > 0) & (base.expected_rate[:, 40] < 1))
    assert np.median(np.abs(base.expected_rate[:, 40] / p_true - 1)) < 0.15
    with pytest.raises(ValueError):
        fit_baselines(y, n, "proportion", settings=BaselineSettings(seasonal_harmonics=1))


def test_measure_quasi_poisson_phi():
    rng = np.random.default_rng(10)
    n = np.full((50, 40), 100.0)
    hours = 6.0 * rng.poisson(0.02 * n)  # episodes of 6 hours: Var = 6 * mean
    b = fit_baselines(hours.astype(float), n, "measure", group=np.zeros(50))
    assert 4.5 < b.dispersion[0, 30] < 7.5


def test_updating_absorbs_slowly_and_respects_exclusions():
    rng = np.random.default_rng(11)
    s, t = 20, 200
    n = np.full((s, t), 500.0)
    rate = np.full((s, t), 0.01)
    rate[:, 100:] = 0.02
    y = rng.poisson(rate * n).astype(float)
    st = BaselineSettings(mode="updating", update_weight=0.05, guard_periods=8, shrinkage=False)
    b = fit_baselines(y, n, "count", settings=st)
    frozen = fit_baselines(y, n, "count", settings=dataclasses.replace(st, mode="frozen"))
    # guard: nothing from period 100 on is used before period 109 (= 100 + 1 + guard)
    y_alt = y.copy()
    y_alt[:, 100:] = 0.0
    alt = fit_baselines(y_alt, n, "count", settings=st)
    np.testing.assert_array_equal(alt.expected_rate[:, :109], b.expected_rate[:, :109])
    assert np.all(alt.expected_rate[:, 109] < b.expected_rate[:, 109])
    assert np.all(b.expected_rate[:, 199] > 1.5 * frozen.expected_rate[:, 199])
    exclude = np.zeros((s, t), dtype=bool)
    exclude[:, 100:] = True  # e.g. the detector's alarm excursion
    held = fit_baselines(y, n, "count", exclude=exclude, settings=st)
    np.testing.assert_allclose(held.expected_rate[:, 199], held.expected_rate[:, 108])
    assert np.all(held.expected_rate[:, 199] < 0.013)


def test_seasonal_factor_recovered():
    rng = np.random.default_rng(12)
    s, t = 80, 160
    n = np.full((s, t), 300.0)
    tt = np.arange(t)
    season = np.exp(0.4 * np.cos(2 * np.pi * tt / 52))
    y = rng.poisson(0.01 * n * season[None, :]).astype(float)
    st = BaselineSettings(seasonal_harmonics=1, periods_per_year=52.0, seasonal_fit_periods=104)
    b = fit_baselines(y, n, "count", group=np.zeros(s), settings=st)
    assert not b.ready[:, :104].any() and b.ready[:, 104:].all()
    f = b.seasonal_factor[0, 104:]
    expect = season[104:] / np.mean(np.exp(0.4 * np.cos(2 * np.pi * np.arange(520) / 520)))
    np.testing.assert_allclose(f, expect, rtol=0.06)
    np.testing.assert_allclose(np.nanmean(b.expected_rate[:, 104:] / (0.01 * season[104:])), 1.0, rtol=0.05)


def _fuzz_case(seed: int, family: str):
    """Ragged panel: late starts, gaps, zero/NaN exposure, rebases, small and singleton groups."""
    rng = np.random.default_rng(100 + seed)
    s, t = 48, 70
    n = rng.uniform(5, 300, (s, 1)) * rng.uniform(0.7, 1.3, (s, t))
    n[rng.random((s, t)) < 0.03] = 0.0
    n[rng.random((s, t)) < 0.02] = np.nan
    rate = rng.gamma(4, 0.05 / 4, (s, 1))
    if family == "proportion":
        n = np.round(np.nan_to_num(n, nan=0.0))
        y = rng.binomial(n.astype(int), np.minimum(rate * 4, 0.9)).astype(float)
        y[rng.random((s, t)) < 0.01] += 500  # y > n: unusable
    else:
        y = _nb(rng, rate * np.nan_to_num(n), 0.4) * (1.7 if family == "measure" else 1.0)
    y[rng.random((s, t)) < 0.08] = np.nan
    late = rng.random(s) < 0.3
    y[late, : int(rng.integers(5, 45))] = np.nan  # series starting late: other warm-up ends
    y[rng.random(s) < 0.05] = 0.0  # all-zero series
    group = rng.choice(np.array(["a", "b", "c", "solo"]), s, p=[0.4, 0.3, 0.28, 0.02])
    rebase = rng.random((s, t)) < 0.01
    exclude = rng.random((s, t)) < 0.05
    return y, n, group, rebase, exclude


FUZZ_SETTINGS = [
    BaselineSettings(warmup_periods=10, min_observed=6),
    BaselineSettings(warmup_periods=10, min_observed=6, mode="updating", guard_periods=2, update_weight=0.1),
    BaselineSettings(warmup_periods=8, min_observed=8, dispersion_pooling="series"),
    BaselineSettings(warmup_periods=12, min_observed=4, shrinkage=False, min_group_size=5),
    BaselineSettings(warmup_periods=0, min_observed=0),
]


@pytest.mark.parametrize("family", ["count", "proportion", "measure"])
@pytest.mark.parametrize("seed", range(3))
def test_bit_identical_to_plain_reference(family, seed):
    """The compiled passes and per-stratum peers give the plain formulation's results to the bit."""
    from reference_baselines import reference_fit

    y, n, group, rebase, exclude = _fuzz_case(seed, family)
    cases = [{"group": group, "rebase": rebase}, {"group": group, "rebase": rebase, "exclude": exclude}, {}]
    settings = list(FUZZ_SETTINGS)
    if family != "proportion":
        settings.append(
            BaselineSettings(seasonal_harmonics=1, periods_per_year=26.0, seasonal_fit_periods=30)
        )
    for st in settings:
        st = dataclasses.replace(st, cold_start=False)  # the reference has no peer-based cold start
        for kw in cases:
            got = _arrays(fit_baselines(y, n, family, settings=st, **kw))
            ref = reference_fit(y, n, family, settings=st, **kw)
            for name, want in ref.items():
                have = got[name]
                assert have.dtype == want.dtype and have.shape == want.shape, name
                if want.dtype.kind == "f":
                    have, want = have.view(np.uint64), want.view(np.uint64)
                np.testing.assert_array_equal(have, want, err_msg=f"{name} {st} {sorted(kw)}")
