"""Lifecycle transitions, stale-write refusal, notes and the append-only audit log."""

from __future__ import annotations

import sqlite3

import pytest

from engine.store import (
    LATEST_VERSION,
    InvalidTransitionError,
    StaleWriteError,
    StoreNotFoundError,
    TriageStore,
    UnknownAlertError,
)


@pytest.fixture
def seeded(store, record):
    store.upsert_alerts([record(i) for i in range(6)], scored_at="2026-03-02T06:00:00Z")
    return store


def status_lines(store, alert_id):
    return [(e.actor, e.action, e.old, e.new) for e in store.get(alert_id).audit if e.field == "status"]


def test_full_lifecycle_writes_one_audit_line_per_changed_field(seeded):
    a = seeded.get("A000000").alert
    assert (a.status, a.version, a.outcome, a.assignee) == ("new", 1, None, None)
    a = seeded.acknowledge("A000000", "alice", 1)
    assert (a.status, a.version) == ("acknowledged", 2)
    a = seeded.start_investigation("A000000", "alice", 2, assignee="bob")
    assert (a.status, a.assignee, a.version) == ("investigating", "bob", 3)
    a = seeded.close("A000000", "bob", "action_taken", 3, note="Extra staff put on nights.")
    assert (a.status, a.outcome, a.version, a.note_count) == ("closed", "action_taken", 4, 1)
    audit = seeded.get("A000000").audit
    assert [(e.actor, e.action, e.field, e.old, e.new) for e in audit] == [
        ("wardwatch score", "created", "status", None, "new"),
        ("alice", "acknowledged", "status", "new", "acknowledged"),
        ("alice", "investigation_started", "status", "acknowledged", "investigating"),
        ("alice", "investigation_started", "assignee", None, "bob"),
        ("bob", "closed", "status", "investigating", "closed"),
        ("bob", "closed", "outcome", None, "action_taken"),
        ("bob", "note_added", "note", None, "1"),
    ]
    assert [e.id for e in audit] == sorted(e.id for e in audit)
    assert all(e.at.endswith("Z") for e in audit)


def test_new_to_investigating_and_acknowledged_to_closed_are_allowed(seeded):
    assert seeded.start_investigation("A000001", "a", 1).status == "investigating"
    seeded.acknowledge("A000002", "a", 1)
    assert seeded.close("A000002", "a", "no_concern", 2).status == "closed"


@pytest.mark.parametrize(
    ("setup", "attempt"),
    [
        ([], lambda s, v: s.close("A000000", "x", "no_concern", v)),  # new -> closed
        (["ack"], lambda s, v: s.acknowledge("A000000", "x", v)),  # acknowledged -> acknowledged
        (["inv"], lambda s, v: s.acknowledge("A000000", "x", v)),  # investigating -> acknowledged
        (["inv"], lambda s, v: s.start_investigation("A000000", "x", v)),
        (["ack", "close"], lambda s, v: s.acknowledge("A000000", "x", v)),  # closed -> anything
        (["ack", "close"], lambda s, v: s.start_investigation("A000000", "x", v)),
        (["ack", "close"], lambda s, v: s.close("A000000", "x", "no_concern", v)),
        (["ack", "close"], lambda s, v: s.assign("A000000", "x", "y", v)),
        ([], lambda s, v: s.reopen("A000000", "x", "why", v)),  # reopen needs a closed alert
    ],
)
def test_invalid_transitions_are_refused_and_change_nothing(seeded, setup, attempt):
    steps = {
        "ack": lambda v: seeded.acknowledge("A000000", "x", v),
        "inv": lambda v: seeded.start_investigation("A000000", "x", v),
        "close": lambda v: seeded.close("A000000", "x", "no_concern", v),
    }
    for step in setup:
        steps[step](seeded.get("A000000").alert.version)
    before = seeded.get("A000000")
    with pytest.raises(InvalidTransitionError):
        attempt(seeded, before.alert.version)
    assert seeded.get("A000000") == before


def test_close_requires_a_known_outcome(seeded):
    seeded.acknowledge("A000000", "a", 1)
    with pytest.raises(ValueError, match="outcome"):
        seeded.close("A000000", "a", "fine", 2)
    with pytest.raises(ValueError, match="outcome"):
        seeded.close("A000000", "a", None, 2)  # type: ignore[arg-type]
    assert seeded.get("A000000").alert.status == "acknowledged"


def test_stale_version_is_refused_without_any_change(seeded):
    seeded.acknowledge("A000000", "alice", 1)
    before = seeded.get("A000000")
    with pytest.raises(StaleWriteError) as info:
        seeded.start_investigation("A000000", "bob", 1)  # bob still looks at version 1
    assert (info.value.expected_version, info.value.current_version) == (1, 2)
    with pytest.raises(StaleWriteError):
        seeded.close("A000000", "bob", "no_concern", 1, note="this note must not be saved")
    assert seeded.get("A000000") == before  # no status change, no audit line, no closing note


