"""National scale (2,500 wards): time to first render of the overview, measured in Chromium.

This is a measurement, not a timed assertion: it records cold (first visit: results read and synced
into the triage store) and warm (results cached, a new browser session each) render times, and the
time to open each lazy chart tab, in ``test-artifacts/perf-overview.json`` and prints them; the test
asserts only that the overview rendered the full ranking and both charts when their tabs opened.

Data: by default the hand-built results folder of ``tests/dashboard/fixtures.py`` (2,500 wards x 104
weeks in about 5 s; every results-contract column, 2,500 ward alerts). ``WARDWATCH_E2E_NATIONAL=real``
uses real ``wardwatch synth`` + ``wardwatch score`` output instead (about 55 s more on 2 cores; 8,000
ward and indicator alerts in the store), which is how the figures in the closing note were taken;
``WARDWATCH_E2E_NATIONAL=DIR`` measures an already scored data folder.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from e2e_harness import ROOT, Server, build_results, free_port, shot, wait_idle

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
N_WARDS = 2500
WEEKS = 104


def _render(browser, url: str, name: str | None = None) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Seconds from ``page.goto`` to: ranking caption, ranked table drawn, script idle (= first
    render complete); then seconds to open each chart tab (chart drawn and idle)."""
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    t0 = time.perf_counter()
    page.goto(url)
    page.get_by_text(re.compile(r"^2,500 wards shown")).wait_for()
    page.get_by_role("heading", name="Wards to visit").wait_for()
    out = {"ranking": time.perf_counter() - t0}
    page.locator("[data-testid='stDataFrame'] canvas").first.wait_for()
    out["table"] = time.perf_counter() - t0
    wait_idle(page, 0)
    out["complete"] = time.perf_counter() - t0
    if name:
        shot(page, name)
    page.get_by_text("For analysts: technical figures").click()  # the charts' tabs sit in this section
    wait_idle(page, 0)
    for tab, key in (("Evidence by domain", "heatmap_tab"), ("Evidence over the last year", "history_tab")):
        t1 = time.perf_counter()
        page.get_by_role("tab", name=tab).click()
        page.locator("[data-testid='stVegaLiteChart']").first.wait_for()
        wait_idle(page, 0)
        out[key] = time.perf_counter() - t1
    if name:
        shot(page, name + "-history")
    ctx.close()
    return {k: round(v, 2) for k, v in out.items()}


def _national_data(tmp: Path) -> tuple[Path, str]:
    choice = os.environ.get("WARDWATCH_E2E_NATIONAL", "")
    if choice and choice != "real":
        return Path(choice), f"scored data folder {choice}"
    if choice == "real":
        from e2e_harness import run_pipeline

        paths = run_pipeline(tmp, wards=N_WARDS, weeks=WEEKS, seed=5)
        return paths.data_dir, "real wardwatch synth + score output (seed 5)"
    return build_results(tmp, n_wards=N_WARDS, weeks=WEEKS).data_dir, "hand-built results (fixtures.py)"


def test_overview_first_render_at_national_scale(browser, tmp_path_factory):  # type: ignore[no-untyped-def]
    data, source = _national_data(tmp_path_factory.mktemp("national"))
    srv = Server(data, free_port()).start(timeout=120)
    try:
        cold = _render(browser, srv.url)
        warm = [_render(browser, srv.url, "07-overview-2500-wards" if i == 2 else None) for i in range(3)]
    finally:
        srv.stop()
    complete = sorted(w["complete"] for w in warm)
    out = {
        "wards": N_WARDS,
        "weeks": WEEKS,
        "data": source,
        "cold_s": cold,
        "warm_s": warm,
        "warm_median_complete_s": complete[1],
        "warm_max_complete_s": complete[-1],
        "what": "page.goto -> ranking caption / ranked table drawn / script idle (first render complete), "
        "then seconds to open each lazy chart tab; a new browser session each (cold = first visit: "
        "results read and synced into the triage store)",
    }
    dest = ROOT / "test-artifacts" / "perf-overview.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(out, indent=2))
    print(json.dumps(out))
