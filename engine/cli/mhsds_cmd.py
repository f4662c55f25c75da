"""``wardwatch import-mhsds``: turn NHS Digital MHSDS provider files into wardwatch's data contract."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli import CliError
from engine.io import FatalInputError
from engine.io.mhsds import import_mhsds, write_mhsds

HELP = (
    "Convert NHS Digital MHSDS monthly provider files (restraint, bed days, detentions) to the data contract."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "directory", type=Path, help="folder of MHSDS files (rstrNN_Mon_YYYY.csv, beds..., sect...)"
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="output folder for observations/wards/events CSV"
    )


def run(args: argparse.Namespace) -> int:
    try:
        result = import_mhsds(args.directory)
        paths = write_mhsds(result, args.out)
    except FatalInputError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write to {args.out}: {exc.strerror or exc}") from None
    print(result.report())
    print("Written:")
    for p in paths.values():
        print(f"  {p}")
    print(
        f"Next: wardwatch validate {paths['observations']} --wards {paths['wards']} --events {paths['events']}"
    )
    return 0
