"""``wardwatch synth``: write a synthetic trust (observations, wards, events, truth) to a folder."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import time
from types import MappingProxyType

import polars as pl

from engine.cli import CliError
from synthetic.frames import write_trust
from synthetic.generator import generate
from synthetic.scenarios import ScenarioError
from synthetic.spec import (
    DEFAULT_SCENARIOS,
    MessSettings,
    ScenarioSpecError,
    TrustSpec,
    parse_scenarios,
    scaled_default_counts,
)

HELP = "Generate a synthetic trust with injected closed-culture episodes, decoys and ground truth."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = TrustSpec()
    parser.add_argument("--out", required=True, help="output folder (created if needed)")
    parser.add_argument("--wards", type=int, default=d.n_wards, help=f"number of wards (default {d.n_wards})")
    parser.add_argument(
        "--weeks", type=int, default=d.n_weeks, help=f"weeks to simulate (default {d.n_weeks})"
    )
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument(
        "--start",
        default=d.start.isoformat(),
        help=f"first week, a Monday, YYYY-MM-DD (default {d.start.isoformat()})",
    )
    parser.add_argument(
        "--scenarios",
        default=None,
        help="KIND=COUNT[,KIND=COUNT...] or 'none'; kinds: closed_culture, concealment, acute_patient, "
        "staffing_crisis, winter_pressure, definition_change, reporting_migration "
        f"(default {DEFAULT_SCENARIOS} for 40 wards, scaled with --wards; winter_pressure stays 1)",
    )
    parser.add_argument(
        "--suppression",
        action="store_true",
        help="public-data mode: counts under 5 written '*', other counts rounded to the nearest 5",
    )
    parser.add_argument(
        "--no-mess",
        action="store_true",
        help="no missing submissions, late joiners, reconfigurations or unknown values",
    )
    parser.add_argument(
        "--workforce-cadence",
        choices=("weekly", "monthly"),
        default=d.workforce_cadence,
        help="monthly: agency and bank shifts written as one row per month, the sums of its weeks "
        "(as a rostering system that reports monthly sends them)",
    )
    parser.add_argument(
        "--format", choices=("csv", "parquet"), default="csv", help="observations file format"
    )
    parser.add_argument(
        "--latent",
        action="store_true",
        help="also write latent.parquet: the true in-control rates (what the evaluation's oracle knows)",
    )
    parser.add_argument(
        "--events-level",
        action="store_true",
        help="also write an incident-system export (one row per event) with its mapping, bed days and "
        "coverage in OUT/events_level, for `wardwatch aggregate` (docs/aggregate.md)",
    )


def spec_from_args(args: argparse.Namespace) -> TrustSpec:
    """The :class:`TrustSpec` a command line asks for (raises ``CliError`` on bad input)."""
    try:
        counts = (
            scaled_default_counts(args.wards) if args.scenarios is None else parse_scenarios(args.scenarios)
        )
        start = dt.date.fromisoformat(args.start)
    except (ScenarioSpecError, ValueError) as exc:
        raise CliError(str(exc)) from None
    if args.wards < 1 or args.weeks < 1:
        raise CliError("--wards and --weeks must be positive")
    if args.seed < 0:
        raise CliError("--seed must be a non-negative integer")
    mess = MessSettings.none(args.suppression) if args.no_mess else MessSettings(suppression=args.suppression)
    base = TrustSpec()
    try:
        return TrustSpec(
            n_wards=args.wards,
            n_weeks=args.weeks,
            start=start,
            mess=mess,
            scenarios=dataclasses.replace(base.scenarios, counts=MappingProxyType(counts)),
            workforce_cadence=getattr(args, "workforce_cadence", base.workforce_cadence),
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None


def run(args: argparse.Namespace) -> int:
    spec = spec_from_args(args)
    t0 = time.perf_counter()
    try:
        trust = generate(spec, seed=args.seed)
    except ScenarioError as exc:
        raise CliError(str(exc)) from None
    t1 = time.perf_counter()
    try:
        paths = write_trust(trust, args.out, args.format, latent=args.latent)
    except OSError as exc:
        raise CliError(f"cannot write to {args.out}: {exc}") from None
    if args.events_level:
        from synthetic.events_level import write_events_level

        paths.update(
            {
                f"events_level/{k}": v
                for k, v in write_events_level(trust.observations, args.out, args.seed).items()
            }
        )
    t2 = time.perf_counter()
    groups = trust.truth.group_by("kind").agg(pl.col("group_id").n_unique()).sort("kind")
    n_groups = dict(zip(groups["kind"].to_list(), groups["group_id"].to_list(), strict=True))
    print(
        f"synthetic trust: {spec.n_wards} wards x {spec.n_weeks} weeks, seed {args.seed}: "
        f"{trust.frame.height:,} observation rows, {trust.events.height:,} events, "
        f"{trust.truth.height:,} truth rows"
    )
    if n_groups:
        print("episodes: " + ", ".join(f"{k}={v}" for k, v in n_groups.items()))
    for name, path in paths.items():
        print(f"  {name:<13}{path}")
    print(f"generated in {t1 - t0:.1f} s, written in {t2 - t1:.1f} s")
    return 0
