"""Cold start: a series without its own warm-up is compared with its peer group from its first weeks.

Until a series' own baseline is ready (:mod:`engine.baselines.fit`), its expected rate at period ``t``
comes from its peer group (same ward type and indicator) over the window ``[t - W, t)``:

* the **peer rate** ``m = sum Y / sum N`` over the group's usable cells in the window (the series
  itself included: with ``G`` peers it weighs ``1/G``);
* the **between-ward variance** ``tau2`` of the true rates by the method of moments
  (``Q = sum N_j (r_j - m)^2``, ``E Q = (G - 1) m + tau2 (sum N - sum N^2 / sum N)`` for Poisson
  counts; ``m (1 - m)`` in place of ``m`` for proportions), the conjugate prior being gamma (counts,
  measures) or beta (proportions) with mean ``m`` and variance ``tau2``;
* the series' **own data** so far (periods ``[s0, t - 1 - guard]`` of its segment) updates that prior
  (posterior mean ``w * own + (1 - w) * m`` with ``w = n_eff / (n_eff + strength)``), so the ward's own
  history takes over smoothly; the guard keeps a developing episode out of its own comparison;
* the **predictive dispersion** carries the uncertainty of that estimate: for counts
  ``alpha_pred = alpha_peer + cv2 (1 + alpha_peer)`` where ``alpha_peer`` is the peers' weekly
  overdispersion around their own rates (moments, pooled over the window) and ``cv2`` the posterior's
  squared coefficient of variation; for proportions ``rho_pred = rho_peer + v / (p (1 - p))``; for
  measures the quasi-Poisson scale ``phi_peer`` (its estimation error enters through ``cv2`` in
  :func:`predictive_dispersion`).

Everything uses data before ``t`` only; two compiled passes over all series (running window sums
added into per-group sums, then the posterior per cell), ``O(S T)`` time and no ``(S, T)``
temporaries beyond the outputs.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Family codes of the compiled passes.
_FAMILY = {"count": 0, "proportion": 1, "measure": 2}
#: Group sums of the peer windows (columns of the ``(G, T, 9)`` array).
_GY, _GX, _GNN_S, _GQ1, _GN, _GYY, _GYXR, _GXXR2, _GXX = range(9)


@njit(cache=True, nogil=True)
def _peer_window_sums(y, x, ok, codes, n_groups, window):  # pragma: no cover - compiled
    """``(G, T, 9)`` sums over each group's series of their window sums over ``[t - W, t)``.

    Per series and period the window sums of ``y``, ``x``, ``y^2``, ``y x``, ``x^2`` are kept by adding
    period ``t - 1`` and dropping ``t - 1 - W``; no ``(S, T)`` temporaries.
    """
    s_count, t_count = y.shape
    out = np.zeros((n_groups, t_count, 9))
    for s in range(s_count):
        g = codes[s]
        wy = wx = wyy = wyx = wxx = 0.0
        for t in range(t_count):
            if t >= 1 and ok[s, t - 1]:
                a, b = y[s, t - 1], x[s, t - 1]
                wy += a
                wx += b
                wyy += a * a
                wyx += a * b
                wxx += b * b
            if t - 1 - window >= 0 and ok[s, t - 1 - window]:
                a, b = y[s, t - 1 - window], x[s, t - 1 - window]
                wy -= a
                wx -= b
                wyy -= a * a
                wyx -= a * b
                wxx -= b * b
            if wx <= 0.0:
                continue
            r = wy / wx
            o = out[g, t]
            o[_GY] += wy
            o[_GX] += wx
            o[_GNN_S] += wx * wx
            o[_GQ1] += wy * wy / wx
            o[_GN] += 1.0
            o[_GYY] += wyy
            o[_GYXR] += r * wyx
            o[_GXXR2] += r * r * wxx
            o[_GXX] += wxx
    return out


def _group_priors(sums: np.ndarray, family: str, min_peers: int) -> tuple[np.ndarray, ...]:
    """``(G, T)`` peer rate, between-ward variance and within-ward dispersion from the window sums."""
    gy, gx, gnn, gq1, gn = (sums[..., k] for k in (_GY, _GX, _GNN_S, _GQ1, _GN))
    gyy, gyxr, gxxr2, gxx = (sums[..., k] for k in (_GYY, _GYXR, _GXXR2, _GXX))
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where((gx > 0) & (gn >= min_peers), gy / np.where(gx > 0, gx, 1.0), np.nan)
        if family == "proportion":
            m = np.clip(m, 1e-9, 1 - 1e-9)
        # between-ward variance of the true rates (method of moments, Poisson / binomial noise)
        q = gq1 - 2 * m * gy + m * m * gx  # sum_j N_j (r_j - m)^2
        noise = (gn - 1) * (m * (1 - m) if family == "proportion" else m)
        c = gx - gnn / np.where(gx > 0, gx, 1.0)
        tau2 = np.where(c > 0, np.maximum(q - noise, 0.0) / np.where(c > 0, c, 1.0), np.nan)
        # weekly overdispersion around each peer's own window rate (pooled moments)
        resid2 = gyy - 2 * gyxr + gxxr2  # sum over peer cells of (y - r_j x)^2
        if family == "count":
            disp = np.maximum((resid2 - gy) / np.where(gxxr2 > 0, gxxr2, np.inf), 0.0)
        elif family == "proportion":
            # Var y = n p q (1 + (n - 1) rho): E sum (y - r_j n)^2 = pq sum n + rho pq sum n (n - 1)
            pq = m * (1 - m)
            den = pq * (gxx - gx)
            disp = np.minimum(np.maximum((resid2 - pq * gx) / np.where(den > 0, den, np.inf), 0.0), 0.5)
        else:
            disp = np.maximum(resid2 / np.where(gy > 0, gy, np.inf), 1e-6)  # Var = phi mu
    return m, tau2, disp


@njit(cache=True, nogil=True)
def _posterior(
    y, x, ok, codes, seg_start, need, m, tau2, disp, fam, guard, rate_out, disp_out, cv2_out, peer_out
):  # pragma: no cover - compiled
    """Posterior rate, predictive dispersion and cv2 of the cells in ``need`` (written in place).

    Own data of the segment up to ``t - 1 - guard`` updates the peer prior (gamma for counts and
    measures, beta for proportions); see the module docstring.
    """
    s_count, t_count = y.shape
    for s in range(s_count):
        g = codes[s]
        oy = ox = oxx = 0.0
        cur = -1
        nxt = 0
        for t in range(t_count):
            if seg_start[s, t] != cur:  # a new segment: own data restart
                cur = seg_start[s, t]
                oy = ox = oxx = 0.0
                nxt = cur
            while nxt <= t - 1 - guard:
                if ok[s, nxt]:
                    oy += y[s, nxt]
                    ox += x[s, nxt]
                    oxx += x[s, nxt] * x[s, nxt]
                nxt += 1
            if not need[s, t]:
                continue
            mg, tg, dg = m[g, t], tau2[g, t], disp[g, t]
            if np.isnan(mg):
                continue
            if fam == 1:
                unit = mg * (1 - mg)
                strength = max(unit / tg - 1.0, 0.0) if tg > 0 else np.inf
                n_eff = ox / (1.0 + dg * max(oxx / ox - 1.0, 0.0)) if ox > 0 else 0.0
            else:
                unit = mg
                strength = mg / tg if tg > 0 else np.inf
                if fam == 0:
                    n_eff = ox / (1.0 + dg * mg * oxx / ox) if ox > 0 else 0.0
                else:
                    n_eff = ox / max(dg, 1e-6)
            w = 0.0
            if ox > 0 and strength < np.inf:
                w = n_eff / (n_eff + strength)
            own = oy / ox if ox > 0 else 0.0
            rate = w * own + (1 - w) * mg
            prec = (1.0 / tg if tg > 0 else np.inf) + (n_eff / unit if unit > 0 else 0.0)
            v_post = 1.0 / prec if prec > 0 else 0.0
            rate_out[s, t] = rate
            disp_out[s, t] = dg
            cv2_out[s, t] = v_post / (rate * rate) if rate > 0 else 0.0
            peer_out[s, t] = True


def cold_start(
    y: np.ndarray,
    x: np.ndarray,
    ok: np.ndarray,
    codes: np.ndarray,
    seg_start: np.ndarray,
    family: str,
    window: int,
    guard: int,
    min_peers: int,
    need: np.ndarray,
    rate: np.ndarray,
    dispersion: np.ndarray,
    cv2: np.ndarray,
) -> np.ndarray:
    """Write the peer-based baseline into ``rate``, ``dispersion`` and ``cv2`` where ``need`` (the
    cells before the own warm-up ends) and the peer group is large enough; returns the ``(S, T)``
    mask of the cells written (see module docstring).

    ``y``, ``x`` (``(S, T)``): numerator and exposure; ``ok``: usable cells; ``codes``: peer group of
    each series; ``seg_start``: first period of each cell's segment (own data never crosses a rebase);
    ``window``: peer window ``W``; ``guard``: own data at ``t`` ends at ``t - 1 - guard``;
    ``min_peers``: series with exposure in the window needed for a peer rate.
    """
    s_count, t_count = y.shape
    peer = np.zeros((s_count, t_count), dtype=bool)
    if s_count == 0 or t_count == 0:
        return peer
    n_groups = int(codes.max()) + 1
    yy = np.ascontiguousarray(np.where(ok, y, 0.0))
    xx = np.ascontiguousarray(np.where(ok, x, 0.0))
    okc = np.ascontiguousarray(ok, dtype=np.bool_)
    cc = np.ascontiguousarray(codes, dtype=np.int64)
    sums = _peer_window_sums(yy, xx, okc, cc, n_groups, int(window))
    m, tau2, disp = _group_priors(sums, family, min_peers)
    _posterior(
        yy, xx, okc, cc, np.ascontiguousarray(seg_start, dtype=np.int64),
        np.ascontiguousarray(need, dtype=np.bool_), m, tau2, disp, _FAMILY[family], int(guard),
        rate, dispersion, cv2, peer,
    )  # fmt: skip
    return peer


def predictive_dispersion(
    family: str, dispersion: np.ndarray, rate: np.ndarray, cv2: np.ndarray, n: np.ndarray
) -> np.ndarray:
    """Dispersion of the predictive distribution when the rate is known up to ``cv2``.

    If the true rate is ``rate * G`` with ``E G = 1``, ``Var G = cv2``: counts (NB ``alpha``)
    ``alpha + cv2 (1 + alpha)``; proportions (beta-binomial ``rho``) ``rho + cv2 p / (1 - p)``
    (``Var p = cv2 p^2``), at most 0.5; measures (quasi-Poisson ``phi``) ``phi + cv2 mu`` with
    ``mu = rate * n`` (per cell). NaN ``cv2`` leaves the dispersion unchanged.
    """
    c = np.nan_to_num(cv2, nan=0.0, posinf=0.0)
    with np.errstate(invalid="ignore"):
        if family == "count":
            return dispersion + c * (1.0 + dispersion)
        if family == "proportion":
            p = np.clip(rate, 1e-9, 1 - 1e-9)
            return np.minimum(dispersion + c * p / (1 - p), 0.5)
        return dispersion + c * np.nan_to_num(rate * n, nan=0.0)
