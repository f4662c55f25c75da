"""The compiled cold-start passes equal their plain reference formulation bit for bit.

The reference is the running-window recurrence written out in Python, one series after another in
ascending rows (the order of the sums before the provider groups were taken group by group).
"""

from __future__ import annotations

import numpy as np

from engine.baselines import BaselineSettings, fit_baselines
from engine.baselines.coldstart import _peer_window_sums, _provider_groups, _provider_window_sums


def _windows(y: np.ndarray, x: np.ndarray, ok: np.ndarray, window: int) -> np.ndarray:
    """``(S, T, 5)`` window sums of y, x, y^2, y x, x^2 over ``[t - W, t)`` by the running recurrence."""
    s_count, t_count = y.shape
    out = np.zeros((s_count, t_count, 5))
    for s in range(s_count):
        w = np.zeros(5)
        for t in range(t_count):
            if t >= 1 and ok[s, t - 1]:
                a, b = y[s, t - 1], x[s, t - 1]
                w += (a, b, a * a, a * b, b * b)
            if t - 1 - window >= 0 and ok[s, t - 1 - window]:
                a, b = y[s, t - 1 - window], x[s, t - 1 - window]
                w -= (a, b, a * a, a * b, b * b)
            out[s, t] = w
    return out


def _reference_peer(y, x, ok, codes, n_groups, window):
    win = _windows(y, x, ok, window)
    out = np.zeros((n_groups, y.shape[1], 9))
    for s in range(y.shape[0]):
        for t in range(y.shape[1]):
            wy, wx, wyy, wyx, wxx = win[s, t]
            if wx <= 0.0:
                continue
            r = wy / wx
            out[codes[s], t] += (wy, wx, wx * wx, wy * wy / wx, 1.0, wyy, r * wyx, r * r * wxx, wxx)
    return out


def _reference_provider(y, x, ok, sub, n_sub, window):
    win = _windows(y, x, ok, window)
    out = np.zeros((n_sub, y.shape[1], 5))
    for s in range(y.shape[0]):
        if sub[s] < 0:
            continue
        for t in range(y.shape[1]):
            wy, wx, _, _, wxx = win[s, t]
            if wx > 0.0:
                out[sub[s], t] += (wy, wx, wx * wx, wxx, 1.0)
    return out


def _panel(seed: int, s: int = 48, t: int = 45):
    rng = np.random.default_rng(seed)
    x = rng.uniform(5, 120, (s, t))
    y = rng.poisson(rng.gamma(4.0, 0.05 / 4.0, (s, 1)) * x).astype(float)
    ok = rng.random((s, t)) > 0.15
    ok[rng.random(s) < 0.3, : t // 2] = False  # late joiners
    y, x = np.where(ok, y, 0.0), np.where(ok, x, 0.0)
    codes = (np.arange(s) % 3).astype(np.int64)
    provider = rng.integers(0, 7, s).astype(str)
    return y, x, ok, codes, provider


def test_window_sums_match_the_reference():
    for seed, window in ((0, 8), (1, 26), (2, 1)):
        y, x, ok, codes, provider = _panel(seed)
        got = _peer_window_sums(y, x, ok, codes, 3, window)
        assert got.tobytes() == _reference_peer(y, x, ok, codes, 3, window).tobytes()
        sub, sub_group = _provider_groups(provider, codes)
        assert (sub < 0).any() and sub_group.size > 1  # singletons and groups both present
        got_p = _provider_window_sums(y, x, ok, sub, sub_group.size, window)
        assert got_p.tobytes() == _reference_provider(y, x, ok, sub, sub_group.size, window).tobytes()


def test_posterior_does_not_depend_on_later_needed_cells():
    """The posterior pass stops after each row's last needed cell: a cell's rate must be the same
    whether or not later cells of the row are needed too (rebases make needed cells late in a row)."""
    y, x, ok, codes, provider = _panel(3, s=60, t=70)
    y = np.where(ok, y, np.nan)
    rebase = np.zeros(y.shape, dtype=bool)
    rebase[::4, 40] = True
    group = np.array(["a", "b", "c"])[codes]
    st = BaselineSettings(warmup_periods=20, min_observed=10)
    fit = fit_baselines(y, x, "count", group=group, rebase=rebase, settings=st, provider=provider)
    assert fit.peer_based is not None and fit.peer_based[:, 45:].any()  # late needed cells exist
    cut = fit_baselines(y[:, :44], x[:, :44], "count", group=group, rebase=rebase[:, :44], settings=st,
                        provider=provider)  # fmt: skip
    np.testing.assert_array_equal(cut.expected_rate, fit.expected_rate[:, :44])
    np.testing.assert_array_equal(cut.estimate_cv2, fit.estimate_cv2[:, :44])
