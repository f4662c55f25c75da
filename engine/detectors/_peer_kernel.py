"""Compiled pass of :class:`engine.detectors.silence.PeerSilence`: one loop over periods per series.

The peer group's sums (``(G, T)``: exposure and reporting counts, cumulative reported events and
exposure, the period's reported events and exposure, the dispersion ``alpha``) are computed once with
numpy; this kernel walks each series with O(1) state (its own cumulative reports, the current silent
run), so no ``(S, T)`` temporary is allocated beyond the outputs.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from engine.runtime.kernels import sized

#: Chernoff parameters tried for the suppressed part of a silent run (0 = ignore it).
THETAS = np.array([0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0])
#: Input cells from which the kernel runs its rows on threads.
PEER_MIN_CELLS = 2_000_000

_OBSERVED, _SUPPRESSED, _MISSING = 0, 1, 2


@njit(nogil=True, cache=True, error_model="numpy")
def log_prob_silent(a, b, e_missing, e_suppressed, k_suppressed, ceiling, thetas):
    """Upper bound on log P(no event in the missing periods, at most ``ceiling`` in each suppressed one).

    Rate ``lambda ~ Gamma(a, b)`` shared by the run: missing periods give ``(b / (b + E_m))^a``
    exactly; suppressed periods enter through the Chernoff bound ``P(Y <= c) <= E[exp(-theta (Y - c))]``,
    giving ``(b / (b + E_m + (1 - e^-theta) E_s))^a * exp(theta c k)``, minimised over ``thetas``.
    """
    if not (e_missing + e_suppressed > 0.0) or not (b > 0.0) or not math.isfinite(a) or not math.isfinite(b):
        return 0.0
    best = 0.0
    for th in thetas:
        expo = e_missing + (1.0 - math.exp(-th)) * e_suppressed
        v = a * (math.log(b) - math.log(b + expo)) + th * ceiling * k_suppressed
        if v < best:
            best = v
    return best


@njit(nogil=True, cache=True, error_model="numpy")
def nb_two_sided(y, a, p):
    """Two-sided tail ``2 min(P(Y <= y), P(Y >= y))`` of NB(shape ``a``, success prob ``p``), capped at 1."""
    if not (a > 0.0) or not (0.0 < p < 1.0) or y < 0:
        return math.nan
    k_max = int(y)
    base = a * math.log(p) - math.lgamma(a)
    lower = 0.0
    below = 0.0  # P(Y <= y - 1)
    for k in range(k_max + 1):
        pmf = math.exp(base + math.lgamma(k + a) - math.lgamma(k + 1.0) + k * math.log1p(-p))
        lower += pmf
        if k < k_max:
            below += pmf
    upper = 1.0 - below
    return min(1.0, 2.0 * min(lower, max(upper, 0.0)))


@sized(PEER_MIN_CELLS)
@njit(nogil=True, cache=True, parallel=True, error_model="numpy")
def peer_silence_path(
    y, n, status, codes, e_grp, r_grp, cum_gy, cum_gn, now_gy, now_gn, alpha_g,
    min_peers, min_peer_share, suppressed_is_silence, ceiling, thetas, log_level, min_run,
    min_gap, fold, level_disc, past_silence_as_zero, whole_history,
):  # fmt: skip
    """Silent runs, their probability and resumptions of every series (see ``PeerSilence``).

    Returns run (int32), exposure, expected, log_probability (float32: the alarm itself is decided
    in float64), alarm, resumed (bool), ratio_earlier, ratio_peers, p_value (float32, NaN outside
    resumptions), discontinuity (bool). Outputs are float32 to halve the memory of a national panel.
    """
    s_count, t_count = y.shape
    run = np.zeros((s_count, t_count), dtype=np.int32)
    exposure = np.zeros((s_count, t_count), dtype=np.float32)
    expected = np.zeros((s_count, t_count), dtype=np.float32)
    logp = np.zeros((s_count, t_count), dtype=np.float32)
    alarm = np.zeros((s_count, t_count), dtype=np.bool_)
    resumed = np.zeros((s_count, t_count), dtype=np.bool_)
    ratio_earlier = np.full((s_count, t_count), np.nan, dtype=np.float32)
    ratio_peers = np.full((s_count, t_count), np.nan, dtype=np.float32)
    p_value = np.full((s_count, t_count), np.nan, dtype=np.float32)
    discontinuity = np.zeros((s_count, t_count), dtype=np.bool_)
    log_fold = math.log(fold)
    last = t_count - 1
    for s in prange(s_count):
        g = codes[s]
        tot_y = 0.0
        tot_n = 0.0
        if whole_history:
            for t in range(t_count):
                if status[s, t] == _OBSERVED and math.isfinite(y[s, t]) and n[s, t] > 0.0:
                    tot_y += y[s, t]
                    tot_n += n[s, t]
        own_y = 0.0
        own_n = 0.0
        r_run = 0
        r_exp = 0.0
        r_sup = 0.0
        r_nsup = 0.0
        total_sil = 0.0
        for t in range(t_count):
            st = status[s, t]
            nn = n[s, t]
            has_exp = st != _MISSING and math.isfinite(nn) and nn > 0.0
            rep = has_exp and st == _OBSERVED and math.isfinite(y[s, t])
            silent = has_exp and not rep
            if silent and st == _SUPPRESSED and not suppressed_is_silence:
                silent = False
            e_loo = e_grp[g, t] - (1.0 if has_exp else 0.0)
            r_loo = r_grp[g, t] - (1.0 if rep else 0.0)
            peers_report = e_loo >= min_peers and e_loo > 0.0 and r_loo / e_loo >= min_peer_share
            # own and peers' pooled rates before this period (for the resumption test)
            prev_own_y, prev_own_n = own_y, own_n
            ycell = y[s, t] if rep else 0.0
            ncell = nn if rep else 0.0
            if rep:
                alpha_prev = alpha_g[g, t - 1] if t > 0 else alpha_g[g, 0]
                py_prev = (cum_gy[g, t - 1] - prev_own_y) if t > 0 else 0.0
                pn_prev = (cum_gn[g, t - 1] - prev_own_n) if t > 0 else 0.0
                if r_run >= min_gap:
                    resumed[s, t] = True
                    rate_now = ycell / nn
                    if prev_own_n > 0.0 and prev_own_y > 0.0:
                        ratio_earlier[s, t] = rate_now / (prev_own_y / prev_own_n)
                    elif prev_own_n > 0.0:  # reported zeros before the gap
                        ratio_earlier[s, t] = math.inf if rate_now > 0.0 else 1.0
                    pny = now_gy[g, t] - ycell
                    pnn = now_gn[g, t] - ncell
                    if pnn > 0.0 and pny > 0.0:
                        ratio_peers[s, t] = rate_now / (pny / pnn)
                    elif pnn > 0.0:
                        ratio_peers[s, t] = math.inf if rate_now > 0.0 else 1.0
                    if pn_prev > 0.0 and py_prev > 0.0:
                        a0 = 1.0 / alpha_prev
                        b0 = a0 / (py_prev / pn_prev)
                        a = a0 + prev_own_y
                        b = b0 + prev_own_n
                        p = nb_two_sided(ycell, a, b / (b + nn))
                        p_value[s, t] = p
                        ref = ratio_earlier[s, t] if prev_own_n > 0.0 else ratio_peers[s, t]
                        far = ref == 0.0 or (ref > 0.0 and abs(math.log(ref)) >= log_fold)
                        discontinuity[s, t] = p < level_disc and far
                own_y += ycell
                own_n += ncell
            extend = silent and peers_report
            if rep:
                r_run = 0
                r_exp = 0.0
                r_sup = 0.0
                r_nsup = 0.0
            elif extend:
                r_run += 1
                if st == _SUPPRESSED:
                    r_sup += nn
                    r_nsup += 1.0
                else:
                    r_exp += nn
                    total_sil += nn
            if r_run == 0:
                continue  # outputs are zero-initialised: untouched pages cost nothing
            run[s, t] = r_run
            exposure[s, t] = r_exp
            # gamma posterior of the series' rate at t: the peers' prior and its own reports
            if whole_history:
                al = alpha_g[g, last]
                py = cum_gy[g, last] - tot_y
                pn = cum_gn[g, last] - tot_n
                oy, on = tot_y, tot_n
            else:
                al = alpha_g[g, t]
                py = cum_gy[g, t] - own_y
                pn = cum_gn[g, t] - own_n
                oy, on = own_y, own_n
                if past_silence_as_zero:
                    on += total_sil - r_exp
            if not (pn > 0.0 and py > 0.0):
                continue  # no peer rate yet: no evidence
            a = 1.0 / al + oy
            b = (1.0 / al) / (py / pn) + on
            lp = log_prob_silent(a, b, r_exp, r_sup, r_nsup, ceiling, thetas)
            logp[s, t] = lp
            expected[s, t] = (r_exp + r_sup) * a / b
            alarm[s, t] = r_run >= min_run and lp < log_level and extend
    return (run, exposure, expected, logp, alarm, resumed, ratio_earlier, ratio_peers, p_value,
            discontinuity)  # fmt: skip
