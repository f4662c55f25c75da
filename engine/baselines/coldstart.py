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

Everything uses data before ``t`` only and is computed with cumulative sums and group sums over all
series at once (``O(S T)``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.combine.rowgroups import group_sum


@dataclass(frozen=True)
class ColdStart:
    """Peer-based baseline for every cell (``(S, T)``; NaN where the peer group is too small).

    ``rate``: posterior-mean rate; ``dispersion``: predictive dispersion; ``cv2``: squared coefficient
    of variation of the rate estimate; ``peer_weight``: share of the peers in ``rate`` (1 = peers only).
    """

    rate: np.ndarray
    dispersion: np.ndarray
    cv2: np.ndarray
    peer_weight: np.ndarray


def _window(c: np.ndarray, w: int) -> np.ndarray:
    """``(S, T)`` sums over ``[t - w, t)`` from ``c``, the ``(S, T + 1)`` cumulative sums (0 first)."""
    t_count = c.shape[1] - 1
    hi = np.arange(t_count)
    lo = np.maximum(hi - w, 0)
    return c[:, hi] - c[:, lo]


def _cum(a: np.ndarray) -> np.ndarray:
    out = np.zeros((a.shape[0], a.shape[1] + 1))
    np.cumsum(a, axis=1, out=out[:, 1:])
    return out


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
) -> ColdStart:
    """Peer-based causal baseline of every cell (see module docstring).

    Parameters
    ----------
    y, x : (S, T)
        Numerator and exposure (seasonally adjusted where applicable); ``ok`` marks usable cells.
    codes : (S,)
        Peer-group code of each series.
    seg_start : (S, T)
        First period of the segment containing each cell (own data never crosses a rebase).
    window : int
        Peer window length ``W`` in periods.
    guard : int
        Own data at ``t`` is taken from periods up to ``t - 1 - guard``.
    min_peers : int
        Series with exposure in the window needed for a peer rate.
    """
    s_count, t_count = y.shape
    yz = np.where(ok, y, 0.0)
    xz = np.where(ok, x, 0.0)
    n_groups = int(codes.max()) + 1 if s_count else 0
    # per-series window sums over [t - W, t)
    wy = _window(_cum(yz), window)
    wx = _window(_cum(xz), window)
    wyy = _window(_cum(yz * yz), window)
    wyx = _window(_cum(yz * xz), window)
    wxx = _window(_cum(xz * xz), window)
    has = wx > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        r_own_w = np.where(has, wy / np.where(has, wx, 1.0), 0.0)
        gy = group_sum(wy, codes, n_groups)
        gx = group_sum(wx, codes, n_groups)
        gxx_series = group_sum(wx * wx, codes, n_groups)  # sum_j N_j^2
        g_q1 = group_sum(np.where(has, wy * wy / np.where(has, wx, 1.0), 0.0), codes, n_groups)
        g_n = group_sum(has.astype(float), codes, n_groups)
        m = np.where((gx > 0) & (g_n >= min_peers), gy / np.where(gx > 0, gx, 1.0), np.nan)
        if family == "proportion":
            m = np.clip(m, 1e-9, 1 - 1e-9)
        # between-ward variance of the true rates (method of moments, Poisson/binomial noise)
        q = g_q1 - 2 * m * gy + m * m * gx  # sum_j N_j (r_j - m)^2
        noise = (g_n - 1) * (m * (1 - m) if family == "proportion" else m)
        c = gx - gxx_series / np.where(gx > 0, gx, 1.0)
        tau2 = np.where(c > 0, np.maximum(q - noise, 0.0) / np.where(c > 0, c, 1.0), np.nan)
        # weekly overdispersion around each peer's own window rate (pooled moments)
        gyy = group_sum(wyy, codes, n_groups)
        gyx_r = group_sum(r_own_w * wyx, codes, n_groups)
        gxx_r2 = group_sum(r_own_w * r_own_w * wxx, codes, n_groups)
        resid2 = gyy - 2 * gyx_r + gxx_r2  # sum (y - r_j x)^2 over peer cells
        if family == "count":
            disp = np.maximum((resid2 - gy) / np.where(gxx_r2 > 0, gxx_r2, np.inf), 0.0)
        elif family == "proportion":
            # Var y = n p q (1 + (n - 1) rho): E sum (y - r_j n)^2 = pq sum n + rho pq sum n (n - 1)
            pq = m * (1 - m)
            sum_nn = group_sum(wxx, codes, n_groups)
            den = pq * (sum_nn - gx)
            disp = np.minimum(np.maximum((resid2 - pq * gx) / np.where(den > 0, den, np.inf), 0.0), 0.5)
        else:
            disp = np.maximum(resid2 / np.where(gy > 0, gy, np.inf), 1e-6)  # Var = phi mu
    # spread the group results to series
    mg, tau2g, dispg = m[codes], tau2[codes], disp[codes]
    # own data of the segment up to t - 1 - guard
    cy, cx, cxx = _cum(yz), _cum(xz), _cum(xz * xz)
    hi = np.clip(np.arange(t_count) - guard, 0, t_count)[None, :]
    lo = np.minimum(seg_start, hi)
    rows = np.arange(s_count)[:, None]
    own_y = cy[rows, hi] - cy[rows, lo]
    own_x = cx[rows, hi] - cx[rows, lo]
    own_xx = cxx[rows, hi] - cxx[rows, lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        own = np.where(own_x > 0, own_y / np.where(own_x > 0, own_x, 1.0), 0.0)
        mean_x = own_xx / np.where(own_x > 0, own_x, 1.0)  # exposure-weighted mean exposure per period
        if family == "proportion":
            pq = mg * (1 - mg)
            strength = np.where(tau2g > 0, np.maximum(pq / tau2g - 1.0, 0.0), np.inf)
            n_eff = own_x / (1.0 + dispg * np.maximum(mean_x - 1.0, 0.0))
        elif family == "count":
            strength = np.where(tau2g > 0, mg / tau2g, np.inf)  # gamma rate (exposure units)
            n_eff = own_x / (1.0 + dispg * mg * mean_x)
        else:
            strength = np.where(tau2g > 0, mg / tau2g, np.inf)
            n_eff = own_x / np.maximum(dispg, 1e-6)
        w = np.where(np.isfinite(strength), n_eff / (n_eff + strength), 0.0)
        w = np.where(own_x > 0, w, 0.0)
        rate = w * own + (1 - w) * mg
        # posterior variance of the rate: prior precision plus own information
        unit = pq if family == "proportion" else mg
        v_own = np.where(n_eff > 0, unit / np.where(n_eff > 0, n_eff, 1.0), np.inf)
        prec = np.where(tau2g > 0, 1.0 / tau2g, np.inf) + 1.0 / v_own
        v_post = np.where(np.isfinite(prec), 1.0 / prec, 0.0)
        cv2 = np.where(rate > 0, v_post / (rate * rate), 0.0)
    bad = ~np.isfinite(mg)
    rate = np.where(bad, np.nan, rate)
    return ColdStart(rate, np.where(bad, np.nan, dispg), np.where(bad, np.nan, cv2), 1 - w)


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
