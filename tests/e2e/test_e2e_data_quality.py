"""End-to-end: the real MHSDS sample's incomplete reporters in the dashboard's data-quality view."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_harness import Server, free_port, shot, wait_idle

from engine.cli import main

pytestmark = pytest.mark.e2e
_SAMPLE = Path("shared") / "data" / "mhsds-restrictive-interventions-2021-22"
MHSDS_DIR = next(
    (p / _SAMPLE for p in Path(__file__).resolve().parents if (p / _SAMPLE).is_dir()),
    Path(__file__).parents[2].parent / _SAMPLE,
)


@pytest.fixture(scope="module")
def mhsds_server(browser: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    if not MHSDS_DIR.is_dir():
        pytest.skip("the shared MHSDS sample is not present")
    d = tmp_path_factory.mktemp("mhsds_e2e") / "data"
    assert main(["import-mhsds", str(MHSDS_DIR), "--out", str(d)]) == 0
    (d / ".wardwatch").mkdir()
    files = ["--observations", str(d / "observations.csv"), "--wards", str(d / "wards.csv")]
    files += ["--events", str(d / "events.csv"), "--store", str(d / ".wardwatch" / "triage.db")]
    assert main(["score", *files, "--out", str(d / "results")]) == 0
    srv = Server(d, free_port()).start()
    yield srv
    srv.stop()


def test_data_quality_lists_the_incomplete_reporters(mhsds_server: Server, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(mhsds_server.url)
    wait_idle(page)
    page.get_by_role("heading", name="Trust overview").wait_for()
    label = page.get_by_text(re.compile(r"Data quality: 46 series reported incompletely \(35 alerted"))
    label.scroll_into_view_if_needed()
    label.click()  # lazy expander: the listing runs when opened
    wait_idle(page, 400)
    page.get_by_text(re.compile("a gap is listed here whether or not it is improbable enough")).wait_for()
    grid = page.locator("[data-testid='stExpander']", has_text="Data quality").locator(
        "[data-testid='stDataFrame']"
    )
    grid.wait_for()
    shot(page, "data-quality-mhsds")
