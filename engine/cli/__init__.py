"""The ``wardwatch`` command line: one sub-command per module, loaded only when used.

Each sub-command lives in its own module exposing ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int`` (the exit code). Exit codes across the tool: 0 success, 1 completed with
problems the user should look at (e.g. rejected rows), 2 fatal input or usage error (message on
stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import gc
import importlib
import os
import sys
from collections.abc import Sequence

# numpy's and scipy's OpenBLAS each start a thread per core that busy-waits after every call; the
# matrices here are small (ARL chains of a few hundred states), so on a 2-core machine those threads
# only take CPU from the scoring threads. Set before numpy is imported; a user's setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


#: sub-command name -> module implementing it (imported lazily so ``wardwatch --help`` is instant).
COMMANDS: dict[str, str] = {
    "validate": "engine.cli.validate_cmd",
    "import-mhsds": "engine.cli.mhsds_cmd",
    "aggregate": "engine.cli.aggregate_cmd",
    "synth": "synthetic.cli",
    "spc": "engine.cli.spc_cmd",
    "arl": "engine.cli.arl_cmd",
    "calibrate": "engine.cli.calibrate_cmd",
    "calibrate-alerts": "engine.cli.calibrate_alerts_cmd",
    "changepoints": "engine.cli.changepoint_cmd",
    "score": "engine.cli.score_cmd",
    "alerts": "engine.cli.alerts_cmd",
    "config": "engine.cli.config_cmd",
    "evaluate": "engine.cli.evaluate_cmd",
    "sweep": "engine.cli.sweep_cmd",
    "brief": "dashboard.cli_brief",
    "dashboard": "dashboard.cli_dashboard",
    "demo": "engine.cli.demo_cmd",
}


class CliError(Exception):
    """A fatal, user-facing error: printed as one line on stderr, exit code 2."""


def _load(name: str):  # type: ignore[no-untyped-def]
    try:
        return importlib.import_module(COMMANDS[name])
    except ModuleNotFoundError as exc:  # a command whose module is not built yet
        if exc.name and COMMANDS[name].startswith(exc.name):
            return None
        raise


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only``, just that sub-command's module is imported (fast start)."""
    parser = argparse.ArgumentParser(
        prog="wardwatch",
        description="Early warning of closed cultures on inpatient wards, from aggregate ward data.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS if only is None else [only]:
        module = _load(name)
        if module is None:
            continue
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_module=module)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    parser = build_parser(only=command)
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args._module.run(args) or 0)
    except CliError as exc:
        print(f"wardwatch {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def console_main() -> int:
    """The ``wardwatch`` command (``python -m engine.cli``): :func:`main` in a process that then ends.

    The imports (numba, polars, scipy, pyarrow...) leave millions of objects that the interpreter's
    final garbage collection would walk once more on the way out (~0.4 s after a national score).
    Nothing is left to collect by then, so they are frozen first (``gc.freeze``). Not in :func:`main`,
    which tests call in a long-lived process.
    """
    code = main()
    gc.freeze()
    return code


if __name__ == "__main__":
    sys.exit(console_main())
