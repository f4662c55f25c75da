"""Peer-judged data silence (series without a baseline of their own) and reporting discontinuities."""

from __future__ import annotations

import numpy as np

from engine.detectors.silence import PeerSilence
from engine.panel import MISSING, OBSERVED, SUPPRESSED, UNKNOWN


def _peers(rng: np.random.Generator, s: int, t: int, rate: float = 0.005, beds: float = 10_000.0):
    n = np.full((s, t), beds)
    y = rng.poisson(rate * n).astype(float)
    return y, n, np.full((s, t), OBSERVED, dtype=np.int8)


def test_never_reporting_series_is_silent_and_small_one_is_not():
    rng = np.random.default_rng(1)
    y, n, st = _peers(rng, 20, 12)
    y[0], st[0] = np.nan, UNKNOWN  # large provider, never reports
    y[1], st[1], n[1] = np.nan, UNKNOWN, 100.0  # tiny provider: ~0.5 events a month expected
    res = PeerSilence(level=0.001).for_cadence("monthly").run(y, n, st)
    assert res.alarm[0].any() and not res.alarm[1].any()
    assert not res.alarm[2:].any()
    assert res.run_length[0, -1] == 12 and res.onset[0, -1] == 0


def test_suppressed_run_of_a_large_series_is_silence():
    rng = np.random.default_rng(2)
    y, n, st = _peers(rng, 20, 12)
    y[0, 6:], st[0, 6:] = np.nan, SUPPRESSED  # ~50 expected, published as '*' (< 5)
    res = PeerSilence().for_cadence("monthly").run(y, n, st)
    assert res.alarm[0, 6:].all()
    weekly = PeerSilence().run(y, n, st)  # a weekly series needs min_run (3) silent periods
    assert not weekly.alarm[0, 6:8].any() and weekly.alarm[0, 8:].all()


def test_no_peers_reporting_no_alarm_and_missing_exposure_ignored():
    rng = np.random.default_rng(3)
    y, n, st = _peers(rng, 10, 12)
    y[:, 5:8], st[:, 5:8] = np.nan, UNKNOWN  # everyone silent: a national outage, not this series
    res = PeerSilence().run(y, n, st)
    assert not res.alarm.any()
    st2 = st.copy()
    st2[0, :] = MISSING
    assert not PeerSilence().run(y, n, st2).alarm[0].any()


def test_truncation_no_look_ahead():
    rng = np.random.default_rng(4)
    y, n, st = _peers(rng, 15, 24)
    y[0, 5:12], st[0, 5:12] = np.nan, UNKNOWN
    y[0, 12:] *= 3
    full = PeerSilence().run(y, n, st)
    for t in (6, 11, 12, 18):
        cut = PeerSilence().run(y[:, : t + 1], n[:, : t + 1], st[:, : t + 1])
        for name in ("alarm", "run_length", "log_probability", "discontinuity", "resumed"):
            np.testing.assert_array_equal(getattr(cut, name), getattr(full, name)[:, : t + 1], err_msg=name)


def test_resumption_at_three_times_the_earlier_level_is_a_discontinuity():
    rng = np.random.default_rng(5)
    y, n, st = _peers(rng, 20, 12)
    y[0, :3] = 15.0  # earlier level: 15 a month on 10,000 bed days (peers ~50)
    y[0, 3:7], st[0, 3:7] = np.nan, UNKNOWN
    y[0, 7:] = 45.0  # resumed at three times the earlier level, near the peers'
    res = PeerSilence().run(y, n, st)
    assert res.resumed[0, 7] and res.discontinuity[0, 7]
    assert abs(res.ratio_earlier[0, 7] - 3.0) < 1e-9
    assert 0.5 < res.ratio_peers[0, 7] < 1.5
    y[0, 7:] = 16.0  # resumed at the earlier level: a resumption, not a discontinuity
    assert not PeerSilence().run(y, n, st).discontinuity[0, 7]


def test_in_control_false_alarm_rate():
    """In control: silent periods are genuine zeros (the series writes 0 as missing), rates drawn from
    the peers' gamma, 1 in 10 series of the group silent-when-zero. Stated rate: at most ``level`` per
    run opportunity; from the start (never established) ``P(alarm) <= level`` exactly.
    Measured (20,000 series x 24 months, ~1.2 events a month): 0.8% from the start at level 1%;
    0.002 alarmed runs per series-year at level 0.001 (the scoring default).
    """
    rng = np.random.default_rng(6)
    s, t, alpha, mean = 20_000, 24, 0.5, 0.004
    rate = rng.gamma(1 / alpha, mean * alpha, size=(s, 1))
    n = np.full((s, t), 300.0)
    y = rng.poisson(rate * n).astype(float)
    writer = np.arange(s) % 10 == 0
    silent = (y == 0) & writer[:, None]
    st = np.where(silent, UNKNOWN, OBSERVED).astype(np.int8)
    y = np.where(silent, np.nan, y)
    for level, per_year in ((0.01, 0.05), (0.001, 0.005)):
        det = PeerSilence(level=level, min_dispersion=alpha, max_dispersion=alpha, min_peer_share=0.0)
        res = det.run(y, n, st)
        from_start = (res.alarm & (res.onset == 0)).any(axis=1)[writer].mean()
        assert from_start <= level
        runs = {(i, res.onset[i, j]) for i, j in zip(*np.nonzero(res.alarm), strict=True)}
        assert len(runs) / (writer.sum() * t / 12) <= per_year
        assert not res.alarm[~writer].any()
