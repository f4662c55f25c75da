"""Triage lifecycle: statuses, outcomes, the allowed transitions and the ordering of alert levels.

The lifecycle of a triaged alert::

    new ──► acknowledged ──► investigating ──► closed (outcome required)
     └──────────────────────────►┘   acknowledged ──► closed
    closed ──► new   only by an explicit reopen with a reason (a person), or automatically by a
                     re-score in which the condition re-opened or the level rose (see ``TriageStore``)

``new -> closed`` is not allowed: somebody must at least acknowledge an alert before closing it, so
every closure names a person who looked at it.
"""

from __future__ import annotations

from typing import Final, Literal

Status = Literal["new", "acknowledged", "investigating", "closed"]
Outcome = Literal["no_concern", "action_taken", "escalated_safeguarding"]

STATUSES: Final[tuple[str, ...]] = ("new", "acknowledged", "investigating", "closed")
OUTCOMES: Final[tuple[str, ...]] = ("no_concern", "action_taken", "escalated_safeguarding")
SCOPES: Final[tuple[str, ...]] = ("ward", "indicator")

#: status -> statuses reachable by an ordinary triage action (reopen is separate).
TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "new": frozenset({"acknowledged", "investigating"}),
    "acknowledged": frozenset({"investigating", "closed"}),
    "investigating": frozenset({"closed"}),
    "closed": frozenset(),
}

#: severity order of the alert levels produced by scoring; higher is more severe.
LEVEL_RANK: Final[dict[str, int]] = {"none": 0, "watch": 1, "concern": 2, "urgent": 3}


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
