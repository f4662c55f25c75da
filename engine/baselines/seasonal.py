"""Annual seasonality per peer group: a log-linear harmonic factor fitted on a training period only.

Model (per group, statsmodels GLM, Poisson family with a log link; the coefficients are consistent
under overdispersion, which the baseline estimates separately):

``log E[y_st] = log(n_st * level_s) + b0 + sum_k (a_k cos(2 pi k t / P) + c_k sin(2 pi k t / P))``

where ``level_s`` is the series' raw rate over the training window (profiling out each ward's level
keeps the fit to ``1 + 2K`` parameters per group, so thousands of wards fit in one small GLM) and ``P``
is the number of periods per year. Only periods ``t < fit_periods`` are used, so the factor at any
``t >= fit_periods`` uses no data from ``t`` or later; the baseline is not *ready* before
``fit_periods`` when seasonality is on. The factor is normalised to average 1 over a year. Supported for
``count`` and ``measure`` families (multiplicative on the rate); proportions are modelled without
seasonality (a logit-scale seasonal term is not multiplicative on the rate).
"""

from __future__ import annotations

import numpy as np


def harmonics(t: np.ndarray, n_harmonics: int, periods_per_year: float) -> np.ndarray:
    """``(len(t), 2K)`` design columns ``cos, sin`` of ``2 pi k t / P`` for ``k = 1..K``."""
    cols = []
    for k in range(1, n_harmonics + 1):
        ang = 2 * np.pi * k * np.asarray(t, dtype=float) / periods_per_year
        cols += [np.cos(ang), np.sin(ang)]
    return np.column_stack(cols) if cols else np.zeros((len(t), 0))


def seasonal_factors(
    y: np.ndarray,
    n: np.ndarray,
    ok: np.ndarray,
    group_codes: np.ndarray,
    n_harmonics: int,
    periods_per_year: float,
    fit_periods: int,
) -> np.ndarray:
    """``(S, T)`` multiplicative seasonal factor of each series' expected rate (1.0 when not fitted).

    Parameters
    ----------
    y, n : (S, T)
        Numerator and exposure.
    ok : (S, T) bool
        Usable observations.
    group_codes : (S,) int
        Peer group of each series.
    n_harmonics : int
        Number of annual harmonic pairs K (0 = no seasonality).
    periods_per_year : float
        52.1775 for weekly, 12 for monthly data.
    fit_periods : int
        Training window ``[0, fit_periods)``; should cover at least one year.
    """
    import statsmodels.api as sm  # imported here: a second at start-up, needed only with seasonality

    s_count, t_count = y.shape
    factor = np.ones((s_count, t_count))
    if n_harmonics <= 0 or t_count == 0:
        return factor
    f = min(fit_periods, t_count)
    if f < fit_periods:
        return factor  # training window not complete yet: not fitted (baseline not ready anyway)
    okw = ok[:, :f]
    ysum = np.where(okw, y[:, :f], 0.0).sum(axis=1)
    nsum = np.where(okw, n[:, :f], 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        level = np.where((ysum > 0) & (nsum > 0), ysum / nsum, np.nan)
    h_all = harmonics(np.arange(t_count), n_harmonics, periods_per_year)
    year = harmonics(np.linspace(0, periods_per_year, 512, endpoint=False), n_harmonics, periods_per_year)
    usable = okw & np.isfinite(level)[:, None]
    for g in np.unique(group_codes):
        rows, cols = np.nonzero(usable & (group_codes == g)[:, None])
        if rows.size < 4 * (2 * n_harmonics + 1):
            continue
        exog = sm.add_constant(h_all[cols], has_constant="add")
        offset = np.log(n[rows, cols] * level[rows])
        fit = sm.GLM(y[rows, cols], exog, family=sm.families.Poisson(), offset=offset).fit()
        beta = np.asarray(fit.params)[1:]
        norm = np.log(np.mean(np.exp(year @ beta)))
        factor[group_codes == g] = np.exp(h_all @ beta - norm)[None, :]
    return factor
