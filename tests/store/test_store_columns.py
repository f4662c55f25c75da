"""One alerts schema: the table's columns, the dataclasses and the upsert's stored row agree."""

from __future__ import annotations

import dataclasses

from engine.store import ALERTS_CSV_COLUMNS, Alert, AlertRecord, TriageStore
from engine.store.columns import IDENTITY_FIELDS, STORED_ALERT_COLUMNS
from engine.store.models import SCORED_FIELDS, ScoredAlert
from engine.store.upsert import StoredAlert


def test_dataclasses_follow_the_columns_in_order():
    assert tuple(f.name for f in dataclasses.fields(ScoredAlert)) == ALERTS_CSV_COLUMNS
    assert tuple(f.name for f in dataclasses.fields(AlertRecord)) == (*ALERTS_CSV_COLUMNS, "provider")
    alert = [f.name for f in dataclasses.fields(Alert)]
    alert.remove("note_count")
    assert tuple(alert) == STORED_ALERT_COLUMNS
    # every alerts.csv column either identifies the alert or is re-scored, never both
    assert sorted((*IDENTITY_FIELDS, *SCORED_FIELDS)) == sorted(ALERTS_CSV_COLUMNS)


def test_stored_row_is_identity_then_scored_fields():
    assert StoredAlert._fields == (*IDENTITY_FIELDS, *SCORED_FIELDS, "status", "outcome", "provider")


def test_the_table_of_a_new_store_has_exactly_the_stored_columns(tmp_path):
    store = TriageStore(tmp_path / "t.db")
    with store._connection() as conn:
        names = tuple(r[1] for r in conn.execute("PRAGMA table_info(alerts)"))
    assert names == STORED_ALERT_COLUMNS
