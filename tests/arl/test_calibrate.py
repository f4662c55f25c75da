"""Threshold search (§1.2–1.4 design values) and false-alarm budgets (§1.11)."""

import numpy as np
import pytest
from scipy.stats import poisson

from engine.arl import (
    arl0_for_expected_false_alarms,
    arl0_for_false_alarm_probability,
    arl0_for_familywise_probability,
    calibrate_threshold_simulated,
    count_cusum_h,
    ewma_L,
    false_alarm_probability_geometric,
    normal_cusum_h,
    per_chart_probability,
    shewhart_limit,
)
from engine.arl.kernels import cusum_alarms


def test_normal_cusum_h_for_target():
    for target, sided, h, arl1 in [
        (370.4, "one", 4.0965, 8.58),
        (500, "one", 4.3891, 9.16),
        (370.4, "two", 4.7749, 9.93),
        (500, "two", 5.0707, 10.52),
    ]:
        res = normal_cusum_h(0.5, target, sided)
        assert abs(res.threshold - h) < 5e-5
        assert res.arl0 == pytest.approx(target, rel=1e-6)
        from engine.arl import normal_cusum_arl

        assert abs(normal_cusum_arl(0.5, res.threshold, 1.0, sided=sided).arl - arl1) < 0.005


def test_ewma_L_for_target():
    table = {0.05: (2.4901, 2.6151), 0.10: (2.7015, 2.8143), 0.20: (2.8593, 2.9622), 0.25: (2.8980, 2.9981)}
    for lam, (l370, l500) in table.items():
        assert abs(ewma_L(lam, 370.4).threshold - l370) < 5e-5
        assert abs(ewma_L(lam, 500).threshold - l500) < 5e-5
    # Crowder (1989): L for ARL0 = 250
    for lam, L in zip([0.05, 0.10, 0.15, 0.20, 0.25], [2.318, 2.546, 2.654, 2.719, 2.761], strict=True):
        assert abs(ewma_L(lam, 250).threshold - L) < 5e-4


def test_shewhart_limit():
    assert shewhart_limit(370.398).threshold == pytest.approx(3.0, abs=1e-5)


@pytest.mark.parametrize(
    ("mu0", "k", "h104", "h500"),
    [
        (0.5, 0.70, 3.55, 5.75),
        (1, 1.45, 3.80, 5.90),
        (2, 2.90, 4.25, 6.35),
        (4, 5.75, 4.30, 6.55),
        (8, 11.55, 4.40, 6.50),
    ],
)
def test_poisson_design_h(mu0, k, h104, h500):
    # the design table's first block is met by any target in (101.3, 104]: two years of weeks
    assert count_cusum_h(poisson(mu0), k, 104, m=20).threshold == pytest.approx(h104)
    assert count_cusum_h(poisson(mu0), k, 500, m=20).threshold == pytest.approx(h500)


def test_discreteness_trap_reported():
    res = count_cusum_h(poisson(8), 11.55, 450, m=20)
    assert res.threshold == pytest.approx(6.50)
    assert abs(res.arl0 - 607.4) < 0.05  # nothing between 422.4 and 607.4 is reachable


@pytest.mark.slow
def test_simulated_calibration_with_crn():
    sampler = lambda rng, R, T: rng.standard_normal((R, T))  # noqa: E731
    res = calibrate_threshold_simulated(
        lambda h: lambda x: cusum_alarms(x - 0.5, h),
        sampler,
        370.4,
        2.0,
        6.0,
        replicates=3000,
        seed=5,
        xtol=0.01,
    )
    assert res.method == "simulation"
    assert res.arl0 >= 370.4
    # exact: h = 4.0965; simulation error of ~2% in ARL0 is ~0.03 in h
    assert abs(res.threshold - 4.0965) < 0.12


def test_budget_helpers():
    # §1.11: 100 weekly charts at ARL0 = 500 -> 10.4 false alarms a year; 1 a year needs ARL0 5200
    assert arl0_for_expected_false_alarms(1.0, 100, 52) == pytest.approx(5200)
    assert pytest.approx(10.4) == 100 * 52 / 500
    assert false_alarm_probability_geometric(500) == pytest.approx(0.099, abs=5e-4)
    assert arl0_for_false_alarm_probability(false_alarm_probability_geometric(500)) == pytest.approx(500)
    assert per_chart_probability(0.1, 10) == pytest.approx(0.01)
    sidak = per_chart_probability(0.1, 10, "sidak")
    assert 1 - (1 - sidak) ** 10 == pytest.approx(0.1)
    assert sidak > 0.01
    a = arl0_for_familywise_probability(0.1, 10)
    assert 1 - np.exp(-52 / a) == pytest.approx(0.01)
    with pytest.raises(ValueError):
        arl0_for_expected_false_alarms(0, 3)
