"""Threshold lab, part two: the trade-off of a ward threshold on the loaded trust's own data.

What is simulated is :func:`engine.evaluate.tradeoff.simulate_tradeoff` (episodes injected into
in-control replicates of the trust's own wards). This module turns the dashboard's state into a
job spec, runs it in the background worker (:mod:`dashboard.services.jobs`, kind ``tradeoff``),
reads the finished table back, and builds the configuration saved from the lab with its
provenance.

The loaded trust is the data the served results were scored on: the ``inputs`` recorded in the
results' ``run.json`` (``wardwatch score`` writes their paths and SHA-256), else the data folder's
``observations.csv``/``.parquet``, ``wards.csv`` and ``events.csv``. The configuration in force is
the one those results were scored with (``run.json``), named by its file.

Cache: the job key is the hash of the data files' digests, the configuration (without its
provenance) and the simulation settings, so asking again for the same run is instant and survives
restarts (the finished table lives in the job folder).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl

from engine.config import Config, ProvenanceSettings, config_from_mapping
from engine.evaluate.tradeoff import SWEPT_KEYS, TradeoffResult, TradeoffSettings

#: most candidate thresholds one lab run may ask for.
MAX_POINTS = 12
#: the lab's labels of the swept threshold.
SWEPT_LABELS: dict[str, str] = {
    "concern": "concern threshold (two or more culture domains)",
    "watch": "watch threshold (one domain)",
}


def parse_thresholds(text: str, low: float = 0.5, high: float = 50.0) -> list[float]:
    """Thresholds (nats) from ``"3, 3.5, 4"``: sorted, unique, each within ``[low, high]``.

    Raises
    ------
    ValueError
        A value that is not a number or is out of range (the message names it).
    """
    values: set[float] = set()
    for part in re.split(r"[,\s;]+", text.strip()):
        if not part:
            continue
        try:
            v = float(part)
        except ValueError:
            raise ValueError(f"{part!r} is not a number") from None
        if not (math.isfinite(v) and low <= v <= high):
            raise ValueError(f"{part} is outside {low:g} to {high:g} nats")
        values.add(round(v, 4))
    if not values:
        raise ValueError("give at least one threshold")
    return sorted(values)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass(frozen=True)
class TrustData:
    """The loaded trust: its data files (role -> path), their digests and the configuration in force.

    ``config_source`` names the file the configuration came from (or the built-in defaults).
    """

    files: dict[str, Path]
    digests: dict[str, str]
    config: Config
    config_source: str

    @property
    def data_sha256(self) -> str:
        """One SHA-256 over the data files' digests (role order), recorded as provenance."""
        text = ";".join(f"{role}:{self.digests[role]}" for role in sorted(self.files))
        return hashlib.sha256(text.encode()).hexdigest()


def trust_data(data_dir: Path, run: dict[str, Any]) -> TrustData:
    """The served results' inputs and configuration (see the module docstring).

    Raises
    ------
    FileNotFoundError
        No observations or ward register can be found.
    """
    files: dict[str, Path] = {}
    inputs = run.get("inputs", {}) if run else {}
    for role in ("observations", "wards", "events"):
        p = Path(inputs.get(role, {}).get("path", "")) if inputs.get(role) else None
        if p is not None and not p.is_absolute():
            p = (data_dir / p) if (data_dir / p).exists() else p
        if p is not None and p.exists():
            files[role] = p.resolve()
    fallback = {
        "observations": [data_dir / "observations.csv", data_dir / "observations.parquet"],
        "wards": [data_dir / "wards.csv"],
        "events": [data_dir / "events.csv"],
    }
    for role, candidates in fallback.items():
        if role not in files:
            hit = next((c for c in candidates if c.exists()), None)
            if hit is not None:
                files[role] = hit.resolve()
    missing = [r for r in ("observations", "wards") if r not in files]
    if missing:
        raise FileNotFoundError(
            f"cannot find the trust's {' and '.join(missing)} (run `wardwatch score` first)"
        )
    if run and run.get("config"):
        config = config_from_mapping(run["config"], source="run.json")
        path = (inputs.get("config") or {}).get("path")
        source = f"`{Path(path).name}` ({path})" if path else "the built-in defaults"
    else:
        config, source = Config(), "the built-in defaults (no run.json)"
    from dashboard.services.results import file_digest  # memoised on (path, size, mtime)

    return TrustData(files, {r: file_digest(p) for r, p in files.items()}, config, source)


def tradeoff_spec(trust: TrustData, settings: TradeoffSettings) -> dict[str, Any]:
    """The job spec: data files with digests, the configuration (no provenance) and the settings."""
    cfg = {k: v for k, v in trust.config.to_dict().items() if k != "provenance"}
    return {
        "files": {r: str(p) for r, p in trust.files.items()},
        "digests": trust.digests,
        "config": cfg,
        "settings": asdict(settings),
    }


