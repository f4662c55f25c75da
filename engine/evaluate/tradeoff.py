"""The trust's own trade-off: what a ward threshold costs on *this* trust, in weeks and false alerts.

Simulation on the trust's fitted baselines (the in-control model of ``wardwatch calibrate-alerts``):

1. Score the trust once with frozen baselines and estimate the latent dependence
   (:func:`engine.scoring.calibrate.estimate_latent_factors`), exactly as calibration does.
2. Per replicate: a copy of every ward is drawn in control from those baselines
   (:func:`engine.scoring.calibrate.draw_in_control`, with the latent multipliers). Into a random
   ``episode_share`` of the wards a synthetic *closed-culture episode* is injected: from its onset the
   rates of every indicator of ``breadth`` culture domains move in their closure direction (rises
   multiplied by ``size``, falls divided by it), reaching full effect log-linearly over
   ``ramp_weeks``, and lasting to the end of the data. Into as many other wards a *single-domain
   change* (the same size and ramp on one culture domain, for ``single_domain_weeks``) is injected:
   the look-alike a constellation rule should not escalate.
3. The replicate is scored as configured (:func:`engine.scoring.run.evidence_frames`; baselines
   re-fitted, provider adjustment, detectors, domain CUSUMs) and the ward levels are taken for each
   candidate threshold with the scoring rule itself (:func:`engine.combine.levels.ward_levels`).
   The statistics do not depend on the thresholds, so one scoring per replicate serves every
   candidate.
4. Counting uses ``engine.evaluate``'s rules unchanged (:func:`engine.evaluate.metrics.outcome`,
   :func:`engine.evaluate.grid.windows_mask`): alerts open and close with the scoring hysteresis;
   an episode is detected at the first concern alert opening on its ward at or after onset (delay
   in weeks, 0 = onset week); false alerts open in monitored ward-weeks outside every episode and
   change window (window = onset to end + ``grace_weeks``), per ward-year; a single-domain change
   escalated when a concern alert opened in its window.

Monte Carlo error: false-alert rates by batch means over replicates (alerts of one replicate are
dependent), detection shares by the binomial standard error over episodes, the median delay by a
bootstrap over episodes. Delays beyond the longest horizon count as not detected (``inf``).

Runtime: one scoring per replicate plus drawing its numerators (the frame's fixed columns are built
and sorted once); every threshold is evaluated on the same arrays at once. 100 replicates of the
40-ward x 156-week demo trust: 10.4 s on a shared 2-core host (0.1 s a replicate).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import polars as pl

from engine.combine.levels import CONCERN, WATCH, ward_levels
from engine.config import Config
from engine.contract.observations import MISSING, STATUS_LABELS
from engine.evaluate.grid import WEEKS_PER_YEAR, WardGrid, windows_mask
from engine.evaluate.metrics import Outcome, bootstrap_index, censor, outcome, percentile_ci, quantile
from engine.evaluate.settings import EvaluationSettings
from engine.panel import distinct_keys
from engine.scoring.calibrate import (
    draw_in_control,
    estimate_latent_factors,
    in_control_config,
    series_multiplier,
)
from engine.scoring.run import evidence_frames
from engine.scoring.wards import level_thresholds
from signals import CULTURE_DOMAINS

Swept = Literal["concern", "watch"]
#: configuration key each swept threshold sets.
SWEPT_KEYS: dict[str, str] = {
    "concern": "combination.concern_threshold",
    "watch": "combination.watch_threshold",
}


@dataclass(frozen=True)
class TradeoffSettings:
    """One trade-off simulation (units: weeks, nats, rate ratios)."""

    size: float = field(default=1.6, metadata={"doc": "rate ratio at full effect (falls: 1/size)"})
    ramp_weeks: int = field(default=12, metadata={"doc": "weeks from onset to full effect (0 = a step)"})
    breadth: int = field(default=3, metadata={"doc": "culture domains an episode moves (2 to 4)"})
    episode_share: float = field(
        default=0.1, metadata={"doc": "share of wards with an episode per replicate"}
    )
    single_domain_weeks: int = field(default=26, metadata={"doc": "duration of a single-domain change"})
    replicates: int = field(default=20, metadata={"doc": "replicates of the whole trust"})
    seed: int = field(default=20261122, metadata={"doc": "simulation seed"})
    swept: Swept = field(default="concern", metadata={"doc": "threshold swept: concern or watch (domain)"})
    thresholds: tuple[float, ...] = field(default=(3.0, 3.5, 4.0, 4.5, 5.0, 6.0, 7.0, 8.0))
    horizons: tuple[int, ...] = field(default=(8, 16, 26), metadata={"doc": "detection horizons (weeks)"})
    min_history_weeks: int = field(default=26, metadata={"doc": "monitored weeks before an onset"})
    bootstrap_replicates: int = field(default=500, metadata={"doc": "bootstrap replicates (median CI)"})

    def __post_init__(self) -> None:
        if not 1.0 < self.size <= 10.0:
            raise ValueError("size must be a rate ratio above 1 (at most 10)")
        if not 0 <= self.ramp_weeks <= 104:
            raise ValueError("ramp_weeks must be 0 to 104")
        if not 2 <= self.breadth <= len(CULTURE_DOMAINS):
            raise ValueError(f"breadth must be 2 to {len(CULTURE_DOMAINS)} culture domains")
        if not 0 < self.episode_share <= 0.5:
            raise ValueError("episode_share must be above 0 and at most 0.5")
        if not 1 <= self.replicates <= 2000:
            raise ValueError("replicates must be 1 to 2000")
        if not self.thresholds or any(not (0 < h <= 100) for h in self.thresholds):
            raise ValueError("give at least one threshold, each above 0 and at most 100 nats")
        if not self.horizons or min(self.horizons) < 1:
            raise ValueError("horizons must be at least 1 week")

    @property
    def key(self) -> str:
        """Configuration key of the swept threshold."""
        return SWEPT_KEYS[self.swept]


@dataclass(frozen=True)
class TradeoffResult:
    """Figures per candidate threshold (``table``) and what they were simulated from.

    ``table`` columns: ``threshold`` (nats), ``false_concern_per_ward_year`` and ``_se``,
    ``false_watch_per_ward_year`` and ``_se``, ``detected_<h>w`` and ``_se`` for each horizon (share
    of episodes with a concern alert within ``h`` weeks of onset), ``delay_median`` (weeks; ``inf``
    when half or more are not detected within the longest horizon) with ``delay_median_lo``/``_hi``
    (95% bootstrap), ``single_domain_escalated`` and ``_se``, ``episodes``, ``single_domain_changes``.
    """

    table: pl.DataFrame
    settings: TradeoffSettings
    ward_years: float
    episodes: int
    single_domain_changes: int
    wards: int
    weeks: int
    seconds: float = 0.0

    def row_at(self, threshold: float) -> dict:
        """The table row of a candidate threshold (nearest)."""
        i = int(np.argmin(np.abs(self.table["threshold"].to_numpy() - threshold)))
        return self.table.row(i, named=True)


def _ramp_factor(periods: np.ndarray, onset: np.datetime64, ramp_weeks: int, end: np.datetime64 | None):
    """``(T,)`` share of the full log-effect at each period (0 before onset, 1 after the ramp)."""
    weeks = (periods.astype("datetime64[D]") - onset).astype(np.int64) / 7.0
    frac = np.clip((weeks + 1.0) / max(ramp_weeks, 1), 0.0, 1.0) if ramp_weeks > 0 else (weeks >= 0) * 1.0
    frac = np.where(weeks >= 0, frac, 0.0)
    if end is not None:
        frac = np.where(periods.astype("datetime64[D]") <= end, frac, 0.0)
    return frac


@dataclass(frozen=True)
class _Injection:
    ward: int  # index into the ward grid
    domains: tuple[str, ...]
    onset_t: int  # grid week
    end_t: int | None  # last grid week of the change (None: to the end of the data)


def _plan(
    rng: np.random.Generator,
    first: np.ndarray,
    t_count: int,
    s: TradeoffSettings,
    warmup: int,
    domains_of: list,
) -> tuple[list[_Injection], list[_Injection]]:
    """Episodes and single-domain changes of one replicate, on distinct wards with enough history."""
    earliest = first + warmup + s.min_history_weeks
    latest = t_count - max(s.horizons)
    ok = np.nonzero((earliest <= latest) & np.array([len(d) >= s.breadth for d in domains_of]))[0]
    if ok.size == 0:
        raise ValueError(
            f"no ward has {warmup + s.min_history_weeks} weeks of data before an onset and "
            f"{max(s.horizons)} weeks after it, with {s.breadth} culture domains: the trust's data are too short"
        )
    n = max(1, round(s.episode_share * len(first)))
    n = min(n, max(1, ok.size // 2))
    chosen = rng.permutation(ok)[: 2 * n]
    episodes, singles = [], []
    for j, w in enumerate(chosen):
        t0 = int(rng.integers(earliest[w], latest + 1))
        avail = domains_of[w]
        if j < n:
            doms = tuple(sorted(rng.choice(avail, size=s.breadth, replace=False)))
            episodes.append(_Injection(int(w), doms, t0, None))
        else:
            dom = (str(avail[int(rng.integers(len(avail)))]),)
            singles.append(_Injection(int(w), dom, t0, min(t_count - 1, t0 + s.single_domain_weeks - 1)))
    return episodes, singles


@dataclass(frozen=True)
class _FrameTemplate:
    """The replicate frame's fixed columns (built and sorted once); only numerators change."""

    frame: pl.DataFrame  # ward_id, period, indicator, denominator, status, sorted
    cells: dict[str, tuple[np.ndarray, np.ndarray]]  # cadence -> (series index, period index)
    order: np.ndarray  # row of the sorted frame -> row of the concatenated cells


