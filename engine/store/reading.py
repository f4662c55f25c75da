"""Reading the store: ``alerts`` rows as ``Alert``s, an alert's history, the inbox queries.

Every function takes an open connection (the caller holds a read transaction, so what it returns
is one snapshot) and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from engine.contract.levels import LEVEL_RANK
from engine.store.columns import DATE_COLUMNS, STORED_ALERT_COLUMNS, sql_list
from engine.store.errors import UnknownAlertError
from engine.store.lifecycle import OPEN_STATUSES, STATUSES
from engine.store.models import Alert, AlertDetail, AuditEntry, EvidenceEntry, InboxCounts, Note, ScoringRun
from engine.store.records import to_date

#: ``SELECT`` list of an ``Alert``: every stored column of ``alerts a``, then its number of notes.
ALERT_SELECT = (
    f"SELECT {sql_list(STORED_ALERT_COLUMNS)}, "
    "(SELECT count(*) FROM notes n WHERE n.alert_id = a.alert_id) FROM alerts a"
)


def alert_from_row(row: Sequence[Any]) -> Alert:
    """An ``Alert`` from a row of ``ALERT_SELECT`` (dates parsed from ISO text)."""
    fields = dict(zip(STORED_ALERT_COLUMNS, row[:-1], strict=True))
    for name in DATE_COLUMNS:
        fields[name] = to_date(fields[name], name)
    fields["version"] = int(fields["version"])
    return Alert(**fields, note_count=int(row[-1]))


def fetch_alert(conn: sqlite3.Connection, alert_id: str) -> Alert:
    """One alert.

    Raises
    ------
    UnknownAlertError
    """
    row = conn.execute(f"{ALERT_SELECT} WHERE alert_id = ?", (alert_id,)).fetchone()
    if row is None:
        raise UnknownAlertError(alert_id)
    return alert_from_row(row)


def _evidence_entry(row: Sequence[Any]) -> EvidenceEntry:
    return EvidenceEntry(
        id=row[0],
        alert_id=row[1],
        scored_at=row[2],
        level=row[3],
        statistic=row[4],
        threshold=row[5],
        last_seen=to_date(row[6], "last_seen"),
        closed=to_date(row[7], "closed"),
        explanation=row[8],
    )


def fetch_detail(conn: sqlite3.Connection, alert_id: str) -> AlertDetail:
    """The alert with its notes, audit log and evidence history (oldest first)."""
    alert = fetch_alert(conn, alert_id)
    notes = conn.execute(
        "SELECT id, alert_id, author, created_at, text FROM notes WHERE alert_id = ? ORDER BY id",
        (alert_id,),
    )
    audit = conn.execute(
        "SELECT id, alert_id, at, actor, action, field, old, new FROM audit WHERE alert_id = ? ORDER BY id",
        (alert_id,),
    )
    evidence = conn.execute(
        "SELECT id, alert_id, scored_at, level, statistic, threshold, last_seen, closed, "
        "explanation FROM evidence WHERE alert_id = ? ORDER BY id",
        (alert_id,),
    )
    return AlertDetail(
        alert=alert,
        notes=tuple(Note(*r) for r in notes),
        audit=tuple(AuditEntry(*r) for r in audit),
        evidence=tuple(_evidence_entry(r) for r in evidence),
    )


def as_tuple(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """One value or several as a tuple (``None`` stays ``None``: no filter)."""
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)


def list_query(
    *,
    any_of: dict[str, tuple[str, ...] | None],
    equal: dict[str, str | None],
    is_null: dict[str, bool | None],
    limit: int | None,
) -> tuple[str, list[Any]]:
    """SQL and parameters of an inbox listing (see ``TriageStore.list_alerts``).

    ``any_of``: column -> allowed values (an empty tuple matches nothing); ``equal``: column ->
    value; ``is_null``: column -> whether it must be empty. ``None`` skips a filter.
    """
    where: list[str] = []
    params: list[Any] = []
    for column, values in any_of.items():
        if values is not None:
            where.append(f"{column} IN ({','.join('?' * len(values))})" if values else "0")
            params.extend(values)
    for column, value in equal.items():
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    for column, empty in is_null.items():
        if empty is not None:
            where.append(f"{column} IS NULL" if empty else f"{column} IS NOT NULL")
    status_order = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(STATUSES))
    level_order = " ".join(f"WHEN '{lv}' THEN {r}" for lv, r in LEVEL_RANK.items())
    sql = (
        f"{ALERT_SELECT} {'WHERE ' + ' AND '.join(where) if where else ''} "
        f"ORDER BY CASE status {status_order} END, CASE level {level_order} ELSE -1 END DESC, "
        "last_seen DESC, alert_id"
    )
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return sql, params


def fetch_predecessors(conn: sqlite3.Connection, alert_id: str) -> list[Alert]:
    """Alerts a re-score replaced by ``alert_id``, directly or through a chain, oldest link last."""
    out: list[Alert] = []
    frontier, seen = [alert_id], {alert_id}
    while frontier:
        marks = ",".join("?" * len(frontier))
        rows = conn.execute(
            f"{ALERT_SELECT} WHERE superseded_by IN ({marks}) ORDER BY opened DESC, alert_id", frontier
        ).fetchall()
        found = [alert_from_row(r) for r in rows if r[0] not in seen]
        seen.update(a.alert_id for a in found)
        out += found
        frontier = [a.alert_id for a in found]
    return out


def fetch_latest_run(conn: sqlite3.Connection) -> ScoringRun | None:
    """The most recent scoring run the store received (``None`` before the first)."""
    row = conn.execute(
        "SELECT id, scored_at, actor, data_end, complete, alerts, inserted, historical, updated, "
        "unchanged, older, superseded FROM scoring_runs ORDER BY id DESC LIMIT 1"
    ).fetchone()
    if row is None:
        return None
    return ScoringRun(row[0], row[1], row[2], to_date(row[3], "data_end"), bool(row[4]), *row[5:])


def fetch_data_end(conn: sqlite3.Connection) -> dt.date | None:
    """The last period any scoring run covered; for a store migrated from before version 3 (no
    runs recorded), the newest evidence (``None`` when empty)."""
    value = conn.execute(
        "SELECT coalesce((SELECT max(data_end) FROM scoring_runs), (SELECT max(last_seen) FROM alerts))"
    ).fetchone()[0]
    return to_date(value, "data_end")


def fetch_inbox_counts(conn: sqlite3.Connection, data_end: dt.date | None, ended_days: int) -> InboxCounts:
    """What the inbox holds (see ``InboxCounts``): an untriaged alert whose condition ended more
    than ``ended_days`` before ``data_end`` counts as "ended before triage"."""
    cutoff = (data_end - dt.timedelta(days=ended_days)).isoformat() if data_end else ""
    opened = ",".join(f"'{s}'" for s in OPEN_STATUSES)
    row = conn.execute(
        f"""SELECT
        count(DISTINCT CASE WHEN scope <> 'provider' AND status IN ({opened}) THEN ward_id END),
        count(DISTINCT CASE WHEN scope <> 'provider' AND status IN ({opened})
                             AND NOT (status = 'new' AND closed IS NOT NULL AND closed < ?)
                            THEN ward_id END),
        sum(scope <> 'provider' AND status IN ({opened})),
        sum(scope <> 'provider' AND status = 'new'),
        sum(scope <> 'provider' AND status = 'new' AND closed IS NOT NULL AND closed < ?),
        sum(scope <> 'provider' AND status = 'new' AND closed IS NULL),
        sum(scope = 'provider' AND status IN ({opened})),
        sum(status = 'historical'),
        sum(status = 'closed' AND outcome = 'superseded'),
        sum(status = 'closed' AND outcome <> 'superseded'),
        count(*)
        FROM alerts""",
        (cutoff, cutoff),
    ).fetchone()
    (
        ward_rows,
        current,
        open_,
        new,
        ended,
        new_current,
        provider_open,
        historical,
        superseded,
        closed,
        total,
    ) = (int(v or 0) for v in row)
    return InboxCounts(
        ward_rows, current, open_, new, ended, new_current, provider_open, historical, superseded, closed, total,
        data_end=data_end, ended_days=ended_days,
    )  # fmt: skip
