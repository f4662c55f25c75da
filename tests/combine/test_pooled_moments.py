"""The fused provider-pool kernel equals the numpy composition it replaced, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from engine.combine.provider import broad_shifts, pooled_by_group, pooled_moments
from engine.combine.rowgroups import group_rows, group_sum
from engine.detectors.scores import variance


def _oracle(y, observed, n, rate, dispersion, family, group, n_groups):  # type: ignore[no-untyped-def]
    """The pre-kernel code of ``provider_alerts``: (S, T) temporaries composed with numpy."""
    yy = np.where(observed, y, np.nan)
    mu = rate * n
    pooled_y, pooled_mu = pooled_by_group(yy, mu, group, n_groups)
    fam_var = np.zeros_like(mu)
    for fam in ("count", "proportion", "measure"):
        rows = family == fam
        if rows.any():
            fam_var[rows] = variance(n[rows], rate[rows], fam, dispersion[rows])[1]
    ok = np.isfinite(yy) & np.isfinite(mu) & np.isfinite(fam_var)
    return (
        pooled_y,
        pooled_mu,
        group_sum(np.where(ok, fam_var, 0.0), group, n_groups),
        group_sum(ok, group, n_groups),
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pooled_moments_equal_numpy_composition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    s, t = 60, 37
    family = rng.choice(np.array(["count", "proportion", "measure"], dtype=object), size=s)
    group = rng.integers(0, 9, size=s)
    n = rng.uniform(1, 400, size=(s, t))
    n[rng.random((s, t)) < 0.05] = np.nan
    rate = rng.uniform(0.001, 0.6, size=(s, t))
    rate[rng.random((s, t)) < 0.1] = np.nan  # baseline not ready
    dispersion = rng.uniform(0, 0.3, size=(s, t))
    dispersion[rng.random((s, t)) < 0.05] = np.nan
    dispersion[rng.random((s, t)) < 0.05] = np.inf
    y = rng.poisson(20, size=(s, t)).astype(float)
    observed = rng.random((s, t)) > 0.15
    y[~observed & (rng.random((s, t)) < 0.5)] = 0.0  # suppressed/missing cells carry a placeholder
    got = pooled_moments(y, observed, n, rate, dispersion, family, group, 9)
    want = _oracle(y, observed, n, rate, dispersion, family, group, 9)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)
        assert g.tobytes() == w.tobytes()  # bitwise, signed zeros included


def test_pooled_moments_other_family_contributes_zero_variance() -> None:
    y = np.array([[3.0, 4.0]])
    out = pooled_moments(y, np.ones((1, 2), bool), np.ones((1, 2)), np.full((1, 2), 2.0),
                         np.full((1, 2), 0.1), np.array(["other"], dtype=object), np.array([0]), 1)  # fmt: skip
    np.testing.assert_array_equal(out[0], y)
    np.testing.assert_array_equal(out[1], [[2.0, 2.0]])
    np.testing.assert_array_equal(out[2], [[0.0, 0.0]])
    np.testing.assert_array_equal(out[3], [[1.0, 1.0]])


@pytest.mark.parametrize("seed", [0, 1])
def test_scaled_common_mode_factor_equals_composed_arrays(seed: int) -> None:
    """The cell-by-cell scaling (hours over their dispersion) equals dividing whole arrays first."""
    from engine.combine.provider import ProviderCells, common_mode_factor, scaled_common_mode_factor

    rng = np.random.default_rng(seed)
    s, t = 50, 31
    y = rng.poisson(30, size=(s, t)).astype(float)
    y[rng.random((s, t)) < 0.1] = np.nan
    rate = rng.uniform(0.01, 2.0, size=(s, t))
    rate[rng.random((s, t)) < 0.1] = np.nan
    n = rng.uniform(5, 50, size=(s, t))
    scale = rng.uniform(0.5, 3.0, size=(s, t))
    scaled = rng.random(s) < 0.4
    group = rng.integers(0, 6, size=s)
    div = np.where(scaled[:, None], scale, 1.0)
    want = common_mode_factor(y / div, rate * n / div, group, 6, 5.0)
    got = scaled_common_mode_factor(ProviderCells(y, rate, n, scale, scaled), group, 6, 5.0)
    assert got.tobytes() == want.tobytes()


def _broad_shift_oracle(
    y, observed, n, rate, dispersion, family, members, start, sign, window, min_wards, share, min_ratio
):  # type: ignore[no-untyped-def]
    """The per-episode numpy code ``provider_alerts`` ran before :func:`broad_shifts`."""
    cols = slice(max(0, start - window + 1), start + 1)
    yy = np.where(observed[members, cols], y[members, cols], np.nan)
    mu, var = variance(
        n[members, cols], rate[members, cols], str(family[members[0]]), dispersion[members, cols]
    )
    ok = np.isfinite(yy) & np.isfinite(mu) & np.isfinite(var)
    y_sum = np.where(ok, yy, 0.0).sum(axis=1)
    mu_sum = np.where(ok, mu, 0.0).sum(axis=1)
    has = mu_sum > 0
    if has.sum() < min_wards:
        return False
    same_side = (sign * (y_sum[has] - mu_sum[has]) > 0).mean()
    pooled = y_sum[has].sum() / mu_sum[has].sum()
    material = pooled >= min_ratio if sign > 0 else pooled <= 1 / min_ratio
    return bool(same_side >= share and material)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_broad_shifts_equal_the_per_episode_numpy_code(seed: int, sign: float) -> None:
    rng = np.random.default_rng(seed)
    s, t, n_groups = 90, 40, 12
    group = rng.integers(0, n_groups, size=s)
    fam_of_group = rng.choice(np.array(["count", "proportion", "measure"], dtype=object), size=n_groups)
    family = fam_of_group[group]  # one indicator per group: one family
    n = rng.uniform(1, 60, size=(s, t))
    n[rng.random((s, t)) < 0.05] = np.nan
    rate = np.where(
        family[:, None] == "proportion", rng.uniform(0.05, 0.5, (s, t)), rng.uniform(0.05, 1.5, (s, t))
    )
    rate[rng.random((s, t)) < 0.1] = np.nan
    dispersion = rng.uniform(0, 0.3, size=(s, t))
    dispersion[rng.random((s, t)) < 0.05] = np.inf
    # a provider-wide rise or fall in half the groups, from period 20
    shift = np.where(rng.random(n_groups) < 0.5, 1.0 + 0.6 * sign, 1.0)[group]
    lam = np.nan_to_num(rate * n) * np.where(np.arange(t) >= 20, shift[:, None], 1.0)
    y = rng.poisson(lam).astype(float)
    observed = rng.random((s, t)) > 0.1
    order, bounds = group_rows(group, n_groups)
    ep_group = np.repeat(np.arange(n_groups), t)
    ep_start = np.tile(np.arange(t), n_groups)
    settings = (4, 3, 0.6, 1.25)
    got = broad_shifts(
        y, observed, n, rate, dispersion, family, (order, bounds), ep_group, ep_start, sign, *settings
    )
    want = [
        _broad_shift_oracle(
            y, observed, n, rate, dispersion, family, order[bounds[g] : bounds[g + 1]], st, sign, *settings
        )
        for g, st in zip(ep_group, ep_start, strict=True)
    ]
    np.testing.assert_array_equal(got, want)
    assert 0 < got.sum() < got.size  # both outcomes are exercised


def test_broad_shifts_refuse_an_unknown_family() -> None:
    one = np.ones((3, 5))
    with pytest.raises(ValueError, match="unknown family"):
        broad_shifts(one, one > 0, one, one, one, np.array(["other"] * 3, dtype=object),
                     (np.arange(3), np.array([0, 3])), np.array([0]), np.array([4]), 1.0, 4, 3, 0.6, 1.25)  # fmt: skip
