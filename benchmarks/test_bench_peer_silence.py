"""Benchmark: silence judged against peers (``PeerSilence``) over a nation's count series.

2,500 wards x 12 count indicators with bed-day exposure x 260 weeks, 5% of numerators unknown,
staggered starts, 8 ward types (96 peer groups). Run with
``.venv/bin/python -m pytest benchmarks/test_bench_peer_silence.py --benchmark-only``; compare with
``DataSilence`` in test_bench_detectors.py (same shape of input).
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.contract.observations import MISSING, OBSERVED, UNKNOWN
from engine.detectors.silence import PeerSilence

WARDS, INDICATORS, WEEKS = 2_500, 12, 260
S = WARDS * INDICATORS


@pytest.fixture(scope="module")
def nation():
    rng = np.random.default_rng(20261206)
    bed_days = rng.uniform(80, 180, size=(S, 1)) * rng.uniform(0.9, 1.1, size=(S, WEEKS))
    rate = rng.gamma(2.0, 0.01, size=(S, 1))
    y = rng.poisson(rng.gamma(1 / 0.3, 0.3, size=(S, WEEKS)) * rate * bed_days).astype(float)
    status = np.full((S, WEEKS), OBSERVED, dtype=np.int8)
    unknown = rng.random(y.shape) < 0.05
    status[unknown], y[unknown] = UNKNOWN, np.nan
    starts = rng.integers(0, 52, size=S)
    before = np.arange(WEEKS)[None, :] < starts[:, None]
    status[before], y[before] = MISSING, np.nan
    ward_type = rng.integers(0, 8, size=WARDS)[np.repeat(np.arange(WARDS), INDICATORS)]
    group = ward_type * INDICATORS + np.tile(np.arange(INDICATORS), WARDS)
    return y, bed_days, status, group


@pytest.mark.benchmark(group="detectors")
def test_bench_peer_silence(benchmark, nation):
    y, n, status, group = nation
    det = PeerSilence()
    det.run(y[:50], n[:50], status[:50], group[:50])  # compile outside the timing
    res = benchmark.pedantic(det.run, args=(y, n, status, group), rounds=3, iterations=1)
    assert res.alarm.shape == (S, WEEKS)
