"""Threshold search for a target in-control ARL.

* Continuous charts with an exact ARL (normal CUSUM ``h``, EWMA ``L``): Brent's root-finder on
  ``log ARL0(threshold) − log target`` (ARL0 is continuous and increasing in the threshold).
* Count CUSUMs on a lattice: ARL0 is a step function of ``h``; the result is the *smallest* ``h`` on
  the ``1/m`` grid with ``ARL0 >= target`` (bisection over grid points; ARL0 is monotone in ``h``
  because the statistic's path does not depend on ``h``). The attained ARL0 can overshoot the
  target a lot (the discreteness trap of sequential-methods.md §1.4): it is reported.
* Anything else: bisection on a simulated ARL0 with common random numbers (the same replicate
  data for every candidate threshold), so the simulated ARL0 is monotone in the threshold for any
  detector whose alarms are monotone in it.
"""

from __future__ import annotations

from collections.abc import Callable
from math import ceil, floor

import numpy as np
from scipy.optimize import brentq
from scipy.stats import norm

from engine.arl.ewma import ewma_arl
from engine.arl.lattice import Direction, DiscreteDistribution, Signal, count_cusum_arl, lattice_denominator
from engine.arl.normal_cusum import Sided, normal_cusum_arl
from engine.arl.results import CalibrationResult, Method
from engine.arl.simulation import DetectorRun, Sampler, simulate_run_length


def calibrate_threshold(
    arl0: Callable[[float], float],
    target_arl0: float,
    lower: float,
    upper: float,
    method: Method,
    xtol: float = 1e-6,
) -> CalibrationResult:
    """Root of ``arl0(threshold) = target`` for a continuous, increasing ARL function.

    The bracket ``[lower, upper]`` is widened (upper doubled up to 20 times) until it contains
    the target.
    """
    if target_arl0 <= 1:
        raise ValueError("the target ARL0 must exceed 1 period")
    f = lambda x: np.log(arl0(x)) - np.log(target_arl0)  # noqa: E731
    for _ in range(20):
        if f(upper) > 0:
            break
        lower, upper = upper, 2.0 * upper
    else:
        raise ValueError("could not bracket the target ARL0")
    if f(lower) > 0:
        raise ValueError(f"ARL0 at the lower bracket {lower} already exceeds the target")
    x = brentq(f, lower, upper, xtol=xtol)
    return CalibrationResult(threshold=float(x), arl0=float(arl0(x)), target_arl0=target_arl0, method=method)


def shewhart_limit(target_arl0: float, sided: str = "two") -> CalibrationResult:
    """Closed-form ``L`` with ARL0 = target: ``Φ⁻¹(1 − 1/(2·ARL0))`` (two-sided) or ``Φ⁻¹(1 − 1/ARL0)``."""
    if target_arl0 <= 2:
        raise ValueError("the target ARL0 must exceed 2 periods")
    p = 1.0 / target_arl0
    L = float(norm.isf(p / 2.0 if sided == "two" else p))
    return CalibrationResult(threshold=L, arl0=target_arl0, target_arl0=target_arl0, method="closed_form")


def normal_cusum_h(k: float, target_arl0: float, sided: Sided = "two") -> CalibrationResult:
    """Decision interval ``h`` (σ units) of the normal tabular CUSUM with ARL0 = target."""
    return calibrate_threshold(
        lambda h: normal_cusum_arl(k, h, 0.0, sided=sided).arl,
        target_arl0,
        0.05,
        8.0,
        "integral",
    )


def ewma_L(lam: float, target_arl0: float, sided: Sided = "two", reflect: float = 0.0) -> CalibrationResult:
    """Limit multiplier ``L`` of an EWMA (asymptotic limits) with ARL0 = target."""
    lower = 0.05 if sided == "two" else max(0.05, 1.01 * reflect / np.sqrt(lam / (2 - lam)))
    return calibrate_threshold(
        lambda L: ewma_arl(lam, L, 0.0, sided=sided, reflect=reflect).arl,
        target_arl0,
        lower,
        4.0,
        "integral",
    )


def count_cusum_h(
    dist: DiscreteDistribution,
    k: float,
    target_arl0: float,
    m: int | None = None,
    direction: Direction = "up",
    signal: Signal = "geq",
    h_max: float | None = None,
) -> CalibrationResult:
    """Smallest ``h`` on the ``1/m`` grid whose exact ARL0 (under ``dist``) reaches the target.

    ``m`` defaults to the lattice of ``k``. ``h_max`` (default: generous) bounds the search.
    """
    m = lattice_denominator(k, m=m)

    def arl(H: int) -> float:
        return count_cusum_arl(dist, k, H / m, direction, signal, m=m).arl

    lo = 1  # smallest grid h
    if arl(lo) >= target_arl0:
        return CalibrationResult(lo / m, arl(lo), target_arl0, "markov")
    hi = 2
    limit = ceil((h_max if h_max is not None else 200.0) * m)
    while arl(hi) < target_arl0:
        lo, hi = hi, 2 * hi
        if hi > limit:
            raise ValueError("target ARL0 not reached below h_max")
    while hi - lo > 1:  # invariant: arl(lo) < target <= arl(hi)
        mid = (lo + hi) // 2
        if arl(mid) >= target_arl0:
            hi = mid
        else:
            lo = mid
    return CalibrationResult(hi / m, arl(hi), target_arl0, "markov")


def calibrate_threshold_simulated(
    make_detector: Callable[[float], DetectorRun],
    sampler: Sampler,
    target_arl0: float,
    lower: float,
    upper: float,
    replicates: int = 4_000,
    seed: int = 20_240_501,
    xtol: float = 1e-3,
    max_periods: int = 1_000_000,
) -> CalibrationResult:
    """Bisection on a simulated ARL0 with common random numbers.

    Parameters
    ----------
    make_detector : callable
        ``threshold -> detector_run`` (see :func:`engine.arl.simulation.simulate_run_length`);
        alarms must become rarer as the threshold rises.
    sampler : callable
        In-control data ``(rng, R, T) -> (R, T)``.
    target_arl0 : float
        Target in-control ARL (periods).
    lower, upper : float
        Initial bracket; ``upper`` is doubled until the simulated ARL0 reaches the target.
    replicates, seed : int
        Simulation size and seed (identical data for every candidate threshold).
    xtol : float
        Width of the final bracket; the returned threshold is its upper end (ARL0 >= target).
    """

    def sim(x: float):
        return simulate_run_length(
            make_detector(x),
            sampler,
            replicates=replicates,
            seed=seed,
            initial_periods=max(16, min(4096, ceil(target_arl0))),
            max_periods=max_periods,
            common_random_numbers=True,
        )

    for _ in range(20):
        if sim(upper).arl >= target_arl0:
            break
        lower, upper = upper, 2.0 * upper
    else:
        raise ValueError("could not bracket the target ARL0")
    while upper - lower > xtol:
        mid = 0.5 * (lower + upper)
        if sim(mid).arl >= target_arl0:
            upper = mid
        else:
            lower = mid
    best = sim(upper)
    return CalibrationResult(upper, best.arl, target_arl0, "simulation", se=best.se)


def grid_floor(value: float, m: int) -> float:
    """``value`` rounded down to the ``1/m`` grid."""
    return floor(value * m + 1e-9) / m
