"""Threshold lab, part two: the delay / false-alert trade-off of ward thresholds on a synthetic benchmark.

Only ``combination.concern_threshold`` is swept: a ward reaches *concern* when two or more culture
domains' evidence reaches it, so it alone sets when concern alerts open (``domain_threshold`` sets
the watch level and ``urgent_threshold`` the urgent level; neither opens or delays a concern alert).

The lab reuses the evaluation harness as is: :func:`engine.evaluate.benchmark.make_data` generates
a small synthetic trust with known closed-culture episodes and decoys, and
:func:`engine.evaluate.sweep.run_sweep` scores and evaluates it at every grid point (the counting
rules are in docs/evaluation.md). Only the ``wardwatch (concern)`` rows are shown: an episode is
detected when a ward *concern* alert opens on its ward, and false alerts are concern alerts opened
outside every episode and decoy window, per ward-year.

Caching is on disk, by content: the benchmark data live in ``LAB/bench-<hash of the benchmark
settings>/data`` and a sweep in ``.../sweep-<hash of the base configuration without the swept keys
and of the evaluation settings>/points/<id of the point's values>``. ``run_sweep`` skips every point
already evaluated, so asking again for the same points (or a grid sharing some) costs only reading
their ``summary.csv``. After a sweep, each point's ``series.parquet`` (about 12 MB at 100 wards) is
deleted: evaluation is done, and ``ward_status.csv``/``alerts.csv`` stay for inspection.

Runtime (2 cores, one process): about 1.2 s per grid point at 80 wards x 156 weeks including the
oracle and 500 bootstrap replicates; 8 points at 100 wards took 11 s.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import polars as pl

from engine.config import Config
from engine.evaluate.benchmark import BENCHMARK_SCENARIOS, BenchmarkSettings
from engine.evaluate.settings import EvaluationSettings

CONCERN_KEY = "combination.concern_threshold"
#: wards of the default benchmark the scenario counts of ``BENCHMARK_SCENARIOS`` are written for.
BENCHMARK_WARDS = 300
#: most grid points one lab run may ask for (keeps a run well under a minute).
MAX_POINTS = 12
#: one lab run at a time per process (two sessions asking for the same points share the folder).
_RUN_LOCK = threading.Lock()


@dataclass(frozen=True)
class LabBenchmarkSettings:
    """The lab's benchmark trust and evaluation (a small version of ``wardwatch evaluate --benchmark``)."""

    #: wards in the synthetic trust; scenario counts scale with it (see :func:`scaled_scenarios`).
    wards: int = field(default=80, metadata={"doc": "wards in the lab's synthetic benchmark"})
    #: weeks simulated (156 = three years; the first months are the baselines' warm-up).
    weeks: int = field(default=156, metadata={"doc": "weeks in the lab's synthetic benchmark"})
    #: generator seed (same seed, same trust).
    seed: int = field(default=7, metadata={"doc": "seed of the lab's synthetic benchmark"})
    #: bootstrap replicates for the confidence intervals of each point.
    bootstrap_replicates: int = field(default=500, metadata={"doc": "bootstrap replicates per point"})
    #: an episode counts as detected when a concern alert opens within this many weeks of onset.
    horizon_weeks: int = field(default=16, metadata={"doc": "detection horizon (weeks)"})

    def __post_init__(self) -> None:
        if not 20 <= self.wards <= 400:
            raise ValueError("the lab benchmark takes 20 to 400 wards")
        if not 156 <= self.weeks <= 260:  # the planner needs 40 in-control weeks before each decoy
            raise ValueError("the lab benchmark takes 156 to 260 weeks")

    @property
    def scenarios(self) -> str:
        """Scenario counts for this many wards."""
        return scaled_scenarios(self.wards)

    def benchmark(self) -> BenchmarkSettings:
        """The ``engine.evaluate`` benchmark settings of this trust."""
        return BenchmarkSettings(wards=self.wards, weeks=self.weeks, seed=self.seed, scenarios=self.scenarios)

    def evaluation(self) -> EvaluationSettings:
        """The evaluation settings (defaults apart from the horizon and replicates)."""
        return EvaluationSettings(
            horizon_weeks=self.horizon_weeks, bootstrap_replicates=self.bootstrap_replicates
        )


def scaled_scenarios(wards: int) -> str:
    """``BENCHMARK_SCENARIOS`` (written for 300 wards) scaled to ``wards``: each kind at least 1.

    ``winter_pressure`` is one trust-wide season whatever the size, so it stays 1.
    """
    out = []
    for item in BENCHMARK_SCENARIOS.split(","):
        kind, count = item.split("=")
        n = int(count) if kind == "winter_pressure" else max(1, round(int(count) * wards / BENCHMARK_WARDS))
        out.append(f"{kind}={n}")
    return ",".join(out)


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


