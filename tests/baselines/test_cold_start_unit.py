"""Peer-based cold start and predictive uncertainty of the baselines."""

from __future__ import annotations

import numpy as np
import pytest

from engine.baselines import BaselineSettings, fit_baselines
from engine.baselines.coldstart import predictive_dispersion


def _panel(seed: int, s: int = 90, t: int = 70):
    rng = np.random.default_rng(seed)
    n = rng.uniform(80, 120, (s, t))
    true = rng.gamma(8.0, 0.01 / 8.0, (s, 1))
    y = rng.poisson(true * n).astype(float)
    late = rng.random(s) < 0.4
    start = np.where(late, rng.integers(5, 40, s), 0)
    y[np.arange(t)[None, :] < start[:, None]] = np.nan
    group = np.array(["a", "b", "c"])[np.arange(s) % 3]
    return y, n, group, true[:, 0]


def test_cold_start_is_causal():
    y, n, group, _ = _panel(0)
    st = BaselineSettings(warmup_periods=26, min_observed=13)
    full = fit_baselines(y, n, "count", group=group, settings=st)
    for cut in (3, 20, 45):
        cut_fit = fit_baselines(y[:, :cut], n[:, :cut], "count", group=group, settings=st)
        np.testing.assert_array_equal(cut_fit.expected_rate, full.expected_rate[:, :cut])
        np.testing.assert_array_equal(cut_fit.dispersion, full.dispersion[:, :cut])
        np.testing.assert_array_equal(cut_fit.peer_based, full.peer_based[:, :cut])
        pert = y.copy()
        pert[:, cut:] = 50.0
        p_fit = fit_baselines(pert, n, "count", group=group, settings=st)
        np.testing.assert_array_equal(p_fit.expected_rate[:, :cut], full.expected_rate[:, :cut])


def test_peer_rate_then_own_history_takes_over():
    y, n, group, true = _panel(1)
    st = BaselineSettings(warmup_periods=26, min_observed=13)
    b = fit_baselines(y, n, "count", group=group, settings=st)
    assert b.peer_based[:, 5:26].any() and not b.peer_based[b.ready].any()
    # early on the rate is about the peers' (group mean 0.01), with a large estimate uncertainty
    first = np.argmax(np.isfinite(y), axis=1)
    rows = np.flatnonzero(first < 5)
    early = b.expected_rate[rows, 6]
    assert np.median(np.abs(early / 0.01 - 1)) < 0.2
    assert np.nanmedian(b.estimate_cv2[rows, 6]) > np.nanmedian(b.estimate_cv2[rows, 40])
    # later the ward's own rate dominates
    late = b.expected_rate[rows, 60]
    assert np.corrcoef(late, true[rows])[0, 1] > np.corrcoef(early, true[rows])[0, 1]


def test_predictive_dispersion_adds_the_estimate_variance():
    a = np.array([0.2, 0.0])
    np.testing.assert_allclose(predictive_dispersion("count", a, a, np.array([0.1, 0.1]), a), [0.32, 0.1])
    rho = predictive_dispersion(
        "proportion", np.array([0.01]), np.array([0.2]), np.array([0.04]), np.array([100.0])
    )
    assert rho[0] == pytest.approx(0.01 + 0.04 * 0.2 / 0.8)
    phi = predictive_dispersion(
        "measure", np.array([2.0]), np.array([0.5]), np.array([0.1]), np.array([10.0])
    )
    assert phi[0] == pytest.approx(2.0 + 0.1 * 5.0)
    # no uncertainty, no change
    np.testing.assert_array_equal(predictive_dispersion("count", a, a, np.full(2, np.nan), a), a)


def _providers(seed: int, provider_cv: float, p: int = 20, per: int = 6, t: int = 60, join: int = 30):
    """One ward type in ``p`` providers of ``per`` wards; provider rates vary by ``provider_cv``, wards
    within a provider by 0.15; the last ward of every provider joins at ``join``."""
    rng = np.random.default_rng(seed)
    prov_rate = (
        0.01 * rng.lognormal(-0.5 * provider_cv**2, provider_cv, p) if provider_cv else np.full(p, 0.01)
    )
    provider = np.repeat(np.arange(p), per)
    true = prov_rate[provider] * rng.lognormal(-0.5 * 0.15**2, 0.15, p * per)
    n = rng.uniform(80, 120, (p * per, t))
    y = rng.poisson(true[:, None] * n).astype(float)
    new = np.arange(p * per) % per == per - 1
    y[new, :join] = np.nan
    return y, n, provider.astype(str), true, new


def _log_error(b, true, rows, cols) -> float:
    return float(np.mean(np.abs(np.log(b.expected_rate[np.ix_(rows, cols)] / true[rows, None]))))


