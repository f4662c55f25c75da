"""End-to-end triage in headless Chromium (issue 22): owners and the "mine" filter, bulk close of a
ward's indicator alerts with one audit entry each, provider alerts that survive a re-score, and a
demo user that survives a reload. Rows are read back from the inbox's CSV downloads (the grid is a
canvas) and from the store file itself."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from pathlib import Path

import pytest
from e2e_harness import Server, shot, wait_idle

from engine.store import OPEN_STATUSES, TriageStore

pytestmark = pytest.mark.e2e
QD = "demo-quality-director"


def _click_first_row(page, grid) -> None:  # type: ignore[no-untyped-def]
    """Tick the row marker of the first data row of ``grid`` (a canvas data grid)."""
    grid.wait_for()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    wait_idle(page, 400)


def _rows(page, button: str) -> list[dict[str, str]]:  # type: ignore[no-untyped-def]
    """The rows behind a CSV download button, as dictionaries."""
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _open_inbox(page, url: str, ward_name: str = "") -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/inbox")
    wait_idle(page)
    page.get_by_role("heading", name="Alert inbox").wait_for()
    if ward_name:
        box = page.get_by_label("Find a ward")
        box.fill(ward_name)
        box.press("Enter")
        wait_idle(page, 400)


def _open_ward(page, url: str, ward_name: str) -> None:  # type: ignore[no-untyped-def]
    _open_inbox(page, url, ward_name)
    _click_first_row(page, page.locator("[data-testid='stDataFrame']").first)
    page.locator("strong", has_text=re.compile("^Explanation$")).first.wait_for()


def test_assign_shows_the_owner_in_the_row_and_the_mine_filter(server: Server, page, e2e_fixture):  # type: ignore[no-untyped-def]
    name = e2e_fixture.episode_ward_name
    _open_ward(page, server.url, name)
    page.get_by_role("button", name="Assign to me").click()
    wait_idle(page, 400)
    page.get_by_text(f"Alert assigned to {QD}.").wait_for()
    rows = _rows(page, "Download the ward rows (CSV)")
    assert [(r["ward_id"], r["Owner"]) for r in rows] == [(e2e_fixture.episode_ward, QD)]
    shot(page, "10-inbox-assigned")

    _open_inbox(page, server.url)  # a fresh page: all wards, then only mine
    everyone = _rows(page, "Download the ward rows (CSV)")
    assert len(everyone) > 1 and len({r["ward_id"] for r in everyone}) == len(everyone)  # one row per ward
    page.get_by_text("Assigned to me", exact=True).click()
    wait_idle(page, 400)
    mine = _rows(page, "Download the ward rows (CSV)")
    assert [(r["ward_id"], r["Owner"]) for r in mine] == [(e2e_fixture.episode_ward, QD)]
    page.get_by_text("Unassigned", exact=True).click()
    wait_idle(page, 400)
    assert e2e_fixture.episode_ward not in {r["ward_id"] for r in _rows(page, "Download the ward rows (CSV)")}


def test_bulk_close_of_a_wards_indicator_alerts_writes_one_audit_entry_each(
    server: Server, page, e2e_fixture
):  # type: ignore[no-untyped-def]
    store = TriageStore(e2e_fixture.store)
    ward = e2e_fixture.episode_ward
    before = {
        a.alert_id: a
        for a in store.list_alerts(ward=ward, scope="indicator", status=list(OPEN_STATUSES))
        if not a.ended_before_triage(store.data_end(), store.settings.ended_before_triage_days)
    }
    assert len(before) >= 2, "the episode ward should have several open indicator alerts"
    _open_ward(page, server.url, e2e_fixture.episode_ward_name)
    page.get_by_text(re.compile(rf"Indicator alerts of this ward \({len(before)}\)")).wait_for()
    page.get_by_label("Note for the bulk action (required)").fill("Reviewed together at the ward round.")
    page.get_by_label("Note for the bulk action (required)").press("Tab")
    wait_idle(page, 300)
    page.get_by_role("button", name=f"Close all {len(before)}").click()
    wait_idle(page, 600)
    page.get_by_text(re.compile(rf"{len(before)} alert\(s\) closed, each with your note")).wait_for()
    shot(page, "11-inbox-bulk-closed")

    conn = sqlite3.connect(e2e_fixture.store)
    try:
        marks = ",".join("?" * len(before))
        entries = conn.execute(
            f"SELECT alert_id, count(DISTINCT at) FROM audit WHERE action = 'closed' AND actor = ? "
            f"AND alert_id IN ({marks}) GROUP BY alert_id",
            (QD, *before),
        ).fetchall()
        notes = conn.execute(
            f"SELECT count(*) FROM notes WHERE text = 'Reviewed together at the ward round.' AND alert_id IN ({marks})",
            tuple(before),
        ).fetchone()[0]
    finally:
        conn.close()
    assert dict(entries) == dict.fromkeys(before, 1)  # one closure entry for each indicator alert
    assert notes == len(before)
    assert {store.get(a).alert.status for a in before} == {"closed"}
    assert store.get(e2e_fixture.episode_alert_id).alert.status != "closed"  # the ward alert is untouched


def test_provider_alert_is_listed_and_survives_a_rescore(server: Server, page, e2e_fixture):  # type: ignore[no-untyped-def]
    import polars as pl

    alerts = pl.read_csv(e2e_fixture.results_dir / "alerts.csv", infer_schema=False)
    current = alerts.filter(
        (pl.col("scope") == "provider") & (pl.col("closed").is_null() | (pl.col("closed") == ""))
    )
    assert current.height > 0, "the fixture trust should have a current provider-wide change"
    _open_inbox(page, server.url)
    page.get_by_role("tab", name=re.compile(r"Provider-wide \(\d+\)")).click()
    wait_idle(page, 300)
    listed = _rows(page, "Download provider-wide alerts (CSV)")
    assert {r["alert_id"] for r in listed} == set(current["alert_id"])
    assert all(re.fullmatch(r"\d+ of \d+ wards", r["Wards sharing it"]) for r in listed)
    panel = page.get_by_role("tabpanel").filter(visible=True)
    _click_first_row(page, panel.locator("[data-testid='stDataFrame']").first)
    first = listed[0]["alert_id"]
    page.get_by_role("button", name="Acknowledge", exact=True).click()
    wait_idle(page, 400)
    page.get_by_text("Alert acknowledged.").wait_for()
    shot(page, "12-inbox-provider")

    import e2e_harness

    e2e_harness._pl._score(e2e_fixture.data_dir, e2e_fixture.store)  # `wardwatch score --store` again
    page.reload()
    wait_idle(page)
    _open_inbox(page, server.url)
    page.get_by_role("tab", name=re.compile(r"Provider-wide \(\d+\)")).click()
    wait_idle(page, 300)
    again = {r["alert_id"]: r for r in _rows(page, "Download provider-wide alerts (CSV)")}
    assert first in again and again[first]["Status"] == "Acknowledged"
    a = TriageStore(e2e_fixture.store).get(first).alert
    assert (a.scope, a.status, a.superseded_by) == ("provider", "acknowledged", None)


def test_demo_user_survives_a_reload(server: Server, page):  # type: ignore[no-untyped-def]
    picker = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']")
    page.goto(server.url)
    wait_idle(page)
    assert picker.locator("input").input_value().startswith(QD)
    picker.click()
    page.get_by_role("option", name=re.compile("demo-board-member")).click()
    wait_idle(page, 400)
    assert "demo_user=demo-board-member" in page.url
    page.reload()  # a new session: the choice comes back from the URL
    wait_idle(page, 400)
    assert picker.locator("input").input_value().startswith("demo-board-member")
    assert page.get_by_role("link", name="Upload data").count() == 0  # the board role's pages
    page.get_by_role("link", name="Alert inbox").click()  # in-app navigation keeps the choice too
    wait_idle(page, 400)
    assert picker.locator("input").input_value().startswith("demo-board-member")
