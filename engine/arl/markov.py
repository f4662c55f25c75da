"""Absorbing Markov chains: ARL and run-length distribution from the transient matrix.

A chart's statistic is a Markov chain whose transient states are the in-control values; the
signal is absorption. With ``Q`` the (N, N) sub-stochastic matrix of transitions among transient
states, the vector of ARLs from each start state solves ``(I − Q) a = 1`` and
``P(RL > t | start) = start · Qᵗ · 1``.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray


def _openblas_thread_control() -> tuple[Callable[[], int], Callable[[int], None]] | None:
    """getter/setter of the thread count of numpy's bundled OpenBLAS, if it can be found."""
    libdir = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for path in sorted(libdir.glob("libscipy_openblas*.so*")):
        try:
            lib = ctypes.CDLL(str(path))
        except OSError:  # pragma: no cover - platform dependent
            continue
        for suffix in ("64_", ""):
            get = getattr(lib, f"scipy_openblas_get_num_threads{suffix}", None)
            put = getattr(lib, f"scipy_openblas_set_num_threads{suffix}", None)
            if get is not None and put is not None:
                put.argtypes = [ctypes.c_int]
                return get, put
    return None


_BLAS = _openblas_thread_control()


@contextmanager
def _single_threaded_blas() -> Any:
    """Run small dense solves on one BLAS thread.

    The systems here have at most a few thousand unknowns; on a busy machine OpenBLAS worker
    threads spin and make such solves up to 40× slower. Restores the previous setting.
    """
    if _BLAS is None:  # pragma: no cover - non-OpenBLAS builds
        yield
        return
    get, put = _BLAS
    before = get()
    put(1)
    try:
        yield
    finally:
        put(before)


def solve(A: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
    """``numpy.linalg.solve`` for the small dense systems of the ARL methods (one BLAS thread)."""
    with _single_threaded_blas():
        return np.asarray(np.linalg.solve(A, b), dtype=np.float64)


@lru_cache(maxsize=32)
def _leggauss(n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    with _single_threaded_blas():
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
