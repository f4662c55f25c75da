"""Plain data of the triage store: the scored alert coming in, and what the store hands back.

Dates (``opened``, ``onset_estimate``, ``last_seen``, ``closed``) are calendar dates of scoring
periods (the Monday of a week, or the first day of a month). Timestamps (``scored_at``,
``created_at``, ``at``) are UTC instants stored as ISO 8601 text with a ``Z`` suffix and microseconds,
e.g. ``2026-11-03T10:15:30.123456Z``, so they sort as text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field

# columns of ``alerts.csv`` in file order (the results contract); ``upsert_alerts`` needs all of them.
from engine.contract.results import ALERTS_CSV_COLUMNS as ALERTS_CSV_COLUMNS

#: the ``alerts.csv`` columns that identify an alert: a re-score never changes them.
IDENTITY_FIELDS: tuple[str, ...] = ("alert_id", "ward_id", "scope", "indicator", "opened")
#: the fields a re-score may change: every other contract column, in file order (method, level,
#: direction, onset_estimate, last_seen, closed, statistic, threshold, explanation).
SCORED_FIELDS: tuple[str, ...] = tuple(c for c in ALERTS_CSV_COLUMNS if c not in IDENTITY_FIELDS)


@dataclass(frozen=True)
class StoreSettings:
    """Where the triage store lives and how it writes.

    The store path is resolved relative to the data folder the user works in, so a trust's data
    and its triage decisions travel together.
    """

    path: str = field(
        default=".wardwatch/triage.db",
        metadata={"doc": "SQLite file of the triage store, relative to the data folder"},
    )
    busy_timeout_ms: int = field(
        default=10_000,
        metadata={"doc": "milliseconds a writer waits for another writer's lock before giving up"},
    )
    synchronous: str = field(
        default="FULL",
        metadata={
            "doc": "SQLite synchronous level: FULL survives power loss after commit; NORMAL only a "
            "process crash (faster)"
        },
    )
    scoring_actor: str = field(
        default="wardwatch score",
        metadata={"doc": "actor named in the audit log for changes made by a scoring run"},
    )
    ended_before_triage_days: int = field(
        default=28,
        metadata={
            "doc": "days after its condition ended (before the latest scored period) that an alert "
            "nobody triaged is shown as 'ended before triage'"
        },
    )


@dataclass(frozen=True)
class ScoredAlert:
    """The ``alerts.csv`` fields of an alert, in ``ALERTS_CSV_COLUMNS`` order (shared by the row
    scoring produces and the alert the store keeps).

    ``closed`` is the period the *condition* ended (empty while it holds); it is not the triage
    closure, which only a person records. ``statistic`` and ``threshold`` are in the units of the
    detector named by ``method`` (NaN is stored as empty).
    """

    alert_id: str
    ward_id: str
    scope: str
    indicator: str | None
    method: str | None
    level: str
    direction: str | None
    opened: dt.date
    onset_estimate: dt.date | None
    last_seen: dt.date | None
    closed: dt.date | None
    statistic: float | None
    threshold: float | None
    explanation: str


@dataclass(frozen=True)
class AlertRecord(ScoredAlert):
    """One alert as produced by scoring (one row of ``alerts.csv``; see ``ScoredAlert``)."""

    provider: str | None = None  # the ward's provider; for a provider alert, the provider itself


@dataclass(frozen=True)
class Alert(ScoredAlert):
    """An alert as stored: the latest scored fields plus its triage state.

    ``version`` increases by one on every change to the triage state (status, outcome, assignee)
    and on every change of ``level``; pass it back as ``expected_version`` when changing the alert.
    ``reopened_reason`` is set when a closed alert was reopened (by a person or by a re-score) and
    stays until the alert is closed again. ``provider`` is the ward's provider (for a provider alert,
    whose ``ward_id`` is empty, the provider itself); ``parent_id`` is the ward alert an indicator
    alert sits under; ``superseded_by`` the alert a re-score produced in its place; ``follows`` (on
    a follow-up alert) the alert closed as no concern whose evidence kept growing.
    """

    first_scored_at: str
    last_scored_at: str
    status: str
    outcome: str | None
    assignee: str | None
    reopened_reason: str | None
    status_changed_at: str | None
    version: int
    note_count: int = 0
    provider: str | None = None
    parent_id: str | None = None
    superseded_by: str | None = None
    follows: str | None = None

    @property
    def condition_open(self) -> bool:
        """True while scoring still sees the condition (``closed`` is empty)."""
        return self.closed is None

    def ended_before_triage(self, data_end: dt.date | None, days: int) -> bool:
        """Nobody triaged it (``new``) and its condition ended more than ``days`` before ``data_end``."""
        if self.status != "new" or self.closed is None or data_end is None:
            return False
        return (data_end - self.closed).days > days

    def as_dict(self) -> dict[str, object]:
        """The alert as a plain dictionary (dates as ``datetime.date``)."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Note:
    """A free-text note on an alert; stored verbatim and never changed or deleted."""

    id: int
    alert_id: str
    author: str
    created_at: str
    text: str


@dataclass(frozen=True)
class AuditEntry:
    """One line of the append-only audit log: ``field`` of ``alert_id`` went from ``old`` to ``new``.

    ``action`` names the operation (``created``, ``acknowledged``, ``investigation_started``,
    ``closed``, ``reopened``, ``assigned``, ``note_added``, ``level_changed``, ``condition_closed``,
    ``condition_reopened``); one action that changes several fields writes one line per field.
    """

    id: int
    alert_id: str
    at: str
    actor: str
    action: str
    field: str | None
    old: str | None
    new: str | None


