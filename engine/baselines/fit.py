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
from functools import cached_property
from typing import Literal

import numpy as np

from engine.baselines import dispersion as disp_mod
from engine.baselines import shrinkage
from engine.baselines._peer_kernel import moment_sums, prior_sums
from engine.baselines._sums import (
    SUM_X,
    SUM_Y,
    head_cells,
    peer_sums,
    spread,
    usable,
    warmup_ends,
    window_sums,
)
from engine.baselines._update import FAMILY_CODE, updating_rates
from engine.baselines.coldstart import cold_start
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
    predictive: bool = field(
        default=True,
        metadata={
            "doc": "carry the uncertainty of the estimated rate into the predictive distribution "
            "(dispersion inflated by the estimate's squared coefficient of variation)"
        },
    )
    predictive_scope: Literal["all", "cold_start"] = field(
        default="all",
        metadata={
            "doc": "where the predictive uncertainty applies: all (own and peer baselines) or "
            "cold_start (peer-based periods only)"
        },
    )
    uncertainty_periods: float = field(
        default=4.0,
        metadata={
            "doc": "predictive: the estimate's error is shared by every period a detector accumulates, "
            "so its variance counts this many times (1 = as if independent each period)"
        },
    )
    persistence_periods: int = field(
        default=0,
        metadata={
            "doc": "dispersion also estimated on sums of this many periods and used when larger (slow "
            "in-control wandering; see engine/baselines/persistence.py); 0 or 1 = weekly only"
        },
    )
    cold_start: bool = field(
        default=True,
        metadata={
            "doc": "before a series' own warm-up ends, compare it with its peer group (same ward type) "
            "updated by its own data so far (not with seasonality)"
        },
    )
    cold_start_provider: bool = field(
        default=True,
        metadata={
            "doc": "cold start: the peer rate is the provider's own wards of the type shrunk toward the "
            "trust's (between-provider variance by moments; no effect when providers do not differ)"
        },
    )
    cold_start_national: bool = field(
        default=True,
        metadata={
            "doc": "cold start: the trust's peer rate is shrunk toward the catalogue's published national "
            "rate where there is one (and used, widened, for a ward type with fewer than "
            "min_group_size wards)"
        },
    )


@dataclass(frozen=True)
class _Heads:
    """Per-segment-head results from which the per-cell arrays of :class:`Baseline` are spread."""

    shape: tuple[int, int]
    rows: np.ndarray  # (K,) row of each head, row-major order
    starts: np.ndarray  # (K,) first period of the segment
    ends: np.ndarray  # (K,) warm-up end (first ready period; T + 1 if never)
    group_rate: np.ndarray  # (K,) prior group rate (NaN = no prior)
    weight: np.ndarray  # (K,) shrinkage weight
    season: np.ndarray | None  # (S, T) seasonal factor, None without seasonality

    def head_of(self) -> np.ndarray:
        """``(S, T)`` int64 index of the head whose segment contains each cell."""
        mask = np.zeros(self.shape, dtype=bool)
        mask[self.rows, self.starts] = True
        # heads are numbered row-major and every row starts with one: the head of a cell is the
        # number of heads up to and including it, minus one
        return (np.cumsum(mask.ravel(), dtype=np.int64) - 1).reshape(self.shape)


