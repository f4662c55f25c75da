"""Results loading, ranking, content keys, series queries, MDC icons and identity."""

from __future__ import annotations

import os

import polars as pl
import pytest

from dashboard.components.icons import assurance_icon, variation_icon
from dashboard.services.identity import demo_user, user_from_headers
from dashboard.services.results import load_results, peer_totals, results_key, ward_series
from dashboard.settings import DashboardSettings


def test_latest_ranks_by_level_then_current_evidence_and_since_is_run_start(fixture_paths):
    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    lat = res.latest
    order = {"urgent": 3, "concern": 2, "watch": 1, "none": 0}
    keys = [
        (-order[lv], -rc, -sc)
        for lv, rc, sc in zip(lat["level"], lat["recent_evidence"], lat["score"], strict=True)
    ]
    assert keys == sorted(keys)
    row = res.ward_row(fixture_paths.episode_ward)
    ws = res.ward_status.filter(pl.col("ward_id") == fixture_paths.episode_ward)
    levels = ws["level"].to_list()
    i = len(levels) - 1
    while i > 0 and levels[i - 1] == levels[-1]:
        i -= 1
    assert row["since"] == ws["period"][i]
    assert res.ward_explanation(fixture_paths.episode_ward) == fixture_paths.episode_explanation


def test_results_key_changes_with_content_only(fixture_paths, tmp_path):
    import shutil

    data = tmp_path / "data"
    shutil.copytree(fixture_paths.data_dir, data)
    k1 = results_key(data / "results", data)
    assert results_key(data / "results", data) == k1
    p = data / "results" / "alerts.csv"
    text = p.read_text()
    edited = text.replace(
        fixture_paths.episode_explanation[:40], fixture_paths.episode_explanation[:39] + "!", 1
    )
    assert edited != text
    p.write_text(edited)
    assert results_key(data / "results", data) != k1
    p.write_text(text)
    os.utime(p, ns=(1, 1))  # same bytes, different mtime: same key
    assert results_key(data / "results", data) == k1


def test_ward_series_and_peer_totals_ignore_suppressed(fixture_paths):
    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    s = ward_series(res, "W0001")
    assert set(s["ward_id"]) == {"W0001"} and s["period"].dtype == pl.Date
    tot = peer_totals(res, "restraint", ["W0001", "W0004"], periods=13)
    full = pl.read_parquet(fixture_paths.results_dir / "series.parquet").filter(
        (pl.col("indicator") == "restraint") & pl.col("ward_id").is_in(["W0001", "W0004"])
    )
    last13 = sorted(full["period"].unique())[-13:]
    want = full.filter(pl.col("period").is_in(last13) & (pl.col("status") == "observed"))
    got = dict(zip(tot["ward_id"], tot["numerator"], strict=True))
    for w in ("W0001", "W0004"):
        assert got[w] == pytest.approx(want.filter(pl.col("ward_id") == w)["numerator"].sum())


@pytest.mark.parametrize(
    ("point_type", "direction", "key", "letter"),
    [
        ("common_cause", "up", "common_cause", "~"),
        ("special_cause_concern", "up", "concern_high", "H"),
        ("special_cause_concern", "down", "concern_low", "L"),
        ("special_cause_improvement", "up", "improvement_low", "L"),
        ("special_cause_improvement", "down", "improvement_high", "H"),
        ("special_cause_neutral_high", "both", "neutral_high", "H"),
        ("special_cause_neutral_low", "both", "neutral_low", "L"),
    ],
)
def test_variation_icon_follows_mdc(point_type, direction, key, letter):
    icon = variation_icon(point_type, direction)
    assert (icon.key, icon.letter) == (key, letter)
    assert icon.meaning in icon.svg() and "<title>" in icon.svg()


def test_assurance_icon_follows_mdc():
    # higher is worse (direction up): a target above the UPL will consistently be met
    assert assurance_icon(10.0, 2.0, 8.0, "up").key == "consistent_pass"
    assert assurance_icon(1.0, 2.0, 8.0, "up").key == "consistent_fail"
    assert assurance_icon(1.0, 2.0, 8.0, "down").key == "consistent_pass"
    assert assurance_icon(8.0, 2.0, 8.0, "up").key == "inconsistent"  # equality: hit and miss
    assert assurance_icon(None, 2.0, 8.0, "up") is None
    assert assurance_icon(5.0, 2.0, 8.0, "both") is None


