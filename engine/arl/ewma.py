"""ARL of the EWMA chart for a normal mean with fixed (asymptotic) limits.

``Z_t = λ x_t + (1 − λ) Z_{t−1}``, ``Z_0 = z0`` (0 = target), ``x_t ~ N(δ, 1)``.

* Two-sided: signal when ``|Z_t| > c`` with ``c = L·sqrt(λ / (2 − λ))`` (Lucas & Saccucci 1990
  convention: asymptotic limits; time-varying "exact" limits give shorter ARLs and are handled
  by simulation).
* One-sided (upper): ``Z_t = max(r, λ x_t + (1 − λ) Z_{t−1})`` with a reflecting barrier ``r``
  (default 0, the target; Crowder & Hamilton 1992 style), signal when ``Z_t > c``.

Methods
-------
* ``"integral"``: Nyström solution of Crowder's (1987) integral equation with Gauss–Legendre nodes::

      L(z) = 1 + (1/λ) ∫_{−c}^{c} L(y) φ((y − (1−λ) z)/λ − δ) dy      (two-sided)

  plus the point mass ``L(r)·Φ((r − (1−λ) z)/λ − δ)`` for the reflected one-sided chart.
* ``"markov"``: Lucas & Saccucci (1990) chain: the in-control interval cut into ``states`` equal
  cells, transitions between cell centres.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm

from engine.arl.markov import arl_vector, false_alarm_probability, gauss_legendre
from engine.arl.nystrom import arl_from_start, solve_with_barrier, solve_without_barrier
from engine.arl.results import ArlResult

Sided = Literal["one", "two"]


def ewma_limit(lam: float, L: float) -> float:
    """Asymptotic control limit ``c = L·sqrt(λ/(2 − λ))`` in σ units of the observations."""
    if not 0.0 < lam <= 1.0:
        raise ValueError("lambda must lie in (0, 1]")
    if L <= 0:
        raise ValueError("L must be positive")
    return L * np.sqrt(lam / (2.0 - lam))


def _ewma_arl_integral(
    lam: float, c: float, shift: float, sided: Sided, z0: float, reflect: float, nodes: int
) -> float:
    lo = -c if sided == "two" else reflect
    y, w = gauss_legendre(nodes, lo, c)

    def kernel(z: NDArray[np.float64]) -> NDArray[np.float64]:
        return w[None, :] / lam * norm.pdf((y[None, :] - (1.0 - lam) * z[:, None]) / lam - shift)

    def to_barrier(z: NDArray[np.float64]) -> NDArray[np.float64]:
        return norm.cdf((reflect - (1.0 - lam) * z) / lam - shift)

    if sided == "two":
        if abs(z0) > c:
            raise ValueError("start value outside the limits")
        return arl_from_start(z0, solve_without_barrier(y, kernel), kernel)
    # one-sided with reflection at `reflect`: unknowns L(reflect), L(y_1..y_n)
    if not reflect <= z0 <= c:
        raise ValueError("start value outside [reflect, limit]")
    return arl_from_start(z0, solve_with_barrier(reflect, y, to_barrier, kernel), kernel, to_barrier)


def ewma_transition_matrix(
    lam: float, c: float, shift: float = 0.0, sided: Sided = "two", reflect: float = 0.0, states: int = 401
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Lucas–Saccucci transient matrix and the cell centres.

    Two-sided: ``states`` cells of equal width on ``[−c, c]``. One-sided: state 0 is the point mass
    at the barrier ``reflect`` and ``states − 1`` equal cells cover ``(reflect, c]``.
    """
    if sided == "two":
        edges = np.linspace(-c, c, states + 1)
        centres = 0.5 * (edges[:-1] + edges[1:])
        mean = (1.0 - lam) * centres[:, None] + lam * shift
        cdf = norm.cdf((edges[None, :] - mean) / lam)
        return np.diff(cdf, axis=1), centres
    edges = np.linspace(reflect, c, states)
    centres = np.concatenate(([reflect], 0.5 * (edges[:-1] + edges[1:])))
    mean = (1.0 - lam) * centres[:, None] + lam * shift
    cdf = norm.cdf((edges[None, :] - mean) / lam)
    Q = np.empty((states, states))
    Q[:, 0] = cdf[:, 0]
    Q[:, 1:] = np.diff(cdf, axis=1)
    return Q, centres


def ewma_arl(
    lam: float = 0.1,
    L: float = 2.814,
    shift: float = 0.0,
    sided: Sided = "two",
    start: float = 0.0,
    reflect: float = 0.0,
    method: Literal["integral", "markov"] = "integral",
    nodes: int = 300,
    states: int = 601,
) -> ArlResult:
    """Zero-state ARL (periods) of an EWMA chart with asymptotic limits.

    Parameters
    ----------
    lam : float
        Smoothing constant λ in (0, 1].
    L : float
        Limit multiplier; limits ``±L·sqrt(λ/(2−λ))`` in σ units.
    shift : float
        Mean shift δ in σ units.
    sided : {"two", "one"}
        Two-sided ``|Z| > c`` or upper chart reflected at ``reflect``.
    start : float
        Start value ``Z_0`` in σ units (0 = target).
    reflect : float
        Reflecting barrier of the one-sided chart (σ units, below the limit).
    method : {"integral", "markov"}
        Nyström (default) or the Lucas–Saccucci Markov chain.
    nodes, states : int
        Resolution of the two methods. Accuracy: the defaults reproduce Lucas & Saccucci's tables
        to two decimals for λ ≥ 0.03.

    Examples
    --------
    >>> round(ewma_arl(0.5, 3.071).arl, 1)
    499.9
    """
    if sided not in ("one", "two"):
        raise ValueError(f"sided must be 'one' or 'two', not {sided!r}")
    c = ewma_limit(lam, L)
    if sided == "one" and reflect >= c:
        raise ValueError("the reflecting barrier must lie below the limit")
    if method == "integral":
        return ArlResult(_ewma_arl_integral(lam, c, shift, sided, start, reflect, nodes), "integral")
    if method == "markov":
        Q, centres = ewma_transition_matrix(lam, c, shift, sided, reflect, states)
        a = arl_vector(Q)
        return ArlResult(float(a[int(np.argmin(np.abs(centres - start)))]), "markov")
    raise ValueError(f"unknown method {method!r}")


def ewma_false_alarm_probability(
    lam: float, L: float, periods: int, sided: Sided = "two", reflect: float = 0.0, states: int = 601
) -> float:
    """In-control ``P(at least one signal within periods)`` (Lucas–Saccucci chain, start at 0)."""
    c = ewma_limit(lam, L)
    Q, centres = ewma_transition_matrix(lam, c, 0.0, sided, reflect, states)
    start = np.zeros(len(centres))
    start[int(np.argmin(np.abs(centres)))] = 1.0
    return false_alarm_probability(Q, start, periods)
