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
