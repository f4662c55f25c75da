"""The audit trail in plain words, at UK local time (Europe/London: GMT in winter, BST in summer).

The store keeps one audit line per changed field (``status new -> acknowledged``, ``outcome ->
no_concern``...). A person reads one entry per action: "Jo Bloggs closed the alert: no concern
found." Lines of the same alert written together (same instant, actor and action) form one entry.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from dashboard.services.formatting import OUTCOME_WORDS, STATUS_WORDS
from engine.contract.dates import UK_DATE_FORMAT
from engine.store import AuditEntry

UK = ZoneInfo("Europe/London")
#: outcome words including the ones recorded by bulk actions and re-scoring.
ALL_OUTCOME_WORDS: dict[str, str] = {
    **OUTCOME_WORDS,
    "ended_before_triage": "Ended before triage",
    "superseded": "Superseded by re-scoring",
}
#: status words including the historical status.
ALL_STATUS_WORDS: dict[str, str] = {**STATUS_WORDS, "historical": "Historical"}


def uk_local_time(value: str | None) -> str:
    """``dd/mm/yyyy HH:MM GMT|BST`` for a store timestamp (ISO 8601 UTC with ``Z``)."""
    if not value:
        return ""
    t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    local = t.astimezone(UK)
    return local.strftime(f"{UK_DATE_FORMAT} %H:%M ") + (local.tzname() or "")


@dataclass(frozen=True)
class AuditSentence:
    """One audit entry as a person reads it."""

    at: str  # the store timestamp (UTC ISO), for sorting
    when: str  # UK local time
    who: str
    alert_id: str
    action: str
    text: str


def _status(value: str | None) -> str:
    return ALL_STATUS_WORDS.get(value or "", value or "none").lower()


def _sentence(action: str, fields: dict[str, tuple[str | None, str | None]]) -> str:
    """Plain words for one action given its changed fields (``field -> (old, new)``)."""
    new_status = fields.get("status", (None, None))[1]
    outcome = fields.get("outcome", (None, None))[1]
    if action == "created":
        return f"Scoring raised the alert ({_status(new_status)})."
    if action == "acknowledged":
        return "Acknowledged the alert."
    if action == "investigation_started":
        return "Started an investigation."
    if action == "closed":
        words = ALL_OUTCOME_WORDS.get(outcome or "", outcome or "")
        return f"Closed the alert: {words.lower()}." if words else "Closed the alert."
    if action == "reopened":
        reason = fields.get("reopened_reason", (None, None))[1]
        return f"Reopened the alert{': ' + reason if reason else ''}."
    if action == "assigned":
        old, new = fields.get("assignee", (None, None))
        if new:
            return f"Assigned the alert to {new}" + (f" (was {old})." if old else ".")
        return f"Removed the assignee{' ' + old if old else ''}."
    if action == "note_added":
        return "Added a note."
    if action == "level_changed":
        old, new = fields.get("level", (None, None))
        return f"Re-scoring changed the level from {old} to {new}."
    if action == "condition_closed":
        return f"Re-scoring found the condition ended ({fields.get('closed', (None, None))[1]})."
    if action == "condition_reopened":
        return "Re-scoring found the condition holding again."
    if action == "superseded":
        link = fields.get("superseded_by", (None, None))[1] or ""
        if link.startswith("superseded by re-scoring"):
            return "Re-scoring no longer finds this condition: closed as superseded."
        return f"Re-scoring replaced this alert by {link} (corrected data moved its opening)."
    if action == "replaces":
        return f"Re-scoring made this alert the successor of {fields.get('supersedes', (None, None))[1]}."
    if action == "carried_over":
        parts = [f"{k} {_status(v[1]) if k == 'status' else (v[1] or 'none')}" for k, v in fields.items()]
        return "Took over the earlier alert's " + ", ".join(parts) + "."
    changes = "; ".join(f"{k}: {o or '–'} → {n or '–'}" for k, (o, n) in fields.items())
    return f"{action.replace('_', ' ').capitalize()}: {changes}."


def audit_sentences(entries: Iterable[AuditEntry]) -> list[AuditSentence]:
    """One sentence per action (oldest first), from the store's per-field audit lines."""
    groups: dict[tuple[str, str, str, str], dict[str, tuple[str | None, str | None]]] = {}
    for e in entries:
        key = (e.at, e.alert_id, e.actor, e.action)
        groups.setdefault(key, {})[e.field or ""] = (e.old, e.new)
    return [
        AuditSentence(at, uk_local_time(at), actor, alert_id, action, _sentence(action, fields))
        for (at, alert_id, actor, action), fields in sorted(groups.items(), key=lambda kv: kv[0][0])
    ]


def audit_rows(
    sentences: Sequence[AuditSentence], labels: dict[str, str] | None = None
) -> dict[str, list[str]]:
    """Columns of the audit table (newest first); ``labels`` names alerts in an "Alert" column."""
    ordered = list(reversed(sentences))
    cols = {
        "When (UK time)": [s.when for s in ordered],
        "Who": [s.who for s in ordered],
        "What happened": [s.text for s in ordered],
    }
    if labels is not None:
        cols["Alert"] = [labels.get(s.alert_id, s.alert_id) for s in ordered]
    return cols
