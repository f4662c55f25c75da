"""Triage lifecycle: statuses, outcomes, the allowed transitions and the ordering of alert levels.

The lifecycle of a triaged alert::

    new ──► acknowledged ──► investigating ──► closed (outcome required)
     └──────────────────────────►┘   acknowledged ──► closed
    new ──► closed   only with a closing note (the reason), e.g. a bulk close of a ward's indicator
                     alerts or of conditions that ended before anyone triaged them
    historical ──► acknowledged / investigating / closed (with a note), like ``new``
    closed ──► new   only by an explicit reopen with a reason (a person), or automatically by a
                     re-score in which the condition re-opened or the level rose (see ``TriageStore``)

``historical`` is the status of an alert whose condition had already ended when the store first
saw it (the first import of a trust's history): kept and searchable, but not news for the inbox.
A re-score that finds its condition holding again makes it ``new``.

A closure always names a person: ``new -> closed`` needs a note saying why nobody looked closer.
Two outcomes are recorded by the system or by bulk actions rather than by an investigation:
``ended_before_triage`` (the condition ended before anyone triaged the alert) and ``superseded``
(a re-score no longer produces the alert; ``superseded_by`` names its successor when there is one).
"""

from __future__ import annotations

from typing import Final, Literal

# severity of the alert levels produced by scoring (higher is more severe), from the contract.
from engine.contract.levels import LEVEL_RANK

Status = Literal["new", "acknowledged", "investigating", "closed", "historical"]
Outcome = Literal["no_concern", "action_taken", "escalated_safeguarding", "ended_before_triage", "superseded"]

STATUSES: Final[tuple[str, ...]] = ("new", "acknowledged", "investigating", "closed", "historical")
#: statuses a person still has to act on (the inbox's "open" alerts).
OPEN_STATUSES: Final[tuple[str, ...]] = ("new", "acknowledged", "investigating")
#: outcomes a person chooses when closing after a look at the evidence.
OUTCOMES: Final[tuple[str, ...]] = ("no_concern", "action_taken", "escalated_safeguarding")
#: every outcome the store holds: the above plus the bulk and system ones.
ALL_OUTCOMES: Final[tuple[str, ...]] = (*OUTCOMES, "ended_before_triage", "superseded")
#: outcomes a person may choose (``superseded`` is recorded only by a re-score).
PERSON_OUTCOMES: Final[tuple[str, ...]] = (*OUTCOMES, "ended_before_triage")
SCOPES: Final[tuple[str, ...]] = ("ward", "indicator", "provider")

#: status -> statuses reachable by an ordinary triage action (reopen is separate). ``new`` and
#: ``historical`` reach ``closed`` only with a closing note (checked by the store).
TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "new": frozenset({"acknowledged", "investigating", "closed"}),
    "historical": frozenset({"acknowledged", "investigating", "closed"}),
    "acknowledged": frozenset({"investigating", "closed"}),
    "investigating": frozenset({"closed"}),
    "closed": frozenset(),
}
#: statuses from which closing needs a note (nobody has looked at the alert yet).
CLOSE_NEEDS_NOTE: Final[frozenset[str]] = frozenset({"new", "historical"})


def can_transition(current: str, target: str) -> bool:
    """Whether an ordinary triage action may move an alert from ``current`` to ``target``."""
    return target in TRANSITIONS.get(current, frozenset())


def is_escalation(old_level: str | None, new_level: str) -> bool:
    """Whether ``new_level`` is strictly more severe than ``old_level``.

    Levels outside ``LEVEL_RANK`` (e.g. a detector-specific label) are never called an escalation:
    only a known, ordered rise counts.
    """
    if old_level is None or old_level not in LEVEL_RANK or new_level not in LEVEL_RANK:
        return False
    return LEVEL_RANK[new_level] > LEVEL_RANK[old_level]
