"""Which alert of a new scoring run replaces a stored alert that the run no longer produces.

Alert ids hash the opening period, so corrected data that moves an episode's opening week gives the
episode a new id; a correction can also make an episode vanish. A stored alert missing from a
complete run has a **successor** when the run holds an alert of the same kind (scope, ward,
indicator, provider) whose episode overlaps the stored one's: the same condition, re-dated. Episodes
are closed intervals ``[opened, closed]``; an episode whose condition still holds runs to
``data_end``. Among several overlapping candidates the one whose opening is nearest wins (ties: the
earlier one), so a split episode follows its first part. No overlap: the alert vanished.

``retire_missing`` writes the outcome (issue 20, item 7): the old alert is linked to its successor
or closed as ``superseded``, and an untriaged successor takes over the old alert's triage.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.store.journal import AuditRow, text_or_none, write_audit
from engine.store.lifecycle import CLOSE_NEEDS_NOTE, is_escalation
from engine.store.models import AlertRecord
from engine.store.records import to_date

#: what makes two alerts "the same kind of alert": scope, ward, indicator and provider.
Kind = tuple[str, str, str | None, str | None]


@dataclass(frozen=True)
class Missing:
    """A stored alert the run did not produce (its identifying fields and episode)."""

    alert_id: str
    kind: Kind
    opened: dt.date
    closed: dt.date | None


@dataclass(frozen=True)
class Successor:
    """``alert_id`` is replaced by ``successor_id`` (``None``: the condition vanished)."""

    alert_id: str
    successor_id: str | None


def record_kind(rec: AlertRecord) -> Kind:
    """The kind of a run's alert (provider alerts are told apart by provider, others by ward)."""
    provider = rec.provider if rec.scope == "provider" else None
    return (rec.scope, rec.ward_id if rec.scope != "provider" else "", rec.indicator, provider)


def _overlaps(a0: dt.date, a1: dt.date, b0: dt.date, b1: dt.date) -> bool:
    return a0 <= b1 and b0 <= a1


def find_successors(
    missing: Iterable[Missing], run: Sequence[AlertRecord], data_end: dt.date
) -> list[Successor]:
    """The successor (or ``None``) of every missing alert, in the order given."""
    by_kind: dict[Kind, list[AlertRecord]] = defaultdict(list)
    for rec in run:
        by_kind[record_kind(rec)].append(rec)
    out = []
    for m in missing:
        end = m.closed or data_end
        best: AlertRecord | None = None
        for cand in by_kind.get(m.kind, ()):
            if not _overlaps(m.opened, end, cand.opened, cand.closed or data_end):
                continue
            gap = abs((cand.opened - m.opened).days)
            if best is None or (gap, cand.opened) < (abs((best.opened - m.opened).days), best.opened):
                best = cand
        out.append(Successor(m.alert_id, None if best is None else best.alert_id))
    return out


def _missing(row: Sequence[Any]) -> Missing:
    """A stored alert of ``_LIVE_BY_END`` as ``Missing`` (provider alerts are told apart by provider)."""
    alert_id, scope, ward_id, indicator, provider, opened, closed = row[:7]
    kind = (
        scope,
        ward_id if scope != "provider" else "",
        indicator,
        provider if scope == "provider" else None,
    )
    return Missing(alert_id, kind, to_date(opened, "opened"), to_date(closed, "closed"))  # type: ignore[arg-type]


#: live stored alerts (not superseded, not a follow-up) opened by a date.
_LIVE_BY_END = (
    "SELECT alert_id, scope, ward_id, indicator, provider, opened, closed, status, outcome, "
    "assignee, level FROM alerts WHERE superseded_by IS NULL AND follows IS NULL "
    "AND NOT (status = 'closed' AND outcome = 'superseded') AND opened <= ?"
)


