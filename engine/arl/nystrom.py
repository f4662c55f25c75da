"""Nyström set-up of the ARL integral equations of charts with a reflecting barrier.

The CUSUM (barrier 0) and the one-sided EWMA (barrier ``r``) both have ARL functions solving::

    L(z) = 1 + L(r) · P(next value at the barrier | z) + ∫ L(y) f(y | z) dy

With Gauss–Legendre nodes ``y_j`` and weights ``w_j`` the integral becomes ``Σ_j w_j f(y_j | z) L(y_j)``;
the unknowns are ``L(r), L(y_1..y_n)`` and the rows are the equation at the barrier and at each node.
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
