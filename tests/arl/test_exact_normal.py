"""Published ARL tables for normal-data charts (sequential-methods.md §1.1–1.3)."""

import numpy as np
import pytest

from engine.arl import ewma_arl, normal_cusum_arl, shewhart_arl
from engine.arl.ewma import ewma_false_alarm_probability
from engine.arl.normal_cusum import normal_cusum_false_alarm_probability
from engine.arl.shewhart import shewhart_false_alarm_probability

# --- Shewhart §1.1 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shift", "expected", "tol"),
    [
        (0, 370.4, 0.05),
        (0.5, 155.2, 0.05),
        (1.0, 43.9, 0.05),
        (1.5, 15.0, 0.05),
        (2.0, 6.30, 0.005),
        (3.0, 2.00, 0.005),
    ],
)
def test_shewhart_3sigma_table(shift, expected, tol):
    res = shewhart_arl(3.0, shift)
    assert res.method == "closed_form"
    assert abs(res.arl - expected) <= tol


def test_shewhart_other_values():
    assert abs(shewhart_arl(3.09).arl - 499.6) < 0.05
    # the often-printed 43.96 counts the upper tail only
    assert abs(shewhart_arl(3.0, 1.0, sided="one").arl - 43.96) < 0.005
    assert abs(shewhart_arl(3.0, 1.0).arl - 43.89) < 0.005
    p = shewhart_false_alarm_probability(3.0, 52)
    assert p == pytest.approx(1 - (1 - 1 / 370.398) ** 52, rel=1e-4)


# --- tabular CUSUM §1.2 -------------------------------------------------------------------------

SHIFTS = [0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0]
LUCAS_CROSIER_H4 = [168, 74.2, 26.6, 13.3, 8.38, 4.75, 3.34, 2.62, 2.19, 1.71, 1.31]
INTEGRAL_H4 = [167.68, 74.22, 26.63, 13.29, 8.38, 4.75, 3.34, 2.62, 2.19, 1.71, 1.31]
INTEGRAL_H5 = [465.44, 139.49, 38.00, 17.05, 10.38, 5.75, 4.01, 3.11, 2.57, 2.01, 1.69]
MONTGOMERY_H5 = [465, 139, 38.0, 17.0, 10.4, 5.75, 4.01, 3.11, 2.57, 2.01, 1.69]


def _printed_tol(v: float) -> float:
    """Half a unit in the last printed place (3 significant figures as in the tables)."""
    if v >= 100:
        return 0.5
    if v >= 10:
        return 0.05
    return 0.005


@pytest.mark.parametrize(
    ("shift", "published", "integral"), list(zip(SHIFTS, LUCAS_CROSIER_H4, INTEGRAL_H4, strict=True))
)
def test_two_sided_cusum_h4_lucas_crosier(shift, published, integral):
    arl = normal_cusum_arl(0.5, 4.0, shift).arl
    assert abs(arl - published) <= _printed_tol(published)
    assert abs(arl - integral) <= 0.005 + 1e-9


@pytest.mark.parametrize(
    ("shift", "integral", "rounded"), list(zip(SHIFTS, INTEGRAL_H5, MONTGOMERY_H5, strict=True))
)
def test_two_sided_cusum_h5(shift, integral, rounded):
    arl = normal_cusum_arl(0.5, 5.0, shift).arl
    assert abs(arl - integral) <= 0.005 + 1e-9
    assert abs(arl - rounded) <= _printed_tol(rounded) + 0.005


@pytest.mark.parametrize(
    ("h", "row"), [(4.0, [335.37, 26.68, 8.38, 3.34]), (5.0, [930.89, 38.01, 10.38, 4.01])]
)
def test_one_sided_cusum(h, row):
    for shift, expected in zip([0, 0.5, 1.0, 2.0], row, strict=True):
        assert abs(normal_cusum_arl(0.5, h, shift, sided="one").arl - expected) <= 0.005 + 1e-9


def test_markov_chain_agrees_with_integral_equation():
    # §1.2: Markov chain 335.36 vs integral 335.37 (400 states)
    mc = normal_cusum_arl(0.5, 4.0, 0.0, sided="one", method="markov").arl
    assert abs(mc - 335.36) < 0.01
    for shift in (0.0, 0.5, 1.0, 2.0):
        ie = normal_cusum_arl(0.5, 5.0, shift, method="integral").arl
        mc = normal_cusum_arl(0.5, 5.0, shift, method="markov", states=800).arl
        assert mc == pytest.approx(ie, rel=2e-4)


def test_brook_evans_and_vance_anchors():
    assert abs(normal_cusum_arl(0.5, 3.0, 0.0, sided="one").arl - 117.6) < 0.05
    assert abs(normal_cusum_arl(0.5, 3.0, 1.5, sided="one").arl - 3.75) < 0.005
    vance = [2071.5, 400.28, 124.66, 59.30, 36.71, 20.37, 14.06, 10.75]
    shifts = [-0.25, -0.125, 0, 0.125, 0.25, 0.5, 0.75, 1.0]
    for d, v in zip(shifts, vance, strict=True):
        # Vance printed 2071.5 for a value computing to 2071.57 (truncation): allow 0.1
        assert abs(normal_cusum_arl(0.0, 10.0, d, sided="one").arl - v) < 0.1


def test_integral_converged():
    a = normal_cusum_arl(0.5, 5.0, 0.0, nodes=120).arl
    b = normal_cusum_arl(0.5, 5.0, 0.0, nodes=240).arl
    assert abs(a - b) < 1e-6


