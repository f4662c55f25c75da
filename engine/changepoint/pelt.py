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
admissible). The decision for step ``s`` is taken while scanning the candidates at step ``s + 1``
(one pass per step), with the same kill step, and only every :data:`PRUNE_EVERY` steps (pruning
later is always valid):

1. PELT: ``F(t) + scale * C(t, s) > F(s)`` (a change at ``s`` does strictly better for every
   ``theta``). Pruning at once, as ``ruptures`` and R ``changepoint`` do, is not exact with a minimum
   segment length; nor is including the ``log`` term in the test, as ``changepoint`` does for MBIC.
2. Functional (FPOP-style, Maidstone et al. 2017): when ``t`` entered, the segment that gave
   ``F(t)`` (from ``u = last[t]``) beat any segmentation with a change at ``t`` for every ``theta`` in
   an interval ``J(t)`` (an inner bound, closed-form from quadratic-rational bounds on ``log``). If
   the ``theta`` where ``t`` is still no worse than a change at ``s``,
   ``{theta: F(t) + scale * D_ts(theta) <= F(s)}`` (an interval around the segment mean), lies inside
   ``J(t)``, then for every ``theta`` another candidate is strictly better. The test costs a few
   multiplications (``D`` is linear in the segment sums with coefficients fixed at the ends of
   ``J(t)``).
3. Runs without counts (Poisson): if the counts from ``z < t`` to ``s`` are all zero, ``z``
   (the first such live candidate) beats ``t`` for ``theta`` in ``[0, x)``, ``x`` set by
   ``F(t) - F(z)`` less the largest log-length difference ahead, while ``t`` beats a change at ``s``
   only on ``[0, w]``: ``w < x`` removes ``t`` (sparse series otherwise keep every candidate of a run).

**Evaluations skipped without changing any bit.** Most live candidates are far from the minimum
(by about ``beta``). ``C(t, s) >= C(t, e) + sum_{e < j <= s} C(j - 1, j)`` for its last exact
evaluation ``e``, so each candidate keeps a lower bound of its value (a key, compared with the running
minimum less the prefix sum of single-period costs: one comparison per candidate and step); when it
exceeds the running minimum (plus a rounding margin) the candidate cannot be the minimiser and its
cost (one or two ``log``) is not evaluated. The running minimum starts from the previous step's optimum; every
evaluated value uses the same expression as a plain scan and ties still go to the smallest ``t``, so
``F``, ``last`` and the objective are bit-identical to evaluating every candidate.

A relative tolerance of ``1e-9`` keeps rounding from pruning a near-tie. Exactness is tested against
brute-force optimal partitioning.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from engine.changepoint.costs import BINOMIAL, NORMAL, POISSON, segment_cost

_NEVER = np.iinfo(np.int64).max
#: Pruning is tested every this many steps: a candidate lives at most a few steps longer, and the scans
#: in between only compare keys (weekly panel, serial CPU: every 2nd step 1.84 s, 4th 1.52 s, 8th 1.34 s,
#: 32nd 1.47 s).
PRUNE_EVERY = 8


@nb.njit(nogil=True, cache=True, error_model="numpy")
def _binomial_bound(p: float, q: float, d: float) -> float:
    """Inner bound ``h > 0`` of ``KL(p || p + h) <= d`` (``q = 1 - p``).

    Uses ``KL(p || p + h) <= h^2 / (2p + h) + h^2 / (2 (q - h)) = B(h)`` (from ``log x >= 2 (x - 1) /
    (x + 1)`` for ``x >= 1`` and ``-log x <= (1 / x - x) / 2`` for ``x <= 1``), convex with ``B(0) = 0``:
    a chord from a point where ``B <= d`` to a point where ``B > d`` crosses ``d`` inside.
    """
    h0 = np.sqrt(2.0 * p * q * d)
    if h0 >= 0.5 * q:
        h0 = 0.5 * q
    b0 = h0 * h0 / (2.0 * p + h0) + h0 * h0 / (2.0 * (q - h0))
    if b0 > d:
        return h0 * (d / b0) * (1.0 - 1e-9)
    # h0 is inside: one Newton step (lands outside by convexity, or beyond q), then a chord
    g1 = h0 * (4.0 * p + h0) / ((2.0 * p + h0) * (2.0 * p + h0))
    g2 = h0 * (2.0 * q - h0) / (2.0 * (q - h0) * (q - h0))
    h1 = h0 + (d - b0) / (g1 + g2)
    if h1 >= q:
        h1 = 0.5 * (h0 + q)
    b1 = h1 * h1 / (2.0 * p + h1) + h1 * h1 / (2.0 * (q - h1))
    if b1 <= d:
        return h1 * (1.0 - 1e-9)
    return (h0 + (h1 - h0) * (d - b0) / (b1 - b0)) * (1.0 - 1e-9)


