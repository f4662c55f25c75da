"""Alert episodes open and close causally, with hysteresis, and ids are stable."""

import numpy as np
import pytest
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


def _episodes_by_columns(condition: np.ndarray, close_after: int):  # type: ignore[no-untyped-def]
    """The earlier formulation (a loop over periods vectorised over rows), kept as an oracle."""
    r_count, t_count = condition.shape
    is_open = np.zeros((r_count, t_count), dtype=bool)
    opened = np.full((r_count, t_count), -1, dtype=np.int64)
    cur_open = np.zeros(r_count, dtype=bool)
    cur_start = np.full(r_count, -1, dtype=np.int64)
    absent = np.zeros(r_count, dtype=np.int64)
    for t in range(t_count):
        cond = condition[:, t]
        new = cond & ~cur_open
        cur_start = np.where(new, t, cur_start)
        cur_open = cur_open | cond
        absent = np.where(cond, 0, absent + cur_open)
        closing = cur_open & (absent >= close_after)
        cur_open = cur_open & ~closing
        is_open[:, t] = cur_open
        opened[:, t] = np.where(cur_open, cur_start, -1)
    starts = is_open & (opened != np.roll(opened, 1, axis=1))
    starts[:, 0] = is_open[:, 0]
    row, start = np.nonzero(starts)
    label = np.cumsum(starts.ravel()).reshape(starts.shape) - 1
    t_index = np.broadcast_to(np.arange(t_count), (r_count, t_count))
    end = np.full(len(row), -1, dtype=np.int64)
    np.maximum.at(end, label[is_open], t_index[is_open])
    last_seen = np.full(len(row), -1, dtype=np.int64)
    held = is_open & condition
    np.maximum.at(last_seen, label[held], t_index[held])
    closed = np.where(end + 1 < t_count, end + 1, -1)
    return is_open, opened, row, start, last_seen, closed


@pytest.mark.parametrize("close_after", [1, 2, 4, 9])
def test_compiled_episodes_match_the_column_formulation(close_after: int) -> None:
    rng = np.random.default_rng(close_after)
    for density in (0.02, 0.2, 0.6):
        cond = rng.random((300, 57)) < density
        ep = alert_episodes(cond, close_after)
        got = (ep.open, ep.opened, ep.row, ep.start, ep.last_seen, ep.closed)
        for a, b in zip(got, _episodes_by_columns(cond, close_after), strict=True):
            np.testing.assert_array_equal(a, b)
    empty = alert_episodes(np.zeros((0, 5), dtype=bool), close_after)
    assert empty.row.size == 0 and empty.open.shape == (0, 5)