def _template(parts, catalogue) -> _FrameTemplate:
    """Canonical observation frame of the trust's cells (as ``replicate_frame`` writes them)."""
    frames, cells = [], {}
    for cadence, sc in parts.items():
        panel = sc.panel
        s_idx, t_idx = np.nonzero(panel.status != MISSING)
        cells[cadence] = (s_idx, t_idx)
        keys, of_key = distinct_keys(panel.indicator)
        no_exposure = np.array([not catalogue[k].exposure for k in keys], dtype=bool)[of_key]
        frames.append(
            pl.DataFrame(
                {
                    "ward_id": panel.ward_id[s_idx].astype(str),
                    "period": panel.periods[t_idx],
                    "indicator": panel.indicator[s_idx].astype(str),
                    "denominator": np.where(no_exposure[s_idx], np.nan, panel.n[s_idx, t_idx]),
                    "status": np.array(STATUS_LABELS)[panel.status[s_idx, t_idx]],
                }
            ).with_columns(pl.col("period").cast(pl.Date), pl.col("denominator").fill_nan(None))
        )
    frame = pl.concat(frames).with_row_index("_row").sort("ward_id", "indicator", "period")
    return _FrameTemplate(frame.drop("_row"), cells, frame["_row"].to_numpy())


def _injected_frame(parts, rng, factors, injections, grid_periods, ward_ids, s, template):
    """A canonical observation frame of one replicate: in control, plus the injected changes."""
    values = []
    for cadence, sc in parts.items():
        panel = sc.panel
        f = factors.get(cadence, {})
        mult = series_multiplier(sc, f, rng) if f else np.ones(panel.shape)
        w_of = np.searchsorted(ward_ids, panel.ward_id)
        sign = np.where(sc.closure == "down", -1.0, 1.0)
        for inj in injections:
            rows = np.nonzero((w_of == inj.ward) & np.isin(sc.domain, inj.domains))[0]
            if rows.size == 0:
                continue
            end = None if inj.end_t is None else grid_periods[inj.end_t] + np.timedelta64(6, "D")
            frac = _ramp_factor(panel.periods, grid_periods[inj.onset_t], s.ramp_weeks, end)
            mult[rows] *= np.exp(sign[rows, None] * np.log(s.size) * frac[None, :])
        y = draw_in_control(sc, rng, mult)
        s_idx, t_idx = template.cells[cadence]
        values.append(y[s_idx, t_idx])
    numerator = np.concatenate(values)[template.order]
    return template.frame.with_columns(pl.Series("numerator", numerator).fill_nan(None)).select(
        "ward_id", "period", "indicator", "numerator", "denominator", "status"
    )


