"""End-to-end: upload → validate → re-score in the background → refreshed overview, triage notes kept;
a worker killed mid re-score leaves the served results and the store untouched. Headless Chromium."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import time
from pathlib import Path

import polars as pl
import pytest
from e2e_harness import Server, free_port, shot, wait_idle

from dashboard.components.charts import as_of_label
from engine.store import TriageStore

pytestmark = pytest.mark.e2e
NOTE = "E2E lab note: visited, restraint log reviewed before the re-score."


@pytest.fixture(scope="module")
def lab_data(tmp_path_factory, e2e_fixture):  # type: ignore[no-untyped-def]
    """A private copy of the pipeline's data folder (these tests replace its results)."""
    data = tmp_path_factory.mktemp("e2e-lab") / "data"
    shutil.copytree(e2e_fixture.data_dir, data)
    return data


@pytest.fixture(scope="module")
def lab_server(browser, lab_data):  # type: ignore[no-untyped-def]
    srv = Server(lab_data, free_port()).start()
    yield srv
    srv.stop()


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


def _upload(page, url: str, observations: Path, wards: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(url + "/upload")
    wait_idle(page)
    page.get_by_role("heading", name="Upload data").wait_for()
    inputs = page.locator("[data-testid='stFileUploaderDropzoneInput']")
    inputs.nth(0).set_input_files(str(observations))
    wait_idle(page, 500)
    inputs.nth(1).set_input_files(str(wards))
    wait_idle(page, 800)


def _trimmed_upload(data: Path, folder: Path, weeks_dropped: int, bad_line: bool) -> tuple[Path, Path, str]:
    """Observations without their last weeks (and one bad row), under a name of the user's own."""
    folder.mkdir(parents=True, exist_ok=True)
    obs = pl.read_csv(data / "observations.csv", infer_schema=False)
    periods = sorted(obs["period"].unique().to_list())
    keep = obs.filter(pl.col("period") <= periods[-1 - weeks_dropped])
    path = folder / "north-trust-observations.csv"
    text = keep.write_csv()
    if bad_line:
        first = keep.row(0, named=True)
        text += f"{first['ward_id']},{first['period']},restraint,lots,12\n"
    path.write_text(text, encoding="utf-8")
    wards = folder / "north-trust-register.csv"
    shutil.copyfile(data / "wards.csv", wards)
    return path, wards, periods[-1 - weeks_dropped]


def _latest_rescore(data: Path) -> dict:
    jobs = data / ".wardwatch" / "jobs"
    best = None
    for f in jobs.glob("*/status.json"):
        with_kind = json.loads(f.read_text())
        if with_kind.get("kind") == "rescore" and (
            best is None or with_kind["submitted"] >= best["submitted"]
        ):
            best = with_kind
    return best or {}


def test_upload_rescore_refreshes_the_overview_and_keeps_triage_notes(lab_server, page, lab_data, e2e_fixture, tmp_path):  # type: ignore[no-untyped-def]  # fmt: skip
    store = TriageStore(lab_data / ".wardwatch" / "triage.db")
    store.add_note(e2e_fixture.episode_alert_id, "Quality Director", NOTE)
    obs, wards, new_last = _trimmed_upload(lab_data, tmp_path / "mine", weeks_dropped=2, bad_line=True)
    _upload(page, lab_server.url, obs, wards)
    # validation: the uploaded file's own name, never a server path; the bad row is listed
    page.get_by_text(re.compile(r"north-trust-observations\.csv.*read")).first.wait_for()
    page.get_by_role("heading", name="Rejected rows").wait_for()
    main = page.locator("[data-testid='stMain']").inner_text()
    assert str(lab_data) not in main and "/tmp/" not in main
    shot(page, "lab-01-upload-validated")
    page.get_by_role("button", name="Re-score with these files").click()
    page.get_by_text(re.compile("^Re-scored:")).wait_for(timeout=120_000)
    shot(page, "lab-02-rescored")
    run = json.loads((lab_data / "results" / "run.json").read_text())
    assert run["grid"]["last"] == new_last and run["inputs"]["observations"]["path"].endswith(
        "/north-trust-observations.csv"
    )
    page.get_by_role("button", name="Open the refreshed overview").click()
    wait_idle(page, 500)
    page.get_by_role("heading", name="Trust overview").wait_for()
    import datetime as dt

    page.get_by_text(as_of_label(dt.date.fromisoformat(new_last)), exact=False).first.wait_for()
    shot(page, "lab-03-refreshed-overview")
    # the re-scored alerts were synced into the same store; the note is still on its alert
    detail = store.get(e2e_fixture.episode_alert_id)
    assert NOTE in [n.text for n in detail.notes]
    assert store.integrity_check() == ["ok"]


def test_a_killed_rescore_leaves_the_served_results_and_the_store_intact(lab_server, page, lab_data, e2e_fixture, tmp_path):  # type: ignore[no-untyped-def]  # fmt: skip
    before = _digests(lab_data / "results")
    register_before = (lab_data / "wards.csv").read_bytes()
    store = TriageStore(lab_data / ".wardwatch" / "triage.db")
    notes_before = [n.text for n in store.get(e2e_fixture.episode_alert_id).notes]
    obs, wards, _ = _trimmed_upload(lab_data, tmp_path / "again", weeks_dropped=5, bad_line=False)
    _upload(page, lab_server.url, obs, wards)
    previous = _latest_rescore(lab_data).get("key")
    page.get_by_role("button", name="Re-score with these files").click()
    deadline = time.monotonic() + 60
    status: dict = {}
    while time.monotonic() < deadline:
        status = _latest_rescore(lab_data)
        if status.get("key") != previous and status.get("state") == "running" and status.get("pid"):
            break
        time.sleep(0.02)
    assert status.get("state") == "running", status
    os.killpg(status["pid"], signal.SIGKILL)  # the worker and anything it started, mid-job
    page.get_by_text(re.compile("The re-score failed, so the previous results are still served")).wait_for(
        timeout=60_000
    )
    shot(page, "lab-04-killed-rescore")
    assert _digests(lab_data / "results") == before
    assert (lab_data / "wards.csv").read_bytes() == register_before
    assert not list(lab_data.glob(".results.new-*")), "the staging folder is cleaned up on the next run"
    assert store.integrity_check() == ["ok"]
    assert [n.text for n in store.get(e2e_fixture.episode_alert_id).notes] == notes_before
    # the second upload with the same file name was kept in a folder of its own
    staged = sorted((lab_data / "incoming").glob("*/north-trust-observations.csv"))
    assert len(staged) == 2 and staged[0].read_bytes() != staged[1].read_bytes()
    page.goto(lab_server.url)
    wait_idle(page)
    run = json.loads((lab_data / "results" / "run.json").read_text())
    import datetime as dt

    page.get_by_text(as_of_label(dt.date.fromisoformat(run["grid"]["last"])), exact=False).first.wait_for()


def test_ward_page_of_a_synthetic_trust_marks_its_injected_episode(lab_server, page, lab_data):  # type: ignore[no-untyped-def]
    truth = pl.read_csv(lab_data / "truth.csv", infer_schema=False)
    ward = truth.filter(pl.col("kind") == "closed_culture")["ward_id"][0]
    page.goto(f"{lab_server.url}/ward?ward={ward}")
    wait_idle(page, 600)
    page.get_by_role("heading", name="Known truth (synthetic trust)").wait_for()
    page.get_by_text(re.compile("Injected closed culture episode from")).first.wait_for()
    page.get_by_text(re.compile("Red band: the injected episode")).wait_for()
    shot(page, "lab-05-ward-known-truth")
    page.goto(lab_server.url)
    wait_idle(page, 600)
    page.get_by_role("heading", name="Known truth (synthetic trust)").wait_for()
