"""Exact PELT (Killick, Fearnhead & Eckley 2012) for many series in one compiled call.

The search works on the **observed** periods of each series only (``NaN`` periods are skipped, not
zero-filled): segments, the minimum segment length and the ``log m`` of the penalties count observed
periods, and change positions are mapped back to the original period index.

Optimal partitioning recursion over the ``m`` observed points, with ``F(0) = 0`` and the segment
cost ``C`` scaled by the series' ``scale`` (``1 / phi`` or ``1 / sigma^2``)::

    F(s) = min_{t in R(s)} F(t) + scale * C(t, s) + lam * log(s - t) + beta

over candidates ``t = 0`` or ``min_size <= t <= s - min_size``; the objective is ``F(m) - beta``.
Ties go to the smallest ``t`` (the same rule as ``ruptures``' ``min`` over its ordered candidates).

**Pruning, exact even with a minimum segment length and the MBIC length term.** Every cost is the
minimum over the segment parameter ``theta`` of ``D(theta)``, the segment's ``-2`` log-likelihood, so
``C(t, T) >= C(t, s) + C(s, T)`` and ``log(T - t) >= log(T - s)``. Two rules remove a candidate ``t``
at step ``s``; both only show that ``t`` can never be optimal at any ``T >= s + min_size``, so ``t``
is dropped from step ``s + min_size`` on (for ``s < T < s + min_size`` the change at ``s`` is not yet
admissible):

1. PELT: ``F(t) + scale * C(t, s) > F(s)`` (a change at ``s`` does strictly better for every
   ``theta``). Pruning at once, as ``ruptures`` and R ``changepoint`` do, is not exact with a minimum
   segment length; nor is including the ``log`` term in the test, as ``changepoint`` does for MBIC.
2. Functional (FPOP-style, Maidstone et al. 2017): when ``t`` entered, the segment that gave
   ``F(t)`` (from ``u = last[t]``) beat any segmentation with a change at ``t`` for every ``theta`` in
   an interval ``J(t)`` (an inner bound is stored). If the ``theta`` where ``t`` is still no worse
   than a change at ``s``, ``{theta: F(t) + scale * D_ts(theta) <= F(s)}`` (an interval around the
   segment mean), lies inside ``J(t)``, then for every ``theta`` another candidate is strictly better.
   The test costs a few multiplications (``D`` is linear in the segment sums with coefficients fixed
   at the ends of ``J(t)``) and cuts the live candidates of a 260-week series without change from
   ~130 to ~15.

A relative tolerance of ``1e-9`` keeps rounding from pruning a near-tie. Exactness is tested against
brute-force optimal partitioning.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from engine.changepoint.costs import BINOMIAL, NORMAL, POISSON, segment_cost

_NEVER = np.iinfo(np.int64).max


_NEWTON_STEPS = 4


@nb.njit(cache=True, error_model="numpy")
def _poisson_root(delta: float, right: bool) -> float:
    """Inner bound ``r`` of the root of ``r - 1 - log r = delta`` on one side of ``r = 1``.

    Newton from a point outside the sublevel set converges monotonically from outside (convexity);
    the secant between ``r = 1`` (value ``-delta``) and that outer point then gives a point inside.
    """
    r = 2.0 * (1.0 + delta) if right else np.exp(-1.0 - delta)
    for _ in range(_NEWTON_STEPS):
        h = r - 1.0 - np.log(r) - delta
        if h <= 0.0:
            return r
        r = r - h / (1.0 - 1.0 / r)
    h = r - 1.0 - np.log(r) - delta
    if h <= 0.0:  # rounding put the iterate inside: it is an inner bound itself
        return r
    return 1.0 + (r - 1.0) * delta / (h + delta)


@nb.njit(cache=True, error_model="numpy")
def _binomial_root(p: float, delta: float, right: bool) -> float:
    """Inner bound ``theta`` of the root of ``KL(p || theta) = delta`` on one side of ``p`` (0 < p < 1).

    Returns ``p`` itself (a trivial inner bound) when the starting point underflows.
    """
    q = 1.0 - p
    if right:
        gap = q * np.exp(-(delta + 1.0) / q)
        if gap <= 0.0:
            return p
        th = 1.0 - gap
    else:
        th = p * np.exp(-(delta + 1.0) / p)
        if th <= 0.0:
            return p
    for _ in range(_NEWTON_STEPS):
        k = p * np.log(p / th) + q * np.log(q / (1.0 - th)) - delta
        if k <= 0.0:  # rounding put the iterate inside: it is an inner bound itself
            return th
        th = th - k * th * (1.0 - th) / (th - p)
        if not (0.0 < th < 1.0):
            return p
    k = p * np.log(p / th) + q * np.log(q / (1.0 - th)) - delta
    if k <= 0.0:
        return th
    return p + (th - p) * delta / (k + delta)


@nb.njit(cache=True, error_model="numpy")
def _coefficients(code: int, theta: float) -> tuple[float, float, float]:
    """``(alpha, beta, gamma)`` with ``D(theta) = alpha A + beta B + gamma L``, the unminimised cost.

    ``D`` is the segment's ``-2`` log-likelihood at parameter ``theta`` (same dropped constants as
    :func:`segment_cost`, so ``min_theta D = C``).
    """
    if code == POISSON:
        return -2.0 * np.log(theta), 2.0 * theta, 0.0
    if code == BINOMIAL:
        l1 = np.log1p(-theta)
        return -2.0 * (np.log(theta) - l1), -2.0 * l1, 0.0
    return -2.0 * theta, 1.0, theta * theta


@nb.njit(cache=True, error_model="numpy")
def _dominated_interval(
    code: int, a: float, b: float, length: float, slack: float
) -> tuple[float, float, bool, bool]:
    """Inner bounds ``(lo, hi)`` of ``{theta: D(theta) - C < slack}`` for one segment's sums.

    Also returns whether each end is the edge of the parameter space (no check needed there).
    """
    if code == POISSON:
        if a <= 0.0:
            return 0.0, slack / (2.0 * b) * (1.0 - 1e-12), True, False
        rate = a / b
        d = slack / (2.0 * a)
        return rate * _poisson_root(d, False), rate * _poisson_root(d, True), False, False
    if code == BINOMIAL:
        d = slack / (2.0 * b)
        if a <= 0.0:
            return 0.0, -np.expm1(-d) * (1.0 - 1e-12), True, False
        if a >= b:
            return np.exp(-d) * (1.0 + 1e-12), 1.0, False, True
        p = a / b
        return _binomial_root(p, d, False), _binomial_root(p, d, True), False, False
    centre = a / length
    half = np.sqrt(slack / length) * (1.0 - 1e-9)
    return centre - half, centre + half, False, False


@nb.njit(cache=True, error_model="numpy")
def pelt_core(
    ca: np.ndarray,
    cb: np.ndarray,
    m: int,
    code: int,
    scale: float,
    beta: float,
    lam: float,
    min_size: int,
    last: np.ndarray,
) -> float:
    """Exact penalised segmentation of ``m`` observed points from cumulative sums.

    Parameters
    ----------
    ca, cb:
        ``(>= m + 1,)`` cumulative sums of the two statistics over the observed points
        (``ca[0] = cb[0] = 0``).
    m:
        Number of observed points.
    code, scale, beta, lam, min_size:
        Cost code, cost multiplier, penalty per change, segment-length weight, minimum segment
        length (observed points).
    last:
        ``(>= m + 1,)`` int output: ``last[s]`` is the start of the optimal last segment of the
        first ``s`` points; follow it back from ``m`` to read the change points (``0`` ends).

    Returns
    -------
    The optimal objective ``sum scale * C + lam * sum log(length) + beta * changes``.
    """
    if m == 0:
        last[0] = 0
        return 0.0
    if m < 2 * min_size:
        last[m] = 0
        return scale * segment_cost(code, ca[m], cb[m], m) + lam * np.log(m)

    log_len = np.zeros(m + 1)
    if lam != 0.0:
        for j in range(1, m + 1):
            log_len[j] = lam * np.log(j)
    f = np.full(m + 1, np.inf)
    f[0] = 0.0
    cand = np.empty(m + 1, dtype=np.int64)
    kill = np.empty(m + 1, dtype=np.int64)
    # functional pruning: per candidate t, an interval J of the segment parameter on which the
    # segmentation that made F(t) beats every segmentation with a change at t, forever after
    j_ok = np.zeros(m + 1, dtype=np.bool_)
    lo_free = np.zeros(m + 1, dtype=np.bool_)
    hi_free = np.zeros(m + 1, dtype=np.bool_)
    j_lo = np.zeros(m + 1)
    j_hi = np.zeros(m + 1)
    k_lo = np.zeros((m + 1, 3))
    k_hi = np.zeros((m + 1, 3))
    n_cand = 0
    for s in range(min_size, m + 1):
        t_new = s - min_size
        if t_new == 0 or t_new >= min_size:
            cand[n_cand] = t_new
            kill[n_cand] = _NEVER
            n_cand += 1
        best = np.inf
        arg = -1
        k = 0
        for i in range(n_cand):
            if kill[i] <= s:
                continue
            t = cand[i]
            cand[k] = t
            kill[k] = kill[i]
            v = f[t] + scale * segment_cost(code, ca[s] - ca[t], cb[s] - cb[t], s - t) + log_len[s - t] + beta
            if v < best:
                best = v
                arg = t
            k += 1
        n_cand = k
        f[s] = best
        last[s] = arg
        tol = 1e-9 * (1.0 + abs(best))

        # pruning of the live candidates (effective from step s + min_size)
        for i in range(n_cand):
            if kill[i] != _NEVER:
                continue
            t = cand[i]
            sa = ca[s] - ca[t]
            sb = cb[s] - cb[t]
            sl = s - t
            slack = best - f[t]  # t survives only where F(t) + scale * D_ts(theta) <= F(s)
            if scale * segment_cost(code, sa, sb, sl) > slack + tol:  # PELT: nowhere
                kill[i] = s + min_size
                continue
            if not j_ok[t]:
                continue
            # functional: {theta: F(t) + scale D_ts <= F(s)} inside J(t)?
            if code == NORMAL:
                centre = sa / sl
            else:
                centre = sa / sb
            if lo_free[t]:
                left = centre >= j_lo[t]
            else:
                left = (
                    centre > j_lo[t]
                    and scale * (k_lo[t, 0] * sa + k_lo[t, 1] * sb + k_lo[t, 2] * sl) > slack + tol
                )
            if not left:
                continue
            if hi_free[t]:
                right = centre <= j_hi[t]
            else:
                right = (
                    centre < j_hi[t]
                    and scale * (k_hi[t, 0] * sa + k_hi[t, 1] * sb + k_hi[t, 2] * sl) > slack + tol
                )
            if right:
                kill[i] = s + min_size

        # J for s as a future candidate: where the optimum's last segment (arg, s) beats a new one
        if scale > 0.0:
            u = arg
            # room = F(s) - F(u) - scale C(u, s) - lam log((s - u + min_size) / min_size), where the
            # last term bounds lam [log(T - u) - log(T - s)] for every T >= s + min_size
            room = beta + log_len[s - u]
            if lam != 0.0:
                room -= lam * np.log((s - u + min_size) / min_size)
            room = (room - tol) / scale
            if room > 0.0:
                lo, hi, lf, hf = _dominated_interval(code, ca[s] - ca[u], cb[s] - cb[u], s - u, room)
                if lo < hi:
                    j_ok[s] = True
                    j_lo[s] = lo
                    j_hi[s] = hi
                    lo_free[s] = lf
                    hi_free[s] = hf
                    if not lf:
                        c0, c1, c2 = _coefficients(code, lo)
                        k_lo[s, 0] = c0
                        k_lo[s, 1] = c1
                        k_lo[s, 2] = c2
                    if not hf:
                        c0, c1, c2 = _coefficients(code, hi)
                        k_hi[s, 0] = c0
                        k_hi[s, 1] = c1
                        k_hi[s, 2] = c2

    return f[m] - beta
