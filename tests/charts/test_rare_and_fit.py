"""g and T charts against qicharts2's formulas, times between events, and the chart that fits a series."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from engine.charts import codes as C
from engine.charts.fit import aggregate_months, fit_charts, improvement_contradicts, month_index, thursdays
from engine.charts.rare import event_intervals, g_chart, t_chart_with_runs
from engine.charts.settings import ChartChoiceSettings, GSettings
from engine.charts.xmr import t_chart

EX_7_6 = np.array(
    [286, 948, 536, 124, 816, 729, 4, 143, 431, 8, 2837, 596, 81, 227, 603, 492, 1199, 1214, 2831, 96],
    dtype=float,
)  # fmt: skip
# days between events (a g chart example): 25 gaps, one very long gap at the end
GAPS = np.array(
    [12, 3, 7, 30, 1, 9, 14, 2, 5, 22, 8, 4, 17, 6, 11, 0, 19, 3, 10, 26, 7, 2, 13, 5, 160], dtype=float
)


def test_g_chart_follows_qicharts2_formulas():
    r = g_chart(GAPS)
    m = GAPS.mean()
    sd = np.sqrt(m * (m + 1))
    # qicharts2 qic.g: limits from the mean, centre line drawn at the median
    assert r.mean[0, 0] == pytest.approx(np.median(GAPS))
    assert r.limit_centre[0, 0] == pytest.approx(m)
    assert r.upl[0, 0] == pytest.approx(m + 3 * sd)
    assert r.lpl[0, 0] == 0.0  # m - 3 sd < 0 always: floored
    assert r.upper_2sigma[0, 0] == pytest.approx(m + 2 * sd)
    # sigma is the standard deviation of the geometric distribution (failures before a success) of mean m
    assert sd == pytest.approx(stats.geom(1 / (m + 1), loc=-1).std())
    assert np.flatnonzero(r.rule[0] == C.OUTSIDE_LIMITS).tolist() == [24]
    # longer gaps between harmful events = improvement (default direction increase)
    assert r.point_type[0, 24] == C.IMPROVEMENT
    assert r.variation_labels()[0] == "improvement_high"


def test_g_chart_runs_around_the_median_and_many_series_at_once():
    r = g_chart(GAPS)
    signs = np.sign(GAPS - np.median(GAPS))
    useful = signs[signs != 0]
    n_runs = 1 + int((useful[1:] != useful[:-1]).sum())
    assert r.runs.n_useful[0, 0] == useful.size
    assert r.runs.crossings[0, 0] == n_runs - 1
    two = np.vstack([GAPS, GAPS[::-1]])
    both = g_chart(two, ["increase", "decrease"])
    np.testing.assert_allclose(both.upl[0], r.upl[0])
    assert both.point_type[1, 0] == C.CONCERN  # the long gap read as a concern when shorter is better
    frozen = g_chart(GAPS, settings=GSettings(fix_after_n_points=12))
    assert frozen.limit_centre[0, -1] == pytest.approx(GAPS[:12].mean())
    with pytest.raises(ValueError):
        g_chart(-GAPS)


def test_t_chart_with_runs_reproduces_montgomery_7_6():
    r = t_chart_with_runs(EX_7_6)
    assert r.mean[0, 0] == pytest.approx(430.040952, abs=1e-6)
    assert r.upl[0, 0] == pytest.approx(6937.933488, abs=1e-6)
    assert r.lpl[0, 0] == 0.0
    assert (r.runs.longest_run[0, 0], r.runs.longest_run_max[0, 0]) == (5, 7)
    assert (r.runs.crossings[0, 0], r.runs.crossings_min[0, 0]) == (10, 6)
    assert not r.runs.runs_signal.any()
    np.testing.assert_array_equal(r.upl, t_chart(EX_7_6).upl)


def test_event_intervals_spread_events_evenly_within_their_period():
    counts = np.array([[1, 0, 2, np.nan, 1], [0, 0, 0, 0, 0]], dtype=float)
    start = np.arange(5) * 7.0
    gaps = event_intervals(counts, start, np.full(5, 7.0))
    assert gaps.n_events.tolist() == [4, 0]
    np.testing.assert_allclose(gaps.at[0], [3.5, 14 + 1.75, 14 + 5.25, 28 + 3.5])
    np.testing.assert_allclose(gaps.interval[0, 1:], [12.25, 3.5, 12.25])
    assert np.isnan(gaps.interval[0, 0]) and np.isnan(gaps.interval[1]).all()
    assert gaps.open_interval[0] == pytest.approx(3.5) and np.isnan(gaps.open_interval[1])


def test_month_index_uses_the_thursday_of_each_week():
    weeks = np.array(["2024-01-29", "2024-02-26", "2024-03-04"], dtype="datetime64[D]")
    months, idx = month_index(weeks)
    assert months.astype(str).tolist() == ["2024-02", "2024-03"]  # 29 Jan week: Thursday 1 Feb
    assert idx.tolist() == [0, 0, 1]


def _trust(seed: int = 7, weeks: int = 156):
    rng = np.random.default_rng(seed)
    periods = np.datetime64("2022-01-03") + 7 * np.arange(weeks)
    beds = np.full((5, weeks), 140.0)
    rates = np.array([0.05, 0.004, 0.0012, 0.00005, 0.0])  # per bed day
    num = rng.poisson(rates[:, None] * beds).astype(float)
    return periods, num, beds


def test_fit_charts_moves_rare_events_to_charts_whose_limits_mean_something():
    periods, num, beds = _trust()
    fam = ["count"] * 5
    fc = fit_charts(num, beds, np.ones(num.shape, bool), periods, "decrease", fam)
    # 7 a week: weekly XmR; ~0.6 a week: monthly; ~1 a month: T chart; ~1 a year: run chart; none: run
    assert fc.kind.tolist() == ["xmr", "xmr_month", "t", "run", "run"]
    assert not fc.collapsed.any()
    own = fc.candidates["xmr"]
    assert own.collapsed[2:].all()  # the weekly XmR of rare events has collapsed limits
    t = fc.candidates["t"]
    i = int(np.flatnonzero(t.rows == 2)[0])
    assert (t.value[i][~np.isnan(t.value[i])] > 0).all()
    # a T chart's improvement is a longer gap: the reverse of the rate's direction
    assert fc.candidates["run"].variation_icon.tolist() == [C.NO_ICON, C.NO_ICON]


def test_fit_charts_measures_and_proportions_never_get_t_charts():
    periods, num, beds = _trust()
    fc = fit_charts(num[2:3], beds[2:3], np.ones((1, num.shape[1]), bool), periods, "decrease", ["measure"])
    assert fc.kind.tolist() == ["run"]
    none = fit_charts(num[:1], beds[:1], np.zeros((1, num.shape[1]), bool), periods, "decrease", ["count"])
    assert none.kind.tolist() == ["none"]


def test_fit_charts_settings_change_the_choice():
    periods, num, beds = _trust()
    strict = ChartChoiceSettings(max_zero_share=0.0)
    fc = fit_charts(num[:2], beds[:2], np.ones((2, num.shape[1]), bool), periods, "decrease", ["count"] * 2,
                    settings=strict)  # fmt: skip
    assert fc.kind[1] != "xmr"
    with pytest.raises(ValueError):
        ChartChoiceSettings(collapse_ratio=1.5)


def test_improvement_contradicts_an_open_alert():
    icons = np.array([C.V_IMPROVEMENT_LOW, C.V_IMPROVEMENT_HIGH, C.V_CONCERN_HIGH, C.V_COMMON])
    assert improvement_contradicts(icons, [True, False, True, True]).tolist() == [True, False, False, False]


def test_part_months_at_the_ends_are_not_charted():
    months = np.array(["2024-02", "2024-05", "2024-08"], dtype="datetime64[M]")
    assert thursdays(months).tolist() == [5, 5, 5]
    assert thursdays(np.array(["2024-03", "2024-04"], dtype="datetime64[M]")).tolist() == [4, 4]
    weeks = np.datetime64("2024-02-05") + 7 * np.arange(8)  # Thursdays 8 Feb .. 28 Mar: Feb part, Mar full
    ones = np.ones((1, 8))
    m, num, _den, obs, _ = aggregate_months(ones, ones, ones.astype(bool), weeks)
    assert m.astype(str).tolist() == ["2024-02", "2024-03"]
    assert obs.tolist() == [[False, True]] and num.tolist() == [[4.0, 4.0]]


def test_a_month_the_series_only_partly_covers_is_left_out():
    weeks = np.datetime64("2024-02-26") + 7 * np.arange(9)  # 29 Feb (Feb), then March (4), April (4)
    ones = np.ones((2, 9))
    covered = np.ones((2, 9), dtype=bool)
    covered[1, :3] = False  # the second ward opened mid-March
    m, _num, _den, obs, _ = aggregate_months(ones, ones, covered, weeks, covered)
    assert m.astype(str).tolist() == ["2024-02", "2024-03", "2024-04"]
    assert obs.tolist() == [[False, True, True], [False, False, True]]
