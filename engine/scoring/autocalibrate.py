"""Per-trust calibration before scoring (``wardwatch score --calibrate``).

The shipped thresholds were set on one synthetic trust; a trust with other ward types, base rates
or dispersion meets the false-alarm budget only by luck. ``score --calibrate`` runs
:func:`engine.scoring.calibrate.calibrate_alerts` on the trust's own data before scoring, scores
with the thresholds it chooses and records them, with the predicted in-control rates, in the run's
``run.json`` (``calibration``). Only the in-control *simulation* sets the thresholds: the monitored
outcomes are never compared with anything, and with ``--as-of`` only data up to that date are used.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from engine.config import Config
from engine.io import LoadResult
from engine.scoring.calibrate import CalibrationReport, calibrate_alerts


def calibrate_for_run(
    load: LoadResult,
    config: Config,
    as_of: dt.date | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Config, dict[str, Any]]:
    """The configuration with calibrated thresholds, and the provenance record of the calibration.

    ``as_of``: calibrate on the observations and events up to that date only (as the scoring run sees
    them), so a run never uses data after its own cut-off.
    """
    obs, events = load.observations, load.events
    if as_of is not None:
        obs = obs.filter(pl.col("period") <= as_of)
        events = events.filter(pl.col("date") <= as_of)
    if obs.height == 0:
        raise ValueError("--calibrate: no observations up to the cut-off to calibrate on")
    report = calibrate_alerts(obs, load.wards, events, load.cadence, config, replicates, seed, progress)
    calibrated = report.apply(config)
    last = obs["period"].max()
    return calibrated, calibration_record(report, calibrated, config, last)


def calibration_record(
    report: CalibrationReport, calibrated: Config, original: Config, data_up_to: object
) -> dict[str, Any]:
    """What ``run.json`` records: thresholds chosen (and those replaced), predicted in-control rates."""
    comb, before = calibrated.combination, original.combination

    def at(values: np.ndarray, threshold: float | None) -> float | None:
        if threshold is None:  # an unset threshold never fires
            return None
        return round(float(values[int(np.argmin(np.abs(report.grid - threshold)))]), 4)

    rate, se = report.rate_at(comb.concern_threshold)
    return {
        "method": "calibrate-alerts: in-control replicates of this trust, baselines re-estimated",
        "data_up_to": str(data_up_to),
        "replicates": report.replicates,
        "seed": report.seed,
        "simulated_ward_years": round(report.ward_years, 1),
        "thresholds": {
            "concern_threshold": comb.concern_threshold,
            "urgent_threshold": comb.urgent_threshold,
            "watch_threshold": comb.watch_threshold,
            "cusum_threshold": comb.cusum_threshold,
        },
        "replaced": {
            "concern_threshold": before.concern_threshold,
            "urgent_threshold": before.urgent_threshold,
            "watch_threshold": before.watch_threshold,
            "cusum_threshold": before.cusum_threshold,
        },
        "predicted": {
            "false_concern_per_ward_year": round(rate, 4),
            "false_concern_se": round(se, 4),
            "single_domain_escalation": at(report.decoy_rate, comb.concern_threshold),
            "false_watch_per_ward_year": at(report.watch_rate, comb.watch_threshold),
            "watch_share": at(report.watch_share, comb.watch_threshold),
            "false_urgent_per_ward_year": at(report.urgent_rate, comb.urgent_threshold),
        },
        "targets": {
            "false_concern_per_ward_year": before.target_false_concern_per_ward_year,
            "single_domain_escalation": before.target_decoy_escalation,
            "false_watch_per_ward_year": before.target_false_watch_per_ward_year,
            "watch_share": before.target_watch_share,
        },
    }


def record_calibration(run_json: str | Path, record: dict[str, Any]) -> None:
    """Add ``calibration`` to a written ``run.json`` (replaced atomically: never half written)."""
    path = Path(run_json)
    run = json.loads(path.read_text(encoding="utf-8"))
    run["calibration"] = record
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(run, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
