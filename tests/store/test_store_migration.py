"""Schema migrations: a store of every earlier schema version is migrated without losing data."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from store_workers import make_record

import engine.store.schema as schema
from engine.store import LATEST_VERSION, SchemaError, TriageStore

V1_SQL = Path(__file__).with_name("v1_schema.sql")
ROOT = Path(__file__).resolve().parents[2]

V1_DATA = [
    "INSERT INTO schema_history VALUES (1, '2025-06-02T08:00:00.000000Z', 'first schema')",
    """INSERT INTO alerts (alert_id, ward_id, scope, indicator, method, level, direction, opened,
       onset_estimate, last_seen, closed, statistic, threshold, explanation, first_scored_at,
       last_scored_at, status, outcome, assignee, reopened_reason, status_changed_at) VALUES
       ('W1-ward-2025-05-05', 'W1', 'ward', NULL, 'combined', 'urgent', 'up', '2025-05-05',
        '2025-04-21', '2025-06-02', NULL, 12.5, 8.0, 'Restraint 9.1 per 1,000 bed days <b>',
        '2025-05-12T06:00:00.000000Z', '2025-06-02T06:00:00.000000Z', 'investigating', NULL,
        'Dr Okafor', NULL, '2025-05-13T10:00:00.000000Z'),
       ('W2-restraint-2025-03-03', 'W2', 'indicator', 'restraint', 'cusum_poisson', 'watch', 'up',
        '2025-03-03', NULL, '2025-04-07', '2025-04-14', 5.2, 4.1, 'Restraint rose.',
        '2025-03-10T06:00:00.000000Z', '2025-06-02T06:00:00.000000Z', 'closed', 'no_concern', NULL,
        NULL, '2025-04-20T10:00:00.000000Z'),
       ('W3-ward-2025-05-26', 'W3', 'ward', NULL, 'combined', 'concern', 'up', '2025-05-26', NULL,
        '2025-06-02', NULL, NULL, 8.0, '', '2025-06-02T06:00:00.000000Z',
        '2025-06-02T06:00:00.000000Z', 'new', NULL, NULL, NULL, '2025-06-02T06:00:00.000000Z')""",
    """INSERT INTO notes (alert_id, author, created_at, text) VALUES
       ('W1-ward-2025-05-05', 'Dr Okafor', '2025-05-13T10:01:00.000000Z', 'Visited.\nStaff <b>tired</b>.'),
       ('W2-restraint-2025-03-03', 'A. Nurse', '2025-04-20T10:00:00.000000Z', 'One patient; plan in place.')""",
    """INSERT INTO audit (alert_id, at, actor, action, field, old, new) VALUES
       ('W1-ward-2025-05-05', '2025-05-12T06:00:00.000000Z', 'wardwatch score', 'created', 'status', NULL, 'new'),
       ('W1-ward-2025-05-05', '2025-05-13T10:00:00.000000Z', 'Dr Okafor', 'investigation_started', 'status',
        'new', 'investigating'),
       ('W2-restraint-2025-03-03', '2025-04-20T10:00:00.000000Z', 'A. Nurse', 'closed', 'outcome', NULL,
        'no_concern')""",
    """INSERT INTO evidence (alert_id, scored_at, level, statistic, threshold, last_seen, closed, explanation)
       VALUES ('W1-ward-2025-05-05', '2025-05-12T06:00:00.000000Z', 'concern', 9.0, 8.0, '2025-05-12', NULL, 'x'),
              ('W1-ward-2025-05-05', '2025-06-02T06:00:00.000000Z', 'urgent', 12.5, 8.0, '2025-06-02', NULL, 'y')""",
]


def build_v1(path: Path) -> None:
    """A v1 store exactly as the first release made it, holding some triage history."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(V1_SQL.read_text())
        conn.execute("PRAGMA journal_mode = WAL")
        for stmt in V1_DATA:
            conn.execute(stmt)
        conn.commit()
    finally:
        conn.close()


#: the alert columns of each schema version (a later version only ever adds columns).
V1_ALERT_COLUMNS = (
    "alert_id, ward_id, scope, indicator, method, level, direction, opened, onset_estimate, last_seen, "
    "closed, statistic, threshold, explanation, first_scored_at, last_scored_at, status, outcome, "
    "assignee, reopened_reason, status_changed_at"
)
ALERT_COLUMNS = {1: V1_ALERT_COLUMNS, 2: V1_ALERT_COLUMNS + ", version"}


