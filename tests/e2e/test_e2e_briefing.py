"""End-to-end: the one-page briefing in headless Chromium (preview charts, PDF pages, PNG artefacts) and
the ward page's charts (no collapsed limits)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import pypdf
import pytest
from e2e_harness import SHOTS, Server, shot, wait_idle

pytestmark = pytest.mark.e2e


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def test_briefing_preview_and_pdf_one_page_per_ward(server: Server, page, e2e_fixture):  # type: ignore[no-untyped-def]
    page.goto(server.url + "/briefing")
    wait_idle(page)
    page.get_by_role("heading", name="Visit briefing").wait_for()
    page.get_by_role("button", name="Prepare briefing").click()
    wait_idle(page, 500)
    button = page.get_by_role("button", name="Download PDF")
    button.wait_for(timeout=120_000)
    ready = re.compile(r"Briefing ready: (\d+) A4 pages? for (\d+) wards?")
    found = ready.search(page.get_by_text(ready).inner_text())
    assert found
    n_pages, n_wards = int(found[1]), int(found[2])
    assert n_pages == n_wards
    # the preview draws its charts: every chart image has loaded with a real size
    imgs = page.locator("img.chart")
    imgs.first.wait_for()
    sizes = imgs.evaluate_all("els => els.map(e => [e.complete, e.naturalWidth])")
    assert len(sizes) >= n_wards and all(done and width > 100 for done, width in sizes)
    shot(page, "06-briefing-preview")
    with page.expect_download() as info:
        button.click()
    data = Path(info.value.path()).read_bytes()
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == n_wards
    first = _flat(reader.pages[0].extract_text())
    level = e2e_fixture.episode_level.capitalize()
    assert f"{level} {level}" not in first and "nats" not in first
    assert re.search(r"printed \d\d/\d\d/\d{4} \d\d:\d\d (GMT|BST)", first)
    # the same number of charts in the PDF (their captions) as in the preview
    assert sum(
        len(re.findall(r"XmR chart|T chart|run chart", _flat(p.extract_text()))) > 0 for p in reader.pages
    )
    # full-page PNGs of the printed briefing, kept as test artefacts (test-artifacts/ is gitignored)
    SHOTS.mkdir(parents=True, exist_ok=True)
    pdf = SHOTS / "briefing.pdf"
    pdf.write_bytes(data)
    if shutil.which("pdftoppm"):
        for old in SHOTS.glob("briefing-page-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-r", "80", "-png", str(pdf), str(SHOTS / "briefing-page")], check=True)
        assert len(list(SHOTS.glob("briefing-page-*.png"))) == n_wards


def test_ward_page_charts_have_no_collapsed_limits(server: Server, page, e2e_fixture):  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/ward?ward={e2e_fixture.episode_ward}")
    wait_idle(page, 600)
    page.locator("[data-testid='stVegaLiteChart']").nth(3).wait_for()
    text = _flat(page.locator("[data-testid='stMain']").inner_text())
    limits = re.findall(r"process limits ([\d.,]+)(?: [^;.]*?)? to ([\d.,]+)", text)
    assert limits, "no chart caption with process limits"
    assert all(a != b for a, b in limits), limits
    assert re.search(r"T chart of the days between events|monthly rate", text)
    shot(page, "07-ward-charts")


@pytest.fixture(scope="module")
def demo_trust(tmp_path_factory):  # type: ignore[no-untyped-def]
    """The README's demo trust (``wardwatch demo`` defaults: 40 wards x 156 weeks, seed 1), scored."""
    from e2e_harness import run_pipeline

    return run_pipeline(tmp_path_factory.mktemp("demo"), wards=40, weeks=156, seed=1)


def test_demo_trust_has_no_collapsed_limits_and_no_contradicting_icon(demo_trust):  # type: ignore[no-untyped-def]
    import polars as pl

    from dashboard.components.charts import chart_audit, indicator_summary
    from dashboard.services.results import load_results

    res = load_results(demo_trust.results_dir, demo_trust.data_dir)
    series = pl.read_parquet(demo_trust.results_dir / "series.parquet")
    audit = chart_audit(res, series)
    assert audit.height > 800
    assert audit["weekly_collapsed"].sum() > 200  # what the weekly XmR charts showed before
    assert audit["collapsed"].sum() == 0
    assert audit.filter(pl.col("contradicts_alert") & ~pl.col("explained")).is_empty()
    table = indicator_summary(res, series)
    assert table["under_alert"].sum() > 50
    # the table flags the same contradictions as the pages, and every one of them is explained there
    assert table["contradicts_alert"].sum() == audit["contradicts_alert"].sum()
