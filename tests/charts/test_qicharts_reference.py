"""qicharts2 0.8 reference cases (spc-methods.md section 2.4, Montgomery) and Anhoej critical values."""

from __future__ import annotations

import numpy as np
import pytest

from engine.charts import (
    AttributeSettings,
    XmRSettings,
    anhoej_runs,
    attribute_chart,
    critical_values,
    moving_range_chart,
    run_chart,
    t_chart,
    xmr_chart,
)
from engine.charts import codes as C

TOL = 1e-6

EX_6_5 = np.array(
    [310, 288, 297, 298, 307, 303, 294, 297, 308, 306, 294, 299, 297, 299, 314, 295, 293, 306, 301, 304,
     305, 282, 305, 296, 314, 295, 287, 301, 298, 311, 310, 292, 305, 299, 304, 310, 304, 305, 333, 328],
    dtype=float,
)  # fmt: skip
EX_7_3 = np.array(
    [21, 24, 16, 12, 15, 5, 28, 20, 31, 25, 20, 24, 16, 19, 10, 17, 13, 22, 18, 39, 30, 24, 16, 19, 17,
     15, 16, 18, 12, 15, 24, 21, 28, 20, 25, 19, 18, 21, 16, 22, 19, 12, 14, 9, 16, 21],
    dtype=float,
)  # fmt: skip
TBL_7_4_N = np.array(
    [100, 80, 80, 100, 110, 110, 100, 100, 90, 90, 110, 120, 120, 120, 110, 80, 80, 80, 90, 100,
     100, 100, 100, 90, 90],
    dtype=float,
)  # fmt: skip
TBL_7_4_Y = np.array(
    [12, 8, 6, 9, 10, 12, 11, 16, 10, 6, 20, 15, 9, 8, 6, 8, 10, 7, 5, 8, 5, 8, 10, 6, 9], dtype=float
)
EX_7_4 = np.array([2, 3, 8, 1, 1, 4, 1, 4, 5, 1, 8, 2, 4, 3, 4, 1, 8, 3, 7, 4], dtype=float)
EX_7_6 = np.array(
    [286, 948, 536, 124, 816, 729, 4, 143, 431, 8, 2837, 596, 81, 227, 603, 492, 1199, 1214, 2831, 96],
    dtype=float,
)  # fmt: skip


def test_q1_i_chart_montgomery_6_5_freeze_20():
    for screen in (True, False):  # no moving range exceeds 3.267 mR-bar: screening is irrelevant
        r = xmr_chart(
            EX_6_5, settings=XmRSettings(multiplier="qic", fix_after_n_points=20, screen_outliers=screen)
        )
        assert r.mean[0, 0] == pytest.approx(300.5, abs=TOL)
        assert r.lpl[0, 0] == pytest.approx(279.78331466965284, abs=TOL)
        assert r.upl[0, 0] == pytest.approx(321.21668533034716, abs=TOL)
        assert np.flatnonzero(r.rule[0] == C.OUTSIDE_LIMITS).tolist() == [38, 39]  # points 39, 40
    runs = anhoej_runs(EX_6_5, r.mean)
    assert runs.longest_run[0, 0] == 6
    assert runs.longest_run_max[0, 0] == 8
    assert runs.crossings[0, 0] == 20
    assert runs.crossings_min[0, 0] == 14
    assert not runs.runs_signal.any()
    # PTD's 2.66 gives +/- 20.7200 instead of 20.7167
    ptd = xmr_chart(EX_6_5, settings=XmRSettings(fix_after_n_points=20))
    assert ptd.upl[0, 0] - ptd.mean[0, 0] == pytest.approx(20.7200, abs=1e-4)


def test_q1_mr_chart():
    mr = moving_range_chart(EX_6_5, fix_after_n_points=20)
    assert mr.centre[0, 0] == pytest.approx(7.789474, abs=TOL)
    assert mr.ucl[0, 0] == pytest.approx(25.448211, abs=TOL)
    assert np.flatnonzero(mr.signal[0]).tolist() == [38]  # point 39, MR 28
    assert mr.mr[0, 38] == 28
    assert np.isnan(mr.mr[0, 0])