def test_versions_must_be_ints_and_actor_named(seeded):
    with pytest.raises(TypeError):
        seeded.acknowledge("A000000", "a", "1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="actor"):
        seeded.acknowledge("A000000", "  ", 1)


def test_unknown_alert_is_refused_everywhere(seeded):
    for call in (
        lambda: seeded.get("nope"),
        lambda: seeded.acknowledge("nope", "a", 1),
        lambda: seeded.close("nope", "a", "no_concern", 1),
        lambda: seeded.add_note("nope", "a", "text"),
    ):
        with pytest.raises(UnknownAlertError, match="nope"):
            call()


def test_explicit_reopen_needs_reason_and_keeps_the_outcome_in_audit(seeded):
    seeded.acknowledge("A000003", "a", 1)
    seeded.close("A000003", "a", "escalated_safeguarding", 2)
    with pytest.raises(ValueError, match="reason"):
        seeded.reopen("A000003", "b", " ", 3)
    a = seeded.reopen("A000003", "b", "New complaint from a family member.", 3)
    assert (a.status, a.outcome, a.reopened_reason, a.version) == (
        "new",
        None,
        "New complaint from a family member.",
        4,
    )
    d = seeded.get("A000003")
    assert d.notes[-1].text == "New complaint from a family member."
    assert ("reopened", "outcome", "escalated_safeguarding", None) in [
        (e.action, e.field, e.old, e.new) for e in d.audit
    ]
    seeded.acknowledge("A000003", "b", 4)
    closed = seeded.close("A000003", "b", "no_concern", 5)
    assert closed.reopened_reason is None  # cleared on closure, kept in the audit log


def test_assign_and_unassign(seeded):
    a = seeded.assign("A000004", "lead", "Dr Patel", 1)
    assert (a.assignee, a.version) == ("Dr Patel", 2)
    a = seeded.assign("A000004", "lead", None, 2)
    assert (a.assignee, a.version) == (None, 3)
    same = seeded.assign("A000004", "lead", None, 3)  # no change: no version bump, no audit line
    assert same.version == 3
    assert [e.new for e in seeded.get("A000004").audit if e.action == "assigned"] == ["Dr Patel", None]


def test_notes_are_verbatim_and_need_no_version(seeded):
    texts = [
        "<script>alert('x')</script> & &amp;",
        "Ünïcödé — ‘quotes’ 😀\nline two\r\nline three\t",
        "  leading and trailing spaces  ",
        "nul\x00inside and \x1b[31mANSI\x1b[0m",
    ]
    ids = [seeded.add_note("A000005", f"author {i}", t).id for i, t in enumerate(texts)]
    seeded.acknowledge("A000005", "a", 1)
    seeded.close("A000005", "a", "no_concern", 2)
    ids.append(seeded.add_note("A000005", "late", "after closure is fine").id)  # closed alerts take notes
    notes = seeded.get("A000005").notes
    assert [n.id for n in notes] == ids
    assert [n.text for n in notes] == [*texts, "after closure is fine"]
    assert seeded.get("A000005").alert.version == 3  # notes never bumped the version
    with pytest.raises(ValueError, match="empty"):
        seeded.add_note("A000005", "a", "")
    with pytest.raises(ValueError, match="author"):
        seeded.add_note("A000005", "", "text")


def test_append_only_tables_refuse_update_and_delete(seeded, db_path):
    seeded.add_note("A000000", "a", "keep me")
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA foreign_keys = ON")  # per connection, outside any transaction
    try:
        for sql in (
            "UPDATE notes SET text = 'changed'",
            "DELETE FROM notes",
            "UPDATE audit SET actor = 'someone else'",
            "DELETE FROM audit",
            "UPDATE evidence SET level = 'none'",
            "DELETE FROM evidence",
            "DELETE FROM alerts",
        ):
            with pytest.raises(sqlite3.DatabaseError, match=r"append-only|never deleted"):
                conn.execute(sql)
        with pytest.raises(sqlite3.IntegrityError):  # closed without an outcome
            conn.execute("UPDATE alerts SET status = 'closed' WHERE alert_id = 'A000000'")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("UPDATE alerts SET status = 'done' WHERE alert_id = 'A000000'")
        with pytest.raises(sqlite3.IntegrityError):  # a note must belong to an alert
            conn.execute("INSERT INTO notes (alert_id, author, created_at, text) VALUES ('x', 'a', 't', 'n')")
    finally:
        conn.rollback()
        conn.close()
    assert seeded.get("A000000").notes[0].text == "keep me"


def test_list_filters_and_inbox_order(seeded, record):
    seeded.acknowledge("A000000", "a", 1)
    all_ids = [a.alert_id for a in seeded.list_alerts()]
    assert sorted(all_ids) == [f"A{i:06d}" for i in range(6)]
    assert all_ids[-1] == "A000000"  # acknowledged after every new alert
    new = seeded.list_alerts(status="new")
    levels = [a.level for a in new]
    rank = {"watch": 1, "concern": 2, "urgent": 3}
    assert [rank[x] for x in levels] == sorted((rank[x] for x in levels), reverse=True)
    assert {a.alert_id for a in seeded.list_alerts(status=["acknowledged"])} == {"A000000"}
    assert all(a.ward_id == "W01" for a in seeded.list_alerts(ward="W01"))
    assert {a.alert_id for a in seeded.list_alerts(ward=["W01", "W02"])} == {"A000001", "A000002"}
    assert {a.scope for a in seeded.list_alerts(scope="indicator")} == {"indicator"}
    assert all(a.level == "watch" for a in seeded.list_alerts(level="watch"))
    assert len(seeded.list_alerts(limit=2)) == 2
    assert seeded.list_alerts(condition_open=False) == []
    with pytest.raises(ValueError, match="status"):
        seeded.list_alerts(status="open")
    assert seeded.status_counts() == {
        "new": 5,
        "acknowledged": 1,
        "investigating": 0,
        "closed": 0,
        "historical": 0,
    }
    frame = seeded.alerts_frame(status="new")
    assert frame.height == 5 and str(frame.schema["opened"]) == "Date"
    assert seeded.alerts_frame(status="closed").height == 0


def test_open_without_create_refuses_a_missing_file(tmp_path):
    with pytest.raises(StoreNotFoundError):
        TriageStore(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()


def test_store_pragmas(store, db_path):
    conn = sqlite3.connect(db_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA user_version").fetchone()[0] == LATEST_VERSION
    finally:
        conn.close()
    assert store.integrity_check() == ["ok"]