def _truth(
    injections: list[_Injection], role: str, ward_ids: np.ndarray, periods: np.ndarray
) -> pl.DataFrame:
    """Truth rows (``engine.evaluate.truth`` columns used by the window rules) of the injections."""

    def day(t: int | None) -> dt.date | None:
        return None if t is None else periods[t].astype("datetime64[D]").astype(dt.date)

    return pl.DataFrame(
        {
            "ward_id": [str(ward_ids[i.ward]) for i in injections],
            "onset": [day(i.onset_t) for i in injections],
            "full_effect": [day(i.onset_t) for i in injections],
            "end": [day(i.end_t) for i in injections],
            "role": [role] * len(injections),
        },
        schema={
            "ward_id": pl.String,
            "onset": pl.Date,
            "full_effect": pl.Date,
            "end": pl.Date,
            "role": pl.String,
        },
    )


def _levels(ev, comb, s: TradeoffSettings) -> np.ndarray:
    """``(H, W, T)`` level codes for each candidate threshold, by the scoring rule."""
    out = np.empty((len(s.thresholds), *ev.level.shape), dtype=np.int8)
    before = np.arange(ev.level.shape[1])[None, :] < ev.first_period[:, None]
    base = level_thresholds(comb)  # the scoring rule's thresholds (an unset one never fires)
    # as scoring: single-indicator alarms raise watch only when so configured (off by default)
    raises_watch = ev.single_alarm if comb.watch_on_indicator_alerts else np.zeros_like(ev.single_alarm)
    for i, h in enumerate(s.thresholds):
        if s.swept == "concern":
            thresholds = replace(base, concern=h, urgent=max(base.urgent, h))
        else:  # watch: two or more culture domains at or above h
            thresholds = replace(base, watch=h)
        level, _ = ward_levels(ev.domain_stat, raises_watch, thresholds, total=ev.culture_total)
        level[before] = 0
        out[i] = level
    return out


