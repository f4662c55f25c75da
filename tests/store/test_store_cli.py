"""``wardwatch alerts`` through ``engine.cli.main``: output, transitions and exit codes."""

from __future__ import annotations

import csv
import io

import pytest

from engine.cli import main
from engine.store import TriageStore


@pytest.fixture
def db(store, record, db_path):
    store.upsert_alerts([record(i) for i in range(4)], scored_at="2026-03-02T06:00:00Z")
    return str(db_path)


def run(capsys, *argv):
    code = main(["alerts", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_is_a_table_with_filters(capsys, db):
    code, out, _ = run(capsys, "list", "--store", db)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:6] == ["alert_id", "ward", "scope", "indicator", "level", "status"]
    assert {ln.split()[0] for ln in lines[2:6]} == {f"A{i:06d}" for i in range(4)}
    assert "4 alert(s)" in out
    code, out, _ = run(capsys, "list", "--store", db, "--ward", "W01", "--status", "new")
    assert code == 0 and "A000001" in out and "A000002" not in out
    code, out, _ = run(capsys, "list", "--store", db, "--status", "closed")
    assert (code, out.strip()) == (0, "no alerts match")


def test_list_csv_round_trips_every_field(capsys, db):
    code, out, _ = run(capsys, "list", "--store", db, "--format", "csv", "--scope", "ward")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and {r["alert_id"] for r in rows} == {"A000000", "A000002"}
    assert rows[0]["explanation"].startswith("Alert ") and rows[0]["version"] == "1"


def test_lifecycle_through_the_cli(capsys, db):
    assert run(capsys, "ack", "A000000", "--store", db, "--actor", "alice")[0] == 0
    code, out, _ = run(
        capsys, "investigate", "A000000", "--store", db, "--actor", "alice", "--assignee", "bob"
    )
    assert code == 0 and "investigating" in out and "version 3" in out
    code, out, _ = run(
        capsys, "note", "A000000", "--store", db, "--author", "bob", "--text", "Called <ward>."
    )
    assert code == 0 and "note #1" in out
    code, out, _ = run(
        capsys, "close", "A000000", "--store", db, "--actor", "bob", "--outcome", "action_taken",
        "--note", "Staffing fixed.", "--expect-version", "3",
    )  # fmt: skip
    assert code == 0 and "A000000: closed as action_taken by bob; status closed, version 4" in out
    d = TriageStore(db).get("A000000")
    assert (d.alert.status, d.alert.outcome, d.alert.assignee) == ("closed", "action_taken", "bob")
    assert [n.text for n in d.notes] == ["Called <ward>.", "Staffing fixed."]
    code, out, _ = run(
        capsys, "reopen", "A000000", "--store", db, "--actor", "carol", "--reason", "Second complaint"
    )
    assert code == 0 and TriageStore(db).get("A000000").alert.status == "new"
    assert "reopened (now new) by carol" in out
    code, out, _ = run(capsys, "assign", "A000001", "--store", db, "--actor", "lead", "--assignee", "dan")
    assert (code, out.strip()) == (0, "A000001: assigned to dan by lead; status new, version 2")
    code, out, _ = run(capsys, "assign", "A000001", "--store", db, "--actor", "lead", "--assignee", "")
    assert code == 0 and "A000001: unassigned by lead" in out and "new by" not in out
    assert TriageStore(db).get("A000001").alert.assignee is None
    code, out, _ = run(capsys, "list", "--store", db, "--unassigned", "--ward", "W01")
    assert "A000001" in out
    TriageStore(db).assign("A000003", "lead", "dan", 1)
    code, out, _ = run(capsys, "list", "--store", db, "--assignee", "dan")
    assert "A000003" in out and "A000001" not in out


def test_show_lists_one_evidence_row_per_run_in_time_order(capsys, db, record):
    store = TriageStore(db)
    later = record(2, statistic=9.9)
    store.upsert_alerts([later], scored_at="2026-03-09T06:00:00Z")
    store.upsert_alerts([later], scored_at="2026-03-09T06:00:00Z")  # the dashboard re-syncs the same run
    store.upsert_alerts([later], scored_at="2026-03-05T06:00:00Z")  # an older sync of the same results
    code, out, _ = run(capsys, "show", "A000002", "--store", db)
    assert code == 0 and "Evidence (2 scoring run(s)" in out
    first = next(ln for ln in out.splitlines() if ln.startswith("first scored:")).split()[-1]
    last = next(ln for ln in out.splitlines() if ln.startswith("last scored:")).split()[-1]
    assert first <= last == "2026-03-09T06:00:00.000000Z"


def test_close_ended_closes_untriaged_ended_alerts_in_bulk(capsys, db, record):
    import datetime as dt

    store = TriageStore(db)
    r = record(1)
    ended = record(1, closed=r.opened + dt.timedelta(weeks=4), last_seen=r.opened + dt.timedelta(weeks=4))
    store.upsert_alerts([ended, record(0, last_seen=r.opened + dt.timedelta(weeks=20))])
    code, out, _ = run(
        capsys, "close-ended", "--store", db, "--actor", "qd", "--note", "Old news.", "--dry-run"
    )
    assert code == 0 and out.startswith("1 alert(s) ended more than 28 days")
    code, out, _ = run(capsys, "close-ended", "--store", db, "--actor", "qd", "--note", "Old news.")
    assert code == 0 and "closed 1 alert(s) as ended before triage" in out
    a = store.get("A000001")
    assert (a.alert.status, a.alert.outcome, a.notes[-1].text) == (
        "closed",
        "ended_before_triage",
        "Old news.",
    )


def test_list_piped_into_head_ends_quietly(db):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    store = TriageStore(db)
    store.upsert_alerts(_many(3000))
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.run(
        f"{sys.executable} -m engine.cli alerts list --store {db} | head -2; exit ${{PIPESTATUS[0]}}",
        shell=True, executable="/bin/bash", capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0 and proc.stderr == "" and len(proc.stdout.splitlines()) == 2


def _many(n: int):
    from store_workers import make_record

    return [make_record(i, prefix="M") for i in range(n)]


def test_show_prints_evidence_notes_and_audit_with_control_characters_escaped(capsys, db):
    TriageStore(db).add_note("A000002", "eve", "line one\nline two \x1b[31mred\x1b[0m <b>bold</b>")
    code, out, _ = run(capsys, "show", "A000002", "--store", db)
    assert code == 0
    for text in (
        "alert:",
        "A000002",
        "Explanation:",
        "Evidence (1",
        "Notes (1)",
        "Audit log (2)",
        "note_added",
    ):
        assert text in out
    assert "line one\n    line two \\x1b[31mred\\x1b[0m <b>bold</b>" in out
    assert "\x1b" not in out
    assert TriageStore(db).get("A000002").notes[0].text.count("\x1b") == 2  # stored verbatim


def test_note_text_from_stdin(capsys, db, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("typed at length\nover lines\n"))
    assert run(capsys, "note", "A000003", "--store", db, "--author", "f", "--text", "-")[0] == 0
    assert TriageStore(db).get("A000003").notes[0].text == "typed at length\nover lines\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["show", "NOPE"], "unknown alert 'NOPE'"),
        (["ack", "NOPE", "--actor", "a"], "unknown alert"),
        (["note", "NOPE", "--author", "a", "--text", "t"], "unknown alert"),
        (
            ["close", "A000000", "--actor", "a", "--outcome", "no_concern"],
            "cannot move an alert from new to closed",
        ),
        (["ack", "A000000", "--actor", "a", "--expect-version", "7"], "stale write"),
        (["reopen", "A000000", "--actor", "a", "--reason", "r"], "only a closed or historical alert"),
        (["note", "A000000", "--author", "a", "--text", ""], "must not be empty"),
    ],
)
def test_errors_exit_2_with_one_line(capsys, db, argv, message):
    before = TriageStore(db).get("A000000")
    code, out, err = run(capsys, *argv[:2], "--store", db, *argv[2:])
    assert code == 2 and out == ""
    assert err.startswith("wardwatch alerts: error: ") and message in err and err.count("\n") == 1
    assert TriageStore(db).get("A000000") == before


def test_missing_store_is_an_error_not_a_new_file(capsys, tmp_path, monkeypatch):
    code, _, err = run(capsys, "list", "--store", str(tmp_path / "none.db"))
    assert code == 2 and "no triage store" in err
    assert not (tmp_path / "none.db").exists()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WARDWATCH_STORE", raising=False)
    code, _, err = run(capsys, "list")
    assert code == 2 and ".wardwatch/triage.db" in err


def test_store_path_from_environment(capsys, db, monkeypatch):
    monkeypatch.setenv("WARDWATCH_STORE", db)
    code, out, _ = run(capsys, "list")
    assert code == 0 and "4 alert(s)" in out


def test_bad_usage_exits_2(capsys, db):
    with pytest.raises(SystemExit) as info:
        main(["alerts", "close", "A000000", "--store", db, "--actor", "a", "--outcome", "fine"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["alerts"])
    assert info.value.code == 2


def test_summary_prints_the_inbox_counts(capsys, db):
    code, out, _ = run(capsys, "summary", "--store", db)
    assert code == 0 and out.startswith("inbox: ") and "(4 alerts stored in all)" in out
