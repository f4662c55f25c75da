"""``TriageStore``: the persistent inbox of alerts, their triage lifecycle, notes and audit log.

Rules the store guarantees
--------------------------
* **Re-scoring never erases a triage decision or a note.** ``upsert_alerts`` inserts unseen alerts
  as ``new`` and, for known alerts, updates only the scored fields (``method``, ``level``,
  ``direction``, ``onset_estimate``, ``last_seen``, ``closed``, ``statistic``, ``threshold``,
  ``explanation``); status, outcome, assignee and notes are untouched. Whenever the scored
  evidence differs from what the store holds, an ``evidence`` row records what the run said, so the
  history of every number and explanation shown to a person is kept. Evidence never goes
  backwards: a row whose ``last_seen`` is earlier than the stored one (an older run, e.g. an
  ``--as-of`` backtest pointed at the live store) is ignored and counted in ``older``.
* **Reopening rule.** An alert a person closed is reopened to ``new`` by a re-score only when the
  situation got worse after the closure: the condition re-opened (scoring had recorded it as
  ended and now reports it holding again, e.g. after late data) or its level rose (e.g.
  ``concern`` -> ``urgent``). The person's outcome is cleared from the row but kept in the audit
  log (``old`` of the ``outcome`` line), and ``reopened_reason`` says why it came back. A condition
  that merely persists at the same or a lower level after a ``no_concern`` closure does not
  reopen the alert: the person's judgement stands, and the new evidence is attached.
* **Every change is audited in the same transaction**: lifecycle moves, assignee changes, notes
  added, automatic reopening, and scoring changes to ``level`` and to the condition's ``closed``.
  Routine evidence (statistics, explanations, ``last_seen``) is recorded in ``evidence`` instead.
  ``notes``, ``audit`` and ``evidence`` are append-only (triggers refuse UPDATE and DELETE) and
  alerts cannot be deleted.
* **No lost update.** Each alert has a ``version``, bumped by every change to status, outcome,
  assignee or level. Every lifecycle call takes the ``expected_version`` the caller saw; if another
  process changed the alert meanwhile the call raises ``StaleWriteError`` and changes nothing. Notes
  need no version: they only ever add.
* Text (notes, names, explanations) is stored verbatim; escaping is the job of whoever displays it.
* **Alerts describe the present.** On the store's first import only conditions that still hold
  start ``new``; ended ones are ``historical`` (also later, for an alert first seen after its
  condition ended before an earlier run's data end). A historical alert whose condition returns
  becomes ``new``. ``Alert.ended_before_triage`` marks ``new`` alerts whose condition ended long
  ago; ``bulk`` closes them (outcome ``ended_before_triage``, a note required).
* **Indicator alerts sit under their ward alert** (``parent_id``: the ward alert of the same ward
  whose episode overlaps theirs), recomputed on every upsert.
* **Evidence that keeps growing after a "no concern" closure** opens a follow-up alert linked to
  the closed one (``follows``); the closure itself stands (see ``engine.store.followups``).
* **Alerts follow corrected data.** A *complete* run (``complete=True``) retires stored alerts it
  no longer produces: linked to an overlapping successor of the same kind, which takes over an
  untriaged position (status, outcome, assignee), or closed as ``superseded``; nothing a person
  wrote is touched, and every step is audited on both alerts (see ``engine.store.succession``).

Concurrency model: every call opens its own short-lived SQLite connection, so one ``TriageStore``
may be shared between threads (e.g. Streamlit sessions), and any number of processes may use the
same file. Writers queue on the SQLite write lock for up to ``busy_timeout_ms``.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine.store.connection import connect, read_transaction, write_transaction
from engine.store.errors import InvalidTransitionError, StaleWriteError, UnknownAlertError
from engine.store.followups import mirror_followups, open_followups
from engine.store.lifecycle import (
    CLOSE_NEEDS_NOTE,
    LEVEL_RANK,
    OPEN_STATUSES,
    OUTCOMES,
    STATUSES,
    can_transition,
    is_escalation,
)
from engine.store.models import (
    Alert,
    AlertDetail,
    AlertRecord,
    AuditEntry,
    EvidenceEntry,
    InboxCounts,
    Note,
    ScoringRun,
    StoreSettings,
    UpsertSummary,
)
from engine.store.parents import link_parents
from engine.store.records import format_timestamp, iter_records, to_date
from engine.store.schema import LATEST_VERSION, migrate, schema_version
from engine.store.succession import Missing, Successor, find_successors

_ALERT_COLUMNS = (
    "alert_id, ward_id, scope, indicator, method, level, direction, opened, onset_estimate, last_seen, "
    "closed, statistic, threshold, explanation, first_scored_at, last_scored_at, status, outcome, "
    "assignee, reopened_reason, status_changed_at, version, provider, parent_id, superseded_by, follows"
)
#: outcomes a person may choose (``superseded`` is recorded only by a re-score).
PERSON_OUTCOMES = (*OUTCOMES, "ended_before_triage")
_TRIAGE_FIELDS = ("status", "outcome", "assignee", "reopened_reason")
_CHUNK = 1000  # alerts per write step and per "IN (...)" query (SQLite allows 32766 variables)
_UNSET: Any = object()

Progress = Callable[[int, int], None]


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _require_name(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty name")
    return value


def _require_version(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected_version must be an int, got {value!r}")
    return value


def _alert_from_row(row: Sequence[Any], note_count: int = 0) -> Alert:
    (alert_id, ward_id, scope, indicator, method, level, direction, opened, onset, last_seen, closed,
     statistic, threshold, explanation, first_scored_at, last_scored_at, status, outcome, assignee,
     reopened_reason, status_changed_at, version, provider, parent_id, superseded_by, follows) = row  # fmt: skip
    return Alert(
        alert_id=alert_id,
        ward_id=ward_id,
        scope=scope,
        indicator=indicator,
        method=method,
        level=level,
        direction=direction,
        opened=to_date(opened, "opened"),  # type: ignore[arg-type]
        onset_estimate=to_date(onset, "onset_estimate"),
        last_seen=to_date(last_seen, "last_seen"),
        closed=to_date(closed, "closed"),
        statistic=statistic,
        threshold=threshold,
        explanation=explanation,
        first_scored_at=first_scored_at,
        last_scored_at=last_scored_at,
        status=status,
        outcome=outcome,
        assignee=assignee,
        reopened_reason=reopened_reason,
        status_changed_at=status_changed_at,
        version=int(version),
        note_count=int(note_count),
        provider=provider,
        parent_id=parent_id,
        superseded_by=superseded_by,
        follows=follows,
    )


#: ``alerts.csv`` keeps 6 decimals: a statistic read back from it may differ by half a unit of that.
_CSV_ROUNDING = 5e-7


def _same_number(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=_CSV_ROUNDING * 1.000001)


def _same_evidence(stored: Sequence[Any], scored: Sequence[Any]) -> bool:
    """Scored fields equal, numbers up to the rounding of ``alerts.csv`` (a CSV round trip of the
    same run, e.g. the dashboard syncing the results ``wardwatch score --store`` already stored,
    must not count as new evidence)."""
    return (
        tuple(stored[:6]) == tuple(scored[:6])
        and _same_number(stored[6], scored[6])
        and _same_number(stored[7], scored[7])
        and stored[8] == scored[8]
    )


def _as_tuple(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    return (value,) if isinstance(value, str) else tuple(value)


class TriageStore:
    """The triage store in one SQLite file (created and migrated to the latest schema on open).

    Parameters
    ----------
    path : str or Path
        The SQLite file, e.g. ``<data folder>/.wardwatch/triage.db`` (see ``default_store_path``).
    settings : StoreSettings
        Busy timeout, durability level and the audit name of scoring runs (``path`` is ignored here:
        the caller resolves it).
    create : bool
        Create the file when it is missing (default). With ``False`` a missing file raises
        ``StoreNotFoundError`` (what read-only tools such as ``wardwatch alerts list`` want).
    clock : callable, optional
        Returns the current time (UTC); for tests. Defaults to ``datetime.now(UTC)``.

    Raises
    ------
    StoreNotFoundError, SchemaError
    """

    def __init__(
        self,
        path: str | Path,
        settings: StoreSettings | None = None,
        *,
        create: bool = True,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.path = Path(path)
        self.settings = settings or StoreSettings()
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        with self._connection(create=create) as conn:
            self.migrations_applied_: tuple[int, ...] = tuple(migrate(conn, self._now()))

    # ------------------------------------------------------------------ plumbing
    def _now(self) -> str:
        return format_timestamp(self._clock())

    @contextmanager
    def _connection(self, *, create: bool = False) -> Iterator[sqlite3.Connection]:
        conn = connect(
            self.path,
            busy_timeout_ms=self.settings.busy_timeout_ms,
            synchronous=self.settings.synchronous,
            create=create,
        )
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        with self._connection() as conn, write_transaction(conn):
            yield conn

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._connection() as conn, read_transaction(conn):
            yield conn

    @staticmethod
    def _audit(
        conn: sqlite3.Connection,
        rows: Iterable[tuple[str, str, str, str, str | None, str | None, str | None]],
    ) -> None:
        conn.executemany(
            "INSERT INTO audit (alert_id, at, actor, action, field, old, new) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    @property
    def schema_version(self) -> int:
        """The schema version of the file (``LATEST_VERSION`` after opening)."""
        with self._connection() as conn:
            return schema_version(conn)

    def integrity_check(self) -> list[str]:
        """``PRAGMA integrity_check`` and ``foreign_key_check`` messages; ``["ok"]`` when sound."""
        with self._connection() as conn:
            msgs = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
            fk = conn.execute("PRAGMA foreign_key_check").fetchall()
        return msgs + [f"foreign key violation: {tuple(r)}" for r in fk]

    # ------------------------------------------------------------------ scoring side
    def upsert_alerts(
        self,
        alerts: Iterable[AlertRecord] | Any,
        scored_at: dt.datetime | str | None = None,
        *,
        actor: str | None = None,
        progress: Progress | None = None,
        complete: bool = False,
    ) -> UpsertSummary:
        """Insert or update the alerts of one scoring run, in one transaction.

        Parameters
        ----------
        alerts : iterable of AlertRecord or mappings, or polars.DataFrame
            The run's alerts with the ``alerts.csv`` columns (``provider`` optional). All rows are
            validated before anything is written; one bad row rejects the whole run.
        scored_at : datetime or ISO text, optional
            When the run happened (UTC; naive datetimes are taken as UTC). Defaults to now.
        actor : str, optional
            Name in the audit log; defaults to ``settings.scoring_actor``.
        progress : callable(done, total), optional
            Called after each 1,000 alerts are written and at the end, inside the transaction.
        complete : bool
            The run holds *every* alert scoring produced (``wardwatch score``, the dashboard's sync),
            not a selection. Then a stored alert the run no longer produces (corrected data moved
            its opening or made it vanish) is retired: linked to its successor, with its triage
            carried over, or closed as ``superseded`` (see the module doc). Skipped for a run whose
            data end before the latest run's (an ``--as-of`` backtest).

        Inserted alerts start ``new``, except that an alert whose condition had already ended is
        filed ``historical`` when this is the store's first import, or when it ended before the data
        end of an earlier run (a correction of history nobody could have triaged).

        Returns
        -------
        UpsertSummary

        Raises
        ------
        ValueError
            A row is invalid, an ``alert_id`` appears twice in the run, or a known ``alert_id`` arrives
            with a different ward, scope, indicator or opening period (an id collision in scoring).
        """
        records = list(iter_records(alerts))
        ids = [r.alert_id for r in records]
        if len(set(ids)) != len(ids):
            seen: set[str] = set()
            dup = next(i for i in ids if i in seen or seen.add(i))  # type: ignore[func-returns-value]
            raise ValueError(f"alert_id {dup!r} appears more than once in the scoring run")
        ts = format_timestamp(scored_at if scored_at is not None else self._clock())
        who = _require_name(actor or self.settings.scoring_actor, "actor")
        total = len(records)
        data_end = max((r.last_seen or r.opened for r in records), default=None)
        inserted = updated = unchanged = escalated = older = historical = 0
        reopened: list[str] = []
        successors: list[Successor] = []
        with self._writing() as conn:
            first_import = conn.execute("SELECT 1 FROM alerts LIMIT 1").fetchone() is None
            prev_end = to_date(  # a store migrated from before version 3 has no runs: its newest evidence
                conn.execute(
                    "SELECT coalesce((SELECT max(data_end) FROM scoring_runs), (SELECT max(last_seen) FROM alerts))"
                ).fetchone()[0],
                "data_end",
            )
            for start in range(0, total, _CHUNK):  # written chunk by chunk: memory stays bounded
                chunk = records[start : start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                existing = {
                    row[0]: row
                    for row in conn.execute(
                        "SELECT alert_id, ward_id, scope, indicator, opened, method, level, direction, "
                        "onset_estimate, last_seen, closed, statistic, threshold, explanation, status, "
                        f"outcome, provider FROM alerts WHERE alert_id IN ({marks})",
                        [r.alert_id for r in chunk],
                    )
                }
                new_rows, evidence, audit, touch, providers = [], [], [], [], []
                scored_updates: list[tuple[Any, ...]] = []
                triage_updates: list[tuple[Any, ...]] = []
                bumps: list[tuple[str]] = []
                for rec in chunk:
                    scored = (
                        rec.method,
                        rec.level,
                        rec.direction,
                        _iso(rec.onset_estimate),
                        _iso(rec.last_seen),
                        _iso(rec.closed),
                        rec.statistic,
                        rec.threshold,
                        rec.explanation,
                    )
                    ev = (rec.alert_id, ts, rec.level, rec.statistic, rec.threshold, scored[4], scored[5],
                          rec.explanation)  # fmt: skip
                    old = existing.get(rec.alert_id)
                    if old is None:
                        inserted += 1
                        status = "new"
                        if rec.closed is not None and (first_import or (prev_end and rec.closed < prev_end)):
                            status = "historical"
                            historical += 1
                        new_rows.append((rec.alert_id, rec.ward_id, rec.scope, rec.indicator,
                                         _iso(rec.opened), *scored, ts, ts, ts, status, rec.provider))  # fmt: skip
                        evidence.append(ev)
                        audit.append((rec.alert_id, ts, who, "created", "status", None, status))
                        continue
                    identity = (rec.ward_id, rec.scope, rec.indicator, _iso(rec.opened))
                    if tuple(old[1:5]) != identity:
                        raise ValueError(
                            f"alert_id {rec.alert_id!r} is stored for ward/scope/indicator/opened "
                            f"{tuple(old[1:5])} but the run gives {identity}: alert ids must be stable"
                        )
                    if rec.provider is not None and old[16] != rec.provider:
                        providers.append((rec.provider, rec.alert_id))
                    if old[9] is not None and scored[4] is not None and scored[4] < old[9]:
                        older += 1  # e.g. an --as-of backtest written to the live store: ignore it
                    elif _same_evidence(old[5:14], scored) and (old[14], old[15]) != ("closed", "superseded"):
                        unchanged += 1
                        touch.append((ts, rec.alert_id))
                    else:
                        updated += 1
                        scored_updates.append((*scored, ts, rec.alert_id))
                        evidence.append(ev)
                        self._scoring_changes(rec, old, ts, who, audit, triage_updates, bumps, reopened)
                        escalated += is_escalation(old[6], rec.level)
                conn.executemany(
                    "INSERT INTO alerts (alert_id, ward_id, scope, indicator, opened, method, level, "
                    "direction, onset_estimate, last_seen, closed, statistic, threshold, explanation, "
                    "first_scored_at, last_scored_at, status_changed_at, status, provider) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    new_rows,
                )
                conn.executemany(
                    "UPDATE alerts SET method = ?, level = ?, direction = ?, onset_estimate = ?, "
                    "last_seen = ?, closed = ?, statistic = ?, threshold = ?, explanation = ?, "
                    "last_scored_at = max(last_scored_at, ?) WHERE alert_id = ?",
                    scored_updates,
                )
                conn.executemany(  # never backwards: a re-sync of an older run is not "last scored"
                    "UPDATE alerts SET last_scored_at = max(last_scored_at, ?) WHERE alert_id = ?", touch
                )
                conn.executemany("UPDATE alerts SET provider = ? WHERE alert_id = ?", providers)
                conn.executemany(
                    "UPDATE alerts SET status = ?, outcome = ?, reopened_reason = ?, "
                    "status_changed_at = ?, superseded_by = NULL, version = version + 1 WHERE alert_id = ?",
                    triage_updates,
                )
                conn.executemany("UPDATE alerts SET version = version + 1 WHERE alert_id = ?", bumps)
                conn.executemany(
                    "INSERT INTO evidence (alert_id, scored_at, level, statistic, threshold, last_seen, "
                    "closed, explanation) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    evidence,
                )
                self._audit(conn, audit)
                if progress is not None:
                    progress(start + len(chunk), total)
            if complete and data_end is not None and (prev_end is None or data_end >= prev_end):
                successors = self._retire_missing(conn, records, set(ids), data_end, ts, who)
            mirror_followups(conn, ts, who)
            followed_up = open_followups(conn, ts, who)
            link_parents(conn)
            summary = UpsertSummary(
                scored_at=ts,
                inserted=inserted,
                updated=updated,
                unchanged=unchanged,
                escalated=escalated,
                older=older,
                reopened=tuple(reopened),
                historical=historical,
                superseded=tuple(s.alert_id for s in successors),
                linked=sum(s.successor_id is not None for s in successors),
                data_end=data_end,
                followed_up=tuple(followed_up),
            )
            conn.execute(
                "INSERT INTO scoring_runs (scored_at, actor, data_end, complete, alerts, inserted, "
                "historical, updated, unchanged, older, superseded) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (ts, who, _iso(data_end), int(complete), total, inserted, historical, updated, unchanged,
                 older, len(successors)),
            )  # fmt: skip
        return summary

    def _retire_missing(
        self,
        conn: sqlite3.Connection,
        records: list[AlertRecord],
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
        rows = conn.execute(
            "SELECT alert_id, scope, ward_id, indicator, provider, opened, closed, status, outcome, "
            "assignee, level FROM alerts WHERE superseded_by IS NULL AND follows IS NULL "
            "AND NOT (status = 'closed' AND outcome = 'superseded') AND opened <= ?",
            (data_end.isoformat(),),
        ).fetchall()
        gone = [r for r in rows if r[0] not in run_ids]
        if not gone:
            return []
        missing = [
            Missing(r[0], (r[1], r[2] if r[1] != "provider" else "", r[3], r[4] if r[1] == "provider" else None),
                    to_date(r[5], "opened"), to_date(r[6], "closed"))  # type: ignore[arg-type]
            for r in gone
        ]  # fmt: skip
        found = find_successors(missing, records, data_end)
        old_of = {r[0]: r for r in gone}
        audit: list[tuple[Any, ...]] = []
        for link in found:
            _, _, _, _, _, _, _, status, outcome, assignee, level = old_of[link.alert_id]
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
            audit.append(
                (link.alert_id, ts, who, "superseded", "superseded_by", None, link.successor_id or why)
            )
            if new_status != status:
                audit.append((link.alert_id, ts, who, "superseded", "status", status, new_status))
                audit.append((link.alert_id, ts, who, "superseded", "outcome", outcome, new_outcome))
            if link.successor_id is not None:
                self._carry_over(conn, link.alert_id, link.successor_id, status, outcome, assignee, level, ts,
                                 who, audit)  # fmt: skip
        self._audit(conn, audit)
        return found

    @staticmethod
    def _carry_over(
        conn: sqlite3.Connection,
        old_id: str,
        new_id: str,
        status: str,
        outcome: str | None,
        assignee: str | None,
        old_level: str,
        ts: str,
        who: str,
        audit: list[tuple[Any, ...]],
    ) -> None:
        """Give an untriaged successor the triage state of the alert it replaces (audited on it)."""
        audit.append((new_id, ts, who, "replaces", "supersedes", None, old_id))
        row = conn.execute(
            "SELECT status, outcome, assignee, level FROM alerts WHERE alert_id = ?", (new_id,)
        ).fetchone()
        if row is None or row[0] not in CLOSE_NEEDS_NOTE or status in CLOSE_NEEDS_NOTE:
            return  # the successor was triaged on its own, or nobody had triaged the old alert
        current = {"status": row[0], "outcome": row[1], "assignee": row[2]}
        if status == "closed" and (outcome == "superseded" or is_escalation(old_level, row[3])):
            target = {"status": "new", "outcome": None}  # worse than what the person closed: news
        else:
            target = {"status": status, "outcome": outcome}
        target["assignee"] = row[2] or assignee
        changed = {k: v for k, v in target.items() if current[k] != v}
        if not changed:
            return
        reason = f"replaces {old_id} ({status}{' as ' + outcome if outcome else ''}) after re-scoring"
        conn.execute(
            "UPDATE alerts SET status = ?, outcome = ?, assignee = ?, reopened_reason = ?, "
            "status_changed_at = ?, version = version + 1 WHERE alert_id = ?",
            (target["status"], target["outcome"], target["assignee"], reason, ts, new_id),
        )
        audit.extend(
            (new_id, ts, who, "carried_over", k, _text(current[k]), _text(v)) for k, v in changed.items()
        )

    @staticmethod
    def _scoring_changes(
        rec: AlertRecord,
        old: tuple[Any, ...],
        ts: str,
        who: str,
        audit: list[tuple[Any, ...]],
        triage_updates: list[tuple[Any, ...]],
        bumps: list[tuple[str]],
        reopened: list[str],
    ) -> None:
        """Audit lines and triage changes implied by a re-score of a known alert (see module doc)."""
        old_level, old_closed, status, outcome = old[6], old[10], old[14], old[15]
        new_closed = _iso(rec.closed)
        level_changed = old_level != rec.level
        if level_changed:
            audit.append((rec.alert_id, ts, who, "level_changed", "level", old_level, rec.level))
        if old_closed != new_closed:
            action = "condition_reopened" if new_closed is None else "condition_closed"
            audit.append((rec.alert_id, ts, who, action, "closed", old_closed, new_closed))
        reasons = []
        if status == "closed" and outcome == "superseded":
            reasons.append("scoring produces it again")
        elif status in ("closed", "historical"):
            if old_closed is not None and new_closed is None:
                reasons.append(f"the condition re-opened (it had ended on {old_closed})")
            if status == "closed" and is_escalation(old_level, rec.level):
                reasons.append(f"the level rose from {old_level} to {rec.level}")
        if reasons:
            after = (
                f"after closure as {outcome}" if status == "closed" else "after it was filed as historical"
            )
            reason = f"re-scored {ts}: {' and '.join(reasons)} {after}"
            reopened.append(rec.alert_id)
            audit.append((rec.alert_id, ts, who, "reopened", "status", status, "new"))
            if outcome is not None:
                audit.append((rec.alert_id, ts, who, "reopened", "outcome", outcome, None))
            audit.append((rec.alert_id, ts, who, "reopened", "reopened_reason", None, reason))
            triage_updates.append(("new", None, reason, ts, rec.alert_id))
        elif level_changed:  # a changed level is news for whoever is looking at the alert
            bumps.append((rec.alert_id,))

    # ------------------------------------------------------------------ triage side
    def _change(
        self,
        alert_id: str,
        actor: str,
        expected_version: int,
        action: str,
        decide: Callable[[dict[str, Any]], dict[str, Any]],
        note: tuple[str, str] | None = None,
    ) -> Alert:
        """Atomically: check version, let ``decide`` validate and return new triage values, write, audit."""
        _require_name(actor, "actor")
        _require_version(expected_version)
        with self._writing() as conn:
            self._apply(conn, alert_id, actor, expected_version, action, decide, note, self._now())
            return self._fetch_alert(conn, alert_id)

    def _apply(
        self,
        conn: sqlite3.Connection,
        alert_id: str,
        actor: str,
        expected_version: int,
        action: str,
        decide: Callable[[dict[str, Any]], dict[str, Any]],
        note: tuple[str, str] | None,
        ts: str,
    ) -> None:
        """One alert's checked change inside an open write transaction (see ``_change``)."""
        row = conn.execute(
            "SELECT status, outcome, assignee, reopened_reason, version FROM alerts WHERE alert_id = ?",
            (alert_id,),
        ).fetchone()
        if row is None:
            raise UnknownAlertError(alert_id)
        current = dict(zip((*_TRIAGE_FIELDS, "version"), row, strict=True))
        if current["version"] != expected_version:
            raise StaleWriteError(alert_id, expected_version, current["version"])
        target = decide(current)
        changed = {k: v for k, v in target.items() if current[k] != v}
        if changed:
            sets = ", ".join(f"{k} = ?" for k in changed)
            if "status" in changed:
                sets += ", status_changed_at = ?"
            values = [*changed.values(), *([ts] if "status" in changed else [])]
            cur = conn.execute(
                f"UPDATE alerts SET {sets}, version = version + 1 WHERE alert_id = ? AND version = ?",
                (*values, alert_id, expected_version),
            )
            if cur.rowcount != 1:  # cannot happen under BEGIN IMMEDIATE; refuse rather than guess
                raise StaleWriteError(alert_id, expected_version, -1)
            self._audit(
                conn,
                ((alert_id, ts, actor, action, k, _text(current[k]), _text(v)) for k, v in changed.items()),
            )
        if note is not None:
            self._insert_note(conn, alert_id, note[0], note[1], ts)

    @staticmethod
    def _move(current: dict[str, Any], target: str) -> None:
        if not can_transition(current["status"], target):
            hint = " (use reopen with a reason)" if current["status"] == "closed" else ""
            raise InvalidTransitionError(f"cannot move an alert from {current['status']} to {target}{hint}")

    def acknowledge(
        self, alert_id: str, actor: str, expected_version: int, *, assignee: str | None = _UNSET
    ) -> Alert:
        """``new`` -> ``acknowledged``; optionally set the assignee in the same change.

        Raises
        ------
        UnknownAlertError, StaleWriteError, InvalidTransitionError
        """

        def decide(cur: dict[str, Any]) -> dict[str, Any]:
            self._move(cur, "acknowledged")
            return {"status": "acknowledged", **({} if assignee is _UNSET else {"assignee": assignee})}

        return self._change(alert_id, actor, expected_version, "acknowledged", decide)

    def start_investigation(
        self, alert_id: str, actor: str, expected_version: int, *, assignee: str | None = _UNSET
    ) -> Alert:
        """``new`` or ``acknowledged`` -> ``investigating``; optionally set the assignee.

        Raises
        ------
        UnknownAlertError, StaleWriteError, InvalidTransitionError
        """

        def decide(cur: dict[str, Any]) -> dict[str, Any]:
            self._move(cur, "investigating")
            return {"status": "investigating", **({} if assignee is _UNSET else {"assignee": assignee})}

        return self._change(alert_id, actor, expected_version, "investigation_started", decide)

    @classmethod
    def _closing(cls, outcome: str, note: str | None) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """Check a closure's outcome and note; the ``decide`` step of closing one alert."""
        if outcome not in PERSON_OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(PERSON_OUTCOMES)}; got {outcome!r}")
        if note is not None and not note.strip():
            raise ValueError("a closing note, when given, must not be empty")

        def decide(cur: dict[str, Any]) -> dict[str, Any]:
            if cur["status"] in CLOSE_NEEDS_NOTE and note is None:
                raise InvalidTransitionError(
                    f"cannot move an alert from {cur['status']} to closed without a note: nobody has "
                    "acknowledged it, so say why it can be closed"
                )
            cls._move(cur, "closed")
            return {"status": "closed", "outcome": outcome, "reopened_reason": None}

        return decide

    def close(
        self, alert_id: str, actor: str, outcome: str, expected_version: int, note: str | None = None
    ) -> Alert:
        """Close with an outcome; optional closing note (required when the alert is ``new`` or
        ``historical``: nobody acknowledged it, so the note says why it can go).

        The note (stored verbatim, authored by ``actor``) is written in the same transaction, so
        a closure and its reasoning are never separated.

        Raises
        ------
        ValueError
            ``outcome`` is not one of ``no_concern``, ``action_taken``, ``escalated_safeguarding``,
            ``ended_before_triage``.
        UnknownAlertError, StaleWriteError, InvalidTransitionError
        """
        decide = self._closing(outcome, note)
        return self._change(
            alert_id, actor, expected_version, "closed", decide, None if note is None else (actor, note)
        )

    def bulk(
        self,
        action: str,
        targets: Mapping[str, int],
        actor: str,
        *,
        note: str,
        outcome: str | None = None,
    ) -> list[Alert]:
        """Acknowledge or close several alerts at once, all or nothing, each audited on its own.

        Parameters
        ----------
        action : {"acknowledge", "close"}
        targets : mapping of alert id -> the version the person saw
        note : str
            Required: why these alerts are handled together; added to every alert's notes.
        outcome : str, optional
            Required for ``close``.

        Each alert gets its own audit lines (one ``acknowledged``/``closed`` entry), exactly as if
        it had been handled alone; one stale or impossible alert refuses the whole batch.

        Raises
        ------
        ValueError, UnknownAlertError, StaleWriteError, InvalidTransitionError
        """
        _require_name(actor, "actor")
        if not isinstance(note, str) or not note.strip():
            raise ValueError("a bulk action needs a note saying why")
        if action == "close":
            if outcome is None:
                raise ValueError("closing needs an outcome")
            decide = self._closing(outcome, note)
            verb = "closed"
        elif action == "acknowledge":

            def decide(cur: dict[str, Any]) -> dict[str, Any]:
                self._move(cur, "acknowledged")
                return {"status": "acknowledged"}

            verb = "acknowledged"
        else:
            raise ValueError(f"bulk action must be acknowledge or close, got {action!r}")
        for version in targets.values():
            _require_version(version)
        with self._writing() as conn:
            ts = self._now()
            for alert_id, version in targets.items():
                self._apply(conn, alert_id, actor, version, verb, decide, (actor, note), ts)
            return [self._fetch_alert(conn, a) for a in targets]

    def reopen(self, alert_id: str, actor: str, reason: str, expected_version: int) -> Alert:
        """``closed`` (or ``historical``) -> ``new``, explicitly, with a reason (kept as a note and in
        the audit log).

        The previous outcome is cleared from the alert and kept in the audit log.

        Raises
        ------
        ValueError
            ``reason`` is empty.
        UnknownAlertError, StaleWriteError, InvalidTransitionError
            The alert is not closed.
        """
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError("reopening needs a reason")

        def decide(cur: dict[str, Any]) -> dict[str, Any]:
            if cur["status"] not in ("closed", "historical"):
                raise InvalidTransitionError(
                    f"only a closed or historical alert can be reopened (it is {cur['status']})"
                )
            return {"status": "new", "outcome": None, "reopened_reason": reason}

        return self._change(alert_id, actor, expected_version, "reopened", decide, (actor, reason))

    def assign(self, alert_id: str, actor: str, assignee: str | None, expected_version: int) -> Alert:
        """Set (or with ``None`` clear) who is looking at an open (not closed) alert.

        Raises
        ------
        UnknownAlertError, StaleWriteError, InvalidTransitionError
            The alert is closed.
        """
        if assignee is not None:
            _require_name(assignee, "assignee")

        def decide(cur: dict[str, Any]) -> dict[str, Any]:
            if cur["status"] == "closed":
                raise InvalidTransitionError("cannot assign a closed alert (reopen it first)")
            return {"assignee": assignee}

        return self._change(alert_id, actor, expected_version, "assigned", decide)

    def _insert_note(self, conn: sqlite3.Connection, alert_id: str, author: str, text: str, ts: str) -> Note:
        note_id = conn.execute(
            "INSERT INTO notes (alert_id, author, created_at, text) VALUES (?, ?, ?, ?)",
            (alert_id, author, ts, text),
        ).lastrowid
        assert note_id is not None
        self._audit(conn, [(alert_id, ts, author, "note_added", "note", None, str(note_id))])
        return Note(id=int(note_id), alert_id=alert_id, author=author, created_at=ts, text=text)

    def add_note(self, alert_id: str, author: str, text: str) -> Note:
        """Append a note (verbatim) to an alert in any status; needs no version.

        Raises
        ------
        ValueError
            Empty author or empty text.
        UnknownAlertError
        """
        _require_name(author, "author")
        if not isinstance(text, str) or not text:
            raise ValueError("a note must not be empty")
        with self._writing() as conn:
            if conn.execute("SELECT 1 FROM alerts WHERE alert_id = ?", (alert_id,)).fetchone() is None:
                raise UnknownAlertError(alert_id)
            return self._insert_note(conn, alert_id, author, text, self._now())

    # ------------------------------------------------------------------ reading
    @staticmethod
    def _fetch_alert(conn: sqlite3.Connection, alert_id: str) -> Alert:
        row = conn.execute(
            f"SELECT {_ALERT_COLUMNS}, (SELECT count(*) FROM notes n WHERE n.alert_id = a.alert_id) "
            "FROM alerts a WHERE alert_id = ?",
            (alert_id,),
        ).fetchone()
        if row is None:
            raise UnknownAlertError(alert_id)
        return _alert_from_row(row[:-1], row[-1])

    def get(self, alert_id: str) -> AlertDetail:
        """The alert with its notes, audit log and evidence history, read in one snapshot.

        Raises
        ------
        UnknownAlertError
        """
        with self._reading() as conn:
            alert = self._fetch_alert(conn, alert_id)
            notes = tuple(
                Note(*r)
                for r in conn.execute(
                    "SELECT id, alert_id, author, created_at, text FROM notes WHERE alert_id = ? ORDER BY id",
                    (alert_id,),
                )
            )
            audit = tuple(
                AuditEntry(*r)
                for r in conn.execute(
                    "SELECT id, alert_id, at, actor, action, field, old, new FROM audit "
                    "WHERE alert_id = ? ORDER BY id",
                    (alert_id,),
                )
            )
            evidence = tuple(
                EvidenceEntry(
                    id=r[0],
                    alert_id=r[1],
                    scored_at=r[2],
                    level=r[3],
                    statistic=r[4],
                    threshold=r[5],
                    last_seen=to_date(r[6], "last_seen"),
                    closed=to_date(r[7], "closed"),
                    explanation=r[8],
                )
                for r in conn.execute(
                    "SELECT id, alert_id, scored_at, level, statistic, threshold, last_seen, closed, "
                    "explanation FROM evidence WHERE alert_id = ? ORDER BY id",
                    (alert_id,),
                )
            )
        return AlertDetail(alert=alert, notes=notes, audit=audit, evidence=evidence)

    def list_alerts(
        self,
        status: str | Iterable[str] | None = None,
        ward: str | Iterable[str] | None = None,
        level: str | Iterable[str] | None = None,
        *,
        scope: str | None = None,
        indicator: str | None = None,
        condition_open: bool | None = None,
        assignee: str | None = None,
        provider: str | Iterable[str] | None = None,
        unassigned: bool | None = None,
        parent_id: str | None = None,
        limit: int | None = None,
    ) -> list[Alert]:
        """Alerts matching every given filter (each of status/ward/level/provider may be one value or
        several).

        Ordered for an inbox: by status (new first), then most severe level, latest ``last_seen``,
        then ``alert_id``. ``condition_open=True`` keeps alerts whose condition still holds;
        ``unassigned=True`` those nobody owns; ``parent_id`` the indicator alerts under a ward alert.

        Raises
        ------
        ValueError
            An unknown status.
        """
        where: list[str] = []
        params: list[Any] = []
        statuses = _as_tuple(status)
        if statuses is not None:
            bad = [s for s in statuses if s not in STATUSES]
            if bad:
                raise ValueError(f"unknown status {bad[0]!r}; expected one of {', '.join(STATUSES)}")
        for column, values in (
            ("status", statuses),
            ("ward_id", _as_tuple(ward)),
            ("level", _as_tuple(level)),
            ("provider", _as_tuple(provider)),
        ):
            if values is not None:
                where.append(f"{column} IN ({','.join('?' * len(values))})" if values else "0")
                params.extend(values)
        if unassigned is not None:
            where.append("assignee IS NULL" if unassigned else "assignee IS NOT NULL")
        for column, value in (
            ("scope", scope),
            ("indicator", indicator),
            ("assignee", assignee),
            ("parent_id", parent_id),
        ):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if condition_open is not None:
            where.append("closed IS NULL" if condition_open else "closed IS NOT NULL")
        status_order = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(STATUSES))
        level_order = " ".join(f"WHEN '{lv}' THEN {r}" for lv, r in LEVEL_RANK.items())
        sql = (
            f"SELECT {_ALERT_COLUMNS}, (SELECT count(*) FROM notes n WHERE n.alert_id = a.alert_id) "
            f"FROM alerts a {'WHERE ' + ' AND '.join(where) if where else ''} "
            f"ORDER BY CASE status {status_order} END, CASE level {level_order} ELSE -1 END DESC, "
            "last_seen DESC, alert_id"
        )
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        with self._reading() as conn:
            return [_alert_from_row(r[:-1], r[-1]) for r in conn.execute(sql, params)]

    def predecessors(self, alert_id: str) -> list[Alert]:
        """Alerts a re-score replaced by ``alert_id``, directly or through a chain, oldest link last.

        Their notes and audit stay where they were written; show them with the successor.
        """
        out: list[Alert] = []
        with self._reading() as conn:
            frontier, seen = [alert_id], {alert_id}
            while frontier:
                marks = ",".join("?" * len(frontier))
                rows = conn.execute(
                    f"SELECT {_ALERT_COLUMNS}, (SELECT count(*) FROM notes n WHERE n.alert_id = a.alert_id) "
                    f"FROM alerts a WHERE superseded_by IN ({marks}) ORDER BY opened DESC, alert_id",
                    frontier,
                ).fetchall()
                found = [_alert_from_row(r[:-1], r[-1]) for r in rows if r[0] not in seen]
                seen.update(a.alert_id for a in found)
                out += found
                frontier = [a.alert_id for a in found]
        return out

    def latest_run(self) -> ScoringRun | None:
        """The most recent scoring run the store received (``None`` before the first)."""
        with self._reading() as conn:
            row = conn.execute(
                "SELECT id, scored_at, actor, data_end, complete, alerts, inserted, historical, updated, "
                "unchanged, older, superseded FROM scoring_runs ORDER BY id DESC LIMIT 1"
            ).fetchone()
        if row is None:
            return None
        return ScoringRun(row[0], row[1], row[2], to_date(row[3], "data_end"), bool(row[4]), *row[5:])

    def data_end(self) -> dt.date | None:
        """The last period any scoring run covered (``None`` before the first run)."""
        with self._reading() as conn:
            value = conn.execute("SELECT max(data_end) FROM scoring_runs").fetchone()[0]
            if value is None:  # a store migrated from before version 3: the newest evidence
                value = conn.execute("SELECT max(last_seen) FROM alerts").fetchone()[0]
        return to_date(value, "data_end")

    def inbox_counts(self, ended_days: int | None = None) -> InboxCounts:
        """What the inbox holds, counted in SQL the way the dashboard's inbox shows it.

        ``ended_days`` defaults to ``settings.ended_before_triage_days``.
        """
        days = self.settings.ended_before_triage_days if ended_days is None else int(ended_days)
        end = self.data_end()
        cutoff = (end - dt.timedelta(days=days)).isoformat() if end else ""
        opened = ",".join(f"'{s}'" for s in OPEN_STATUSES)
        with self._reading() as conn:
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
        # the 11 counts fill InboxCounts' 11 int fields in order (mypy cannot count a star-argument)
        return InboxCounts(*(int(v or 0) for v in row), data_end=end, ended_days=days)  # type: ignore[misc, arg-type]

    def status_counts(self) -> dict[str, int]:
        """Number of alerts in each status (every status present, zero when none)."""
        with self._reading() as conn:
            found = dict(conn.execute("SELECT status, count(*) FROM alerts GROUP BY status").fetchall())
        return {s: int(found.get(s, 0)) for s in STATUSES}

    def alerts_frame(self, **filters: Any) -> Any:
        """``list_alerts(**filters)`` as a polars DataFrame (one row per alert, dates as ``Date``)."""
        import polars as pl

        kinds = {"opened": pl.Date, "onset_estimate": pl.Date, "last_seen": pl.Date, "closed": pl.Date,
                 "statistic": pl.Float64, "threshold": pl.Float64, "version": pl.Int64,
                 "note_count": pl.Int64}  # fmt: skip
        schema = {name: kinds.get(name, pl.String) for name in Alert.__dataclass_fields__}
        return pl.DataFrame([a.as_dict() for a in self.list_alerts(**filters)], schema=schema)


def default_store_path(data_dir: str | Path = ".", settings: StoreSettings | None = None) -> Path:
    """The store file for a data folder: ``<data_dir>/<settings.path>`` (``.wardwatch/triage.db``)."""
    rel = Path((settings or StoreSettings()).path)
    return rel if rel.is_absolute() else Path(data_dir) / rel


__all__ = ["LATEST_VERSION", "TriageStore", "default_store_path"]
