"""Benchmark: baselines and every detector over a nation (2,500 wards x 20 indicators x 260 weeks).

Run with ``.venv/bin/python -m pytest benchmarks/test_bench_detectors.py --benchmark-only``
(the first run also compiles the numba kernels into the cache; numbers are from warm runs).
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.baselines import BaselineSettings, fit_baselines
from engine.detectors import (
    BinomialCusum,
    DataSilence,
    Ewma,
    GlrNegBin,
    GlrPoisson,
    NegBinCusum,
    NormalCusum,
    PoissonCusum,
    Silence,
    ward_data_silence,
)

WARDS, INDICATORS, WEEKS = 2_500, 20, 260
S = WARDS * INDICATORS


@pytest.fixture(scope="module")
def nation():
    """NB weekly counts with bed-day exposure, 5% missing, staggered starts, 8 ward types, rebases."""
    rng = np.random.default_rng(20261101)
    bed_days = rng.uniform(80, 180, size=(S, 1)) * rng.uniform(0.9, 1.1, size=(S, WEEKS))
    rate = rng.gamma(2.0, 0.01, size=(S, 1))
    mu = rate * bed_days
    y = rng.poisson(rng.gamma(1 / 0.3, 0.3, size=(S, WEEKS)) * mu).astype(float)
    y[rng.random(y.shape) < 0.05] = np.nan
    starts = rng.integers(0, 52, size=S)
    y[np.arange(WEEKS)[None, :] < starts[:, None]] = np.nan
    ward = np.repeat(np.arange(WARDS), INDICATORS)
    ward_type = rng.integers(0, 8, size=WARDS)[ward]
    group = ward_type * INDICATORS + np.tile(np.arange(INDICATORS), WARDS)
    rebase = np.zeros((S, WEEKS), dtype=bool)
    rebase[rng.random(S) < 0.05, 130] = True
    return y, bed_days, group, rebase, ward


@pytest.fixture(scope="module")
def baseline(nation):
    y, n, group, rebase, _ = nation
    return fit_baselines(y, n, "count", group=group, rebase=rebase)


@pytest.mark.benchmark(group="detectors")
def test_bench_baselines_frozen(benchmark, nation):
    y, n, group, rebase, _ = nation
    b = benchmark.pedantic(
        fit_baselines, args=(y, n, "count"), kwargs={"group": group, "rebase": rebase}, rounds=2
    )
    assert b.expected_rate.shape == (S, WEEKS)


@pytest.mark.benchmark(group="detectors")
def test_bench_baselines_updating(benchmark, nation):
    y, n, group, rebase, _ = nation
    st = BaselineSettings(mode="updating")
    b = benchmark.pedantic(
        fit_baselines,
        args=(y, n, "count"),
        kwargs={"group": group, "rebase": rebase, "settings": st},
        rounds=2,
    )
    assert b.ready.any()


DETECTORS = {
    "cusum_poisson_both": PoissonCusum(direction="both", threshold=4.0),
    "cusum_nb_both": NegBinCusum(direction="both", threshold=4.0),
    "cusum_normal_both": NormalCusum(direction="both"),
    "ewma_both": Ewma(direction="both"),
    "glr_poisson_up_w52": GlrPoisson(window=52),
    "glr_nb_up_w26": GlrNegBin(window=26),
    "silence": Silence(),
}


@pytest.mark.benchmark(group="detectors")
@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_bench_detector(benchmark, nation, baseline, name):
    y, n, *_ = nation
    det = DETECTORS[name]
    det.run(y[:10], n[:10], baseline.expected_rate[:10], baseline.dispersion[:10])  # compile / load cache
    res = benchmark.pedantic(
        det.run, args=(y, n, baseline.expected_rate, baseline.dispersion), rounds=2, iterations=1
    )
    assert res.alarm.shape == (S, WEEKS)


@pytest.mark.benchmark(group="detectors")
def test_bench_binomial_cusum(benchmark, nation):
    rng = np.random.default_rng(3)
    shifts = np.round(rng.uniform(40, 90, size=(S, WEEKS)))
    p = np.full((S, WEEKS), 0.12)
    y = rng.binomial(shifts.astype(np.int64), 0.12).astype(float)
    det = BinomialCusum(direction="both")
    det.run(y[:10], shifts[:10], p[:10], 0.02)
    res = benchmark.pedantic(det.run, args=(y, shifts, p, 0.02), rounds=2, iterations=1)
    assert res.alarm.shape == (S, WEEKS)


@pytest.mark.benchmark(group="detectors")
def test_bench_data_silence(benchmark, nation):
    y, _, _, _, ward = nation
    det = DataSilence()

    def both():
        res = det.run(y)
        return res, ward_data_silence(~np.isfinite(y), ward, det)

    res, wards = benchmark.pedantic(both, rounds=2, iterations=1)
    assert res.alarm.shape == (S, WEEKS) and wards.result.alarm.shape == (WARDS, WEEKS)
