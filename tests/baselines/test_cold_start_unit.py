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
