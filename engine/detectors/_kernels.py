"""Compiled recursions (numba) for the detectors: one loop over periods per series, parallel over series.

Conventions shared by every kernel: a NaN increment or residual means "no usable observation this
period" (missing, suppressed, or baseline not ready): the state carries over unchanged and no alarm
is raised. Restart codes: 0 = reset to zero, 1 = reset to the head start, 2 = no reset.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from engine.runtime.kernels import sized

RESTART_CODES = {"zero": 0, "head_start": 1, "none": 2}
#: Input cells from which a kernel runs its rows on threads (see engine.runtime.kernels): cheap
#: recursions are memory-bound and only gain on large inputs; the GLR does a search per period.
CHEAP_MIN_CELLS = 2_000_000
HEAVY_MIN_CELLS = 20_000


@sized(CHEAP_MIN_CELLS)
@njit(nogil=True, cache=True, parallel=True)
def cusum_path(z, threshold, restart, head_start, initial):
    """Reflected CUSUM ``S_t = max(0, S_{t-1} + z_t)``; alarm when ``S_t > threshold``.

    Parameters
    ----------
    z : (S, T) float64
        Increments (log-likelihood ratio or ``residual - k``); NaN = skip.
    threshold, head_start, initial : (S,) float64
        Limit, value after a ``head_start`` restart, starting value.
    restart : int
        Restart code.

    Returns
    -------
    statistic (S, T), alarm (S, T) bool, onset (S, T) int64
    """
    s_count, t_count = z.shape
    stat = np.zeros((s_count, t_count))
    alarm = np.zeros((s_count, t_count), dtype=np.bool_)
    onset = np.full((s_count, t_count), -1, dtype=np.int64)
    for s in prange(s_count):
        c = initial[s]
        start = -2 if c > 0 else -1  # -2: excursion begins at the next observation
        for t in range(t_count):
            zt = z[s, t]
            if not np.isnan(zt):
                c = c + zt
                if c <= 0.0:
                    c = 0.0
                    start = -1
                elif start < 0:
                    start = t
            stat[s, t] = c
            onset[s, t] = start if c > 0 else -1
            if not np.isnan(zt) and c > threshold[s]:
                alarm[s, t] = True
                if restart == 0:
                    c = 0.0
                    start = -1
                elif restart == 1:
                    c = head_start[s]
                    start = -2 if c > 0 else -1
    return stat, alarm, onset


@sized(CHEAP_MIN_CELLS)
@njit(nogil=True, cache=True, parallel=True)
def ewma_path(r, lam, limit_factor, upper, lower, restart):
    """EWMA of residuals with exact time-varying limits.

    ``Z_t = lam r_t + (1 - lam) Z_{t-1}``, ``Z_0 = 0``; limit after ``i`` observations since the
    (re)start: ``L sqrt(lam/(2-lam) (1 - (1-lam)^(2i)))`` (residuals have unit variance).

    Returns
    -------
    statistic (S, T), limit (S, T), alarm_up (S, T), alarm_down (S, T), onset_up, onset_down (S, T)
    """
    s_count, t_count = r.shape
    zs = np.zeros((s_count, t_count))
    lim = np.full((s_count, t_count), np.nan)
    a_up = np.zeros((s_count, t_count), dtype=np.bool_)
    a_dn = np.zeros((s_count, t_count), dtype=np.bool_)
    o_up = np.full((s_count, t_count), -1, dtype=np.int64)
    o_dn = np.full((s_count, t_count), -1, dtype=np.int64)
    base = lam / (2.0 - lam)
    for s in prange(s_count):
        zv = 0.0
        i = 0
        st_up = -1
        st_dn = -1
        for t in range(t_count):
            rt = r[s, t]
            if not np.isnan(rt):
                zv = lam * rt + (1.0 - lam) * zv
                i += 1
                if zv > 0:
                    if st_up < 0:
                        st_up = t
                    st_dn = -1
                elif zv < 0:
                    if st_dn < 0:
                        st_dn = t
                    st_up = -1
                else:
                    st_up = -1
                    st_dn = -1
            zs[s, t] = zv
            if i > 0:
                li = limit_factor * math.sqrt(base * (1.0 - (1.0 - lam) ** (2 * i)))
                lim[s, t] = li
                o_up[s, t] = st_up
                o_dn[s, t] = st_dn
                if not np.isnan(rt):
                    hit = False
                    if upper and zv > li:
                        a_up[s, t] = True
                        hit = True
                    if lower and zv < -li:
                        a_dn[s, t] = True
                        hit = True
                    if hit and restart == 0:
                        zv = 0.0
                        i = 0
                        st_up = -1
                        st_dn = -1
    return zs, lim, a_up, a_dn, o_up, o_dn


@sized(HEAVY_MIN_CELLS)
@njit(nogil=True, cache=True, parallel=True)
def glr_path(x, mu, alpha, window, sign, threshold, max_iter):
    """Höhle–Paul GLR for a multiplicative change ``mu1 = mu0 exp(kappa)`` (Poisson or NB).

    ``GLR_n = max_k sup_kappa sum_{t=k..n} log f_kappa(x_t)/f_0(x_t)`` over window starts ``k`` among
    the last ``window`` usable observations since the last restart (``window <= 0``: all of them);
    ``kappa`` is restricted to ``sign * kappa >= 0``; alarm when ``GLR_n >= threshold``; after an alarm
    the chart restarts with the next observation. ``alpha[s] == 0``: Poisson (closed form);
    ``alpha[s] > 0``: negative binomial, ``kappa`` by Newton–Raphson started at the Poisson MLE.

    Returns
    -------
    statistic (S, T), alarm (S, T) bool, onset (S, T) int64 (start ``k`` of the maximising window
    when the statistic is positive).
    """
    s_count, t_count = x.shape
    stat = np.zeros((s_count, t_count))
    alarm = np.zeros((s_count, t_count), dtype=np.bool_)
    onset = np.full((s_count, t_count), -1, dtype=np.int64)
    for s in prange(s_count):
        xs = np.empty(t_count)
        ms = np.empty(t_count)
        lm = np.empty(t_count)  # log1p(alpha mu0) of each stored observation
        ts = np.empty(t_count, dtype=np.int64)
        m = 0  # observations since restart
        last = 0.0
        last_k = -1
        a = alpha[s]
        for t in range(t_count):
            if np.isnan(x[s, t]) or np.isnan(mu[s, t]):
                stat[s, t] = last
                onset[s, t] = last_k if last > 0 else -1
                continue
            xs[m] = x[s, t]
            ms[m] = mu[s, t]
            lm[m] = math.log1p(alpha[s] * mu[s, t]) if alpha[s] > 0.0 else 0.0
            ts[m] = t
            m += 1
            lo = 0 if window <= 0 else max(0, m - window)
            best = 0.0
            best_k = -1
            sx = 0.0
            sm = 0.0
            s0 = 0.0  # NB score at kappa = 0 of the window j..m-1
            for j in range(m - 1, lo - 1, -1):
                sx += xs[j]
                sm += ms[j]
                if a > 0.0:
                    s0 += (xs[j] - ms[j]) / (1.0 + a * ms[j])
                if a <= 0.0:
                    if sx <= 0.0:
                        # all-zero window: kappa -> -inf, log LR -> sum(mu0) (0 for an up chart)
                        val = sm if sign < 0 else 0.0
                    else:
                        kap = math.log(sx / sm)
                        if sign * kap < 0:
                            kap = 0.0
                        val = kap * sx + (1.0 - math.exp(kap)) * sm
                elif sx <= 0.0:
                    # all-zero window: the NB MLE is kappa -> -inf
                    val = 0.0
                    if sign < 0:
                        for i in range(j, m):
                            val += lm[i] / a
                elif sign * s0 <= 0.0:
                    # the NB log-likelihood is concave in kappa and its slope at 0 points the wrong
                    # way: the restricted maximum is at kappa = 0, where the log LR is 0
                    val = 0.0
                else:
                    kap = math.log(sx / sm)  # Poisson MLE: a close start for the NB Newton iteration
                    for _ in range(max_iter):
                        ek = math.exp(kap)
                        score = 0.0
                        info = 0.0
                        for i in range(j, m):
                            d = 1.0 + a * ek * ms[i]
                            score += (xs[i] - ek * ms[i]) / d
                            info += ek * ms[i] * (a * xs[i] + 1.0) / (d * d)
                        if info <= 0.0:
                            break
                        step = min(max(score / info, -1.0), 1.0)
                        kap += step
                        if abs(step) < 1e-12:
                            break
                    kh = kap
                    if sign * kh < 0:
                        kh = 0.0
                    ek = math.exp(kh)
                    val = 0.0
                    for i in range(j, m):
                        val += kh * xs[i] + (xs[i] + 1.0 / a) * (lm[i] - math.log1p(a * ms[i] * ek))
                if val > best:
                    best = val
                    best_k = ts[j]
            last = best
            last_k = best_k
            stat[s, t] = best
            onset[s, t] = best_k if best > 0 else -1
            if best >= threshold[s]:
                alarm[s, t] = True
                m = 0
                last = 0.0
                last_k = -1
    return stat, alarm, onset


@sized(CHEAP_MIN_CELLS)
@njit(nogil=True, cache=True, parallel=True)
def zero_run_path(y, logp0, mu, log_level, restart):
    """Runs of zero counts and the log probability of the current run under the baseline.

    Missing periods (NaN ``y`` or ``logp0``) neither extend nor break a run.

    Returns
    -------
    run (S, T) int64, log_prob (S, T), expected (S, T), alarm (S, T) bool, onset (S, T) int64
    """
    s_count, t_count = y.shape
    run = np.zeros((s_count, t_count), dtype=np.int64)
    lp = np.zeros((s_count, t_count))
    ex = np.zeros((s_count, t_count))
    alarm = np.zeros((s_count, t_count), dtype=np.bool_)
    onset = np.full((s_count, t_count), -1, dtype=np.int64)
    for s in prange(s_count):
        k = 0
        acc = 0.0
        e = 0.0
        start = -1
        for t in range(t_count):
            yt = y[s, t]
            usable = not (np.isnan(yt) or np.isnan(logp0[s, t]))
            if usable:
                if yt > 0:
                    k = 0
                    acc = 0.0
                    e = 0.0
                    start = -1
                else:
                    if k == 0:
                        start = t
                    k += 1
                    acc += logp0[s, t]
                    e += mu[s, t]
            run[s, t] = k
            lp[s, t] = acc
            ex[s, t] = e
            onset[s, t] = start
            if usable and k > 0 and acc < log_level:
                alarm[s, t] = True
                if restart == 0:
                    k = 0
                    acc = 0.0
                    e = 0.0
                    start = -1
    return run, lp, ex, alarm, onset


@sized(CHEAP_MIN_CELLS)
@njit(nogil=True, cache=True, parallel=True)
def missing_run_path(missing, a, b, log_level, min_run):
    """Runs of missing submissions after a series started, with a posterior-predictive probability.

    Before the current run the series had ``o`` observed and ``m`` missing expected periods; with a
    Beta(a, b) prior on the per-period missing probability q, the posterior predictive probability of
    ``k`` missing periods in a row is ``B(a + m + k, b + o) / B(a + m, b + o)``.

    Returns
    -------
    run (S, T) int64, log_prob (S, T), alarm (S, T) bool
    """
    s_count, t_count = missing.shape
    run = np.zeros((s_count, t_count), dtype=np.int64)
    lp = np.zeros((s_count, t_count))
    alarm = np.zeros((s_count, t_count), dtype=np.bool_)
    for s in prange(s_count):
        started = False
        o = 0.0
        mm = 0.0
        k = 0
        for t in range(t_count):
            if not started:
                if not missing[s, t]:
                    started = True
                    o = 1.0
                continue
            if missing[s, t]:
                k += 1
                acc = (
                    math.lgamma(a + mm + k)
                    - math.lgamma(a + mm)
                    + math.lgamma(a + b + mm + o)
                    - math.lgamma(a + b + mm + o + k)
                )
                run[s, t] = k
                lp[s, t] = acc
                if k >= min_run and acc < log_level:
                    alarm[s, t] = True
            else:
                mm += k
                o += 1.0
                k = 0
    return run, lp, alarm
