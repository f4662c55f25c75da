"""Writing one scoring run into the store (``TriageStore.upsert_alerts``; rules in ``engine.store.triage``).

A run is written chunk by chunk (memory stays bounded): each chunk's stored rows are read, every
alert of the chunk is sorted into a plan (insert, update with evidence, touch, ignore as older) and
the plan is written with one ``executemany`` per kind of change. Then the run's consequences for the
whole store: retiring what a complete run no longer produces, follow-ups, parent links, and the
``scoring_runs`` line. Everything happens inside the caller's write transaction.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from engine.store.columns import IDENTITY_FIELDS, SCORED_FIELDS, sql_list
from engine.store.followups import mirror_followups, open_followups
from engine.store.journal import AuditRow, write_audit
from engine.store.lifecycle import is_escalation
from engine.store.models import AlertRecord, UpsertSummary
from engine.store.parents import link_parents
from engine.store.reading import fetch_data_end
from engine.store.succession import Successor, retire_missing

CHUNK = 1000  # alerts per write step and per "IN (...)" query (SQLite allows 32766 variables)
#: ``alerts.csv`` keeps 6 decimals: a statistic read back from it may differ by half a unit of that.
_CSV_ROUNDING = 5e-7

Progress = Callable[[int, int], None]


_SCORED_START = len(IDENTITY_FIELDS)  # where the scored fields start in a stored row


class StoredAlert(NamedTuple):
    """What a re-score needs of a stored alert: identity, scored fields, triage status, provider
    (the columns of ``_STORED_SELECT``, in its order)."""

    alert_id: str
    ward_id: str
    scope: str
    indicator: str | None
    opened: str
    method: str | None
    level: str
    direction: str | None
    onset_estimate: str | None
    last_seen: str | None
    closed: str | None
    statistic: float | None
    threshold: float | None
    explanation: str
    status: str
    outcome: str | None
    provider: str | None

    def identity(self) -> tuple[Any, ...]:
        """ward_id, scope, indicator, opened: what a known ``alert_id`` must come back with."""
        return tuple(self[1:_SCORED_START])

    def scored(self) -> tuple[Any, ...]:
        """The stored ``SCORED_FIELDS``."""
        return tuple(self[_SCORED_START : _SCORED_START + len(SCORED_FIELDS)])


_STORED_SELECT = (
    f"SELECT {sql_list((*IDENTITY_FIELDS, *SCORED_FIELDS, 'status', 'outcome', 'provider'))} "
    "FROM alerts WHERE alert_id IN ({marks})"
)


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _same_number(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=_CSV_ROUNDING * 1.000001)


def same_evidence(stored: Sequence[Any], scored: Sequence[Any]) -> bool:
    """Scored fields equal, numbers up to the rounding of ``alerts.csv`` (a CSV round trip of the
    same run, e.g. the dashboard syncing the results ``wardwatch score --store`` already stored,
    must not count as new evidence)."""
    return (
        tuple(stored[:6]) == tuple(scored[:6])
        and _same_number(stored[6], scored[6])
        and _same_number(stored[7], scored[7])
        and stored[8] == scored[8]
    )


def check_unique_ids(records: Sequence[AlertRecord]) -> None:
    """Refuse a run that names one ``alert_id`` twice (``ValueError``)."""
    seen: set[str] = set()
    for rec in records:
        if rec.alert_id in seen:
            raise ValueError(f"alert_id {rec.alert_id!r} appears more than once in the scoring run")
        seen.add(rec.alert_id)


@dataclass(frozen=True)
class RunContext:
    """What every alert of a run is judged against: the run's stamp and the store before it."""

    ts: str
    who: str
    first_import: bool
    prev_end: dt.date | None  # the latest data end the store had seen (None: never)


class RunTally:
    """What the run did so far, alert by alert (the counts of ``UpsertSummary``)."""

    def __init__(self) -> None:
        self.inserted = self.updated = self.unchanged = self.escalated = self.older = self.historical = 0
        self.reopened: list[str] = []


@dataclass
class ChunkPlan:
    """The rows one chunk writes, one list per statement of ``write_plan``."""

    new_rows: list[tuple[Any, ...]] = field(default_factory=list)
    scored_updates: list[tuple[Any, ...]] = field(default_factory=list)
    touch: list[tuple[str, str]] = field(default_factory=list)
    providers: list[tuple[str, str]] = field(default_factory=list)
    triage_updates: list[tuple[Any, ...]] = field(default_factory=list)
    bumps: list[tuple[str]] = field(default_factory=list)
    evidence: list[tuple[Any, ...]] = field(default_factory=list)
    audit: list[AuditRow] = field(default_factory=list)


def _scored_values(rec: AlertRecord) -> tuple[Any, ...]:
    """``rec``'s ``SCORED_FIELDS`` as stored (dates as ISO text)."""
    return (rec.method, rec.level, rec.direction, _iso(rec.onset_estimate), _iso(rec.last_seen),
            _iso(rec.closed), rec.statistic, rec.threshold, rec.explanation)  # fmt: skip