def retire_missing(
    conn: sqlite3.Connection,
    records: Sequence[AlertRecord],
    run_ids: set[str],
    data_end: dt.date,
    ts: str,
    who: str,
) -> list[Successor]:
    """Link or close every live stored alert a complete run no longer produces (issue 20, item 7).

    Only alerts opened by ``data_end`` are considered (later ones are beyond this run's data).
    With a successor: the old alert points to it (``superseded_by``) and, when nobody had
    triaged the successor yet, the successor takes over the old alert's status, outcome and
    assignee (a closure stands unless the level rose). The old alert is closed as ``superseded``
    unless a person had already closed it (their outcome stays). Notes stay on the old alert,
    where they were written; readers follow the link (``predecessors``).
    """
    rows = conn.execute(_LIVE_BY_END, (data_end.isoformat(),)).fetchall()
    gone = [r for r in rows if r[0] not in run_ids]
    if not gone:
        return []
    found = find_successors([_missing(r) for r in gone], records, data_end)
    old_of = {r[0]: r for r in gone}
    audit: list[AuditRow] = []
    for link in found:
        status, outcome, assignee, level = old_of[link.alert_id][7:]
        new_status, new_outcome = (status, outcome) if status == "closed" else ("closed", "superseded")
        why = "superseded by re-scoring" + (
            f": replaced by {link.successor_id}"
            if link.successor_id
            else ": the condition is no longer found"
        )
        conn.execute(
            "UPDATE alerts SET status = ?, outcome = ?, superseded_by = ?, reopened_reason = NULL, "
            "status_changed_at = CASE WHEN status = ? THEN status_changed_at ELSE ? END, "
            "version = version + 1 WHERE alert_id = ?",
            (new_status, new_outcome, link.successor_id, status, ts, link.alert_id),
        )
        audit.append((link.alert_id, ts, who, "superseded", "superseded_by", None, link.successor_id or why))
        if new_status != status:
            audit.append((link.alert_id, ts, who, "superseded", "status", status, new_status))
            audit.append((link.alert_id, ts, who, "superseded", "outcome", outcome, new_outcome))
        if link.successor_id is not None:
            audit.append((link.successor_id, ts, who, "replaces", "supersedes", None, link.alert_id))
            old_triage = (status, outcome, assignee, level)
            audit += carry_over(conn, link.alert_id, link.successor_id, old_triage, ts, who)
    write_audit(conn, audit)
    return found


def carry_over(
    conn: sqlite3.Connection,
    old_id: str,
    new_id: str,
    old_triage: tuple[str, str | None, str | None, str],
    ts: str,
    who: str,
) -> list[AuditRow]:
    """Give an untriaged successor the triage state (status, outcome, assignee; level) of the
    alert it replaces; returns the audit lines (on the successor)."""
    status, outcome, assignee, old_level = old_triage
    row = conn.execute(
        "SELECT status, outcome, assignee, level FROM alerts WHERE alert_id = ?", (new_id,)
    ).fetchone()
    if row is None or row[0] not in CLOSE_NEEDS_NOTE or status in CLOSE_NEEDS_NOTE:
        return []  # the successor was triaged on its own, or nobody had triaged the old alert
    current = {"status": row[0], "outcome": row[1], "assignee": row[2]}
    if status == "closed" and (outcome == "superseded" or is_escalation(old_level, row[3])):
        target = {"status": "new", "outcome": None}  # worse than what the person closed: news
    else:
        target = {"status": status, "outcome": outcome}
    target["assignee"] = row[2] or assignee
    changed = {k: v for k, v in target.items() if current[k] != v}
    if not changed:
        return []
    reason = f"replaces {old_id} ({status}{' as ' + outcome if outcome else ''}) after re-scoring"
    conn.execute(
        "UPDATE alerts SET status = ?, outcome = ?, assignee = ?, reopened_reason = ?, "
        "status_changed_at = ?, version = version + 1 WHERE alert_id = ?",
        (target["status"], target["outcome"], target["assignee"], reason, ts, new_id),
    )
    return [
        (new_id, ts, who, "carried_over", k, text_or_none(current[k]), text_or_none(v))
        for k, v in changed.items()
    ]
