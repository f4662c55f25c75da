"""NHSRplotthedots 0.2.x published cases (spc-methods.md section 1.7, P1-P7 and the #200 case)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.charts import XmRSettings, assurance_icon, xmr_chart
from engine.charts import codes as C
from engine.charts import rules as R

# R: set.seed(123); rnorm(20)
RNORM20 = np.array(
    [
        -0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774, 1.71506499, 0.46091621,
        -1.26506123, -0.68685285, -0.44566197, 1.22408180, 0.35981383, 0.40077145, 0.11068272,
        -0.55584113, 1.78691314, 0.49785048, -1.96661716, 0.70135590, -0.47279141,
    ]
)  # fmt: skip
TOL = 1e-6


def row(a) -> np.ndarray:
    return np.asarray(a, dtype=float)[None, :]


def test_p1_basic_xmr_with_screening():
    r = xmr_chart(RNORM20)
    assert r.mean[0, 0] == pytest.approx(0.1416238, abs=TOL)
    assert r.lpl[0, 0] == pytest.approx(-3.01138, abs=TOL)
    assert r.upl[0, 0] == pytest.approx(3.294627, abs=TOL)
    assert (r.point_type == C.COMMON_CAUSE).all()
    assert r.relative_to_mean[0, :15].tolist() == [-1, -1, 1, -1, -1, 1, 1, -1, -1, -1, 1, 1, 1, -1, -1]
    # mR-bar = 1.1853396 (no range screened): sigma = 2.66 mR-bar / 3
    assert r.sigma[0, 0] * 3 / 2.66 == pytest.approx(1.1853396, abs=TOL)
    assert r.variation_labels().tolist() == ["common_cause"]
    assert r.assurance_labels().tolist() == [None]


@pytest.mark.parametrize(
    ("screen", "lpl", "upl", "mrbar"),
    [(True, -2.383666, 3.722497, 1.1477750), (False, -4.596625, 5.935457, 1.9797147)],
)
def test_p2_outlier_with_and_without_screening(screen, lpl, upl, mrbar):
    y = RNORM20.copy()
    y[14] = 10
    r = xmr_chart(y, settings=XmRSettings(screen_outliers=screen))
    assert r.mean[0, 0] == pytest.approx(0.6694159, abs=TOL)
    assert r.lpl[0, 0] == pytest.approx(lpl, abs=TOL)
    assert r.upl[0, 0] == pytest.approx(upl, abs=TOL)
    assert r.sigma[0, 0] * 3 / 2.66 == pytest.approx(mrbar, abs=TOL)


def test_p3_facets_are_separate_series():
    r = xmr_chart(np.vstack([RNORM20[:10], RNORM20[10:]]))
    assert r.mean[:, 0] == pytest.approx([0.0746256, 0.2086220], abs=TOL)
    assert r.lpl[:, 0] == pytest.approx([-2.6005854, -3.2790054], abs=TOL)
    assert r.upl[:, 0] == pytest.approx([2.7498367, 3.6962494], abs=TOL)
    assert (r.point_type == C.COMMON_CAUSE).all()
    assert r.short_group.all()  # 10 points < 13


@pytest.mark.parametrize(
    ("screen", "upl", "lpl"), [(True, 4.604444, -0.715556), (False, 6.951503, -3.062614)]
)
def test_p4_excel_parity(screen, upl, lpl):
    y = [1, 2, 1, 2, 10, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1]
    r = xmr_chart(y, "increase", settings=XmRSettings(screen_outliers=screen))
    assert r.mean[0, 0] == pytest.approx(1.944444, abs=TOL)
    assert r.upl[0, 0] == pytest.approx(upl, abs=TOL)
    assert r.lpl[0, 0] == pytest.approx(lpl, abs=TOL)
    expected = np.zeros(18, dtype=int)
    expected[4] = C.IMPROVEMENT
    assert r.point_type[0].tolist() == expected.tolist()
    assert r.rule_labels()[0, 4] == "outside_limits"


def test_p5_two_in_three_on_opposite_sides_is_not_special():
    y = np.tile([1.0, -1.0], 8)
    y[14], y[15] = 5.5, -5.5
    r = xmr_chart(y)
    assert r.mean[0, 0] == pytest.approx(0.0, abs=TOL)
    assert r.upl[0, 0] == pytest.approx(6.175, abs=1e-3)
    assert r.upper_2sigma[0, 0] == pytest.approx(4.117, abs=1e-3)
    assert r.point_type_labels()[0, -2:].tolist() == ["common_cause", "common_cause"]


# ---- P6: the rule primitives ---------------------------------------------------------------------


def rank_of(n: int) -> np.ndarray:
    return np.arange(n)[None, :]


@pytest.mark.parametrize(
    ("rel", "expected"),
    [
        ([1] * 6, [0] * 6),
        ([1] * 6 + [-1], [0] * 7),
        ([1] * 8 + [-1], [0, 0, 0, 0, 0, 0, 1, 1, 0]),
        ([-1] * 8 + [1], [0, 0, 0, 0, 0, 0, 1, 1, 0]),
    ],
)
def test_p6_seven_on_one_side(rel, expected):
    ends = R.run_ends(np.array(rel, dtype=np.int8)[None, :], rank_of(len(rel)), 7)
    assert (ends != 0).astype(int)[0].tolist() == expected


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        ([1, 2, 3, 4, 5, 6], [0] * 6),
        ([1, 2, 3, 3, 4, 5, 6], [0] * 7),
        ([1, 2, 3, 4, 5, 6, 7], [0, 0, 0, 0, 0, 0, 1]),
        ([2, 1, 2, 3, 4, 5, 6, 7, 3], [0, 0, 0, 0, 0, 0, 0, 1, 0]),
        ([7, 6, 5, 4, 3, 2, 1], [0, 0, 0, 0, 0, 0, -1]),
        ([2, 7, 6, 5, 4, 3, 2, 1, 3], [0, 0, 0, 0, 0, 0, 0, -1, 0]),
    ],
)
def test_p6_trend_end_markers(y, expected):
    assert R.trend_ends(row(y), rank_of(len(y)), 7)[0].tolist() == expected


@pytest.mark.parametrize(
    ("ends", "expected"),
    [
        ([0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 1, 1, 1, 1, 0]),
        ([0, 0, 0, 0, 0, 0, 0, 1, 0], [0, 1, 1, 1, 1, 1, 1, 1, 0]),
    ],
)
def test_p6_part_of_seven(ends, expected):
    assert R.part_of(np.array(ends)[None, :], 7).astype(int)[0].tolist() == expected


@pytest.mark.parametrize(
    ("close", "expected"),
    [
        ([1, 0, 1], [1, 1, 1]),
        ([0, 0, 1, 0, 1, 0, 0], [0, 0, 1, 1, 1, 0, 0]),
        ([0, 0, 1, 1, 0, 0, 0], [0, 1, 1, 1, 1, 0, 0]),
    ],
)
def test_p6_two_in_three_windows(close, expected):
    c = np.array(close, dtype=bool)[None, :]
    n = c.shape[1]
    same = np.ones((1, n), dtype=np.int8)
    # the R function marks every point whose 3 windows (ending at i, i+1, i+2) include a qualifying one
    wins = R.two_in_three_windows(c, same, rank_of(n))
    from engine.charts.windows import leading_any

    assert leading_any(wins, 3).astype(int)[0].tolist() == expected
    alternating = np.where(np.arange(n) % 2 == 0, 1, -1).astype(np.int8)[None, :]
    assert not R.two_in_three_windows(c, alternating, rank_of(n)).any()


@pytest.mark.parametrize(
    ("close", "expected"), [([1, 0, 0, 1], [0, 0, 0, 0]), ([1, 0, 0, 1, 1], [0, 0, 0, 1, 1])]
)
def test_p6_part_of_two_in_three(close, expected):
    c = np.array(close, dtype=bool)[None, :]
    same = np.ones(c.shape, dtype=np.int8)
    assert R.two_in_three_points(c, same, rank_of(c.shape[1])).astype(int)[0].tolist() == expected


def test_p6_label_precedence():
    # outside > trend > 2 in 3 > run, on one point flagged by several patterns
    x = row([0.0])
    rank = rank_of(1)
    d = np.array([1], dtype=np.int8)
    kw = {"run_length": 7, "trend_length": 7, "two_in_three_beyond_3sigma": False}
    out = R.evaluate(x, row([0.5]), row([0.1]), row([3.0]), row([0.2]), row([0.8]), rank, d, **kw)
    assert out.rule[0, 0] == C.OUTSIDE_LIMITS
    assert out.point_type[0, 0] == C.CONCERN


def test_precedence_on_a_constructed_chart():
    # 7 increasing points that end above the UCL: the last is labelled outside, the rest trend
    base = np.tile([10.0, 12.0], 10)
    y = np.concatenate([base, [8.5, 9.5, 10.5, 11.5, 12.5, 13.5, 40.0]])
    r = xmr_chart(y, "decrease", settings=XmRSettings(screen_outliers=True))
    labels = r.rule_labels()[0]
    assert labels[-1] == "outside_limits"
    assert (labels[-7:-1] == "trend").all()
    assert r.point_type_labels()[0, -1] == "special_cause_concern"
    assert r.rule_flags[0, -1] & C.FLAG_TREND  # still part of the trend
    assert r.variation_labels()[0] == "concern_high"


# ---- P7: assurance ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "expected"),
    [
        ("increase", ["fail", "pass", "hit_and_miss"]),
        ("decrease", ["pass", "fail", "hit_and_miss"]),
        ("neutral", [None, None, None]),
    ],
)
def test_p7_assurance(direction, expected):
    lpl, upl = np.array([1.0, 5.0, 1.0]), np.array([3.0, 7.0, 5.0])
    d = C.direction_codes(direction, 3)
    got = C.labels(assurance_icon(lpl, upl, 4.0, d), C.ASSURANCE_LABELS, None)
    assert got.tolist() == expected


def test_p7_assurance_uses_the_last_rebase_group():
    # three series of three constant groups whose limits are (1,2,3), (5,6,7), (1,4,5) in
    # the orders (1,2,3), (2,3,1), (3,1,2); limits of a group = mean +/- 2.66 mR-bar, so build
    # groups with mean m and mR-bar h/2.66 from two alternating values.
    sets = {1: (2.0, 1.0), 2: (6.0, 1.0), 3: (4.0, 1.0)}
    orders = [(1, 2, 3), (2, 3, 1), (3, 1, 2)]

    def group(m: float, h: float, n: int = 14) -> np.ndarray:
        a = h / 2.66 / 2
        return m + np.where(np.arange(n) % 2 == 0, a, -a)

    y = np.vstack([np.concatenate([group(*sets[k]) for k in order]) for order in orders])
    g = np.repeat(np.arange(3), 14)[None, :].repeat(3, 0)
    # set 3 is built symmetric (3, 4, 5) instead of (1, 4, 5): the target 4 is inside either way
    r = xmr_chart(y, "decrease", groups=g, target=np.array([4.0, 4.0, 4.0]))
    assert r.last("lpl") == pytest.approx([3.0, 1.0, 5.0], abs=1e-9)
    assert r.last("upl") == pytest.approx([5.0, 3.0, 7.0], abs=1e-9)
    assert r.assurance_labels().tolist() == ["hit_and_miss", "pass", "fail"]


def test_assurance_equal_to_a_limit_is_hit_and_miss():
    assert assurance_icon(np.array([1.0]), np.array([3.0]), 3.0, np.array([1])).tolist() == [C.A_HIT_AND_MISS]


def test_issue_200_cross_check():
    y = [0, 1, 2, 3, 4, 5, 6, 7, 6, 5, 4, 3, 2, 1]
    r = xmr_chart(y, "increase")
    assert r.mean[0, 0] == pytest.approx(3.5)
    assert r.lpl[0, 0] == pytest.approx(0.84)
    assert r.upl[0, 0] == pytest.approx(6.16)
    pt = r.point_type_labels()[0].tolist()
    assert pt[0] == "special_cause_concern"  # below LCL
    assert pt[1:7] == ["special_cause_improvement"] * 6  # increasing trend
    assert pt[7] == "special_cause_improvement"  # above UCL
    assert pt[8:] == ["special_cause_concern"] * 6  # decreasing trend
    assert r.rule_labels()[0, [0, 7]].tolist() == ["outside_limits", "outside_limits"]
