"""Pruning and skipped evaluations change no bit: PELT equals a plain scan of every candidate."""

from __future__ import annotations

import zlib

import numba as nb
import numpy as np
import pytest

from engine.changepoint.costs import BINOMIAL, NORMAL, POISSON, segment_cost
from engine.changepoint.pelt import log_table, pelt_core


@nb.njit(cache=True, error_model="numpy")
def _plain_scan(
    ca: np.ndarray,
    cb: np.ndarray,
    m: int,
    code: int,
    scale: float,
    beta: float,
    lam: float,
    min_size: int,
    last: np.ndarray,
) -> float:
    """Optimal partitioning over every admissible candidate, in ascending order (ties: smallest t)."""
    f = np.full(m + 1, np.inf)
    f[0] = 0.0
    for s in range(min_size, m + 1):
        best = np.inf
        arg = -1
        for t in range(0, s - min_size + 1):
            if t != 0 and t < min_size:
                continue
            log_len = lam * np.log(s - t) if lam != 0.0 else 0.0
            v = f[t] + scale * segment_cost(code, ca[s] - ca[t], cb[s] - cb[t], s - t) + log_len + beta
            if v < best:
                best = v
                arg = t
        f[s] = best
        last[s] = arg
    return f[m] - beta


def _sums(model: str, rng: np.random.Generator, m: int, kind: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Cumulative statistics of one random series: 0-3 level changes, sparse or tied variants."""
    level = np.full(m, rng.uniform(0.05, 0.5))
    for cut in rng.choice(np.arange(5, m - 5), size=rng.integers(0, 4), replace=False):
        level[cut:] *= rng.choice([0.3, 0.6, 1.7, 3.0])
    if kind == "sparse":
        level *= 0.02
    if model == "poisson":
        n = rng.uniform(50.0, 150.0, m)
        y = rng.poisson(level * n).astype(float)
        code = POISSON
    elif model == "binomial":
        n = rng.integers(5, 60, m).astype(float)
        y = rng.binomial(n.astype(np.int64), np.clip(level, 0.001, 0.999)).astype(float)
        code = BINOMIAL
    else:
        n = np.ones(m)
        y = rng.normal(level * 4.0, 1.0)
        code = NORMAL
    if kind == "tied":  # a repeated block: many exactly equal candidate values
        y = np.tile(y[:4], m // 4 + 1)[:m]
        n = np.tile(n[:4], m // 4 + 1)[:m]
    if code == NORMAL:
        x = y / n - np.mean(y / n)
        a, b = x, x * x
    else:
        a, b = y, n
    return np.concatenate([[0.0], np.cumsum(a)]), np.concatenate([[0.0], np.cumsum(b)]), code


@pytest.mark.parametrize("model", ["poisson", "binomial", "normal"])
@pytest.mark.parametrize("kind", ["plain", "sparse", "tied"])
@pytest.mark.parametrize(
    ("penalty", "min_size"), [("mbic", 6), ("bic", 1), ("mbic", 2), ("set0", 3), ("set", 6)]
)
def test_pelt_equals_plain_scan_bit_for_bit(model: str, kind: str, penalty: str, min_size: int) -> None:
    rng = np.random.default_rng(zlib.crc32(f"{model}-{kind}-{penalty}-{min_size}".encode()))
    for _ in range(6):
        m = int(rng.integers(20, 200))
        ca, cb, code = _sums(model, rng, m, kind)
        log_m = np.log(m)
        beta, lam = {"mbic": (3 * log_m, 1.0), "bic": (2 * log_m, 0.0), "set0": (0.0, 0.0)}.get(
            penalty, (5.0, 0.0)
        )
        scale = float(rng.choice([1.0, 1.0 / 2.7]))
        got = np.zeros(m + 1, dtype=np.int64)
        want = np.zeros(m + 1, dtype=np.int64)
        obj = pelt_core(ca, cb, m, code, scale, beta, lam, min_size, got, log_table(m + min_size + 1))
        ref = _plain_scan(ca, cb, m, code, scale, beta, lam, min_size, want)
        assert np.array_equal(got[min_size:], want[min_size:])
        assert obj == ref  # bitwise: the same expression picks the same candidate
