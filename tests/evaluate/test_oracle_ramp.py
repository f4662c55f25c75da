"""The oracle's ramp-aware GLR over the onset and its use of the true rates."""

from __future__ import annotations

import numpy as np
import pytest

from engine.evaluate.oracle import cusum, ramp_glr, ramp_levels


def _brute(z_levels: np.ndarray, age: np.ndarray) -> np.ndarray:
    """max(0, max over onsets nu <= t of sum_{s=nu}^t z[age(s - nu), s]) by enumeration."""
    _, w_count, t_count = z_levels.shape
    out = np.zeros((w_count, t_count))
    r = len(age)
    for w in range(w_count):
        for t in range(t_count):
            best = 0.0
            for nu in range(t + 1):
                total = sum(z_levels[age[min(s - nu, r - 1)], w, s] for s in range(nu, t + 1))
                best = max(best, total)
            out[w, t] = best
    return out


@pytest.mark.parametrize("ramp", [1, 2, 5, 9])
def test_ramp_glr_equals_the_maximum_over_onsets(ramp: int):
    rng = np.random.default_rng(ramp)
    levels, age = ramp_levels(ramp)
    z = rng.normal(-0.2, 1.0, size=(len(levels), 3, 30))
    np.testing.assert_allclose(ramp_glr(z, age), _brute(z, age), atol=1e-12)


def test_a_step_oracle_is_pages_cusum():
    z = np.random.default_rng(0).normal(-0.1, 1, size=(4, 50))
    levels, age = ramp_levels(1)
    assert levels.tolist() == [1.0] and age.tolist() == [0]
    np.testing.assert_allclose(ramp_glr(z[None], age), cusum(z))


def test_ramp_levels_round_up_to_eighths_and_end_at_full_effect():
    levels, age = ramp_levels(20)
    assert len(levels) <= 8 and levels[-1] == 1.0
    frac = levels[age]
    assert frac[-1] == 1.0 and np.all(np.diff(frac) >= 0)
    assert np.all(frac >= (np.arange(20) + 1) / 20 - 1e-12)  # rounded up, never below the ramp


def test_ramp_glr_has_no_look_ahead():
    rng = np.random.default_rng(3)
    levels, age = ramp_levels(6)
    z = rng.normal(size=(len(levels), 2, 40))
    np.testing.assert_array_equal(ramp_glr(z, age)[:, :25], ramp_glr(z[:, :, :25], age))