@nb.njit(nogil=True, cache=True, error_model="numpy")
def _dominated_interval(
    code: int, a: float, b: float, length: float, slack: float
) -> tuple[float, float, bool, bool]:
    """Inner bounds ``(lo, hi)`` of ``{theta: D(theta) - C < slack}`` for one segment's sums.

    Also returns whether each end is the edge of the parameter space (no check needed there).
    Poisson: ``D - C = 2 A g(theta / rate)`` with ``g(r) = r - 1 - log r <= (r - 1)^2 / (r + 1)`` for
    ``r >= 1`` and ``<= (1 - r)^2 / (2 r)`` for ``r <= 1``, whose roots are closed-form.
    """
    if code == POISSON:
        if a <= 0.0:
            return 0.0, slack / (2.0 * b) * (1.0 - 1e-12), True, False
        rate = a / b
        d = slack / (2.0 * a)
        x = 0.5 * (d + np.sqrt(d * d + 8.0 * d)) * (1.0 - 1e-9)
        y = (np.sqrt(d * d + 2.0 * d) - d) * (1.0 - 1e-9)
        return rate * (1.0 - y), rate * (1.0 + x), False, False
    if code == BINOMIAL:
        d = slack / (2.0 * b)
        if a <= 0.0:
            return 0.0, -np.expm1(-d) * (1.0 - 1e-12), True, False
        if a >= b:
            return np.exp(-d) * (1.0 + 1e-12), 1.0, False, True
        p = a / b
        q = 1.0 - p
        return p - _binomial_bound(q, p, d), p + _binomial_bound(p, q, d), False, False
    centre = a / length
    half = np.sqrt(slack / length) * (1.0 - 1e-9)
    return centre - half, centre + half, False, False


@nb.njit(nogil=True, cache=True, error_model="numpy")
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


@nb.njit(nogil=True, cache=True, error_model="numpy")
def _zero_run_beaten(
    f: np.ndarray,
    cb: np.ndarray,
    logs: np.ndarray,
    lam: float,
    min_size: int,
    z: int,
    t: int,
    s: int,
    room: float,
    margin: float,
) -> bool:
    """Rule 3 (Poisson, no counts from ``z < t`` to ``s``): is ``t`` beaten everywhere from ``s + min_size``?

    ``t`` beats a change at ``s`` only for ``theta <= w = room / (2 scale B_ts)`` (``room`` = ``F(s) -
    F(t)`` plus tolerance); ``z`` beats ``t`` for ``theta < x = (F(t) - F(z) - lam log((T - z) /
    (T - t)) - margin) / (2 scale B_zt)`` at every ``T >= s + min_size``. Returns ``w < x``.
    """
    gain = f[t] - f[z] - lam * (logs[s + min_size - z] - logs[s + min_size - t]) - margin
    return room * (cb[t] - cb[z]) < gain * (cb[s] - cb[t])


@nb.njit(nogil=True, cache=True, error_model="numpy")
def log_table(size: int) -> np.ndarray:
    """``log(j)`` for ``j = 0 .. size - 1`` (``-inf`` at 0), shared by every series of a call."""
    out = np.empty(size)
    for j in range(size):
        out[j] = np.log(j)
    return out


#: Rows of the float and int workspaces of :func:`pelt_work`.
N_FLOAT_ROWS, N_INT_ROWS = 13, 6


