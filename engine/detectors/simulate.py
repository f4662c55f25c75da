"""Vectorised in-control simulation and threshold calibration for any detector.

Because every detector runs on ``(S, T)`` arrays, ``R`` in-control replicates of one series are an
``(R, T)`` array. With ``restart="zero"`` each alarm starts a fresh zero-state run, so alarms form a
renewal process and ``periods / alarms`` estimates the zero-state in-control ARL (ARL0); the
calibration searches the threshold giving a target ARL0 on *one* simulated data set (common random
numbers make the alarm rate monotone in the threshold, so bisection is exact for that data set).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.detectors.result import first_alarm


def simulate_counts(mu: np.ndarray, alpha: float | np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Counts with mean ``mu`` (any shape): negative binomial ``Var = mu + alpha mu^2`` (Poisson at 0).

    Drawn as a gamma–Poisson mixture so that ``alpha`` may vary by element.
    """
    mu = np.asarray(mu, dtype=float)
    a = np.broadcast_to(np.asarray(alpha, dtype=float), mu.shape)
    lam = np.where(
        a > 0, rng.gamma(np.where(a > 0, 1.0 / np.maximum(a, 1e-300), 1.0), 1.0, mu.shape) * a * mu, mu
    )
    return rng.poisson(lam).astype(float)


def alarm_rate(alarm: np.ndarray, usable: np.ndarray | None = None) -> float:
    """Alarms per usable period (estimates 1/ARL0 for a zero-restart detector)."""
    periods = alarm.size if usable is None else int(np.count_nonzero(usable))
    return float(np.count_nonzero(alarm)) / max(periods, 1)


def prob_alarm_within(alarm: np.ndarray, horizon: int) -> float:
    """Share of series with at least one alarm in the first ``horizon`` periods."""
    fa = first_alarm(alarm[:, :horizon])
    return float(np.mean(fa >= 0))


def calibrate_threshold(
    run: Callable[[float], np.ndarray],
    target_arl: float,
    lo: float,
    hi: float,
    tol: float = 1e-3,
    max_iter: int = 60,
) -> float:
    """Threshold whose simulated alarm rate equals ``1 / target_arl`` (bisection).

    Parameters
    ----------
    run : callable
        ``run(threshold) -> (R, T) alarm`` on a fixed simulated in-control data set.
    target_arl : float
        Target in-control ARL (periods).
    lo, hi : float
        Bracket: the ARL at ``lo`` must be below and at ``hi`` above the target.
    tol : float
        Absolute tolerance on the threshold.
    """
    target = 1.0 / target_arl
    if alarm_rate(run(lo)) < target or alarm_rate(run(hi)) > target:
        raise ValueError("threshold bracket does not contain the target ARL")
    for _ in range(max_iter):
        mid = 0.5 * (lo + hi)
        if alarm_rate(run(mid)) > target:
            lo = mid
        else:
            hi = mid
        if hi - lo < tol:
            break
    return 0.5 * (lo + hi)
