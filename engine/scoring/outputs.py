"""Write a scoring run's results folder (see docs/results-contract.md) and record its provenance."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import polars as pl

from engine.config import Config
from engine.io import LoadResult
from engine.scoring.run import ScoreResult


def wardwatch_version() -> str:
    """Installed wardwatch version (``unknown`` when run from an uninstalled tree)."""
    try:
        return version("wardwatch")
    except PackageNotFoundError:
        return "unknown"


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_results(
    result: ScoreResult,
    load: LoadResult,
    config: Config,
    out: str | Path,
    inputs: dict[str, str | Path | None],
    with_charts: bool = True,
) -> dict[str, Path]:
    """Write ward_status.csv, alerts.csv, series.parquet, run.json and (if any) rejected.csv."""
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "ward_status": out_dir / "ward_status.csv",
        "alerts": out_dir / "alerts.csv",
        "series": out_dir / "series.parquet",
        "run": out_dir / "run.json",
    }
    result.ward_status.write_csv(paths["ward_status"], float_precision=6)
    result.alerts.write_csv(paths["alerts"], float_precision=6)
    result.write_series(paths["series"], config, with_charts=with_charts)
    rejected_path = out_dir / "rejected.csv"
    if load.n_rejected:
        load.rejected.select("file", "line", "column", "value", "reason").write_csv(rejected_path)
        paths["rejected"] = rejected_path
    elif rejected_path.exists():
        rejected_path.unlink()
    run = {
        "wardwatch_version": wardwatch_version(),
        "scored_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "as_of": None if result.as_of is None else result.as_of.isoformat(),
        "inputs": {
            role: {"path": str(p), "sha256": file_sha256(p)} for role, p in inputs.items() if p is not None
        },
        "rows": {"read": load.total_read, "rejected": load.n_rejected},
        "cadence": load.cadence,
        "config_sha256": config.digest(),
        "config": config.to_dict(),
        "alerts": result.alerts.group_by("scope", "level").len().sort("scope", "level").to_dicts(),
        "grid": {
            "cadence": result.wards.cadence,
            "first": str(result.wards.periods[0]),
            "last": str(result.wards.periods[-1]),
            "wards": len(result.wards.ward_id),
        },
    }
    paths["run"].write_text(json.dumps(run, indent=2, default=str), encoding="utf-8")
    return paths


def triage_alerts(result: ScoreResult) -> pl.DataFrame:
    """The alerts a quality director triages (ward and indicator scope) for the triage store."""
    return result.alerts.filter(pl.col("scope").is_in(["ward", "indicator"]))
