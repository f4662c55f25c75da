"""SQLite triage store: alerts upserted by scoring, their lifecycle, notes, audit log and migrations.

Typical use::

    from engine.store import TriageStore, default_store_path

    store = TriageStore(default_store_path(data_dir))
    store.upsert_alerts(alerts_frame, scored_at=run_time)       # scoring run
    alert = store.get(alert_id).alert
    store.acknowledge(alert_id, actor="j.smith", expected_version=alert.version)
    store.add_note(alert_id, author="j.smith", text="Spoke to ward manager.")
    store.close(alert_id, actor="j.smith", outcome="no_concern", expected_version=alert.version + 1)
"""

from engine.contract.levels import LEVEL_RANK
from engine.store.errors import (
    InvalidTransitionError,
    SchemaError,
    StaleWriteError,
    StoreError,
    StoreNotFoundError,
    UnknownAlertError,
)
from engine.store.lifecycle import (
    ALL_OUTCOMES,
    OPEN_STATUSES,
    OUTCOMES,
    PERSON_OUTCOMES,
    SCOPES,
    STATUSES,
    TRANSITIONS,
)
from engine.store.models import (
    ALERTS_CSV_COLUMNS,
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
from engine.store.schema import LATEST_VERSION, MIGRATIONS
from engine.store.triage import TriageStore, default_store_path

__all__ = [
    "ALERTS_CSV_COLUMNS",
    "ALL_OUTCOMES",
    "LATEST_VERSION",
    "LEVEL_RANK",
    "MIGRATIONS",
    "OPEN_STATUSES",
    "OUTCOMES",
    "PERSON_OUTCOMES",
    "SCOPES",
    "STATUSES",
    "TRANSITIONS",
    "Alert",
    "AlertDetail",
    "AlertRecord",
    "AuditEntry",
    "EvidenceEntry",
    "InboxCounts",
    "InvalidTransitionError",
    "Note",
    "SchemaError",
    "ScoringRun",
    "StaleWriteError",
    "StoreError",
    "StoreNotFoundError",
    "StoreSettings",
    "TriageStore",
    "UnknownAlertError",
    "UpsertSummary",
    "default_store_path",
]
