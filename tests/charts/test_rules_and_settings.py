"""One test per rule and per setting, ties, points on the mean, short groups, rebasing, missing."""

from __future__ import annotations

import numpy as np
import pytest

from engine.charts import XmRSettings, groups_from_markers, xmr_chart
from engine.charts import codes as C
from engine.charts.settings import PTD_MULTIPLIER, QIC_MULTIPLIER

# A quiet baseline: alternating 11, 10 (mean 10.5, mR-bar 1, limits 10.5 +/- 2.66), ending below
# the mean so that appended patterns start fresh.
QUIET = np.tile([11.0, 10.0], 10)


def chart(y, direction="increase", **kw):
    return xmr_chart(np.asarray(y, dtype=float), direction, settings=XmRSettings(**kw))


# ---- rules ---------------------------------------------------------------------------------------


def test_rule_outside_limits_is_strict():
    y = np.r_[QUIET, 5.0]
    r = chart(y)
    assert r.rule_labels()[0, -1] == "outside_limits"
    assert r.point_type_labels()[0, -1] == "special_cause_concern"
    # a point exactly on the limit is not outside
    on_limit = r.lpl[0, 0]
    r2 = xmr_chart(np.r_[QUIET, on_limit], settings=XmRSettings())
    assert r2.lpl[0, -1] != on_limit or r2.rule[0, -1] != C.OUTSIDE_LIMITS


def test_rule_trend_flags_all_seven_points_and_ties_break_it():
    trend = [9.6, 9.9, 10.2, 10.5, 10.8, 11.1, 11.4]
    r = chart(np.r_[QUIET, trend])
    assert (r.rule_labels()[0, -7:] == "trend").all()
    assert (r.point_type[0, -7:] == C.IMPROVEMENT).all()
    tied = [9.6, 9.9, 10.2, 10.2, 10.8, 11.1, 11.4]
    r = chart(np.r_[QUIET, tied])
    assert not (r.rule[0] == C.TREND).any()


def test_rule_trend_direction_decreasing_is_concern_for_increase():
    trend = [11.4, 11.1, 10.8, 10.5, 10.2, 9.9, 9.6]
    r = chart(np.r_[QUIET, trend], "increase")
    assert (r.point_type[0, -7:] == C.CONCERN).all()
    assert (r.side[0, -7:] == -1).all()


def test_rule_two_in_three_between_2_and_3_sigma():
    # mean 10.75, mR-bar 1.19: upper 2-sigma line 12.86, limit 13.92
    y = np.r_[QUIET, 13.0, 11.0, 13.2]
    r = chart(y)
    assert r.rule_labels()[0, -3:].tolist() == ["two_in_three", "", "two_in_three"]
    assert r.point_type_labels()[0, -1] == "special_cause_improvement"


def test_rule_two_in_three_needs_all_three_on_one_side():
    y = np.r_[QUIET, 13.0, 10.0, 13.2]  # the middle point is below the mean
    r = chart(y)
    assert not (r.rule[0] == C.TWO_IN_THREE).any()


def test_setting_two_in_three_beyond_3sigma():
    # one point between 2 and 3 sigma and one beyond 3 sigma, all above the mean
    y = np.r_[QUIET, 13.5, 11.2, 20.0]
    ptd = chart(y)
    assert not (ptd.rule_flags[0] & C.FLAG_TWO_IN_THREE).any()
    mdc = chart(y, two_in_three_beyond_3sigma=True)
    assert mdc.rule_labels()[0, -3] == "two_in_three"
    assert mdc.rule_labels()[0, -1] == "outside_limits"  # precedence
    assert mdc.rule_flags[0, -1] & C.FLAG_TWO_IN_THREE
    assert mdc.rule_labels()[0, -2] == ""  # the middle point is not beyond 2 sigma


