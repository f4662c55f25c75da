"""Empirical-Bayes shrinkage of each ward's warm-up rate toward its peer group.

Peers are the series sharing a ``group`` label (same ward type and indicator). For one *stratum*
(a group at one baseline date) the peer rates ``r_j = Y_j / N_j`` over the same calendar window give

* the group rate ``r_bar = sum(Y) / sum(N)``;
* the between-ward variance of the true rates ``tau2`` by the exposure-weighted method of moments
  (DerSimonian–Laird form): ``Q = sum N_j (r_j - r_bar)^2``, ``E[Q] = sum N_j (1 - N_j/W)(tau2 + v_j)``,
  ``W = sum N_j``, truncated at zero, where ``v_j`` is the within-ward sampling variance of ``r_j``
  under the family's overdispersed model (:func:`sampling_variance`).

The prior is conjugate: gamma(mean ``r_bar``, variance ``tau2``) for counts and measures
(gamma–Poisson), beta(mean ``r_bar``, variance ``tau2``) for proportions (beta–binomial). A ward with
exposure ``N_i`` and overdispersion enters with its *effective* exposure ``N_eff = r_bar / v_i``
(``r_bar (1 - r_bar) / v_i`` for proportions), so its posterior mean is

``rate_i = (prior_strength * r_bar + N_eff * r_i) / (prior_strength + N_eff)``

with ``prior_strength = r_bar / tau2`` (gamma rate, exposure units) or
``r_bar (1 - r_bar) / tau2 - 1`` (beta ``a + b``, trials). Small wards (small ``N_eff``) are pulled
further toward the group than large wards; ``tau2 = 0`` pools completely.
"""

from __future__ import annotations

import numpy as np

from engine.baselines._sums import SUM_X, SUM_XX, SUM_Y


def sampling_variance(sums: np.ndarray, rbar: np.ndarray, dispersion: np.ndarray, family: str) -> np.ndarray:
    """Variance of a window's rate estimate ``Y/N`` under the group rate and the dispersion.

    count: ``rbar/N + alpha rbar^2 sum(x^2)/N^2``; proportion:
    ``p(1-p)/N (1 + rho (sum(n^2)/N - 1))``; measure: ``phi rbar / N``. ``inf`` when ``N = 0``.
    """
    sx, sxx = sums[:, SUM_X], sums[:, SUM_XX]
    with np.errstate(invalid="ignore", divide="ignore"):
        if family == "count":
            v = rbar / sx + dispersion * rbar * rbar * sxx / (sx * sx)
        elif family == "proportion":
            v = rbar * (1 - rbar) / sx * (1 + dispersion * (sxx / sx - 1))
        else:
            v = dispersion * rbar / sx
    return np.where(sx > 0, v, np.inf)


def group_prior(
    stratum: np.ndarray, sums: np.ndarray, dispersion: np.ndarray, family: str, n_strata: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group rate, between-ward variance and number of peers for each stratum.

    Parameters
    ----------
    stratum : (K,) int
        Stratum of each peer window (``0 .. n_strata - 1``).
    sums : (K, 8)
        Peer window sums (only peers with positive exposure count).
    dispersion : (K,)
        Dispersion to use for each peer's sampling variance (normally the stratum's pooled value).
    family : {"count", "proportion", "measure"}

    Returns
    -------
    rbar, tau2, n_peers : (n_strata,)
        ``rbar`` NaN for a stratum without exposure.
    """
    sy, sx = sums[:, SUM_Y], sums[:, SUM_X]
    use = sx > 0
    w = np.where(use, sx, 0.0)
    wy = np.where(use, sy, 0.0)
    total_w = np.bincount(stratum, weights=w, minlength=n_strata)
    total_y = np.bincount(stratum, weights=wy, minlength=n_strata)
    n_peers = np.bincount(stratum, weights=use.astype(float), minlength=n_strata)
    with np.errstate(invalid="ignore", divide="ignore"):
        rbar = group_rate(total_w, total_y)
        r_j = np.where(use, sy / np.where(use, sx, 1.0), 0.0)
        rb = rbar[stratum]
        v_j = sampling_variance(sums, rb, dispersion, family)
        frac = np.where(use, 1 - w / total_w[stratum], 0.0)
        q = np.bincount(stratum, weights=np.where(use, w * (r_j - rb) ** 2, 0.0), minlength=n_strata)
        expected_noise = np.bincount(
            stratum, weights=np.where(use & np.isfinite(v_j), w * frac * v_j, 0.0), minlength=n_strata
        )
        c = np.bincount(stratum, weights=w * frac, minlength=n_strata)
    return rbar, between_variance(q, expected_noise, c), n_peers


def group_rate(total_w: np.ndarray, total_y: np.ndarray) -> np.ndarray:
    """``r_bar = sum(Y) / sum(N)`` per stratum (NaN without exposure); see :func:`group_prior`."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total_w > 0, total_y / total_w, np.nan)


def between_variance(q: np.ndarray, expected_noise: np.ndarray, c: np.ndarray) -> np.ndarray:
    """``tau2 = max(Q - E[noise], 0) / c`` per stratum (NaN where ``c = 0``); see :func:`group_prior`."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, np.maximum(q - expected_noise, 0.0) / np.where(c > 0, c, 1.0), np.nan)


def shrink(
    own_rate: np.ndarray,
    own_sums: np.ndarray,
    rbar: np.ndarray,
    tau2: np.ndarray,
    dispersion: np.ndarray,
    family: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior-mean rate of each window and the weight it gives its own data.

    Parameters
    ----------
    own_rate : (K,)
        Raw rate ``Y/N`` of the window.
    own_sums : (K, 8)
        The window's sums (for its sampling variance).
    rbar, tau2 : (K,)
        The prior (group rate and between-ward variance) for each window; NaN = no prior.
    dispersion : (K,)
        The window's dispersion.

    Returns
    -------
    rate, weight : (K,)
        ``weight`` in ``[0, 1]`` is the share of the ward's own rate (1 = no shrinkage).
    """
    has_prior = np.isfinite(rbar) & np.isfinite(tau2)
    rb = np.where(has_prior, rbar, 0.0)
    v = sampling_variance(own_sums, rb, dispersion, family)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if family == "proportion":
            pq = rb * (1 - rb)
            n_eff = np.where(v > 0, pq / v, np.inf)
            strength = np.where(tau2 > 0, pq / tau2 - 1.0, np.inf)
            strength = np.where(strength > 0, strength, 0.0)
        else:
            n_eff = np.where(v > 0, rb / v, np.inf)
            strength = np.where(tau2 > 0, rb / tau2, np.inf)
        weight = np.where(np.isinf(strength), 0.0, n_eff / (strength + n_eff))
        weight = np.where(np.isinf(n_eff) & ~np.isinf(strength), 1.0, weight)
    weight = np.where(has_prior & (rb > 0), np.nan_to_num(weight, nan=1.0), 1.0)
    own = np.nan_to_num(own_rate)
    rate = weight * own + (1 - weight) * rb
    return rate, weight
