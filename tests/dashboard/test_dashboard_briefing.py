"""Briefing rendering, PDF text, escaping of hostile user text, Excel-safe CSV, and the CLIs."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pypdf
import pytest

from dashboard.services.briefing import build_briefing, render_briefing, render_html
from dashboard.services.formatting import safe_csv
from dashboard.services.results import load_results
from dashboard.services.triage import open_store, sync_results
from engine.cli import main as cli_main


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _pdf_text(data: bytes | Path) -> str:
    import io

    reader = pypdf.PdfReader(io.BytesIO(data) if isinstance(data, bytes) else str(data))
    return _flat(" ".join(p.extract_text() for p in reader.pages))


def test_briefing_pdf_has_ward_name_explanation_and_one_page_per_ward(fixture_paths):
    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    other = next(w for w in res.latest["ward_id"] if w != fixture_paths.episode_ward)
    wards = [fixture_paths.episode_ward, other]
    visit = fixture_paths.as_of - dt.timedelta(weeks=8)
    out = render_briefing(res, wards, last_visit=visit)
    assert out.pdf is not None and out.pdf.startswith(b"%PDF")
    reader = pypdf.PdfReader(__import__("io").BytesIO(out.pdf))
    assert len(reader.pages) == 2
    first = _flat(reader.pages[0].extract_text())
    assert fixture_paths.episode_ward_name in first
    assert _flat(fixture_paths.episode_explanation) in first
    assert "Questions to ask" in first and "Notes from the visit" in first
    assert f"What has changed since the last visit on {visit:%d/%m/%Y}" in first
    assert res.ward_name(other) in _flat(reader.pages[1].extract_text())
    # charts are embedded as vector SVG images with their axis text (fonts resolved)
    assert out.html.count('<img class="chart"') >= 2 and f"{fixture_paths.as_of:%b %Y}" in first
    assert out.pages == 2


def test_briefing_lists_changes_and_store_notes(fixture_paths, tmp_path):
    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    store = open_store(tmp_path / "t.db")
    sync_results(store, res)
    store.add_note(fixture_paths.episode_alert_id, "q.director", "Visited; restraint log reviewed.")
    visit = fixture_paths.episode_opened - dt.timedelta(weeks=4)
    b = build_briefing(res, fixture_paths.episode_ward, last_visit=visit, store=store)
    opened = f"New {fixture_paths.episode_level} alert opened {fixture_paths.episode_opened:%d/%m/%Y}"
    assert any(c.startswith(opened) for c in b.changes)
    assert any(c.startswith("Level changed from") for c in b.changes)
    assert b.notes and b.notes[0].text == "Visited; restraint log reviewed."
    # the note carries its alert's triage status and owner; times are UK local time
    assert b.notes[0].about == "Ward alert" and b.notes[0].status == "new, not yet acknowledged"
    assert b.notes[0].owner == "nobody yet" and b.notes[0].when.endswith(("GMT", "BST"))
    assert b.triage and b.triage[0].startswith("Ward alert (")
    assert b.questions and all(q.endswith("?") for q in b.questions)


def test_hostile_text_is_escaped_in_briefing_and_pdf_shows_it_literally(hostile_paths, tmp_path):
    res = load_results(hostile_paths.results_dir, hostile_paths.data_dir)
    store = open_store(tmp_path / "t.db")
    sync_results(store, res)
    store.add_note(hostile_paths.episode_alert_id, "<b>mallory</b>", '=HYPERLINK("http://evil.example","x")')
    visit = hostile_paths.as_of - dt.timedelta(weeks=8)
    out = render_briefing(res, [hostile_paths.episode_ward], last_visit=visit, store=store)
    assert "<script>alert(1)</script>" not in out.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out.html
    assert "<b>mallory</b>" not in out.html and "&lt;b&gt;mallory&lt;/b&gt;" in out.html
    text = _pdf_text(out.pdf)
    assert "<script>alert(1)</script>" in text  # shown as text, never run


def test_render_html_escapes_every_user_field():
    from dashboard.services.briefing import BriefingNote, WardBriefing

    evil = '<img src=x onerror="alert(1)">'
    b = WardBriefing(
        ward_id=evil,
        ward_name=evil,
        provider=evil,
        ward_type_label=evil,
        level="concern",
        level_word="Concern",
        status_text=evil,
        explanation=evil,
        as_of_text="",
        since_text=evil,
        changes=(evil,),
        questions=(evil,),
        notes=(BriefingNote(evil, evil, evil),),
    )
    html = render_html([b])
    assert "<img" not in html and html.count("&lt;img src=x onerror=&#34;alert(1)&#34;&gt;") >= 9


def test_safe_csv_neutralises_formulas_and_keeps_numbers():
    frame = pl.DataFrame(
        {
            "ward": ['=HYPERLINK("http://evil","x")', "+1", "-2", "@SUM(A1)", "\tx", "\rx", "Cedar"],
            "n": [1, 2, 3, 4, 5, 6, -7],
            "d": [dt.date(2024, 1, 2)] * 7,
        }
    )
    text = safe_csv(frame).decode()
    lines = text.splitlines()
    assert lines[1].startswith("\"'=HYPERLINK(")
    assert lines[2].startswith("'+1,2,02/01/2024")
    assert "'-2" in text and "'@SUM(A1)" in text and "Cedar,-7,02/01/2024" in text


def test_no_page_uses_unsafe_html():
    root = Path(__file__).resolve().parents[2] / "dashboard"
    offenders = [p for p in root.rglob("*.py") if "unsafe_allow_html=True" in p.read_text()]
    assert offenders == []


def test_cli_brief_writes_pdf_and_html(fixture_paths, tmp_path, capsys):
    pdf, html = tmp_path / "b.pdf", tmp_path / "b.html"
    code = cli_main(
        ["brief", "--results", str(fixture_paths.results_dir), "--ward", fixture_paths.episode_ward,
         "--out", str(pdf), "--html", str(html), "--last-visit", f"{fixture_paths.episode_opened:%d/%m/%Y}"]
    )  # fmt: skip
    assert code == 0
    text = _pdf_text(pdf)
    assert fixture_paths.episode_ward_name in text and _flat(fixture_paths.episode_explanation) in text
    assert fixture_paths.episode_ward_name in html.read_text()


def test_cli_brief_unknown_ward_is_a_clear_error(fixture_paths, tmp_path, capsys):
    code = cli_main(
        [
            "brief",
            "--results",
            str(fixture_paths.results_dir),
            "--ward",
            "W003",
            "--out",
            str(tmp_path / "x.pdf"),
        ]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "ward 'W003' is not in" in err and "did you mean" in err


def test_cli_dashboard_refuses_missing_results(tmp_path, capsys):
    assert cli_main(["dashboard", "--data", str(tmp_path)]) == 2
    assert "no results in" in capsys.readouterr().err


def test_cli_dashboard_command_line_is_headless_and_private():
    import argparse

    from dashboard.cli_dashboard import streamlit_command

    cmd = streamlit_command(argparse.Namespace(port=8765, address="127.0.0.1"))
    assert "--server.headless=true" in cmd and "--browser.gatherUsageStats=false" in cmd
    assert "--server.port=8765" in cmd and cmd[-1].startswith("--theme.")
    assert cmd[1] == "-P" and cmd[5].endswith("dashboard/streamlit_app.py")


@pytest.mark.parametrize("missing", ["weasyprint"])
def test_briefing_falls_back_to_html_when_weasyprint_is_missing(fixture_paths, monkeypatch, missing):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *a, **k):  # type: ignore[no-untyped-def]
        if name == missing:
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    out = render_briefing(res, [fixture_paths.episode_ward])
    assert out.pdf is None and "PDF output is unavailable" in out.note
    assert "PDF output is unavailable" in out.html and fixture_paths.episode_ward_name in out.html


def test_briefing_handles_nan_rates_from_the_engine(fixture_paths, tmp_path):
    """The scoring engine writes NaN (not null) for unobserved rates; static export needs valid JSON."""
    import shutil

    data = tmp_path / "data"
    shutil.copytree(fixture_paths.data_dir, data)
    sp = data / "results" / "series.parquet"
    s = pl.read_parquet(sp).with_columns(
        pl.col("rate").fill_null(float("nan")), pl.col("chart_mean").fill_null(float("nan"))
    )
    s = s.with_columns(
        pl.when(pl.col("period").dt.month() == 3).then(float("nan")).otherwise(pl.col("rate")).alias("rate")
    )
    s.write_parquet(sp)
    res = load_results(data / "results", data)
    out = render_briefing(res, [fixture_paths.episode_ward])
    assert out.pdf is not None and fixture_paths.episode_ward_name in _pdf_text(out.pdf)


def test_one_page_per_ward_even_with_long_notes(fixture_paths, tmp_path):
    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    store = open_store(tmp_path / "t.db")
    sync_results(store, res)
    long_note = "Reviewed the restraint log with the ward manager and the matron on duty; " * 12
    for i in range(9):
        store.add_note(fixture_paths.episode_alert_id, "q.director", f"{long_note} ({i})")
    wards = res.latest["ward_id"].to_list()[:3]
    out = render_briefing(res, wards, store=store)
    reader = pypdf.PdfReader(__import__("io").BytesIO(out.pdf))
    assert len(reader.pages) == len(wards) == out.pages
    page = _flat(reader.pages[wards.index(fixture_paths.episode_ward)].extract_text())
    assert "more notes in the inbox" in page and "Notes from the visit" in page
    assert "…" in page  # long notes are cut, never spill


def test_questions_follow_the_indicators_named_in_the_why(fixture_paths):
    from dashboard.services.briefing import why_indicators
    from signals import CATALOGUE

    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    for ward_id in res.latest.filter(pl.col("level") != "none")["ward_id"].to_list()[:5]:
        b = build_briefing(res, ward_id)
        why = why_indicators(res.ward_explanation(ward_id), [])
        if not why:
            continue
        asked = {q for key in why for q in CATALOGUE[key].questions}
        assert b.questions and set(b.questions) <= asked, (ward_id, why, b.questions)
        assert b.questions[0] == CATALOGUE[why[0]].questions[0]
        # every indicator named in the why is found, in the order the why names them
        text = res.ward_explanation(ward_id)
        positions = [text.find(CATALOGUE[k].label) for k in why]
        assert positions == sorted(positions) and min(positions) >= 0


def test_why_indicators_reads_labels_not_substrings():
    from dashboard.services.briefing import why_indicators

    text = (
        "Urgent concern: the ward shows evidence in voice and oversight. Family and carer visits has averaged "
        "4.0 against a usual 9.0. Advocacy visits has averaged 1.0. Hours in seclusion or segregation has "
        "risen; Incidents reported has fallen."
    )
    assert why_indicators(text, ["x"]) == [
        "family_visits", "advocacy_visits", "seclusion_hours", "incidents_reported",
    ]  # fmt: skip
    assert why_indicators("", ["restraint"]) == ["restraint"]


def test_briefing_grammar_uk_time_and_no_jargon(fixture_paths):
    from dashboard.services.briefing import uk_local_time

    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    out = render_briefing(res, [fixture_paths.episode_ward], pdf=False)
    text = _flat(re.sub(r"<[^>]+>", " ", out.html))
    level = fixture_paths.episode_level.capitalize()
    assert f"{level} {level}" not in text and "nats" not in text
    assert re.search(r"printed \d\d/\d\d/\d{4} \d\d:\d\d (GMT|BST)", text)
    assert uk_local_time("2024-07-01T12:00:00Z") == "01/07/2024 13:00 BST"
    assert uk_local_time("2024-01-15T12:00:00Z") == "15/01/2024 12:00 GMT"


def test_briefing_charts_are_the_dashboard_charts(fixture_paths):
    from dashboard.components.charts import ward_charts
    from dashboard.services.formatting import indicator_label
    from dashboard.services.results import ward_series

    res = load_results(fixture_paths.results_dir, fixture_paths.data_dir)
    b = build_briefing(res, fixture_paths.episode_ward)
    fitted = ward_charts(res, fixture_paths.episode_ward, ward_series(res, fixture_paths.episode_ward))
    kinds = {indicator_label(k): fc.kind for k, fc in fitted.items()}
    assert b.charts and b.why_indicators
    assert [c.kind for c in b.charts] == [kinds[c.title] for c in b.charts]
    # the charts are of the indicators the why names, first
    assert b.charts[0].title == indicator_label(b.why_indicators[0])
