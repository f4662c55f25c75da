"""AppTest tests of every page: real content (ranked wards, explanations, charts with data), triage."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from engine.contract.levels import LEVEL_RANK
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


def _ranked(at):  # type: ignore[no-untyped-def]
    """The overview's ranked table (the dataframe with key ``ranked``)."""
    (frame,) = [d for d in at.dataframe if d.key == "ranked"]
    return frame.value


def _board_text(at) -> str:  # type: ignore[no-untyped-def]
    """Everything a board member reads on the page as rendered (text elements, tables, HTML)."""
    parts: list[str] = (
        [t.value for t in at.title] + [h.value for h in at.header] + [h.value for h in at.subheader]
    )
    parts += (
        [m.value for m in at.markdown] + [c.value for c in at.caption] + [str(e.label) for e in at.expander]
    )
    parts += [h.proto.body for h in at.get("html")]
    for d in at.dataframe:
        parts.append(" ".join(map(str, d.value.columns)) + " " + d.value.astype(str).to_string())
    parts += [m.label for m in at.metric]
    return " ".join(parts).replace("\\", "")


def _expected_ranking(paths) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    """Wards at the last period ranked by level, then current evidence, read from ward_status.csv."""
    latest = _latest_levels(paths).with_columns(
        pl.col("recent_evidence", "score").cast(pl.Float64),
        pl.col("level").replace_strict(LEVEL_RANK, return_dtype=pl.Int8).alias("o"),
    )
    return latest.sort(["o", "recent_evidence", "score", "ward_id"], descending=[True, True, True, False])


def test_overview_ranks_wards_and_counts_alerts(app_env, fixture_paths):
    at = app_env()
    at.run()
    assert not at.exception
    assert at.title[0].value == "Trust overview"
    ranked = _ranked(at)
    assert ranked["ward_id"].iloc[0] == fixture_paths.episode_ward
    assert ranked["Ward"].iloc[0] == fixture_paths.episode_ward_name
    assert list(ranked["rank"]) == list(range(1, len(ranked) + 1))
    assert list(ranked["ward_id"]) == _expected_ranking(fixture_paths)["ward_id"].to_list()
    latest = _latest_levels(fixture_paths)
    assert len(ranked) == latest.height
    metrics = {m.label: m.value for m in at.metric}
    for label, level in (("Urgent wards", "urgent"), ("Concern wards", "concern"), ("Watch wards", "watch")):
        assert int(metrics[label]) == int((latest["level"] == level).sum())
    assert ranked["Level"].iloc[0] == fixture_paths.episode_level.capitalize()
    # a fresh store synced from alerts.csv (first import): ward and indicator alerts whose condition
    # still holds are new and open; those that had already ended are filed historical
    # ranking consistent with level: never a lower level above a higher one
    order = [LEVEL_RANK[v.lower()] if v != "No concern" else 0 for v in ranked["Level"]]
    assert order == sorted(order, reverse=True)
    # current evidence is a bounded 0-100 number with a word, ward types in words
    assert ranked["Current evidence"].between(0, 100).all()
    assert set(ranked["Evidence"]) <= {"No new evidence", "Weak", "Moderate", "Strong", "Very strong"}
    assert not set(ranked["Type"]) & {"acute_adult", "ld_autism", "older_adult", "picu", "camhs"}
    alerts = pl.read_csv(fixture_paths.results_dir / "alerts.csv", infer_schema=False)
    current = alerts["closed"].is_null() | (alerts["closed"] == "")
    triaged = int((alerts["scope"].is_in(["ward", "indicator"]) & current).sum())
    assert int(metrics["New alerts"]) == triaged and metrics["Open alerts"] == metrics["New alerts"]
    assert not at.get("vega_lite_chart")  # charts are in the analysts' section, run only when opened
    text = _board_text(at)
    assert "nats" not in text and "φ" not in text and "τ" not in text


def test_overview_wards_to_visit_are_the_flagged_wards_in_level_order(app_env, fixture_paths):
    at = app_env("demo-board-member")
    at.run()
    cards = [h.proto.body for h in at.get("html") if 'class="ww-visit"' in h.proto.body]
    shown = [c.split('data-ward="')[1].split('"')[0] for c in cards]
    expected = _expected_ranking(fixture_paths).filter(pl.col("level").is_in(["urgent", "concern"]))
    assert shown == expected["ward_id"].to_list() and shown
    for card, level in zip(cards, expected["level"], strict=True):
        assert f"ww-level-{level}" in card  # the level as a coloured badge with its word
        assert level.capitalize() in card
    reasons = [m.value for m in at.markdown if m.value.startswith("**Why:**")]
    assert len(reasons) == len(shown) and all("**Since last month:**" in r for r in reasons)
    # a board member can brief: one button per ward to visit, which opens the briefing with that ward
    at.button(key=f"brief_{shown[0]}").click().run()
    assert not at.exception
    assert at.title[0].value == "Visit briefing"
    assert at.multiselect(key="brief_wards").value == [shown[0]]


