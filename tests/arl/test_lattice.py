"""Exact count-CUSUM chains: Lucas (1985) Poisson anchor, design table, Bernoulli table (§1.4–1.5)."""

import numpy as np
import pytest
from scipy.stats import binom, poisson

from engine.arl import (
    binomial_cusum_arl,
    binomial_reference_value,
    count_cusum_arl,
    count_cusum_false_alarm_probability,
    poisson_cusum_arl,
    poisson_reference_value,
    two_sided_count_cusum_arl,
)
from engine.arl.kernels import cusum_alarms
from engine.arl.lattice import lattice_denominator, negative_binomial, odds_ratio_to_p
from engine.arl.simulation import simulate_run_length


def test_lucas_1985_anchor():
    # mu = k = 0.25, h = 10, signal S >= h; head start h/2 = 5
    assert abs(poisson_cusum_arl(0.25, 0.25, 10).arl - 438.1) < 0.05
    assert abs(poisson_cusum_arl(0.25, 0.25, 10, head_start=5).arl - 333.1) < 0.05
    assert abs(poisson_cusum_arl(0.25, 0.25, 10, "down").arl - 436.8) < 0.05
    assert abs(poisson_cusum_arl(0.25, 0.25, 10, "down", head_start=5).arl - 318.3) < 0.05
    # published (3 s.f.)
    for got, pub in [
        (poisson_cusum_arl(0.25, 0.25, 10).arl, 438),
        (poisson_cusum_arl(0.25, 0.25, 10, head_start=5).arl, 333),
        (poisson_cusum_arl(0.25, 0.25, 10, "down").arl, 437),
        (poisson_cusum_arl(0.25, 0.25, 10, "down", head_start=5).arl, 318),
    ]:
        assert abs(got - pub) <= 0.5


def test_signal_conventions():
    # Lucas' S >= 10 equals spc's S > 39/4 on the quarter lattice
    geq = poisson_cusum_arl(0.25, 0.25, 10, signal="geq").arl
    gt = poisson_cusum_arl(0.25, 0.25, 39 / 4, signal="gt").arl
    assert geq == pytest.approx(gt, rel=1e-12)
    # and S > 10 is a different (longer) chart
    assert poisson_cusum_arl(0.25, 0.25, 10, signal="gt").arl > geq + 1


DESIGN = [  # mu0, k, h, ARL0, ARL(1.5 mu0), ARL(2 mu0)
    (0.5, 0.70, 3.55, 107.9, 23.6, 11.19),
    (1, 1.45, 3.80, 110.2, 16.9, 7.26),
    (2, 2.90, 4.25, 113.7, 11.6, 4.61),
    (4, 5.75, 4.30, 105.5, 7.4, 2.78),
    (8, 11.55, 4.40, 104.0, 4.9, 1.71),
    (0.5, 0.70, 5.75, 519.5, 47.3, 18.39),
    (1, 1.45, 5.90, 512.8, 31.2, 10.96),
    (2, 2.90, 6.35, 521.1, 19.9, 6.49),
    (4, 5.75, 6.55, 522.7, 12.0, 3.79),
    (8, 11.55, 6.50, 607.4, 7.5, 2.27),
]


@pytest.mark.parametrize("row", DESIGN)
def test_poisson_design_table(row):
    mu0, k, h, a0, a15, a2 = row
    assert round(mu0 / np.log(2) * 20) / 20 == pytest.approx(k)  # k = mu0/ln 2 on the 1/20 grid
    assert abs(poisson_reference_value(mu0, 2 * mu0) - mu0 / np.log(2)) < 1e-12
    assert abs(poisson_cusum_arl(mu0, k, h, m=20).arl - a0) <= 0.05 + 1e-9
    assert abs(poisson_cusum_arl(1.5 * mu0, k, h, m=20).arl - a15) <= 0.05 + 1e-9
    assert abs(poisson_cusum_arl(2 * mu0, k, h, m=20).arl - a2) <= 0.005 + 1e-9


def test_discreteness_trap_and_surveillance_value():
    for h in (6.40, 6.45):
        assert abs(poisson_cusum_arl(8, 11.55, h, m=20).arl - 422.4) < 0.05
    # surveillance::arlCusum(h=6.4, k=2.9, theta=2) on the 1/10 lattice = 521.14
    assert abs(poisson_cusum_arl(2, 2.9, 6.4).arl - 521.14) < 0.005


BERNOULLI = {2: (180.5, 45.4), 3: (481.2, 74.6), 4: (1137.2, 106.6), 5: (2482.7, 139.3)}


@pytest.mark.parametrize("h", list(BERNOULLI))
def test_bernoulli_table(h):
    a0, a1 = BERNOULLI[h]
    assert abs(binomial_cusum_arl(0.05, 1, 0.07, h).arl - a0) <= 0.05 + 1e-9
    assert abs(binomial_cusum_arl(0.10, 1, 0.07, h).arl - a1) <= 0.05 + 1e-9


def test_bernoulli_reference_value():
    # gamma for p0 = 0.05 -> p1 = 0.10 (Reynolds & Stoumbos) = 0.07235838 (surveillance::findK)
    or_ = (0.10 / 0.90) / (0.05 / 0.95)
    assert binomial_reference_value(0.05, or_) == pytest.approx(0.07235838, abs=5e-9)
    assert odds_ratio_to_p(0.05, or_) == pytest.approx(0.10)
    # binomial with n trials: k scales with n
    assert binomial_reference_value(0.05, or_, n=30) == pytest.approx(30 * 0.07235838, abs=1e-6)