def test_q2_c_chart_montgomery_7_3_exclude_and_freeze():
    exclude = np.zeros(46, dtype=bool)
    exclude[[5, 19]] = True
    r = attribute_chart(EX_7_3, settings=AttributeSettings(kind="c", fix_after_n_points=26), exclude=exclude)
    assert r.mean[0, 0] == pytest.approx(19.666667, abs=TOL)
    assert r.lpl[0, 0] == pytest.approx(6.362532, abs=TOL)
    assert r.upl[0, 0] == pytest.approx(32.970801, abs=TOL)
    assert np.flatnonzero(r.rule[0] == C.OUTSIDE_LIMITS).tolist() == [5, 19]
    assert r.runs.n_useful[0, 0] == 44
    assert r.runs.longest_run[0, 0] == 8
    assert r.runs.longest_run_max[0, 0] == 8
    assert r.runs.crossings[0, 0] == 14
    assert r.runs.crossings_min[0, 0] == 16
    assert r.runs.runs_signal.all()


def test_q3_p_chart_montgomery_table_7_4():
    r = attribute_chart(TBL_7_4_Y, TBL_7_4_N, settings=AttributeSettings(kind="p"))
    assert r.mean[0, 0] == pytest.approx(234 / 2450, abs=TOL)
    expected = {
        80: (0.194093, 0.0),
        90: (0.188455, 0.002565),
        100: (0.183686, 0.007335),
        110: (0.179582, 0.011438),
        120: (0.176003, 0.015017),
    }
    for n, (ucl, lcl) in expected.items():
        i = int(np.flatnonzero(np.equal(TBL_7_4_N, n))[0])
        assert r.upl[0, i] == pytest.approx(ucl, abs=TOL)
        assert r.lpl[0, i] == pytest.approx(lcl, abs=TOL)
    assert np.flatnonzero(r.rule[0] == C.OUTSIDE_LIMITS).tolist() == [10]  # point 11
    assert r.runs.longest_run[0, 0] == 5
    assert r.runs.longest_run_max[0, 0] == 8
    assert r.runs.crossings[0, 0] == 10
    assert r.runs.crossings_min[0, 0] == 8
    assert not r.runs.runs_signal.any()


def test_q4_u_chart_montgomery_7_4():
    r = attribute_chart(EX_7_4, np.full(20, 50.0), settings=AttributeSettings(kind="u"))
    assert r.mean[0, 0] == pytest.approx(0.074, abs=TOL)
    assert r.upl[0, 0] == pytest.approx(0.189412, abs=TOL)
    assert r.lpl[0, 0] == 0.0  # raw -0.0414 clamped
    assert not (r.rule == C.OUTSIDE_LIMITS).any()
    assert (r.runs.longest_run[0, 0], r.runs.longest_run_max[0, 0]) == (2, 7)
    assert (r.runs.crossings[0, 0], r.runs.crossings_min[0, 0]) == (15, 6)


def test_q5_t_chart_montgomery_7_6():
    r = t_chart(EX_7_6)
    assert r.mean[0, 0] == pytest.approx(430.040952, abs=TOL)
    assert r.upl[0, 0] == pytest.approx(6937.933488, abs=TOL)
    assert r.lpl[0, 0] == 0.0
    assert not (r.rule == C.OUTSIDE_LIMITS).any()
    runs = anhoej_runs(EX_7_6 ** (1 / 3.6), (r.mean ** (1 / 3.6)))
    assert (runs.longest_run[0, 0], runs.longest_run_max[0, 0]) == (5, 7)
    assert (runs.crossings[0, 0], runs.crossings_min[0, 0]) == (10, 6)
    np.testing.assert_array_equal(r.value, EX_7_6[None, :])


@pytest.mark.parametrize(
    ("screen", "sigma_z", "ucl"),
    [(False, 0.965674, [0.180659, 0.190709, 0.190709]), (True, 0.853066, [0.170730, 0.179608, 0.179608])],
)
def test_laney_p_prime_derived_case(screen, sigma_z, ucl):
    r = attribute_chart(TBL_7_4_Y, TBL_7_4_N, settings=AttributeSettings(kind="pp", screen_outliers=screen))
    assert r.sigma_z[0, 0] == pytest.approx(sigma_z, abs=TOL)
    assert r.upl[0, :3] == pytest.approx(ucl, abs=TOL)


