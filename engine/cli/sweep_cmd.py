"""``wardwatch sweep``: score and evaluate over a grid of settings (parallel, resumable)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from engine.cli import CliError
from engine.cli.settings_args import (
    Option,
    add_config_options,
    add_field_options,
    config_from_args,
    settings_from_options,
)
from engine.evaluate.settings import EvaluationSettings

HELP = "Sweep settings: score + evaluate over a grid, tidy table and trade-off curve (resumable)."

#: EvaluationSettings fields as options; fewer bootstrap replicates per point than one evaluation.
SWEEP_EVALUATION_OPTIONS: tuple[Option, ...] = (
    Option("horizon_weeks", flags=("--horizon",), dest="horizon"),
    Option("bootstrap_replicates", flags=("--bootstrap",), dest="bootstrap", default=500),
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_config_options(p, help="base configuration TOML (default: built-in defaults)")
    p.add_argument(
        "--grid",
        required=True,
        help='e.g. "combination.concern_threshold=3,4,5 combination.domain_threshold=6,8"',
    )
    p.add_argument(
        "--data",
        help="folder with observations.csv|parquet, wards.csv, events.csv, truth.csv "
        "(default: generate the benchmark trust into OUT/data)",
    )
    p.add_argument("--out", required=True, help="sweep folder (rerun with the same folder to resume)")
    p.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="parallel processes (default: cores)"
    )
    add_field_options(p, EvaluationSettings, SWEEP_EVALUATION_OPTIONS)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    import dataclasses
    import json

    from engine.evaluate import plots
    from engine.evaluate.benchmark import BenchmarkSettings, make_data
    from engine.evaluate.report import provenance
    from engine.evaluate.sweep import parse_grid, run_sweep
    from engine.scoring.outputs import file_sha256
    from engine.settings import SettingsError

    try:
        base = config_from_args(args)
        points = parse_grid(args.grid, base)
        settings = settings_from_options(args, EvaluationSettings, SWEEP_EVALUATION_OPTIONS)
    except (SettingsError, ValueError) as exc:
        raise CliError(str(exc)) from None
    out = Path(args.out)
    data = Path(args.data) if args.data else out / "data"
    if not args.data and not (data / "truth.csv").exists():
        make_data(BenchmarkSettings(), data)
    for name in ("wards.csv", "truth.csv"):
        if not (data / name).exists():
            raise CliError(f"{data}: no {name}")
    table = run_sweep(
        data, out, points, base, settings, jobs=max(1, args.jobs), progress=not args.no_progress
    )
    plots.save(plots.sweep_curve(table), out / "tradeoff")
    record = {
        "grid": args.grid,
        "set": args.set,
        "points": {p.id: dict(p.values) for p in points},
        "base_config": base.to_dict(),
        "evaluation": provenance(data / "truth.csv", out / "points" / points[0].id / "results", settings),
        "data": {f.name: file_sha256(f) for f in sorted(data.iterdir()) if f.is_file()},
        "benchmark": None if args.data else dataclasses.asdict(BenchmarkSettings()),
    }
    (out / "sweep.json").write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    cols = ["label_point", "method", "detection_rate", "delay_median", "false_alerts_per_ward_year"]
    show = table.filter(table["method"].is_in(["wardwatch", "oracle"])).select(cols)
    with __import__("polars").Config(tbl_rows=200, tbl_width_chars=160, tbl_hide_dataframe_shape=True):
        print(show)
    print(f"sweep table: {out / 'sweep.csv'} ({table.height} rows); trade-off: {out / 'tradeoff.png'}")
    return 0
