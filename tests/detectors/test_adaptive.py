"""Adaptive LLR evidence: predictable alternative, true likelihood ratios, no look-ahead."""

from __future__ import annotations

import numpy as np
import pytest

from engine.detectors.adaptive import adaptive_llr, shift_estimate


def _counts(seed: int, s: int = 4000, t: int = 60, ratio: float = 1.0):
    rng = np.random.default_rng(seed)
    n = rng.uniform(50, 150, (s, t))
    rate = np.full((s, t), 0.01)
    y = rng.poisson(rate * n * ratio).astype(float)
    y[rng.random((s, t)) < 0.05] = np.nan
    return y, n, rate


def test_estimate_uses_only_earlier_periods_and_stays_in_range():
    y, n, rate = _counts(1, s=50)
    r = shift_estimate(y, rate * n, "up", 1.5, 1.5, 4.0, 0.1, 2.0)
    assert r.min() >= 1.5 and r.max() <= 4.0
    assert np.all(r[:, 0] == 1.5)  # the design ratio before any data
    down = shift_estimate(y, rate * n, "down", 0.5, 1.5, 4.0, 0.1, 2.0)
    assert down.min() >= 0.25 and down.max() <= 1 / 1.5
    for cut in (1, 17, 59):
        z_full, _ = adaptive_llr("count", y, n, rate, np.zeros_like(y), "up", 1.5, 1.5, 4.0, 0.1, 2.0)
        pert = y.copy()
        pert[:, cut:] = 99.0
        z_pert, _ = adaptive_llr("count", pert, n, rate, np.zeros_like(y), "up", 1.5, 1.5, 4.0, 0.1, 2.0)
        np.testing.assert_array_equal(z_pert[:, :cut], z_full[:, :cut])


def test_in_control_increments_are_likelihood_ratios():
    """E exp(z_t) = 1 in control for each t: the alternative is fixed before y_t is seen."""
    y, n, rate = _counts(2)
    z, _ = adaptive_llr("count", y, n, rate, np.zeros_like(y), "up", 1.5, 1.25, 4.0, 0.2, 2.0)
    lr = np.exp(z[:, 10:])
    assert np.nanmean(lr) == pytest.approx(1.0, abs=0.02)
    assert np.nanmean(z[:, 10:]) < 0  # negative drift in control


def test_adapts_to_a_large_shift():
    y, n, rate = _counts(3, s=500, ratio=2.5)
    z_ad, r = adaptive_llr("count", y, n, rate, np.zeros_like(y), "up", 1.5, 1.5, 4.0, 0.1, 2.0)
    assert np.median(r[:, -1]) > 2.0
    from engine.detectors.scores import poisson_llr

    z_fixed = poisson_llr(y, rate * n, 1.5)
    assert np.nanmean(z_ad[:, 20:]) > 1.3 * np.nanmean(z_fixed[:, 20:])


def test_proportions_use_the_beta_binomial_with_the_shifted_probability():
    rng = np.random.default_rng(4)
    n = np.full((300, 40), 400.0)
    p = np.full((300, 40), 0.12)
    s = (1 - 0.01) / 0.01  # beta-binomial with intra-class correlation 0.01, as the LLR assumes
    y = rng.binomial(400, rng.beta(0.12 * s, 0.88 * s, (300, 40))).astype(float)
    z, _ = adaptive_llr("proportion", y, n, p, np.full((300, 40), 0.01), "up", 1.6, 1.5, 4.0, 0.1, 2.0)
    assert np.isfinite(z).all()
    assert np.nanmean(np.exp(z[:, 5:])) == pytest.approx(1.0, abs=0.05)


def _compliance(seed: int, p_true: float, s: int = 2000, t: int = 36, n: float = 25.0):
    rng = np.random.default_rng(seed)
    nn = np.full((s, t), n)
    y = rng.binomial(int(n), p_true, (s, t)).astype(float)
    return y, nn, np.full((s, t), 0.9)


def test_odds_scale_bets_on_a_plausible_fall_in_a_high_proportion():
    """Supervision held 90% of the time, closure direction down: the odds scale's smallest
    alternative is odds 1/1.5 (90% -> 86%), the probability scale's 60%."""
    y, n, p = _compliance(5, 0.9)
    args = ("down", 0.6, 1.5, 4.0, 0.1, 2.0)
    z_odds, r_odds = adaptive_llr("proportion", y, n, p, np.zeros_like(y), *args, "odds")
    z_prob, _ = adaptive_llr("proportion", y, n, p, np.zeros_like(y), *args, "probability")
    # a likelihood ratio in control (the probability scale's is too, but its far alternative makes
    # exp(z) so heavy-tailed that a sample mean converges slowly) ...
    assert np.mean(np.exp(z_odds[:, 5:])) == pytest.approx(1.0, abs=0.03)
    # ... and the probability scale charges several nats a month against a fall, the odds scale a fraction
    assert np.mean(z_prob[:, 5:]) < -3.0
    assert -0.6 < np.mean(z_odds[:, 5:]) < 0
    assert r_odds.max() <= 1 / 1.5 + 1e-12 and r_odds.min() >= 0.25 - 1e-12
    # a real fall to 80% earns evidence on the odds scale, and the estimate follows it (OR 0.44)
    y2, n2, p2 = _compliance(6, 0.8)
    z2, r2 = adaptive_llr("proportion", y2, n2, p2, np.zeros_like(y2), *args, "odds")
    z2p, _ = adaptive_llr("proportion", y2, n2, p2, np.zeros_like(y2), *args, "probability")
    assert np.mean(z2[:, 10:]) > 0.5
    assert np.mean(z2[:, 10:]) > np.mean(z2p[:, 10:]) + 1.0
    assert np.median(r2[:, -1]) == pytest.approx(0.8 * 0.1 / (0.2 * 0.9), rel=0.2)


def test_odds_and_probability_scales_agree_for_a_small_proportion():
    rng = np.random.default_rng(7)
    n = np.full((500, 30), 450.0)
    p = np.full((500, 30), 0.02)
    y = rng.binomial(450, 0.04, (500, 30)).astype(float)
    args = ("up", 1.6, 1.5, 4.0, 0.1, 2.0)
    _, r_odds = adaptive_llr("proportion", y, n, p, np.zeros_like(y), *args, "odds")
    _, r_prob = adaptive_llr("proportion", y, n, p, np.zeros_like(y), *args, "probability")
    np.testing.assert_allclose(r_odds[:, 10:], r_prob[:, 10:], rtol=0.05)


def test_odds_estimate_uses_only_earlier_periods():
    y, n, p = _compliance(8, 0.85, s=50)
    z_full, _ = adaptive_llr("proportion", y, n, p, np.zeros_like(y), "down", 0.6, 1.5, 4.0, 0.1, 2.0, "odds")
    for cut in (1, 12, 35):
        pert = y.copy()
        pert[:, cut:] = 0.0
        z_pert, _ = adaptive_llr(
            "proportion", pert, n, p, np.zeros_like(y), "down", 0.6, 1.5, 4.0, 0.1, 2.0, "odds"
        )
        np.testing.assert_array_equal(z_pert[:, :cut], z_full[:, :cut])
