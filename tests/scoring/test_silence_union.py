"""The compiled union of own and peer data silence equals its NumPy reference formulation."""

from __future__ import annotations

import numpy as np

from engine.scoring.indicators import _holding, _silence_union
from tests.scoring.silence_fixtures import peer_result, run_lengths


def _runs(rng: np.random.Generator, s: int, t: int) -> np.ndarray:
    return run_lengths(rng.random((s, t)) < 0.3)


def test_union_matches_the_reference():
    rng = np.random.default_rng(11)
    s, t = 60, 80
    own_run = _runs(rng, s, t)
    own_alarm = (own_run >= 3) & (rng.random((s, t)) < 0.5)
    first = rng.integers(0, t + 1, s)
    rows = np.sort(rng.choice(s, 25, replace=False))
    peer_run = _runs(rng, rows.size, t)
    peer_alarm = (peer_run >= 2) & (rng.random((rows.size, t)) < 0.5)
    peer = peer_result(alarm=peer_alarm, run_length=peer_run.astype(np.int32))
    run, alarm = _silence_union(own_alarm, own_run, first, rows, peer)

    ref_alarm = _holding(own_alarm, own_run) & (np.arange(t)[None, :] >= first[:, None])
    ref_alarm[rows] |= _holding(peer_alarm, peer_run)
    ref_run = own_run.copy()
    ref_run[rows] = np.maximum(ref_run[rows], peer_run)
    np.testing.assert_array_equal(alarm, ref_alarm)
    np.testing.assert_array_equal(run, ref_run)
    assert not np.shares_memory(run, own_run)

    run0, alarm0 = _silence_union(own_alarm, own_run, first, np.zeros(0, dtype=np.int64), None)
    np.testing.assert_array_equal(
        alarm0, _holding(own_alarm, own_run) & (np.arange(t)[None, :] >= first[:, None])
    )
    np.testing.assert_array_equal(run0, own_run)