@dataclass(frozen=True)
class Baseline:
    """Causal baseline of ``S`` series over ``T`` periods (all arrays ``(S, T)``).

    ``expected_rate`` and ``dispersion`` are computed by :func:`fit_baselines`; the other arrays
    (used for inspection, not by the scoring) are built on first access from the per-segment results.

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
    estimate_cv2 : float64
        Squared coefficient of variation of the estimated rate (posterior variance / rate^2); the
        predictive dispersion is :func:`engine.baselines.coldstart.predictive_dispersion` of it.
    peer_based : bool
        ``expected_rate`` comes from the peer group (cold start: the series' own warm-up is not
        complete); ``ready`` stays False there.
    """

    family: str
    expected_rate: np.ndarray
    dispersion: np.ndarray
    _heads: _Heads = field(repr=False)
    estimate_cv2: np.ndarray | None = None
    peer_based: np.ndarray | None = None

    @cached_property
    def _head_of(self) -> np.ndarray:
        return self._heads.head_of()

    @cached_property
    def _end(self) -> np.ndarray:
        return self._heads.ends[self._head_of]

    @cached_property
    def ready(self) -> np.ndarray:
        return np.arange(self._heads.shape[1])[None, :] >= self._end

    @cached_property
    def segment_start(self) -> np.ndarray:
        return self._heads.starts[self._head_of]

    @cached_property
    def warmup_end(self) -> np.ndarray:
        return np.where(self.ready, self._end, -1)

    @cached_property
    def group_rate(self) -> np.ndarray:
        return np.where(self.ready, self._heads.group_rate[self._head_of], np.float64(np.nan))

    @cached_property
    def shrinkage_weight(self) -> np.ndarray:
        return np.where(self.ready, self._heads.weight[self._head_of], np.float64(np.nan))

    @cached_property
    def seasonal_factor(self) -> np.ndarray:
        season = self._heads.season
        return np.where(self.ready, 1.0 if season is None else season, np.float64(np.nan))

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


def _group_codes(group: np.ndarray | None, s_count: int) -> np.ndarray:
    if group is None:
        return np.zeros(s_count, dtype=np.int64)
    g = np.asarray(group)
    if g.shape != (s_count,):
        raise ValueError(f"group has shape {g.shape}, expected ({s_count},)")
    return np.unique(g, return_inverse=True)[1].astype(np.int64)


