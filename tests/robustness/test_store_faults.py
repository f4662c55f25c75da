"""Store faults end in one line and exit 2: locked, read-only, corrupted, newer schema (see also the
corpus); nothing is written to a store that cannot be used."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from corpus import WARDS_CSV, clean_obs

from engine.cli import main
from engine.store import TriageStore
from engine.store.connection import StoreFaultError, fault


def _files(tmp_path: Path) -> list[str]:
    (tmp_path / "o.csv").write_text(clean_obs())
    (tmp_path / "w.csv").write_text(WARDS_CSV)
    return ["--observations", str(tmp_path / "o.csv"), "--wards", str(tmp_path / "w.csv")]


def test_locked_store_is_refused_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "s.db"
    TriageStore(store)
    (tmp_path / "c.toml").write_text("[store]\nbusy_timeout_ms = 200\n")
    holder = sqlite3.connect(store, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process in the middle of a long write
    try:
        argv = ["score", *_files(tmp_path), "--out", str(tmp_path / "r"), "--no-charts"]
        code = main([*argv, "--store", str(store), "--config", str(tmp_path / "c.toml")])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert "locked by another process" in err.strip().splitlines()[-1]


def test_read_only_store_error_is_named(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    TriageStore(store)
    conn = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    with pytest.raises(sqlite3.OperationalError) as info:
        conn.execute("CREATE TABLE x (y)")
    conn.close()
    message = str(fault(store, info.value))
    assert "read-only" in message and str(store) in message and "\n" not in message


def test_corrupted_store_is_refused_before_scoring(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "s.db"
    store.write_bytes(b"SQLite format 3\x00" + b"\x13" * 4000)
    out = tmp_path / "r"
    code = main(["score", *_files(tmp_path), "--out", str(out), "--no-charts", "--store", str(store)])
    err = capsys.readouterr().err
    assert code == 2
    assert "corrupted" in err and "Traceback" not in err
    assert not out.exists()  # refused before any result was written


def test_newer_schema_store_is_refused_before_scoring(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = tmp_path / "s.db"
    TriageStore(store)
    conn = sqlite3.connect(store)
    conn.execute("PRAGMA user_version = 999")
    conn.commit()
    conn.close()
    out = tmp_path / "r"
    code = main(["score", *_files(tmp_path), "--out", str(out), "--no-charts", "--store", str(store)])
    err = capsys.readouterr().err
    assert code == 2
    assert "newer than this wardwatch" in err
    assert not out.exists()


def test_store_fault_is_a_store_error() -> None:
    assert issubclass(StoreFaultError, Exception)
    assert "locked" in str(fault(Path("x.db"), sqlite3.OperationalError("database is locked")))
