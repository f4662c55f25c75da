"""Causal baselines: the expected rate of every series at every period from data before that period.

For each series (ward x indicator) and period ``t`` the baseline gives the in-control expected rate
(events per unit exposure for counts and measures, a probability for proportions) and the
overdispersion, using only data from periods ``< t``:

1. **Segments.** A series starts a segment at period 0 and at every ``rebase`` period (a
   ``rebase``/``reconfiguration`` event: new ward function, merger, new recording system). Each
   segment has its own baseline; nothing crosses a rebase.
2. **Warm-up.** The baseline of a segment starting at ``s0`` is estimated on the window ``[s0, e)``
   where ``e`` is the first period with ``e >= s0 + warmup_periods`` *and* at least ``min_observed``
   usable observations in ``[s0, e)`` (missing periods lengthen the warm-up rather than count as
   zero). The series is ``ready`` from ``e`` on; before that ``expected_rate`` is NaN.
3. **Shrinkage** (:mod:`engine.baselines.shrinkage`). The warm-up rate is shrunk toward the peer
   group (same ``group`` label) using the peers' data over the calendar window ``[e - W, e)`` (peers
   with a rebase inside that window are left out), so the prior is itself causal.
4. **Overdispersion** (:mod:`engine.baselines.dispersion`) by moments from the warm-up residuals,
   pooled over the peer group at ``e`` (default) or per series.
5. **Frozen or updated.** ``frozen`` (default) keeps the warm-up estimate for the whole segment.
   ``updating`` adds later periods with exponential weights after a guard lag: the rate at ``t`` uses
   periods up to ``t - 1 - guard_periods``, skipping periods marked in ``exclude``. Pass as
   ``exclude`` the periods in which a detector was in an alarm excursion (e.g.
   :func:`engine.detectors.excursion_mask` of a run on the frozen baseline): that mask is known at
   each period, so the updated baseline stays causal and never absorbs an ongoing alarm. The
   dispersion and the peer prior stay frozen at their warm-up values (so a drift shared by the
   whole peer group is only partly absorbed; set ``shrinkage=False`` to follow the ward alone).
6. **Seasonality** (optional, :mod:`engine.baselines.seasonal`): a per-group annual harmonic factor
   fitted on ``[0, seasonal_fit_periods)``; the series' own level is then estimated against the
   seasonally adjusted exposure.

Measures (hours) are treated as counts with a quasi-Poisson scale ``phi`` (``Var = phi * mu``).
A segment whose (shrunk) rate is zero gets ``zero_rate_events / exposure`` so that detectors and the
silence probability stay defined.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from engine.baselines import dispersion as disp_mod
from engine.baselines import shrinkage
from engine.baselines._sums import M, X, Y, window_sums
from engine.baselines._update import FAMILY_CODE, updating_rates
from engine.baselines.seasonal import seasonal_factors

Family = Literal["count", "proportion", "measure"]


@dataclass(frozen=True)
class BaselineSettings:
    """How baselines are estimated (units: periods of the panel's cadence)."""

    warmup_periods: int = field(
        default=26,
        metadata={"doc": "periods in the warm-up window of each segment (26 = half a year weekly)"},
    )
    min_observed: int = field(
        default=13, metadata={"doc": "usable observations needed in the warm-up before the baseline is ready"}
    )
    mode: Literal["frozen", "updating"] = field(
        default="frozen",
        metadata={"doc": "frozen: warm-up estimate for the whole segment; updating: EW update"},
    )
    update_weight: float = field(
        default=0.02,
        metadata={"doc": "updating mode: weight of each newly absorbed period (memory ~1/w periods)"},
    )
    guard_periods: int = field(
        default=8, metadata={"doc": "updating mode: the last guard periods before t are never absorbed"}
    )
    shrinkage: bool = field(default=True, metadata={"doc": "empirical-Bayes shrinkage toward the peer group"})
    min_group_size: int = field(
        default=3, metadata={"doc": "peers (with exposure) needed in a group before shrinking toward it"}
    )
    dispersion_pooling: Literal["group", "series"] = field(
        default="group", metadata={"doc": "overdispersion pooled over the peer group or estimated per series"}
    )
    seasonal_harmonics: int = field(
        default=0, metadata={"doc": "annual harmonic pairs in the seasonal GLM (0 = no seasonality)"}
    )
    periods_per_year: float = field(
        default=52.1775, metadata={"doc": "periods per year for the harmonics (52.1775 weekly, 12 monthly)"}
    )
    seasonal_fit_periods: int = field(
        default=104, metadata={"doc": "seasonal GLM training window [0, n) in periods; not ready before it"}
    )
    zero_rate_events: float = field(
        default=0.5,
        metadata={"doc": "events assumed when a warm-up rate is exactly 0 (rate = this / exposure)"},
    )


@dataclass(frozen=True)
class Baseline:
    """Causal baseline of ``S`` series over ``T`` periods (all arrays ``(S, T)``).

    Attributes
    ----------
    family : str
        ``count``, ``proportion`` or ``measure``.
    expected_rate : float64
        In-control rate per unit exposure (probability for proportions); NaN where not ready. The
        expected numerator at ``t`` is ``expected_rate * n``.
    dispersion : float64
        Overdispersion of the series' segment: NB ``alpha`` (count, ``Var = mu + alpha mu^2``),
        beta-binomial ``rho`` (proportion) or quasi-Poisson ``phi`` (measure); NaN where not ready.
    ready : bool
        Past the warm-up of the current segment.
    segment_start : int
        Index of the period the current segment (baseline) started.
    warmup_end : int
        First ready period of the current segment where ready, ``-1`` before (not yet known).
    group_rate : float64
        Peer-group rate used as the prior (NaN where no prior).
    shrinkage_weight : float64
        Share of the ward's own warm-up rate in ``expected_rate`` (1 = no shrinkage).
    seasonal_factor : float64
        Multiplicative seasonal factor included in ``expected_rate`` (1 without seasonality); NaN
        where not ready.
    """

    family: str
    expected_rate: np.ndarray
    dispersion: np.ndarray
    ready: np.ndarray
    segment_start: np.ndarray
    warmup_end: np.ndarray
    group_rate: np.ndarray
    shrinkage_weight: np.ndarray
    seasonal_factor: np.ndarray

    def expected(self, n: np.ndarray) -> np.ndarray:
        """``(S, T)`` expected numerator ``expected_rate * n``."""
        return self.expected_rate * n


def segment_starts(rebase: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    """``(S, T)`` index of the start of the segment containing each period (0 or the last rebase)."""
    t_count = shape[1]
    if rebase is None:
        return np.zeros(shape, dtype=np.int64)
    rb = np.asarray(rebase, dtype=bool)
    if rb.shape != shape:
        raise ValueError(f"rebase has shape {rb.shape}, expected {shape}")
    idx = np.where(rb, np.arange(t_count)[None, :], 0)
    return np.maximum.accumulate(idx, axis=1).astype(np.int64)


def _warmup_ends(
    ok: np.ndarray, rows: np.ndarray, starts: np.ndarray, settings: BaselineSettings
) -> np.ndarray:
    """First ready period of each segment (``T + 1`` when the warm-up never completes)."""
    s_count, t_count = ok.shape
    cum = np.zeros((s_count, t_count + 1), dtype=np.int64)
    np.cumsum(ok, axis=1, out=cum[:, 1:])
    stride = t_count + 2
    flat = (cum + (np.arange(s_count, dtype=np.int64) * stride)[:, None]).ravel()
    target = cum[rows, starts] + settings.min_observed + rows * stride
    pos = np.searchsorted(flat, target, side="left") - rows * (t_count + 1)
    pos = np.where(pos > t_count, t_count + 1, pos)
    end = np.maximum(pos, starts + settings.warmup_periods)
    if settings.seasonal_harmonics > 0:
        end = np.maximum(end, settings.seasonal_fit_periods)
    return np.minimum(end, t_count + 1)


def _group_codes(group: np.ndarray | None, s_count: int) -> np.ndarray:
    if group is None:
        return np.zeros(s_count, dtype=np.int64)
    g = np.asarray(group)
    if g.shape != (s_count,):
        raise ValueError(f"group has shape {g.shape}, expected ({s_count},)")
    return np.unique(g, return_inverse=True)[1].astype(np.int64)


def fit_baselines(
    y: np.ndarray,
    n: np.ndarray,
    family: Family,
    group: np.ndarray | None = None,
    rebase: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    settings: BaselineSettings | None = None,
) -> Baseline:
    """Estimate causal baselines for ``S`` series of one family.

    Parameters
    ----------
    y : (S, T) float
        Numerator (count, successes, or amount); NaN = not observed.
    n : (S, T) float
        Exposure (occupied bed days, trials, ...; 1.0 without exposure); NaN or <= 0 = unusable.
    family : {"count", "proportion", "measure"}
    group : (S,) labels, optional
        Peer group of each series (ward type x indicator); default one group (shrink toward all).
    rebase : (S, T) bool, optional
        True at periods where a new baseline starts.
    exclude : (S, T) bool, optional
        Periods never used as baseline data (e.g. detector alarm excursions); must be determined
        from data up to that period only.
    settings : BaselineSettings, optional

    Returns
    -------
    Baseline
    """
    st = settings or BaselineSettings()
    if family not in FAMILY_CODE:
        raise ValueError(f"unknown family {family!r}; expected count, proportion or measure")
    y = np.asarray(y, dtype=float)
    n = np.asarray(n, dtype=float)
    if y.ndim != 2 or n.shape != y.shape:
        raise ValueError("y and n must be (S, T) arrays of the same shape")
    s_count, t_count = y.shape
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(y) & np.isfinite(n) & (n > 0) & (y >= 0)
        if family == "proportion":
            ok &= y <= n
    if exclude is not None:
        ok &= ~np.asarray(exclude, dtype=bool)
    codes = _group_codes(group, s_count)
    seg = segment_starts(rebase, (s_count, t_count))
    season: np.ndarray | None = None  # None: no seasonality (a factor of exactly 1)
    if st.seasonal_harmonics > 0:
        if family == "proportion":
            raise ValueError("seasonality is supported for count and measure families only")
        season = seasonal_factors(
            y, n, ok, codes, st.seasonal_harmonics, st.periods_per_year, st.seasonal_fit_periods
        )
    x = np.where(ok, n if season is None else n * season, 0.0)
    yz = np.where(ok, y, 0.0)

    # segment heads: (row, start) of every segment
    head_mask = np.zeros((s_count, t_count), dtype=bool)
    if t_count:
        head_mask[:, 0] = True
    if rebase is not None:
        head_mask |= np.asarray(rebase, dtype=bool)
    rows_h, s0_h = np.nonzero(head_mask)
    rows_h = rows_h.astype(np.int64)
    s0_h = s0_h.astype(np.int64)
    k_count = rows_h.size
    # Heads are numbered in row-major order and every row starts with one, so the head of a cell is
    # the number of heads up to and including it, minus one.
    head_of = (np.cumsum(head_mask.ravel(), dtype=np.int64) - 1).reshape(s_count, t_count)

    e_h = _warmup_ends(ok, rows_h, s0_h, st) if k_count else np.zeros(0, dtype=np.int64)
    sums_h = window_sums(yz, x, ok, rows_h, s0_h, np.minimum(e_h, t_count))
    with np.errstate(invalid="ignore", divide="ignore"):
        own_rate = np.where(sums_h[:, X] > 0, sums_h[:, Y] / np.where(sums_h[:, X] > 0, sums_h[:, X], 1), 0.0)
    num_own, den_own = disp_mod.moment_terms(sums_h, own_rate, family)
    disp_h = disp_mod.finish(num_own, den_own, family)
    rbar_h = np.full(k_count, np.nan)
    tau2_h = np.full(k_count, np.nan)

    live = e_h <= t_count - 1  # the baseline is used at some period
    w_len = st.warmup_periods
    for e in np.unique(e_h[live]):
        peers = np.arange(s_count, dtype=np.int64)
        lo = max(int(e) - w_len, 0)
        clean = seg[:, int(e) - 1] <= lo  # no rebase inside the peer window
        peers = peers[clean]
        p_sums = window_sums(
            yz, x, ok, peers, np.full(peers.size, lo, dtype=np.int64), np.full(peers.size, e, dtype=np.int64)
        )
        has = (p_sums[:, M] > 0) & (p_sums[:, X] > 0)
        peers, p_sums = peers[has], p_sums[has]
        p_codes = codes[peers]
        n_groups = int(codes.max()) + 1 if s_count else 0
        p_rate = p_sums[:, Y] / p_sums[:, X]
        num, den = disp_mod.moment_terms(p_sums, p_rate, family)
        pooled = disp_mod.finish(
            np.bincount(p_codes, weights=num, minlength=n_groups),
            np.bincount(p_codes, weights=den, minlength=n_groups),
            family,
        )
        rbar, tau2, n_peers = shrinkage.group_prior(p_codes, p_sums, pooled[p_codes], family, n_groups)
        enough = n_peers >= st.min_group_size
        sel = np.nonzero(live & (e_h == e))[0]
        g_sel = codes[rows_h[sel]]
        if st.dispersion_pooling == "group":
            disp_h[sel] = np.where(n_peers[g_sel] > 0, pooled[g_sel], disp_h[sel])
        if st.shrinkage:
            rbar_h[sel] = np.where(enough[g_sel], rbar[g_sel], np.nan)
            tau2_h[sel] = np.where(enough[g_sel], tau2[g_sel], np.nan)

    rate_h, weight_h = shrinkage.shrink(own_rate, sums_h, rbar_h, tau2_h, disp_h, family)
    with np.errstate(invalid="ignore", divide="ignore"):
        floor = np.where(sums_h[:, X] > 0, st.zero_rate_events / sums_h[:, X], np.nan)
    rate_h = np.where(rate_h > 0, rate_h, floor)
    if family == "proportion":
        rate_h = np.where(rate_h < 1, rate_h, 1 - floor)

    end_full = e_h[head_of] if k_count else np.zeros((s_count, t_count), dtype=np.int64)
    ready = np.arange(t_count)[None, :] >= end_full
    if st.mode == "frozen":
        rate = rate_h[head_of]
    elif st.mode == "updating":
        rate = updating_rates(
            yz,
            x,
            ok,
            head_of,
            e_h,
            sums_h,
            rbar_h,
            tau2_h,
            disp_h,
            FAMILY_CODE[family],
            float(st.update_weight),
            int(st.guard_periods),
            float(st.zero_rate_events),
        )
    else:
        raise ValueError(f"unknown baseline mode {st.mode!r}")
    nan = np.float64(np.nan)
    return Baseline(
        family=family,
        expected_rate=np.where(ready, rate if season is None else rate * season, nan),
        dispersion=np.where(ready, disp_h[head_of], nan),
        ready=ready,
        segment_start=seg,
        warmup_end=np.where(ready, end_full, -1),
        group_rate=np.where(ready, rbar_h[head_of], nan),
        shrinkage_weight=np.where(ready, weight_h[head_of], nan),
        seasonal_factor=np.where(ready, 1.0 if season is None else season, nan),
    )