def test_steiner_weights():
    # W = y ln R - ln(1 - p + R p) with the Parsonnet model logit p = -3.68 + 0.077 s
    def w(s, y, R):
        p = 1 / (1 + np.exp(-(-3.68 + 0.077 * s)))
        return y * np.log(R) - np.log(1 - p + R * p)

    expected = {
        (0, 0, 2): -0.0243,
        (0, 1, 2): 0.6688,
        (50, 0, 2): -0.4333,
        (50, 1, 2): 0.2598,
        (0, 0, 0.5): 0.0124,
        (0, 1, 0.5): -0.6808,
        (50, 0, 0.5): 0.3164,
        (50, 1, 0.5): -0.3768,
    }
    for (s, y, R), v in expected.items():
        assert abs(w(s, y, R) - v) < 5e-5
    # the same weight is ln R * (y - k) with k = binomial_reference_value(p, R)
    p = 1 / (1 + np.exp(3.68))
    assert np.log(2) * (1 - binomial_reference_value(p, 2.0)) == pytest.approx(w(0, 1, 2))


def test_lattice_checks():
    assert lattice_denominator(0.25, 10) == 4
    assert lattice_denominator(2.9, 6.35) == 20
    with pytest.raises(ValueError, match="rational lattice"):
        lattice_denominator(1 / np.log(2))
    with pytest.raises(ValueError, match="multiple of 1/4"):
        lattice_denominator(0.3, m=4)


def test_two_sided_product_chain():
    d = poisson(0.25)
    exact = two_sided_count_cusum_arl(d, 0.25, 10, 0.25, 10).arl
    up = poisson_cusum_arl(0.25, 0.25, 10).arl
    dn = poisson_cusum_arl(0.25, 0.25, 10, "down").arl
    harmonic = 1 / (1 / up + 1 / dn)
    # zero start: the product chain agrees with 1/ARL = 1/ARL+ + 1/ARL- (to solver precision)
    assert exact == pytest.approx(harmonic, rel=1e-9)
    for mu, ku, kd, h in [(2, 2.9, 1.45, 4.25), (1, 1.45, 0.7, 3.8)]:
        e = two_sided_count_cusum_arl(poisson(mu), ku, h, kd, h, m=20).arl
        u = poisson_cusum_arl(mu, ku, h, m=20).arl
        dn = poisson_cusum_arl(mu, kd, h, "down", m=20).arl
        assert e == pytest.approx(1 / (1 / u + 1 / dn), rel=1e-9)
    # with head starts the combination formula fails badly (sequential-methods.md §0.2)
    fir = two_sided_count_cusum_arl(d, 0.25, 10, 0.25, 10, head_start_up=5, head_start_down=5).arl
    up5 = poisson_cusum_arl(0.25, 0.25, 10, head_start=5).arl
    dn5 = poisson_cusum_arl(0.25, 0.25, 10, "down", head_start=5).arl
    assert fir < 0.7 * (1 / (1 / up5 + 1 / dn5))
    # with a huge lower threshold the pair is the upper chart alone
    solo = two_sided_count_cusum_arl(poisson(2.0), 2.9, 4.25, 1.45, 40.0, m=20).arl
    assert solo == pytest.approx(poisson_cusum_arl(2.0, 2.9, 4.25, m=20).arl, rel=1e-3)


def test_two_sided_chain_matches_simulation():
    mu, ku, kd, h = 2.0, 2.9, 1.45, 4.25
    exact = two_sided_count_cusum_arl(poisson(mu), ku, h, kd, h, m=20).arl

    def det(x):
        up = cusum_alarms(x - ku, h - 1e-9, "geq")
        dn = cusum_alarms(kd - x, h - 1e-9, "geq")
        return up | dn

    sim = simulate_run_length(
        det, lambda rng, R, T: rng.poisson(mu, (R, T)).astype(float), replicates=20_000, seed=1
    )
    assert abs(sim.arl - exact) < 4 * sim.se


def test_exact_chain_matches_simulation_and_false_alarm_probability():
    mu, k, h = 1.0, 1.45, 3.8
    exact = poisson_cusum_arl(mu, k, h, m=20).arl
    sampler = lambda rng, R, T: rng.poisson(mu, (R, T)).astype(float)  # noqa: E731
    sim = simulate_run_length(
        lambda x: cusum_alarms(x - k, h - 1e-9, "geq"), sampler, replicates=20_000, seed=7
    )
    assert abs(sim.arl - exact) < 4 * sim.se
    p_exact = count_cusum_false_alarm_probability(poisson(mu), k, h, 52, m=20)
    p_sim, se = sim.false_alarm_probability(52)
    assert abs(p_sim - p_exact) < 4 * se


def test_nb_counts_on_lattice_and_binomial_trials():
    # the lattice chain works for any count distribution: NB data in a Poisson-designed chart
    pois = poisson_cusum_arl(2.0, 2.9, 6.35, m=20).arl
    nb = count_cusum_arl(negative_binomial(2.0, 0.3), 2.9, 6.35, m=20).arl
    assert nb < 0.5 * pois  # overdispersion shortens ARL0 dramatically
    # Bernoulli with n = 1 equals binom(1, p)
    assert count_cusum_arl(binom(1, 0.05), 0.07, 3).arl == pytest.approx(
        binomial_cusum_arl(0.05, 1, 0.07, 3).arl
    )
