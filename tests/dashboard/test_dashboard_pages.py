"""AppTest tests of every page: real content (ranked wards, explanations, charts with data), triage."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from engine.store import TriageStore


def _spec(chart) -> dict:  # type: ignore[no-untyped-def]
    return json.loads(chart.proto.spec)


def _rows(chart) -> list[dict]:  # type: ignore[no-untyped-def]
    """All data rows Streamlit ships with a chart (Arrow IPC datasets, decoded)."""
    import pyarrow as pa

    out: list[dict] = []
    for ds in chart.proto.datasets:
        table = pa.ipc.open_stream(ds.data.data).read_all()
        out.extend(table.to_pylist())
    return out


def _latest_levels(paths) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    """Each ward's level at the last period, read straight from ward_status.csv."""
    ws = pl.read_csv(paths.results_dir / "ward_status.csv", infer_schema=False)
    return ws.filter(pl.col("period") == ws["period"].max())


def test_overview_ranks_wards_and_counts_alerts(app_env, fixture_paths):
    at = app_env()
    at.run()
    assert not at.exception
    assert at.title[0].value == "Trust overview"
    ranked = at.dataframe[0].value
    assert ranked["ward_id"].iloc[0] == fixture_paths.episode_ward
    assert ranked["Ward"].iloc[0] == fixture_paths.episode_ward_name
    assert list(ranked["rank"]) == list(range(1, len(ranked) + 1))
    latest = _latest_levels(fixture_paths)
    assert len(ranked) == latest.height
    metrics = {m.label: m.value for m in at.metric}
    for label, level in (("Urgent wards", "urgent"), ("Concern wards", "concern"), ("Watch wards", "watch")):
        assert int(metrics[label]) == int((latest["level"] == level).sum())
    assert ranked["Level"].iloc[0] == fixture_paths.episode_level.capitalize()
    # a fresh store synced from alerts.csv (first import): ward and indicator alerts whose condition
    # still holds are new and open; those that had already ended are filed historical
    alerts = pl.read_csv(fixture_paths.results_dir / "alerts.csv", infer_schema=False)
    current = alerts["closed"].is_null() | (alerts["closed"] == "")
    triaged = int((alerts["scope"].is_in(["ward", "indicator"]) & current).sum())
    assert int(metrics["New alerts"]) == triaged and metrics["Open alerts"] == metrics["New alerts"]
    captions = " ".join(c.value.replace("\\", "") for c in at.caption)
    assert f"Top of the list: 1. {fixture_paths.episode_ward_name} (" in captions
    assert not at.get("vega_lite_chart")  # charts are in tabs that run only when opened


def test_overview_heatmap_and_small_multiples_tabs_have_data(app_env, fixture_paths):
    at = app_env()
    at.run()
    at.session_state["ov_tab"] = "Evidence by domain"
    at.run()
    assert not at.exception
    (chart,) = at.get("vega_lite_chart")
    heat = _rows(chart)
    assert {r["domain"] for r in heat} >= {"Restrictive practice", "Staffing", "Voice and oversight"}
    top = pl.read_csv(fixture_paths.results_dir / "ward_status.csv", infer_schema=False).filter(
        (pl.col("ward_id") == fixture_paths.episode_ward) & (pl.col("period") == f"{fixture_paths.as_of}")
    )
    mine = {r["domain"]: r["evidence"] for r in heat if r["ward"] == f"1. {fixture_paths.episode_ward_name}"}
    assert mine["Staffing"] == pytest.approx(float(top["score_staffing"][0]))
    assert any("Strongest:" in c.value for c in at.caption)

    at.session_state["ov_tab"] = "Score over the last year"
    at.run()
    (chart,) = at.get("vega_lite_chart")
    hist = _rows(chart)
    wards = {r["ward"] for r in hist}
    assert f"1. {fixture_paths.episode_ward_name}" in wards and len(wards) == 12
    assert len(hist) == 12 * 52  # the last year of weekly scores of the 12 highest-ranked wards
    assert any("Highest peaks" in c.value for c in at.caption)


def test_overview_filters_by_provider(app_env, fixture_paths):
    at = app_env()
    at.run()
    at.multiselect(key="f_provider").set_value([fixture_paths.provider]).run()
    ranked = at.dataframe[0].value
    assert len(ranked) == fixture_paths.provider_wards and set(ranked["Provider"]) == {fixture_paths.provider}
    alerts = pl.read_csv(fixture_paths.results_dir / "alerts.csv", infer_schema=False)
    mine = alerts.filter(  # first import: only conditions that still hold start as new
        pl.col("scope").is_in(["ward", "indicator"])
        & pl.col("ward_id").is_in(list(ranked["ward_id"]))
        & (pl.col("closed").is_null() | (pl.col("closed") == ""))
    )
    assert int({m.label: m.value for m in at.metric}["New alerts"]) == mine.height


