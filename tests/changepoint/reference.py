"""Independent references for the change-point tests: brute-force optimal partitioning and ruptures costs.

Written separately from the engine (plain Python, costs from scipy log-likelihoods) so that the
tests compare two implementations, not one with itself.
"""

from __future__ import annotations

import math

import numpy as np
from ruptures.base import BaseCost
from scipy import special, stats


def neg2_loglik(model: str, y: np.ndarray, n: np.ndarray) -> float:
    """-2 x maximised log-likelihood of one segment, WITH all constants (scipy)."""
    if model == "poisson":
        rate = y.sum() / n.sum()
        if rate == 0:
            return float(-2 * stats.poisson.logpmf(y, 0.0).sum())
        return float(-2 * stats.poisson.logpmf(y, rate * n).sum())
    if model == "binomial":
        p = y.sum() / n.sum()
        return float(-2 * stats.binom.logpmf(y, n.astype(int), p).sum())
    x = y / n
    return float(((x - x.mean()) ** 2).sum())


def dropped_constant(model: str, y: np.ndarray, n: np.ndarray) -> float:
    """The segmentation-independent terms the engine drops (so objectives can be compared)."""
    if model == "poisson":
        return float(-2 * (y * np.log(n) - special.gammaln(y + 1)).sum())
    if model == "binomial":
        return float(-2 * np.log([math.comb(int(k), int(j)) for j, k in zip(y, n, strict=True)]).sum())
    return 0.0


def brute_force(
    y: np.ndarray,
    n: np.ndarray,
    model: str,
    beta: float,
    lam: float,
    min_size: int,
    scale: float = 1.0,
) -> tuple[list[int], float]:
    """Optimal partitioning without pruning over observed points; returns (change periods, objective).

    The objective uses the full likelihood; the caller subtracts :func:`dropped_constant`.
    """
    obs = np.flatnonzero(np.isfinite(y) & np.isfinite(n) & (n > 0))
    yo, no = y[obs], n[obs]
    m = len(obs)
    if m == 0:
        return [], 0.0

    def cost(t: int, s: int) -> float:
        return scale * neg2_loglik(model, yo[t:s], no[t:s]) + lam * math.log(s - t)

    if m < 2 * min_size:
        return [], cost(0, m)
    best = [math.inf] * (m + 1)
    best[0] = 0.0
    last = [0] * (m + 1)
    for s in range(min_size, m + 1):
        for t in [0, *range(min_size, s - min_size + 1)]:
            v = best[t] + cost(t, s) + beta
            if v < best[s] - 1e-9 * abs(best[s]) if math.isfinite(best[s]) else True:
                best[s], last[s] = v, t
    cps, s = [], m
    while s > 0:
        if last[s] > 0:
            cps.append(int(obs[last[s]]))
        s = last[s]
    return sorted(cps), best[m] - beta


class RupturesCost(BaseCost):
    """ruptures custom cost equivalent to the engine's (y and n stacked as two columns)."""

    model = "wardwatch_equivalent"
    min_size = 1

    def __init__(self, family: str = "poisson") -> None:
        self.family = family

    def fit(self, signal: np.ndarray) -> RupturesCost:
        self.signal = signal
        self.cy = np.concatenate([[0.0], np.cumsum(signal[:, 0])])
        self.cn = np.concatenate([[0.0], np.cumsum(signal[:, 1])])
        return self

    def error(self, start: int, end: int) -> float:
        y = self.cy[end] - self.cy[start]
        n = self.cn[end] - self.cn[start]
        if self.family == "poisson":
            return 0.0 if y <= 0 else -2.0 * (y * math.log(y / n) - y)
        out = 0.0
        if y > 0:
            out -= 2.0 * y * math.log(y / n)
        if n - y > 0:
            out -= 2.0 * (n - y) * math.log((n - y) / n)
        return out
