"""Alert episodes open and close causally, with hysteresis, and ids are stable."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.alerting import alert_episodes, openings, stable_alert_id


def test_hysteresis_merges_short_gaps_and_closes_after_k_absent_periods():
    c = np.array([[0, 1, 1, 0, 1, 0, 0, 0, 0, 1, 0]], bool)
    ep = alert_episodes(c, close_after=3)
    # opens at 1, gap of 1 at 3 does not close it, closes at 7 (3 absent: 5, 6, 7), reopens at 9
    assert ep.open[0].astype(int).tolist() == [0, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1]
    assert ep.start.tolist() == [1, 9]
    assert ep.last_seen.tolist() == [4, 9]
    assert ep.closed.tolist() == [7, -1]
    assert ep.opened[0].tolist() == [-1, 1, 1, 1, 1, 1, 1, -1, -1, 9, 9]
    assert openings(c, close_after=3).tolist() == [2]
    assert openings(c, close_after=1).tolist() == [3]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=40), st.integers(1, 5), st.integers(0, 39))
def test_episodes_are_causal(cond, k, cut):
    c = np.array([cond], bool)
    cut = min(cut, len(cond) - 1)
    full = alert_episodes(c, k)
    part = alert_episodes(c[:, : cut + 1], k)
    np.testing.assert_array_equal(full.open[:, : cut + 1], part.open)
    np.testing.assert_array_equal(full.opened[:, : cut + 1], part.opened)


def test_stable_alert_id():
    a = stable_alert_id("W01", "ward", "", "combined", "2025-03-03")
    assert a == stable_alert_id("W01", "ward", "", "combined", "2025-03-03")
    assert a != stable_alert_id("W01", "ward", "", "combined", "2025-03-10")
    assert a.startswith("A")
    assert len(a) == 12
