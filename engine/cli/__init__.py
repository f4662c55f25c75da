"""The ``wardwatch`` command line: one sub-command per module, loaded only when used.

Each sub-command lives in its own module exposing ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int`` (the exit code). Exit codes across the tool (docs/data-contract.md):

* 0 success;
* 1 completed with problems the user should look at (e.g. rejected rows, listed);
* 2 refused: a fatal input, configuration, store or usage error the user can fix (one line on
  stderr naming the file and what to do, never a traceback);
* 3 an unexpected internal error (one line saying so, with a hint to rerun with ``--debug`` for the
  traceback);
* 130 interrupted (Ctrl-C).
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


#: Exit codes (documented in docs/data-contract.md).
EXIT_OK, EXIT_PROBLEMS, EXIT_REFUSED, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
DEBUG_FLAG = "--debug"


def _load(name: str):
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
        epilog="Exit codes: 0 ok, 1 rows rejected or problems listed, 2 refused (one line saying what to "
        "do), 3 internal error (add --debug anywhere for the traceback).",
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
    """Run one sub-command; every failure ends in one line on stderr and a documented exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = DEBUG_FLAG in argv or os.environ.get("WARDWATCH_DEBUG", "") not in ("", "0")
    argv = [a for a in argv if a != DEBUG_FLAG]
    command = argv[0] if argv and argv[0] in COMMANDS else None
    try:
        parser = build_parser(only=command)
        args = parser.parse_args(argv)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_REFUSED
    try:
        return int(args._module.run(args) or 0)
    except KeyboardInterrupt:
        print(f"wardwatch {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:
        from engine.cli.errors import describe

        message, code = describe(exc)
        print(f"wardwatch {args.command}: error: {message}", file=sys.stderr)
        if debug and code == EXIT_INTERNAL:
            import traceback

            traceback.print_exception(exc, file=sys.stderr)
        return code


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