def test_provider_level_pulls_a_new_ward_toward_its_providers_wards():
    y, n, provider, true, new = _providers(2, provider_cv=0.5)
    group = np.full(y.shape[0], "acute")
    st = BaselineSettings(warmup_periods=26, min_observed=13)
    with_prov = fit_baselines(y, n, "count", group=group, settings=st, provider=provider)
    trust_only = fit_baselines(y, n, "count", group=group, settings=st)
    rows, cols = np.flatnonzero(new), np.arange(31, 40)  # the new wards' first weeks
    assert with_prov.peer_based[np.ix_(rows, cols)].all()
    # measured ~0.16 against ~0.39 (the trust's rate alone)
    assert _log_error(with_prov, true, rows, cols) < 0.6 * _log_error(trust_only, true, rows, cols)
    # and the estimate knows it is better: smaller uncertainty than against the whole trust
    assert np.median(with_prov.estimate_cv2[np.ix_(rows, cols)]) < np.median(
        trust_only.estimate_cv2[np.ix_(rows, cols)]
    )


def test_provider_level_is_harmless_when_providers_do_not_differ():
    y, n, provider, true, new = _providers(3, provider_cv=0.0)
    group = np.full(y.shape[0], "acute")
    st = BaselineSettings(warmup_periods=26, min_observed=13)
    with_prov = fit_baselines(y, n, "count", group=group, settings=st, provider=provider)
    trust_only = fit_baselines(y, n, "count", group=group, settings=st)
    rows, cols = np.flatnonzero(new), np.arange(31, 40)
    assert _log_error(with_prov, true, rows, cols) < 1.15 * _log_error(trust_only, true, rows, cols)


def test_national_figure_monitors_a_ward_type_with_too_few_peers():
    rng = np.random.default_rng(4)
    n = rng.uniform(80, 120, (2, 40))
    y = rng.poisson(0.012 * n).astype(float)  # two PICU-like wards: fewer than min_group_size = 3
    group = np.array(["picu", "picu"])
    st = BaselineSettings(warmup_periods=26, min_observed=13)
    alone = fit_baselines(y, n, "count", group=group, settings=st)
    assert not alone.peer_based.any()  # no peer rate of the trust's own
    national = fit_baselines(
        y,
        n,
        "count",
        group=group,
        settings=st,
        national_rate=np.full(2, 0.0134),
        national_cv2=np.full(2, 0.49),
    )
    assert national.peer_based[:, :26].all()
    assert national.expected_rate[0, 0] == pytest.approx(0.0134)  # nothing known yet: the national rate
    assert national.estimate_cv2[0, 0] == pytest.approx(0.49)  # ... as uncertain as services differ
    # the wards' own data (and each other's) take over as they accumulate
    own = y[0, :17].sum() / n[0, :17].sum()  # the ward's data up to t - 1 - guard at t = 25
    late = national.expected_rate[0, 25]
    assert min(own, 0.0134) < late < max(own, 0.0134) and abs(late - own) < abs(late - 0.0134)
    assert national.estimate_cv2[0, 25] < 0.2


def test_hierarchy_is_causal():
    y, n, provider, _, _ = _providers(5, provider_cv=0.5)
    group = np.where(np.arange(y.shape[0]) % 2 == 0, "a", "b")
    national = np.where(group == "a", 0.012, np.nan)
    cv2 = np.full(y.shape[0], 0.49)
    kw = {"group": group, "provider": provider, "national_rate": national, "national_cv2": cv2}
    st = BaselineSettings(warmup_periods=26, min_observed=13)
    full = fit_baselines(y, n, "count", settings=st, **kw)
    for cut in (5, 33, 45):
        pert = y.copy()
        pert[:, cut:] = 50.0
        p_fit = fit_baselines(pert, n, "count", settings=st, **kw)
        np.testing.assert_array_equal(p_fit.expected_rate[:, :cut], full.expected_rate[:, :cut])
        np.testing.assert_array_equal(p_fit.estimate_cv2[:, :cut], full.estimate_cv2[:, :cut])


def test_hierarchy_does_not_depend_on_series_that_start_later():
    """A truncated run (``score --as-of``) has no rows for wards that join after the cut-off: the
    rates of the others must not change (provider groups count once two of their wards have data)."""
    y, n, provider, _, new = _providers(6, provider_cv=0.5, join=35)
    # PICU: wards 3 and 4 of providers 0-9 (two with data), wards 4 and 5 of providers 10-19 (the
    # second joins at 35: alone of its type in its provider before that)
    ward, prov = np.arange(y.shape[0]) % 6, np.arange(y.shape[0]) // 6
    picu = np.where(prov < 10, (ward == 3) | (ward == 4), ward >= 4)
    group = np.where(picu, "picu", "acute")
    st = BaselineSettings(warmup_periods=26, min_observed=13)
    full = fit_baselines(y, n, "count", group=group, settings=st, provider=provider)
    cut = 30
    keep = ~new  # the late wards have no row before the cut
    part = fit_baselines(
        y[keep, :cut], n[keep, :cut], "count", group=group[keep], settings=st, provider=provider[keep]
    )
    np.testing.assert_array_equal(part.expected_rate, full.expected_rate[keep, :cut])
    np.testing.assert_array_equal(part.estimate_cv2, full.estimate_cv2[keep, :cut])