def _heads(rebase: np.ndarray | None, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segment heads ``(rows, starts)`` in row-major order and ``head_ptr`` (``(S + 1,)``)."""
    s_count, t_count = shape
    if rebase is None:
        rows = np.arange(s_count if t_count else 0, dtype=np.int64)
        starts = np.zeros(rows.size, dtype=np.int64)
    else:
        rb = np.asarray(rebase, dtype=bool)
        if rb.shape != shape:
            raise ValueError(f"rebase has shape {rb.shape}, expected {shape}")
        mask = rb.copy()
        if t_count:
            mask[:, 0] = True
        r, s = np.nonzero(mask)
        rows, starts = r.astype(np.int64), s.astype(np.int64)
    head_ptr = np.zeros(s_count + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=s_count), out=head_ptr[1:])
    return rows, starts, head_ptr


def _peer_priors(
    y: np.ndarray,
    n: np.ndarray,
    season: np.ndarray,
    ok: np.ndarray,
    codes: np.ndarray,
    rows_h: np.ndarray,
    s0_h: np.ndarray,
    head_ptr: np.ndarray,
    live: np.ndarray,
    e_h: np.ndarray,
    family: str,
    st: BaselineSettings,
) -> tuple[np.ndarray, ...]:
    """Pooled dispersion and the group prior of the live heads, all strata in one pass.

    A *stratum* is a (group, warm-up end ``e``) pair of some live head: its peers are the group's
    series without a rebase in ``(lo, e - 1]``, ``lo = max(e - warmup, 0)``, summed over ``[lo, e)``
    (:func:`engine.baselines._sums.peer_sums`). Only the strata some head uses are computed, and the
    peers enter every per-stratum sum in ascending row order, as in a loop over each distinct ``e``
    with all series as peers, so the per-group sums are the same to the bit.

    Returns ``(heads, n_peers, pooled, rbar, tau2)`` indexed by live head (``heads``: their indices).
    """
    t_count = ok.shape[1]
    heads = np.flatnonzero(live)
    # strata sorted by group, then warm-up end
    key = codes[rows_h[heads]] * (t_count + 2) + e_h[heads]
    uniq, stratum_of_head = np.unique(key, return_inverse=True)
    st_g, st_e = uniq // (t_count + 2), uniq % (t_count + 2)
    n_strata = uniq.size
    n_groups = int(codes.max()) + 1
    g_first = np.searchsorted(st_g, np.arange(n_groups + 1))
    stratum, p_sums = peer_sums(y, n, season, ok, codes, g_first, st_e, head_ptr, s0_h, st.warmup_periods)
    # = moment_terms at each window's own rate, then shrinkage.group_prior (same sums, compiled)
    fam = FAMILY_CODE[family]
    num, den, total_w, total_y, n_peers = moment_sums(stratum, p_sums, fam, n_strata)
    pooled = disp_mod.finish(num, den, family)
    rbar = shrinkage.group_rate(total_w, total_y)
    tau2 = shrinkage.between_variance(*prior_sums(stratum, p_sums, rbar, pooled, total_w, fam, n_strata))
    j = stratum_of_head
    return heads, n_peers[j], pooled[j], rbar[j], tau2[j]


@dataclass(frozen=True)
class _Inputs:
    """Validated ``(S, T)`` inputs of :func:`fit_baselines` and the segment heads."""

    y: np.ndarray
    n: np.ndarray
    ok: np.ndarray  # usable cells
    codes: np.ndarray  # (S,) peer group code
    rows_h: np.ndarray
    s0_h: np.ndarray
    head_ptr: np.ndarray
    season: np.ndarray | None  # (S, T) seasonal factor, None without seasonality

    @property
    def season_cells(self) -> np.ndarray:
        """The seasonal factor, or ``(0, 0)`` for none (the compiled passes' convention)."""
        return _NO_CELLS if self.season is None else self.season


_NO_CELLS = np.zeros((0, 0))


def _inputs(
    y: np.ndarray,
    n: np.ndarray,
    family: str,
    group: np.ndarray | None,
    rebase: np.ndarray | None,
    exclude: np.ndarray | None,
    st: BaselineSettings,
) -> _Inputs:
    """Check the arguments of :func:`fit_baselines`; usable cells, group codes, heads, seasonality."""
    if family not in FAMILY_CODE:
        raise ValueError(f"unknown family {family!r}; expected count, proportion or measure")
    if st.mode not in ("frozen", "updating"):
        raise ValueError(f"unknown baseline mode {st.mode!r}")
    y = np.asarray(y, dtype=float)
    n = np.asarray(n, dtype=float)
    if y.ndim != 2 or n.shape != y.shape:
        raise ValueError("y and n must be (S, T) arrays of the same shape")
    s_count, t_count = y.shape
    excl = (
        _NO_CELLS.astype(bool)
        if exclude is None
        else np.broadcast_to(np.asarray(exclude, dtype=bool), y.shape)
    )
    ok = usable(y, n, excl, family == "proportion")
    codes = _group_codes(group, s_count)
    rows_h, s0_h, head_ptr = _heads(rebase, (s_count, t_count))
    season: np.ndarray | None = None  # None: no seasonality (a factor of exactly 1)
    if st.seasonal_harmonics > 0:
        if family == "proportion":
            raise ValueError("seasonality is supported for count and measure families only")
        season = seasonal_factors(
            y, n, ok, codes, st.seasonal_harmonics, st.periods_per_year, st.seasonal_fit_periods
        )
    return _Inputs(y, n, ok, codes, rows_h, s0_h, head_ptr, season)


@dataclass(frozen=True)
class _HeadFit:
    """Per-head warm-up estimates: ``(K,)`` arrays indexed like the heads."""

    ends: np.ndarray  # warm-up end (first ready period; T + 1 if never)
    sums: np.ndarray  # (K, 8) warm-up window sums
    rate: np.ndarray  # shrunk rate, floored away from 0 (and 1)
    dispersion: np.ndarray
    group_rate: np.ndarray  # prior group rate (NaN = no prior)
    tau2: np.ndarray  # prior between-ward variance (NaN = no prior)
    weight: np.ndarray  # shrinkage weight
    cv2: np.ndarray  # squared coefficient of variation of the rate estimate


def _fit_heads(inp: _Inputs, family: str, st: BaselineSettings) -> _HeadFit:
    """Warm-up end, own rate, dispersion and peer prior of every head, then the shrunk rate."""
    t_count = inp.ok.shape[1]
    k_count = inp.rows_h.size
    floor = st.seasonal_fit_periods if st.seasonal_harmonics > 0 else np.iinfo(np.int64).min
    e_h = warmup_ends(inp.ok, inp.head_ptr, inp.s0_h, st.min_observed, st.warmup_periods, floor)
    sums_h = window_sums(
        inp.y, inp.n, inp.season_cells, inp.ok, inp.rows_h, inp.s0_h, np.minimum(e_h, t_count)
    )
    sx = sums_h[:, SUM_X]
    with np.errstate(invalid="ignore", divide="ignore"):
        own_rate = np.where(sx > 0, sums_h[:, SUM_Y] / np.where(sx > 0, sx, 1), 0.0)
    num_own, den_own = disp_mod.moment_terms(sums_h, own_rate, family)
    disp_h = disp_mod.finish(num_own, den_own, family)
    rbar_h = np.full(k_count, np.nan)
    tau2_h = np.full(k_count, np.nan)

    live = e_h <= t_count - 1  # the baseline is used at some period
    pool = st.dispersion_pooling == "group"
    if live.any() and (pool or st.shrinkage):
        sel, n_peers, pooled, rbar, tau2 = _peer_priors(
            inp.y, inp.n, inp.season_cells, inp.ok, inp.codes, inp.rows_h, inp.s0_h, inp.head_ptr,
            live, e_h, family, st,
        )  # fmt: skip
        if pool:
            disp_h[sel] = np.where(n_peers > 0, pooled, disp_h[sel])
        if st.shrinkage:
            enough = n_peers >= st.min_group_size
            rbar_h[sel] = np.where(enough, rbar, np.nan)
            tau2_h[sel] = np.where(enough, tau2, np.nan)

    rate_h, weight_h = shrinkage.shrink(own_rate, sums_h, rbar_h, tau2_h, disp_h, family)
    with np.errstate(invalid="ignore", divide="ignore"):
        floor_rate = np.where(sx > 0, st.zero_rate_events / sx, np.nan)
    rate_h = np.where(rate_h > 0, rate_h, floor_rate)
    if family == "proportion":
        rate_h = np.where(rate_h < 1, rate_h, 1 - floor_rate)
    cv2_h = _estimate_cv2(sums_h, rate_h, disp_h, tau2_h, family)
    return _HeadFit(e_h, sums_h, rate_h, disp_h, rbar_h, tau2_h, weight_h, cv2_h)


def _estimate_cv2(
    sums_h: np.ndarray, rate_h: np.ndarray, disp_h: np.ndarray, tau2_h: np.ndarray, family: str
) -> np.ndarray:
    """Uncertainty of each head's estimate: posterior variance of the shrunk rate (own sampling
    variance combined with the peer prior's between-ward variance), relative to the rate squared."""
    with np.errstate(invalid="ignore", divide="ignore"):
        v_own = shrinkage.sampling_variance(sums_h, rate_h, disp_h, family)
        prec = 1.0 / v_own + np.where(np.isfinite(tau2_h) & (tau2_h > 0), 1.0 / tau2_h, 0.0)
        prec = np.where(np.isfinite(tau2_h) & (tau2_h <= 0), np.inf, prec)
        cv2_h = np.where((rate_h > 0) & (prec > 0), (1.0 / prec) / (rate_h * rate_h), 0.0)
    return np.nan_to_num(cv2_h, nan=0.0, posinf=0.0)


def _expected_rates(
    inp: _Inputs, fit: _HeadFit, heads: _Heads, family: str, st: BaselineSettings
) -> np.ndarray:
    """``(S, T)`` expected rate: the head's rate spread over its segment (frozen), or updated."""
    s_count, t_count = inp.ok.shape
    if st.mode == "frozen":
        expected_rate = np.empty((s_count, t_count))
        spread(inp.head_ptr, inp.s0_h, fit.ends, fit.rate, inp.season_cells, expected_rate)
        return expected_rate
    head_of = heads.head_of()
    season = inp.season
    x = np.where(inp.ok, inp.n if season is None else inp.n * season, 0.0)
    yz = np.where(inp.ok, inp.y, 0.0)
    rate = updating_rates(
        yz, x, inp.ok, head_of, fit.ends, fit.sums, fit.group_rate, fit.tau2, fit.dispersion,
        FAMILY_CODE[family], float(st.update_weight), int(st.guard_periods), float(st.zero_rate_events),
    )  # fmt: skip
    del x, yz
    ready = np.arange(t_count)[None, :] >= fit.ends[head_of]
    return np.where(ready, rate if season is None else rate * season, np.float64(np.nan))


def fit_baselines(
    y: np.ndarray,
    n: np.ndarray,
    family: Family,
    group: np.ndarray | None = None,
    rebase: np.ndarray | None = None,
    exclude: np.ndarray | None = None,
    settings: BaselineSettings | None = None,
    provider: np.ndarray | None = None,
    national_rate: np.ndarray | None = None,
    national_cv2: np.ndarray | None = None,
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
    provider : (S,) labels, optional
        Provider of each series: the cold-start prior's provider level (wards of the same type and
        provider).
    national_rate, national_cv2 : (S,) float, optional
        Published national rate per unit exposure (NaN = none) and the squared CV of services' rates
        around it: the cold-start prior's last level (see :mod:`engine.baselines.coldstart`).

    Returns
    -------
    Baseline
    """
    st = settings or BaselineSettings()
    inp = _inputs(y, n, family, group, rebase, exclude, st)
    s_count, t_count = inp.ok.shape
    fit = _fit_heads(inp, family, st)
    heads = _Heads((s_count, t_count), inp.rows_h, inp.s0_h, fit.ends, fit.group_rate, fit.weight, inp.season)
    dispersion = np.empty((s_count, t_count))
    spread(inp.head_ptr, inp.s0_h, fit.ends, fit.dispersion, _NO_CELLS, dispersion)
    expected_rate = _expected_rates(inp, fit, heads, family, st)
    # the head's cv2 where ready, NaN before (= np.where(ready, fit.cv2[head_of], nan))
    cv2 = np.empty((s_count, t_count))
    spread(inp.head_ptr, inp.s0_h, fit.ends, fit.cv2, _NO_CELLS, cv2)
    peer = np.zeros((s_count, t_count), dtype=bool)
    if st.cold_start and inp.season is None and s_count and t_count:
        not_ready = np.empty((s_count, t_count), dtype=np.bool_)
        seg_start = np.empty((s_count, t_count), dtype=np.int64)
        head_cells(inp.head_ptr, inp.s0_h, fit.ends, not_ready, seg_start)
        if not_ready.any():
            # written in place: each is a fresh C-ordered float64 array of this call
            expected_rate = np.ascontiguousarray(expected_rate, dtype=np.float64)
            peer = cold_start(
                inp.y, inp.n, inp.ok, inp.codes, seg_start, family, st.warmup_periods,
                st.guard_periods, st.min_group_size, not_ready, expected_rate, dispersion, cv2,
                provider=provider if st.cold_start_provider else None,
                default_rate=national_rate if st.cold_start_national else None,
                default_cv2=national_cv2,
            )  # fmt: skip
    return Baseline(
        family=family,
        expected_rate=expected_rate,
        dispersion=dispersion,
        _heads=heads,
        estimate_cv2=cv2,
        peer_based=peer,
    )
