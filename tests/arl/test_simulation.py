"""Simulated run lengths: generic detector interface, cross-checks against exact methods, NB CUSUM."""

import numpy as np
import pytest

from engine.arl import (
    ewma_arl,
    normal_cusum_arl,
    shewhart_arl,
    shewhart_false_alarm_probability,
    simulate_false_alarm_probability,
    simulate_run_length,
)
from engine.arl.kernels import cusum_alarms, ewma_alarms, two_sided_normal_cusum_alarms
from engine.arl.negbin import nb_cusum_arl_discretised, nb_cusum_arl_simulated, nb_llr_increment


def normal(shift=0.0):
    return lambda rng, R, T: rng.standard_normal((R, T)) + shift


def shewhart_detector(L):
    return lambda x: np.abs(x) > L


def test_shewhart_simulation_matches_closed_form():
    sim = simulate_run_length(shewhart_detector(3.0), normal(), replicates=20_000, seed=3, initial_periods=64)
    assert sim.censored.sum() == 0
    assert abs(sim.arl - 370.4) < 4 * sim.se
    res = sim.result()
    assert res.method == "simulation" and res.replicates == 20_000 and res.se == pytest.approx(sim.se)
    p, se = simulate_false_alarm_probability(shewhart_detector(3.0), normal(), 52, replicates=40_000, seed=4)
    assert abs(p - shewhart_false_alarm_probability(3.0, 52)) < 4 * se


def test_simulation_is_deterministic_and_seed_dependent():
    a = simulate_run_length(shewhart_detector(2.5), normal(), replicates=500, seed=11, initial_periods=8)
    b = simulate_run_length(shewhart_detector(2.5), normal(), replicates=500, seed=11, initial_periods=8)
    c = simulate_run_length(shewhart_detector(2.5), normal(), replicates=500, seed=12, initial_periods=8)
    np.testing.assert_array_equal(a.run_lengths, b.run_lengths)
    assert not np.array_equal(a.run_lengths, c.run_lengths)


def test_doubling_gives_same_run_lengths_as_one_long_block():
    # a causal detector: extending by doubling and re-running must not change any run length
    det = lambda x: cusum_alarms(x - 0.5, 4.0)  # noqa: E731
    x = np.random.default_rng(0).standard_normal((200, 8000))
    offset = [0]

    def replay(rng, R, T):  # hands out consecutive column blocks of the fixed array
        block = x[:R, offset[0] : offset[0] + T]
        offset[0] += T
        return block

    sim = simulate_run_length(
        det, replay, replicates=200, initial_periods=16, batch=200, common_random_numbers=True
    )
    full = det(x)
    assert full.any(axis=1).all()
    np.testing.assert_array_equal(sim.run_lengths, full.argmax(axis=1) + 1)


def test_censoring_reported():
    sim = simulate_run_length(
        shewhart_detector(6.0), normal(), replicates=100, seed=1, initial_periods=10, max_periods=40
    )
    assert sim.censored.all() and (sim.run_lengths == 40).all()
    assert sim.result().censored == 100


def test_detector_shape_checked():
    with pytest.raises(ValueError, match="shape"):
        simulate_run_length(lambda x: x[:, :1] > 0, normal(), replicates=10, initial_periods=4)


def test_two_sided_cusum_fir_by_simulation():
    # §1.2: two-sided FIR h/2, h = 4: spc 148.7 (published 149); the combination formula would give 158
    det = lambda x: two_sided_normal_cusum_alarms(x, 0.5, 4.0, head_start=2.0)  # noqa: E731
    sim = simulate_run_length(det, normal(), replicates=20_000, seed=21, initial_periods=256)
    assert abs(sim.arl - 148.7) < 4 * sim.se
    assert sim.arl < 155
    # zero start: simulation agrees with the integral equation
    det0 = lambda x: two_sided_normal_cusum_alarms(x, 0.5, 4.0)  # noqa: E731
    sim0 = simulate_run_length(det0, normal(1.0), replicates=20_000, seed=22, initial_periods=32)
    assert abs(sim0.arl - normal_cusum_arl(0.5, 4.0, 1.0).arl) < 4 * sim0.se


def test_ewma_simulation_matches_integral_equation():
    c = 2.814 * np.sqrt(0.1 / 1.9)
    sim = simulate_run_length(
        lambda x: ewma_alarms(x, 0.1, c), normal(0.5), replicates=20_000, seed=8, initial_periods=64
    )
    assert abs(sim.arl - ewma_arl(0.1, 2.814, 0.5).arl) < 4 * sim.se


def test_shewhart_shift_simulation():
    sim = simulate_run_length(
        shewhart_detector(3.0), normal(1.0), replicates=20_000, seed=9, initial_periods=64
    )
    assert abs(sim.arl - shewhart_arl(3.0, 1.0).arl) < 4 * sim.se


# --- negative-binomial LLR CUSUM §1.6 ---------------------------------------------------------


def test_nb_increment_matches_loglik_ratio():
    from scipy.stats import nbinom

    mu0, alpha, kappa = 10.0, 0.5, np.log(2)
    x = np.arange(0, 40, dtype=float)
    size = 1 / alpha
    llr = nbinom.logpmf(x, size, size / (size + mu0 * np.exp(kappa))) - nbinom.logpmf(
        x, size, size / (size + mu0)
    )
    np.testing.assert_allclose(nb_llr_increment(x, mu0, alpha, kappa), llr, rtol=1e-10, atol=1e-12)


@pytest.mark.slow
def test_nb_cusum_arl0_1345_by_simulation():
    res = nb_cusum_arl_simulated(10.0, 0.5, 2.0, 5.0, replicates=20_000, seed=20_240_501)
    assert res.method == "simulation" and res.censored == 0
    # reference: Markov g = 50 -> 1345.1, Monte Carlo 1342 +/- 10
    assert abs(res.arl - 1345.1) < 4 * np.hypot(res.se, 10.0)
    # far from the g = 5 Markov figure (519.6) the package default produces
    assert res.arl > 1200
    # our converged Brook-Evans discretisation agrees with the simulation
    fine = nb_cusum_arl_discretised(10.0, 0.5, 2.0, 5.0, cells=1000).arl
    assert abs(res.arl - fine) < 4 * res.se
    assert abs(fine - 1345.1) < 5


def test_nb_cusum_arl1():
    res = nb_cusum_arl_simulated(10.0, 0.5, 2.0, 5.0, mu=20.0, replicates=20_000, seed=2)
    fine = nb_cusum_arl_discretised(10.0, 0.5, 2.0, 5.0, mu=20.0, cells=1000).arl
    assert abs(fine - 10.41) < 0.02  # g = 50: 10.41
    assert abs(res.arl - fine) < 4 * res.se
    assert abs(res.arl - 10.33) < 4 * np.hypot(res.se, 0.05)  # Monte Carlo 10.33 +/- 0.05
