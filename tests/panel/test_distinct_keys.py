"""distinct_keys: per-key lookups spread to rows equal the plain per-row lookups."""

from __future__ import annotations

import numpy as np

from engine.panel import distinct_keys


def test_spread_lookup_equals_per_row_lookup() -> None:
    rng = np.random.default_rng(7)
    wards = np.array([f"W{i:03d}" for i in range(40)] + ["Ward ñ", ""])
    keys = rng.choice(wards, size=500)
    kind = {w: ("picu" if i % 3 else "acute") for i, w in enumerate(wards[:30])}
    per_row = np.array([kind.get(w, "other") for w in keys])

    distinct, index = distinct_keys(keys)
    spread = np.array([kind.get(w, "other") for w in distinct])[index]

    assert distinct == sorted(set(keys.tolist()))
    assert all(type(k) is str for k in distinct)
    assert index.shape == keys.shape and index.dtype.kind == "i"
    np.testing.assert_array_equal(spread, per_row)
    assert spread.dtype == per_row.dtype


def test_object_arrays_and_empty_input() -> None:
    keys = np.array(["b", "a", "b"], dtype=object)
    distinct, index = distinct_keys(keys)
    assert distinct == ["a", "b"]
    np.testing.assert_array_equal(index, [1, 0, 1])

    distinct, index = distinct_keys(np.array([], dtype="<U4"))
    assert distinct == [] and index.shape == (0,)
