"""Penalty calibration by simulation under H0 (no change) for over-dispersed weekly counts."""

from __future__ import annotations

import numpy as np
import pytest

from engine.changepoint import (
    ChangePointSettings,
    calibrate_penalty,
    detect_changepoints,
    simulate_in_control,
)

RATE = 0.02  # restraints per occupied bed day: ~2 a week on a 14-bed ward
T = 156  # three years of weeks


def _exposure() -> np.ndarray:
    rng = np.random.default_rng(42)
    obd = rng.uniform(70, 130, T)  # occupied bed days per week
    obd[[20, 21, 90]] = np.nan  # three missing weeks
    return obd


def test_critical_penalty_is_the_no_change_threshold() -> None:
    exposure = _exposure()
    cal = calibrate_penalty(RATE, exposure, dispersion=1.5, alpha=0.1, n_sim=60, seed=3, rel_tol=1e-6)
    y = simulate_in_control(RATE, exposure, "poisson", 1.5, 60, np.random.default_rng(3))
    for factor, expect_change in ((1 + 1e-4, False), (1 - 1e-4, True)):
        for i in np.flatnonzero(cal.critical > 0):
            pen = ChangePointSettings(penalty="set", penalty_value=float(cal.critical[i] * factor))
            got = detect_changepoints(y[i], exposure, pen).n_changes[0] > 0
            assert got == expect_change


@pytest.mark.slow
def test_calibrated_penalty_holds_false_change_rate_on_overdispersed_counts() -> None:
    exposure = _exposure()
    settings = ChangePointSettings()  # dispersion estimated per series, min_size 6
    cal = calibrate_penalty(RATE, exposure, dispersion=1.5, alpha=0.05, n_sim=1000, seed=1, settings=settings)
    assert cal.false_change_rate <= 0.05
    assert 0 < cal.penalty < 60

    # independent in-control data: false-change rate near alpha
    y = simulate_in_control(RATE, exposure, "poisson", 1.5, 2000, np.random.default_rng(2024))
    n = np.broadcast_to(exposure, y.shape)
    calibrated = ChangePointSettings(penalty="set", penalty_value=cal.penalty)
    rate = np.mean(detect_changepoints(y, n, calibrated).n_changes > 0)
    assert 0.03 <= rate <= 0.07

    # ignoring the over-dispersion (Poisson cost, BIC) calls spurious changes far more often
    naive = ChangePointSettings(penalty="bic", dispersion="none")
    assert np.mean(detect_changepoints(y, n, naive).n_changes > 0) > 0.2

    # a real change (rate x 1.5 from week 80) is still found at the calibrated penalty
    rng = np.random.default_rng(7)
    mu = RATE * np.where(np.isnan(exposure), 1.0, exposure) * np.where(np.arange(T) < 80, 1.0, 1.5)
    shifted = rng.poisson(rng.gamma(np.broadcast_to(mu / 0.5, (500, T)), 0.5)).astype(float)
    found = detect_changepoints(shifted, np.broadcast_to(exposure, shifted.shape), calibrated)
    assert np.mean(found.n_changes > 0) > 0.5


def test_flat_series_shows_no_change_at_calibrated_penalty() -> None:
    """Fixed seed, rate 0.02 per occupied bed day (~2 a week), phi 1.5, three years of weeks."""
    exposure = _exposure()
    cal = calibrate_penalty(RATE, exposure, dispersion=1.5, alpha=0.05, n_sim=400, seed=5)
    flat = simulate_in_control(RATE, exposure, "poisson", 1.5, 1, np.random.default_rng(11))
    res = detect_changepoints(flat, exposure, ChangePointSettings(penalty="set", penalty_value=cal.penalty))
    assert res.n_changes[0] == 0
    assert res.segment_rate[0, 0] == pytest.approx(
        np.nansum(flat) / np.nansum(exposure[np.isfinite(flat[0])])
    )


def test_binomial_and_validation() -> None:
    trials = np.full(104, 40.0)
    cal = calibrate_penalty(0.2, trials, model="binomial", dispersion=1.3, alpha=0.1, n_sim=300, seed=2)
    assert cal.false_change_rate <= 0.1
    assert cal.false_change_probability(cal.penalty) == cal.false_change_rate
    assert cal.false_change_probability(0.0) > cal.alpha
    with pytest.raises(ValueError):
        calibrate_penalty(0.2, trials, alpha=1.5)
