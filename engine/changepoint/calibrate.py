"""Calibrate the change-point penalty by simulation under "no change" (H0).

BIC and MBIC assume the model is right; over-dispersed or sparse counts break that and make them
over-segment. A penalty means something only when its false-change rate is known, so: simulate
in-control series with the ward's own exposure pattern (and missing periods) and dispersion, run the
**same** procedure as in production (same cost, minimum segment length and dispersion handling), and
pick the penalty per change ``beta`` with

    ``P(at least one spurious change in a series of this length) <= alpha``.

For each simulated series the compiled kernel finds, by bisection, its critical penalty ``beta*``
(the smallest penalty at which it shows no change; the number of changes never increases with the
penalty), so one pass gives the whole false-change curve; the calibrated penalty is the
order statistic of the ``beta*`` that leaves at most ``floor(alpha * n_sim)`` series above it. Use it
with ``ChangePointSettings(penalty="set", penalty_value=calibration.penalty)``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from engine.changepoint.costs import cost_factory
from engine.changepoint.detect import ChangePointSettings
from engine.changepoint.kernel import DISPERSION_ESTIMATE, DISPERSION_NONE, critical_penalty_many


@dataclass(frozen=True)
class PenaltyCalibration:
    """A penalty calibrated to a false-change probability.

    Attributes
    ----------
    penalty:
        Penalty per change ``beta`` (``-2`` log-likelihood scale) for ``penalty = "set"``.
    alpha:
        Target probability of at least one spurious change per in-control series.
    false_change_rate:
        Fraction of the simulated series with at least one change at ``penalty`` (``<= alpha``).
    log_m_multiple:
        ``penalty / log(m)`` with ``m`` the observed periods (BIC is 2, MBIC 3 plus length terms).
    critical:
        ``(n_sim,)`` critical penalties of the simulated series.
    n_sim, seed:
        Simulation size and seed.
    """

    penalty: float
    alpha: float
    false_change_rate: float
    log_m_multiple: float
    critical: np.ndarray
    n_sim: int
    seed: int

    def false_change_probability(self, penalty: float) -> float:
        """Simulated probability of at least one spurious change at another ``penalty``."""
        return float(np.mean(self.critical > penalty))


def simulate_in_control(
    rate: float,
    exposure: np.ndarray,
    model: str,
    dispersion: float,
    n_sim: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``(n_sim, T)`` in-control series (``NaN`` where the exposure is missing).

    Parameters
    ----------
    rate:
        Events per unit exposure (``poisson``), success probability (``binomial``) or mean
        (``normal``).
    exposure:
        ``(T,)`` exposure (occupied bed days, trials; ``NaN`` = period missing).
    model:
        ``poisson``: negative binomial with mean ``rate * n`` and variance ``dispersion * mean``
        (gamma-Poisson; Poisson when ``dispersion == 1``); ``binomial``: beta-binomial with variance
        ``dispersion * n p (1 - p)`` (intra-class correlation ``(dispersion - 1) / (n - 1)``);
        ``normal``: Gaussian with variance ``dispersion``.
    dispersion:
        ``>= 1`` for counts/proportions (variance / nominal variance); variance for ``normal``.
    """
    exposure = np.asarray(exposure, dtype=float)
    missing = ~(np.isfinite(exposure) & (exposure > 0))
    e = np.where(missing, 1.0, exposure)
    shape = (n_sim, e.size)
    if model == "poisson":
        mu = np.broadcast_to(rate * e, shape)
        if dispersion > 1.0:
            k = dispersion - 1.0
            mu = rng.gamma(mu / k, k)
        y = rng.poisson(mu).astype(float)
    elif model == "binomial":
        trials = np.broadcast_to(np.round(e).astype(np.int64), shape)
        p = np.full(shape, float(rate))
        if dispersion > 1.0:
            rho = np.clip((dispersion - 1.0) / np.maximum(trials - 1.0, 1.0), 1e-12, 1 - 1e-9)
            conc = (1.0 - rho) / rho
            p = rng.beta(rate * conc, (1.0 - rate) * conc)
        y = rng.binomial(trials, p).astype(float)
    elif model == "normal":
        y = rng.normal(rate, np.sqrt(dispersion), shape) * e
    else:
        cost_factory(model)
        raise AssertionError("unreachable")
    y[:, missing] = np.nan
    return y


def calibrate_penalty(
    rate: float,
    exposure: np.ndarray,
    *,
    model: str = "poisson",
    dispersion: float = 1.0,
    alpha: float = 0.05,
    n_sim: int = 2000,
    seed: int = 0,
    settings: ChangePointSettings | None = None,
    rel_tol: float = 1e-4,
) -> PenaltyCalibration:
    """Penalty per change with ``P(>= 1 spurious change) <= alpha`` under H0, by simulation.

    Parameters
    ----------
    rate, exposure, model, dispersion:
        The in-control series to simulate (see :func:`simulate_in_control`); ``exposure`` is the
        ``(T,)`` pattern of the series to be segmented, ``NaN`` where its periods are missing.
    alpha:
        Target false-change probability per series (e.g. 0.05).
    n_sim:
        Number of simulated series (Monte Carlo error of the attained rate ~ ``sqrt(alpha / n_sim)``).
    seed:
        Seed of ``numpy.random.default_rng``.
    settings:
        The production settings: ``min_size``, ``dispersion`` (``estimate`` re-estimates ``phi`` on
        each simulated series, exactly as in production) and ``sigma`` are honoured; the penalty kind
        is replaced by a set penalty (no segment-length term).
    rel_tol:
        Relative precision of each critical penalty.
    """
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if n_sim < 1:
        raise ValueError("n_sim must be >= 1")
    settings = replace(settings or ChangePointSettings(), penalty="set", penalty_value=0.0)
    cost = cost_factory(model)
    exposure = np.asarray(exposure, dtype=float)
    rng = np.random.default_rng(seed)
    y = simulate_in_control(rate, exposure, model, dispersion, n_sim, rng)
    n = np.ascontiguousarray(np.broadcast_to(exposure, y.shape))
    mode = DISPERSION_ESTIMATE if settings.dispersion == "estimate" else DISPERSION_NONE
    critical = critical_penalty_many(
        y, n, cost.code, mode, float(settings.sigma), int(settings.min_size), rel_tol
    )
    ordered = np.sort(critical)
    allowed = int(np.floor(alpha * n_sim))  # series allowed to keep a change
    penalty = float(ordered[n_sim - 1 - allowed])
    m = int(np.sum(np.isfinite(exposure) & (exposure > 0)))
    return PenaltyCalibration(
        penalty=penalty,
        alpha=alpha,
        false_change_rate=float(np.mean(critical > penalty)),
        log_m_multiple=penalty / np.log(m) if m > 1 else float("nan"),
        critical=critical,
        n_sim=n_sim,
        seed=seed,
    )
