"""The readable score: evidence gained over the last 13 weeks (results contract ``recent_evidence``)."""

import numpy as np

from engine.scoring.tables import evidence_strength, recent_gain


def test_recent_gain_rises_with_evidence_and_falls_when_it_stops():
    # a CUSUM rising 1 nat a week for 20 weeks, then flat for 20 weeks, then falling
    stat = np.concatenate([np.arange(1.0, 21.0), np.full(20, 20.0), np.linspace(19.0, 0.0, 20)])
    gain = recent_gain(stat[None, :], 13)[0]
    assert gain[:13].tolist() == stat[:13].tolist()  # the first weeks count from zero
    assert gain[19] == 13.0  # capped by the window while the rise lasts: not a lifetime sum
    assert gain[32] == 0.0  # 13 flat weeks later: no new evidence
    assert (gain[40:] == 0.0).all()  # falling: none
    assert stat[39] == 20.0 and gain.max() == 13.0


def test_recent_gain_never_looks_ahead_and_strength_is_bounded():
    rng = np.random.default_rng(5)
    z = rng.normal(-0.2, 1.0, size=(3, 4, 80))
    stat = np.zeros_like(z)
    for t in range(80):  # Page's CUSUM
        stat[..., t] = np.maximum(0.0, (stat[..., t - 1] if t else 0.0) + z[..., t])
    full = recent_gain(stat, 13)
    for cut in (1, 5, 13, 14, 40):
        assert np.array_equal(recent_gain(stat[..., :cut], 13), full[..., :cut])
    s = evidence_strength(full.sum(axis=1), 8.75)
    assert (s >= 0).all() and (s < 1).all()
    assert evidence_strength(np.array([8.75]), 8.75)[0] == 0.5
