"""Reporting completeness: every series with exposure in all periods but a numerator in only some is
listed in reporting.csv, alerted or not, with the reason in words."""

from __future__ import annotations

import numpy as np

from engine.detectors.silence import PeerSilence
from engine.panel import MISSING, OBSERVED, SUPPRESSED, UNKNOWN, Panel
from engine.scoring.reporting import reporting_table


def _panel() -> Panel:
    """Twelve months of ten providers: 0-6 report every month, 7 (large) stops for 5 months, 8
    (tiny: ~0.3 a month) misses 2 months, 9 has no bed days in month 3 and misses month 5."""
    rng = np.random.default_rng(0)
    s, t = 10, 12
    n = np.full((s, t), 5000.0)
    n[8] = 60.0
    y = rng.poisson(0.005 * n).astype(float)
    status = np.full((s, t), OBSERVED, dtype=np.int8)
    status[7, 4:9] = UNKNOWN
    status[8, [2, 6]] = UNKNOWN
    status[8, 9] = SUPPRESSED
    status[9, 3], n[9, 3] = MISSING, np.nan
    status[9, 5] = UNKNOWN
    y[status != OBSERVED] = np.nan
    periods = np.array([f"2022-{m:02d}-01" for m in range(1, 13)], dtype="datetime64[D]")
    wards = np.array([f"p{i}" for i in range(s)])
    return Panel("monthly", periods, wards, np.full(s, "people_restrained"), y, n, status)


def test_partial_reporters_are_listed_alerted_or_not() -> None:
    panel = _panel()
    rows = np.arange(panel.shape[0])
    res = PeerSilence().for_cadence("monthly").run(panel.y, panel.n, panel.status)
    table = reporting_table(panel, rows, res)
    listing = table.filter(table["kind"] == "incomplete_reporting")
    text = dict(zip(listing["ward_id"], listing["explanation"], strict=True))
    # p9 lacks bed days in one month: not "exposure in all periods", so not in this listing
    assert set(text) == {"p7", "p8"}
    big = listing.filter(listing["ward_id"] == "p7").row(0, named=True)
    assert big["periods"] == 5 and big["alarm_from"] is not None
    assert "published in 7 of 12 months with occupied bed days reported in all" in text["p7"]
    assert "listed as data silence (alert)" in text["p7"]
    small = listing.filter(listing["ward_id"] == "p8").row(0, named=True)
    assert small["periods"] == 3 and small["alarm_from"] is None and small["expected_count"] < 2
    assert "(2 without a figure, 1 suppressed)" in text["p8"]
    assert "not alerted: too small for silence to be informative (~" in text["p8"]
    # the alerted status agrees with the detector's alarms
    assert res.alarm[7].any() and not res.alarm[8].any()
