"""Peer funnel plot with overdispersion-adjusted limits (Spiegelhalter's additive random effects).

Method (Spiegelhalter 2005, *Funnel plots for comparing institutional performance*, Stat Med
24:1185-1202; Spiegelhalter et al. 2012, JRSS A 175:1-47), as implemented by NHS-R ``FunnelPlotR``:

1. Transform each ward's rate to a variance-stabilised scale: counts per exposure ``g(r) = sqrt(r)``
   with ``Var ≈ 1/(4n)``; proportions ``g(p) = asin(sqrt(p))`` with ``Var ≈ 1/(4n)``
   (``n`` = exposure: occupied bed days, shifts, ...).
2. Target ``θ0`` = pooled rate ``Σy / Σn``; z-scores ``z_i = (g(r_i) - g(θ0)) · 2·sqrt(n_i)``.
3. Overdispersion ``φ`` = mean of the squared z-scores **Winsorised** at the 10th and 90th
   percentiles (so the wards being screened do not inflate it).
4. If ``I·φ > I - 1`` (``I`` wards), the between-ward variance on the transformed scale is
   ``τ² = (I·φ - (I-1)) / (Σw - Σw²/Σw)`` with ``w_i = 4·n_i``; otherwise ``τ² = 0``
   (no overdispersion: plain limits).
5. Limits at exposure ``n``: ``g⁻¹(g(θ0) ± z_α · sqrt(1/(4n) + τ²))`` for two-sided 95% and 99.8%.

Assumptions: wards are exchangeable within a ward type; counts are approximately Poisson (or
binomial) *within* a ward given its true rate; at least 3 wards with positive exposure are needed
to estimate τ² (fewer: ``τ² = 0``, reported). ``measure`` indicators (hours) are treated as
Poisson-like rates, a documented approximation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

Scale = Literal["rate", "proportion"]


@dataclass(frozen=True)
class FunnelSettings:
    """Settings of the peer funnel plot."""

    #: Winsorisation fraction in each tail for the overdispersion estimate (Spiegelhalter: 10%).
    winsor: float = 0.10
    #: two-sided coverage of the inner and outer limits.
    inner: float = 0.95
    outer: float = 0.998
    #: points on the exposure axis where limits are evaluated.
    grid_points: int = 100


@dataclass(frozen=True)
class FunnelResult:
    """Funnel-plot quantities (rates in raw units: events per unit exposure, or proportion).

    Attributes
    ----------
    target : float
        Pooled rate ``Σy/Σn``.
    z : np.ndarray
        Per-ward z-scores on the transformed scale (before overdispersion); aligned with the
        input, NaN for wards without positive exposure.
    z_adjusted : np.ndarray
        ``(g(r) - g(θ0)) / sqrt(1/(4n) + τ²)``: z-scores with overdispersion.
    phi : float
        Winsorised overdispersion factor (1 = none).
    tau2 : float
        Between-ward variance on the transformed scale (0 when ``I·φ <= I - 1``).
    grid : np.ndarray
        Exposure values where limits are evaluated.
    lower95, upper95, lower998, upper998 : np.ndarray
        Limits at ``grid`` (raw units).
    flags : np.ndarray
        Per ward: ``"above_998"``, ``"above_95"``, ``"within"``, ``"below_95"``, ``"below_998"``,
        or ``"no_data"`` (no positive exposure).
    """

    target: float
    z: np.ndarray
    z_adjusted: np.ndarray
    phi: float
    tau2: float
    grid: np.ndarray
    lower95: np.ndarray
    upper95: np.ndarray
    lower998: np.ndarray
    upper998: np.ndarray
    flags: np.ndarray


def _g(x: np.ndarray, scale: Scale) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0 if scale == "proportion" else np.inf)
    return np.arcsin(np.sqrt(x)) if scale == "proportion" else np.sqrt(x)


def _g_inv(v: np.ndarray, scale: Scale) -> np.ndarray:
    if scale == "proportion":
        return np.sin(np.clip(v, 0.0, np.pi / 2)) ** 2
    return np.clip(v, 0.0, None) ** 2


def winsorised_phi(z: np.ndarray, fraction: float = 0.10) -> float:
    """Mean of squared z-scores after Winsorising ``z`` at the ``fraction`` and ``1-fraction`` quantiles."""
    if z.size == 0:
        return float("nan")
    lo, hi = np.quantile(z, [fraction, 1 - fraction])
    return float(np.mean(np.clip(z, lo, hi) ** 2))


def funnel(
    numerator: np.ndarray,
    exposure: np.ndarray,
    *,
    scale: Scale = "rate",
    settings: FunnelSettings | None = None,
) -> FunnelResult:
    """Compute the funnel target, overdispersion and limits for wards' pooled counts.

    Parameters
    ----------
    numerator : (I,) array
        Events (or successes) per ward over the comparison window.
    exposure : (I,) array
        Exposure per ward (> 0): occupied bed days, shifts, headcount, or periods.
    scale : {"rate", "proportion"}
        Square-root transform for rates, arcsine-square-root for proportions.
    """
    s = settings or FunnelSettings()
    y = np.asarray(numerator, dtype=float)
    n = np.asarray(exposure, dtype=float)
    ok = np.isfinite(y) & np.isfinite(n) & (n > 0)
    y, n = y[ok], n[ok]
    if y.size == 0:
        raise ValueError("funnel needs at least one ward with positive exposure")
    target = float(y.sum() / n.sum())
    g0 = float(_g(np.array(target), scale))
    r = y / n
    z = (_g(r, scale) - g0) * 2.0 * np.sqrt(n)
    n_w = z.size
    phi = winsorised_phi(z, s.winsor)
    w = 4.0 * n
    if n_w >= 3 and n_w * phi > n_w - 1:
        tau2 = float((n_w * phi - (n_w - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    else:
        tau2 = 0.0
    z_adj = (_g(r, scale) - g0) / np.sqrt(1.0 / (4.0 * n) + tau2)
    lo_n = max(float(n.min()) * 0.5, 1e-9)
    hi_n = float(n.max()) * 1.1
    grid = np.geomspace(lo_n, hi_n, s.grid_points)
    sd = np.sqrt(1.0 / (4.0 * grid) + tau2)
    q95 = stats.norm.ppf(0.5 + s.inner / 2)
    q998 = stats.norm.ppf(0.5 + s.outer / 2)
    flags_ok = np.select(
        [z_adj > q998, z_adj > q95, z_adj < -q998, z_adj < -q95],
        ["above_998", "above_95", "below_998", "below_95"],
        "within",
    )
    z_all = np.full(ok.size, np.nan)
    z_all[ok] = z
    zadj_all = np.full(ok.size, np.nan)
    zadj_all[ok] = z_adj
    flags = np.full(ok.size, "no_data", dtype=object)
    flags[ok] = flags_ok
    return FunnelResult(
        target=target,
        z=z_all,
        z_adjusted=zadj_all,
        phi=phi,
        tau2=tau2,
        grid=grid,
        lower95=_g_inv(g0 - q95 * sd, scale),
        upper95=_g_inv(g0 + q95 * sd, scale),
        lower998=_g_inv(g0 - q998 * sd, scale),
        upper998=_g_inv(g0 + q998 * sd, scale),
        flags=flags,
    )
