"""The triage store's schema and its migrations (``PRAGMA user_version`` is the schema version).

Each migration is a function applied inside the same ``BEGIN IMMEDIATE`` transaction as the
``user_version`` bump and its ``schema_history`` line, so a migration either happens completely or
not at all, and two processes opening an old store at once migrate it exactly once.

**Never edit a shipped migration**: stores in the field were built by it. Add a new one instead
(and a test that a store of the previous version migrates without losing data).

Versions
--------
1. First schema: ``alerts`` (scored fields + triage state), append-only ``notes``, ``audit`` and
   ``evidence`` (triggers refuse UPDATE and DELETE), alerts can never be deleted.
2. Optimistic concurrency: ``alerts.version`` (existing alerts start at 1), and indexes for the
   inbox queries (status, ward) and for an alert's notes, audit and evidence.
3. Provider alerts and triage that follows the data (issue 22, issue 20 item 7): the ``alerts``
   table is rebuilt (SQLite cannot change a CHECK constraint in place) to accept the ``provider``
   scope (``ward_id`` empty, ``provider`` named), the ``historical`` status and the
   ``ended_before_triage`` and ``superseded`` outcomes, with new columns ``provider``,
   ``parent_id`` (an indicator alert's ward alert), ``superseded_by`` (the alert a re-score put
   in its place) and ``follows`` (a follow-up alert's closed alert: evidence that kept growing
   after a "no concern" closure). Every existing row is copied unchanged (new columns empty); notes, audit and
   evidence are not touched. A ``scoring_runs`` table (append-only) records each run the store
   received: when, by whom, the last period of its data and what it changed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from engine.store.columns import ALERTS_CSV_COLUMNS, TRIAGE_COLUMNS, sql_list
from engine.store.errors import SchemaError

#: the column definitions versions 1 and 3 of ``alerts`` share, from ``indicator`` to ``status``'s
#: default (the text is part of the shipped DDL: never change it).
_ALERT_BODY = """\
    indicator         TEXT,
    method            TEXT,
    level             TEXT NOT NULL,
    direction         TEXT,
    opened            TEXT NOT NULL,
    onset_estimate    TEXT,
    last_seen         TEXT,
    closed            TEXT,
    statistic         REAL,
    threshold         REAL,
    explanation       TEXT NOT NULL DEFAULT '',
    first_scored_at   TEXT NOT NULL,
    last_scored_at    TEXT NOT NULL,
    status            TEXT NOT NULL DEFAULT 'new'
"""

#: DDL of schema version 1, exactly as shipped (tests/store keeps a frozen copy to compare).
V1_STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE schema_history (
    version     INTEGER PRIMARY KEY,
    applied_at  TEXT NOT NULL,
    description TEXT NOT NULL
)""",
    f"""CREATE TABLE alerts (
    alert_id          TEXT PRIMARY KEY NOT NULL CHECK (length(alert_id) > 0),
    ward_id           TEXT NOT NULL CHECK (length(ward_id) > 0),
    scope             TEXT NOT NULL CHECK (scope IN ('ward', 'indicator')),
{_ALERT_BODY}                      CHECK (status IN ('new', 'acknowledged', 'investigating', 'closed')),
    outcome           TEXT CHECK (outcome IN ('no_concern', 'action_taken', 'escalated_safeguarding')),
    assignee          TEXT,
    reopened_reason   TEXT,
    status_changed_at TEXT,
    CHECK ((status = 'closed') = (outcome IS NOT NULL))
)""",
    """CREATE TABLE notes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id   TEXT NOT NULL REFERENCES alerts (alert_id),
    author     TEXT NOT NULL CHECK (length(author) > 0),
    created_at TEXT NOT NULL,
    text       TEXT NOT NULL CHECK (length(text) > 0)
)""",
    """CREATE TABLE audit (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL REFERENCES alerts (alert_id),
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL CHECK (length(actor) > 0),
    action   TEXT NOT NULL,
    field    TEXT,
    old      TEXT,
    new      TEXT
)""",
    """CREATE TABLE evidence (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id    TEXT NOT NULL REFERENCES alerts (alert_id),
    scored_at   TEXT NOT NULL,
    level       TEXT NOT NULL,
    statistic   REAL,
    threshold   REAL,
    last_seen   TEXT,
    closed      TEXT,
    explanation TEXT NOT NULL DEFAULT ''
)""",
    *(
        f"""CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table}
BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"""
        for table in ("notes", "audit", "evidence")
        for op in ("UPDATE", "DELETE")
    ),
    """CREATE TRIGGER alerts_no_delete BEFORE DELETE ON alerts
BEGIN SELECT RAISE(ABORT, 'alerts are never deleted: close them instead'); END""",
)

V2_STATEMENTS: tuple[str, ...] = (
    "ALTER TABLE alerts ADD COLUMN version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1)",
    "CREATE INDEX alerts_status ON alerts (status, ward_id)",
    "CREATE INDEX alerts_ward ON alerts (ward_id, opened)",
    "CREATE INDEX notes_alert ON notes (alert_id, id)",
    "CREATE INDEX audit_alert ON audit (alert_id, id)",
    "CREATE INDEX evidence_alert ON evidence (alert_id, id)",
)