def _evidence_row(rec: AlertRecord, ts: str) -> tuple[Any, ...]:
    return (rec.alert_id, ts, rec.level, rec.statistic, rec.threshold, _iso(rec.last_seen),
            _iso(rec.closed), rec.explanation)  # fmt: skip


def _plan_insert(rec: AlertRecord, ctx: RunContext, plan: ChunkPlan, tally: RunTally) -> None:
    """An alert the store has not seen: ``new``, or ``historical`` when it ended before anyone
    could have triaged it (first import, or ended before an earlier run's data end)."""
    tally.inserted += 1
    status = "new"
    if rec.closed is not None and (ctx.first_import or (ctx.prev_end and rec.closed < ctx.prev_end)):
        status = "historical"
        tally.historical += 1
    ts = ctx.ts
    plan.new_rows.append((rec.alert_id, rec.ward_id, rec.scope, rec.indicator, _iso(rec.opened),
                          *_scored_values(rec), ts, ts, ts, status, rec.provider))  # fmt: skip
    plan.evidence.append(_evidence_row(rec, ts))
    plan.audit.append((rec.alert_id, ts, ctx.who, "created", "status", None, status))


def _plan_rescore(
    rec: AlertRecord, old: StoredAlert, ctx: RunContext, plan: ChunkPlan, tally: RunTally
) -> None:
    """A known alert: ignore it as older, touch it as unchanged, or update its evidence."""
    identity = (rec.ward_id, rec.scope, rec.indicator, _iso(rec.opened))
    if old.identity() != identity:
        raise ValueError(
            f"alert_id {rec.alert_id!r} is stored for ward/scope/indicator/opened "
            f"{old.identity()} but the run gives {identity}: alert ids must be stable"
        )
    if rec.provider is not None and old.provider != rec.provider:
        plan.providers.append((rec.provider, rec.alert_id))
    scored = _scored_values(rec)
    last_seen = _iso(rec.last_seen)
    if old.last_seen is not None and last_seen is not None and last_seen < old.last_seen:
        tally.older += 1  # e.g. an --as-of backtest written to the live store: ignore it
    elif same_evidence(old.scored(), scored) and (old.status, old.outcome) != ("closed", "superseded"):
        tally.unchanged += 1
        plan.touch.append((ctx.ts, rec.alert_id))
    else:
        tally.updated += 1
        plan.scored_updates.append((*scored, ctx.ts, rec.alert_id))
        plan.evidence.append(_evidence_row(rec, ctx.ts))
        _plan_triage_after_rescore(rec, old, ctx, plan, tally)
        tally.escalated += is_escalation(old.level, rec.level)


def _reopen_reasons(rec: AlertRecord, old: StoredAlert) -> list[str]:
    """Why a re-score makes a closed or historical alert news again (empty: it does not)."""
    new_closed = _iso(rec.closed)
    if old.status == "closed" and old.outcome == "superseded":
        return ["scoring produces it again"]
    reasons = []
    if old.status in ("closed", "historical"):
        if old.closed is not None and new_closed is None:
            reasons.append(f"the condition re-opened (it had ended on {old.closed})")
        if old.status == "closed" and is_escalation(old.level, rec.level):
            reasons.append(f"the level rose from {old.level} to {rec.level}")
    return reasons


def _plan_triage_after_rescore(
    rec: AlertRecord, old: StoredAlert, ctx: RunContext, plan: ChunkPlan, tally: RunTally
) -> None:
    """Audit lines and triage changes implied by a re-score of a known alert (see module doc of
    ``engine.store.triage``): level and condition changes audited, automatic reopening."""
    ts, who, alert_id = ctx.ts, ctx.who, rec.alert_id
    new_closed = _iso(rec.closed)
    level_changed = old.level != rec.level
    if level_changed:
        plan.audit.append((alert_id, ts, who, "level_changed", "level", old.level, rec.level))
    if old.closed != new_closed:
        action = "condition_reopened" if new_closed is None else "condition_closed"
        plan.audit.append((alert_id, ts, who, action, "closed", old.closed, new_closed))
    reasons = _reopen_reasons(rec, old)
    if reasons:
        status, outcome = old.status, old.outcome
        after = f"after closure as {outcome}" if status == "closed" else "after it was filed as historical"
        reason = f"re-scored {ts}: {' and '.join(reasons)} {after}"
        tally.reopened.append(alert_id)
        plan.audit.append((alert_id, ts, who, "reopened", "status", status, "new"))
        if outcome is not None:
            plan.audit.append((alert_id, ts, who, "reopened", "outcome", outcome, None))
        plan.audit.append((alert_id, ts, who, "reopened", "reopened_reason", None, reason))
        plan.triage_updates.append(("new", None, reason, ts, alert_id))
    elif level_changed:  # a changed level is news for whoever is looking at the alert
        plan.bumps.append((alert_id,))


