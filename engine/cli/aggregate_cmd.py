"""``wardwatch aggregate``: event-level exports + mapping + exposure -> the observations contract."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli import CliError

HELP = "Aggregate event-level exports (one row per incident) into ward observations (see docs/aggregate.md)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("events", nargs="+", type=Path, help="event export(s), CSV or Parquet: one row per event")
    p.add_argument("--mapping", required=True, type=Path, help="mapping TOML: columns, categories, coverage")
    p.add_argument(
        "--exposure",
        required=True,
        type=Path,
        help="bed days / shifts: ward_id, period, denominator[, indicator]",
    )
    p.add_argument("--coverage", type=Path, help="per-period coverage CSV: ward_id, period[, source]")
    p.add_argument("--out", required=True, type=Path, help="output folder (observations.csv, reports)")


def run(args: argparse.Namespace) -> int:
    from engine.io import FatalInputError
    from engine.io.aggregate import aggregate, write_aggregate

    try:
        result = aggregate(list(args.events), args.mapping, args.exposure, args.coverage)
        paths = write_aggregate(result, args.out)
    except FatalInputError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write to {args.out}: {exc.strerror or exc}") from None
    print(result.report())
    print(f"Written: {paths['observations']}")
    print(f"Next: wardwatch validate {paths['observations']} --wards <ward register>")
    return 1 if result.rejected.height else 0