def test_two_sided_fir_refused():
    with pytest.raises(ValueError, match="head start"):
        normal_cusum_arl(0.5, 4.0, 0.0, sided="two", head_start=2.0)


def test_lower_chart_is_mirror():
    up = normal_cusum_arl(0.5, 4.0, 0.7, sided="one").arl
    two = normal_cusum_arl(0.5, 4.0, 0.7).arl
    down = normal_cusum_arl(0.5, 4.0, -0.7, sided="one").arl
    assert two == pytest.approx(1 / (1 / up + 1 / down))


def test_cusum_false_alarm_probability_between_bounds():
    p = normal_cusum_false_alarm_probability(0.5, 5.0, 52, sided="one")
    # the zero-start chart needs time to climb: below the geometric approximation
    assert 0 < p < 1 - np.exp(-52 / 930.89)


# --- EWMA §1.3 -------------------------------------------------------------------------------

LS_SHIFTS = [0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0]
LS_PUBLISHED = {
    (0.5, 3.071): [500, 255, 88.8, 35.9, 17.5, 6.53, 3.63, 2.50, 1.93, 1.58, 1.34, 1.07],
    (0.03, 2.437): [500, 76.7, 29.3, 17.6, 12.6, 8.07, 5.99, 4.80, 4.03, 3.49, 3.11, 2.55],
}
LS_REPRODUCED = {
    (0.5, 3.071): [499.91, 254.78, 88.80, 35.91, 17.48, 6.53, 3.63, 2.50, 1.93, 1.58, 1.34, 1.07],
    (0.03, 2.437): [499.86, 76.73, 29.32, 17.63, 12.60, 8.07, 5.99, 4.80, 4.03, 3.49, 3.11, 2.55],
}


@pytest.mark.parametrize("design", list(LS_PUBLISHED))
def test_lucas_saccucci_table3(design):
    lam, L = design
    for d, pub, rep in zip(LS_SHIFTS, LS_PUBLISHED[design], LS_REPRODUCED[design], strict=True):
        arl = ewma_arl(lam, L, d).arl
        assert abs(arl - rep) <= 0.005 + 1e-9
        assert abs(arl - pub) <= _printed_tol(pub)


EWMA_500 = {
    (0.05, 2.615): [499.93, 84.01, 28.76, 16.37, 11.38, 7.11, 5.22, 4.17, 3.50, 2.69],
    (0.10, 2.814): [499.58, 106.32, 31.30, 15.85, 10.33, 6.08, 4.36, 3.44, 2.87, 2.19],
    (0.20, 2.962): [499.74, 150.22, 41.76, 18.15, 10.54, 5.50, 3.74, 2.88, 2.38, 1.86],
    (0.25, 2.998): [499.84, 170.30, 48.29, 20.11, 11.14, 5.46, 3.61, 2.74, 2.26, 1.73],
    (0.40, 3.054): [499.95, 223.73, 71.20, 28.42, 14.26, 5.87, 3.52, 2.54, 2.02, 1.44],
}
MARKOV_500 = {0.05: 499.9, 0.10: 499.5, 0.20: 499.7, 0.25: 499.8, 0.40: 499.9}


@pytest.mark.parametrize("design", list(EWMA_500))
def test_ewma_arl0_500_designs(design):
    lam, L = design
    shifts = [0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0]
    for d, v in zip(shifts, EWMA_500[design], strict=True):
        assert abs(ewma_arl(lam, L, d).arl - v) <= 0.005 + 1e-9
    mc = ewma_arl(lam, L, 0.0, method="markov").arl
    assert abs(mc - MARKOV_500[lam]) <= 0.05 + 1e-9


def test_crowder_1987_table1_and_sas():
    for d, v in zip([0, 0.25, 0.5, 1.0], [26.45, 20.12, 11.89, 4.91], strict=True):
        assert abs(ewma_arl(0.5, 2.0, d).arl - v) <= 0.005 + 1e-9
    assert abs(ewma_arl(0.5, 2.0, 2.0).arl - 1.94) <= 0.011  # published 1.94, reproduced 1.95
    for d, v in zip([0, 0.25, 0.5, 1.0, 2.0], [127.53, 43.94, 18.97, 8.38, 4.04], strict=True):
        assert abs(ewma_arl(0.05, 2.0, d).arl - v) <= 0.005 + 1e-9
    assert ewma_arl(0.25, 3.0, 1.0).arl == pytest.approx(11.154267016, abs=1e-8)


def test_ewma_rounded_textbook_designs():
    for lam, L, v in [
        (0.1, 2.70, 369.0),
        (0.2, 2.86, 371.1),
        (0.05, 2.492, 372.0),
        (0.1, 3.0, 842),
        (0.2, 3.0, 560),
    ]:
        assert abs(ewma_arl(lam, L).arl - v) <= (0.05 if v < 500 else 0.5)


def test_ewma_one_sided_markov_matches_integral():
    for d in (0.0, 0.5, 1.0):
        ie = ewma_arl(0.1, 2.7, d, sided="one").arl
        mc = ewma_arl(0.1, 2.7, d, sided="one", method="markov", states=801).arl
        assert mc == pytest.approx(ie, rel=5e-4)
    # a one-sided (upper) chart is slower to false-alarm than the two-sided one
    assert ewma_arl(0.1, 2.7, sided="one").arl > ewma_arl(0.1, 2.7).arl


def test_ewma_false_alarm_probability():
    p = ewma_false_alarm_probability(0.1, 2.814, 52)
    assert 0 < p < 1 - np.exp(-52 / 499.58)
