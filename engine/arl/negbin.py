"""ARL of the negative-binomial log-likelihood-ratio CUSUM (Höhle & Mazick 2010).

In control ``x_t ~ NB(μ0, α)`` with ``Var = μ + αμ²``; out of control the mean is ``μ0·e^κ``.
Per-period LLR increment::

    z_t = κ x_t + (x_t + 1/α) · ln[(1 + α μ0) / (1 + α μ0 e^κ)],

``S_t = max(0, S_{t−1} + z_t)``, signal when ``S_t > h`` (``surveillance`` LR CUSUM convention).
The increment is linear in x with irrational coefficients, so there is no exact lattice chain:
the ARL is obtained by simulation (:func:`nb_cusum_arl_simulated`) and cross-checked with a
Brook–Evans discretisation of the statistic (:func:`nb_cusum_arl_discretised`), which converges
as the number of cells grows (``surveillance::LRCUSUM.runlength`` with its default ``g = 5``
understates ARL0 by a factor 2.6; see sequential-methods.md §1.6 and §7).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from engine.arl.kernels import cusum_alarms
from engine.arl.markov import arl_vector
from engine.arl.results import ArlResult
from engine.arl.simulation import simulate_run_length


def nb_llr_increment(
    x: NDArray[np.float64], mu0: float | NDArray, alpha: float, kappa: float
) -> NDArray[np.float64]:
    """NB LLR score of counts ``x`` for the alternative ``μ1 = μ0·e^κ`` (α > 0)."""
    if alpha <= 0:
        raise ValueError("alpha must be positive (use the Poisson CUSUM for alpha = 0)")
    c = np.log((1.0 + alpha * mu0) / (1.0 + alpha * mu0 * np.exp(kappa)))
    return kappa * x + (x + 1.0 / alpha) * c


def nb_sampler(mean: float, alpha: float):
    """Sampler of i.i.d. NB counts with the given mean and ``Var = mean + α·mean²``."""
    size = 1.0 / alpha
    p = size / (size + mean)

    def sample(rng: np.random.Generator, R: int, T: int) -> NDArray[np.float64]:
        return rng.negative_binomial(size, p, size=(R, T)).astype(np.float64)

    return sample


def nb_cusum_arl_simulated(
    mu0: float,
    alpha: float,
    rate_ratio: float,
    h: float,
    mu: float | None = None,
    replicates: int = 20_000,
    seed: int = 20_240_501,
    max_periods: int = 1_000_000,
) -> ArlResult:
    """Simulated ARL (periods) of the NB LLR CUSUM; the true mean is ``mu`` (default ``mu0``).

    ``rate_ratio`` is the design ratio ``e^κ`` (> 1 for an increase, < 1 for a decrease).
    """
    kappa = float(np.log(rate_ratio))
    sampler = nb_sampler(mu0 if mu is None else mu, alpha)
    rl = simulate_run_length(
        lambda x: cusum_alarms(nb_llr_increment(x, mu0, alpha, kappa), h, "gt"),
        sampler,
        replicates=replicates,
        seed=seed,
        initial_periods=256,
        max_periods=max_periods,
    )
    return rl.result()


def discretised_cusum_arl(
    values: NDArray[np.float64], probs: NDArray[np.float64], h: float, cells: int = 2_000
) -> float:
    """Brook–Evans ARL of ``S = max(0, S + z)``, signal ``S > h``, for a discrete increment ``z``.

    State 0 is the atom ``S = 0``; states 1..cells are the cells ``((i−1)w, iw]`` (``w = h/cells``)
    represented by their midpoints. Converges to the exact ARL as ``cells`` grows.
    """
    w = h / cells
    rep = np.concatenate(([0.0], (np.arange(1, cells + 1) - 0.5) * w))
    nxt = rep[:, None] + np.asarray(values)[None, :]
    idx = np.where(nxt <= 0, 0, np.ceil(nxt / w - 1e-12)).astype(np.int64)
    keep = nxt <= h
    N = cells + 1
    Q = np.zeros((N, N))
    np.add.at(
        Q,
        (np.broadcast_to(np.arange(N)[:, None], idx.shape)[keep], idx[keep]),
        np.broadcast_to(np.asarray(probs)[None, :], idx.shape)[keep],
    )
    return float(arl_vector(Q)[0])


def nb_cusum_arl_discretised(
    mu0: float, alpha: float, rate_ratio: float, h: float, mu: float | None = None, cells: int = 2_000
) -> ArlResult:
    """Brook–Evans approximation of the NB LLR CUSUM ARL (``method="markov"``)."""
    from engine.arl.lattice import negative_binomial

    dist = negative_binomial(mu0 if mu is None else mu, alpha)
    xmax = int(dist.ppf(1.0 - 1e-14)) + 1
    x = np.arange(xmax + 1, dtype=float)
    p = dist.pmf(x)
    p[-1] += dist.sf(xmax)
    z = nb_llr_increment(x, mu0, alpha, float(np.log(rate_ratio)))
    return ArlResult(discretised_cusum_arl(z, p, h, cells), "markov")