def test_laney_u_prime_equals_u_chart_scaled_by_sigma_z():
    rng = np.random.default_rng(3)
    n = rng.uniform(200, 800, size=(4, 40))
    y = rng.negative_binomial(5, 5 / (5 + 0.02 * n)).astype(float)
    u = attribute_chart(y, n, settings=AttributeSettings(kind="u"))
    up = attribute_chart(y, n, settings=AttributeSettings(kind="up", screen_outliers=False))
    z = (u.value - u.mean) / u.sigma
    sigma_z = np.mean(np.abs(np.diff(z, axis=1)), axis=1) / 1.128
    np.testing.assert_allclose(up.sigma_z[:, 0], sigma_z, rtol=1e-12)
    np.testing.assert_allclose(up.sigma, u.sigma * sigma_z[:, None], rtol=1e-12)
    assert (sigma_z > 1).all()  # overdispersed counts: wider limits than the u chart


# Anhoej critical values, spc-methods.md section 2.3 (n, longest run max, crossings min)
ANHOEJ_TABLE = [
    (10, 6, 2), (11, 6, 2), (12, 7, 3), (13, 7, 3), (14, 7, 4), (15, 7, 4), (16, 7, 4), (17, 7, 5),
    (18, 7, 5), (19, 7, 6), (20, 7, 6), (21, 7, 6), (22, 7, 7), (23, 8, 7), (24, 8, 8), (25, 8, 8),
    (26, 8, 8), (27, 8, 9), (28, 8, 9), (29, 8, 10), (30, 8, 10), (31, 8, 11), (32, 8, 11),
    (33, 8, 11), (34, 8, 12), (35, 8, 12), (36, 8, 13), (37, 8, 13), (38, 8, 14), (39, 8, 14),
    (40, 8, 14), (41, 8, 15), (42, 8, 15), (43, 8, 16), (44, 8, 16), (45, 8, 17), (46, 9, 17),
    (47, 9, 17), (48, 9, 18), (49, 9, 18), (50, 9, 19), (51, 9, 19), (52, 9, 20), (53, 9, 20),
    (54, 9, 21), (55, 9, 21), (56, 9, 21), (57, 9, 22), (58, 9, 22), (59, 9, 23), (60, 9, 23),
]  # fmt: skip


def test_anhoej_critical_value_table():
    n = np.array([r[0] for r in ANHOEJ_TABLE])
    lmax, cmin = critical_values(n)
    assert lmax.tolist() == [r[1] for r in ANHOEJ_TABLE]
    assert cmin.tolist() == [r[2] for r in ANHOEJ_TABLE]


def test_anhoej_points_on_centre_neither_break_nor_count():
    y = np.array([1, 1, 0, 1, 1, -1, -1, 0, -1, 1], dtype=float)
    runs = anhoej_runs(y, 0.0)
    assert runs.n_useful[0, 0] == 8
    assert runs.longest_run[0, 0] == 4  # 1,1,(0),1,1 is one run of 4
    assert runs.crossings[0, 0] == 2


def test_anhoej_signals_long_run_and_few_crossings():
    long_run = np.r_[np.ones(9), -np.ones(1), np.tile([1.0, -1.0], 5)]  # n=20: longest 9 > 7
    few = np.r_[np.ones(5), -np.ones(5), np.ones(5), -np.ones(5)]  # n=20: crossings 3 < 6
    ok = np.tile([1.0, -1.0], 10)
    runs = anhoej_runs(np.vstack([long_run, few, ok]), 0.0)
    assert runs.runs_signal[:, 0].tolist() == [True, True, False]
    assert runs.longest_run[:, 0].tolist() == [9, 5, 1]
    assert runs.crossings[:, 0].tolist() == [11, 3, 19]


def test_run_chart_median_and_groups():
    y = np.array([3.0, 1.0, 2.0, 5.0, 4.0, 10.0, 12.0, 11.0, 13.0])
    g = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1])
    centre, runs = run_chart(y, groups=g)
    assert centre[0].tolist() == [3.0] * 5 + [11.5] * 4
    assert runs.n_useful[0].tolist() == [4] * 5 + [4] * 4
    centre2, _ = run_chart(y, fix_after_n_points=4)
    assert centre2[0, 0] == 2.5
