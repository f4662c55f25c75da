"""Schema migrations: a store built by the first schema (v1) is migrated without losing data."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

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


def dump(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        v1_alert_cols = [
            r[1] for r in conn.execute("PRAGMA table_info(alerts)").fetchall() if r[1] != "version"
        ]
        out = {
            "alerts": conn.execute(
                f"SELECT {', '.join(v1_alert_cols)} FROM alerts ORDER BY alert_id"
            ).fetchall()
        }
        for table in ("notes", "audit", "evidence"):
            out[table] = conn.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
        return out
    finally:
        conn.close()


def test_v1_store_migrates_to_latest_without_losing_data(tmp_path):
    db = tmp_path / "triage.db"
    build_v1(db)
    before = dump(db)
    assert len(before["alerts"]) == 3 and len(before["notes"]) == 2
    store = TriageStore(db)
    assert store.migrations_applied_ == tuple(range(2, LATEST_VERSION + 1))
    assert store.schema_version == LATEST_VERSION
    assert dump(db) == before
    assert store.integrity_check() == ["ok"]
    alerts = {a.alert_id: a for a in store.list_alerts()}
    assert {a.version for a in alerts.values()} == {1}
    w1 = store.get("W1-ward-2025-05-05")
    assert (w1.alert.status, w1.alert.assignee, w1.alert.note_count) == ("investigating", "Dr Okafor", 1)
    assert w1.notes[0].text == "Visited.\nStaff <b>tired</b>."
    assert [e.level for e in w1.evidence] == ["concern", "urgent"]
    # the migrated store works: optimistic concurrency on old alerts, history intact
    assert store.close("W1-ward-2025-05-05", "Dr Okafor", "action_taken", 1).version == 2
    assert len(store.get("W1-ward-2025-05-05").audit) == 4
    conn = sqlite3.connect(db)
    try:
        history = conn.execute("SELECT version FROM schema_history ORDER BY version").fetchall()
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("DELETE FROM notes")
    finally:
        conn.close()
    assert history == [(v,) for v in range(1, LATEST_VERSION + 1)]
    assert {"alerts_status", "notes_alert", "audit_alert", "evidence_alert"} <= indexes
    assert TriageStore(db).migrations_applied_ == ()  # idempotent


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
