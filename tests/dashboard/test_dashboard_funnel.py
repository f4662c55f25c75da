"""Funnel-plot maths: hand-computed values, no-overdispersion case, coverage under overdispersion."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from dashboard.services.funnel import funnel, winsorised_phi


def test_hand_computed_small_example():
    y = np.array([10.0, 20.0, 30.0, 40.0])
    n = np.array([1000.0, 2000.0, 2000.0, 4000.0])
    res = funnel(y, n)
    target = 100 / 9000
    assert res.target == pytest.approx(target)
    z = (np.sqrt(y / n) - np.sqrt(target)) * 2 * np.sqrt(n)
    np.testing.assert_allclose(res.z, z)
    lo, hi = np.quantile(z, [0.1, 0.9])
    phi = np.mean(np.clip(z, lo, hi) ** 2)
    assert res.phi == pytest.approx(phi)
    n_w = 4
    w = 4 * n
    tau2 = max(0.0, (n_w * phi - (n_w - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    assert res.tau2 == pytest.approx(tau2)
    # limits at the grid: back-transformed square-root scale
    k = 37
    sd = np.sqrt(1 / (4 * res.grid[k]) + tau2)
    assert res.upper95[k] == pytest.approx((np.sqrt(target) + stats.norm.ppf(0.975) * sd) ** 2)


def test_no_overdispersion_gives_tau_zero_and_poisson_like_limits():
    rng = np.random.default_rng(1)
    n = rng.uniform(500, 5000, size=400)
    y = rng.poisson(0.01 * n)
    res = funnel(y, n)
    assert res.tau2 == 0.0
    # Winsorising at 10%/90% shrinks E[z^2] below 1 for normal z (about 0.7): the method is
    # deliberately conservative about declaring overdispersion.
    assert 0.5 < res.phi < 1.0
    # about 5% outside the 95% limits
    outside = np.isin(res.flags, ["above_95", "above_998", "below_95", "below_998"]).mean()
    assert 0.02 < outside < 0.09


def test_overdispersion_is_detected_and_limits_widen_to_nominal_coverage():
    rng = np.random.default_rng(2)
    n = rng.uniform(500, 5000, size=600)
    true = 0.01 * rng.gamma(10, 1 / 10, size=n.size)  # between-ward variation (CV ~ 0.32)
    y = rng.poisson(true * n)
    res = funnel(y, n)
    assert res.phi > 2.0 and res.tau2 > 0
    outside_plain = (np.abs(res.z) > stats.norm.ppf(0.975)).mean()
    outside_adj = (np.abs(res.z_adjusted) > stats.norm.ppf(0.975)).mean()
    assert outside_plain > 0.2  # naive Poisson limits flag far too many wards
    # adjusted limits are near nominal; the Winsorised phi slightly under-estimates tau^2, so a
    # little above 5% is expected
    assert 0.02 < outside_adj < 0.15
    # the limits at the largest exposure are wider than the plain limits
    g0 = np.sqrt(res.target)
    plain = (g0 + stats.norm.ppf(0.975) * np.sqrt(1 / (4 * res.grid[-1]))) ** 2
    assert res.upper95[-1] > plain


def test_proportions_use_arcsine_scale_and_stay_in_unit_interval():
    rng = np.random.default_rng(3)
    n = rng.integers(20, 400, size=100).astype(float)
    y = rng.binomial(n.astype(int), 0.15)
    res = funnel(y, n, scale="proportion")
    assert np.all((res.lower998 >= 0) & (res.upper998 <= 1))
    z = (np.arcsin(np.sqrt(y / n)) - np.arcsin(np.sqrt(res.target))) * 2 * np.sqrt(n)
    np.testing.assert_allclose(res.z, z)


def test_missing_exposure_is_flagged_not_dropped():
    res = funnel(np.array([1.0, 2.0, 3.0, np.nan]), np.array([100.0, 0.0, 300.0, 50.0]))
    assert list(res.flags[[1, 3]]) == ["no_data", "no_data"]
    assert np.isnan(res.z[1]) and np.isfinite(res.z[0])


def test_winsorised_phi_resists_an_outlier():
    z = np.r_[np.zeros(19), 100.0]
    assert winsorised_phi(z) < 1.0
