"""Default scenario counts scale with the size of the trust (so a 300-ward benchmark has many episodes)."""

from synthetic.spec import DEFAULT_SCENARIOS, parse_scenarios, scaled_default_counts


def test_forty_wards_are_the_documented_defaults():
    assert scaled_default_counts(40) == parse_scenarios(DEFAULT_SCENARIOS)


def test_scaling_with_wards_keeps_trust_wide_kinds_once():
    counts = scaled_default_counts(300)
    assert counts["closed_culture"] == 23
    assert counts["concealment"] == 8
    assert counts["winter_pressure"] == 1
    assert scaled_default_counts(5)["closed_culture"] == 1
