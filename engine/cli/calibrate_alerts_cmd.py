"""``wardwatch calibrate-alerts``: set the concern, urgent and CUSUM thresholds by simulation."""

from __future__ import annotations

import argparse
import sys

from engine.cli import CliError
from engine.cli.settings_args import add_config_options, config_from_args

HELP = "Calibrate alert thresholds so false concern alerts meet the trust-wide target (simulation)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--observations", required=True, help="observations CSV or Parquet")
    p.add_argument("--wards", required=True, help="ward register CSV")
    p.add_argument("--events", help="events CSV")
    add_config_options(p, help="configuration TOML to start from")
    p.add_argument("--replicates", type=int, help="in-control replicates of the trust (default from config)")
    p.add_argument("--seed", type=int, help="simulation seed (default from config)")
    p.add_argument("--write", help="write the calibrated configuration (TOML) here")
    p.add_argument("--table", help="write the threshold table (CSV) here")


def run(args: argparse.Namespace) -> int:
    from engine.config import save_config
    from engine.io import FatalInputError, load_dataset
    from engine.scoring.calibrate import calibrate_alerts
    from engine.settings import SettingsError

    config = config_from_args(args)
    try:
        load = load_dataset(args.observations, args.wards, args.events, catalogue=config.build_catalogue())
    except (SettingsError, FatalInputError) as exc:
        raise CliError(str(exc)) from None
    if args.replicates is not None and args.replicates < 1:
        raise CliError("--replicates must be at least 1")

    from tqdm import tqdm

    total = args.replicates or config.combination.calibration_replicates
    with tqdm(total=total, desc="calibrate-alerts", unit="replicate", file=sys.stderr) as bar:

        def progress(done: int, _total: int) -> None:
            bar.update(done - bar.n)

        report = calibrate_alerts(
            load.observations,
            load.wards,
            load.events,
            load.cadence,
            config,
            args.replicates,
            args.seed,
            progress,
        )
    comb = config.combination
    rate, se = report.rate_at(report.concern_threshold)
    print(
        f"simulated {report.ward_years:,.0f} monitored ward-years ({report.replicates} replicates, seed {report.seed})"
    )
    print(
        f"concern threshold {report.concern_threshold:g} nats: {rate:.3f} ± {se:.3f} false concern alerts "
        f"per ward-year (target {comb.target_false_concern_per_ward_year:g})"
    )
    ci = int(abs(report.grid - report.concern_threshold).argmin())
    if report.decoys:
        print(
            f"  {report.decoy_rate[ci]:.1%} of {report.decoys} simulated single-domain changes escalate to "
            f"concern (target {comb.target_decoy_escalation:.0%})"
        )
    print(f"urgent threshold {report.urgent_threshold:g} nats (restrictive practice or harm)")
    wi = int(abs(report.grid - report.watch_threshold).argmin())
    print(
        f"watch threshold {report.watch_threshold:g} nats (the constellation of two or more domains): "
        f"{report.watch_rate[wi]:.3f} false watch openings per ward-year "
        f"(target {comb.target_false_watch_per_ward_year:g}), {report.watch_share[wi]:.1%} of ward-weeks "
        f"at watch or above (target {comb.target_watch_share:.0%})"
    )
    print(
        f"indicator CUSUM threshold {report.cusum_threshold:g} nats "
        f"(+ {report.silence_rate:.2f} zero-run silence alerts per ward-year; "
        f"budget {comb.target_false_indicator_alerts_per_ward_year:g})"
    )
    if args.table:
        report.table().write_csv(args.table)
    if args.write:
        save_config(report.apply(config), args.write)
        print(f"calibrated configuration written to {args.write}")
    return 0
