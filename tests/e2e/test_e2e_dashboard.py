"""End-to-end: the dashboard in headless Chromium (overview, inbox persistence, briefing PDF)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pypdf
import pytest
from e2e_harness import Server, free_port, shot, wait_idle

pytestmark = pytest.mark.e2e
NOTE = "E2E note: spoke to the ward manager, restraint log requested."


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _select_first_row(page) -> None:  # type: ignore[no-untyped-def]
    """Tick the row marker of the first data row of the first dataframe (canvas grid)."""
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.wait_for()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    wait_idle(page, 400)


def _open_inbox_for(page, url: str, ward_name: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/inbox")
    wait_idle(page)
    page.get_by_role("heading", name="Alert inbox").wait_for()
    box = page.get_by_label("Find a ward")
    box.fill(ward_name)
    box.press("Enter")
    wait_idle(page, 400)
    _select_first_row(page)
    page.locator("strong", has_text=re.compile("^Explanation$")).wait_for()


def test_overview_renders_ranked_wards(server: Server, page, e2e_fixture):  # type: ignore[no-untyped-def]
    page.goto(server.url)
    wait_idle(page)
    page.get_by_role("heading", name="Trust overview").wait_for()
    top = page.locator(".ww-visit").first  # the first ward to visit is the top-ranked ward
    top.wait_for()
    assert top.get_attribute("data-ward") == e2e_fixture.episode_ward
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    shot(page, "01-overview")
    page.get_by_text("For analysts: technical figures").click()  # lazy expander: runs when opened
    wait_idle(page, 300)
    page.get_by_role("tab", name="Evidence by domain").click()  # lazy tab: runs when opened
    page.locator(
        "[data-testid='stVegaLiteChart'] canvas, [data-testid='stVegaLiteChart'] svg"
    ).first.wait_for()
    page.get_by_text(re.compile(r"Evidence in each domain now, for the 20 highest-ranked wards")).wait_for()
    shot(page, "01b-overview-heatmap")
    page.get_by_role("tab", name="Evidence over the last year").click()
    page.get_by_text(re.compile("highest-ranked wards under the current filters")).wait_for()
    wait_idle(page, 300)
    shot(page, "01c-overview-history")


def test_triage_note_survives_reload_and_restart(server: Server, page, e2e_fixture):  # type: ignore[no-untyped-def]
    name = e2e_fixture.episode_ward_name
    _open_inbox_for(page, server.url, name)
    page.get_by_text(e2e_fixture.episode_explanation[:50]).filter(visible=True).first.wait_for()
    page.get_by_label("Add a note").fill(NOTE)
    page.get_by_role("button", name="Save note").click()
    wait_idle(page, 400)
    page.get_by_text("Note saved.").wait_for()
    page.get_by_text(NOTE).wait_for()
    shot(page, "02-inbox")

    page.reload()  # a full page reload: new session, state only from the store
    wait_idle(page)
    _open_inbox_for(page, server.url, name)
    page.get_by_text(NOTE).wait_for()

    server.stop()  # an app restart on a new port, same data folder and store
    restarted = Server(server.data, free_port()).start()
    try:
        _open_inbox_for(page, restarted.url, name)
        page.get_by_text(NOTE).wait_for()
        # the note's author line (the demo user, recorded as actor) is shown with it
        page.get_by_text(re.compile(r"demo\\?-quality\\?-director")).filter(visible=True).first.wait_for()
    finally:
        restarted.stop()
        server.port = free_port()
        server.start()


def test_ward_and_upload_pages_render(server: Server, page, e2e_fixture):  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/ward?ward={e2e_fixture.episode_ward}")
    wait_idle(page, 600)
    page.get_by_role("heading", name=e2e_fixture.episode_ward_name).wait_for()
    page.locator("[data-testid='stVegaLiteChart']").nth(3).wait_for()
    shot(page, "03-ward")
    page.goto(f"{server.url}/upload")
    wait_idle(page)
    page.get_by_role("heading", name="Upload data").wait_for()
    shot(page, "05-upload")


def test_briefing_pdf_downloads_with_name_and_explanation(server: Server, page, e2e_fixture):  # type: ignore[no-untyped-def]
    page.goto(server.url + "/briefing")
    wait_idle(page)
    page.get_by_role("heading", name="Visit briefing").wait_for()
    page.get_by_role("button", name="Prepare briefing").click()
    wait_idle(page, 500)
    button = page.get_by_role("button", name="Download PDF")
    button.wait_for(timeout=60_000)
    shot(page, "04-briefing")
    with page.expect_download() as info:
        button.click()
    dl = info.value
    assert dl.suggested_filename.endswith(".pdf")
    data = Path(dl.path()).read_bytes()
    text = _flat(" ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages))
    assert e2e_fixture.episode_ward_name in text
    assert _flat(e2e_fixture.episode_explanation) in text


def test_lab_page_for_demo_researcher(server: Server, page, e2e_fixture):  # type: ignore[no-untyped-def]
    page.goto(server.url)
    wait_idle(page)
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
    page.get_by_role("option", name=re.compile("demo-researcher")).click()
    wait_idle(page, 400)
    page.get_by_role("link", name="Threshold lab").click()  # in-app navigation keeps the session
    wait_idle(page, 600)
    page.get_by_text(re.compile(r"In-control ARL0 = ")).wait_for(timeout=60_000)
    # the trade-off on this trust's own baselines, in the background; then save the picked point
    reps = page.get_by_label("Replicates of the trust")
    reps.fill("2")
    reps.press("Tab")
    box = page.get_by_label(re.compile("Candidate thresholds"))
    from engine.scoring.settings import CombinationSettings

    in_force = CombinationSettings().concern_threshold
    box.fill(f"3, {in_force:g}")
    box.press("Tab")
    page.get_by_role("button", name="Run in the background").click()
    page.get_by_text(re.compile(r"On replicates of this trust")).wait_for(timeout=120_000)
    wait_idle(page, 600)
    page.locator("[data-testid='stVegaLiteChart']").nth(1).wait_for()
    shot(page, "06-lab")
    page.get_by_role("button", name=re.compile(r"Save as config\.toml")).click()
    page.get_by_text(re.compile("Saved the full configuration")).wait_for(timeout=30_000)
    from engine.config import Config, load_config

    saved = load_config(e2e_fixture.data_dir / "config.toml")
    assert saved.digest() == Config().digest()  # picked: the threshold in force
    assert saved.provenance.source.startswith("wardwatch threshold lab")


def test_proxy_user_from_trusted_headers_is_recorded(browser, e2e_fixture):  # type: ignore[no-untyped-def]
    """Behind a proxy: Streamlit's server.trustedUserHeaders puts the user in st.user; no picker."""
    srv = Server(e2e_fixture.data_dir, free_port(), extra_args=("--trust-proxy-headers",)).start()
    try:
        for headers, expect in (
            ({"X-Forwarded-User": "jane.doe@nhs.net", "X-Forwarded-Role": "quality"}, "Signed in as"),
            ({}, "Not signed in"),
        ):
            ctx = browser.new_context(extra_http_headers=headers, viewport={"width": 1400, "height": 1000})
            pg = ctx.new_page()
            pg.goto(srv.url)
            wait_idle(pg)
            pg.get_by_text(re.compile(expect)).first.wait_for()
            if headers:
                pg.get_by_text(re.compile(r"jane\.doe@nhs\.net")).first.wait_for()
                assert pg.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").count() == 0
                shot(pg, "08-proxy-user")
            ctx.close()
    finally:
        srv.stop()