@dataclass(frozen=True)
class EvidenceEntry:
    """What a scoring run said about an alert: appended whenever the scored evidence changed."""

    id: int
    alert_id: str
    scored_at: str
    level: str
    statistic: float | None
    threshold: float | None
    last_seen: dt.date | None
    closed: dt.date | None
    explanation: str


@dataclass(frozen=True)
class AlertDetail:
    """An alert with its notes, audit log and evidence history (oldest first)."""

    alert: Alert
    notes: tuple[Note, ...]
    audit: tuple[AuditEntry, ...]
    evidence: tuple[EvidenceEntry, ...]


@dataclass(frozen=True)
class UpsertSummary:
    """What one ``upsert_alerts`` call did.

    Attributes
    ----------
    scored_at : str
        The scoring run's timestamp (UTC, ISO 8601).
    inserted : int
        Alerts seen for the first time (status ``new``).
    updated : int
        Existing alerts whose scored evidence changed (one evidence row each).
    unchanged : int
        Existing alerts whose evidence was identical to what the store held.
    escalated : int
        Existing alerts whose level rose.
    older : int
        Rows ignored because their ``last_seen`` is earlier than the stored one (an older run).
    reopened : tuple[str, ...]
        Alert ids that had been closed by a person and were reopened to ``new`` because the
        condition re-opened or escalated after the closure.
    """

    scored_at: str
    inserted: int
    updated: int
    unchanged: int
    escalated: int
    older: int
    reopened: tuple[str, ...]
    historical: int = 0
    superseded: tuple[str, ...] = ()
    linked: int = 0
    data_end: dt.date | None = None
    followed_up: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        """Number of alerts in the scoring run."""
        return self.inserted + self.updated + self.unchanged + self.older

    def lines(self) -> list[str]:
        """The summary in plain words, one fact per line (what ``wardwatch score`` prints)."""
        new = self.inserted - self.historical
        out = [
            f"{self.total} alert(s) in this run: {new} new"
            + (
                f", {self.historical} already ended when first seen (filed as historical)"
                if self.historical
                else ""
            )
            + f", {self.updated} with new evidence, {self.unchanged} unchanged"
            + (f", {self.older} ignored as older than the store's evidence" if self.older else "")
        ]
        if self.escalated:
            out.append(f"{self.escalated} alert(s) rose in level")
        if self.reopened:
            out.append(f"{len(self.reopened)} closed alert(s) reopened because the situation got worse")
        if self.followed_up:
            out.append(
                f"{len(self.followed_up)} alert(s) closed as no concern whose evidence kept growing: a new "
                "follow-up alert opened for each"
            )
        if self.superseded:
            out.append(
                f"{len(self.superseded)} alert(s) no longer produced by scoring: {self.linked} linked to the "
                f"alert that replaced them, {len(self.superseded) - self.linked} closed as superseded"
            )
        return out


@dataclass(frozen=True)
class ScoringRun:
    """One scoring run the store received (``scoring_runs`` table)."""

    id: int
    scored_at: str
    actor: str
    data_end: dt.date | None
    complete: bool
    alerts: int
    inserted: int
    historical: int
    updated: int
    unchanged: int
    older: int
    superseded: int


@dataclass(frozen=True)
class InboxCounts:
    """What the triage inbox holds (``TriageStore.inbox_counts``); "open" = new, acknowledged or
    investigating. Ward and indicator alerts are counted apart from provider alerts.

    Attributes
    ----------
    ward_rows : int
        Wards with at least one open alert: the inbox's rows when "ended before triage" is shown.
    current_ward_rows : int
        Wards with an open alert other than one that ended before triage: the rows it opens with.
    open, new, ended_before_triage, new_current : int
        Open alerts; of them ``new``; of those, ``ended_before_triage`` (nobody triaged them and
        the condition ended more than ``ended_days`` before ``data_end``) and ``new_current``
        (condition still holds).
    provider_open : int
        Open provider-wide alerts (their own section).
    historical, superseded, closed, total : int
        Filed as historical; closed as superseded by re-scoring; closed by a person; every alert.
    """

    ward_rows: int
    current_ward_rows: int
    open: int
    new: int
    ended_before_triage: int
    new_current: int
    provider_open: int
    historical: int
    superseded: int
    closed: int
    total: int
    data_end: dt.date | None = None
    ended_days: int = 28

    def lines(self) -> list[str]:
        """The inbox in plain words, with how every stored alert is accounted for."""
        rows = f"{self.current_ward_rows} ward row(s)"
        if self.ward_rows != self.current_ward_rows:
            rows += f" (+{self.ward_rows - self.current_ward_rows} with only alerts that ended before triage)"
        return [
            f"inbox: {rows}, {self.open} open ward/indicator alert(s) of which {self.new} new "
            f"({self.new_current} whose condition still holds, {self.ended_before_triage} ended before "
            f"triage); {self.provider_open} open provider alert(s)",
            f"not in the inbox: {self.historical} historical (ended before the first import), "
            f"{self.closed} closed by a person, {self.superseded} superseded by re-scoring "
            f"({self.total} alerts stored in all)",
        ]
