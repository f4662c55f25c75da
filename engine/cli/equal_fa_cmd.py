"""``wardwatch equal-fa``: settings variants compared at equal measured false-alarm rates."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli import CliError
from engine.cli.settings_args import add_config_options, config_from_args

HELP = "Compare settings variants at equal false-alarm rates on trusts with known truth (issue 26)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "data",
        nargs="+",
        help="trust folders with observations, wards.csv, events.csv and truth.csv (e.g. bench/data "
        "bench/grid/*/data from evaluate --benchmark --grid)",
    )
    add_config_options(p, help="base configuration TOML (default: built-in defaults)")
    p.add_argument(
        "--grid",
        default="",
        help='variants as in sweep, e.g. "combination.concern_rule=balanced,gated_total"; the base '
        "configuration alone when omitted",
    )
    p.add_argument(
        "--target", type=float, default=0.1, help="false concern alerts per ward-year (default 0.1)"
    )
    p.add_argument("--step", type=float, default=0.125, help="threshold grid step in nats (default 0.125)")
    p.add_argument(
        "--true-baselines",
        action="store_true",
        help="also score each variant with the generator's true in-control rates (latent.parquet beside "
        "the data; synth --latent): how much of the gap is baseline estimation",
    )
    p.add_argument("--out", help="CSV of every variant and trust (default: print only)")


def run(args: argparse.Namespace) -> int:
    import polars as pl

    from engine.evaluate.equal_fa import EqualFASettings, equal_fa_table, summary_by_variant
    from engine.evaluate.sweep import parse_grid
    from engine.settings import SettingsError

    try:
        base = config_from_args(args)
        points = parse_grid(args.grid, base) if args.grid.strip() else []
        settings = EqualFASettings(target=args.target, step=args.step)
    except (SettingsError, ValueError) as exc:
        raise CliError(str(exc)) from None
    folders = [Path(d) for d in args.data]
    needed = (
        ("wards.csv", "truth.csv", "latent.parquet") if args.true_baselines else ("wards.csv", "truth.csv")
    )
    for folder in folders:
        for name in needed:
            if not (folder / name).exists():
                raise CliError(f"{folder}: no {name}")
    variants = {p.label: p.apply(base) for p in points} if points else {"base": base}
    table = equal_fa_table(folders, variants, settings, true_baselines=args.true_baselines)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        table.write_csv(args.out)
    with pl.Config(tbl_rows=500, tbl_width_chars=200, tbl_hide_dataframe_shape=True, fmt_str_lengths=60):
        print(table)
        print(summary_by_variant(table))
    return 0
