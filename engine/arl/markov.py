"""Absorbing Markov chains: ARL and run-length distribution from the transient matrix.

A chart's statistic is a Markov chain whose transient states are the in-control values; the
signal is absorption. With ``Q`` the (N, N) sub-stochastic matrix of transitions among transient
states, the vector of ARLs from each start state solves ``(I − Q) a = 1`` and
``P(RL > t | start) = start · Qᵗ · 1``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

from engine.runtime.blas import blas_threads


def solve(A: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """``numpy.linalg.solve`` for the small dense systems of the ARL methods (one BLAS thread)."""
    with blas_threads(1):
        return np.asarray(np.linalg.solve(A, b), dtype=np.float64)


@lru_cache(maxsize=32)
def _leggauss(n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    with blas_threads(1):
        x, w = np.polynomial.legendre.leggauss(n)
    x.setflags(write=False)
    w.setflags(write=False)
    return x, w


def gauss_legendre(n: int, a: float, b: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Gauss–Legendre nodes and weights on ``[a, b]`` (nodes cached per ``n``)."""
    x, w = _leggauss(n)
    return a + 0.5 * (b - a) * (x + 1.0), 0.5 * (b - a) * w


def arl_vector(Q: NDArray[np.float64]) -> NDArray[np.float64]:
    """ARL (periods) from every transient state: solves ``(I − Q) a = 1``."""
    n = Q.shape[0]
    return solve(np.eye(n) - Q, np.ones(n))


def survival(Q: NDArray[np.float64], start: NDArray[np.float64], periods: int) -> NDArray[np.float64]:
    """``P(RL > t)`` for t = 1..periods, for a start distribution over transient states.

    Parameters
    ----------
    Q : (N, N) array
        Transient-to-transient transition probabilities.
    start : (N,) array
        Distribution of the statistic *before* the first observation (a unit vector for a
        zero-state start).
    periods : int
        Number of periods to return.
    """
    out = np.empty(periods)
    v = np.asarray(start, dtype=float)
    for t in range(periods):
        v = v @ Q
        out[t] = v.sum()
    return np.clip(out, 0.0, 1.0)


def false_alarm_probability(Q: NDArray[np.float64], start: NDArray[np.float64], periods: int) -> float:
    """Exact ``P(RL <= periods)``: probability of at least one signal within ``periods``."""
    if periods <= 0:
        return 0.0
    return float(1.0 - survival(Q, start, periods)[-1])
