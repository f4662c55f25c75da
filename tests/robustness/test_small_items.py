"""The issue's smaller items, one test each: score's exit code, the user's own rejected.csv, formula
escaping in every CSV output, truth without group_id, UTF-16 named, a monthly row among weekly rows."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from corpus import WARDS_CSV, clean_obs, with_row

from engine.cli import main
from engine.evaluate.truth import read_truth
from engine.io import FatalInputError, read_observations


def _files(tmp_path: Path, obs: str) -> list[str]:
    (tmp_path / "o.csv").write_text(obs)
    (tmp_path / "w.csv").write_text(WARDS_CSV)
    return ["--observations", str(tmp_path / "o.csv"), "--wards", str(tmp_path / "w.csv")]


def test_score_exits_1_when_rows_were_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = with_row(4, "W1,2024-01-15,restrant,2,120")
    assert main(["score", *_files(tmp_path, bad), "--out", str(tmp_path / "r"), "--no-charts"]) == 1
    out = capsys.readouterr().out
    assert "1 input row(s) were rejected" in out
    assert (tmp_path / "r" / "rejected.csv").exists()  # the accepted rows were still scored and written
    assert (tmp_path / "r" / "ward_status.csv").exists()
    assert main(["score", *_files(tmp_path, clean_obs()), "--out", str(tmp_path / "r"), "--no-charts"]) == 0
    assert not (tmp_path / "r" / "rejected.csv").exists()  # our stale list is removed


def test_a_rejected_csv_of_the_users_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "r"
    out.mkdir()
    mine = out / "rejected.csv"
    mine.write_text("my,own,notes\n1,2,3\n")
    assert main(["score", *_files(tmp_path, clean_obs()), "--out", str(out), "--no-charts"]) == 0
    assert mine.read_text() == "my,own,notes\n1,2,3\n"


FORMULA = '=HYPERLINK("http://x","y")'


def _cells(path: Path) -> list[str]:
    return [c for row in csv.reader(io.StringIO(path.read_text())) for c in row]


def test_validate_rejects_and_results_rejected_escape_formulas(tmp_path: Path) -> None:
    bad = with_row(4, f'"{FORMULA.replace(chr(34), chr(34) * 2)}",2024-01-15,restraint,2,120')
    files = _files(tmp_path, bad)
    rejects = tmp_path / "rejects.csv"
    assert main(["validate", files[1], "--wards", files[3], "--rejects", str(rejects)]) == 1
    cells = _cells(rejects)
    assert "'" + FORMULA in cells and FORMULA not in cells
    assert main(["score", *files, "--out", str(tmp_path / "r"), "--no-charts"]) == 1
    cells = _cells(tmp_path / "r" / "rejected.csv")
    assert not [c for c in cells if c[:1] in "=+-@"]


def test_alerts_csv_escapes_formulas() -> None:
    from engine.cli.alerts_cmd import _safe_cell

    assert _safe_cell("=1+1") == "'=1+1"
    assert _safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert _safe_cell("-2") == "'-2"
    assert _safe_cell(-2) == -2  # numbers stay numbers
    assert _safe_cell(None) == ""
    assert _safe_cell("ward 1") == "ward 1"


def test_truth_without_group_id_is_accepted(tmp_path: Path) -> None:
    f = tmp_path / "truth.csv"
    f.write_text(
        "episode_id,ward_id,kind,onset,full_effect,end\nE1,W1,closed_culture,2024-01-01,2024-02-01,\n"
    )
    truth = read_truth(f)
    assert truth["group_id"].to_list() == ["E1"]


def test_utf16_is_named_not_called_binary(tmp_path: Path) -> None:
    f = tmp_path / "o.csv"
    f.write_bytes(clean_obs().encode("utf-16"))
    with pytest.raises(FatalInputError, match="UTF-16"):
        read_observations(f)


def test_one_monthly_row_among_weekly_rows_is_rejected_not_taken_as_weekly(tmp_path: Path) -> None:
    f = tmp_path / "o.csv"
    f.write_text(with_row(4, "W1,2024-02-01,restraint,2,120"))  # a Thursday, first of the month
    res = read_observations(f)
    assert res.cadence["restraint"] == "weekly"
    assert res.rejected.select("line", "code").rows() == [(6, "not_aligned")]


def test_a_period_beyond_the_window_never_extends_the_calendar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = with_row(4, "W1,2204-01-05,restraint,2,120")
    assert main(["score", *_files(tmp_path, bad), "--out", str(tmp_path / "r"), "--no-charts"]) == 1
    out = capsys.readouterr().out
    assert "up to 2024-07-22" in out  # the last real week, not 2204
    import polars as pl

    status = pl.read_csv(tmp_path / "r" / "ward_status.csv")
    assert status["period"].max() == "2024-07-22"
    assert (status["level"] == "watch").sum() < status.height  # not every ward at watch
