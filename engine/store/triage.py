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

Where the work is done: ``engine.store.upsert`` (a scoring run), ``engine.store.transitions``
(a person's actions, as one table), ``engine.store.reading`` (queries), ``engine.store.succession``
and ``engine.store.followups`` (re-scoring's consequences), ``engine.store.columns`` (the alerts
schema). Every write and every person's action is logged at INFO on the ``engine.store`` loggers.

Concurrency model: every call opens its own short-lived SQLite connection, so one ``TriageStore``
may be shared between threads (e.g. Streamlit sessions), and any number of processes may use the
same file. Writers queue on the SQLite write lock for up to ``busy_timeout_ms``.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine.store.connection import connect, read_transaction, write_transaction
from engine.store.errors import UnknownAlertError
from engine.store.journal import insert_note
from engine.store.lifecycle import PERSON_OUTCOMES, STATUSES
from engine.store.models import (
    Alert,
    AlertDetail,
    AlertRecord,
    InboxCounts,
    Note,
    ScoringRun,
    StoreSettings,
    UpsertSummary,
)
from engine.store.reading import (
    alert_from_row,
    as_tuple,
    fetch_alert,
    fetch_data_end,
    fetch_detail,
    fetch_inbox_counts,
    fetch_latest_run,
    fetch_predecessors,
    list_query,
)
from engine.store.records import format_timestamp, iter_records
from engine.store.schema import LATEST_VERSION, migrate, schema_version
from engine.store.transitions import TRANSITION_TABLE, apply_transition
from engine.store.upsert import Progress, check_unique_ids, upsert_run

logger = logging.getLogger(__name__)

_UNSET: Any = object()


def _require_name(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty name")
    return value


def _require_version(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected_version must be an int, got {value!r}")
    return value


def _closing_values(outcome: str, note: str | None) -> dict[str, Any]:
    """Check a closure's outcome and note; the triage fields a closure writes besides its status."""
    if outcome not in PERSON_OUTCOMES:
        raise ValueError(f"outcome must be one of {', '.join(PERSON_OUTCOMES)}; got {outcome!r}")
    if note is not None and not note.strip():
        raise ValueError("a closing note, when given, must not be empty")
    return {"outcome": outcome, "reopened_reason": None}


def _assignee_values(assignee: str | None) -> dict[str, Any]:
    return {} if assignee is _UNSET else {"assignee": assignee}


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
        if self.migrations_applied_:
            logger.info(
                "triage store %s migrated to schema version(s) %s", self.path, self.migrations_applied_
            )

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
        check_unique_ids(records)
        ts = format_timestamp(scored_at if scored_at is not None else self._clock())
        who = _require_name(actor or self.settings.scoring_actor, "actor")
        with self._writing() as conn:
            summary = upsert_run(conn, records, ts=ts, who=who, complete=complete, progress=progress)
        logger.info(
            "scoring run %s by %s written to %s (%d alerts, complete=%s): %s",
            ts, who, self.path, summary.total, complete, "; ".join(summary.lines()),
        )  # fmt: skip
        return summary

    # ------------------------------------------------------------------ triage side
    def _change(
        self,
        alert_id: str,
        actor: str,
        expected_version: int,
        action: str,
        values: Mapping[str, Any],
        note: str | None = None,
    ) -> Alert:
        """Atomically apply the ``action`` of ``TRANSITION_TABLE`` to one alert (see
        ``engine.store.transitions.apply_transition``) and return the alert as it now is."""
        _require_name(actor, "actor")
        _require_version(expected_version)
        move = TRANSITION_TABLE[action]
        with self._writing() as conn:
            changed = apply_transition(
                conn, alert_id, actor, expected_version, move, values, note, self._now()
            )
            alert = fetch_alert(conn, alert_id)
        _log_change(alert_id, actor, move.action, changed, note is not None)
        return alert

    def acknowledge(
        self, alert_id: str, actor: str, expected_version: int, *, assignee: str | None = _UNSET
    ) -> Alert:
        """``new`` -> ``acknowledged``; optionally set the assignee in the same change.

        Raises
        ------
        UnknownAlertError, StaleWriteError, InvalidTransitionError
        """
        return self._change(alert_id, actor, expected_version, "acknowledge", _assignee_values(assignee))

    def start_investigation(
        self, alert_id: str, actor: str, expected_version: int, *, assignee: str | None = _UNSET
    ) -> Alert:
        """``new`` or ``acknowledged`` -> ``investigating``; optionally set the assignee.

        Raises
        ------
        UnknownAlertError, StaleWriteError, InvalidTransitionError
        """
        return self._change(
            alert_id, actor, expected_version, "start_investigation", _assignee_values(assignee)
        )

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
        return self._change(alert_id, actor, expected_version, "close", _closing_values(outcome, note), note)

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
            values = _closing_values(outcome, note)
        elif action == "acknowledge":
            values = {}
        else:
            raise ValueError(f"bulk action must be acknowledge or close, got {action!r}")
        move = TRANSITION_TABLE[action]
        for version in targets.values():
            _require_version(version)
        with self._writing() as conn:
            ts = self._now()
            changes = {
                alert_id: apply_transition(conn, alert_id, actor, version, move, values, note, ts)
                for alert_id, version in targets.items()
            }
            alerts = [fetch_alert(conn, a) for a in targets]
        for alert_id, changed in changes.items():
            _log_change(alert_id, actor, move.action, changed, True)
        return alerts

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
        values = {"outcome": None, "reopened_reason": reason}
        return self._change(alert_id, actor, expected_version, "reopen", values, reason)

    def assign(self, alert_id: str, actor: str, assignee: str | None, expected_version: int) -> Alert:
        """Set (or with ``None`` clear) who is looking at an open (not closed) alert.

        Raises
        ------
        UnknownAlertError, StaleWriteError, InvalidTransitionError
            The alert is closed.
        """
        if assignee is not None:
            _require_name(assignee, "assignee")
        return self._change(alert_id, actor, expected_version, "assign", {"assignee": assignee})

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
            note = insert_note(conn, alert_id, author, text, self._now())
        logger.info("note %s added to alert %s by %s", note.id, alert_id, author)
        return note

    # ------------------------------------------------------------------ reading
    def get(self, alert_id: str) -> AlertDetail:
        """The alert with its notes, audit log and evidence history, read in one snapshot.

        Raises
        ------
        UnknownAlertError
        """
        with self._reading() as conn:
            return fetch_detail(conn, alert_id)

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
        statuses = as_tuple(status)
        if statuses is not None:
            bad = [s for s in statuses if s not in STATUSES]
            if bad:
                raise ValueError(f"unknown status {bad[0]!r}; expected one of {', '.join(STATUSES)}")
        sql, params = list_query(
            any_of={"status": statuses, "ward_id": as_tuple(ward), "level": as_tuple(level),
                    "provider": as_tuple(provider)},
            equal={"scope": scope, "indicator": indicator, "assignee": assignee, "parent_id": parent_id},
            is_null={"assignee": unassigned, "closed": condition_open},
            limit=limit,
        )  # fmt: skip
        with self._reading() as conn:
            return [alert_from_row(r) for r in conn.execute(sql, params)]

    def predecessors(self, alert_id: str) -> list[Alert]:
        """Alerts a re-score replaced by ``alert_id``, directly or through a chain, oldest link last.

        Their notes and audit stay where they were written; show them with the successor.
        """
        with self._reading() as conn:
            return fetch_predecessors(conn, alert_id)

    def latest_run(self) -> ScoringRun | None:
        """The most recent scoring run the store received (``None`` before the first)."""
        with self._reading() as conn:
            return fetch_latest_run(conn)

    def data_end(self) -> dt.date | None:
        """The last period any scoring run covered (``None`` before the first run)."""
        with self._reading() as conn:
            return fetch_data_end(conn)

    def inbox_counts(self, ended_days: int | None = None) -> InboxCounts:
        """What the inbox holds, counted in SQL the way the dashboard's inbox shows it.

        ``ended_days`` defaults to ``settings.ended_before_triage_days``.
        """
        days = self.settings.ended_before_triage_days if ended_days is None else int(ended_days)
        with self._reading() as conn:
            return fetch_inbox_counts(conn, fetch_data_end(conn), days)

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


def _log_change(
    alert_id: str, actor: str, action: str, changed: Mapping[str, tuple[Any, Any]], noted: bool
) -> None:
    """The INFO line of one person's action on one alert (values, never note text)."""
    moves = ", ".join(f"{k} {old!r} -> {new!r}" for k, (old, new) in changed.items()) or "no field changed"
    logger.info("alert %s %s by %s: %s%s", alert_id, action, actor, moves, " (with a note)" if noted else "")


__all__ = ["LATEST_VERSION", "PERSON_OUTCOMES", "TriageStore", "default_store_path"]
