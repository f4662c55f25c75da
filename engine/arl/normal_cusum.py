"""ARL of the tabular CUSUM for a normal mean (standardised observations, σ = 1).

Upper chart ``C_t = max(0, C_{t−1} + z_t − k)``, signal when ``C_t > h`` (continuous data: ``>``
and ``>=`` coincide). The lower chart is the upper chart applied to ``−z``, so its ARL at shift δ
is the upper ARL at −δ. Observations ``z_t ~ N(δ, 1)`` i.i.d.

Methods
-------
* ``"integral"``: Nyström solution of Page's integral equation with Gauss–Legendre nodes
  (Goel & Wu 1971; Vance 1986)::

      L(z) = 1 + L(0) Φ(k − z − δ) + ∫_0^h L(y) φ(y + k − z − δ) dy.

* ``"markov"``: the Brook & Evans (1972) discretisation: state 0 is the point mass at zero, states
  i = 1..N−1 are cells of width ``w = 2h / (2N − 1)`` centred at ``i·w``; converges as O(1/N²).

Two-sided zero-state ARL from the one-sided ones: ``1/ARL = 1/ARL⁺ + 1/ARL⁻`` (Lucas & Crosier
1982). This reproduces the published two-sided tables; it is *not* valid with a head start (FIR),
for which :func:`normal_cusum_arl` refuses ``sided="two"`` unless ``head_start == 0``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm

from engine.arl.markov import arl_vector, false_alarm_probability, gauss_legendre
from engine.arl.nystrom import arl_from_start, solve_with_barrier
from engine.arl.results import ArlResult

Sided = Literal["one", "two"]


def _check(k: float, h: float) -> None:
    if h <= 0:
        raise ValueError("h must be positive")
    if not np.isfinite(k):
        raise ValueError("k must be finite")


def upper_cusum_arl_integral(
    k: float, h: float, shift: float = 0.0, head_start: float = 0.0, nodes: int = 120
) -> float:
    """One-sided (upper) CUSUM ARL by the Nyström method (periods).

    Parameters
    ----------
    k, h : float
        Reference value and decision interval, in σ units.
    shift : float
        Mean shift δ in σ units.
    head_start : float
        Start value ``0 <= C_0 < h`` (fast initial response); 0 for the zero-state ARL.
    nodes : int
        Gauss–Legendre nodes on ``[0, h]``.
    """
    _check(k, h)
    if not 0.0 <= head_start < h:
        raise ValueError("head_start must lie in [0, h)")
    z, w = gauss_legendre(nodes, 0.0, h)

    def to_barrier(pts: NDArray[np.float64]) -> NDArray[np.float64]:
        return norm.cdf(k - pts - shift)

    def kernel(pts: NDArray[np.float64]) -> NDArray[np.float64]:
        return w[None, :] * norm.pdf(z[None, :] + k - pts[:, None] - shift)

    # unknowns: L(0), L(z_1..z_n); rows: the equation at 0 and at each node.
    L = solve_with_barrier(0.0, z, to_barrier, kernel)
    if head_start == 0.0:
        return float(L[0])
    return arl_from_start(head_start, L, kernel, to_barrier)


def upper_cusum_transition_matrix(k: float, h: float, shift: float = 0.0, states: int = 400) -> NDArray:
    """Brook–Evans transient matrix (states, states) of the upper CUSUM; state i ↔ value ``i·w``."""
    _check(k, h)
    w = 2.0 * h / (2 * states - 1)
    centre = np.arange(states) * w
    # P(i -> 0) = P(c_i + z - k < w/2); P(i -> j) = P(c_j - w/2 <= c_i + z - k < c_j + w/2).
    upper_edges = centre + 0.5 * w
    cdf = norm.cdf(upper_edges[None, :] - centre[:, None] + k - shift)
    return np.diff(np.concatenate((np.zeros((states, 1)), cdf), axis=1), axis=1)


def upper_cusum_arl_markov(
    k: float, h: float, shift: float = 0.0, head_start: float = 0.0, states: int = 400
) -> float:
    """One-sided (upper) CUSUM ARL by the Brook–Evans Markov chain (periods)."""
    if not 0.0 <= head_start < h:
        raise ValueError("head_start must lie in [0, h)")
    a = arl_vector(upper_cusum_transition_matrix(k, h, shift, states))
    w = 2.0 * h / (2 * states - 1)
    return float(a[round(head_start / w)])


def combine_two_sided(arl_upper: float, arl_lower: float) -> float:
    """Zero-state two-sided ARL from the one-sided ones: ``1/ARL = 1/ARL⁺ + 1/ARL⁻``."""
    return 1.0 / (1.0 / arl_upper + 1.0 / arl_lower)


def normal_cusum_arl(
    k: float = 0.5,
    h: float = 4.0,
    shift: float = 0.0,
    sided: Sided = "two",
    head_start: float = 0.0,
    method: Literal["integral", "markov"] = "integral",
    nodes: int = 120,
    states: int = 400,
) -> ArlResult:
    """Zero-state ARL (periods) of the normal tabular CUSUM.

    Parameters
    ----------
    k, h : float
        Reference value and decision interval in σ units (Montgomery's ``k = δ*/2``).
    shift : float
        Mean shift δ in σ units (positive = increase).
    sided : {"two", "one"}
        ``"one"``: the upper chart alone (for a lower chart pass ``-shift``); ``"two"``: both
        charts, combined with ``1/ARL = 1/ARL⁺ + 1/ARL⁻``.
    head_start : float
        FIR start value for the one-sided chart; the two-sided combination formula is invalid with
        a head start, so ``sided="two"`` requires ``head_start == 0``.
    method : {"integral", "markov"}
        Nyström integral equation (default, accurate) or Brook–Evans chain (cross-check).
    nodes, states : int
        Resolution of the two methods.

    Examples
    --------
    >>> round(normal_cusum_arl(0.5, 4.0).arl, 2)
    167.68
    """

    def one(delta: float) -> float:
        if method == "integral":
            return upper_cusum_arl_integral(k, h, delta, head_start, nodes)
        if method == "markov":
            return upper_cusum_arl_markov(k, h, delta, head_start, states)
        raise ValueError(f"unknown method {method!r}")

    if sided == "one":
        return ArlResult(arl=one(shift), method=method)
    if sided != "two":
        raise ValueError(f"sided must be 'one' or 'two', not {sided!r}")
    if head_start != 0.0:
        raise ValueError(
            "the two-sided ARL cannot be combined from one-sided ARLs with a head start (FIR); "
            "simulate the two-sided FIR chart instead"
        )
    return ArlResult(arl=combine_two_sided(one(shift), one(-shift)), method=method)


def normal_cusum_false_alarm_probability(
    k: float, h: float, periods: int, sided: Sided = "two", states: int = 400
) -> float:
    """In-control ``P(at least one signal within periods)`` from the Brook–Evans chain.

    For ``sided="two"`` the two one-sided charts are treated as independent (their statistics are
    negatively associated, so this slightly overstates the probability: a conservative figure).
    """
    Q = upper_cusum_transition_matrix(k, h, 0.0, states)
    start = np.zeros(states)
    start[0] = 1.0
    p_one = false_alarm_probability(Q, start, periods)
    if sided == "one":
        return p_one
    return 1.0 - (1.0 - p_one) ** 2