def test_identity_headers_trusted_only_when_configured():
    h = {"x-forwarded-user": "j.smith", "X-Forwarded-Role": "quality"}
    assert user_from_headers(h, DashboardSettings()) is None
    u = user_from_headers(h, DashboardSettings(trust_headers=True, trust_role_header=True))
    assert (u.name, u.role, u.source) == ("j.smith", "quality", "proxy") and u.can("triage")
    # the role header is off by default: a spoofed role gives the least-privileged role
    assert user_from_headers(h, DashboardSettings(trust_headers=True)).role == "board"
    u2 = user_from_headers(
        {"X-Forwarded-User": "a.b", "X-Forwarded-Role": "admin"}, DashboardSettings(trust_headers=True)
    )
    assert u2.role == "board" and not u2.can("triage") and u2.can("brief")
    assert demo_user("demo-researcher").can("lab") and not demo_user("demo-board-member").can("lab")


def test_identity_from_st_user_trusted_headers():
    from dashboard.services.identity import ROLE_KEY, USER_KEY, trusted_header_map, user_from_user_info

    on = DashboardSettings(
        trust_headers=True, user_header="X-Auth-User", role_header="X-Auth-Role", trust_role_header=True
    )
    assert trusted_header_map(on) == {"X-Auth-User": USER_KEY, "X-Auth-Role": ROLE_KEY}
    info = {USER_KEY: " jo.bloggs@nhs.net ", ROLE_KEY: "Research", "email": "x@y"}
    assert user_from_user_info(info, DashboardSettings()) is None  # not trusted: ignored
    u = user_from_user_info(info, on)
    assert (u.name, u.role, u.source) == ("jo.bloggs@nhs.net", "research", "proxy")
    assert user_from_user_info({USER_KEY: None, ROLE_KEY: "quality"}, on) is None  # header absent
    assert user_from_user_info({USER_KEY: "a", ROLE_KEY: "admin"}, on).role == "board"


def test_cli_passes_trusted_user_headers_to_streamlit():
    import argparse
    import json

    from dashboard.cli_dashboard import add_arguments, streamlit_command

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    off = streamlit_command(parser.parse_args([]))
    assert not [a for a in off if a.startswith("--server.trustedUserHeaders")]
    on = streamlit_command(parser.parse_args(["--trust-proxy-headers", "--user-header", "X-Auth-User"]))
    (opt,) = [a for a in on if a.startswith("--server.trustedUserHeaders=")]
    assert json.loads(opt.split("=", 1)[1]) == {"X-Auth-User": "wardwatch_user"}  # role header not copied
    on = streamlit_command(parser.parse_args(["--trust-proxy-headers", "--trust-role-header"]))
    (opt,) = [a for a in on if a.startswith("--server.trustedUserHeaders=")]
    assert json.loads(opt.split("=", 1)[1]) == {
        "X-Forwarded-User": "wardwatch_user",
        "X-Forwarded-Role": "wardwatch_role",
    }


