"""``wardwatch calibrate``: the threshold giving a target in-control ARL."""

from __future__ import annotations

import argparse
import json

from engine.arl.budget import arl0_for_expected_false_alarms
from engine.arl.spec import SpecError, chart_calibrate
from engine.cli import CliError
from engine.cli.arl_cmd import add_chart_arguments, settings_from_args, spec_from_args

HELP = "Threshold (CUSUM h, EWMA/Shewhart L) giving a target in-control ARL."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the chart options and the target."""
    add_chart_arguments(parser, threshold=False)
    g = parser.add_argument_group("target (one of)")
    g.add_argument("--target-arl", type=float, help="target in-control ARL (periods)")
    g.add_argument(
        "--alarms-per-ward-year",
        type=float,
        help="false-alarm budget: expected false alarms per ward per year (sets ARL0 = charts × periods / budget)",
    )
    g.add_argument(
        "--charts-per-ward", type=int, default=1, help="charts per ward sharing the budget (default 1)"
    )
    g.add_argument(
        "--periods-per-year", type=float, default=52.0, help="chart periods per year (default 52: weekly)"
    )


def _target(args: argparse.Namespace) -> float:
    if (args.target_arl is None) == (args.alarms_per_ward_year is None):
        raise CliError("give exactly one of --target-arl and --alarms-per-ward-year")
    if args.target_arl is not None:
        return args.target_arl
    try:
        return arl0_for_expected_false_alarms(
            args.alarms_per_ward_year, args.charts_per_ward, args.periods_per_year
        )
    except ValueError as exc:
        raise CliError(str(exc)) from exc


def run(args: argparse.Namespace) -> int:
    """Print the threshold (text, or JSON with ``threshold``, ``arl0``, ``target_arl0``, ``method``, ``se``)."""
    try:
        res = chart_calibrate(spec_from_args(args), _target(args), settings=settings_from_args(args))
    except SpecError as exc:
        raise CliError(str(exc)) from exc
    name = "h" if args.chart == "cusum" else "L"
    if args.json:
        out = res.as_dict()
        out["parameter"] = name
        print(json.dumps(out))
    else:
        se = f", se {res.se:.3g}" if res.se is not None else ""
        print(
            f"{name} = {res.threshold:.6g} (ARL0 {res.arl0:.6g} for target {res.target_arl0:g}; {res.method}{se})"
        )
    return 0
