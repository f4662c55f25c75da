"""Indicator alerts carry the numbers of the method that explains them (every method exercised)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.config import Config
from engine.scoring.run import score
from engine.scoring.settings import IndicatorSettings

EWMA_KEYS = ("incidents_reported", "agency_use")  # a two-sided count and a one-sided proportion


@pytest.fixture(scope="module")
def scored_with_ewma(loaded):
    config = Config(indicators={k: IndicatorSettings(detector="ewma") for k in EWMA_KEYS})
    return score(loaded, config), config


def _series(result, ward_id: str, key: str):  # type: ignore[no-untyped-def]
    for sc in result.parts.values():
        rows = np.flatnonzero((sc.panel.ward_id == ward_id) & (sc.panel.indicator == key))
        if rows.size:
            periods = [str(np.datetime64(p, "D")) for p in sc.panel.periods]
            return sc, int(rows[0]), periods
    raise AssertionError(f"no series {ward_id}/{key}")


def test_each_indicator_alert_reports_its_methods_numbers(scored_with_ewma) -> None:
    result, config = scored_with_ewma
    alerts = result.alerts.filter(scope="indicator")
    methods = set(alerts["method"])
    assert {"cusum", "ewma", "silence", "data_silence"} <= methods, methods
    comb = config.combination
    for a in alerts.iter_rows(named=True):
        sc, s, periods = _series(result, a["ward_id"], a["indicator"])
        start, last = periods.index(a["opened"]), periods.index(a["last_seen"])
        up = a["direction"] == "up"
        onset = periods.index(a["onset_estimate"])
        if a["method"] == "data_silence":
            assert sc.data_silence_alarm[s, start] and not up
            peer = sc.peer_silence
            at = {int(r): i for i, r in enumerate(sc.peer_silence_rows)} if peer is not None else {}
            if s in at and peer.alarm[at[s], start]:  # judged against its peers: the run's probability
                assert a["statistic"] == pytest.approx(np.exp(peer.log_probability[at[s], last]), rel=1e-6)
                assert a["threshold"] == config.peer_silence.level
            else:
                assert a["statistic"] == sc.data_silence_run[s, last]
                assert a["threshold"] == comb.data_silence_min_run
            assert onset == max(start - sc.data_silence_run[s, start] + 1, 0)
        elif a["method"] == "silence":
            assert sc.silence_alarm[s, start] and not sc.data_silence_alarm[s, start] and not up
            assert a["statistic"] == sc.silence_prob[s, last]
            assert a["threshold"] == comb.silence_level
            assert onset == max(start - sc.silence_run[s, start] + 1, 0)
        elif a["method"] == "ewma":
            assert a["indicator"] in EWMA_KEYS
            assert up == (sc.ewma[s, start] > 0)
            assert a["statistic"] == sc.ewma[s, last]
            assert a["threshold"] == sc.ewma_limit[s, last]
            assert onset == start
        else:
            assert a["indicator"] not in EWMA_KEYS
            assert up == bool(sc.alarm_up[s, start])
            assert a["statistic"] == (sc.cusum_up if up else sc.cusum_down)[s, last]
            assert a["threshold"] == sc.threshold[s]
            assert onset == max(int((sc.onset_up if up else sc.onset_down)[s, start]), 0)
