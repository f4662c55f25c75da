"""A person's triage actions as one table, and the checked write of one action on one alert.

Each row of ``TRANSITION_TABLE`` says, for one public action of ``TriageStore``: what the audit log
calls it, the status it moves the alert to, the statuses it may start from and the words of the
refusal otherwise. ``acknowledge``, ``start_investigation`` and ``close`` follow the ordinary
lifecycle (``engine.store.lifecycle.TRANSITIONS``); ``reopen`` and ``assign`` have rules of their own.
``apply_transition`` runs one action inside a write transaction: version check, table check,
update of the changed fields only, one audit line per changed field, the optional note.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from engine.store.errors import InvalidTransitionError, StaleWriteError, UnknownAlertError
from engine.store.journal import insert_note, text_or_none, write_audit
from engine.store.lifecycle import CLOSE_NEEDS_NOTE, STATUSES, TRANSITIONS

#: the triage fields a person's action may write (``version`` is bumped by every write).
TRIAGE_FIELDS: Final[tuple[str, ...]] = ("status", "outcome", "assignee", "reopened_reason")


@dataclass(frozen=True)
class Transition:
    """One kind of triage action.

    Attributes
    ----------
    action : str
        What the audit log calls it (``acknowledged``, ``closed``...).
    status : str or None
        The status the alert moves to; ``None`` keeps the status (``assign``).
    sources : frozenset of str
        The statuses it may start from.
    refusal : str
        The ``InvalidTransitionError`` message from any other status (``{status}`` is the current
        status, ``{hint}`` a pointer to ``reopen`` when it is ``closed``).
    needs_note_from : frozenset of str
        Statuses from which the action needs a note (nobody has looked at the alert yet).
    """

    action: str
    status: str | None
    sources: frozenset[str]
    refusal: str
    needs_note_from: frozenset[str] = frozenset()


def _ordinary(action: str, status: str) -> Transition:
    """A move along the ordinary lifecycle (``TRANSITIONS``) to ``status``."""
    sources = frozenset(s for s, targets in TRANSITIONS.items() if status in targets)
    return Transition(action, status, sources, f"cannot move an alert from {{status}} to {status}{{hint}}")


#: public ``TriageStore`` action -> its transition.
TRANSITION_TABLE: Final[Mapping[str, Transition]] = {
    "acknowledge": _ordinary("acknowledged", "acknowledged"),
    "start_investigation": _ordinary("investigation_started", "investigating"),
    "close": replace(_ordinary("closed", "closed"), needs_note_from=CLOSE_NEEDS_NOTE),
    "reopen": Transition(
        "reopened",
        "new",
        frozenset({"closed", "historical"}),
        "only a closed or historical alert can be reopened (it is {status})",
    ),
    "assign": Transition(
        "assigned", None, frozenset(STATUSES) - {"closed"}, "cannot assign a closed alert (reopen it first)"
    ),
}


def decide(move: Transition, status: str, values: Mapping[str, Any], *, with_note: bool) -> dict[str, Any]:
    """The triage fields ``move`` writes from ``status`` (the new status first, then ``values``).

    Raises
    ------
    InvalidTransitionError
        The alert's status does not allow the move, or the move needs a note and has none.
    """
    if status in move.needs_note_from and not with_note:
        raise InvalidTransitionError(
            f"cannot move an alert from {status} to {move.status} without a note: nobody has "
            "acknowledged it, so say why it can be closed"
        )
    if status not in move.sources:
        hint = " (use reopen with a reason)" if status == "closed" else ""
        raise InvalidTransitionError(move.refusal.format(status=status, hint=hint))
    return {**({} if move.status is None else {"status": move.status}), **values}


def _current(conn: sqlite3.Connection, alert_id: str) -> dict[str, Any]:
    row = conn.execute(
        "SELECT status, outcome, assignee, reopened_reason, version FROM alerts WHERE alert_id = ?",
        (alert_id,),
    ).fetchone()
    if row is None:
        raise UnknownAlertError(alert_id)
    return dict(zip((*TRIAGE_FIELDS, "version"), row, strict=True))


def apply_transition(
    conn: sqlite3.Connection,
    alert_id: str,
    actor: str,
    expected_version: int,
    move: Transition,
    values: Mapping[str, Any],
    note: str | None,
    ts: str,
) -> dict[str, tuple[Any, Any]]:
    """One alert's checked change inside an open write transaction; ``{field: (old, new)}`` changed.

    ``note`` (authored by ``actor``) is appended in the same transaction.

    Raises
    ------
    UnknownAlertError, StaleWriteError, InvalidTransitionError
    """
    current = _current(conn, alert_id)
    if current["version"] != expected_version:
        raise StaleWriteError(alert_id, expected_version, current["version"])
    target = decide(move, current["status"], values, with_note=note is not None)
    changed = {k: (current[k], v) for k, v in target.items() if current[k] != v}
    if changed:
        sets = ", ".join(f"{k} = ?" for k in changed)
        if "status" in changed:
            sets += ", status_changed_at = ?"
        written = [new for _, new in changed.values()] + ([ts] if "status" in changed else [])
        cur = conn.execute(
            f"UPDATE alerts SET {sets}, version = version + 1 WHERE alert_id = ? AND version = ?",
            (*written, alert_id, expected_version),
        )
        if cur.rowcount != 1:  # cannot happen under BEGIN IMMEDIATE; refuse rather than guess
            raise StaleWriteError(alert_id, expected_version, -1)
        write_audit(
            conn,
            (
                (alert_id, ts, actor, move.action, k, text_or_none(old), text_or_none(new))
                for k, (old, new) in changed.items()
            ),
        )
    if note is not None:
        insert_note(conn, alert_id, actor, note, ts)
    return changed
