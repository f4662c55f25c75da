"""Alert span rates: compiled numpy-order sums against numpy itself, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from engine.panel import MISSING, OBSERVED
from engine.scoring.evidence_spans import pairwise_sum, span_rates


@pytest.mark.parametrize("scale", [1.0, 1e-3, 1e6])
def test_pairwise_sum_is_numpys_sum(scale: float) -> None:
    rng = np.random.default_rng(int(scale * 1000) % 97)
    for n in [*range(0, 300), 511, 1024, 1031, 4099]:
        x = rng.standard_normal(n) * scale * 10.0 ** rng.integers(-3, 4, n)
        assert float(pairwise_sum(x, 0, n)).hex() == float(x.sum()).hex(), n
    x = rng.random(400)
    assert float(pairwise_sum(x, 37, 200)).hex() == float(x[37:237].sum()).hex()


def test_span_rates_match_the_numpy_formulation() -> None:
    rng = np.random.default_rng(5)
    s_count, t_count = 40, 150
    y = rng.poisson(3.0, (s_count, t_count)).astype(float)
    n = rng.uniform(20, 80, (s_count, t_count))
    rate = rng.uniform(0.01, 0.1, (s_count, t_count))
    status = np.where(rng.random((s_count, t_count)) < 0.1, MISSING, OBSERVED).astype(np.int8)
    y[status != OBSERVED] = np.nan
    rate[:, :10] = np.nan  # before the baseline is ready
    series = rng.integers(0, s_count, 500)
    last = rng.integers(0, t_count, 500)
    first = np.maximum(0, last - rng.integers(0, 140, 500))
    count, observed, expected = span_rates(y, n, rate, status, series, first, last)
    for i, (s, a, b) in enumerate(zip(series, first, last, strict=True)):
        span = slice(a, b + 1)
        ok = np.isfinite(y[s, span]) & np.isfinite(n[s, span]) & np.isfinite(rate[s, span])
        ok &= status[s, span] == OBSERVED
        assert count[i] == ok.sum()
        if ok.any():
            yy, nn, rr = y[s, span][ok], n[s, span][ok], rate[s, span][ok]
            assert float(observed[i]).hex() == float(yy.sum() / nn.sum()).hex()
            assert float(expected[i]).hex() == float((rr * nn).sum() / nn.sum()).hex()
        else:
            assert np.isnan(observed[i]) and np.isnan(expected[i])


def test_no_spans() -> None:
    empty = np.zeros(0, dtype=np.int64)
    count, observed, _ = span_rates(
        np.zeros((2, 3)), np.ones((2, 3)), np.ones((2, 3)), np.zeros((2, 3), np.int8), empty, empty, empty
    )
    assert count.size == 0 and observed.size == 0
