"""Core combination pieces: monthly-to-weekly carry, provider common mode, domain CUSUM, levels."""

import numpy as np
import pytest

from engine.combine.cadence import carry_monthly_to_weeks, month_of_week, spread_monthly_to_weeks
from engine.combine.domains import domain_cusum, domain_cusum_blocks
from engine.combine.levels import (
    CONCERN,
    NONE,
    URGENT,
    WATCH,
    LevelThresholds,
    second_largest,
    upcrossings,
    ward_levels,
)
from engine.combine.provider import common_mode_factor, group_index


def test_month_of_week_and_spread_preserve_monthly_totals():
    weeks = np.arange(np.datetime64("2024-01-01"), np.datetime64("2024-04-01"), np.timedelta64(7, "D"))
    months = np.array(["2024-01-01", "2024-02-01", "2024-03-01"], dtype="datetime64[D]")
    m = month_of_week(weeks, months)
    assert m.tolist() == [0] * 5 + [1] * 4 + [2] * 4
    vals = np.array([[5.0, 4.0, np.nan]])
    spread = spread_monthly_to_weeks(vals, months, weeks)
    assert spread[0, :5].sum() == pytest.approx(5.0)
    assert spread[0, 5:9].sum() == pytest.approx(4.0)
    assert (spread[0, 9:] == 0).all()  # a missing month is no evidence, not zero data
    carried = carry_monthly_to_weeks(vals, months, weeks)
    assert carried[0, :5].tolist() == [5.0] * 5
    assert np.isnan(carried[0, 9:]).all()


def test_common_mode_factor_removes_a_provider_wide_step_but_not_a_single_ward_rise():
    rng = np.random.default_rng(1)
    s, t = 10, 40
    mu = np.full((s, t), 20.0)
    y = rng.poisson(mu).astype(float)
    y[:, 20:] = rng.poisson(mu[:, 20:] * 0.5)  # every ward halves (new reporting system)
    group, g = group_index(np.zeros(s))
    f = common_mode_factor(y, mu, group, g, kappa=10.0)
    adjusted = mu * f
    ratio_after = y[:, 25:].sum() / adjusted[:, 25:].sum()
    # shrinkage keeps a little of the step: (0.5 * 180 + 10) / (180 + 10) = 0.526 instead of 0.5
    assert ratio_after == pytest.approx(0.5 / 0.526, abs=0.03)
    assert y[:, 25:].sum() / mu[:, 25:].sum() == pytest.approx(0.5, abs=0.03)
    # one ward doubling barely moves its peers
    y2 = rng.poisson(mu).astype(float)
    y2[0, 20:] = rng.poisson(mu[0, 20:] * 2)
    f2 = common_mode_factor(y2, mu, group, g, kappa=10.0)
    assert y2[0, 20:].sum() / (mu[0, 20:] * f2[0, 20:]).sum() > 1.8
    assert np.abs(f2[1:, 20:].mean() - 1) < 0.15


def test_common_mode_factor_ignores_missing_periods():
    mu = np.full((3, 2), 10.0)
    y = np.array([[10.0, np.nan], [10.0, 30.0], [10.0, 30.0]])
    group, g = group_index(np.zeros(3))
    f = common_mode_factor(y, mu, group, g, kappa=0.0)
    assert f[0, 1] == pytest.approx(3.0)  # ward 0 missing: its peers' ratio
    assert f[1, 1] == pytest.approx(3.0)


def _naive_domain_cusum(z, ward, domain, w, d):
    t = z.shape[1]
    out = np.zeros((w, d, t))
    for wi in range(w):
        for di in range(d):
            sel = (ward == wi) & (domain == di)
            c = 0.0
            for ti in range(t):
                c = max(0.0, c + np.nansum(z[sel, ti]))
                out[wi, di, ti] = c
    return out


def test_domain_cusum_matches_naive_loop_and_tracks_contributions():
    rng = np.random.default_rng(7)
    s, t = 30, 50
    z = rng.normal(-0.1, 0.5, (s, t))
    z[rng.random((s, t)) < 0.1] = np.nan
    ward = rng.integers(0, 4, s)
    domain = rng.integers(-1, 3, s)
    ev = domain_cusum(z, ward, domain, 4, 3)
    np.testing.assert_allclose(
        ev.statistic, _naive_domain_cusum(z, ward, np.where(domain < 0, -9, domain), 4, 3)
    )
    # contributions of a domain's series sum to its statistic while it is above zero
    for wi in range(4):
        for di in range(3):
            sel = (ward == wi) & (domain == di)
            if not sel.any():
                continue
            stat = ev.statistic[wi, di]
            np.testing.assert_allclose(ev.contribution[sel].sum(axis=0)[stat > 0], stat[stat > 0])


