"""The append-only tables a person's or a run's changes leave behind: audit lines and notes."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from engine.store.models import Note

#: one audit line: alert id, timestamp, actor, action, field, old value, new value.
AuditRow = tuple[str, str, str, str, str | None, str | None, str | None]


def text_or_none(value: object) -> str | None:
    """A value as it is written to the audit log (``None`` stays ``None``)."""
    return None if value is None else str(value)


def write_audit(conn: sqlite3.Connection, rows: Iterable[AuditRow]) -> None:
    """Append audit lines inside the caller's transaction."""
    conn.executemany(
        "INSERT INTO audit (alert_id, at, actor, action, field, old, new) VALUES (?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def insert_note(conn: sqlite3.Connection, alert_id: str, author: str, text: str, ts: str) -> Note:
    """Append a note (verbatim) and its ``note_added`` audit line inside the caller's transaction."""
    note_id = conn.execute(
        "INSERT INTO notes (alert_id, author, created_at, text) VALUES (?, ?, ?, ?)",
        (alert_id, author, ts, text),
    ).lastrowid
    assert note_id is not None
    write_audit(conn, [(alert_id, ts, author, "note_added", "note", None, str(note_id))])
    return Note(id=int(note_id), alert_id=alert_id, author=author, created_at=ts, text=text)
