"""Concern rules: the constellation strength of the culture-domain statistics (issue 26)."""

from __future__ import annotations

import numpy as np
import pytest

from engine.combine.levels import (
    CONCERN,
    CONCERN_RULES,
    NONE,
    WATCH,
    LevelThresholds,
    constellation_strength,
    named_domains,
    second_largest,
    ward_levels,
)
from engine.scoring.settings import CombinationSettings
from engine.scoring.wards import level_thresholds


def _culture(*rows: tuple[float, ...]) -> np.ndarray:
    """``(W, 4, 1)`` domain statistics, one ward per row."""
    return np.array(rows, dtype=float)[:, :, None]


def _brute_balanced(d: np.ndarray, c: float) -> float:
    """The largest h with sum_d min(D_d, c h) >= 2 h, by bisection."""
    lo, hi = 0.0, float(d.sum()) + 1.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if np.minimum(d, c * mid).sum() >= 2 * mid:
            lo = mid
        else:
            hi = mid
    return lo


@pytest.mark.parametrize("c", [1.0, 1.25, 1.5, 1.9])
def test_balanced_closed_form_is_the_largest_h_of_its_definition(c: float) -> None:
    rng = np.random.default_rng(5)
    culture = rng.exponential(3.0, size=(200, 4, 1)) * (rng.random((200, 4, 1)) < 0.6)
    got = constellation_strength(culture, "balanced", c)[:, 0]
    want = [_brute_balanced(culture[i, :, 0], c) for i in range(200)]
    np.testing.assert_allclose(got, want, atol=1e-9)


def test_balanced_equals_the_second_largest_when_two_domains_moved_and_adds_a_third() -> None:
    culture = _culture((9.0, 4.0, 0.0, 0.0), (6.0, 3.0, 2.5, 0.0), (7.0, 0.0, 0.0, 0.0), (2.0, 2.0, 2.0, 2.0))
    strength = constellation_strength(culture, "balanced", 1.0)[:, 0]
    # two domains: the second; three: the third adds to the second; one: nothing; four mild: half the sum
    np.testing.assert_allclose(strength, [4.0, 5.5, 0.0, 4.0])
    assert np.all(strength >= second_largest(culture)[:, 0])


def test_a_single_domain_never_reaches_concern_under_any_rule() -> None:
    culture = _culture((50.0, 0.0, 0.0, 0.0), (0.0, 0.0, 80.0, 0.0))
    for rule, parameter in [("second", 1.0), ("balanced", 1.0), ("balanced", 1.5), ("top_two", 2.5)]:
        assert np.all(constellation_strength(culture, rule, parameter) == 0.0), rule
    # capped_sum: one domain counts at most the cap, so a threshold above the cap keeps it out
    assert np.all(constellation_strength(culture, "capped_sum", 5.0) == 5.0)


def test_top_two_and_capped_sum() -> None:
    culture = _culture((9.0, 3.0, 1.0, 0.0), (9.0, 2.0, 1.0, 0.0))
    np.testing.assert_allclose(constellation_strength(culture, "top_two", 2.5)[:, 0], [12.0, 0.0])
    np.testing.assert_allclose(constellation_strength(culture, "capped_sum", 5.0)[:, 0], [9.0, 8.0])


def test_unknown_rule_and_bad_balance_are_refused() -> None:
    culture = _culture((1.0, 1.0, 1.0, 1.0))
    with pytest.raises(ValueError, match="unknown concern rule"):
        constellation_strength(culture, "mean")
    with pytest.raises(ValueError, match="balance"):
        constellation_strength(culture, "balanced", 2.0)
    with pytest.raises(ValueError, match="concern_balance"):
        CombinationSettings(concern_balance=0.5)


def test_ward_levels_follow_the_rule() -> None:
    culture = _culture((6.0, 3.0, 2.5, 0.0))
    single = np.zeros((1, 1), dtype=bool)
    second = LevelThresholds(domain=np.inf, concern=5.25, urgent=6.75, watch=3.0, rule="second")
    balanced = LevelThresholds(domain=np.inf, concern=5.25, urgent=6.75, watch=3.0, rule="balanced")
    assert ward_levels(culture, single, second)[0][0, 0] == WATCH  # second domain at 3 only
    assert ward_levels(culture, single, balanced)[0][0, 0] >= CONCERN  # 3 + 2.5 + capped 6 >= 10.5
    quiet = _culture((6.0, 1.0, 0.5, 0.0))
    assert ward_levels(quiet, single, balanced)[0][0, 0] == NONE


def test_named_domains_under_second_are_the_domains_at_the_threshold() -> None:
    rng = np.random.default_rng(9)
    culture = rng.exponential(3.0, size=(50, 4, 30))
    th = LevelThresholds(domain=np.inf, concern=4.0, urgent=6.75, watch=2.5, rule="second")
    np.testing.assert_array_equal(named_domains(culture, th), culture >= 4.0)


def test_named_domains_under_balanced_name_every_domain_the_concern_needs() -> None:
    culture = _culture((6.0, 3.0, 2.5, 0.0), (2.0, 9.0, 0.0, 8.0), (6.0, 1.0, 0.5, 0.0))
    th = LevelThresholds(domain=np.inf, concern=5.25, urgent=6.75, watch=3.0, rule="balanced")
    named = named_domains(culture, th)[:, :, 0]
    np.testing.assert_array_equal(named[0], [True, True, True, False])
    np.testing.assert_array_equal(named[1], [False, True, False, True])
    np.testing.assert_array_equal(named[2], [True, False, False, False])  # no concern: its own threshold only


def test_settings_carry_the_rule_and_its_parameter() -> None:
    assert CombinationSettings().concern_rule in CONCERN_RULES
    th = level_thresholds(CombinationSettings(concern_rule="top_two", concern_floor=2.0))
    assert (th.rule, th.parameter) == ("top_two", 2.0)
    th = level_thresholds(CombinationSettings(concern_rule="balanced", concern_balance=1.25))
    assert (th.rule, th.parameter) == ("balanced", 1.25)
    assert level_thresholds(CombinationSettings(concern_rule="second")).rule == "second"
