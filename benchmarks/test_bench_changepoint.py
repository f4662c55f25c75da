"""Benchmark: change points for a nation (2,500 wards x 20 indicators x 260 weeks) vs ruptures' Pelt.

Run with ``.venv/bin/python -m pytest benchmarks/test_bench_changepoint.py --benchmark-only -s``.

Ours: every series in one compiled call (exact PELT with functional pruning). ruptures: ``Pelt`` with
an equivalent custom cost (same Poisson-with-exposure / binomial cost, ``jump=1``, the same
``min_size`` and the same BIC penalty ``2 log m`` per series), timed on a sample of series and
extrapolated per series. Both run with the dispersion fixed at 1 so that the costs are identical.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import ruptures as rpt

from engine.changepoint import ChangePointSettings, detect_changepoints
from tests.changepoint.reference import RupturesCost

WARDS, INDICATORS, WEEKS = 2_500, 20, 260
S = WARDS * INDICATORS
COUNT_INDICATORS = 15  # the other 5 are proportions
MIN_SIZE = 6
SAMPLE = 200  # series timed with ruptures


@pytest.fixture(scope="module")
def nation():
    """Weekly counts (per occupied bed day) and proportions, 5% missing, 10% of series with a change."""
    rng = np.random.default_rng(20240105)
    family = np.tile(
        np.array(["poisson"] * COUNT_INDICATORS + ["binomial"] * (INDICATORS - COUNT_INDICATORS)), WARDS
    )
    counts = family == "poisson"
    n = np.empty((S, WEEKS))
    n[counts] = rng.uniform(80, 180, (counts.sum(), 1)) * rng.uniform(0.9, 1.1, (counts.sum(), WEEKS))
    n[~counts] = rng.integers(30, 90, ((~counts).sum(), WEEKS))
    level = np.where(counts, rng.gamma(2.0, 0.01, S), rng.uniform(0.05, 0.4, S))[:, None] * np.ones(
        (1, WEEKS)
    )
    changed = rng.random(S) < 0.1
    week = rng.integers(30, WEEKS - 30, S)
    ratio = rng.choice([0.5, 1.5, 2.0], S)
    after = changed[:, None] & (np.arange(WEEKS)[None, :] >= week[:, None])
    level = np.where(after, level * ratio[:, None], level)
    level[~counts] = np.clip(level[~counts], 0.01, 0.95)
    y = np.empty((S, WEEKS))
    y[counts] = rng.poisson(level[counts] * n[counts])
    y[~counts] = rng.binomial(n[~counts].astype(np.int64), level[~counts])
    y[rng.random(y.shape) < 0.05] = np.nan
    return y, n, family, changed


SETTINGS = ChangePointSettings(penalty="bic", min_size=MIN_SIZE, dispersion="none")


@pytest.mark.benchmark(group="changepoint")
def test_bench_changepoints_national_vs_ruptures(benchmark, nation):
    y, n, family, changed = nation
    detect_changepoints(y[:4], n[:4], SETTINGS, family=family[:4])  # compile outside the timing
    res = benchmark.pedantic(
        detect_changepoints, args=(y, n, SETTINGS), kwargs={"family": family}, rounds=3, iterations=1
    )
    ours_total = benchmark.stats.stats.min
    assert res.starts.shape == (S, WEEKS)

    rng = np.random.default_rng(0)
    sample = np.sort(rng.choice(S, SAMPLE, replace=False))
    agree = 0
    t0 = time.perf_counter()
    theirs = []
    for i in sample:  # a per-series Python loop: what a user of ruptures would write
        keep = np.isfinite(y[i])
        algo = rpt.Pelt(custom_cost=RupturesCost(str(family[i])), min_size=MIN_SIZE, jump=1)
        theirs.append(
            (keep, algo.fit(np.column_stack([y[i, keep], n[i, keep]])).predict(pen=2 * math.log(keep.sum())))
        )
    ruptures_per_series = (time.perf_counter() - t0) / SAMPLE
    for i, (keep, bkps) in zip(sample, theirs, strict=True):
        mapped = [int(np.flatnonzero(keep)[b]) for b in bkps[:-1]]
        agree += mapped == res.change_points(int(i))
    ruptures_total = ruptures_per_series * S
    ratio = ruptures_total / ours_total
    detected = res.n_changes > 0
    print(
        f"\nchange points, {S:,} series x {WEEKS} weeks (min_size {MIN_SIZE}, BIC, jump=1):"
        f"\n  wardwatch (all series, one call): {ours_total:.2f} s ({ours_total / S * 1e6:.0f} us/series)"
        f"\n  ruptures Pelt, equivalent cost:   {ruptures_per_series * 1e3:.1f} ms/series on {SAMPLE} series"
        f" -> {ruptures_total:.0f} s extrapolated"
        f"\n  ratio: {ratio:.0f}x; identical segmentations on the sample: {agree}/{SAMPLE}"
        f"\n  series with >= 1 change: {detected[changed].mean():.1%} of changed, {detected[~changed].mean():.1%} of flat"
    )
    assert ratio >= 10
    assert agree >= 0.95 * SAMPLE  # ruptures prunes at once, which is not exact with min_size > 1
