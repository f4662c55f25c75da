"""How well the calibration predicts: an in-control trust's measured false alerts against
``calibrate-alerts``' prediction at the same thresholds (docs/evaluation.md).

``python -m engine.evaluate.calibration_check --cell default-default --wards 300 --seed 11 --out DIR``
generates the grid cell's trust (:func:`engine.evaluate.robustness.cell_spec`) with no scenarios, so
every ward-week is in control; scores it with the configuration (default thresholds); counts every
ward-level concern and watch opening per monitored ward-year (the evaluation's hysteresis, no
windows to leave out); and runs the calibration on the same data. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import polars as pl

from engine.alerting import openings
from engine.combine.levels import CONCERN, LEVELS, WATCH
from engine.config import Config

_WEEKS_PER_YEAR = 52.1775


def measured_rates(results: str | Path, close_after: int) -> dict[str, float]:
    """Concern and watch openings per monitored ward-year, and the share of ward-weeks at each level
    or above, from a results folder's ``ward_status.csv`` (every row is a monitored ward-week)."""
    ws = pl.read_csv(Path(results) / "ward_status.csv", columns=["ward_id", "period", "level"])
    wards, w_idx = np.unique(ws["ward_id"].to_numpy(), return_inverse=True)
    periods, t_idx = np.unique(ws["period"].to_numpy(), return_inverse=True)
    level = np.full((len(wards), len(periods)), -1, dtype=np.int8)
    level[w_idx, t_idx] = ws["level"].replace_strict({name: i for i, name in enumerate(LEVELS)}).to_numpy()
    monitored = level >= 0
    years = monitored.sum() / _WEEKS_PER_YEAR
    out: dict[str, float] = {"ward_years": round(float(years), 1)}
    for name, code in (("concern", CONCERN), ("watch", WATCH)):
        cond = (level >= code) & monitored
        out[f"{name}_per_ward_year"] = round(float(openings(cond, close_after).sum() / years), 4)
        out[f"{name}_share"] = round(float(cond.sum() / monitored.sum()), 4)
    return out


def check(
    cell_name_: str, wards: int, seed: int, replicates: int, out: Path, config: Config
) -> dict[str, Any]:
    """Generate (or reuse), score and calibrate one in-control trust; measured and predicted rates."""
    from engine.evaluate.benchmark import score_folder
    from engine.evaluate.robustness import GridSettings, cell_name, cell_spec, default_cells
    from engine.io import load_dataset
    from engine.scoring.calibrate import calibrate_alerts
    from synthetic import generate, write_trust

    cell = {cell_name(c): c for c in default_cells()}[cell_name_]
    spec = cell_spec(cell, GridSettings(wards=wards, seed=seed))
    spec = dataclasses.replace(
        spec, scenarios=dataclasses.replace(spec.scenarios, counts=MappingProxyType({}))
    )
    data, results = out / "data", out / "results"
    if not (results / "ward_status.csv").exists():
        write_trust(generate(spec, seed=seed), data, "csv")
        score_folder(data, results, config)
    comb = config.combination
    row: dict[str, Any] = {"cell": cell_name_, "wards": wards, "seed": seed}
    row |= {f"measured_{k}": v for k, v in measured_rates(results, comb.close_after).items()}
    load = load_dataset(data / "observations.csv", data / "wards.csv", data / "events.csv")
    start = time.perf_counter()
    rep = calibrate_alerts(load.observations, load.wards, load.events, load.cadence, config, replicates)
    i = int(np.argmin(np.abs(rep.grid - comb.concern_threshold)))
    w = int(np.argmin(np.abs(rep.grid - (comb.watch_threshold or np.inf))))
    row |= {
        "predicted_concern_per_ward_year": round(float(rep.concern_rate[i]), 4),
        "predicted_concern_se": round(float(rep.concern_se[i]), 4),
        "predicted_watch_per_ward_year": round(float(rep.watch_rate[w]), 4),
        "predicted_watch_share": round(float(rep.watch_share[w]), 4),
        "calibrated_concern_threshold": rep.concern_threshold,
        "replicates": replicates,
        "calibration_seconds": round(time.perf_counter() - start, 1),
    }
    return row


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--cell", default="default-default", help="grid cell folder name (e.g. dispersion-x2.0)")
    p.add_argument("--wards", type=int, default=300)
    p.add_argument("--seed", type=int, default=11)
    p.add_argument("--replicates", type=int, default=6)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    print(json.dumps(check(args.cell, args.wards, args.seed, args.replicates, Path(args.out), Config())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
