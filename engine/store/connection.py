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

from engine.store.errors import StoreError, StoreNotFoundError

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
    if path.is_dir():
        raise StoreFaultError(
            f"{path}: is a folder; give the triage store's file (e.g. {path / 'triage.db'})"
        )
    if not path.exists():
        if not create:
            raise StoreNotFoundError(f"no triage store at {path}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreFaultError(
                f"{path}: cannot create the store's folder ({exc.strerror}); choose another --store"
            ) from None
    try:
        conn = sqlite3.connect(
            str(path), isolation_level=None, timeout=busy_timeout_ms / 1000.0, check_same_thread=True
        )
    except sqlite3.Error as exc:
        raise fault(path, exc) from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":  # e.g. a network file system without shared memory
            raise sqlite3.OperationalError(f"could not switch {path} to WAL mode (got {mode!r})")
        conn.execute(f"PRAGMA synchronous = {sync}")
        conn.execute(
            "SELECT count(*) FROM sqlite_master"
        ).fetchone()  # reads the header: corruption shows here
    except sqlite3.Error as exc:
        conn.close()
        raise fault(path, exc) from None
    except BaseException:
        conn.close()
        raise
    return conn


class StoreFaultError(StoreError):
    """The store file cannot be used as it is (read-only, corrupted, locked, not a file); the message
    says which and what to do."""


def fault(path: Path, exc: sqlite3.Error) -> StoreFaultError:
    """A one-line, user-facing :class:`StoreFaultError` for an SQLite error on the store at ``path``."""
    text = str(exc).lower()
    if "readonly" in text or "read-only" in text or "unable to open" in text or "permission" in text:
        what = "is read-only or cannot be opened (file or folder permissions; SQLite also writes -wal and -shm files beside it); give write access or pass another --store"
    elif "not a database" in text or "malformed" in text or "corrupt" in text or "disk i/o" in text:
        what = "is corrupted or not an SQLite file; restore it from a backup, or pass another --store"
    elif "locked" in text or "busy" in text:
        what = "is locked by another process that did not finish in time; wait for it and run again"
    elif "wal mode" in text:
        what = f"{exc} (a network file system?); keep the store on a local disk"
    else:
        what = f"cannot be used ({exc}); check the file, or pass another --store"
    return StoreFaultError(f"triage store {path} {what}")


@contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``; roll back on any exception (then re-raise).

    An SQLite error (locked, read-only, corrupted) becomes a :class:`StoreFaultError` saying so.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise fault(_path_of(conn), exc) from None
    try:
        yield conn
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise fault(_path_of(conn), exc) from None
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise fault(_path_of(conn), exc) from None


def _path_of(conn: sqlite3.Connection) -> Path:
    """The file of the connection's main database."""
    try:
        return Path(conn.execute("PRAGMA database_list").fetchone()[2])
    except sqlite3.Error:  # pragma: no cover - the connection itself is broken
        return Path("(store)")


@contextmanager
def read_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A deferred read transaction: several SELECTs see one consistent snapshot."""
    conn.execute("BEGIN")
    try:
        yield conn
    except sqlite3.Error as exc:
        raise fault(_path_of(conn), exc) from None
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")
