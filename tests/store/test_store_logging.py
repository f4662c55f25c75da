"""The store leaves a trace: INFO lines on the ``engine.store`` loggers for runs, actions and notes."""

from __future__ import annotations

import logging

import pytest

from engine.store import StaleWriteError
from engine.store.transitions import TRANSITION_TABLE


def test_writes_and_actions_are_logged_once_committed_without_note_text(store, record, caplog):
    caplog.set_level(logging.INFO, logger="engine.store")
    store.upsert_alerts([record(0), record(1)], scored_at="2026-03-02T06:00:00Z")
    store.acknowledge("A000000", "alice", 1, assignee="bob")
    store.add_note("A000000", "alice", "Private words about the ward.")
    store.bulk("close", {"A000001": 1}, "carol", note="Ended long ago.", outcome="ended_before_triage")
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("engine.store")]
    assert any(
        "scoring run 2026-03-02T06:00:00.000000Z by wardwatch score" in m and "2 alerts" in m for m in lines
    )
    assert (
        "alert A000000 acknowledged by alice: status 'new' -> 'acknowledged', assignee None -> 'bob'" in lines
    )
    assert any(m.startswith("note ") and "alert A000000 by alice" in m for m in lines)
    assert any(m.startswith("alert A000001 closed by carol: status 'new' -> 'closed'") for m in lines)
    assert not any("Private words" in m for m in lines)


def test_a_refused_action_logs_nothing(store, record, caplog):
    store.upsert_alerts([record(0)], scored_at="2026-03-02T06:00:00Z")
    caplog.set_level(logging.INFO, logger="engine.store")
    caplog.clear()  # the upsert's own line may have been captured already (logger level set by another test)
    with pytest.raises(StaleWriteError):
        store.acknowledge("A000000", "alice", 7)
    assert not [r for r in caplog.records if r.name.startswith("engine.store")]


def test_every_public_action_has_a_row_in_the_transition_table(store):
    for name in TRANSITION_TABLE:
        assert callable(getattr(store, name))
