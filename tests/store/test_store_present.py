"""Alerts that describe the present (issue 22 item 1) and follow corrected data (issue 20 item 7).

First import files ended conditions as historical; indicator alerts sit under their ward alert;
bulk actions write one audit entry per alert; a complete re-score retires alerts it no longer
produces (linked to their successor with triage carried, or closed as superseded); provider alerts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3

import pytest

from engine.store import InvalidTransitionError, StaleWriteError

D = dt.date
WEEK = dt.timedelta(weeks=1)


def ward(alert_id: str, opened: D, closed: D | None = None, ward_id: str = "W01", **kw: object):
    from store_workers import make_record

    base = make_record(0)
    return dataclasses.replace(
        base, alert_id=alert_id, ward_id=ward_id, opened=opened, onset_estimate=opened,
        last_seen=closed or D(2026, 3, 2), closed=closed, **kw,
    )  # fmt: skip


def ind(alert_id: str, opened: D, closed: D | None = None, ward_id: str = "W01", key: str = "restraint"):
    return dataclasses.replace(
        ward(alert_id, opened, closed, ward_id),
        scope="indicator",
        indicator=key,
        method="cusum",
        level="watch",
    )


def provider(alert_id: str, opened: D, closed: D | None = None, name: str = "North Trust"):
    return dataclasses.replace(
        ward(alert_id, opened, closed), scope="provider", ward_id="", indicator="agency_use",
        method="cusum", level="watch", provider=name,
    )  # fmt: skip


def test_first_import_files_ended_conditions_as_historical(store):
    run = [
        ward("old", D(2024, 1, 1), D(2024, 3, 4)),
        ward("now", D(2026, 1, 5)),
        ind("i-old", D(2024, 1, 8), D(2024, 2, 5)),
    ]
    summary = store.upsert_alerts(run, scored_at="2026-03-02T06:00:00Z", complete=True)
    assert (summary.inserted, summary.historical) == (3, 2)
    assert {a.alert_id: a.status for a in store.list_alerts()} == {
        "old": "historical",
        "now": "new",
        "i-old": "historical",
    }
    assert store.list_alerts(status="historical", ward="W01")  # still searchable
    assert [(e.action, e.new) for e in store.get("old").audit] == [("created", "historical")]
    # a later run: a newly seen alert that ended after the previous run's data is news, not history
    late = ward("late", D(2026, 2, 2), D(2026, 3, 9))
    summary = store.upsert_alerts([*run, dataclasses.replace(late, last_seen=D(2026, 3, 9))],
                                  scored_at="2026-03-09T06:00:00Z", complete=True)  # fmt: skip
    assert (summary.inserted, summary.historical) == (1, 0)
    assert store.get("late").alert.status == "new"
    assert store.latest_run().data_end == D(2026, 3, 9) and store.data_end() == D(2026, 3, 9)


def test_historical_alert_whose_condition_returns_becomes_new(store):
    store.upsert_alerts([ward("a", D(2024, 1, 1), D(2024, 3, 4))], scored_at="2026-03-02T06:00:00Z")
    summary = store.upsert_alerts([ward("a", D(2024, 1, 1))], scored_at="2026-03-09T06:00:00Z")
    a = store.get("a").alert
    assert summary.reopened == ("a",) and a.status == "new" and "filed as historical" in a.reopened_reason


def test_ended_before_triage_is_derived_from_the_data_end(store):
    store.upsert_alerts([ward("now", D(2026, 1, 5))], scored_at="2026-03-02T06:00:00Z")
    store.upsert_alerts(
        [ward("now", D(2026, 1, 5)), ward("gone", D(2025, 6, 2), D(2025, 9, 1)), ward("just", D(2026, 2, 2), D(2026, 2, 23))],
        scored_at="2026-03-09T06:00:00Z",
    )  # fmt: skip
    end = store.data_end()
    flags = {a.alert_id: a.ended_before_triage(end, 28) for a in store.list_alerts()}
    assert flags == {"now": False, "gone": False, "just": False}  # "gone" is historical: it ended before
    x = dataclasses.replace(ward("x", D(2026, 2, 2), D(2026, 3, 9)), last_seen=D(2026, 3, 9))
    store.upsert_alerts([x], scored_at="2026-03-16T06:00:00Z")  # ended after the last run's data: news
    x = store.get("x").alert
    assert x.status == "new" and not x.ended_before_triage(D(2026, 3, 16), 28)
    assert x.ended_before_triage(D(2026, 5, 4), 28) and not x.ended_before_triage(D(2026, 5, 4), 60)


def test_new_alerts_close_only_with_a_note_and_bulk_writes_one_entry_each(store):
    store.upsert_alerts(
        [ward("w", D(2026, 1, 5)), *(ind(f"i{k}", D(2026, 1, 12), key=f"k{k}") for k in range(3))]
    )
    with pytest.raises(InvalidTransitionError, match="without a note"):
        store.close("i0", "jo", "no_concern", 1)
    targets = {a.alert_id: a.version for a in store.list_alerts(parent_id="w")}
    assert set(targets) == {"i0", "i1", "i2"}
    closed = store.bulk("close", targets, "jo", note="Ward alert closed: one review.", outcome="no_concern")
    assert {(a.status, a.outcome, a.version) for a in closed} == {("closed", "no_concern", 2)}
    for k in range(3):
        d = store.get(f"i{k}")
        entries = {(e.action, e.at) for e in d.audit if e.actor == "jo"}
        assert len([e for e in entries if e[0] == "closed"]) == 1  # one closure entry per alert
        assert [n.text for n in d.notes] == ["Ward alert closed: one review."]


def test_bulk_is_all_or_nothing(store):
    store.upsert_alerts([ward("a", D(2026, 1, 5)), ward("b", D(2026, 1, 5), ward_id="W02")])
    store.acknowledge("b", "someone", 1)
    with pytest.raises(StaleWriteError):
        store.bulk("acknowledge", {"a": 1, "b": 1}, "jo", note="both")
    assert store.get("a").alert.status == "new" and store.get("a").notes == ()
    with pytest.raises(ValueError, match="note"):
        store.bulk("acknowledge", {"a": 1}, "jo", note="  ")


def test_indicator_alerts_sit_under_the_overlapping_ward_alert(store):
    run = [
        ward("w-old", D(2025, 1, 6), D(2025, 3, 3)),
        ward("w-now", D(2026, 1, 5)),
        ind("i-old", D(2025, 2, 3), D(2025, 2, 24)),
        ind("i-now", D(2026, 2, 2)),
        ind("i-between", D(2025, 6, 2), D(2025, 7, 7)),
        ind("i-other-ward", D(2026, 2, 2), ward_id="W02"),
    ]
    store.upsert_alerts(run)
    parents = {a.alert_id: a.parent_id for a in store.list_alerts(scope="indicator")}
    assert parents == {"i-old": "w-old", "i-now": "w-now", "i-between": None, "i-other-ward": None}


def test_moved_opening_links_the_old_alert_to_its_successor_with_triage_carried(store):
    store.upsert_alerts([ward("w-0105", D(2026, 1, 5)), ind("i", D(2026, 1, 12))], complete=True)
    store.start_investigation("w-0105", "jo", 1, assignee="jo")
    store.add_note("w-0105", "jo", "Visited on Tuesday.")
    # corrected data: the same episode now opens a week earlier -> a new id
    summary = store.upsert_alerts([ward("w-1229", D(2025, 12, 29)), ind("i", D(2026, 1, 12))], complete=True)
    assert (summary.superseded, summary.linked) == (("w-0105",), 1)
    old, new = store.get("w-0105"), store.get("w-1229")
    assert (old.alert.status, old.alert.outcome, old.alert.superseded_by) == (
        "closed",
        "superseded",
        "w-1229",
    )
    assert (new.alert.status, new.alert.assignee) == ("investigating", "jo")
    assert "replaces w-0105" in new.alert.reopened_reason
    assert ("replaces", "w-0105") in [(e.action, e.new) for e in new.audit]
    assert [p.alert_id for p in store.predecessors("w-1229")] == ["w-0105"]
    assert old.notes[0].text == "Visited on Tuesday."  # notes stay where written, shown via the link
    assert store.get("i").alert.parent_id == "w-1229"  # the indicator alert follows its ward alert
    assert any("linked to the alert that replaced them" in line for line in summary.lines())


def test_a_person_closure_carries_unless_the_level_rose(store):
    store.upsert_alerts([ward("a", D(2026, 1, 5)), ward("b", D(2026, 1, 5), ward_id="W02")], complete=True)
    for aid in ("a", "b"):
        store.acknowledge(aid, "jo", 1)
        store.close(aid, "jo", "no_concern", 2)
    store.upsert_alerts(
        [ward("a2", D(2025, 12, 29)), ward("b2", D(2025, 12, 29), ward_id="W02", level="urgent")],
        complete=True,
    )
    a, b = store.get("a").alert, store.get("b").alert
    assert (a.outcome, a.superseded_by, b.outcome) == (
        "no_concern",
        "a2",
        "no_concern",
    )  # person's outcome kept
    assert (store.get("a2").alert.status, store.get("a2").alert.outcome) == ("closed", "no_concern")
    assert store.get("b2").alert.status == "new"  # concern -> urgent: news again


def test_vanished_alert_is_closed_as_superseded_never_left_open(store):
    store.upsert_alerts([ward("a", D(2026, 1, 5)), ward("keep", D(2026, 1, 5), ward_id="W02")], complete=True)
    store.start_investigation("a", "jo", 1)
    summary = store.upsert_alerts([ward("keep", D(2026, 1, 5), ward_id="W02")], complete=True)
    a = store.get("a").alert
    assert (summary.superseded, summary.linked) == (("a",), 0)
    assert (a.status, a.outcome, a.superseded_by) == ("closed", "superseded", None)
    assert any("no longer found" in (e.new or "") for e in store.get("a").audit)
    # produced again later (the correction was undone): back in the inbox
    store.upsert_alerts([ward("a", D(2026, 1, 5)), ward("keep", D(2026, 1, 5), ward_id="W02")], complete=True)
    assert store.get("a").alert.status == "new"


def test_partial_and_backtest_runs_retire_nothing(store):
    store.upsert_alerts([ward("a", D(2026, 1, 5)), ward("b", D(2026, 1, 5), ward_id="W02")], complete=True)
    assert store.upsert_alerts([ward("a", D(2026, 1, 5))]).superseded == ()  # not a complete run
    backtest = dataclasses.replace(ward("a", D(2026, 1, 5)), last_seen=D(2026, 2, 2))
    assert store.upsert_alerts([backtest], complete=True).superseded == ()  # data end before the store's
    assert store.get("b").alert.status == "new"


def test_provider_alerts_are_stored_and_survive_a_rescore(store):
    p = provider("p1", D(2026, 1, 5))
    store.upsert_alerts([p, ward("w", D(2026, 1, 5))], complete=True)
    store.acknowledge("p1", "jo", 1)
    store.add_note("p1", "jo", "New e-rostering system from January.")
    store.upsert_alerts([dataclasses.replace(p, statistic=9.0), ward("w", D(2026, 1, 5))], complete=True)
    a = store.get("p1")
    assert (a.alert.scope, a.alert.ward_id, a.alert.provider, a.alert.status) == (
        "provider",
        "",
        "North Trust",
        "acknowledged",
    )
    assert len(a.notes) == 1 and len(a.evidence) == 2
    assert [x.alert_id for x in store.list_alerts(provider="North Trust", scope="provider")] == ["p1"]
    conn = sqlite3.connect(store.path)
    try:
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("UPDATE alerts SET provider = NULL WHERE alert_id = 'p1'")
    finally:
        conn.close()


def test_summary_lines_are_plain_words(store):
    summary = store.upsert_alerts([ward("a", D(2026, 1, 5)), ward("b", D(2024, 1, 1), D(2024, 2, 5))])
    lines = summary.lines()
    assert (
        lines[0]
        == "2 alert(s) in this run: 1 new, 1 already ended when first seen (filed as historical), 0 with new evidence, 0 unchanged"
    )
    assert "UpsertSummary" not in "\n".join(lines)


def test_growing_evidence_after_a_no_concern_closure_opens_a_linked_follow_up(store):
    w = dataclasses.replace(ward("w", D(2026, 1, 5), statistic=6.0), last_seen=D(2026, 3, 2))
    store.upsert_alerts([w], scored_at="2026-01-01T06:00:00Z", complete=True)
    store.acknowledge("w", "jo", 1)  # the store's clock: 5 January, after the first run
    store.close("w", "jo", "no_concern", 2, note="Visited: settled.")
    # same evidence, a week on, a lower statistic: the judgement stands, nothing new
    lower = dataclasses.replace(w, statistic=5.5, last_seen=D(2026, 3, 9))
    assert store.upsert_alerts([lower], scored_at="2026-01-08T06:00:00Z", complete=True).followed_up == ()
    # the evidence grows past what the person saw: a follow-up alert, linked, new
    grown = dataclasses.replace(w, statistic=8.0, last_seen=D(2026, 3, 16))
    summary = store.upsert_alerts([grown], scored_at="2026-01-15T06:00:00Z", complete=True)
    assert summary.followed_up == ("w-R1",)
    closed, follow = store.get("w").alert, store.get("w-R1").alert
    assert (closed.status, closed.outcome) == ("closed", "no_concern")  # the judgement is kept
    assert (follow.status, follow.follows, follow.opened, follow.scope) == (
        "new",
        "w",
        D(2026, 3, 16),
        "ward",
    )
    assert follow.explanation.startswith("Re-opened evidence since 16/03/2026")
    # later runs: mirrored, never retired as "not produced", no second follow-up while it is open
    more = dataclasses.replace(w, statistic=9.0, last_seen=D(2026, 3, 23))
    summary = store.upsert_alerts([more], scored_at="2026-01-22T06:00:00Z", complete=True)
    assert summary.followed_up == () and summary.superseded == ()
    assert (store.get("w-R1").alert.statistic, store.get("w-R1").alert.status) == (9.0, "new")
    ended = dataclasses.replace(w, statistic=2.0, last_seen=D(2026, 3, 30), closed=D(2026, 3, 30))
    store.upsert_alerts([ended], scored_at="2026-01-29T06:00:00Z", complete=True)
    assert store.get("w-R1").alert.closed == D(2026, 3, 30)