def settings_from_spec(spec: dict[str, Any]) -> TradeoffSettings:
    s = dict(spec["settings"])
    s["thresholds"] = tuple(s["thresholds"])
    s["horizons"] = tuple(s["horizons"])
    return TradeoffSettings(**s)


def run_tradeoff_job(spec: dict[str, Any], work: Path, report) -> dict[str, Any]:
    """Worker side: load the trust, simulate, write ``tradeoff.parquet`` and ``meta.json``."""
    from engine.evaluate.tradeoff import simulate_tradeoff
    from engine.io import load_dataset

    settings = settings_from_spec(spec)
    config = config_from_mapping(spec["config"], source="job spec")
    files = spec["files"]
    for role, path in files.items():
        if file_sha256(Path(path)) != spec["digests"][role]:
            raise ValueError(f"{Path(path).name} changed since the run was asked for: start it again")
    report(0, settings.replicates, "reading the trust's data")
    load = load_dataset(
        files["observations"], files["wards"], files.get("events"), catalogue=config.build_catalogue()
    )

    def progress(done: int, total: int) -> None:
        report(done, total, f"simulated {done} of {total} replicates of the trust")

    result = simulate_tradeoff(
        load.observations, load.wards, load.events, load.cadence, config, settings, progress=progress
    )
    result.table.write_parquet(work / "tradeoff.parquet")
    meta = {
        "ward_years": result.ward_years,
        "episodes": result.episodes,
        "single_domain_changes": result.single_domain_changes,
        "wards": result.wards,
        "weeks": result.weeks,
        "seconds": round(result.seconds, 2),
    }
    (work / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return meta


def read_tradeoff(result_dir: Path, spec: dict[str, Any]) -> TradeoffResult:
    """A finished job's result."""
    meta = json.loads((result_dir / "meta.json").read_text(encoding="utf-8"))
    return TradeoffResult(
        pl.read_parquet(result_dir / "tradeoff.parquet"),
        settings_from_spec(spec),
        meta["ward_years"],
        meta["episodes"],
        meta["single_domain_changes"],
        meta["wards"],
        meta["weeks"],
        meta.get("seconds", 0.0),
    )


def simulated_figures(row: dict[str, Any], horizons: tuple[int, ...]) -> dict[str, float]:
    """The figures of one table row recorded as provenance (rates per ward-year, shares, weeks)."""
    out = {
        "false_concern_per_ward_year": row["false_concern_per_ward_year"],
        "false_concern_se": row["false_concern_se"],
        "false_watch_per_ward_year": row["false_watch_per_ward_year"],
        "false_watch_se": row["false_watch_se"],
    }
    for h in horizons:
        out[f"detected_within_{h}_weeks"] = row[f"detected_{h}w"]
        out[f"detected_within_{h}_weeks_se"] = row[f"detected_{h}w_se"]
    out["median_delay_weeks"] = row["delay_median"]
    out["single_domain_escalated"] = row["single_domain_escalated"]
    out["single_domain_escalated_se"] = row["single_domain_escalated_se"]
    return {k: (round(float(v), 6) if math.isfinite(float(v)) else -1.0) for k, v in out.items()}


def chosen_config(
    trust: TrustData,
    result: TradeoffResult,
    threshold: float,
    saved_by: str = "",
    now: dt.datetime | None = None,
) -> Config:
    """The configuration in force with the chosen threshold and the provenance of the choice.

    A median delay beyond the longest horizon is recorded as -1 (TOML has no infinity).
    """
    s = result.settings
    key = SWEPT_KEYS[s.swept]
    config = trust.config.replace(key, float(threshold))
    if s.swept == "concern" and config.combination.urgent_threshold < threshold:
        raise ValueError("the urgent threshold is below the chosen concern threshold")
    comb = config.combination
    sim = asdict(s)
    sim.pop("thresholds")
    sim["horizons"] = list(s.horizons)
    sim.update(replicates_ward_years=round(result.ward_years, 1), episodes=result.episodes,
               single_domain_changes=result.single_domain_changes)  # fmt: skip
    prov = ProvenanceSettings(
        source="wardwatch threshold lab (trade-off on the trust's own baselines)",
        saved_at=(now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        saved_by=saved_by,
        data_sha256=trust.data_sha256,
        data_files={r: p.name for r, p in trust.files.items()},
        chosen={key: float(threshold)},
        targets={
            "false_concern_per_ward_year": comb.target_false_concern_per_ward_year,
            "false_indicator_alerts_per_ward_year": comb.target_false_indicator_alerts_per_ward_year,
        },
        simulated=simulated_figures(result.row_at(threshold), s.horizons),
        simulation=sim,
    )
    return dataclasses.replace(config, provenance=prov)