def simulate_tradeoff(
    observations: pl.DataFrame,
    wards: pl.DataFrame,
    events: pl.DataFrame,
    cadence: dict[str, str],
    config: Config,
    settings: TradeoffSettings,
    progress: Callable[[int, int], None] | None = None,
) -> TradeoffResult:
    """Inject episodes into replicates of the trust and count, per candidate threshold (module docstring)."""
    import time

    t_start = time.perf_counter()
    s = settings
    cfg = config
    comb = cfg.combination
    rng = np.random.default_rng(s.seed)
    catalogue = cfg.build_catalogue()
    # the in-control model of calibrate-alerts (frozen baselines, each ward's own level: no cold start)
    parts, ev0, _, _ = evidence_frames(observations, wards, events, cadence, in_control_config(cfg))
    if ev0.cadence != "weekly":
        raise ValueError("the trade-off needs weekly indicators (this trust has monthly data only)")
    factors = {cad: estimate_latent_factors(sc) for cad, sc in parts.items()}
    ward_ids, periods = ev0.ward_id, ev0.periods
    w_count, t_count = ev0.level.shape
    domains_of = _culture_domains_of_wards(parts, ward_ids)
    template = _template(parts, catalogue)
    ev_settings = EvaluationSettings(horizon_weeks=max(s.horizons), bootstrap_replicates=0)
    h_count = len(s.thresholds)
    delays: list[np.ndarray] = []  # (H, E_r) per replicate
    escalated: list[np.ndarray] = []  # (H, D_r)
    fa_concern = np.zeros((s.replicates, h_count))
    fa_watch = np.zeros((s.replicates, h_count))
    years = np.zeros(s.replicates)
    for r in range(s.replicates):
        episodes, singles = _plan(rng, ev0.first_period, t_count, s, cfg.baselines.warmup_periods, domains_of)
        sim = _injected_frame(parts, rng, factors, episodes + singles, periods, ward_ids, s, template)
        _, ev, _, _ = evidence_frames(sim, wards, events, cadence, cfg)
        levels = _levels(ev, comb, s)
        monitored = np.arange(t_count)[None, :] >= ev.first_period[:, None]
        grid = WardGrid(ward_ids, periods, monitored, levels[0])
        truth = pl.concat(
            [_truth(episodes, "episode", ward_ids, periods), _truth(singles, "decoy", ward_ids, periods)]
        )
        outside = monitored & ~windows_mask(grid, truth, ev_settings)
        concern, watch = _outcomes_by_threshold(
            levels, outside, episodes, singles, comb.close_after, ev_settings.grace_weeks
        )
        delays.append(concern.delay.reshape(h_count, -1))
        escalated.append(concern.decoy_escalated.reshape(h_count, -1))
        fa_concern[r] = concern.false_alerts.reshape(h_count, w_count).sum(axis=1)
        fa_watch[r] = watch.false_alerts.reshape(h_count, w_count).sum(axis=1)
        years[r] = outside.sum() / WEEKS_PER_YEAR
        if progress is not None:
            progress(r + 1, s.replicates)
    delay = np.concatenate(delays, axis=1)
    esc = np.concatenate(escalated, axis=1)
    table = _table(s, delay, esc, fa_concern, fa_watch, years)
    return TradeoffResult(
        table,
        s,
        float(years.sum()),
        delay.shape[1],
        esc.shape[1],
        w_count,
        t_count,
        time.perf_counter() - t_start,
    )


def _culture_domains_of_wards(parts: dict, ward_ids: np.ndarray) -> list[np.ndarray]:
    """Per ward of the grid, the sorted culture domains it has indicators in (any cadence)."""
    domains_of = []
    for ward in ward_ids:
        present: set[str] = set()
        for sc in parts.values():
            mine = sc.panel.ward_id == ward
            present |= set(sc.domain[mine].tolist()) & set(CULTURE_DOMAINS)
        domains_of.append(np.array(sorted(present)))
    return domains_of


