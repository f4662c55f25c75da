"""The compiled union of own and peer data silence equals its NumPy reference formulation."""

from __future__ import annotations

import numpy as np

from engine.detectors.silence import PeerSilenceResult
from engine.scoring.indicators import _holding, _silence_union


def _runs(rng: np.random.Generator, s: int, t: int) -> np.ndarray:
    gaps = rng.random((s, t)) < 0.3
    run = np.zeros((s, t), dtype=np.int64)
    for i in range(s):
        c = 0
        for j in range(t):
            c = c + 1 if gaps[i, j] else 0
            run[i, j] = c
    return run


def _peer(alarm: np.ndarray, run: np.ndarray) -> PeerSilenceResult:
    """A peer result with the two arrays the union reads (the others are not used)."""
    fields = dict.fromkeys(PeerSilenceResult.__dataclass_fields__)
    return PeerSilenceResult(**{**fields, "alarm": alarm, "run_length": run})


def test_union_matches_the_reference():
    rng = np.random.default_rng(11)
    s, t = 60, 80
    own_run = _runs(rng, s, t)
    own_alarm = (own_run >= 3) & (rng.random((s, t)) < 0.5)
    first = rng.integers(0, t + 1, s)
    rows = np.sort(rng.choice(s, 25, replace=False))
    peer_run = _runs(rng, rows.size, t)
    peer_alarm = (peer_run >= 2) & (rng.random((rows.size, t)) < 0.5)
    peer = _peer(peer_alarm, peer_run.astype(np.int32))
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
