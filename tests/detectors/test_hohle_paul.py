"""Höhle–Paul GLR / LR-CUSUM test series (sequential-methods.md §1.7): identical alarm times."""

from __future__ import annotations

import numpy as np

from engine.detectors import GlrNegBin, GlrPoisson, PoissonCusum


def _alarm_times(result) -> list[int]:
    return (np.nonzero(result.alarm[0])[0] + 1).tolist()


def test_mu0_first_value(hohle_paul):
    _, mu0 = hohle_paul
    assert mu0[0, 0] == np.float64(mu0[0, 0])
    np.testing.assert_allclose(mu0[0, 0], 8.740324635, rtol=1e-10)


def test_poisson_lr_cusum(hohle_paul):
    x, mu0 = hohle_paul
    res = PoissonCusum(rate_ratio_up=np.exp(0.4), threshold=5.0).run(x, 1.0, mu0)
    assert _alarm_times(res) == [6, 65, 103, 108, 114]
    np.testing.assert_allclose(
        res.up.statistic[0, :6], [0.1012925, 0, 0, 1.444616, 3.966216, 8.824705], rtol=1e-6, atol=1e-12
    )


def test_poisson_glr(hohle_paul):
    x, mu0 = hohle_paul
    res = GlrPoisson(window=0, threshold=5.0).run(x, 1.0, mu0)
    assert _alarm_times(res) == [6, 65, 103, 107, 108, 114]
    np.testing.assert_allclose(
        res.up.statistic[0, :6],
        [0.269752, 0, 0.004111197, 1.475207, 4.292646, 10.75766],
        rtol=1e-6,
        atol=1e-12,
    )


def test_nb_glr(hohle_paul):
    x, mu0 = hohle_paul
    res = GlrNegBin(window=0, threshold=5.0).run(x, 1.0, mu0, dispersion=0.2)
    assert _alarm_times(res) == [114]
    expected = [
        0.0933664,
        0,
        0.001387989,
        0.4392282,
        1.239898,
        2.983766,
        1.954988,
        1.722341,
        1.586777,
        0.7331938,
    ]
    np.testing.assert_allclose(res.up.statistic[0, :10], expected, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(res.up.statistic[0, 113], 5.522696, rtol=1e-6)


def test_nb_glr_with_alpha_zero_is_poisson(hohle_paul):
    x, mu0 = hohle_paul
    pois = GlrPoisson(window=0).run(x, 1.0, mu0)
    nb_tiny = GlrNegBin(window=0).run(x, 1.0, mu0, dispersion=1e-7)
    np.testing.assert_allclose(nb_tiny.up.statistic, pois.up.statistic, rtol=1e-5, atol=1e-6)


def test_exposure_equivalence(hohle_paul):
    """Rate x exposure gives the same chart as the expected count itself."""
    x, mu0 = hohle_paul
    n = np.linspace(50, 200, 120)[None, :]
    a = PoissonCusum(rate_ratio_up=np.exp(0.4)).run(x, n, mu0 / n)
    b = PoissonCusum(rate_ratio_up=np.exp(0.4)).run(x, 1.0, mu0)
    np.testing.assert_allclose(a.up.statistic, b.up.statistic, rtol=1e-12)