def build_v2(path: Path) -> None:
    """A v2 store: the v1 store above migrated by the shipped v2 migration, then triaged under v2."""
    build_v1(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert schema.migrate(conn, "2025-07-01T08:00:00.000000Z", target=2) == [2]
        conn.execute(
            "UPDATE alerts SET version = 3, assignee = 'A. Nurse' WHERE alert_id = 'W3-ward-2025-05-26'"
        )
        conn.execute(
            "INSERT INTO audit (alert_id, at, actor, action, field, old, new) VALUES "
            "('W3-ward-2025-05-26', '2025-07-02T09:00:00.000000Z', 'Dr Okafor', 'assigned', 'assignee', "
            "NULL, 'A. Nurse')"
        )
    finally:
        conn.close()


BUILDERS = {1: build_v1, 2: build_v2}


def dump(path: Path, version: int = 1) -> dict[str, list[tuple]]:
    """Every row a store of schema ``version`` holds, in that version's columns."""
    conn = sqlite3.connect(path)
    try:
        out = {
            "alerts": conn.execute(
                f"SELECT {ALERT_COLUMNS[version]} FROM alerts ORDER BY alert_id"
            ).fetchall()
        }
        for table in ("notes", "audit", "evidence"):
            out[table] = conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
        return out
    finally:
        conn.close()


def test_every_earlier_version_is_covered():
    """Adding a schema version without a builder for the one before it fails here."""
    assert sorted(BUILDERS) == list(range(1, LATEST_VERSION))


@pytest.mark.parametrize("version", sorted(BUILDERS))
def test_store_of_every_earlier_version_migrates_without_losing_data(tmp_path, version):
    db = tmp_path / "triage.db"
    BUILDERS[version](db)
    before = dump(db, version)
    assert len(before["alerts"]) == 3 and len(before["notes"]) == 2
    store = TriageStore(db)
    assert store.migrations_applied_ == tuple(range(version + 1, LATEST_VERSION + 1))
    assert store.schema_version == LATEST_VERSION
    assert dump(db, version) == before  # every row of every table, byte for byte
    assert store.integrity_check() == ["ok"]
    alerts = {a.alert_id: a for a in store.list_alerts()}
    assert {a.provider for a in alerts.values()} == {None}  # new columns start empty
    w1 = store.get("W1-ward-2025-05-05")
    assert (w1.alert.status, w1.alert.assignee, w1.alert.note_count) == ("investigating", "Dr Okafor", 1)
    assert w1.notes[0].text == "Visited.\nStaff <b>tired</b>."
    assert [e.level for e in w1.evidence] == ["concern", "urgent"]
    # the migrated store works: optimistic concurrency on old alerts, history intact
    assert store.close("W1-ward-2025-05-05", "Dr Okafor", "action_taken", 1).version == 2
    assert len(store.get("W1-ward-2025-05-05").audit) == 4
    # ... and takes what the new version adds: a provider alert, the historical status
    provider = dataclasses.replace(
        make_record(1), alert_id="P1", scope="provider", ward_id="", provider="North Trust", closed=None
    )
    store.upsert_alerts([provider], scored_at="2025-08-04T06:00:00Z")
    assert store.get("P1").alert.provider == "North Trust"
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        history = conn.execute("SELECT version FROM schema_history ORDER BY version").fetchall()
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        for stmt in ("DELETE FROM notes", "DELETE FROM alerts", "UPDATE audit SET actor = 'x'"):
            with pytest.raises(sqlite3.DatabaseError, match=r"append-only|never deleted"):
                conn.execute(stmt)
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            conn.execute(
                "INSERT INTO notes (alert_id, author, created_at, text) VALUES ('nope', 'a', 't', 'x')"
            )
    finally:
        conn.close()
    assert history == [(v,) for v in range(1, LATEST_VERSION + 1)]
    assert {"alerts_status", "alerts_ward", "alerts_parent", "notes_alert", "audit_alert"} <= indexes
    assert TriageStore(db).migrations_applied_ == ()  # idempotent


def test_a_new_file_is_built_by_every_migration_in_turn(tmp_path):
    store = TriageStore(tmp_path / "new.db")
    assert store.migrations_applied_ == tuple(range(1, LATEST_VERSION + 1))
    assert store.integrity_check() == ["ok"]


def test_failed_rebuild_leaves_a_v2_store_untouched(tmp_path, monkeypatch):
    """The v3 rebuild drops and renames ``alerts``: a failure after the drop must undo it all."""
    db = tmp_path / "triage.db"
    build_v2(db)
    before = dump(db, 2)
    real = schema.MIGRATIONS[2].apply

    def rebuild_then_fail(conn: sqlite3.Connection) -> None:
        real(conn)
        raise RuntimeError("power cut")

    monkeypatch.setattr(
        schema, "MIGRATIONS", (*schema.MIGRATIONS[:2], schema.Migration(3, "x", rebuild_then_fail))
    )
    with pytest.raises(RuntimeError, match="power cut"):
        TriageStore(db)
    monkeypatch.undo()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
        assert "provider" not in {r[1] for r in conn.execute("PRAGMA table_info(alerts)")}
    finally:
        conn.close()
    assert dump(db, 2) == before
    assert TriageStore(db).schema_version == LATEST_VERSION


def test_the_rebuild_refuses_to_orphan_notes(tmp_path):
    """A store whose notes point at a missing alert (foreign keys were off when written) is refused
    rather than silently migrated."""
    db = tmp_path / "triage.db"
    build_v2(db)
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO notes (alert_id, author, created_at, text) VALUES ('ghost', 'a', 't', 'x')")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaError, match="lose data"):
        TriageStore(db)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 2
    conn.close()


def test_shipped_v1_migration_equals_the_frozen_first_schema(tmp_path):
    """Guards against editing a shipped migration: stores in the field were built by it."""
    frozen, shipped = tmp_path / "frozen.db", tmp_path / "shipped.db"
    conn = sqlite3.connect(frozen)
    conn.executescript(V1_SQL.read_text())
    conn.close()
    conn = sqlite3.connect(shipped, isolation_level=None)
    assert schema.migrate(conn, "2026-01-01T00:00:00.000000Z", target=1) == [1]
    conn.close()

    def ddl(path: Path) -> list[tuple]:
        c = sqlite3.connect(path)
        try:
            return c.execute("SELECT type, name, sql FROM sqlite_master ORDER BY name").fetchall()
        finally:
            c.close()

    assert ddl(frozen) == ddl(shipped)


def test_failed_migration_leaves_the_store_untouched(tmp_path, monkeypatch):
    db = tmp_path / "triage.db"
    build_v1(db)
    before = dump(db)

    real_v2 = schema.MIGRATIONS[1].apply

    def half_then_fail(conn: sqlite3.Connection) -> None:
        real_v2(conn)
        raise RuntimeError("disk on fire")

    broken = (schema.MIGRATIONS[0], schema.Migration(2, "broken", half_then_fail))
    monkeypatch.setattr(schema, "MIGRATIONS", broken)
    with pytest.raises(RuntimeError, match="disk on fire"):
        TriageStore(db)
    monkeypatch.undo()
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert "version" not in {r[1] for r in conn.execute("PRAGMA table_info(alerts)")}
    finally:
        conn.close()
    assert dump(db) == before
    assert TriageStore(db).schema_version == LATEST_VERSION  # and a good release migrates it later


def test_newer_or_foreign_databases_are_refused(tmp_path):
    newer = tmp_path / "newer.db"
    TriageStore(newer)
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaError, match="newer"):
        TriageStore(newer)
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE patients (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(SchemaError, match="not a wardwatch"):
        TriageStore(foreign)


def test_two_processes_opening_a_v1_store_migrate_it_once(tmp_path):
    db = tmp_path / "triage.db"
    build_v1(db)
    code = "import sys; from engine.store import TriageStore; print(TriageStore(sys.argv[1]).migrations_applied_)"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    outs = sorted(p.communicate(timeout=120)[0].strip() for p in procs)
    assert [p.returncode for p in procs] == [0, 0]
    assert outs == ["()", str(tuple(range(2, LATEST_VERSION + 1)))]
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT count(*) FROM schema_history").fetchone()[0] == LATEST_VERSION
    finally:
        conn.close()
