"""``wardwatch validate``: check a dataset against the data contract and report what is wrong.

Exit codes: 0 every row accepted, 1 some rows rejected (listed with reasons, and written to
``--rejects``), 2 a file refused outright (one line on stderr).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli import CliError
from engine.cli.settings_args import add_config_options, config_from_args
from engine.io import FatalInputError, load_dataset
from engine.io.safe_csv import write_safe_csv

HELP = "Check observations, ward register and events against the data contract; list every rejected row."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("observations", type=Path, help="observations file (CSV or Parquet, long or wide)")
    parser.add_argument("--wards", type=Path, required=True, help="ward register (CSV)")
    parser.add_argument("--events", type=Path, default=None, help="events file (CSV, optional)")
    parser.add_argument(
        "--rejects", type=Path, default=None, help="write rejected rows with reasons to this CSV file"
    )
    parser.add_argument("--max-lines", type=int, default=10, help="example lines per section (default 10)")
    add_config_options(parser, help="configuration TOML: its [input] date window and limits, [catalogue]")


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    try:
        result = load_dataset(
            args.observations,
            args.wards,
            events=args.events,
            catalogue=config.build_catalogue(),
            limits=config.input,
        )
    except FatalInputError as exc:
        raise CliError(str(exc)) from None
    print(result.summary(max_lines=args.max_lines))
    if args.rejects is not None:
        try:
            args.rejects.parent.mkdir(parents=True, exist_ok=True)
            write_safe_csv(result.rejected, args.rejects)
        except OSError as exc:
            raise CliError(f"cannot write {args.rejects}: {exc.strerror or exc}") from None
        print(f"Rejected rows written to {args.rejects} ({result.n_rejected:,} rows)")
    if result.ok:
        print("Result: all rows accepted.")
        return 0
    print(f"Result: {result.n_rejected:,} row(s) rejected; see the reasons above.")
    return 1
