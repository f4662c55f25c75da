"""The store's ``alerts`` table in one place: its columns, derived from the ``alerts.csv`` contract.

``ALERTS_CSV_COLUMNS`` and ``SCORED_FIELDS`` (the file's columns; what a re-score may change) are
defined once in ``engine.store.models`` (the results contract); this module adds the columns only
the store has (triage state, links) and every ``SELECT`` list and the version 3 rebuild derive from
``STORED_ALERT_COLUMNS``, ``AlertRecord``/``Alert`` share ``ScoredAlert``.

Dates are ISO ``YYYY-MM-DD`` periods; timestamps UTC ISO 8601 text (see ``engine.store.records``).
"""

from __future__ import annotations

from typing import Final

from engine.store.models import ALERTS_CSV_COLUMNS, SCORED_FIELDS

#: the ``alerts.csv`` columns that identify an alert: a re-score never changes them (``alert_id``
#: first, then ward_id, scope, indicator, opened).
IDENTITY_FIELDS: Final[tuple[str, ...]] = tuple(c for c in ALERTS_CSV_COLUMNS if c not in SCORED_FIELDS)

#: the triage state the store keeps beside the scored fields (schema versions 1 and 2).
TRIAGE_COLUMNS: Final[tuple[str, ...]] = (
    "first_scored_at",
    "last_scored_at",
    "status",
    "outcome",
    "assignee",
    "reopened_reason",
    "status_changed_at",
    "version",
)

#: the links added by schema version 3: provider, parent ward alert, successor, followed alert.
LINK_COLUMNS: Final[tuple[str, ...]] = ("provider", "parent_id", "superseded_by", "follows")

#: every column of the ``alerts`` table, in table order (the fields of ``Alert``, which adds
#: ``note_count`` after ``version``).
STORED_ALERT_COLUMNS: Final[tuple[str, ...]] = (*ALERTS_CSV_COLUMNS, *TRIAGE_COLUMNS, *LINK_COLUMNS)

#: the date columns of ``alerts`` (ISO text in SQLite, ``datetime.date`` in Python).
DATE_COLUMNS: Final[tuple[str, ...]] = ("opened", "onset_estimate", "last_seen", "closed")


def sql_list(columns: tuple[str, ...]) -> str:
    """Columns as an SQL list: ``"a, b, c"``."""
    return ", ".join(columns)
