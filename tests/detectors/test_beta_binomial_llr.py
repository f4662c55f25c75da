"""The beta-binomial log-likelihood ratio (eight ``lgamma`` calls) against exact and scipy forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.special import betaln
from scipy.stats import betabinom

from engine.detectors.scores import binomial_llr


def _panel(seed: int, size: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    n = rng.integers(1, 400, size).astype(float)
    p = rng.uniform(1e-4, 0.7, size)
    y = rng.binomial(n.astype(int), p).astype(float)
    rho = rng.choice([1e-6, 1e-3, 0.01, 0.05, 0.3, 0.9], size)
    odds = rng.choice([1 / 2, 1 / 1.5, 1.5, 3.0], size)
    return y, n, p, rho, odds


def _exact(y: float, n: float, p: float, rho: float, odds: float) -> float:
    """Rising-factorial form for whole counts: ln Gamma(x + k) - ln Gamma(x) = sum_j ln(x + j)."""
    p1 = odds * p / (1 - p + odds * p)
    s = (1 - rho) / rho
    a0, b0, a1, b1 = p * s, (1 - p) * s, p1 * s, (1 - p1) * s
    events, others = int(y), int(n - y)
    terms = [math.log(a1 + j) - math.log(a0 + j) for j in range(events)]
    terms += [math.log(b1 + j) - math.log(b0 + j) for j in range(others)]
    return math.fsum(terms)


def _four_log_betas(y, n, p, rho, odds) -> np.ndarray:
    """The textbook form: four ``scipy.special.betaln`` calls."""
    p1 = odds * p / (1 - p + odds * p)
    s = (1 - rho) / rho
    a0, b0, a1, b1 = p * s, (1 - p) * s, p1 * s, (1 - p1) * s
    return betaln(y + a1, n - y + b1) - betaln(a1, b1) - betaln(y + a0, n - y + b0) + betaln(a0, b0)


def test_as_accurate_as_four_log_beta_functions() -> None:
    """Against the exact rising-factorial sum: within 1e-10 once rho >= 1e-3, and never less accurate
    than four ``betaln`` calls (both lose ~1e-9 when rho = 1e-6: lgamma of arguments ~1e6)."""
    y, n, p, rho, odds = _panel(1, 6000)
    got = binomial_llr(y[None, :], n[None, :], p[None, :], odds[None, :], rho[None, :])[0]
    exact = np.array([_exact(*cell) for cell in zip(y, n, p, rho, odds, strict=True)])
    four = _four_log_betas(y, n, p, rho, odds)
    usual = rho >= 1e-3
    np.testing.assert_allclose(got[usual], exact[usual], rtol=0, atol=1e-10)
    for level in np.unique(rho):
        cells = rho == level
        worst, textbook = np.abs(got - exact)[cells].max(), np.abs(four - exact)[cells].max()
        assert worst <= 1.5 * textbook + 1e-13, (level, worst, textbook)


def test_matches_four_log_beta_functions_and_scipys_pmf() -> None:
    y, n, p, rho, odds = _panel(2, 20_000)
    got = binomial_llr(y[None, :], n[None, :], p[None, :], odds[None, :], rho[None, :])[0]
    np.testing.assert_allclose(got, _four_log_betas(y, n, p, rho, odds), rtol=0, atol=1e-8)
    p1 = odds * p / (1 - p + odds * p)
    s = (1 - rho) / rho
    pmf = betabinom.logpmf(y, n, p1 * s, (1 - p1) * s) - betabinom.logpmf(y, n, p * s, (1 - p) * s)
    np.testing.assert_allclose(got, pmf, rtol=0, atol=1e-7)


@pytest.mark.parametrize("missing", ["y", "n", "p"])
def test_non_finite_inputs_and_zero_rho(missing: str) -> None:
    """NaN input -> NaN; rho = 0 cells take the binomial form; other cells are unaffected."""
    y, n, p, rho, _ = (a[None, :8].copy() for a in _panel(3, 8))
    rho[0, 1] = 0.0
    {"y": y, "n": n, "p": p}[missing][0, 2] = np.nan
    got = binomial_llr(y, n, p, 1.5, rho)
    assert np.isnan(got[0, 2])
    np.testing.assert_allclose(got[0, 1], binomial_llr(y, n, p, 1.5)[0, 1])
    keep = [0, 3, 4, 5, 6, 7]
    np.testing.assert_array_equal(
        got[0, keep], binomial_llr(y[:, keep], n[:, keep], p[:, keep], 1.5, rho[:, keep])[0]
    )
