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
import importlib
import os
import sys
from collections.abc import Sequence

from engine.cli.registry import BY_NAME, REGISTRY

#: sub-command name -> module implementing it (imported lazily so ``wardwatch --help`` is instant).
COMMANDS: dict[str, str] = {c.name: c.module for c in REGISTRY}


class CliError(Exception):
    """A fatal, user-facing error: printed as one line on stderr, exit code 2."""


#: Exit codes (documented in docs/data-contract.md).
EXIT_OK, EXIT_PROBLEMS, EXIT_REFUSED, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
DEBUG_FLAG = "--debug"


def _load(name: str):
    module = BY_NAME[name].module
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:  # a command whose module is not built yet
        if exc.name and module.startswith(exc.name):
            return None
        raise


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; only the module of sub-command ``only`` is imported (fast start).

    Every sub-command is listed (with its one-line help from :mod:`engine.cli.registry`), so
    ``wardwatch --help`` and an unknown command's "invalid choice" message need no command module;
    only the chosen command's options are added, by its module.
    """
    parser = argparse.ArgumentParser(
        prog="wardwatch",
        description="Early warning of closed cultures on inpatient wards, from aggregate ward data.",
        epilog="Exit codes: 0 ok, 1 rows rejected or problems listed, 2 refused (one line saying what to "
        "do), 3 internal error (add --debug anywhere for the traceback).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in REGISTRY:
        if command.name != only:
            sub.add_parser(command.name, help=command.help, description=command.help)
            continue
        module = _load(command.name)
        if module is None:
            continue
        p = sub.add_parser(command.name, help=command.help, description=command.help)
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
        if getattr(args, "command", None) and not hasattr(args, "_module"):
            # the command was not the first word (e.g. after ``--``): load its module and parse again
            parser = build_parser(only=args.command)
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

    Process tuning (:mod:`engine.runtime.process`) is done here, not in :func:`main`, which tests
    call in a long-lived process: the default ``[runtime] blas_threads`` (1) unless the environment
    says otherwise (set before numpy loads: OpenBLAS would start a busy-waiting thread per core for
    matrices of a few hundred states; a configured value is applied while scoring), and the objects
    the imports left frozen before exit (spares the final collection).
    """
    from engine.runtime.blas import default_blas_threads
    from engine.runtime.process import freeze_before_exit

    default_blas_threads()
    code = main()
    freeze_before_exit()
    return code


if __name__ == "__main__":
    sys.exit(console_main())
