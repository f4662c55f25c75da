"""Domain rules that combine per-indicator CUSUMs (Mei's sum, the Xie-Siegmund mixture)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.combine.domains import domain_cusum_blocks, domain_statistic_blocks


def _naive(z, ward, domain, w, d, rule, p0):
    stat = np.zeros((w, d, z.shape[1]))
    for s in range(z.shape[0]):
        if domain[s] < 0:
            continue
        c = 0.0
        for t in range(z.shape[1]):
            c = max(0.0, c + z[s, t])
            stat[ward[s], domain[s], t] += c if rule == "mei" else np.log(1 - p0 + p0 * np.exp(c))
    return stat


@pytest.mark.parametrize("rule", ["mei", "mixture"])
def test_rules_match_a_naive_loop(rule):
    rng = np.random.default_rng(0)
    z = rng.normal(-0.2, 1.0, (30, 50))
    ward = rng.integers(0, 4, 30)
    domain = rng.integers(-1, 3, 30)
    stat, since, (contribution,) = domain_statistic_blocks([(z, ward, domain)], 4, 3, rule, 0.3)
    np.testing.assert_allclose(stat, _naive(z, ward, domain, 4, 3, rule, 0.3), atol=1e-12)
    # since: the last period before t at which the domain statistic was zero
    for wi, di, t in [(0, 0, 10), (1, 2, 49), (3, 1, 25)]:
        zeros = np.flatnonzero(stat[wi, di, :t] <= 0)
        assert since[wi, di, t] == (zeros[-1] if zeros.size else -1)
    assert contribution.shape == z.shape


def test_unmoved_indicators_cost_nothing_under_the_mixture():
    z = np.zeros((3, 10))
    z[0] = 1.0  # one indicator moves
    z[1:] = -1.0  # two do not
    ward, domain = np.zeros(3, dtype=np.int64), np.zeros(3, dtype=np.int64)
    joint, _, _ = domain_cusum_blocks([(z, ward, domain)], 1, 1)
    mix, _, _ = domain_statistic_blocks([(z, ward, domain)], 1, 1, "mixture", 0.3)
    assert joint[0, 0, -1] == 0.0  # the joint CUSUM is dragged down by the unmoved ones
    assert mix[0, 0, -1] == pytest.approx(np.log(0.7 + 0.3 * np.exp(10.0)))


def test_joint_rule_is_the_joint_cusum_and_unknown_rules_fail():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(6, 8))
    blocks = [(z, np.arange(6) % 2, np.arange(6) % 3)]
    a = domain_cusum_blocks(blocks, 2, 3)
    b = domain_statistic_blocks(blocks, 2, 3, "joint")
    np.testing.assert_array_equal(a[0], b[0])
    with pytest.raises(ValueError):
        domain_statistic_blocks(blocks, 2, 3, "fisher")


def test_window_limited_cusum_forgets_old_evidence():
    from engine.combine.domains import window_limited_blocks

    rng = np.random.default_rng(2)
    z = rng.normal(-0.1, 1.0, (12, 60))
    ward, domain = np.arange(12) % 3, np.arange(12) % 2
    blocks = [(z, ward, domain)]
    page, _, page_c = domain_cusum_blocks(blocks, 3, 2)
    # a window as long as the data is Page's CUSUM (same statistic, onset and contributions)
    stat, _, (contribution,) = window_limited_blocks(blocks, 3, 2, 60)
    np.testing.assert_allclose(stat, page, atol=1e-9)
    np.testing.assert_allclose(contribution, page_c[0], atol=1e-9)
    # a short window: the best sum over the last L periods, by brute force
    stat, _, (contribution,) = window_limited_blocks(blocks, 3, 2, 8)
    summed = np.zeros((3, 2, 60))
    np.add.at(summed, (ward, domain), z)
    for w in range(3):
        for d in range(2):
            for t in range(60):
                sums = [summed[w, d, k : t + 1].sum() for k in range(max(t - 7, 0), t + 1)]
                assert stat[w, d, t] == pytest.approx(max(0.0, max(sums)))
    # contributions add up to the statistic where it is positive
    total = np.zeros((3, 2, 60))
    np.add.at(total, (ward, domain), contribution)
    np.testing.assert_allclose(total[stat > 0], stat[stat > 0], atol=1e-9)
    # one spike long ago is forgotten after the window
    spike = np.full((1, 40), -0.05)
    spike[0, 2] = 10.0
    one = [(spike, np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64))]
    assert domain_cusum_blocks(one, 1, 1)[0][0, 0, 30] > 8
    assert window_limited_blocks(one, 1, 1, 20)[0][0, 0, 30] == 0.0