@nb.njit(nogil=True, cache=True, error_model="numpy")
def workspace(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Float and int workspaces of :func:`pelt_work` for series of up to ``size - 1`` points."""
    return np.empty((N_FLOAT_ROWS, size)), np.empty((N_INT_ROWS, size), dtype=np.int64)


@nb.njit(nogil=True, cache=True, error_model="numpy")
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
    logs: np.ndarray,
) -> float:
    """:func:`pelt_work` with its own workspaces (same arguments, same results)."""
    fw, iw = workspace(m + 1)
    return pelt_work(ca, cb, m, code, scale, beta, lam, min_size, last, logs, fw, iw)


@nb.njit(nogil=True, cache=True, error_model="numpy")
def pelt_work(
    ca: np.ndarray,
    cb: np.ndarray,
    m: int,
    code: int,
    scale: float,
    beta: float,
    lam: float,
    min_size: int,
    last: np.ndarray,
    logs: np.ndarray,
    fw: np.ndarray,
    iw: np.ndarray,
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
    logs:
        ``(>= m + min_size + 1,)`` table of ``log(j)`` (:func:`log_table`).
    fw, iw:
        Workspaces, float ``(N_FLOAT_ROWS, >= m + 1)`` and int ``(N_INT_ROWS, >= m + 1)``
        (:func:`workspace`), reused from series to series.

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

    log_len = fw[0]
    p1 = fw[1]  # prefix sums of single-period costs: C(t, s) >= C(t, e) + p1[s] - p1[e] (e <= s)
    f = fw[2]
    cost = fw[3]  # by t: C(t, se[t]), its last exact evaluation
    j_lo = fw[4]
    j_hi = fw[5]
    k_lo0, k_lo1, k_lo2 = fw[6], fw[7], fw[8]
    k_hi0, k_hi1, k_hi2 = fw[9], fw[10], fw[11]
    # by slot: lower bound of the candidate's value at step s, less scale * p1[s] (see the scan)
    key = fw[12]
    cand = iw[0]
    kill = iw[1]  # by t
    j_ok = iw[2]  # by t: flags, 1 when J(t) is set
    lo_free = iw[3]
    hi_free = iw[4]
    se = iw[5]  # by t: step of the last exact evaluation
    log_len[0] = 0.0
    p1[0] = 0.0
    f[0] = 0.0
    j_ok[0] = 0
    big = 0.0
    for j in range(1, m + 1):
        log_len[j] = lam * logs[j] if lam != 0.0 else 0.0
        f[j] = np.inf
        j_ok[j] = 0
        da = ca[j] - ca[j - 1]
        db = cb[j] - cb[j - 1]
        c = segment_cost(code, da, db, 1.0)
        p1[j] = p1[j - 1] + c
        big += abs(c) + 2.0 * (abs(da) + abs(db))
    # bound on every |cost|, |prefix sum| (times scale) and penalty term: the rounding margin of skips
    big = scale * 2.0 * big + abs(beta) + abs(lam) * logs[m]
    fmax = 0.0
    seeding = min_size >= 2
    n_cand = 0
    seed_slot = -1  # slot of the previous optimum
    for s in range(min_size, m + 1):
        t_new = s - min_size
        if t_new == 0 or t_new >= min_size:
            cand[n_cand] = t_new
            kill[t_new] = _NEVER
            key[n_cand] = -np.inf  # evaluated exactly on entry
            n_cand += 1
        marg = 1e-9 * (1.0 + fmax + big)
        best = np.inf
        arg = -1
        # seed the running minimum with the previous optimum (ties still go to the smallest t)
        seed = cand[seed_slot] if seeding and seed_slot >= 0 else -1
        seed_cost = 0.0
        if seed >= 0 and kill[seed] > s:
            seed_cost = segment_cost(code, ca[s] - ca[seed], cb[s] - cb[seed], s - seed)
            best = f[seed] + scale * seed_cost + log_len[s - seed] + beta
            arg = seed
        else:
            seed = -1
            seed_slot = -1
        if s % PRUNE_EVERY == 0:
            # prune for the previous step sp (kill from sp + min_size on); drop what expired by s
            sp = s - 1
            fp = f[sp]
            tolp = 1e-9 * (1.0 + abs(fp))
            zero_run = code == POISSON
            z0 = -1  # first live candidate whose segment to sp has no counts
            new_seed_slot = -1
            k = 0
            for i in range(n_cand):
                t = cand[i]
                kt = kill[t]
                if kt <= s:
                    continue
                if kt == _NEVER and t < t_new:
                    ft = f[t]
                    slack = fp - ft
                    lower = cost[t] + (p1[sp] - p1[se[t]])  # <= C(t, sp)
                    if scale * lower > slack + tolp + marg or (
                        zero_run
                        and z0 >= 0
                        and ca[t] == ca[sp]
                        and _zero_run_beaten(f, cb, logs, lam, min_size, z0, t, sp, slack + tolp, tolp + marg)
                    ):  # 1. PELT (beaten by a change at sp everywhere) or 3. run without counts
                        kt = sp + min_size
                    elif j_ok[t]:
                        sa = ca[sp] - ca[t]
                        sb = cb[sp] - cb[t]
                        sl = sp - t
                        centre = sa / sl if code == NORMAL else sa / sb
                        if lo_free[t]:
                            left = centre >= j_lo[t]
                        else:
                            left = (
                                centre > j_lo[t]
                                and scale * (k_lo0[t] * sa + k_lo1[t] * sb + k_lo2[t] * sl) > slack + tolp
                            )
                        if left:
                            if hi_free[t]:
                                right = centre <= j_hi[t]
                            else:
                                right = (
                                    centre < j_hi[t]
                                    and scale * (k_hi0[t] * sa + k_hi1[t] * sb + k_hi2[t] * sl) > slack + tolp
                                )
                            if right:
                                kt = sp + min_size
                    if zero_run and z0 < 0 and ca[t] == ca[sp]:
                        z0 = t
                    if kt != _NEVER:
                        kill[t] = kt
                        if kt <= s:
                            continue
                cand[k] = t
                key[k] = key[i]
                if i == seed_slot:
                    new_seed_slot = k
                k += 1
            n_cand = k
            seed_slot = new_seed_slot
        # scan: a candidate is evaluated only when its bound key + scale p1[s] (<= its value) does
        # not exceed the running minimum (plus the rounding margin); the others cannot be optimal
        arg_slot = seed_slot
        thr = best + marg - scale * p1[s]
        for i in range(n_cand):
            if key[i] > thr:
                continue
            t = cand[i]
            if t == seed:
                continue
            if kill[t] <= s:
                key[i] = np.inf  # expired: dropped at the next pruning
                continue
            c = segment_cost(code, ca[s] - ca[t], cb[s] - cb[t], s - t)
            cost[t] = c
            se[t] = s
            ft = f[t]
            key[i] = ft + scale * (c - p1[s]) + log_len[s - t] + beta
            v = ft + scale * c + log_len[s - t] + beta
            if v < best or (v == best and t < arg):
                best = v
                arg = t
                arg_slot = i
                thr = best + marg - scale * p1[s]
        if seed >= 0:
            cost[seed] = seed_cost
            se[seed] = s
            key[seed_slot] = f[seed] + scale * (seed_cost - p1[s]) + log_len[s - seed] + beta
        f[s] = best
        last[s] = arg
        seed_slot = arg_slot
        if abs(best) > fmax:
            fmax = abs(best)

        # J for s as a future candidate: where the optimum's last segment (arg, s) beats a new one
        if scale > 0.0 and s <= m - min_size:
            tol = 1e-9 * (1.0 + abs(best))
            u = arg
            room = beta + log_len[s - u]
            if lam != 0.0:
                room -= lam * (logs[s - u + min_size] - logs[min_size])  # s - u + min_size <= m
            room = (room - tol) / scale
            if room > 0.0:
                lo, hi, lf, hf = _dominated_interval(code, ca[s] - ca[u], cb[s] - cb[u], s - u, room)
                if lo < hi:
                    j_ok[s] = 1
                    j_lo[s] = lo
                    j_hi[s] = hi
                    lo_free[s] = 1 if lf else 0
                    hi_free[s] = 1 if hf else 0
                    if not lf:
                        k_lo0[s], k_lo1[s], k_lo2[s] = _coefficients(code, lo)
                    if not hf:
                        k_hi0[s], k_hi1[s], k_hi2[s] = _coefficients(code, hi)

    return f[m] - beta
