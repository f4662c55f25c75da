"""The inbox by ward (issue 22 items 1-4, 6) with Streamlit AppTest on the real pipeline's output."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl

from engine.store import TriageStore

QD = "demo-quality-director"


def _inbox(at):
    at.run()
    at.switch_page("app_pages/inbox.py").run()
    assert not at.exception
    return at.dataframe[0].value


def _select(at, ward_id: str, gen: int = 0) -> None:
    table = at.dataframe[0].value
    row = int((table["ward_id"] == ward_id).to_numpy().nonzero()[0][0])
    at.session_state[f"inbox_wards_{gen}"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception


def _store(tmp_path) -> TriageStore:
    return TriageStore(tmp_path / "triage.db")


def test_one_row_per_flagged_ward_and_only_current_conditions_new(app_env, fixture_paths, tmp_path):
    at = app_env()
    table = _inbox(at)
    alerts = pl.read_csv(fixture_paths.results_dir / "alerts.csv", infer_schema=False)
    wards = alerts.filter(pl.col("scope").is_in(["ward", "indicator"]))
    current = wards.filter(pl.col("closed").is_null() | (pl.col("closed") == ""))
    status = pl.read_csv(fixture_paths.results_dir / "ward_status.csv", infer_schema=False)
    latest = status.filter(pl.col("period") == pl.col("period").max())
    flagged = set(latest.filter(pl.col("level") != "none")["ward_id"])
    with_ward_alert = set(current.filter(pl.col("scope") == "ward")["ward_id"])
    # the inbox opens on the flagged wards (and wards with a ward alert), one row each
    assert table["ward_id"].is_unique
    assert set(table["ward_id"]) == set(current["ward_id"]) & (flagged | with_ward_alert)
    assert set(table["Status"]) == {"New"} and set(table["Condition"]) == {"Still holds"}
    # wards with indicator alerts only are folded away, one tick shows them
    at.checkbox(key="f_unflagged").check().run()
    table = at.dataframe[0].value
    assert table["ward_id"].is_unique and set(table["ward_id"]) == set(current["ward_id"])
    store = _store(tmp_path)
    assert {a.status for a in store.list_alerts(scope="indicator") if a.closed is not None} <= {"historical"}
    counts = store.inbox_counts()
    assert (counts.new, counts.new_current, counts.current_ward_rows) == (
        current.height,
        current.height,
        table.shape[0],
    )


def test_historical_alerts_stay_searchable(app_env, fixture_paths, tmp_path):
    at = app_env()
    _inbox(at)
    at.multiselect(key="f_status").set_value(["historical"]).run()
    table = at.dataframe[0].value
    assert len(table) > 0 and set(table["Status"]) == {"Historical"}


def test_assign_to_me_shows_owner_and_mine_filter(app_env, fixture_paths, tmp_path):
    at = app_env()
    _inbox(at)
    _select(at, fixture_paths.episode_ward)
    at.button(key=f"assign_me_{fixture_paths.episode_alert_id}").click().run()
    assert any("assigned to demo-quality-director" in s.value for s in at.success)
    table = at.dataframe[0].value
    row = table[table["ward_id"] == fixture_paths.episode_ward]
    assert list(row["Owner"]) == [QD]
    at.radio(key="f_show").set_value("mine").run()
    assert list(at.dataframe[0].value["ward_id"]) == [fixture_paths.episode_ward]
    at.radio(key="f_show").set_value("unassigned").run()
    assert fixture_paths.episode_ward not in set(at.dataframe[0].value["ward_id"])
    # assign to a colleague by name, then clear it
    at.radio(key="f_show").set_value("all").run()
    _select(at, fixture_paths.episode_ward, gen=1)
    at.text_input(key=f"assign_to_{fixture_paths.episode_alert_id}").input("a.colleague").run()
    at.button(key=f"assign_{fixture_paths.episode_alert_id}").click().run()
    assert _store(tmp_path).get(fixture_paths.episode_alert_id).alert.assignee == "a.colleague"


def test_closing_the_ward_alert_closes_its_indicator_alerts_one_entry_each(app_env, fixture_paths, tmp_path):
    at = app_env()
    _inbox(at)
    store = _store(tmp_path)
    children = {a.alert_id for a in store.list_alerts(parent_id=fixture_paths.episode_alert_id, status="new")}
    assert children, "the episode ward alert should have indicator alerts under it"
    _select(at, fixture_paths.episode_ward)
    aid = fixture_paths.episode_alert_id
    at.selectbox(key=f"outcome_{aid}").set_value("no_concern")
    at.button(key=f"close_{aid}").click().run()  # new alert: a note is required
    assert any("closing note is required" in w.value for w in at.warning)
    assert store.get(aid).alert.status == "new"
    _select(at, fixture_paths.episode_ward)
    at.selectbox(key=f"outcome_{aid}").set_value("no_concern")
    at.text_area(key=f"close_note_{aid}").input("Visited twice; staffing explains it.")
    assert at.checkbox(key=f"cascade_{aid}").value is True
    at.button(key=f"close_{aid}").click().run()
    assert any(f"with {len(children)} indicator alert(s)" in s.value for s in at.success)
    for child in children:
        d = store.get(child)
        assert (d.alert.status, d.alert.outcome) == ("closed", "no_concern")
        assert len({(e.at, e.action) for e in d.audit if e.action == "closed"}) == 1
        assert d.notes[-1].text == "Visited twice; staffing explains it."


def test_bulk_actions_on_indicator_alerts_need_a_note(app_env, fixture_paths, tmp_path):
    at = app_env()
    _inbox(at)
    _select(at, fixture_paths.episode_ward)
    w = fixture_paths.episode_ward
    at.button(key=f"bulk_ack_{w}").click().run()
    assert any("note is required" in x.value for x in at.warning)
    _select(at, w)
    at.text_input(key=f"bulk_note_{w}").input("Seen at the Monday huddle.")
    at.button(key=f"bulk_ack_{w}").click().run()
    store = _store(tmp_path)
    acked = store.list_alerts(ward=w, scope="indicator", status="acknowledged")
    assert acked and all(a.note_count == 1 for a in acked)


def test_reopen_in_the_browser(app_env, fixture_paths, tmp_path):
    store = _store(tmp_path)
    at = app_env()
    _inbox(at)
    aid = fixture_paths.episode_alert_id
    a = store.get(aid).alert
    store.acknowledge(aid, QD, a.version)
    store.close(aid, QD, "no_concern", a.version + 1)
    at.multiselect(key="f_status").set_value(["closed"]).run()
    _select(at, fixture_paths.episode_ward)
    at.text_input(key=f"reopen_reason_{aid}").input("Second complaint this week.").run()
    at.button(key=f"reopen_{aid}").click().run()
    assert any("Alert reopened" in s.value for s in at.success)
    assert store.get(aid).alert.status == "new"


def test_provider_tab_lists_provider_alerts_with_their_ward_share(app_env, fixture_paths, tmp_path):
    at = app_env()
    _inbox(at)
    ptable = at.dataframe[-1].value
    alerts = pl.read_csv(fixture_paths.results_dir / "alerts.csv", infer_schema=False)
    current = alerts.filter(
        (pl.col("scope") == "provider") & (pl.col("closed").is_null() | (pl.col("closed") == ""))
    )
    assert set(ptable["alert_id"]) == set(current["alert_id"])
    assert all(s.endswith("wards") and " of " in s for s in ptable["Wards sharing it"])


def test_overview_and_ward_page_show_triage_and_reopened_evidence(app_env, fixture_paths, tmp_path):
    at = app_env()
    at.run()
    ranked = next(d.value for d in at.dataframe if "rank" in d.value.columns)  # the "All wards" table
    assert {"Triage", "Owner"} <= set(ranked.columns)
    store = _store(tmp_path)
    aid = fixture_paths.episode_alert_id
    a = store.get(aid).alert
    store.start_investigation(aid, QD, a.version, assignee="jo")
    store.close(aid, QD, "no_concern", a.version + 1)
    # the evidence keeps growing after the closure: a later run with a higher statistic
    record = next(r for r in _records(store, aid))
    later = dataclasses.replace(
        record, statistic=(record.statistic or 0) + 5, last_seen=record.last_seen + dt.timedelta(weeks=1)
    )
    store.upsert_alerts([later], scored_at="2099-01-01T00:00:00Z")
    at.run()
    ranked = next(d.value for d in at.dataframe if "rank" in d.value.columns)
    triage = ranked[ranked["ward_id"] == fixture_paths.episode_ward]["Triage"].iloc[0]
    assert triage.startswith("New (unassigned)") and "Re-opened evidence since" in triage
    follow = store.get(f"{aid}-R1").alert  # a new alert, linked to the closed one
    assert (follow.follows, follow.status, store.get(aid).alert.outcome) == (aid, "new", "no_concern")
    at.query_params["ward"] = fixture_paths.episode_ward
    at.switch_page("app_pages/ward.py").run()
    assert not at.exception
    assert any("Re-opened evidence since" in w.value and aid in w.value for w in at.warning)
    # the inbox leads the ward with the follow-up and shows the closed alert's notes with it
    at.switch_page("app_pages/inbox.py").run()
    _select(at, fixture_paths.episode_ward)
    assert any(s.value.startswith("Re-opened evidence since") for s in at.warning)


def _records(store: TriageStore, alert_id: str):
    from engine.store import AlertRecord

    a = store.get(alert_id).alert
    fields = {f.name for f in dataclasses.fields(AlertRecord)}
    yield AlertRecord(**{k: v for k, v in a.as_dict().items() if k in fields})


def test_bulk_acknowledge_of_the_wards_shown(app_env, fixture_paths, tmp_path):
    at = app_env()
    _inbox(at)
    at.multiselect(key="f_level").set_value(["urgent"]).run()
    shown = set(at.dataframe[0].value["ward_id"])
    at.button(key="wards_bulk_ack").click().run()
    assert any("note is required" in w.value for w in at.warning)
    at.multiselect(key="f_level").set_value(["urgent"]).run()
    at.text_input(key="wards_bulk_note").input("Urgent wards reviewed at the weekly huddle.")
    at.button(key="wards_bulk_ack").click().run()
    assert any("acknowledged, each with your note" in s.value for s in at.success)
    store = _store(tmp_path)
    for w in shown:
        assert not store.list_alerts(ward=w, status="new", condition_open=True)
    others = store.list_alerts(status="new", condition_open=True)
    assert others and not {a.ward_id for a in others} & shown  # other wards untouched


def test_audit_in_plain_words_at_uk_local_time():
    from dashboard.services.audit_words import audit_sentences, uk_local_time
    from engine.store import AuditEntry

    assert uk_local_time("2026-07-01T08:30:00.000000Z") == "01/07/2026 09:30 BST"
    assert uk_local_time("2026-12-01T08:30:00.000000Z") == "01/12/2026 08:30 GMT"
    at = "2026-07-01T08:30:00.000000Z"
    lines = [
        AuditEntry(1, "A1", at, "jo", "closed", "status", "new", "closed"),
        AuditEntry(2, "A1", at, "jo", "closed", "outcome", None, "no_concern"),
        AuditEntry(3, "A1", at, "jo", "note_added", "note", None, "7"),
        AuditEntry(4, "A1", at, "lead", "assigned", "assignee", None, "sam"),
    ]
    said = [(s.who, s.text) for s in audit_sentences(lines)]
    assert ("jo", "Closed the alert: no concern found.") in said  # two field lines, one entry
    assert ("lead", "Assigned the alert to sam.") in said and len(said) == 3
