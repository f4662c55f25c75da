"""The scoring pipeline: validated data in, ward statuses, alerts and series out.

    load_dataset -> (as-of cut) -> panels per cadence -> score_panel (baselines, provider adjustment,
    detectors, evidence) -> ward_evidence (domain CUSUMs, levels) -> alerts -> tables

Each stage is a function in its own module; this one only wires them. Nothing at period t uses data
after t, so ``score(..., as_of=T)`` reproduces the rows up to T of a full run.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import polars as pl

from engine.coded import CodedObservations
from engine.combine.levels import CONCERN
from engine.config import Config
from engine.io import REBASE_KINDS, LoadResult
from engine.panel import Panel, SeriesRows, build_panel
from engine.scoring.alerts import (
    Context,
    alerts_frame,
    indicator_alerts,
    provider_alerts,
    provider_concern_alerts,
    ward_alerts,
)
from engine.scoring.indicators import SeriesScores, score_panel
from engine.scoring.known_rates import KnownRates
from engine.scoring.reporting import scores_reporting
from engine.scoring.tables import series_frame, ward_status_frame, write_series
from engine.scoring.wards import WardEvidence, ward_evidence

log = logging.getLogger(__name__)

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class ScoreResult:
    """Everything a scoring run produces.

    Attributes
    ----------
    parts:
        Per-cadence series scores (``weekly``, ``monthly``).
    wards:
        Ward-level evidence on the ward grid.
    ward_status, alerts:
        The ``ward_status.csv`` and ``alerts.csv`` tables (see docs/results-contract.md).
    as_of:
        Last period used (``None``: all data).
    """

    parts: dict[str, SeriesScores]
    wards: WardEvidence
    ward_status: pl.DataFrame
    alerts: pl.DataFrame
    as_of: dt.date | None

    @cached_property
    def reporting(self) -> pl.DataFrame:
        """The ``reporting.csv`` table: data-silence episodes and reporting resumptions (causal)."""
        return scores_reporting(self.parts)

    def series(self, config: Config | None = None, with_charts: bool = True) -> pl.DataFrame:
        """The ``series.parquet`` table in memory (built on demand: it is the largest output).

        Rows are grouped by cadence (weekly, then monthly), then ordered by ward, indicator and period.
        For a large trust write it with :meth:`write_series` instead, which keeps memory bounded.
        """
        cfg = config or Config()
        return pl.concat([series_frame(sc, cfg, with_charts=with_charts) for sc in self.parts.values()])

    def write_series(self, path: str | Path, config: Config | None = None, with_charts: bool = True) -> int:
        """Write ``series.parquet`` block by block; returns the number of rows."""
        return write_series(self.parts, config or Config(), path, with_charts)


def rebase_mask(panel: Panel, events: pl.DataFrame) -> np.ndarray:
    """``(S, T)`` True at the first period on or after each rebase/reconfiguration event of the ward."""
    mask = np.zeros(panel.shape, dtype=bool)
    ev = events.filter(pl.col("kind").is_in(list(REBASE_KINDS)))
    if ev.height == 0 or panel.shape[1] == 0:
        return mask
    for ward_id, day in ev.select("ward_id", "date").iter_rows():  # events are few
        t = int(np.searchsorted(panel.periods, np.datetime64(day, "D")))
        if t < panel.shape[1]:
            mask[panel.ward_id == ward_id, t] = True
    return mask


def constellation_exclusion(ev: WardEvidence, parts: dict[str, SeriesScores]) -> dict[str, np.ndarray]:
    """``(S, T)`` per cadence: periods in which the series' ward was at ``concern`` or above.

    A monthly period is excluded when any week starting in it was. Known at each period (the ward
    level at week t uses data up to t), so an updating baseline that skips them stays causal.
    """
    concern = ev.level >= CONCERN
    out = {}
    for cad, sc in parts.items():
        ward = ev.series_ward[cad]
        if cad == ev.cadence:
            out[cad] = concern[ward]
            continue
        to_month = ev.grid_to_series_period[cad]
        monthly = np.zeros((len(ev.ward_id), sc.panel.shape[1]), dtype=bool)
        inside = to_month >= 0
        np.logical_or.at(monthly.T, to_month[inside], concern[:, inside].T)
        out[cad] = monthly[ward]
    return out


def score(load: LoadResult, config: Config | None = None, as_of: dt.date | None = None) -> ScoreResult:
    """Score a validated dataset (see module docstring)."""
    return score_frames(load.coded, load.wards, load.events, load.cadence, config, as_of)


@dataclass(frozen=True)
class CadencePanels:
    """The dense panels of a scoring run and what scoring them needs besides the observations.

    Attributes
    ----------
    panels:
        Dense panel per cadence (``weekly``, ``monthly``) of the enabled indicators present.
    events:
        Ward events, cut at ``as_of``.
    enabled:
        Enabled indicator keys present in the data (sorted).
    rebase:
        ``(S, T)`` rebase mask per cadence (:func:`rebase_mask` of its panel and the events).
    """

    panels: dict[str, Panel]
    events: pl.DataFrame
    enabled: list[str]
    rebase: dict[str, np.ndarray]


def cadence_panels(
    observations: pl.DataFrame | CodedObservations,
    events: pl.DataFrame,
    cadence: dict[str, str],
    cfg: Config,
    as_of: dt.date | None = None,
) -> CadencePanels:
    """Cut the data at ``as_of`` and build a dense panel per cadence (the observations are not needed
    after this: a caller that owns them can free them before scoring).

    ``observations`` is the canonical frame or the loader's coded rows (``LoadResult.coded``: the
    same panels, without building the frame's text columns).
    """
    catalogue = cfg.build_catalogue()
    obs = observations
    if as_of is not None:
        events = events.filter(pl.col("date") <= as_of)
        if isinstance(obs, pl.DataFrame):
            obs = obs.filter(pl.col("period") <= as_of)
        else:
            obs = obs.take(obs.days <= as_of.toordinal() - _EPOCH_ORDINAL)  # days since 1970
    rows = SeriesRows(obs)  # runs and columns shared by both cadences' panels
    present = rows.indicators()
    enabled = [k for k in present if cfg.indicator(k).enabled]
    if len(enabled) < len(present):  # a filter copies every row: only when something is dropped
        if isinstance(obs, pl.DataFrame):
            obs = obs.filter(pl.col("indicator").is_in(enabled))
        else:
            keep = set(enabled)
            is_enabled = np.array([v in keep for v in obs.indicator_values], dtype=bool)
            obs = obs.take(is_enabled[obs.indicator_codes])
        rows = SeriesRows(obs)
    cadence_of = {k: cadence.get(k, catalogue[k].cadence) for k in enabled}
    panels: dict[str, Panel] = {}
    for cad in ("weekly", "monthly"):
        keys = [k for k in enabled if cadence_of[k] == cad]
        if keys:
            panel = build_panel(obs, cad, indicators=keys, rows=rows)
            if panel.shape[0]:
                panels[cad] = panel
    if not panels:
        raise ValueError("no observations to score")
    for cad, panel in panels.items():
        log.debug("%s panel: %d series x %d periods", cad, *panel.shape)
    rebase = {cad: rebase_mask(panel, events) for cad, panel in panels.items()}
    return CadencePanels(panels, events, enabled, rebase)


def panel_evidence(
    data: CadencePanels,
    wards: pl.DataFrame,
    cfg: Config,
    on_scores: Callable[[dict[str, SeriesScores]], None] | None = None,
    known_rates: KnownRates | None = None,
) -> tuple[dict[str, SeriesScores], WardEvidence, dict[str, str]]:
    """Series scores per cadence, ward evidence and the ward -> provider map of built panels.

    ``on_scores`` is called with the final series scores as soon as they exist, before the ward
    evidence is combined (e.g. to start writing ``series.parquet`` on another thread).
    ``known_rates``: evaluation only, true in-control rates in place of the estimated baselines
    (:mod:`engine.scoring.known_rates`).
    """
    catalogue = cfg.build_catalogue()
    ward_type = dict(zip(wards["ward_id"].to_list(), wards["ward_type"].to_list(), strict=True))
    provider = dict(zip(wards["ward_id"].to_list(), wards["provider"].to_list(), strict=True))

    def score_all(mode: str, exclude: dict[str, np.ndarray] | None) -> dict[str, SeriesScores]:
        out = {}
        for cad, panel in data.panels.items():
            base = cfg.baselines if cad == "weekly" else cfg.baselines_monthly
            out[cad] = score_panel(
                panel,
                catalogue,
                ward_type,
                provider,
                data.rebase[cad],
                dataclasses.replace(base, mode=mode),  # type: ignore[arg-type]
                cfg.combination,
                cfg.indicators,
                exclude=None if exclude is None else exclude[cad],
                peer_silence=cfg.peer_silence,
                workers=cfg.runtime.worker_threads(),
                known_rates=known_rates,
            )
            log.debug("%s: scored %d series x %d periods (%s baselines)", cad, *panel.shape, mode)
        return out

    parts = score_all("frozen", None)
    if cfg.baselines.mode == "updating":
        # Pass 1 (frozen baselines, causal) marks the periods where the ward shows the closed-culture
        # constellation; pass 2 updates the baselines slowly but never absorbs those periods.
        ev0 = ward_evidence(parts, cfg.combination)
        parts = score_all("updating", constellation_exclusion(ev0, parts))
    if on_scores is not None:
        on_scores(parts)
    return parts, ward_evidence(parts, cfg.combination), provider


def evidence_frames(
    observations: pl.DataFrame | CodedObservations,
    wards: pl.DataFrame,
    events: pl.DataFrame,
    cadence: dict[str, str],
    cfg: Config,
    as_of: dt.date | None = None,
    known_rates: KnownRates | None = None,
) -> tuple[dict[str, SeriesScores], WardEvidence, list[str], dict[str, str]]:
    """Series scores and ward evidence (no alerts or tables): what calibration simulates.
    ``known_rates``: evaluation only (:func:`panel_evidence`)."""
    data = cadence_panels(observations, events, cadence, cfg, as_of)
    parts, ev, provider = panel_evidence(data, wards, cfg, known_rates=known_rates)
    return parts, ev, data.enabled, provider


def score_frames(
    observations: pl.DataFrame | CodedObservations,
    wards: pl.DataFrame,
    events: pl.DataFrame,
    cadence: dict[str, str],
    config: Config | None = None,
    as_of: dt.date | None = None,
) -> ScoreResult:
    """Score canonical frames (the loader's outputs, or simulated replicates of them; the observations
    may also be the loader's coded rows)."""
    cfg = config or Config()
    parts, ev, enabled, provider = evidence_frames(observations, wards, events, cadence, cfg, as_of)
    return finish_scoring(parts, ev, enabled, provider, cfg, as_of)


def finish_scoring(
    parts: dict[str, SeriesScores],
    ev: WardEvidence,
    enabled: list[str],
    provider: dict[str, str],
    cfg: Config,
    as_of: dt.date | None = None,
) -> ScoreResult:
    """Alerts and the ward-status table from the evidence (:func:`evidence_frames`' outputs)."""
    catalogue = cfg.build_catalogue()
    ctx = Context(catalogue, cfg.combination, provider)
    ward_rows, open_ids = ward_alerts(ev, parts, ctx)
    ewma_keys = {k for k in enabled if cfg.indicator(k).detector == "ewma"}
    rows = ward_rows + indicator_alerts(parts, ctx, ewma_keys) + provider_alerts(parts, ctx)
    rows += provider_concern_alerts(ev, ctx)
    status = ward_status_frame(ev, parts, cfg.combination, open_ids)
    alerts = alerts_frame(rows)
    log.info("%d alerts (%d ward), %d ward-status rows", alerts.height, len(ward_rows), status.height)
    return ScoreResult(parts, ev, status, alerts, as_of)
