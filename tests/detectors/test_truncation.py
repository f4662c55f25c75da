"""No look-ahead: every detector's output at t is identical whether the data end at t or continue."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engine.detectors import DETECTORS, DataSilence, ward_data_silence

CONFIGS = {
    "cusum_poisson": {"direction": "both", "threshold": 2.0},
    "cusum_nb": {"direction": "both", "threshold": 2.0, "restart": "head_start"},
    "cusum_binomial": {"direction": "both", "threshold": 2.0},
    "cusum_normal": {"direction": "both", "threshold": 2.0, "restart": "none"},
    "glr_poisson": {"direction": "both", "threshold": 3.0, "window": 20},
    "glr_nb": {"direction": "both", "threshold": 3.0, "window": 0},
    "ewma": {"direction": "both", "lam": 0.2, "limit": 2.0},
    "silence": {"level": 0.2},
    "data_silence": {"level": 0.2},
}


def _arrays(result) -> dict[str, np.ndarray]:
    out = {}
    if hasattr(result, "sides"):
        for side in result.sides:
            for f in dataclasses.fields(side):
                v = getattr(side, f.name)
                if isinstance(v, np.ndarray) and v.ndim == 2:
                    out[f"{side.direction}.{f.name}"] = v
    else:
        for f in dataclasses.fields(result):
            v = getattr(result, f.name)
            if isinstance(v, np.ndarray) and v.ndim == 2:
                out[f.name] = v
    return out


def test_registry_covers_every_detector():
    assert set(CONFIGS) == set(DETECTORS)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_truncation(name, panel_counts):
    d = panel_counts
    det = DETECTORS[name](**CONFIGS[name])
    y, n, rate, alpha = d["y"], d["n"], d["rate"], d["alpha"]
    if name == "cusum_binomial":
        n = np.round(n)
        rate = np.minimum(rate * 20, 0.5)
        alpha = np.full_like(alpha, 0.02)
        y = np.where(np.isfinite(y), np.minimum(y, n), np.nan)
    full = _arrays(det.run(y, n, rate, alpha))
    assert full, "detector returned no (S, T) arrays"
    for t_end in (1, 6, 23, 47, 79):
        cut = _arrays(det.run(y[:, :t_end], n[:, :t_end], rate[:, :t_end], alpha))
        for key, arr in cut.items():
            np.testing.assert_array_equal(arr, full[key][:, :t_end], err_msg=f"{name}.{key} at T={t_end}")
    # the data after the cut really do matter for later periods (the test can fail)
    y2 = y.copy()
    y2[:, 60:] = np.where(np.isfinite(y2[:, 60:]), y2[:, 60:] * 3 + 2, np.nan)
    if name == "cusum_binomial":
        y2 = np.where(np.isfinite(y2), np.minimum(y2, n), np.nan)
    if name == "data_silence":
        y2[:, 60:70] = np.nan
    changed = _arrays(det.run(y2, n, rate, alpha))
    assert any(not np.array_equal(changed[k][:, 60:], full[k][:, 60:], equal_nan=True) for k in full)
    for key, arr in changed.items():
        np.testing.assert_array_equal(arr[:, :60], full[key][:, :60])


def test_ward_data_silence_truncation(panel_counts):
    miss = ~np.isfinite(panel_counts["y"])
    ward = np.repeat(np.arange(4), 3)
    full = ward_data_silence(miss, ward, DataSilence(level=0.3)).result
    for t_end in (5, 30, 61):
        cut = ward_data_silence(miss[:, :t_end], ward, DataSilence(level=0.3)).result
        np.testing.assert_array_equal(cut.probability, full.probability[:, :t_end])
        np.testing.assert_array_equal(cut.alarm, full.alarm[:, :t_end])
