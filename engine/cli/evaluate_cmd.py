"""``wardwatch evaluate``: score a results folder against known truth and compare methods."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
from pathlib import Path

from engine.cli import CliError

HELP = "Evaluate results against truth.csv: detection delays, false alerts, decoys, methods vs oracle."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--truth", help="truth.csv (from `wardwatch synth`)")
    p.add_argument("--results", help="results folder of `wardwatch score`")
    p.add_argument("--out", help="folder for episodes.csv, summary.csv, decoys.csv, plots, evaluation.json")
    p.add_argument(
        "--horizon", type=int, default=16, help="weeks from onset within which detection counts (16)"
    )
    p.add_argument(
        "--grace", type=int, default=8, help="weeks after an episode/decoy end still in its window (8)"
    )
    p.add_argument("--bootstrap", type=int, default=2000, help="bootstrap replicates for the CIs (2000)")
    p.add_argument("--seed", type=int, default=20261122, help="bootstrap seed")
    p.add_argument("--no-oracle", action="store_true", help="skip the oracle CUSUM")
    p.add_argument("--no-plots", action="store_true", help="do not render PNG/SVG plots")
    p.add_argument("--markdown", action="store_true", help="print the summary as a Markdown table")
    p.add_argument(
        "--check",
        metavar="DIR",
        help="rerun the evaluation recorded in DIR/evaluation.json and compare numbers",
    )
    p.add_argument(
        "--benchmark",
        metavar="DIR",
        help="one command: generate the benchmark trust, score it and evaluate (writes DIR/benchmark.md)",
    )
    p.add_argument("--config", help="configuration TOML for --benchmark scoring")
    p.add_argument(
        "--grid",
        choices=("default", "tiny"),
        help="with --benchmark: also run the robustness grid (one factor at a time) into DIR/grid",
    )
    p.add_argument("--jobs", type=int, default=2, help="grid cells run in parallel (2)")
    p.add_argument(
        "--grid-wards",
        type=int,
        default=100,
        help="wards in each grid cell's trust (100; scenario counts scale with it)",
    )


def _settings(args: argparse.Namespace):
    from engine.evaluate.settings import EvaluationSettings

    try:
        return EvaluationSettings(
            horizon_weeks=args.horizon,
            grace_weeks=args.grace,
            bootstrap_replicates=args.bootstrap,
            seed=args.seed,
            oracle=not args.no_oracle,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _check(folder: str) -> int:
    from engine.evaluate.report import NUMBER_FILES, check_reproduces, write_evaluation
    from engine.evaluate.run import evaluate
    from engine.evaluate.settings import EvaluationSettings
    from engine.scoring.outputs import file_sha256

    rec_path = Path(folder) / "evaluation.json"
    if not rec_path.exists():
        raise CliError(f"{folder}: no evaluation.json")
    rec = json.loads(rec_path.read_text(encoding="utf-8"))
    changed = []
    if file_sha256(rec["truth"]["path"]) != rec["truth"]["sha256"]:
        changed.append(rec["truth"]["path"])
    changed += [
        f["path"]
        for f in rec["results"]["files"].values()
        if not Path(f["path"]).exists() or file_sha256(f["path"]) != f["sha256"]
    ]
    if changed:
        raise CliError(f"inputs changed since the evaluation: {', '.join(changed)}")
    settings = EvaluationSettings(**rec["settings"])
    ev = evaluate(rec["truth"]["path"], rec["results"]["path"], settings)
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_evaluation(ev, tmp, {}, with_plots=False)
        rerun = {name: file_sha256(paths[name]) for name in NUMBER_FILES}
    diff = check_reproduces(folder, rerun)
    if diff:
        print(f"NOT reproduced: {', '.join(diff)} differ", file=sys.stderr)
        return 1
    print(f"reproduced: {', '.join(NUMBER_FILES)} identical (SHA-256) to {folder}")
    return 0


def run(args: argparse.Namespace) -> int:
    from engine.evaluate.report import provenance, summary_table, write_evaluation
    from engine.evaluate.run import EvaluationError, evaluate
    from engine.evaluate.truth import TruthError
    from engine.settings import SettingsError

    if args.check:
        return _check(args.check)
    settings = _settings(args)
    if args.benchmark:
        from engine.config import load_config
        from engine.evaluate.benchmark import run_benchmark

        try:
            config = load_config(args.config)
        except SettingsError as exc:
            raise CliError(str(exc)) from None
        ev, md = run_benchmark(args.benchmark, config, args.config, settings, with_plots=not args.no_plots)
        print(summary_table(ev.summary, settings.horizon_weeks, markdown=args.markdown))
        print(f"benchmark written to {args.benchmark} (table: {md})")
        if args.grid:
            from engine.evaluate.robustness import GridSettings, run_grid, scaled_scenarios

            if args.jobs < 1 or args.grid_wards < 20:
                raise CliError("--jobs must be at least 1 and --grid-wards at least 20")
            grid_eval = dataclasses.replace(settings, bootstrap_replicates=0)
            gs = GridSettings(
                wards=args.grid_wards, jobs=args.jobs, scenarios=scaled_scenarios(args.grid_wards)
            )
            _, grid_md = run_grid(Path(args.benchmark) / "grid", config, args.grid, gs, grid_eval)
            print(grid_md.read_text(encoding="utf-8"))
            print(f"grid written to {grid_md.parent} (table: {grid_md})")
        return 0
    if not args.truth or not args.results:
        raise CliError("--truth and --results are required (or --check DIR, or --benchmark DIR)")
    try:
        ev = evaluate(args.truth, args.results, settings)
    except (TruthError, EvaluationError, SettingsError) as exc:
        raise CliError(str(exc)) from None
    print(summary_table(ev.summary, settings.horizon_weeks, markdown=args.markdown))
    if ev.decoys.height:
        ww = ev.decoys.filter(ev.decoys["method"] == "wardwatch")
        print(
            "\ndecoys escalated to concern (wardwatch): "
            + ", ".join(f"{r['kind']} {r['escalated']}/{r['decoys']}" for r in ww.iter_rows(named=True))
        )
    if args.out:
        write_evaluation(
            ev, args.out, provenance(args.truth, args.results, settings), with_plots=not args.no_plots
        )
        print(f"evaluation written to {args.out}")
    return 0
