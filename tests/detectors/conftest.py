"""Shared fixtures for detector tests."""

from __future__ import annotations

import numpy as np
import pytest

#: Höhle–Paul test series (sequential-methods.md §1.7), t = 1..120.
HP_X = [
    11, 5, 10, 16, 19, 25, 7, 11, 11, 2, 13, 8, 13, 12, 6, 11, 10, 4, 2, 0, 3, 3, 1, 0, 2, 2, 1, 2, 0, 3,
    0, 1, 2, 1, 3, 4, 0, 1, 1, 7, 1, 5, 1, 2, 4, 1, 2, 7, 8, 9, 13, 8, 1, 10, 11, 14, 9, 6, 10, 15, 5, 1,
    9, 3, 26, 3, 1, 8, 7, 2, 5, 8, 2, 2, 7, 0, 3, 0, 1, 0, 1, 0, 1, 1, 2, 2, 5, 5, 3, 1, 0, 2, 5, 1, 4, 2,
    9, 4, 5, 2, 5, 10, 21, 6, 13, 14, 19, 22, 17, 7, 11, 13, 17, 22, 12, 13, 12, 10, 4, 3,
]  # fmt: skip


@pytest.fixture
def hohle_paul() -> tuple[np.ndarray, np.ndarray]:
    """``(x, mu0)`` as ``(1, 120)`` arrays."""
    t = np.arange(1, 121)
    mu0 = np.exp(1.5 + 0.6 * np.cos(2 * np.pi * t / 52) + 0.6 * np.sin(2 * np.pi * t / 52))
    return np.array(HP_X, dtype=float)[None, :], mu0[None, :]


@pytest.fixture
def panel_counts() -> dict[str, np.ndarray]:
    """A small in-control NB panel with gaps: 12 series x 80 periods, known rate and alpha."""
    rng = np.random.default_rng(7)
    s, t = 12, 80
    n = rng.uniform(50, 400, (s, t))
    rate = np.repeat(rng.uniform(0.005, 0.03, (s, 1)), t, axis=1)
    alpha = 0.25
    mu = rate * n
    y = rng.poisson(rng.gamma(1 / alpha, alpha, (s, t)) * mu).astype(float)
    y[rng.random((s, t)) < 0.08] = np.nan
    y[3, 20:31] = np.nan
    y[5, 40:] = 0.0
    rate[:, :5] = np.nan  # baseline not ready yet
    return {"y": y, "n": n, "rate": rate, "alpha": np.full(s, alpha)}
