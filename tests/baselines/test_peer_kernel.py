"""The compiled peer-window sums equal the NumPy moment terms and group prior bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from engine.baselines import dispersion, shrinkage
from engine.baselines._peer_kernel import moment_sums, prior_sums
from engine.baselines._sums import N_PERIODS, SUM_X, SUM_XX, SUM_XXX, SUM_XY, SUM_Y, SUM_YY, SUM_YY_OVER_X
from engine.baselines._update import FAMILY_CODE


def _windows(family: str, seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Peer-window sums as :func:`engine.baselines._sums.peer_sums` returns them (positive exposure),
    built from random cells so the moments are consistent; some windows have no events."""
    rng = np.random.default_rng(seed)
    n_strata, p_count = 40, 3_000
    stratum = np.sort(rng.integers(0, n_strata - 3, p_count))  # the last strata have no window
    sums = np.zeros((p_count, 8))
    for i in range(p_count):
        m = int(rng.integers(1, 12))
        x = rng.uniform(1, 60, m) if family != "measure" else rng.uniform(0.5, 3, m)
        if family == "proportion":
            x = np.round(x)
            y = rng.binomial(x.astype(int), rng.uniform(0.0, 0.6)).astype(float)
        else:
            y = rng.poisson(rng.uniform(0.0, 0.3) * x).astype(float)
            if family == "measure":
                y = y * rng.uniform(0.5, 8.0)
        sums[i, [N_PERIODS, SUM_Y, SUM_X, SUM_YY, SUM_XY, SUM_XX, SUM_XXX]] = (
            m,
            y.sum(),
            x.sum(),
            (y * y).sum(),
            (x * y).sum(),
            (x * x).sum(),
            (x**3).sum(),
        )
        sums[i, SUM_YY_OVER_X] = (y * y / x).sum()
    return stratum, sums, n_strata


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("family", ["count", "proportion", "measure"])
@pytest.mark.parametrize("seed", [0, 1])
def test_peer_sums_equal_numpy_passes(family: str, seed: int) -> None:
    stratum, sums, n_strata = _windows(family, seed)
    # the NumPy passes (engine.baselines.fit._peer_priors before compiling them)
    num, den = dispersion.moment_terms(sums, sums[:, SUM_Y] / sums[:, SUM_X], family)
    num_ref = np.bincount(stratum, weights=num, minlength=n_strata)
    den_ref = np.bincount(stratum, weights=den, minlength=n_strata)
    pooled = dispersion.finish(num_ref, den_ref, family)
    rbar_ref, tau2_ref, n_peers_ref = shrinkage.group_prior(stratum, sums, pooled[stratum], family, n_strata)

    fam = FAMILY_CODE[family]
    num_s, den_s, total_w, total_y, n_peers = moment_sums(stratum, sums, fam, n_strata)
    assert _same(num_s, num_ref) and _same(den_s, den_ref)
    assert _same(n_peers, n_peers_ref)
    rbar = shrinkage.group_rate(total_w, total_y)
    assert _same(rbar, rbar_ref)
    tau2 = shrinkage.between_variance(*prior_sums(stratum, sums, rbar, pooled, total_w, fam, n_strata))
    assert _same(tau2, tau2_ref)
    assert np.isnan(rbar[-1]) and np.isnan(tau2[-1]) and n_peers[-1] == 0  # strata with no window
    assert (tau2[np.isfinite(tau2)] > 0).any()  # the between-ward term is exercised, not all zero
