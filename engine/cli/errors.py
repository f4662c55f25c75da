"""The command line's error contract: any exception -> one printable line and an exit code.

User-caused failures (a refused file, a bad setting, an unusable store, a path that cannot be written)
exit 2 with a line that names the file and what to do; anything else is an internal error, exit 3,
with a hint to rerun with ``--debug`` for the traceback. Imported only when something failed.
"""

from __future__ import annotations

import errno
import sqlite3

from engine.cli import EXIT_INTERNAL, EXIT_REFUSED, CliError

_OS_HINTS: dict[int, str] = {
    errno.ENOENT: "check the path",
    errno.EISDIR: "give a file, not a folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EACCES: "check the permissions, or choose another path",
    errno.EPERM: "check the permissions, or choose another path",
    errno.EROFS: "the file system is read-only: choose another path",
    errno.ENOSPC: "the disk is full: free some space and run again",
    errno.EEXIST: "remove it or choose another path",
}


def one_line(text: object) -> str:
    """``text`` on one line (runs of white space, newlines included, become one space)."""
    return " ".join(str(text).split())


def describe(exc: BaseException) -> tuple[str, int]:
    """The one-line message and exit code for an exception that reached the command line."""
    from engine.io.errors import FatalInputError
    from engine.settings import SettingsError
    from engine.store.errors import StoreError

    if isinstance(exc, CliError | FatalInputError | SettingsError | StoreError):
        return one_line(exc), EXIT_REFUSED
    if isinstance(exc, OSError) and exc.errno is not None:
        where = exc.filename if exc.filename is not None else "a file"
        hint = _OS_HINTS.get(exc.errno, "check the path and try again")
        return one_line(f"{where}: {exc.strerror or exc}; {hint}"), EXIT_REFUSED
    if isinstance(exc, sqlite3.DatabaseError):
        from pathlib import Path

        from engine.store.connection import fault

        return one_line(str(fault(Path("(--store)"), exc))), EXIT_REFUSED
    if isinstance(exc, MemoryError):
        return (
            "out of memory: the input is too large for this machine; free memory or split the file by "
            "period, then run again",
            EXIT_INTERNAL,
        )
    first = one_line(exc)[:300]
    return (
        f"internal error ({type(exc).__name__}: {first}); this is a wardwatch bug: rerun with --debug for "
        "the traceback and report it",
        EXIT_INTERNAL,
    )
