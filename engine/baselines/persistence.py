"""Persistence-aware dispersion: the variance of sums over several periods, not only of one period.

A CUSUM adds evidence over many periods. Its in-control behaviour depends on the variance of *sums*
of observations, which a weekly dispersion understates whenever the in-control rate wanders slowly
(staffing pressure that lasts months, an unsettled spell, drift a frozen baseline does not follow):
a bank or agency share on 400 shifts a week has a tiny weekly dispersion, yet its month-to-month
level moves far more than weekly noise predicts, and a weekly-calibrated LLR turns that wandering
into nats.

This module estimates the dispersion on blocks of ``H`` consecutive periods (sums of numerator and
exposure) with the same causal baseline machinery (:func:`engine.baselines.fit.fit_baselines`: frozen
warm-up, peer-pooled moments) and converts it to the per-period dispersion that gives the block sums
their observed variance:

* counts (NB ``alpha``): ``Var(Y_B) = mu_B + alpha_B mu_B^2`` with ``mu_B = H mu`` equals ``H`` weekly
  terms ``mu + alpha' mu^2`` when ``alpha' = H alpha_B``;
* proportions (beta-binomial ``rho``): ``rho' = rho_B (H n - 1) / (n - 1)``;
* measures (quasi-Poisson ``phi``): ``phi' = phi_B`` (the scale is the same at every aggregation).

The per-period dispersion used is ``max(weekly, converted)``: with independent periods the block
estimate converts back to the weekly one, so nothing changes where there is no persistence. The
block fitted for period ``t`` (block ``t // H``) uses only blocks before it, so nothing at ``t`` uses
data after ``t``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from engine.baselines.fit import BaselineSettings, fit_baselines


def block_sums(
    y: np.ndarray, n: np.ndarray, rebase: np.ndarray | None, h: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(S, B)`` block sums of the usable cells (NaN where a block has none) and the block rebase mask."""
    s_count, t_count = y.shape
    b_count = -(-t_count // h)
    pad = b_count * h - t_count
    usable = np.isfinite(y) & np.isfinite(n) & (n > 0)
    yz = np.pad(np.where(usable, y, 0.0), ((0, 0), (0, pad))).reshape(s_count, b_count, h)
    nz = np.pad(np.where(usable, n, 0.0), ((0, 0), (0, pad))).reshape(s_count, b_count, h)
    has = np.pad(usable, ((0, 0), (0, pad))).reshape(s_count, b_count, h).any(axis=2)
    yb = np.where(has, yz.sum(axis=2), np.nan)
    nb = np.where(has, nz.sum(axis=2), np.nan)
    rb: np.ndarray | None = None
    if rebase is not None:
        rb = np.asarray(
            np.pad(np.asarray(rebase, dtype=bool), ((0, 0), (0, pad)))
            .reshape(s_count, b_count, h)
            .any(axis=2)
        )
    return yb, nb, rb


def persistent_dispersion(
    y: np.ndarray,
    n: np.ndarray,
    family: str,
    group: np.ndarray | None,
    rebase: np.ndarray | None,
    settings: BaselineSettings,
    h: int,
) -> np.ndarray:
    """``(S, T)`` per-period dispersion implied by the dispersion of ``h``-period block sums (NaN where
    the block baseline is not ready). See the module docstring."""
    s_count, t_count = y.shape
    if h <= 1 or t_count == 0 or s_count == 0:
        return np.full((s_count, t_count), np.nan)
    yb, nb, rb = block_sums(y, n, rebase, h)
    st = dataclasses.replace(
        settings,
        warmup_periods=max(-(-settings.warmup_periods // h), 2),
        min_observed=max(-(-settings.min_observed // h), 2),
        mode="frozen",
        cold_start=False,
        seasonal_harmonics=0,
    )
    fit = fit_baselines(yb, nb, family, group=group, rebase=rb, settings=st)  # type: ignore[arg-type]
    block_of = np.arange(t_count) // h
    d = fit.dispersion[:, block_of]
    with np.errstate(invalid="ignore"):
        if family == "count":
            return h * d
        if family == "proportion":
            nn = np.where(np.isfinite(n) & (n > 1), n, np.nan)
            return np.minimum(d * (h * nn - 1) / (nn - 1), 0.5)
        return d