def test_levels_constellation_rules():
    th = LevelThresholds(domain=3.0, concern=4.0, urgent=8.0)
    culture = np.zeros((4, 4, 1))
    culture[1, 3, 0] = 5.0  # one domain only -> watch
    culture[2, 2, 0], culture[2, 3, 0] = 5.0, 4.5  # two domains -> concern
    culture[3, 0, 0], culture[3, 3, 0] = 9.0, 4.5  # two domains, strong restrictive -> urgent
    single = np.zeros((4, 1), bool)
    level, score = ward_levels(culture, single, th)
    assert level[:, 0].tolist() == [NONE, WATCH, CONCERN, URGENT]
    assert score[3, 0] == pytest.approx(13.5)
    single[0, 0] = True
    assert ward_levels(culture, single, th)[0][0, 0] == WATCH


def test_second_largest_and_upcrossings():
    x = np.array([[[1.0], [5.0], [3.0], [2.0]]])
    assert second_largest(x)[0, 0] == 3.0
    series = np.array([[0, 5, 5, 0, 6, 0], [7, 7, 0, 0, 0, 0]], float)
    assert upcrossings(series, 4.0).tolist() == [2, 1]


def _numpy_domain_cusum(z, ward, domain, n_wards, n_domains):
    """The vectorised NumPy formulation the compiled kernels replaced (bitwise oracle)."""
    s_count, t_count = z.shape
    use = domain >= 0
    cell = ward * n_domains + np.where(use, domain, 0)
    zz = np.nan_to_num(z)
    summed = np.zeros((n_wards * n_domains, t_count))
    np.add.at(summed, np.where(use, cell, -1)[use], zz[use])
    stat = np.zeros_like(summed)
    since = np.full(summed.shape, -1, dtype=np.int64)
    contribution = np.zeros((s_count, t_count))
    prev, last_zero, run = np.zeros(summed.shape[0]), np.full(summed.shape[0], -1), np.zeros(s_count)
    for t in range(t_count):
        cur = np.maximum(0.0, prev + summed[:, t])
        stat[:, t], since[:, t] = cur, last_zero
        run = np.where((cur[cell] > 0) & use, run + zz[:, t], 0.0)
        contribution[:, t] = run
        last_zero = np.where(cur <= 0, t, last_zero)
        prev = cur
    shape = (n_wards, n_domains, t_count)
    return stat.reshape(shape), since.reshape(shape), contribution


def test_domain_cusum_blocks_are_bitwise_the_numpy_formulation_of_the_stacked_rows():
    rng = np.random.default_rng(11)
    t = 40
    zs = [rng.normal(0.05, 0.6, (s, t)) for s in (25, 9)]
    zs[0][rng.random((25, t)) < 0.1] = np.nan
    zs[1][0, 3], zs[1][1, 5] = np.inf, -np.inf  # nan_to_num: the largest finite floats
    wards = [rng.integers(0, 5, 25), rng.integers(0, 5, 9)]
    domains = [rng.integers(-1, 3, 25), rng.integers(-1, 3, 9)]
    stat, since, contributions = domain_cusum_blocks(list(zip(zs, wards, domains, strict=True)), 5, 3)
    ref_stat, ref_since, ref_contribution = _numpy_domain_cusum(
        np.concatenate(zs), np.concatenate(wards), np.concatenate(domains), 5, 3
    )
    assert stat.tobytes() == ref_stat.tobytes()
    assert np.array_equal(since, ref_since)
    assert np.concatenate(contributions).tobytes() == ref_contribution.tobytes()
    one = domain_cusum(zs[0], wards[0], domains[0], 5, 3)
    ref = _numpy_domain_cusum(zs[0], wards[0], domains[0], 5, 3)
    assert one.statistic.tobytes() == ref[0].tobytes() and one.contribution.tobytes() == ref[2].tobytes()


def test_group_sum_nan_to_num_and_out_equal_the_numpy_composition():
    from engine.combine.rowgroups import group_sum

    rng = np.random.default_rng(5)
    x = rng.normal(size=(12, 6))
    x[0, 1], x[3, 2], x[5, 4] = np.nan, np.inf, -np.inf
    group = rng.integers(-1, 3, 12)
    ref = np.zeros((3, 6))
    np.add.at(ref, group[group >= 0], np.nan_to_num(x)[group >= 0])
    assert group_sum(x, group, 3, nan_to_num=True).tobytes() == ref.tobytes()
    acc = group_sum(x[:5], group[:5], 3, nan_to_num=True)  # blocks of rows added into one output
    group_sum(x[5:], group[5:], 3, out=acc, nan_to_num=True)
    assert acc.tobytes() == ref.tobytes()


def test_group_sum_counts_booleans_without_a_float_copy():
    """Booleans are summed as they are: the counts equal the float64 sums of a converted copy."""
    from engine.combine.rowgroups import group_sum

    rng = np.random.default_rng(6)
    flags = rng.random((40, 9)) < 0.3
    group = rng.integers(-1, 4, 40)
    ref = np.zeros((4, 9))
    np.add.at(ref, group[group >= 0], flags[group >= 0].astype(np.float64))
    got = group_sum(flags, group, 4)
    assert got.dtype == np.float64 and got.tobytes() == ref.tobytes()
    assert group_sum(flags[:, ::2], group, 4).tobytes() == ref[:, ::2].tobytes()  # strided input
