"""Parameter sweeps: score + evaluate over a grid of settings (parallel, resumable).

Each grid point gets its own folder ``OUT/points/<id>/`` (``id`` = a hash of the point's settings)
with ``config.toml`` (the full configuration), ``results/`` (``wardwatch score``) and
``evaluation/`` (``wardwatch evaluate``). A point whose ``evaluation/evaluation.json`` exists is
skipped, so an interrupted sweep resumes where it stopped. The tidy table ``OUT/sweep.csv`` has one
row per grid point and method.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from engine.config import Config, config_from_mapping
from engine.evaluate.configdoc import render_config
from engine.evaluate.settings import EvaluationSettings
from engine.settings import SettingsError


@dataclass(frozen=True)
class GridPoint:
    """One point of a sweep: the dotted settings it changes and its folder id."""

    values: tuple[tuple[str, Any], ...]

    @property
    def id(self) -> str:
        text = json.dumps(list(self.values), sort_keys=True)
        return "p" + hashlib.sha256(text.encode()).hexdigest()[:10]

    @property
    def label(self) -> str:
        return " ".join(f"{k.split('.')[-1]}={v}" for k, v in self.values)

    def apply(self, config: Config) -> Config:
        for key, value in self.values:
            config = config.replace(key, value)
        return config


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"x = {text}")["x"]
    except tomllib.TOMLDecodeError:
        return text


def parse_grid(spec: str, base: Config | None = None) -> list[GridPoint]:
    """Grid points of ``"combination.concern_threshold=3,4,5 combination.domain_threshold=6,8"``.

    Items are separated by whitespace; each is ``dotted.key=v1,v2,...`` (values as TOML scalars).
    Every point is validated against the configuration (unknown keys and bad values are refused
    with the key's name).
    """
    axes: list[tuple[str, list[Any]]] = []
    for item in spec.split():
        if "=" not in item:
            raise SettingsError(f"grid item {item!r} is not KEY=V1,V2,...")
        key, values = item.split("=", 1)
        if not values:
            raise SettingsError(f"grid item {item!r} has no values")
        if key in (k for k, _ in axes):
            raise SettingsError(f"grid key {key} given twice")
        axes.append((key, [_parse_value(v) for v in values.split(",")]))
    if not axes:
        raise SettingsError("empty grid")
    cfg = base or Config()
    points = [
        GridPoint(tuple(zip([k for k, _ in axes], combo, strict=True)))
        for combo in itertools.product(*(v for _, v in axes))
    ]
    for p in points:
        p.apply(cfg)  # validates (raises SettingsError naming the key)
    return points


_WORKER: dict[str, Any] = {}


def _init_worker(data: str) -> None:
    from engine.evaluate.benchmark import data_files
    from engine.io import load_dataset

    d = Path(data)
    obs, wards, events = data_files(d)
    _WORKER["paths"] = {"observations": obs, "wards": wards, "events": events}
    _WORKER["load"] = load_dataset(obs, wards, events)
    _WORKER["truth"] = d / "truth.csv"


def _run_point(task: tuple[str, dict[str, Any], dict[str, Any]]) -> str:
    """Score and evaluate one point (in a worker process); returns the point folder."""
    from engine.evaluate.report import provenance, write_evaluation
    from engine.evaluate.run import evaluate
    from engine.scoring.outputs import write_results
    from engine.scoring.run import score

    folder, config_map, settings_map = task
    d = Path(folder)
    config = config_from_mapping(config_map)
    settings = EvaluationSettings(**settings_map)
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.toml").write_text(render_config(config, all_indicators=False), encoding="utf-8")
    result = score(_WORKER["load"], config)
    inputs = dict(_WORKER["paths"], config=d / "config.toml")
    write_results(result, _WORKER["load"], config, d / "results", inputs)
    ev = evaluate(_WORKER["truth"], d / "results", settings)
    write_evaluation(
        ev, d / "evaluation", provenance(_WORKER["truth"], d / "results", settings), with_plots=False
    )
    return folder


def is_done(folder: Path) -> bool:
    """A point is complete when its evaluation record exists (written last)."""
    return (folder / "evaluation" / "evaluation.json").exists()


def run_sweep(
    data: str | Path,
    out: str | Path,
    points: Sequence[GridPoint],
    base: Config,
    settings: EvaluationSettings,
    jobs: int = 1,
    progress: bool = True,
) -> pl.DataFrame:
    """Run every missing point, then assemble ``sweep.csv`` (returned) and the trade-off plot."""
    from tqdm import tqdm

    root = Path(out)
    (root / "points").mkdir(parents=True, exist_ok=True)
    todo = []
    for p in points:
        folder = root / "points" / p.id
        if not is_done(folder):
            todo.append((str(folder), p.apply(base).to_dict(), dataclasses.asdict(settings)))
    bar = tqdm(
        total=len(points), initial=len(points) - len(todo), desc="sweep", unit="point", disable=not progress
    )
    if todo:
        if jobs <= 1:
            _init_worker(str(data))
            for task in todo:
                _run_point(task)
                bar.update()
        else:
            import multiprocessing as mp

            ctx = mp.get_context("spawn")
            with ctx.Pool(min(jobs, len(todo)), initializer=_init_worker, initargs=(str(data),)) as pool:
                for _ in pool.imap_unordered(_run_point, todo):
                    bar.update()
    bar.close()
    return collect(root, points)


def collect(root: Path, points: Sequence[GridPoint]) -> pl.DataFrame:
    """The tidy table: every point's summary.csv with the point id, label and grid values."""
    frames = []
    for p in points:
        summary = pl.read_csv(root / "points" / p.id / "evaluation" / "summary.csv")
        extra = [pl.lit(p.id).alias("point"), pl.lit(p.label).alias("label_point")]
        extra += [pl.lit(v).alias(k) for k, v in p.values]
        frames.append(summary.with_columns(extra))
    table = pl.concat(frames, how="diagonal_relaxed")
    keys = [k for k, _ in points[0].values]
    front = ["point", "label_point", *keys, "method"]
    table = table.select(front + [c for c in table.columns if c not in front])
    table.write_csv(root / "sweep.csv", float_precision=6)
    return table
