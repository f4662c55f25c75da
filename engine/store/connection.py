"""Opening the store's SQLite file and running transactions on it.

Every connection: autocommit mode driven by explicit ``BEGIN``/``COMMIT`` (``isolation_level=None``),
``foreign_keys=ON``, a ``busy_timeout`` so concurrent writers queue instead of failing, WAL journal
(readers never block the writer, a killed writer leaves the last committed state intact), and
``synchronous`` from the settings (``FULL``: a commit survives power loss).

Writes use ``BEGIN IMMEDIATE``: the write lock is taken before anything is read, so a
read-check-write sequence (version check, transition check, update, audit line) is atomic with
respect to every other process.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from engine.store.errors import StoreNotFoundError

_SYNCHRONOUS = frozenset({"OFF", "NORMAL", "FULL", "EXTRA"})


def connect(path: Path, *, busy_timeout_ms: int, synchronous: str, create: bool) -> sqlite3.Connection:
    """Open ``path`` with the store's pragmas; create the file (and its folder) only if ``create``.

    Raises
    ------
    StoreNotFoundError
        ``create`` is false and ``path`` does not exist.
    ValueError
        ``synchronous`` is not an SQLite synchronous level.
    """
    sync = synchronous.upper()
    if sync not in _SYNCHRONOUS:
        raise ValueError(f"synchronous must be one of {sorted(_SYNCHRONOUS)}, got {synchronous!r}")
    if not path.exists():
        if not create:
            raise StoreNotFoundError(f"no triage store at {path}")
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path), isolation_level=None, timeout=busy_timeout_ms / 1000.0, check_same_thread=True
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":  # e.g. a network file system without shared memory
            raise sqlite3.OperationalError(f"could not switch {path} to WAL mode (got {mode!r})")
        conn.execute(f"PRAGMA synchronous = {sync}")
    except BaseException:
        conn.close()
        raise
    return conn


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``; roll back on any exception (then re-raise)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def read_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A deferred read transaction: several SELECTs see one consistent snapshot."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
