"""Upserting scoring runs: new alerts, re-scoring keeps triage state, evidence, reopening rule."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import polars as pl
import pytest


def test_new_alerts_start_new_with_one_evidence_row(store, record):
    summary = store.upsert_alerts([record(i) for i in range(3)], scored_at="2026-03-02T06:00:00Z")
    assert (summary.inserted, summary.updated, summary.unchanged, summary.total) == (3, 0, 0, 3)
    assert summary.scored_at == "2026-03-02T06:00:00.000000Z"
    d = store.get("A000001")
    assert (d.alert.status, d.alert.version, d.alert.first_scored_at) == ("new", 1, summary.scored_at)
    assert d.alert.indicator == "complaints" and d.alert.scope == "indicator"
    assert d.alert.opened == record(1).opened and d.alert.statistic == record(1).statistic
    assert len(d.evidence) == 1 and d.evidence[0].explanation == record(1).explanation
    assert [(e.action, e.new) for e in d.audit] == [("created", "new")]


def test_identical_rescore_is_idempotent(store, record):
    store.upsert_alerts([record(0)], scored_at="2026-03-02T06:00:00Z")
    before = store.get("A000000")
    summary = store.upsert_alerts([record(0)], scored_at="2026-03-09T06:00:00Z")
    assert (summary.inserted, summary.updated, summary.unchanged) == (0, 0, 1)
    after = store.get("A000000")
    assert after.evidence == before.evidence and after.audit == before.audit
    assert after.alert.last_scored_at == "2026-03-09T06:00:00.000000Z"
    assert after.alert.version == before.alert.version


def test_rescore_keeps_status_notes_and_assignee_and_attaches_evidence(store, record):
    store.upsert_alerts([record(0), record(2)], scored_at="2026-03-02T06:00:00Z")
    store.start_investigation("A000000", "alice", 1, assignee="bob")
    note = store.add_note("A000000", "alice", "Visited; agency staff on every night shift.")
    week = dt.timedelta(weeks=1)
    r = record(0)
    rescored = record(0, last_seen=r.last_seen + week, statistic=6.5, explanation="Now 8 weeks of restraint.")
    summary = store.upsert_alerts([rescored, record(2)], scored_at="2026-03-09T06:00:00Z")
    assert (summary.updated, summary.unchanged, summary.escalated, summary.reopened) == (1, 1, 0, ())
    d = store.get("A000000")
    assert (d.alert.status, d.alert.assignee, d.alert.version) == ("investigating", "bob", 2)
    assert d.notes == (note,)
    assert (d.alert.statistic, d.alert.last_seen, d.alert.explanation) == (
        6.5,
        r.last_seen + week,
        "Now 8 weeks of restraint.",
    )
    assert [(e.statistic, e.last_seen) for e in d.evidence] == [
        (r.statistic, r.last_seen),
        (6.5, r.last_seen + week),
    ]
    # routine evidence does not bump the version: alice's pending close still applies
    assert store.close("A000000", "alice", "action_taken", 2).status == "closed"


def test_level_change_on_open_alert_is_audited_and_bumps_version(store, record):
    store.upsert_alerts([record(0)], scored_at="2026-03-02T06:00:00Z")  # concern
    store.acknowledge("A000000", "alice", 1)
    summary = store.upsert_alerts([record(0, level="urgent")], scored_at="2026-03-09T06:00:00Z")
    assert (summary.escalated, summary.reopened) == (1, ())
    d = store.get("A000000")
    assert (d.alert.status, d.alert.level, d.alert.version) == ("acknowledged", "urgent", 3)
    assert ("level_changed", "concern", "urgent") in [(e.action, e.old, e.new) for e in d.audit]


def _closed(store, record, **changes):
    store.upsert_alerts([record(0, **changes)], scored_at="2026-03-02T06:00:00Z")
    store.acknowledge("A000000", "alice", 1)
    store.close("A000000", "alice", "no_concern", 2, note="Reviewed with the ward manager.")


def test_closed_alert_reopens_when_the_level_rises(store, record):
    _closed(store, record)
    summary = store.upsert_alerts([record(0, level="urgent")], scored_at="2026-03-09T06:00:00Z")
    assert summary.reopened == ("A000000",)
    d = store.get("A000000")
    assert (d.alert.status, d.alert.outcome) == ("new", None)
    assert "concern to urgent" in d.alert.reopened_reason and "no_concern" in d.alert.reopened_reason
    reopen = [(e.actor, e.field, e.old, e.new) for e in d.audit if e.action == "reopened"]
    assert ("wardwatch score", "outcome", "no_concern", None) in reopen  # the human outcome is kept
    assert ("wardwatch score", "status", "closed", "new") in reopen
    assert d.notes[0].text == "Reviewed with the ward manager."
    assert d.alert.version == 4


def test_closed_alert_reopens_when_the_condition_reopens(store, record):
    ended = record(0).last_seen
    _closed(store, record, closed=ended)
    summary = store.upsert_alerts([record(0, closed=None)], scored_at="2026-03-09T06:00:00Z")
    assert summary.reopened == ("A000000",)
    d = store.get("A000000")
    assert d.alert.status == "new" and d.alert.closed is None
    assert "re-opened" in d.alert.reopened_reason
    assert ("condition_reopened", ended.isoformat(), None) in [(e.action, e.old, e.new) for e in d.audit]


def test_closed_alert_stays_closed_when_the_condition_merely_persists(store, record):
    _closed(store, record)
    later = record(0).last_seen + dt.timedelta(weeks=2)
    for level in ("concern", "watch"):  # same or lower level: the person's judgement stands
        summary = store.upsert_alerts(
            [record(0, level=level, last_seen=later, statistic=9.0)],
            scored_at=f"2026-03-1{len(level)}T06:00:00Z",
        )
        assert summary.reopened == ()
    d = store.get("A000000")
    assert (d.alert.status, d.alert.outcome, d.alert.last_seen) == ("closed", "no_concern", later)
    assert len(d.evidence) == 3


def test_condition_closing_is_audited_but_leaves_triage_alone(store, record):
    store.upsert_alerts([record(0)], scored_at="2026-03-02T06:00:00Z")
    end = record(0).last_seen
    store.upsert_alerts([record(0, closed=end)], scored_at="2026-03-09T06:00:00Z")
    d = store.get("A000000")
    assert (d.alert.status, d.alert.closed, d.alert.condition_open) == ("new", end, False)
    assert ("condition_closed", None, end.isoformat()) in [(e.action, e.old, e.new) for e in d.audit]


def test_older_run_is_ignored(store, record):
    r = record(0)
    store.upsert_alerts([r], scored_at="2026-03-09T06:00:00Z")
    older = record(0, last_seen=r.last_seen - dt.timedelta(weeks=1), level="urgent")
    summary = store.upsert_alerts([older], scored_at="2026-03-10T06:00:00Z")
    assert (summary.older, summary.updated, summary.total) == (1, 0, 1)
    assert store.get("A000000").alert.level == "concern"


def test_dataframe_input_with_text_or_date_columns(store, record):
    rows = [dataclasses.asdict(record(i)) for i in range(4)]
    frame = pl.DataFrame(rows)
    assert frame.schema["opened"] == pl.Date
    as_text = frame.with_columns(
        pl.col("opened", "onset_estimate", "last_seen").dt.strftime("%Y-%m-%d"),
        pl.col("closed").cast(pl.String).fill_null(""),
        pl.col("indicator").fill_null(""),
        extra=pl.lit("ignored"),
    )
    assert store.upsert_alerts(as_text, scored_at="2026-03-02T06:00:00Z").inserted == 4
    assert store.upsert_alerts(frame, scored_at="2026-03-09T06:00:00Z").unchanged == 4
    a = store.get("A000000").alert
    assert a.indicator is None and a.closed is None and a.opened == record(0).opened


def test_nan_statistic_is_stored_as_missing(store, record):
    store.upsert_alerts([record(0, statistic=math.nan, threshold=math.inf)], scored_at="2026-03-02T06:00:00Z")
    a = store.get("A000000").alert
    assert a.statistic is None and a.threshold == math.inf


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"scope": "region"}, "scope"),
        ({"scope": "provider"}, "provider is empty"),
        ({"alert_id": ""}, "alert_id"),
        ({"level": ""}, "level"),
        ({"opened": None}, "opened"),
        ({"closed": dt.date(2020, 1, 6)}, "before opened"),
    ],
)
def test_one_bad_row_rejects_the_whole_run(store, record, changes, message):
    with pytest.raises(ValueError, match=message):
        store.upsert_alerts([record(0), record(1, **changes)], scored_at="2026-03-02T06:00:00Z")
    assert store.list_alerts() == []


def test_missing_columns_duplicates_and_id_collisions_are_refused(store, record):
    frame = pl.DataFrame({"alert_id": ["x"], "ward_id": ["W"]})
    with pytest.raises(ValueError, match="lacks column"):
        store.upsert_alerts(frame)
    with pytest.raises(ValueError, match="more than once"):
        store.upsert_alerts([record(0), record(0)])
    store.upsert_alerts([record(0)], scored_at="2026-03-02T06:00:00Z")
    with pytest.raises(ValueError, match="stable"):
        store.upsert_alerts([record(0, ward_id="W99")], scored_at="2026-03-09T06:00:00Z")
    assert store.get("A000000").alert.ward_id == "W00"
    with pytest.raises(TypeError):
        store.upsert_alerts([("A", "W")])


def test_progress_is_reported_inside_the_run(store, record):
    calls = []
    store.upsert_alerts([record(i) for i in range(2500)], progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1000, 2500), (2000, 2500), (2500, 2500)]


def test_a_csv_round_trip_of_the_same_run_is_not_new_evidence(store, record):
    """``alerts.csv`` keeps 6 decimals; the dashboard re-syncs what ``score --store`` stored."""
    store.upsert_alerts([record(0, statistic=39.30049795556378)], scored_at="2026-03-02T06:00:00Z")
    summary = store.upsert_alerts([record(0, statistic=39.300498)], scored_at="2026-03-02T06:00:00Z")
    assert (summary.updated, summary.unchanged) == (0, 1)
    assert len(store.get("A000000").evidence) == 1
    assert store.upsert_alerts([record(0, statistic=39.3006)]).updated == 1  # a real change is kept