def test_rule_run_of_seven_and_point_on_mean_breaks_it():
    above = [10.6, 10.7, 10.6, 10.7, 10.6, 10.7, 10.6]
    r = chart(np.r_[QUIET, above], "decrease")
    assert (r.rule_labels()[0, -7:] == "run").all()
    assert (r.point_type[0, -7:] == C.CONCERN).all()
    # exactly on the mean breaks the run: integers whose mean is exactly 11 (319 / 29)
    y_on = np.r_[[8.0, 8.0], np.tile([10.0, 12.0], 10), [12.0, 12.0, 12.0, 11.0, 12.0, 12.0, 12.0]]
    r = chart(y_on)
    assert r.mean[0, 0] == 11.0
    assert r.relative_to_mean[0, -4] == 0
    assert not (r.rule[0] == C.RUN).any()
    y_off = y_on.copy()
    y_off[-4] = 11.5  # just above the mean: one run of 8
    assert (chart(y_off).rule[0, -8:] == C.RUN).all()


@pytest.mark.parametrize("length", [6, 7, 8])
def test_setting_run_length(length):
    y = np.r_[QUIET, [10.7] * length]
    assert (chart(y, run_length=length).rule[0, -length:] == C.RUN).all()
    y_short = np.r_[QUIET, [10.7] * (length - 1), 10.2]
    assert not (chart(y_short, run_length=length).rule[0] == C.RUN).any()


@pytest.mark.parametrize("length", [6, 7, 8])
def test_setting_trend_length(length):
    trend = 10.0 + 0.1 * np.arange(length)
    y = np.r_[QUIET, trend]
    assert (chart(y, trend_length=length).rule[0, -length:] == C.TREND).all()
    y_short = np.r_[QUIET, trend[:-1], 10.0]
    assert not (chart(y_short, trend_length=length).rule[0] == C.TREND).any()


def test_neutral_direction_gives_neutral_high_and_low():
    y = np.r_[QUIET, 20.0, 0.0]
    r = chart(y, "neutral")
    assert r.point_type_labels()[0, -2:].tolist() == [
        "special_cause_neutral_high",
        "special_cause_neutral_low",
    ]
    assert r.variation_labels().tolist() == ["neutral_low"]
    assert r.assurance_labels().tolist() == [None]


@pytest.mark.parametrize(
    ("direction", "last", "icon"),
    [
        ("increase", 20.0, "improvement_high"),
        ("increase", 0.0, "concern_low"),
        ("decrease", 20.0, "concern_high"),
        ("decrease", 0.0, "improvement_low"),
        ("increase", 10.5, "common_cause"),
    ],
)
def test_variation_icon_from_last_point(direction, last, icon):
    r = chart(np.r_[QUIET, 20.0, last], direction)
    assert r.variation_labels().tolist() == [icon]


# ---- settings ----------------------------------------------------------------------------------


def test_setting_multiplier():
    for m, value in (("ptd", PTD_MULTIPLIER), ("qic", QIC_MULTIPLIER), (3.0, 3.0)):
        r = chart(QUIET, multiplier=m)
        assert r.upl[0, 0] - r.mean[0, 0] == pytest.approx(value * 1.0)
        assert r.upper_2sigma[0, 0] - r.mean[0, 0] == pytest.approx(2 * value / 3)
    with pytest.raises(ValueError):
        XmRSettings(multiplier=-1.0)


def test_setting_screen_outliers_and_the_collapse_edge_case():
    # 8 x 10 then 8 x 15: screening drops the only non-zero range, limits collapse onto the mean
    y = np.r_[[10.0] * 8, [15.0] * 8]
    r = chart(y)
    assert r.lpl[0, 0] == r.upl[0, 0] == r.mean[0, 0] == 12.5
    assert (r.rule[0] == C.OUTSIDE_LIMITS).all()
    r = chart(y, screen_outliers=False)
    assert r.upl[0, 0] - r.mean[0, 0] == pytest.approx(2.66 * 5 / 15)


def test_constant_series_has_zero_width_limits_and_no_signal():
    r = chart([4.0] * 15)
    assert r.lpl[0, 0] == r.upl[0, 0] == 4.0
    assert (r.point_type[0] == C.COMMON_CAUSE).all()
    assert (r.relative_to_mean[0] == 0).all()


