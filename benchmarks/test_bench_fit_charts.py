"""Benchmark: choose and compute the chart that fits each of a nation's series (fit_charts).

2,500 wards x 20 indicators x 260 weeks, a mix of common and rare events (most weekly counts of
the rare ones are 0, so they move to monthly, T or run charts). Run with
``.venv/bin/python -m pytest benchmarks/test_bench_fit_charts.py --benchmark-only``.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.charts import fit_charts

WARDS, INDICATORS, WEEKS = 2_500, 20, 260
S = WARDS * INDICATORS


@pytest.fixture(scope="module")
def nation():
    """Weekly counts with exposure: rates from frequent (~3 a week) to rare (~1 a year), 5% missing."""
    rng = np.random.default_rng(20240102)
    bed_days = rng.uniform(80, 180, size=(S, 1)) * rng.uniform(0.9, 1.1, size=(S, WEEKS))
    rate = np.exp(rng.uniform(np.log(5e-5), np.log(3e-2), size=(S, 1)))
    y = rng.poisson(rate * bed_days).astype(float)
    observed = rng.random(y.shape) >= 0.05
    periods = np.datetime64("2020-01-06") + 7 * np.arange(WEEKS)
    direction = rng.choice(np.array(["increase", "decrease", "neutral"]), size=S)
    return y, bed_days, observed, periods, direction


@pytest.mark.benchmark(group="charts")
def test_bench_fit_charts_50k_series(benchmark, nation):
    y, n, observed, periods, direction = nation
    res = benchmark.pedantic(fit_charts, args=(y, n, observed, periods, direction, ["count"] * S), rounds=3)
    assert not res.collapsed.any()
    assert {"xmr", "xmr_month", "t", "run"} <= set(res.kind.tolist())