def test_trusted_header_user_is_the_audit_actor(app_env, fixture_paths, monkeypatch, tmp_path):
    """Streamlit copies the proxy's headers into st.user (server.trustedUserHeaders); AppTest seeds it."""
    from dashboard.services.identity import ROLE_KEY, USER_KEY

    monkeypatch.setenv("WARDWATCH_TRUST_HEADERS", "1")
    roles = tmp_path / "roles.toml"
    roles.write_text('[users]\n"JO.BLOGGS@nhs.net" = "quality"\n')  # the server-side mapping gives the role
    monkeypatch.setenv("WARDWATCH_ROLES", str(roles))
    at = app_env()
    at.user = {USER_KEY: "jo.bloggs@nhs.net", ROLE_KEY: "quality"}
    at.run()
    assert any("jo.bloggs@nhs.net" in c.value.replace("\\", "") for c in at.sidebar.caption)
    at.switch_page("app_pages/inbox.py").run()
    table = at.dataframe[0].value
    row = int((table["ward_id"] == fixture_paths.episode_ward).to_numpy().nonzero()[0][0])
    at.session_state["inbox_wards_0"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    at.button(key=f"ack_{fixture_paths.episode_alert_id}").click().run()
    at.session_state["inbox_wards_1"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    audit = at.dataframe[1].value
    assert "jo.bloggs@nhs.net" in set(audit[audit["What happened"] == "Acknowledged the alert."]["Who"])
    assert not [s for s in at.sidebar.selectbox if s.key == "demo_user"]


def test_trusted_headers_without_a_user_are_refused(app_env, monkeypatch):
    monkeypatch.setenv("WARDWATCH_TRUST_HEADERS", "1")
    at = app_env()
    at.user = {"email": "test@example.com"}  # the proxy sent no user header
    at.run()
    assert any("Not signed in" in e.value for e in at.error)
    assert not at.dataframe and not [s for s in at.sidebar.selectbox if s.key == "demo_user"]


def test_sync_stores_provider_alerts_as_a_complete_run(fixture_paths, tmp_path):
    from dashboard.services.triage import open_store, sync_results

    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    provider = res.alerts.filter(pl.col("scope") == "provider")
    assert provider.height > 0  # the synthetic trust has provider-wide shifts
    store = open_store(tmp_path / "t.db")
    summary = sync_results(store, res)
    assert summary.inserted == res.alerts.height and summary.superseded == ()
    stored = store.alerts_frame()
    assert set(provider["alert_id"]) <= set(stored["alert_id"]) and fixture_paths.episode_alert_id in set(
        stored["alert_id"]
    )
    assert set(stored.filter(pl.col("scope") == "provider")["provider"]) == set(provider["provider"])
    again = sync_results(store, res)  # the same results folder again: nothing changes
    assert (again.inserted, again.updated, again.superseded) == (0, 0, ())


# --------------------------------------------------------------------------- board vocabulary
def test_recent_evidence_is_read_or_recomputed_identically(fixture_paths, tmp_path):
    """An older results folder (without the two columns) gets them computed by the same definition."""
    from dashboard.services.results import read_ward_status

    path = fixture_paths.results_dir / "ward_status.csv"
    new = read_ward_status(path)
    old_path = tmp_path / "ward_status.csv"
    pl.read_csv(path, infer_schema=False).drop("recent_evidence", "evidence_strength").write_csv(old_path)
    old = read_ward_status(old_path)
    assert old["recent_evidence"].to_list() == pytest.approx(new["recent_evidence"].to_list(), abs=1e-5)
    assert old["evidence_strength"].to_list() == pytest.approx(new["evidence_strength"].to_list(), abs=1e-5)
    assert new["evidence_strength"].is_between(0, 1).all()


def test_strength_words_types_events_and_uk_local_time():
    from dashboard.services.formatting import event_words, strength_word, uk_timestamp, ward_type_label

    assert [strength_word(x) for x in (0.0, 0.2, 0.4, 0.6, 0.9)] == [
        "No new evidence",
        "Weak",
        "Moderate",
        "Strong",
        "Very strong",
    ]
    assert ward_type_label("ld_autism") == "Learning disability and autism"
    assert ward_type_label("new_kind") == "New kind"
    assert event_words("manager_change") == "Change of ward manager"
    assert uk_timestamp("2026-07-01T12:00:00Z") == "01/07/2026 13:00 BST"  # British Summer Time
    assert uk_timestamp("2026-01-15T12:00:00Z") == "15/01/2026 12:00 GMT"


def test_reason_and_change_lines_read_as_plain_english():
    from dashboard.services.overview import change_line, reason_line

    line = reason_line(
        ["restraint", "family_visits", "agency_use", "injuries"],
        ["restrictive_practice", "voice_and_oversight", "staffing"],
        {"restraint": "up"},
    )
    assert line == (
        "Physical restraint up, family and carer visits down and agency staff up, "
        "across 3 of 4 culture domains."
    )
    assert change_line("urgent", "watch", 0.7, 0.4, ["injuries"]) == (
        "Up from watch a month ago; evidence growing; newly involved: patient injuries."
    )
    assert change_line("concern", "concern", 0.5, 0.52, []) == "Concern a month ago too; evidence steady."
    assert change_line("watch", "urgent", 0.1, 0.6, []) == "Down from urgent a month ago; evidence easing."


def test_visit_list_is_the_flagged_wards_with_one_date_each(fixture_paths):
    from dashboard.services.overview import build_overview

    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    ov = build_overview(res)
    flagged = res.latest.filter(pl.col("level").is_in(["urgent", "concern"]))
    assert ov.visit["ward_id"].to_list() == flagged["ward_id"].to_list()
    top = ov.visit.row(0, named=True)
    alerts = pl.read_csv(fixture_paths.results_dir / "alerts.csv", infer_schema=False)
    mine = alerts.filter(pl.col("alert_id") == fixture_paths.episode_alert_id).row(0, named=True)
    assert top["onset"].isoformat() == mine["onset_estimate"]  # the explanation's "building since"
    assert "nats" not in " ".join(ov.visit["reason"].to_list() + ov.visit["change"].to_list())
    assert "nats" not in " ".join(ov.table.columns) and "Cumulative score (nats)" in ov.analyst_table.columns


def test_indicator_summary_flags_an_icon_that_disagrees_with_the_alert(fixture_paths):
    from dashboard.services.overview import indicator_summary

    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    series = ward_series(res, fixture_paths.episode_ward)
    improving = (
        series.filter(pl.col("rate").is_not_nan())
        .sort("period")
        .group_by("indicator")
        .agg(pl.col("point_type").last())
        .filter(pl.col("point_type") == "special_cause_improvement")["indicator"]
        .to_list()
    )
    table = indicator_summary(series, improving[:1])
    if improving:
        row = table.filter(pl.col("key") == improving[0]).row(0, named=True)
        assert row["Behind the level"] and "The open alert disagrees" in row["What the icons say"]
    assert (
        table.filter(~pl.col("Behind the level"))["What the icons say"].str.contains("disagrees").sum() == 0
    )


def test_indicator_summary_shows_assurance_where_a_target_exists(fixture_paths, monkeypatch):
    """A trust indicator with a target gets the assurance icon of its target against the limits."""
    import types

    import dashboard.services.overview as ov
    from dashboard.services.formatting import indicator as real_indicator

    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    series = ward_series(res, fixture_paths.episode_ward)

    def with_target(key):  # type: ignore[no-untyped-def]
        ind = real_indicator(key)
        if key != "agency_use" or ind is None:
            return ind
        fields = {f: getattr(ind, f) for f in ("label", "domain", "direction")}
        return types.SimpleNamespace(**fields, target=10.0)  # limits are on the raw rate: always above

    monkeypatch.setattr(ov, "indicator", with_target)
    table = ov.indicator_summary(series)
    row = table.filter(pl.col("key") == "agency_use").row(0, named=True)
    assert row["Assurance"].startswith("data:image/svg+xml;base64,")
    assert "consistently meet the target" in row["What the icons say"]
    shown = ov.summary_for_display(table)
    assert "Assurance" in shown.columns and "key" not in shown.columns


def test_briefing_provider_sentences_name_the_shared_changes(fixture_paths):
    """Each ward of a provider-wide change hears of it once, with its ward share, in one sentence."""
    from dashboard.services.provider_share import provider_shares, ward_provider_sentences

    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    current = res.alerts.filter((pl.col("scope") == "provider") & pl.col("closed").is_null())
    shares = [s for s in provider_shares(res, current) if s.indicator]
    assert shares, "the fixture trust has a current provider-wide change"
    ward = shares[0].sharing_wards[0]
    sentences = ward_provider_sentences(res, ward)
    mine = [s for s in shares if ward in s.sharing_wards]
    text = " ".join(sentences)
    assert shares[0].provider in text and "look for a common cause" in text
    for s in mine:  # every shared change with its ward share
        assert f"{s.sharing} of {s.reporting} wards" in text
    assert text.count("look for a common cause") == 1  # one sentence for all shared changes
    outsider = next((w for w in res.wards["ward_id"] if all(w not in s.sharing_wards for s in shares)), None)
    if outsider is not None:
        assert not [s for s in ward_provider_sentences(res, outsider) if "common cause" in s]