def test_setting_fix_after_n_points():
    y = np.r_[QUIET[:12], np.tile([20.0, 21.0], 5)]
    r = chart(y, fix_after_n_points=12)
    assert r.mean[0, 0] == pytest.approx(10.5)
    assert r.upl[0, -1] == pytest.approx(10.5 + 2.66)
    assert (r.rule[0, 12:] == C.OUTSIDE_LIMITS).all()  # rules run after the fixed window
    with pytest.raises(ValueError):
        XmRSettings(fix_after_n_points=11)


def test_short_groups_flag_and_suppress():
    y = np.r_[QUIET[:12], 30.0]  # 13 points: not short
    assert not chart(y).short_group.any()
    y = np.r_[QUIET[:11], 30.0]  # 12 points: short
    flag = chart(y)
    assert flag.short_group.all() and not flag.limits_shown.any()
    assert flag.rule_labels()[0, -1] == "outside_limits"  # PTD computes anyway
    assert flag.variation_labels().tolist() == ["improvement_high"]
    sup = chart(y, short_group_mode="suppress")
    assert np.isnan(sup.upl).all()
    assert (sup.point_type == C.COMMON_CAUSE).all()
    assert sup.variation_labels().tolist() == [None]
    assert chart(y, min_points=12).limits_shown.all()


def test_single_point_and_empty_series():
    r = xmr_chart(np.array([[5.0, np.nan], [np.nan, np.nan]]), target=1.0)
    assert r.mean[0, 0] == 5.0 and np.isnan(r.upl[0, 0])
    assert r.point_type[0].tolist() == [C.COMMON_CAUSE, C.MISSING_POINT]
    assert r.point_type[1].tolist() == [C.MISSING_POINT] * 2
    assert r.variation_labels().tolist() == ["common_cause", None]
    assert r.assurance_labels().tolist() == [None, None]
    assert r.last_index.tolist() == [0, -1]


# ---- rebasing ---------------------------------------------------------------------------------


def test_rebase_groups_have_their_own_limits_and_rules_do_not_cross():
    y = np.r_[QUIET, QUIET + 5]
    markers = np.zeros(40, dtype=bool)
    markers[20] = True
    g = groups_from_markers(markers[None, :])
    r = xmr_chart(y, groups=g)
    assert r.mean[0, 0] == pytest.approx(10.5)
    assert r.mean[0, -1] == pytest.approx(15.5)
    assert (r.point_type[0] == C.COMMON_CAUSE).all()
    assert r.rebase_group[0].tolist() == [0] * 20 + [1] * 20
    # without rebasing the shift is special cause
    assert (xmr_chart(y).rule[0] != 0).any()
    # a trend split by a rebase is no trend
    t = np.r_[QUIET, [9.6, 9.9, 10.2], [10.5, 10.8, 11.1, 11.4], QUIET]
    g = np.r_[np.zeros(23), np.ones(24)].astype(int)
    assert not (xmr_chart(t, groups=g).rule[0] == C.TREND).any()
    assert (xmr_chart(t).rule[0] == C.TREND).any()


# ---- missing values ---------------------------------------------------------------------------


def test_missing_values_are_dropped_runs_bridge_gaps():
    above = [10.7] * 7
    y = np.r_[QUIET, above[:3], np.nan, np.nan, above[3:]]
    r = chart(y)
    dropped = chart(y[~np.isnan(y)])
    ok = ~np.isnan(y)
    np.testing.assert_array_equal(r.point_type[0, ok], dropped.point_type[0])
    np.testing.assert_allclose(r.upl[0, ok], dropped.upl[0])
    assert (r.rule[0, ok][-7:] == C.RUN).all()
    assert (r.point_type[0, ~ok] == C.MISSING_POINT).all()
    assert np.isnan(r.mean[0, ~ok]).all()
    # the moving range bridges the gap: same limits as if the rows were absent
    assert r.sigma[0, 0] == dropped.sigma[0, 0]


def test_series_with_different_start_points():
    a = np.r_[QUIET, 30.0]
    y = np.full((2, 30), np.nan)
    y[0, :21] = a
    y[1, 9:] = a
    r = xmr_chart(y)
    np.testing.assert_array_equal(r.point_type[0, :21], r.point_type[1, 9:])
    np.testing.assert_allclose(r.upl[0, :21], r.upl[1, 9:])
    assert r.last_index.tolist() == [20, 29]