def _open_ward_in_inbox(at, ward_id: str, gen: int = 0) -> int:
    """Select the ward's row of the inbox (one row per ward); returns its row number."""
    table = at.dataframe[0].value
    row = int((table["ward_id"] == ward_id).to_numpy().nonzero()[0][0])
    at.session_state[f"inbox_wards_{gen}"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    return row


def test_inbox_triage_acknowledge_note_and_audit_persist(app_env, fixture_paths):
    at = app_env()
    at.run()
    at.switch_page("app_pages/inbox.py").run()
    table = at.dataframe[0].value
    assert table["ward_id"].is_unique  # one row per ward
    _open_ward_in_inbox(at, fixture_paths.episode_ward)
    assert any(fixture_paths.episode_explanation[:40] in m.value.replace("\\", "") for m in at.markdown)
    at.button(key=f"ack_{fixture_paths.episode_alert_id}").click().run()
    assert any("acknowledged" in s.value for s in at.success)
    _open_ward_in_inbox(at, fixture_paths.episode_ward, gen=1)
    at.text_area(key=f"note_{fixture_paths.episode_alert_id}").input("Spoke to the ward manager on Monday.")
    at.button(key=f"save_note_{fixture_paths.episode_alert_id}").click().run()
    assert any("Note saved" in s.value for s in at.success)
    assert any(t.value == "Spoke to the ward manager on Monday." for t in at.text)
    audit = at.dataframe[1].value
    assert {"Acknowledged the alert.", "Added a note."} <= set(audit["What happened"])
    assert "demo-quality-director" in set(audit["Who"])
    assert all(w.endswith(("GMT", "BST")) for w in audit["When (UK time)"])

    # a fresh session (a reload) reads the same store: status and note are still there
    again = app_env()
    again.run()
    again.switch_page("app_pages/inbox.py").run()
    t2 = again.dataframe[0].value
    r2 = int((t2["ward_id"] == fixture_paths.episode_ward).to_numpy().nonzero()[0][0])
    assert t2["Status"].iloc[r2] == "Acknowledged"
    _open_ward_in_inbox(again, fixture_paths.episode_ward)
    assert any(t.value == "Spoke to the ward manager on Monday." for t in again.text)


def test_inbox_stale_write_is_refused_politely(app_env, fixture_paths, tmp_path):
    at = app_env()
    at.run()
    at.switch_page("app_pages/inbox.py").run()
    _open_ward_in_inbox(at, fixture_paths.episode_ward)
    # someone else acknowledges the alert meanwhile (another process, same file)
    other = TriageStore(tmp_path / "triage.db")
    alert = other.get(fixture_paths.episode_alert_id).alert
    other.start_investigation(alert.alert_id, "someone.else", alert.version)
    at.button(key=f"ack_{fixture_paths.episode_alert_id}").click().run()
    assert not at.exception
    assert any("Someone else changed this alert" in w.value for w in at.warning)
    assert other.get(alert.alert_id).alert.status == "investigating"


def test_board_member_reads_but_cannot_triage(app_env, fixture_paths):
    at = app_env("demo-board-member")
    at.run()
    at.switch_page("app_pages/inbox.py").run()
    _open_ward_in_inbox(at, fixture_paths.episode_ward)
    assert not [b for b in at.button if b.key and b.key.startswith(("ack_", "bulk_", "assign_"))]
    assert any("triage needs the quality role" in i.value for i in at.info)


def test_ward_page_shows_explanation_mdc_charts_cusum_and_funnel(app_env, fixture_paths):
    from dashboard.services.formatting import indicator_label

    at = app_env()
    at.query_params["ward"] = fixture_paths.episode_ward
    at.run()
    at.switch_page("app_pages/ward.py").run()
    assert not at.exception
    assert at.header[0].value.replace("\\", "") == fixture_paths.episode_ward_name
    assert any(fixture_paths.episode_explanation[:60] in i.value.replace("\\", "") for i in at.info)
    series = pl.read_parquet(fixture_paths.results_dir / "series.parquet").filter(
        pl.col("ward_id") == fixture_paths.episode_ward
    )
    present = series["indicator"].unique().to_list()
    charts = at.get("vega_lite_chart")
    specs = [_spec(c) for c in charts]
    mdc = [i for i, s in enumerate(specs) if '"Rule"' in json.dumps(s)]  # MDC charts carry the rule
    assert len(mdc) == len(present)  # one MDC chart per indicator the ward reports
    # the first chart is a contributing indicator (its heading says so): its data are the series rows
    by_label = {indicator_label(k): k for k in present}
    heading = next(m.value for m in at.markdown if m.value.endswith(" · contributing"))
    key = by_label[heading.removeprefix("**").split("**")[0].replace("\\", "")]
    # its data are the points of the chart that fits the series (weekly, monthly, T or run chart)
    from dashboard.components.charts import fit_ward_charts

    want = fit_ward_charts(series.filter(pl.col("indicator") == key))[key].frame
    rows = _rows(charts[mdc[0]])
    assert len(rows) == want.height
    concern = int((want["point_type"] == "special_cause_concern").sum())
    assert sum(r["point_type"] == "special_cause_concern" for r in rows) == concern
    colours = json.dumps(specs[mdc[0]])
    assert "#a6a6a6" in colours
    captions = " ".join(c.value.replace("\\", "") for c in at.caption)
    assert "CUSUM: threshold" in captions and "peer wards of the same type" in captions
    j = next(i for i, s in enumerate(specs) if "Exposure (" in json.dumps(s))
    points = [r for r in _rows(charts[j]) if "this_ward" in r]  # one point per peer ward of this type
    wards = pl.read_csv(fixture_paths.data_dir / "wards.csv", infer_schema=False)
    kind = wards.filter(pl.col("ward_id") == fixture_paths.episode_ward)["ward_type"][0]
    same_type = set(wards.filter(pl.col("ward_type") == kind)["ward_id"])
    assert {r["ward_id"] for r in points} <= same_type and len(points) >= 3
    assert [r["ward_id"] for r in points if r["this_ward"]] == [fixture_paths.episode_ward]


def test_briefing_page_prepares_pdf_and_html(app_env, fixture_paths):
    at = app_env("demo-board-member")
    at.run()
    at.switch_page("app_pages/briefing.py").run()
    latest = _latest_levels(fixture_paths)
    flagged = latest.filter(pl.col("level").is_in(["concern", "urgent"]))["ward_id"].to_list()
    chosen = at.multiselect(key="brief_wards").value
    assert chosen[0] == fixture_paths.episode_ward and set(chosen) <= set(flagged)
    at.button(key="brief_go").click().run()
    assert not at.exception
    labels = [d.label for d in at.get("download_button")]
    assert "Download PDF" in labels and "Download HTML" in labels


def test_lab_page_for_researcher_shows_arl_curve(app_env):
    from dashboard.services.lab import arl_curve, detector_in_force
    from dashboard.services.results import load_results
    from dashboard.settings import settings_from_env
    from engine.config import Config

    at = app_env("demo-researcher")
    at.run()
    at.switch_page("app_pages/lab.py").run()
    assert not at.exception
    # the calculator opens on restraint's detector and threshold in force (defaults: 7 nats, ratio 1.5)
    s = settings_from_env()
    start = detector_in_force(Config(), load_results(s.results_path, s.data_path), "restraint").settings
    assert start.detector == "poisson_cusum" and start.h == pytest.approx(7 / np.log(1.5), abs=0.01)
    rows = _rows(at.get("vega_lite_chart")[0])
    assert rows[0]["shift"] == 1.0
    assert rows[0]["arl"] == pytest.approx(arl_curve(start).arl[0])
    assert rows[-1]["arl"] < rows[0]["arl"] / 10
    assert any("In-control ARL0" in c.value for c in at.caption)
    assert any("In force for `restraint`" in c.value for c in at.caption)


def test_lab_is_not_in_navigation_for_quality(app_env):
    at = app_env()
    at.run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/lab.py")


def test_upload_page_asks_for_files_and_validator_reports_rows(app_env, fixture_paths):
    at = app_env()
    at.run()
    at.switch_page("app_pages/upload.py").run()
    assert not at.exception
    assert any("Choose an observations file" in i.value for i in at.info)
    from engine.io import load_dataset

    res = load_dataset(fixture_paths.data_dir / "observations.csv", fixture_paths.data_dir / "wards.csv")
    assert res.total_read > 0