def point_config(base: Config, concern: float) -> Config:
    """``base`` with the concern threshold of one grid point (validated by ``Config.replace``)."""
    return base.replace(CONCERN_KEY, float(concern))


def _digest(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _without(mapping: dict, dotted: Sequence[str]) -> dict:
    data = json.loads(json.dumps(mapping, default=str))
    for key in dotted:
        node = data
        *parents, leaf = key.split(".")
        for p in parents:
            node = node.get(p, {})
        node.pop(leaf, None)
    return data


def sweep_folders(
    root: Path, bench: LabBenchmarkSettings, base: Config, keys: Sequence[str]
) -> tuple[Path, Path]:
    """(benchmark data folder, sweep folder) for these settings under the lab root ``root``."""
    b = root / f"bench-{_digest(asdict(bench.benchmark()))}"
    sweep_key = _digest({"base": _without(base.to_dict(), keys), "evaluation": asdict(bench.evaluation())})
    return b / "data", b / f"sweep-{sweep_key}"


@dataclass(frozen=True)
class LabSweep:
    """The trade-off table of one lab run.

    Attributes
    ----------
    table : pl.DataFrame
        One row per grid point, sorted by threshold: ``concern_threshold`` (nats), ``episodes``, ``detected`` (within the horizon), ``detection_rate``,
        ``delay_median`` (weeks; ``inf`` when half or more are not detected within the horizon),
        ``delay_median_lo``/``_hi`` (95% bootstrap CI), ``false_alerts_per_ward_year`` with
        ``fa_lo``/``fa_hi``, ``flagged_share`` (share of out-of-window ward-weeks at concern),
        ``decoy_escalation_rate``, ``oracle_median_same_fa`` (weeks) and ``point`` (folder id).
    data_dir, sweep_dir : Path
    settings : LabBenchmarkSettings
    seconds : float
        Wall time of this call (reading cached points only is well under a second).
    computed : int
        Grid points scored and evaluated in this call (0 = all from the cache).
    """

    table: pl.DataFrame
    data_dir: Path
    sweep_dir: Path
    settings: LabBenchmarkSettings
    seconds: float
    computed: int

    @property
    def episodes(self) -> int:
        """Closed-culture episodes in the benchmark."""
        return int(self.table["episodes"][0]) if self.table.height else 0


def run_lab_sweep(
    root: Path | str,
    settings: LabBenchmarkSettings,
    base: Config,
    concern: Sequence[float],
) -> LabSweep:
    """Generate (once) the benchmark, score and evaluate every missing grid point, return the table.

    Parameters
    ----------
    root : path
        The lab folder (``DATA/.wardwatch/lab`` in the dashboard).
    concern : sequence of float
        Concern thresholds in nats; each point is validated against the configuration (concern
        may not exceed the urgent threshold).

    Raises
    ------
    engine.settings.SettingsError, ValueError
        An invalid point or too many points (more than :data:`MAX_POINTS`).
    """
    from engine.evaluate.benchmark import make_data
    from engine.evaluate.sweep import GridPoint, is_done, run_sweep

    t0 = time.perf_counter()
    points = [GridPoint(((CONCERN_KEY, float(c)),)) for c in sorted(set(concern))]
    if not points:
        raise ValueError("give at least one concern threshold")
    if len(points) > MAX_POINTS:
        raise ValueError(f"{len(points)} grid points: the lab runs at most {MAX_POINTS} at a time")
    for p in points:
        p.apply(base)  # validates each point (SettingsError names the key)
    data, out = sweep_folders(Path(root), settings, base, [CONCERN_KEY])
    with _RUN_LOCK:
        if not (data / "truth.csv").exists():
            make_data(settings.benchmark(), data)
        todo = sum(not is_done(out / "points" / p.id) for p in points)
        table = run_sweep(data, out, points, base, settings.evaluation(), jobs=1, progress=False)
        for p in points:  # evaluation is done: drop the bulky per-series file, keep the small tables
            (out / "points" / p.id / "results" / "series.parquet").unlink(missing_ok=True)
    return LabSweep(tradeoff_table(table), data, out, settings, time.perf_counter() - t0, todo)


def tradeoff_table(sweep: pl.DataFrame) -> pl.DataFrame:
    """The ``wardwatch (concern)`` rows of a sweep table, one per point."""
    rows = sweep.filter(pl.col("method") == "wardwatch")
    cols = [
        "episodes", "detected", "detection_rate", "delay_median", "delay_median_lo", "delay_median_hi",
        "false_alerts_per_ward_year", "fa_lo", "fa_hi", "flagged_share", "decoy_escalation_rate",
        "oracle_median_same_fa",
    ]  # fmt: skip
    return rows.select(
        pl.col(CONCERN_KEY).cast(pl.Float64).alias("concern_threshold"),
        *[pl.col(c).cast(pl.Float64) for c in cols],
        "point",
    ).sort("concern_threshold")
