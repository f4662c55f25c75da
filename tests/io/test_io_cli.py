"""``wardwatch validate`` exit codes 0 / 1 / 2 and the rejects file."""

from pathlib import Path

import polars as pl
import pytest

from engine.cli import main

BAD = Path(__file__).parents[1] / "data" / "bad"


def test_all_accepted_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", str(BAD / "obs_ok.csv"), "--wards", str(BAD / "wards.csv")])
    out = capsys.readouterr().out
    assert code == 0
    assert "all rows accepted" in out
    assert "restraint" in out and "weekly" in out


def test_some_rejected_exits_1_and_writes_rejects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rejects = tmp_path / "sub" / "rejects.csv"
    code = main(
        [
            "validate",
            str(BAD / "obs_duplicate.csv"),
            "--wards",
            str(BAD / "wards_duplicate_ward.csv"),
            "--events",
            str(BAD / "events.csv"),
            "--rejects",
            str(rejects),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "Rejected rows by reason" in out and "unknown_ward" in out
    table = pl.read_csv(rejects)
    assert table.columns == ["file", "line", "column", "value", "code", "reason", "raw"]
    assert table.height > 0
    assert set(table["code"]) >= {"duplicate_ward", "unknown_ward"}


def test_fatal_exits_2_one_line_no_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", str(BAD / "fatal_nhs_number.csv"), "--wards", str(BAD / "wards.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert "NHS numbers" in err and "Traceback" not in err


def test_import_mhsds_missing_folder_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["import-mhsds", str(tmp_path / "nope"), "--out", str(tmp_path / "out")])
    assert code == 2
    assert "folder not found" in capsys.readouterr().err
