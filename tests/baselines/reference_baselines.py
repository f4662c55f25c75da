"""Plain reference of fit_baselines: full (S, T) arrays, a Python loop over windows, a loop over e.

The original formulation (before the compiled passes and per-stratum peers): the per-cell results of
``engine.baselines.fit_baselines`` must equal these bit for bit. Small inputs only.
"""

from __future__ import annotations

import numpy as np

from engine.baselines import BaselineSettings, segment_starts, shrinkage
from engine.baselines import dispersion as disp_mod
from engine.baselines._sums import N_PERIODS, SUM_X, SUM_Y
from engine.baselines._update import FAMILY_CODE, updating_rates
from engine.baselines.seasonal import seasonal_factors


def window_sums(yz, x, ok, rows, starts, ends):  # type: ignore[no-untyped-def]
    out = np.zeros((len(rows), 8))
    for k, (r, a, b) in enumerate(zip(rows, starts, ends, strict=True)):
        for t in range(max(a, 0), min(b, yz.shape[1])):
            if ok[r, t]:
                yv, xv = float(yz[r, t]), float(x[r, t])
                out[k] += (1.0, yv, xv, yv * yv, xv * yv, xv * xv, xv * xv * xv, yv * yv / xv)
    return out


def warmup_ends(ok, rows, starts, st):  # type: ignore[no-untyped-def]
    s_count, t_count = ok.shape
    cum = np.zeros((s_count, t_count + 1), dtype=np.int64)
    np.cumsum(ok, axis=1, out=cum[:, 1:])
    stride = t_count + 2
    flat = (cum + (np.arange(s_count, dtype=np.int64) * stride)[:, None]).ravel()
    target = cum[rows, starts] + st.min_observed + rows * stride
    pos = np.searchsorted(flat, target, side="left") - rows * (t_count + 1)
    pos = np.where(pos > t_count, t_count + 1, pos)
    end = np.maximum(pos, starts + st.warmup_periods)
    if st.seasonal_harmonics > 0:
        end = np.maximum(end, st.seasonal_fit_periods)
    return np.minimum(end, t_count + 1)


def reference_fit(y, n, family, group=None, rebase=None, exclude=None, settings=None):  # type: ignore[no-untyped-def]
    """Dict of the eight per-cell arrays of :class:`engine.baselines.Baseline`."""
    st = settings or BaselineSettings()
    y, n = np.asarray(y, dtype=float), np.asarray(n, dtype=float)
    s_count, t_count = y.shape
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(y) & np.isfinite(n) & (n > 0) & (y >= 0)
        if family == "proportion":
            ok &= y <= n
    if exclude is not None:
        ok &= ~np.asarray(exclude, dtype=bool)
    codes = np.zeros(s_count, np.int64) if group is None else np.unique(group, return_inverse=True)[1]
    seg = segment_starts(rebase, (s_count, t_count))
    season = None
    if st.seasonal_harmonics > 0:
        season = seasonal_factors(
            y, n, ok, codes, st.seasonal_harmonics, st.periods_per_year, st.seasonal_fit_periods
        )
    x = np.where(ok, n if season is None else n * season, 0.0)
    yz = np.where(ok, y, 0.0)
    head_mask = np.zeros((s_count, t_count), dtype=bool)
    head_mask[:, 0] = True
    if rebase is not None:
        head_mask |= np.asarray(rebase, dtype=bool)
    rows_h, s0_h = (a.astype(np.int64) for a in np.nonzero(head_mask))
    head_of = (np.cumsum(head_mask.ravel(), dtype=np.int64) - 1).reshape(s_count, t_count)
    e_h = warmup_ends(ok, rows_h, s0_h, st)
    sums_h = window_sums(yz, x, ok, rows_h, s0_h, np.minimum(e_h, t_count))
    with np.errstate(invalid="ignore", divide="ignore"):
        own_rate = np.where(
            sums_h[:, SUM_X] > 0, sums_h[:, SUM_Y] / np.where(sums_h[:, SUM_X] > 0, sums_h[:, SUM_X], 1), 0.0
        )
    disp_h = disp_mod.finish(*disp_mod.moment_terms(sums_h, own_rate, family), family)
    rbar_h, tau2_h = np.full(len(rows_h), np.nan), np.full(len(rows_h), np.nan)
    live = e_h <= t_count - 1
    n_groups = int(codes.max()) + 1
    for e in np.unique(e_h[live]):
        lo = max(int(e) - st.warmup_periods, 0)
        peers = np.arange(s_count, dtype=np.int64)[seg[:, int(e) - 1] <= lo]
        p_sums = window_sums(yz, x, ok, peers, np.full(peers.size, lo), np.full(peers.size, e))
        has = (p_sums[:, N_PERIODS] > 0) & (p_sums[:, SUM_X] > 0)
        peers, p_sums = peers[has], p_sums[has]
        p_codes = codes[peers]
        num, den = disp_mod.moment_terms(p_sums, p_sums[:, SUM_Y] / p_sums[:, SUM_X], family)
        pooled = disp_mod.finish(
            np.bincount(p_codes, weights=num, minlength=n_groups),
            np.bincount(p_codes, weights=den, minlength=n_groups),
            family,
        )
        rbar, tau2, n_peers = shrinkage.group_prior(p_codes, p_sums, pooled[p_codes], family, n_groups)
        sel = np.nonzero(live & (e_h == e))[0]
        g_sel = codes[rows_h[sel]]
        if st.dispersion_pooling == "group":
            disp_h[sel] = np.where(n_peers[g_sel] > 0, pooled[g_sel], disp_h[sel])
        if st.shrinkage:
            enough = n_peers >= st.min_group_size
            rbar_h[sel] = np.where(enough[g_sel], rbar[g_sel], np.nan)
            tau2_h[sel] = np.where(enough[g_sel], tau2[g_sel], np.nan)
    rate_h, weight_h = shrinkage.shrink(own_rate, sums_h, rbar_h, tau2_h, disp_h, family)
    with np.errstate(invalid="ignore", divide="ignore"):
        floor = np.where(sums_h[:, SUM_X] > 0, st.zero_rate_events / sums_h[:, SUM_X], np.nan)
    rate_h = np.where(rate_h > 0, rate_h, floor)
    if family == "proportion":
        rate_h = np.where(rate_h < 1, rate_h, 1 - floor)
    end_full = e_h[head_of]
    ready = np.arange(t_count)[None, :] >= end_full
    if st.mode == "frozen":
        rate = rate_h[head_of]
    else:
        rate = updating_rates(
            yz, x, ok, head_of, e_h, sums_h, rbar_h, tau2_h, disp_h, FAMILY_CODE[family],
            float(st.update_weight), int(st.guard_periods), float(st.zero_rate_events),
        )  # fmt: skip
    nan = np.float64(np.nan)
    return {
        "expected_rate": np.where(ready, rate if season is None else rate * season, nan),
        "dispersion": np.where(ready, disp_h[head_of], nan),
        "ready": ready,
        "segment_start": seg,
        "warmup_end": np.where(ready, end_full, -1),
        "group_rate": np.where(ready, rbar_h[head_of], nan),
        "shrinkage_weight": np.where(ready, weight_h[head_of], nan),
        "seasonal_factor": np.where(ready, 1.0 if season is None else season, nan),
    }
