"""Zero-run silence and data silence."""

from __future__ import annotations

import numpy as np
from scipy import stats

from engine.detectors import DataSilence, Silence, ward_data_silence
from engine.panel import MISSING, OBSERVED, SUPPRESSED


def test_ten_silent_weeks_where_three_expected():
    """10 weeks of zero complaints where 3 were expected: P = exp(-3) under Poisson."""
    y = np.zeros((1, 10))
    rate = np.full((1, 10), 0.3 / 100)
    n = np.full((1, 10), 100.0)
    res = Silence(level=0.01, overdispersed=False).run(y, n, rate)
    np.testing.assert_allclose(res.probability[0, -1], np.exp(-3.0))
    np.testing.assert_allclose(res.expected_count[0, -1], 3.0)
    assert res.run_length[0, -1] == 10 and res.onset[0, -1] == 0
    assert not res.alarm.any()  # 0.0498 > 0.01
    nb = Silence(level=0.01).run(y, n, rate, dispersion=0.5)
    p0 = stats.nbinom.pmf(0, 1 / 0.5, 1 / (1 + 0.5 * 0.3))
    np.testing.assert_allclose(nb.probability[0, -1], p0**10)
    assert nb.probability[0, -1] > res.probability[0, -1]  # zeros are commoner under overdispersion


def test_alarm_level_missing_and_reset():
    y = np.array([[3, 0, 0, np.nan, 0, 0, 0, 2, 0]], dtype=float)
    rate = np.full((1, 9), 1.5)
    res = Silence(level=0.01, overdispersed=False).run(y, 1.0, rate)
    np.testing.assert_array_equal(res.run_length[0], [0, 1, 2, 2, 3, 4, 5, 0, 1])
    # P after k zeros = exp(-1.5k): < 0.01 from k = 4 on (exp(-6) = 0.0025; exp(-4.5) = 0.011)
    np.testing.assert_array_equal(res.alarm[0], [0, 0, 0, 0, 0, 1, 1, 0, 0])
    assert res.onset[0, 6] == 1 and res.onset[0, 7] == -1
    restarted = Silence(level=0.01, overdispersed=False, restart="zero").run(y, 1.0, rate)
    np.testing.assert_array_equal(restarted.alarm[0], [0, 0, 0, 0, 0, 1, 0, 0, 0])


def test_proportion_zero_probability():
    y = np.zeros((1, 2))
    n = np.full((1, 2), 10.0)
    p = np.full((1, 2), 0.1)
    res = Silence(family="proportion", overdispersed=False).run(y, n, p)
    np.testing.assert_allclose(res.probability[0, -1], 0.9**20)
    bb = Silence(family="proportion").run(y, n, p, dispersion=0.2)
    a, b = 0.1 * 4, 0.9 * 4
    np.testing.assert_allclose(bb.probability[0, 0], stats.betabinom.pmf(0, 10, a, b))


def test_data_silence_reliable_vs_patchy_submitter():
    t = 60
    reliable = np.ones(t, dtype=float)
    reliable[50:54] = np.nan
    patchy = np.ones(t, dtype=float)
    patchy[::2] = np.nan  # misses every other period
    patchy[50:54] = np.nan
    late = np.full(t, np.nan)
    late[40:] = 1.0
    res = DataSilence(level=0.01).run(np.vstack([reliable, patchy, late]))
    np.testing.assert_array_equal(res.run_length[0, 49:55], [0, 1, 2, 3, 4, 0])
    assert res.alarm[0, 51] and not res.alarm[0, 50]  # min_run = 2, reliable history
    assert not res.alarm[1].any()  # a 4-period gap is not unusual for this series
    assert not res.alarm[2].any() and res.run_length[2, :40].sum() == 0  # not expected before start
    # posterior predictive: history o = 50, m = 0, k = 2 with Beta(1, 1): B(3, 51) / B(1, 51)
    from scipy.special import betaln

    np.testing.assert_allclose(res.probability[0, 51], np.exp(betaln(3, 51) - betaln(1, 51)))
    assert res.onset[0, 53] == 50


def test_data_silence_from_status_codes():
    status = np.full((1, 30), OBSERVED, dtype=np.int8)
    status[0, 20:25] = SUPPRESSED
    y = np.ones((1, 30))
    with_sup = DataSilence().run(y, status=status)
    without = DataSilence(suppressed_is_silence=False).run(y, status=status)
    assert with_sup.alarm.any() and not without.alarm.any()


def test_ward_level_silence():
    miss = np.zeros((4, 40), dtype=bool)
    ward = np.array(["A", "A", "B", "B"])
    miss[0, 30:] = True  # one indicator of A stops: not whole-ward silence
    miss[2:, 30:] = True  # all of B stops
    out = ward_data_silence(miss, ward)
    assert out.ward.tolist() == ["A", "B"]
    assert not out.result.alarm[0].any()
    assert out.result.alarm[1, 32] and out.result.run_length[1, -1] == 10
    status = np.where(miss, MISSING, OBSERVED)
    assert (DataSilence().missing_mask(None, status) == miss).all()