def test_overview_watch_wards_fold_away_with_their_reasons(app_env, fixture_paths):
    at = app_env()
    at.run()
    assert not [d for d in at.dataframe if "Why" in d.value.columns]  # folded: not drawn
    at.session_state["watch_open"] = True
    at.run()
    (watch,) = [d.value for d in at.dataframe if "Why" in d.value.columns]
    expected = _expected_ranking(fixture_paths).filter(pl.col("level") == "watch")
    assert list(watch["ward_id"]) == expected["ward_id"].to_list()
    assert watch["Why"].str.endswith(".").all()


def test_overview_row_selection_opens_that_ward_by_id(app_env, fixture_paths):
    at = app_env()
    at.run()
    ranked = _ranked(at)
    at.session_state["ranked"] = {"selection": {"rows": [2], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    third = ranked["ward_id"].iloc[2]
    assert at.title[0].value == "Ward detail"
    assert at.query_params["ward"] == [third] or at.query_params["ward"] == third
    assert at.header[0].value == ranked["Ward"].iloc[2]


def test_overview_indicator_summary_has_variation_icons(app_env, fixture_paths):
    at = app_env()
    at.run()
    (ipr,) = [d.value for d in at.dataframe if "What the icons say" in d.value.columns]
    assert {"Indicator", "Latest", "Mean", "Variation", "Unit"} <= set(ipr.columns)
    assert "Assurance" not in ipr.columns  # no indicator has a target: the column is not shown
    assert ipr["Variation"].str.startswith("data:image/svg+xml;base64,").all()
    assert ipr["What the icons say"].str.contains("No target set").all()  # the catalogue sets no targets
    series = pl.read_parquet(fixture_paths.results_dir / "series.parquet").filter(
        pl.col("ward_id") == fixture_paths.episode_ward
    )
    assert len(ipr) == series["indicator"].n_unique()
    behind = list(ipr["Behind the level"])
    assert behind == sorted(behind, reverse=True)  # indicators behind the level first


def test_overview_heatmap_and_history_in_the_analysts_section(app_env, fixture_paths):
    at = app_env()
    at.run()
    at.session_state["analysts"] = True
    at.run()
    assert not at.exception
    (analyst,) = [d.value for d in at.dataframe if "Cumulative score (nats)" in d.value.columns]
    assert analyst["ward_id"].iloc[0] == fixture_paths.episode_ward
    at.session_state["ov_tab"] = "Evidence by domain"
    at.run()
    (chart,) = at.get("vega_lite_chart")
    heat = _rows(chart)
    assert {r["domain"] for r in heat} >= {"Restrictive practice", "Staffing", "Voice and oversight"}
    top = pl.read_csv(fixture_paths.results_dir / "ward_status.csv", infer_schema=False).filter(
        (pl.col("ward_id") == fixture_paths.episode_ward) & (pl.col("period") == f"{fixture_paths.as_of}")
    )
    run = json.loads((fixture_paths.results_dir / "run.json").read_text())
    thr = run["config"]["combination"]["concern_threshold"]
    mine = {r["domain"]: r["times"] for r in heat if r["ward"] == f"1. {fixture_paths.episode_ward_name}"}
    assert mine["Staffing"] == pytest.approx(float(top["score_staffing"][0]) / thr)
    spec = _spec(chart)
    assert '"#ffffff"' in json.dumps(spec)  # white at zero
    assert any("Strongest:" in c.value or "No ward has a domain" in c.value for c in at.caption)

    at.session_state["ov_tab"] = "Evidence over the last year"
    at.run()
    (chart,) = at.get("vega_lite_chart")
    hist = _rows(chart)
    wards = {r["ward"] for r in hist}
    assert f"1. {fixture_paths.episode_ward_name}" in wards and len(wards) == 12
    assert len(hist) == 12 * 52  # the last year of weekly evidence of the 12 highest-ranked wards
    assert all(0 <= r["strength"] <= 100 for r in hist)
    assert '"%b %Y"' in json.dumps(_spec(chart))  # "Jan 2024" ticks


def test_overview_filters_by_provider(app_env, fixture_paths):
    at = app_env()
    at.run()
    at.multiselect(key="f_provider").set_value([fixture_paths.provider]).run()
    ranked = _ranked(at)
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


def _ward_page(app_env, ward_id: str, user: str = "demo-quality-director"):  # type: ignore[no-untyped-def]
    at = app_env(user)
    at.query_params["ward"] = ward_id
    at.run()
    at.switch_page("app_pages/ward.py").run()
    assert not at.exception
    return at


def test_ward_page_reads_top_down_with_the_indicators_behind_the_level(app_env, fixture_paths):
    at = _ward_page(app_env, fixture_paths.episode_ward)
    assert at.header[0].value == fixture_paths.episode_ward_name
    html = " ".join(h.proto.body for h in at.get("html"))
    assert f"ww-level-{fixture_paths.episode_level}" in html  # level badge
    assert fixture_paths.episode_explanation[:60] in html  # the why, in a level-coloured box
    assert "ww-callout" in html and not at.info  # never in a blue (improvement) box
    alerts = pl.read_csv(fixture_paths.results_dir / "alerts.csv", infer_schema=False)
    alert = alerts.filter(pl.col("alert_id") == fixture_paths.episode_alert_id).row(0, named=True)
    series = pl.read_parquet(fixture_paths.results_dir / "series.parquet").filter(
        pl.col("ward_id") == fixture_paths.episode_ward
    )
    charts = at.get("vega_lite_chart")
    specs = [json.dumps(_spec(c)) for c in charts]
    mdc = [i for i, sp in enumerate(specs) if '"Rule"' in sp]  # MDC charts carry the rule
    evidence = [i for i, sp in enumerate(specs) if "Evidence (1 = alert)" in sp]
    lead = [k for k in alert["contributing"].split(";") if k][:5]
    assert len(mdc) == len(evidence) == len(lead) >= 1  # only the indicators behind the level
    headings = [m.value for m in at.markdown if m.value.endswith(" · behind the current level")]
    from dashboard.services.formatting import indicator_label

    assert [h.removeprefix("**").split("**")[0].replace("\\", "") for h in headings] == [
        indicator_label(k) for k in lead
    ]
    rows = _rows(charts[mdc[0]])
    want = series.filter(pl.col("indicator") == lead[0])
    # the MDC chart draws the chart that fits the series (weekly, monthly, T or run chart)
    from dashboard.components.charts import ward_charts
    from dashboard.services.results import load_results

    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    fit_want = ward_charts(res, fixture_paths.episode_ward, series)[lead[0]].frame
    assert len(rows) == fit_want.height
    concern = int((fit_want["point_type"] == "special_cause_concern").sum())
    assert sum(r["point_type"] == "special_cause_concern" for r in rows) == concern
    # the cumulative evidence is drawn relative to the threshold: 1 = alert
    ev_rows = [r for r in _rows(charts[evidence[0]]) if "side" in r]
    thr = float(want["cusum_threshold"].drop_nulls()[-1])
    up = want["cusum_up"].fill_nan(None).drop_nulls()
    if up.len():
        got = max(r["value"] for r in ev_rows if r["side"] == "Evidence of a rise")
        assert got == pytest.approx(float(up.max()) / thr)
    # the other indicators are folded by domain and drawn only when opened
    labels = [e.label for e in at.expander]
    assert any(lab.startswith("Staffing (") or lab.startswith("Voice and oversight (") for lab in labels)
    text = _board_text(at)
    assert "nats" not in text and "φ" not in text and "τ" not in text
    assert "manager_change" not in text


def test_ward_deep_link_by_id_and_picker_keep_the_id_in_the_url(app_env, fixture_paths):
    ranked = _expected_ranking(fixture_paths)
    other = ranked["ward_id"][3]
    at = _ward_page(app_env, other)
    names = dict(
        pl.read_csv(fixture_paths.data_dir / "wards.csv", infer_schema=False)
        .select("ward_id", "ward_name")
        .iter_rows()
    )
    assert at.header[0].value == names[other]
    assert at.selectbox(key="ward_pick").value == other
    at.selectbox(key="ward_pick").set_value(fixture_paths.episode_ward).run()
    assert at.header[0].value == fixture_paths.episode_ward_name
    assert at.query_params["ward"] in (fixture_paths.episode_ward, [fixture_paths.episode_ward])
    unknown = _ward_page(app_env, "W9999")
    assert any("No ward with id W9999" in w.value for w in unknown.warning)
    assert unknown.header[0].value == fixture_paths.episode_ward_name


def test_ward_page_analysts_section_has_cusum_and_funnel(app_env, fixture_paths):
    at = _ward_page(app_env, fixture_paths.episode_ward)
    at.session_state["ward_analysts"] = True
    at.run()
    assert not at.exception
    captions = " ".join(c.value.replace("\\", "") for c in at.caption)
    assert "CUSUM: threshold" in captions and "peer wards of the same type" in captions
    specs = [json.dumps(_spec(c)) for c in at.get("vega_lite_chart")]
    charts = at.get("vega_lite_chart")
    j = next(i for i, sp in enumerate(specs) if "Exposure (" in sp)
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
