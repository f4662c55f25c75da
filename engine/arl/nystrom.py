"""Nyström set-up of the ARL integral equations of charts with a reflecting barrier.

The CUSUM (barrier 0) and the one-sided EWMA (barrier ``r``) both have ARL functions solving::

    L(z) = 1 + L(r) · P(next value at the barrier | z) + ∫ L(y) f(y | z) dy

With Gauss–Legendre nodes ``y_j`` and weights ``w_j`` the integral becomes ``Σ_j w_j f(y_j | z) L(y_j)``;
the unknowns are ``L(r), L(y_1..y_n)`` and the rows are the equation at the barrier and at each node.
A two-sided chart has no barrier (``L(z) = 1 + ∫ L(y) f(y | z) dy`` on ``[−c, c]``). The ARL from any
start value then follows from the solved ARLs at the nodes (the Nyström interpolation).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

from engine.arl.markov import solve

FloatArray = NDArray[np.float64]
# z (m,) -> (m,) probability that the next value sits on the barrier
BarrierMass = Callable[[FloatArray], FloatArray]
# z (m,) -> (m, n) weighted transition densities w_j f(y_j | z) to the quadrature nodes
NodeDensity = Callable[[FloatArray], FloatArray]


def solve_with_barrier(
    barrier: float, nodes: FloatArray, barrier_mass: BarrierMass, node_density: NodeDensity
) -> FloatArray:
    """``(n + 1,)`` ARLs ``[L(barrier), L(y_1), ..., L(y_n)]`` of the discretised equation."""
    pts = np.concatenate(([barrier], nodes))
    size = len(pts)
    A = np.zeros((size, size))
    A[:, 0] = barrier_mass(pts)
    A[:, 1:] = node_density(pts)
    return solve(np.eye(size) - A, np.ones(size))


def solve_without_barrier(nodes: FloatArray, node_density: NodeDensity) -> FloatArray:
    """``(n,)`` ARLs ``[L(y_1), ..., L(y_n)]`` of the discretised equation of a chart without a barrier."""
    size = len(nodes)
    return solve(np.eye(size) - node_density(nodes), np.ones(size))


def arl_from_start(
    start: float, arls: FloatArray, node_density: NodeDensity, barrier_mass: BarrierMass | None = None
) -> float:
    """ARL (periods) from the start value ``start`` (Nyström interpolation of the solved equation).

    ``arls``: the output of :func:`solve_with_barrier` (``barrier_mass`` given) or of
    :func:`solve_without_barrier` (``barrier_mass`` ``None``).
    """
    z0 = np.array([start])
    if barrier_mass is None:
        return float(1.0 + (node_density(z0) @ arls)[0])
    return float(1.0 + barrier_mass(z0)[0] * arls[0] + (node_density(z0) @ arls[1:])[0])