def plan_chunk(
    conn: sqlite3.Connection, chunk: Sequence[AlertRecord], ctx: RunContext, tally: RunTally
) -> ChunkPlan:
    """Read the chunk's stored rows and sort every alert of the chunk into the plan."""
    marks = ",".join("?" * len(chunk))
    existing = {
        row[0]: StoredAlert._make(row)
        for row in conn.execute(_STORED_SELECT.format(marks=marks), [r.alert_id for r in chunk])
    }
    plan = ChunkPlan()
    for rec in chunk:
        old = existing.get(rec.alert_id)
        if old is None:
            _plan_insert(rec, ctx, plan, tally)
        else:
            _plan_rescore(rec, old, ctx, plan, tally)
    return plan


def write_plan(conn: sqlite3.Connection, plan: ChunkPlan) -> None:
    """Write one chunk's plan: inserts, scored updates, touches, triage changes, evidence, audit."""
    conn.executemany(
        "INSERT INTO alerts (alert_id, ward_id, scope, indicator, opened, method, level, "
        "direction, onset_estimate, last_seen, closed, statistic, threshold, explanation, "
        "first_scored_at, last_scored_at, status_changed_at, status, provider) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        plan.new_rows,
    )
    conn.executemany(
        "UPDATE alerts SET method = ?, level = ?, direction = ?, onset_estimate = ?, "
        "last_seen = ?, closed = ?, statistic = ?, threshold = ?, explanation = ?, "
        "last_scored_at = max(last_scored_at, ?) WHERE alert_id = ?",
        plan.scored_updates,
    )
    conn.executemany(  # never backwards: a re-sync of an older run is not "last scored"
        "UPDATE alerts SET last_scored_at = max(last_scored_at, ?) WHERE alert_id = ?", plan.touch
    )
    conn.executemany("UPDATE alerts SET provider = ? WHERE alert_id = ?", plan.providers)
    conn.executemany(
        "UPDATE alerts SET status = ?, outcome = ?, reopened_reason = ?, "
        "status_changed_at = ?, superseded_by = NULL, version = version + 1 WHERE alert_id = ?",
        plan.triage_updates,
    )
    conn.executemany("UPDATE alerts SET version = version + 1 WHERE alert_id = ?", plan.bumps)
    conn.executemany(
        "INSERT INTO evidence (alert_id, scored_at, level, statistic, threshold, last_seen, "
        "closed, explanation) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        plan.evidence,
    )
    write_audit(conn, plan.audit)


def run_context(conn: sqlite3.Connection, ts: str, who: str) -> RunContext:
    """The store as the run finds it: empty or not, and the latest data end it has seen (a store
    migrated from before version 3 has no runs: its newest evidence)."""
    first_import = conn.execute("SELECT 1 FROM alerts LIMIT 1").fetchone() is None
    return RunContext(ts=ts, who=who, first_import=first_import, prev_end=fetch_data_end(conn))


def _record_run(
    conn: sqlite3.Connection, summary: UpsertSummary, who: str, complete: bool, total: int
) -> None:
    """The run's line in ``scoring_runs``."""
    conn.execute(
        "INSERT INTO scoring_runs (scored_at, actor, data_end, complete, alerts, inserted, "
        "historical, updated, unchanged, older, superseded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (summary.scored_at, who, _iso(summary.data_end), int(complete), total, summary.inserted,
         summary.historical, summary.updated, summary.unchanged, summary.older, len(summary.superseded)),
    )  # fmt: skip


def upsert_run(
    conn: sqlite3.Connection,
    records: Sequence[AlertRecord],
    *,
    ts: str,
    who: str,
    complete: bool,
    progress: Progress | None,
) -> UpsertSummary:
    """Write one scoring run inside the caller's write transaction (see ``TriageStore.upsert_alerts``).

    ``records`` are validated, with distinct ids (``check_unique_ids``).
    """
    total = len(records)
    data_end = max((r.last_seen or r.opened for r in records), default=None)
    ctx = run_context(conn, ts, who)
    tally = RunTally()
    for start in range(0, total, CHUNK):
        chunk = records[start : start + CHUNK]
        write_plan(conn, plan_chunk(conn, chunk, ctx, tally))
        if progress is not None:
            progress(start + len(chunk), total)
    successors: list[Successor] = []
    if complete and data_end is not None and (ctx.prev_end is None or data_end >= ctx.prev_end):
        run_ids = {r.alert_id for r in records}
        successors = retire_missing(conn, records, run_ids, data_end, ts, who)
    mirror_followups(conn, ts, who)
    followed_up = open_followups(conn, ts, who)
    link_parents(conn)
    summary = UpsertSummary(
        scored_at=ts,
        inserted=tally.inserted,
        updated=tally.updated,
        unchanged=tally.unchanged,
        escalated=tally.escalated,
        older=tally.older,
        reopened=tuple(tally.reopened),
        historical=tally.historical,
        superseded=tuple(s.alert_id for s in successors),
        linked=sum(s.successor_id is not None for s in successors),
        data_end=data_end,
        followed_up=tuple(followed_up),
    )
    _record_run(conn, summary, who, complete, total)
    return summary
