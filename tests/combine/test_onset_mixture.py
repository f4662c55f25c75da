"""The common-onset mixture domain statistic (Xie & Siegmund 2013) against a brute-force reference."""

from __future__ import annotations

import numpy as np
import pytest

from engine.combine.domains import domain_statistic_blocks, onset_mixture_blocks, window_limited_blocks


def _blocks(seed: int, s: int = 40, t: int = 70):
    rng = np.random.default_rng(seed)
    z = rng.normal(-0.2, 0.8, (s, t))
    z[rng.random((s, t)) < 0.05] = np.nan  # no evidence
    ward = rng.integers(0, 5, s)
    domain = rng.integers(-1, 4, s)  # -1: not a culture domain
    return z, ward, domain


def _reference(z, ward, domain, p0, window, n_wards=5, n_domains=4):
    zz = np.nan_to_num(z)
    t_count = z.shape[1]
    stat = np.zeros((n_wards, n_domains, t_count))
    for w in range(n_wards):
        for d in range(n_domains):
            rows = np.nonzero((ward == w) & (domain == d))[0]
            if rows.size == 0:
                continue
            for t in range(t_count):
                best = 0.0
                for k in range(max(t - window + 1, 0), t + 1):
                    sums = zz[rows, k : t + 1].sum(axis=1)
                    best = max(best, float(np.sum(np.log(1 - p0 + p0 * np.exp(sums)))))
                stat[w, d, t] = best
    return stat


@pytest.mark.parametrize(("p0", "window"), [(0.3, 12), (0.7, 70), (0.5, 1)])
def test_matches_the_brute_force_statistic(p0, window):
    z, ward, domain = _blocks(1)
    stat, since, (contribution,) = onset_mixture_blocks([(z, ward, domain)], 5, 4, p0, window)
    np.testing.assert_allclose(stat, _reference(z, ward, domain, p0, window), atol=1e-10)
    # contributions are each series' sums over (since, t] while its domain statistic is positive
    cell = np.where(domain >= 0, ward * 4 + domain, -1)
    s, t = np.nonzero((cell >= 0)[:, None] & (stat.reshape(20, -1)[np.maximum(cell, 0)] > 0))
    k = since.reshape(20, -1)[cell[s], t] + 1
    expect = np.array([np.nansum(z[i, a : b + 1]) for i, a, b in zip(s, k, t, strict=True)])
    np.testing.assert_allclose(contribution[s, t], expect, atol=1e-10)


def test_p0_one_is_the_window_limited_joint_cusum():
    z, ward, domain = _blocks(2)
    mix, since_mix, _ = onset_mixture_blocks([(z, ward, domain)], 5, 4, 1.0, 20)
    joint, since_joint, _ = window_limited_blocks([(z, ward, domain)], 5, 4, 20)
    np.testing.assert_allclose(mix, joint, atol=1e-9)
    np.testing.assert_array_equal(since_mix[mix > 1e-9], since_joint[mix > 1e-9])


def test_an_unmoved_indicator_costs_at_most_log_one_minus_p0():
    """One indicator rising, three falling away: the joint CUSUM is dragged down, the mixture is not."""
    t = 30
    rising = np.full(t, 0.6)
    flat = np.full(t, -0.4)
    z = np.vstack([rising, flat, flat, flat])
    ward, domain = np.zeros(4, dtype=np.int64), np.zeros(4, dtype=np.int64)
    mix, _, _ = onset_mixture_blocks([(z, ward, domain)], 1, 4, 0.3, 52)
    joint, _, _ = domain_statistic_blocks([(z, ward, domain)], 1, 4, "joint", window=52)
    assert joint[0, 0, -1] == 0.0
    expected = 0.6 * t + np.log(0.3) + 3 * np.log(0.7)  # about: the mover's sum, log p0, three log(1 - p0)
    assert mix[0, 0, -1] == pytest.approx(expected, abs=0.01)


def test_blocks_of_two_cadences_add_up_like_one():
    z, ward, domain = _blocks(3)
    one = onset_mixture_blocks([(z, ward, domain)], 5, 4, 0.4, 26)
    two = onset_mixture_blocks(
        [(z[:15], ward[:15], domain[:15]), (z[15:], ward[15:], domain[15:])], 5, 4, 0.4, 26
    )
    np.testing.assert_allclose(one[0], two[0], atol=1e-10)
    np.testing.assert_array_equal(one[1], two[1])
    np.testing.assert_allclose(one[2][0], np.vstack(two[2]), atol=1e-10)


def test_the_culture_total_follows_the_rule():
    from engine.combine.domains import culture_total_blocks

    z, ward, domain = _blocks(4)
    total = culture_total_blocks([(z, ward, domain)], 5, 30, "onset_mixture", 0.4)
    one_domain = np.where(domain >= 0, 0, -1)
    ref = _reference(z, ward, one_domain, 0.4, 30, n_wards=5, n_domains=1)[:, 0, :]
    np.testing.assert_allclose(total, ref, atol=1e-10)
    joint = culture_total_blocks([(z, ward, domain)], 5, 30)
    np.testing.assert_allclose(
        joint, culture_total_blocks([(z, ward, domain)], 5, 30, "onset_mixture", 1.0), atol=1e-9
    )
