"""Calibrated in-control false-alarm rates on overdispersed data, and what ignoring overdispersion costs.

Each detector's threshold is calibrated by simulation (calibration set, seed A) to a target zero-state
ARL0 of 200 periods under the overdispersed model, then its alarm rate is measured on an independent
overdispersed data set (seed B): it must be within 20% of the target. The same detector calibrated
under the plain (equidispersed) model, as if overdispersion were ignored, misses the target badly.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.detectors import BinomialCusum, Ewma, NegBinCusum, PoissonCusum
from engine.detectors.simulate import alarm_rate, calibrate_threshold, simulate_counts

R, T, TARGET = 300, 1000, 200.0


@pytest.fixture(scope="module")
def nb_sets():
    rng = np.random.default_rng(20261101)
    n = rng.uniform(150, 350, (1, T))  # weekly occupied bed days
    rate = np.full((1, T), 4 / 250)  # about 4 events a week
    mu = np.broadcast_to(rate * n, (R, T))
    alpha = 0.4
    calib = simulate_counts(mu, alpha, np.random.default_rng(1))
    check = simulate_counts(mu, alpha, np.random.default_rng(2))
    plain = simulate_counts(mu, 0.0, np.random.default_rng(3))
    return n, rate, alpha, calib, check, plain


def _arl(alarm: np.ndarray) -> float:
    return 1.0 / alarm_rate(alarm)


@pytest.mark.slow
def test_nb_cusum_calibrated_on_nb_hits_target(nb_sets):
    n, rate, alpha, calib, check, plain = nb_sets
    h_nb = calibrate_threshold(
        lambda h: NegBinCusum(threshold=h).run(calib, n, rate, alpha).alarm, TARGET, 0.5, 20
    )
    arl_nb = _arl(NegBinCusum(threshold=h_nb).run(check, n, rate, alpha).alarm)
    assert abs(arl_nb - TARGET) / TARGET < 0.2
    # ignoring overdispersion: Poisson CUSUM with the threshold calibrated on Poisson data
    h_p = calibrate_threshold(lambda h: PoissonCusum(threshold=h).run(plain, n, rate).alarm, TARGET, 0.5, 20)
    arl_p = _arl(PoissonCusum(threshold=h_p).run(check, n, rate).alarm)
    assert arl_p < 0.5 * TARGET  # far more false alarms than stated


@pytest.mark.slow
def test_ewma_variance_inflated_hits_target(nb_sets):
    n, rate, alpha, calib, check, plain = nb_sets
    big_l = calibrate_threshold(
        lambda v: Ewma(lam=0.1, limit=v).run(calib, n, rate, alpha).alarm, TARGET, 1.0, 5.0
    )
    arl = _arl(Ewma(lam=0.1, limit=big_l).run(check, n, rate, alpha).alarm)
    assert abs(arl - TARGET) / TARGET < 0.2
    l_plain = calibrate_threshold(
        lambda v: Ewma(lam=0.1, limit=v, overdispersed=False).run(plain, n, rate).alarm, TARGET, 1.0, 5.0
    )
    arl_plain = _arl(Ewma(lam=0.1, limit=l_plain, overdispersed=False).run(check, n, rate).alarm)
    assert arl_plain < 0.5 * TARGET


@pytest.mark.slow
def test_beta_binomial_cusum_hits_target():
    rng = np.random.default_rng(5)
    n = np.round(rng.uniform(40, 80, (1, T)))  # shifts per week
    p, rho = 0.1, 0.05
    s = (1 - rho) / rho

    def draw(seed: int, overdispersed: bool) -> np.ndarray:
        g = np.random.default_rng(seed)
        pp = g.beta(p * s, (1 - p) * s, (R, T)) if overdispersed else np.full((R, T), p)
        return g.binomial(np.broadcast_to(n, (R, T)).astype(np.int64), pp).astype(float)

    calib, check, plain = draw(1, True), draw(2, True), draw(3, False)
    rate = np.full((1, T), p)
    h = calibrate_threshold(
        lambda v: BinomialCusum(threshold=v).run(calib, n, rate, rho).alarm, TARGET, 0.2, 20
    )
    arl = _arl(BinomialCusum(threshold=h).run(check, n, rate, rho).alarm)
    assert abs(arl - TARGET) / TARGET < 0.2
    h_b = calibrate_threshold(
        lambda v: BinomialCusum(threshold=v, overdispersed=False).run(plain, n, rate).alarm, TARGET, 0.2, 20
    )
    arl_b = _arl(BinomialCusum(threshold=h_b, overdispersed=False).run(check, n, rate).alarm)
    assert arl_b < 0.5 * TARGET
