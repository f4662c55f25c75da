"""Benchmark: chart a nation's wards in one call (2,500 wards x 20 indicators x 260 weeks).

Run with ``.venv/bin/python -m pytest benchmarks/test_bench_charts.py --benchmark-only``.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.charts import AttributeSettings, XmRSettings, attribute_chart, xmr_chart

WARDS, INDICATORS, WEEKS = 2_500, 20, 260
S = WARDS * INDICATORS


@pytest.fixture(scope="module")
def nation():
    """Weekly counts with exposure, 5% missing, staggered starts, a few rebases."""
    rng = np.random.default_rng(20240101)
    bed_days = rng.uniform(80, 180, size=(S, 1)) * rng.uniform(0.9, 1.1, size=(S, WEEKS))
    rate = rng.gamma(2.0, 0.01, size=(S, 1))
    y = rng.poisson(rate * bed_days).astype(float)
    y[rng.random(y.shape) < 0.05] = np.nan
    starts = rng.integers(0, 52, size=S)
    y[np.arange(WEEKS)[None, :] < starts[:, None]] = np.nan
    groups = np.zeros((S, WEEKS), dtype=np.int32)
    groups[rng.random(S) < 0.1, 130:] = 1
    direction = rng.choice(np.array(["increase", "decrease", "neutral"]), size=S)
    return y, bed_days, groups, direction


@pytest.mark.benchmark(group="charts")
def test_bench_xmr_50k_series(benchmark, nation):
    y, n, groups, direction = nation
    rate = y / n
    res = benchmark.pedantic(
        xmr_chart, args=(rate, direction), kwargs={"groups": groups, "settings": XmRSettings()}, rounds=3
    )
    assert res.point_type.shape == (S, WEEKS)


@pytest.mark.benchmark(group="charts")
def test_bench_u_chart_50k_series(benchmark, nation):
    y, n, groups, direction = nation
    res = benchmark.pedantic(
        attribute_chart,
        args=(y, n, direction),
        kwargs={"groups": groups, "settings": AttributeSettings(kind="up")},
        rounds=3,
    )
    assert res.point_type.shape == (S, WEEKS)