def _decoy_end(decoy: _Injection) -> int:
    """Last grid week of a decoy's change (decoys are planned with an end, unlike episodes)."""
    if decoy.end_t is None:
        raise ValueError("a decoy needs an end week")
    return decoy.end_t


def _outcomes_by_threshold(
    levels: np.ndarray,
    outside: np.ndarray,
    episodes: list[_Injection],
    singles: list[_Injection],
    close_after: int,
    grace_weeks: int,
) -> tuple[Outcome, Outcome]:
    """``(concern, watch)`` outcomes of the ``(H, W, T)`` levels of every candidate threshold at once.

    Rows ``h * W + w`` of a stacked ``(H * W, T)`` condition; ``outside`` is the ``(W, T)`` mask of
    weeks outside every truth window; decoys (``singles``) count until ``grace_weeks`` after their end.
    """
    h_count, w_count, t_count = levels.shape
    offset = (np.arange(h_count) * w_count)[:, None]
    ep_w = (offset + np.array([i.ward for i in episodes])[None, :]).ravel()
    ep_t = np.tile([i.onset_t for i in episodes], h_count)
    sd_w = (offset + np.array([i.ward for i in singles])[None, :]).ravel()
    sd_t0 = np.tile([i.onset_t for i in singles], h_count)
    sd_t1 = np.tile([_decoy_end(i) + grace_weeks for i in singles], h_count)
    stacked_outside = np.tile(outside, (h_count, 1))
    concern = outcome(
        (levels >= CONCERN).reshape(h_count * w_count, t_count),
        stacked_outside,
        close_after,
        (ep_w, ep_t),
        (sd_w, sd_t0, np.minimum(sd_t1, t_count - 1)),
    )
    watch = outcome(
        (levels >= WATCH).reshape(h_count * w_count, t_count),
        stacked_outside,
        close_after,
        (ep_w, ep_t),
        (sd_w, sd_t0, sd_t1),
    )
    return concern, watch


def _batch_rate(counts: np.ndarray, years: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rate per ward-year and its batch-means standard error over replicates (rows of ``counts``)."""
    total = years.sum()
    rate = counts.sum(axis=0) / total
    r = len(years)
    if r < 2:
        return rate, np.sqrt(counts.sum(axis=0)) / total  # Poisson, with one replicate only
    resid = counts - rate[None, :] * years[:, None]
    return rate, np.sqrt((resid**2).sum(axis=0) * r / (r - 1)) / total


def _table(s, delay, esc, fa_concern, fa_watch, years) -> pl.DataFrame:
    longest = max(s.horizons)
    rate_c, se_c = _batch_rate(fa_concern, years)
    rate_w, se_w = _batch_rate(fa_watch, years)
    cols: dict[str, object] = {
        "threshold": np.asarray(s.thresholds, dtype=float),
        "false_concern_per_ward_year": rate_c,
        "false_concern_se": se_c,
        "false_watch_per_ward_year": rate_w,
        "false_watch_se": se_w,
    }
    n = delay.shape[1]
    for h in s.horizons:
        p = (delay < h).mean(axis=1) if n else np.full(len(s.thresholds), np.nan)
        cols[f"detected_{h}w"] = p
        cols[f"detected_{h}w_se"] = np.sqrt(p * (1 - p) / max(n, 1))
    censored = censor(delay, longest)
    cols["delay_median"] = quantile(censored, 0.5, axis=1) if n else np.full(len(s.thresholds), np.nan)
    rng = np.random.default_rng([s.seed, 7])
    idx = bootstrap_index(rng, n, s.bootstrap_replicates)
    lo, hi = [], []
    for row in censored:
        if n and s.bootstrap_replicates:
            a, b = percentile_ci(quantile(row[idx], 0.5, axis=1), 0.95)
        else:
            a = b = np.nan
        lo.append(a)
        hi.append(b)
    cols["delay_median_lo"], cols["delay_median_hi"] = np.array(lo), np.array(hi)
    m = esc.shape[1]
    q = esc.mean(axis=1) if m else np.full(len(s.thresholds), np.nan)
    cols["single_domain_escalated"] = q
    cols["single_domain_escalated_se"] = np.sqrt(q * (1 - q) / max(m, 1))
    cols["episodes"] = np.full(len(s.thresholds), n)
    cols["single_domain_changes"] = np.full(len(s.thresholds), m)
    return pl.DataFrame(cols).sort("threshold")
