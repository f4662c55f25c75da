"""Overdispersed draws, vectorised over ``(W, T)`` arrays.

* :func:`nb_counts`: negative binomial as a Poisson-gamma mixture, variance ``mu + mu^2 / k``;
* :func:`beta_binomial`: binomial with a beta-distributed probability, variance
  ``n p (1-p) (1 + (n-1) rho)``;
* :func:`gamma_sum`: total of ``n`` independent gamma durations (the sum of ``n`` gammas of shape
  ``a`` is a gamma of shape ``n a``).
"""

from __future__ import annotations

import numpy as np


def nb_counts(rng: np.random.Generator, mu: np.ndarray, k: float) -> np.ndarray:
    """Negative-binomial counts with mean ``mu`` and size ``k`` (``inf`` gives Poisson)."""
    mu = np.asarray(mu, dtype=float)
    if np.isinf(k):
        return rng.poisson(mu).astype(float)
    lam = mu * rng.gamma(k, 1.0 / k, mu.shape)
    return rng.poisson(lam).astype(float)


def beta_binomial(rng: np.random.Generator, n: np.ndarray, p: np.ndarray, rho: float) -> np.ndarray:
    """Beta-binomial successes out of ``n`` (integers) with mean probability ``p`` and ICC ``rho``."""
    n = np.asarray(n, dtype=np.int64)
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1.0 - 1e-6)
    if rho <= 0:
        return rng.binomial(n, p).astype(float)
    s = 1.0 / rho - 1.0
    q = rng.beta(p * s, (1.0 - p) * s)
    return rng.binomial(n, q).astype(float)


def gamma_sum(rng: np.random.Generator, n: np.ndarray, mean: np.ndarray | float, shape: float) -> np.ndarray:
    """Sum of ``n`` gamma durations of mean ``mean`` and shape ``shape`` (0 where ``n`` is 0)."""
    n = np.asarray(n, dtype=float)
    mean = np.broadcast_to(np.asarray(mean, dtype=float), n.shape)
    out = np.zeros(n.shape)
    pos = n > 0
    out[pos] = rng.gamma(n[pos] * shape, mean[pos] / shape)
    return out
