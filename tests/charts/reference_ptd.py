"""A deliberately plain, loop-per-series re-statement of NHSRplotthedots 0.2.x for cross-checks.

Written from the R source's logic (one series, one rebase group at a time, Python lists), with the
engine's documented generalisations: run/trend lengths, the 2-in-3 variant, missing values dropped.
"""

from __future__ import annotations

import math

import numpy as np


def _sign(v: float) -> int:
    return (v > 0) - (v < 0)


def chart_group(y: list[float], s) -> dict:  # s: XmRSettings
    n = len(y)
    fix = s.fix_after_n_points or n
    base = y[:fix]
    mean = sum(base) / len(base)
    mrs = [abs(base[i] - base[i - 1]) for i in range(1, len(base))]
    amr = sum(mrs) / len(mrs) if mrs else math.nan
    if s.screen_outliers and mrs:
        kept = [m for m in mrs if m < s.screen_multiplier * amr]
        amr = sum(kept) / len(kept) if kept else amr
    m = s.limit_multiplier
    lpl, upl = mean - m * amr, mean + m * amr
    nl, nu = mean - 2 * m / 3 * amr, mean + 2 * m / 3 * amr
    outside = [v > upl or v < lpl for v in y]
    rel = [_sign(v - mean) for v in y]
    beyond = [v < nl or v > nu for v in y]
    close = [
        b if s.two_in_three_beyond_3sigma else (b and not o) for b, o in zip(beyond, outside, strict=True)
    ]

    L, K = s.run_length, s.trend_length
    run_end = [
        i >= L - 1 and rel[i] != 0 and all(rel[j] == rel[i] for j in range(i - L + 1, i + 1))
        for i in range(n)
    ]
    run_part = [any(run_end[j] for j in range(i, min(n, i + L))) for i in range(n)]
    trend_end = []
    for i in range(n):
        if i < K - 1:
            trend_end.append(False)
            continue
        d = [_sign(y[j] - y[j - 1]) for j in range(i - K + 2, i + 1)]
        trend_end.append(all(x == 1 for x in d) or all(x == -1 for x in d))
    trend_part = [any(trend_end[j] for j in range(i, min(n, i + K))) for i in range(n)]

    def window_ok(e: int) -> bool:
        if e < 2 or e >= n:
            return False
        idx = range(e - 2, e + 1)
        return sum(close[j] for j in idx) >= 2 and abs(sum(rel[j] for j in idx)) == 3

    two3 = [close[i] and any(window_ok(e) for e in (i, i + 1, i + 2)) for i in range(n)]

    rule, side = [], []
    for i in range(n):
        hl = 1 if rel[i] > 0 else -1
        if outside[i]:
            rule.append(1)
            side.append(hl)
        elif trend_part[i]:
            nxt = i + 1 < n and trend_part[i + 1]
            step = _sign(y[i + 1] - y[i]) if nxt else (_sign(y[i] - y[i - 1]) if i > 0 else 0)
            rule.append(2)
            side.append(1 if step == 1 else -1)
        elif two3[i]:
            rule.append(3)
            side.append(hl)
        elif run_part[i]:
            rule.append(4)
            side.append(hl)
        else:
            rule.append(0)
            side.append(0)
    return {"mean": mean, "lpl": lpl, "upl": upl, "rule": rule, "side": side}


def point_type(side: int, direction: int) -> int:
    if direction == 0:
        return 3 if side > 0 else (4 if side < 0 else 0)
    w = side * direction
    return 1 if w > 0 else (2 if w < 0 else 0)


def chart_series(y: np.ndarray, direction: int, groups: np.ndarray | None, s) -> dict:
    """One series: drop missing, split at rebase-group changes, chart each group."""
    t_count = len(y)
    out = {
        "mean": np.full(t_count, np.nan),
        "lpl": np.full(t_count, np.nan),
        "upl": np.full(t_count, np.nan),
        "rule": np.zeros(t_count, dtype=int),
        "point_type": np.full(t_count, -1),
    }
    idx = [t for t in range(t_count) if not math.isnan(y[t])]
    g = [0 if groups is None else int(groups[t]) for t in idx]
    start = 0
    for k in range(1, len(idx) + 1):
        if k == len(idx) or g[k] != g[k - 1]:
            cols = idx[start:k]
            res = chart_group([float(y[t]) for t in cols], s)
            for j, t in enumerate(cols):
                out["mean"][t], out["lpl"][t], out["upl"][t] = res["mean"], res["lpl"], res["upl"]
                out["rule"][t] = res["rule"][j]
                out["point_type"][t] = point_type(res["side"][j], direction)
            start = k
    return out
