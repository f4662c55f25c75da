"""The alerts schema in one place: the columns of ``alerts.csv`` and of the store's ``alerts`` table.

Every other spelling derives from these tuples: ``AlertRecord``/``Alert`` (``engine.store.models``),
the ``SELECT`` lists of the store, the version 3 table rebuild (``engine.store.schema``) and the
columns scoring writes (``engine.scoring.alerts``). No imports, so ``engine.contract`` can re-export
it without an import circle.

Dates are ISO ``YYYY-MM-DD`` periods; timestamps UTC ISO 8601 text (see ``engine.store.records``).
"""

from __future__ import annotations

from typing import Final

#: columns of ``alerts.csv`` (issue 6, item 5), in file order; ``upsert_alerts`` needs all of them.
ALERTS_CSV_COLUMNS: Final[tuple[str, ...]] = (
    "alert_id",
    "ward_id",
    "scope",
    "indicator",
    "method",
    "level",
    "direction",
    "opened",
    "onset_estimate",
    "last_seen",
    "closed",
    "statistic",
    "threshold",
    "explanation",
)

#: the fields that identify an alert: a known ``alert_id`` must always come back with these.
IDENTITY_FIELDS: Final[tuple[str, ...]] = ("ward_id", "scope", "indicator", "opened")

#: the fields a re-score may change (everything else in ``AlertRecord`` identifies the alert).
SCORED_FIELDS: Final[tuple[str, ...]] = tuple(
    c for c in ALERTS_CSV_COLUMNS if c != "alert_id" and c not in IDENTITY_FIELDS
)

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
