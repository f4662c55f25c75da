"""The compiled cold-start passes (and the per-cell head look-ups feeding them) equal their plain
reference formulation bit for bit.

The reference is the running-window recurrence written out in Python, one series after another in
ascending rows (the order of the sums before the provider groups were taken group by group).
"""

from __future__ import annotations

import numpy as np

from engine.baselines import BaselineSettings, fit_baselines
from engine.baselines._sums import head_cells, spread
from engine.baselines.coldstart import _peer_window_sums, _provider_groups, _provider_window_sums
from engine.baselines.fit import _Heads, _heads


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


def test_head_cells_match_the_head_index_gathers():
    """``head_cells`` equals gathering the warm-up ends and segment starts through ``_Heads.head_of``
    (what fit_baselines did before), with and without rebases."""
    rng = np.random.default_rng(7)
    s_count, t_count = 30, 50
    for rebase in (None, rng.random((s_count, t_count)) < 0.05):
        rows, starts, head_ptr = _heads(rebase, (s_count, t_count))
        ends = starts + rng.integers(0, 30, starts.size)  # some beyond T: never ready
        heads = _Heads((s_count, t_count), rows, starts, ends, ends * 0.0, ends * 0.0, None)
        head_of = heads.head_of()
        not_ready = np.empty((s_count, t_count), dtype=np.bool_)
        seg_start = np.empty((s_count, t_count), dtype=np.int64)
        head_cells(head_ptr, starts, ends, not_ready, seg_start)
        np.testing.assert_array_equal(not_ready, ~(np.arange(t_count)[None, :] >= ends[head_of]))
        np.testing.assert_array_equal(seg_start, starts[head_of])
        vals = rng.random(starts.size)
        cv2 = np.empty((s_count, t_count))
        spread(head_ptr, starts, ends, vals, np.zeros((0, 0)), cv2)
        ref = np.where(np.arange(t_count)[None, :] >= ends[head_of], vals[head_of], np.nan)
        assert cv2.tobytes() == ref.tobytes()
