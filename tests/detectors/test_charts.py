"""CUSUM and EWMA behaviour: directions, NaN carry-over, restarts, onset, exact EWMA limits."""

from __future__ import annotations

import numpy as np
import pytest

from engine.detectors import BinomialCusum, Ewma, NegBinCusum, NormalCusum, PoissonCusum
from engine.detectors.scores import binomial_llr, poisson_llr


def test_both_runs_two_one_sided_charts():
    mu = np.full((1, 40), 5.0)
    y = np.full((1, 40), 5.0)
    y[0, 10:20] = 12.0  # rise
    y[0, 25:35] = 0.0  # fall
    res = PoissonCusum(direction="both", threshold=3.0).run(y, 1.0, mu)
    up, down = res.up.alarm[0], res.down.alarm[0]
    assert up[10:20].any() and not up[25:].any()
    assert down[25:35].any() and not down[:25].any()
    np.testing.assert_array_equal(res.alarm, res.up.alarm | res.down.alarm)
    only_up = PoissonCusum(direction="up", threshold=3.0).run(y, 1.0, mu)
    np.testing.assert_array_equal(only_up.up.statistic, res.up.statistic)
    assert only_up.down is None


def test_wrong_ratio_direction_raises():
    with pytest.raises(ValueError):
        PoissonCusum(direction="down", rate_ratio_down=1.5).run(np.ones((1, 3)), 1.0, np.ones((1, 3)))


def test_missing_periods_carry_and_onset():
    mu = np.full((1, 12), 2.0)
    y = np.array([[2, 2, 6, np.nan, np.nan, 6, 7, 0, 0, 0, 0, 0]], dtype=float)
    res = PoissonCusum(threshold=100.0).run(y, 1.0, mu)
    s = res.up.statistic[0]
    assert s[2] > 0 and s[3] == s[2] and s[4] == s[2]
    assert res.up.onset[0, 2] == 2 and res.up.onset[0, 6] == 2
    assert res.up.onset[0, 0] == -1
    assert not res.up.alarm.any()
    z = poisson_llr(y, mu, 1.5)
    c, path = 0.0, []
    for v in z[0]:
        if np.isfinite(v):
            c = max(0.0, c + v)
        path.append(c)
    np.testing.assert_allclose(s, path)
    assert (s == 0).any() and (res.up.onset[0, s == 0] == -1).all()


@pytest.mark.parametrize(
    ("restart", "after"),
    [("zero", 0.0), ("head_start", 2.0), ("none", None)],
)
def test_restart_policies(restart, after):
    mu = np.full((1, 6), 1.0)
    y = np.array([[15, np.nan, 1, 1, 1, 1]], dtype=float)
    res = PoissonCusum(threshold=4.0, restart=restart, head_start=0.5).run(y, 1.0, mu)
    z = poisson_llr(y, mu, 1.5)[0]
    s = res.up.statistic[0]
    assert res.up.alarm[0, 0]
    assert not res.up.alarm[0, 1]  # a missing period never alarms
    if after is None:
        assert s[1] == s[0]
        np.testing.assert_allclose(s[2], max(0, s[0] + z[2]))
    else:
        assert s[1] == after  # carried restart value
        np.testing.assert_allclose(s[2], max(0.0, after + z[2]))


def test_initial_head_start():
    mu = np.full((1, 3), 1.0)
    y = np.ones((1, 3))
    res = PoissonCusum(threshold=4.0, initial_head_start=True, head_start=0.5).run(y, 1.0, mu)
    z = poisson_llr(y, mu, 1.5)[0, 0]
    np.testing.assert_allclose(res.up.statistic[0, 0], 2.0 + z)


def test_per_series_threshold():
    mu = np.full((2, 5), 1.0)
    y = np.full((2, 5), 3.0)
    res = PoissonCusum(threshold=np.array([1.0, 100.0])).run(y, 1.0, mu)
    assert res.up.alarm[0].any() and not res.up.alarm[1].any()


def test_nb_increment_is_smaller_for_big_counts():
    """Overdispersion makes a large count less surprising: NB LLR < Poisson LLR."""
    y = np.array([[20.0]])
    mu = np.array([[8.0]])
    pois = poisson_llr(y, mu, 2.0)
    nb = poisson_llr(y, mu, 2.0, dispersion=0.3)
    assert nb[0, 0] < pois[0, 0]
    np.testing.assert_allclose(poisson_llr(y, mu, 2.0, dispersion=0.0), pois)
    r_nb = NegBinCusum(threshold=1.0, rate_ratio_up=2.0).run(y, 1.0, mu, dispersion=0.3)
    np.testing.assert_allclose(r_nb.up.statistic, np.maximum(nb, 0))


def test_binomial_llr_matches_bernoulli_form():
    """W = y ln OR - n ln(1 - p + OR p) equals y ln(p1/p0) + (n - y) ln((1-p1)/(1-p0))."""
    y, n, p, odds = np.array([[3.0]]), np.array([[20.0]]), np.array([[0.05]]), 2.0
    p1 = odds * p / (1 - p + odds * p)
    direct = y * np.log(p1 / p) + (n - y) * np.log((1 - p1) / (1 - p))
    np.testing.assert_allclose(binomial_llr(y, n, p, odds), direct)
    # beta-binomial with tiny rho tends to binomial
    np.testing.assert_allclose(binomial_llr(y, n, p, odds, dispersion=1e-9), direct, rtol=1e-5)
    res = BinomialCusum(direction="both").run(y, n, p, 0.05)
    assert res.up.statistic.shape == (1, 1) and res.down.statistic[0, 0] >= 0