#: ``alerts`` as rebuilt by version 3 (columns of versions 1-2 first, in their order, then the new ones).
V3_ALERTS = f"""CREATE TABLE alerts_v3 (
    alert_id          TEXT PRIMARY KEY NOT NULL CHECK (length(alert_id) > 0),
    ward_id           TEXT NOT NULL,
    scope             TEXT NOT NULL CHECK (scope IN ('ward', 'indicator', 'provider')),
{_ALERT_BODY}                      CHECK (status IN ('new', 'acknowledged', 'investigating', 'closed', 'historical')),
    outcome           TEXT CHECK (outcome IN ('no_concern', 'action_taken', 'escalated_safeguarding',
                                              'ended_before_triage', 'superseded')),
    assignee          TEXT,
    reopened_reason   TEXT,
    status_changed_at TEXT,
    version           INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
    provider          TEXT,
    parent_id         TEXT,
    superseded_by     TEXT,
    follows           TEXT,
    CHECK ((status = 'closed') = (outcome IS NOT NULL)),
    CHECK (scope = 'provider' OR length(ward_id) > 0),
    CHECK (scope <> 'provider' OR length(coalesce(provider, '')) > 0)
)"""
#: columns every version since 2 has, copied verbatim by the version 3 rebuild.
V2_ALERT_COLUMNS = sql_list((*ALERTS_CSV_COLUMNS, *TRIAGE_COLUMNS))
V3_STATEMENTS: tuple[str, ...] = (
    V3_ALERTS,
    f"INSERT INTO alerts_v3 ({V2_ALERT_COLUMNS}) SELECT {V2_ALERT_COLUMNS} FROM alerts",
    "DROP TABLE alerts",  # its indexes and trigger go with it; recreated below
    "ALTER TABLE alerts_v3 RENAME TO alerts",
    "CREATE INDEX alerts_status ON alerts (status, ward_id)",
    "CREATE INDEX alerts_ward ON alerts (ward_id, opened)",
    "CREATE INDEX alerts_parent ON alerts (parent_id)",
    "CREATE INDEX alerts_provider ON alerts (provider, scope)",
    "CREATE INDEX alerts_follows ON alerts (follows)",
    """CREATE TRIGGER alerts_no_delete BEFORE DELETE ON alerts
BEGIN SELECT RAISE(ABORT, 'alerts are never deleted: close them instead'); END""",
    """CREATE TABLE scoring_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    scored_at   TEXT NOT NULL,
    actor       TEXT NOT NULL CHECK (length(actor) > 0),
    data_end    TEXT,
    complete    INTEGER NOT NULL CHECK (complete IN (0, 1)),
    alerts      INTEGER NOT NULL,
    inserted    INTEGER NOT NULL,
    historical  INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    unchanged   INTEGER NOT NULL,
    older       INTEGER NOT NULL,
    superseded  INTEGER NOT NULL
)""",
    *(
        f"""CREATE TRIGGER scoring_runs_no_{op.lower()} BEFORE {op} ON scoring_runs
BEGIN SELECT RAISE(ABORT, 'scoring_runs is append-only: {op} refused'); END"""
        for op in ("UPDATE", "DELETE")
    ),
)


def _v3(conn: sqlite3.Connection) -> None:
    """Rebuild ``alerts`` (see module doc); refuse to commit if any note, audit line or evidence row
    would lose its alert (``migrate`` runs this with foreign keys off, as SQLite's rebuild needs)."""
    before = conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
    for stmt in V3_STATEMENTS:
        conn.execute(stmt)
    after = conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
    broken = conn.execute("PRAGMA foreign_key_check").fetchall()
    if before != after or broken:
        raise SchemaError(
            f"migration to version 3 would lose data ({before} alerts before, {after} after, "
            f"{len(broken)} orphaned rows); the store was left unchanged"
        )


def _run(statements: tuple[str, ...]) -> Callable[[sqlite3.Connection], None]:
    def apply(conn: sqlite3.Connection) -> None:
        for stmt in statements:
            conn.execute(stmt)

    return apply


@dataclass(frozen=True)
class Migration:
    """Schema change from ``version - 1`` to ``version``; ``apply`` runs inside the transaction."""

    version: int
    description: str
    apply: Callable[[sqlite3.Connection], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "first schema: alerts, notes, audit, evidence", _run(V1_STATEMENTS)),
    Migration(2, "alerts.version for optimistic concurrency; inbox indexes", _run(V2_STATEMENTS)),
    Migration(3, "provider scope, historical status, parent and successor links; scoring_runs", _v3),
)
LATEST_VERSION: int = MIGRATIONS[-1].version


def schema_version(conn: sqlite3.Connection) -> int:
    """The store's schema version (``PRAGMA user_version``; 0 for an empty file)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, now: str, target: int = LATEST_VERSION) -> list[int]:
    """Bring the store to schema ``target``; return the versions applied (empty if up to date).

    ``conn`` must be in autocommit mode (``isolation_level=None``). All pending migrations run in
    one ``BEGIN IMMEDIATE`` transaction: on any error nothing is changed.

    Raises
    ------
    SchemaError
        The store is newer than this wardwatch, or the file holds tables but is not a wardwatch store.
    """
    if schema_version(conn) == target:
        return []
    # a table rebuild (version 3) drops and renames ``alerts``; SQLite only allows that with foreign
    # keys off, which can only be switched outside a transaction. ``_v3`` checks them itself.
    fk_on = bool(conn.execute("PRAGMA foreign_keys").fetchone()[0])
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(conn)  # re-read under the write lock: another process may have won
        if current > LATEST_VERSION:
            raise SchemaError(
                f"triage store has schema version {current}, newer than this wardwatch "
                f"understands ({LATEST_VERSION}); upgrade wardwatch"
            )
        if current == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise SchemaError("file is an SQLite database but not a wardwatch triage store")
        applied = []
        for mig in MIGRATIONS:
            if current < mig.version <= target:
                mig.apply(conn)
                conn.execute(f"PRAGMA user_version = {int(mig.version)}")
                conn.execute(
                    "INSERT INTO schema_history (version, applied_at, description) VALUES (?, ?, ?)",
                    (mig.version, now, mig.description),
                )
                applied.append(mig.version)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    finally:
        if fk_on:
            conn.execute("PRAGMA foreign_keys = ON")
    return applied