def test_steiner_weight_anchor():
    """Steiner risk-adjusted weight (sequential-methods §1.5): Parsonnet s = 50, died, R_A = 2 -> 0.2598."""
    p = 1 / (1 + np.exp(-(-3.68 + 0.077 * 50)))
    w = binomial_llr(np.array([[1.0]]), np.array([[1.0]]), np.array([[p]]), 2.0)
    np.testing.assert_allclose(w, 0.2598, atol=5e-5)
    w0 = binomial_llr(np.array([[0.0]]), np.array([[1.0]]), np.array([[1 / (1 + np.exp(3.68))]]), 0.5)
    np.testing.assert_allclose(w0, 0.0124, atol=5e-5)


def test_normal_cusum_two_sided_arl0_by_simulation():
    """k = 0.5, h = 4: 1/ARL = 1/ARL+ + 1/ARL- = 1/167.68 (renewal alarm rate, two one-sided charts)."""
    rng = np.random.default_rng(11)
    x = rng.standard_normal((400, 5000))
    res = NormalCusum(direction="both", k=0.5, threshold=4.0, family="normal").run(x, 1.0, 0.0)
    rate = res.alarm.sum() / x.size
    assert abs(1 / rate - 167.68) / 167.68 < 0.04


def test_ewma_exact_limits_and_directions():
    lam, big_l = 0.2, 2.7
    y = np.zeros((1, 30))
    res = Ewma(direction="both", lam=lam, limit=big_l, family="normal").run(y, 1.0, 0.0)
    lim = res.up.threshold[0]
    i = np.arange(1, 31)
    np.testing.assert_allclose(lim, big_l * np.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * i))))
    np.testing.assert_allclose(lim[0], big_l * lam)
    y[0, 5] = 3.0  # z = 0.6 > 0.54 limit? first obs limit 0.54; at t=5 limit is larger
    up = Ewma(direction="up", lam=lam, limit=big_l, family="normal").run(y, 1.0, 0.0)
    assert not up.alarm.any()
    y[0, 5] = 20.0
    up = Ewma(direction="up", lam=lam, limit=big_l, family="normal").run(y, 1.0, 0.0)
    down = Ewma(direction="down", lam=lam, limit=big_l, family="normal").run(y, 1.0, 0.0)
    assert up.alarm[0, 5] and not down.alarm.any()
    np.testing.assert_allclose(up.up.statistic[0, 6], 0.0)  # restarted at zero
    assert np.isclose(up.up.threshold[0, 6], big_l * lam)  # limits restart too


def test_ewma_pearson_residual_uses_dispersion():
    y = np.array([[14.0]])
    mu = np.array([[10.0]])
    plain = Ewma(lam=1.0, limit=1.0, overdispersed=False).residuals(y, 1.0, mu, 0.5)
    inflated = Ewma(lam=1.0, limit=1.0).residuals(y, 1.0, mu, 0.5)
    np.testing.assert_allclose(plain, 4 / np.sqrt(10))
    np.testing.assert_allclose(inflated, 4 / np.sqrt(10 + 0.5 * 100))


def test_ewma_nan_carries():
    y = np.array([[1.0, np.nan, np.nan, 1.0]])
    res = Ewma(lam=0.5, limit=10.0, family="normal").run(y, 1.0, 0.0)
    s = res.up.statistic[0]
    assert s[1] == s[0] == s[2] == 0.5
    np.testing.assert_allclose(s[3], 0.75)
    np.testing.assert_allclose(res.up.threshold[0, 3], 10 * np.sqrt(0.5 / 1.5 * (1 - 0.5**4)))


def test_updating_baseline_with_excursion_mask_never_absorbs_alarm():
    """Frozen-baseline detector -> excursion mask -> updated baseline: the shift is not absorbed."""
    from engine.baselines import BaselineSettings, fit_baselines
    from engine.detectors import excursion_mask

    rng = np.random.default_rng(21)
    s, t = 40, 160
    n = np.full((s, t), 300.0)
    rate = np.full((s, t), 0.01)
    rate[:, 80:] = 0.02
    y = rng.poisson(rate * n).astype(float)
    frozen = fit_baselines(y, n, "count")
    det = NegBinCusum(threshold=4.0, restart="none")
    mask = excursion_mask(det.run(y, n, frozen.expected_rate, frozen.dispersion))
    assert mask[:, 95:].mean() > 0.95  # the sustained shift keeps the chart in its excursion
    st = BaselineSettings(mode="updating", update_weight=0.05, guard_periods=8, shrinkage=False)
    naive = fit_baselines(y, n, "count", settings=st)
    guarded = fit_baselines(y, n, "count", exclude=mask, settings=st)
    assert np.median(naive.expected_rate[:, -1]) > 0.017
    assert np.median(guarded.expected_rate[:, -1]) < 0.0125
