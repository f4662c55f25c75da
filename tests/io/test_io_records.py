"""Physical records counted by our own scanner: stray quotes refused at the line they opened, CR-only
files, lone CRs inside values, and results that never depend on unrelated lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from engine.io import FatalInputError, read_events, read_observations
from engine.io.records import RecordError, scan_records

HEADER = "ward_id,period,indicator,numerator,denominator\n"
ROWS = [f"W1,2024-{m:02d}-01,restraint,{m},120\n" for m in range(1, 10)]


def _scan(text: str) -> list[int]:
    return scan_records(np.frombuffer(text.encode(), dtype=np.uint8)).lines.tolist()


def test_records_and_their_lines() -> None:
    assert _scan("a,b\n1,2\n\n3,4\n") == [2, 4]
    assert _scan("a,b\r\n1,2\r\n,\r\n3,4") == [2, 4]  # CRLF, a line of commas, no final line end
    assert _scan('a,b\n1,"x\ny"\n3,4\n') == [2, 4]  # a clean quoted line break
    assert _scan("a,b\r1,2\r3,4\r") == [2, 3]  # CR-only
    assert _scan("a,b\n1,13\r9\n3,4\n") == [2, 3]  # a lone CR is data in a LF file
    assert _scan("a,b\n1,2,3,4\n") == [2]  # longer than the header: a row (rejected later)
    assert _scan('a,b\n1,x"y\n') == [2]  # a quote inside a field is an ordinary character


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('a,b\n1,2\n3,"4\n5,6\n', 3, "never closes"),
        ('a,b\n1,"2\n3,4"x\n', 2, "closes mid-field"),
        ('a,b\n1,"2\n3",4,5\n', 2, "wrong number of fields"),
    ],
)
def test_stray_quotes_are_refused_at_the_line_they_opened(text: str, line: int, words: str) -> None:
    with pytest.raises(RecordError) as info:
        _scan(text)
    assert info.value.line == line
    assert words in str(info.value)


def test_stray_quote_in_an_event_note_refuses_the_file(tmp_path: Path) -> None:
    f = tmp_path / "events.csv"
    f.write_text(
        'ward_id,date,kind,note\nW1,2024-01-01,note,"Staff said ""fine\n'
        "W1,2024-02-05,rebase,\nW1,2024-03-04,reconfiguration,x\n"
    )
    with pytest.raises(FatalInputError, match="line 2: a '\"' opens a quoted field that never closes"):
        read_events(f)


def test_stray_quote_on_line_5_of_199_rows_is_refused(tmp_path: Path) -> None:
    lines = [HEADER] + [f"W{i},2024-01-01,restraint,1,120\n" for i in range(199)]
    lines[5] = 'W5,2024-01-01,restraint,"1,120\n'
    f = tmp_path / "o.csv"
    f.write_text("".join(lines))
    with pytest.raises(FatalInputError, match="line 6"):
        read_observations(f)


def test_cr_only_file_reads_every_row(tmp_path: Path) -> None:
    f = tmp_path / "o.csv"
    f.write_text((HEADER + "".join(ROWS)).replace("\n", "\r"))
    res = read_observations(f)
    assert res.rows_read == len(ROWS) and res.rejected.height == 0


@pytest.mark.parametrize(
    "weird",
    [
        "W1,2024-10-01,restraint,13\r9,120\n",
        'W1,2024-10-01,restraint,"13",120\n',
        'W1,2024-10-01,rest"raint,13,120\n',
        'W1,2024-10-01,"restraint",1"3,120\n',
        "W1,2024-10-01,restraint, 13 ,120\n",
    ],
)
def test_a_rows_fate_never_depends_on_unrelated_lines(tmp_path: Path, weird: str) -> None:
    """The same row read beside well-formed rows, or beside a row with extra fields (which sends
    the file down the slow parser), gets the same value and the same verdict."""
    plain, ragged = tmp_path / "a.csv", tmp_path / "b.csv"
    plain.write_text(HEADER + "".join(ROWS) + weird)
    ragged.write_text(HEADER + "".join(ROWS) + weird + "W1,2024-11-01,restraint,1,120,extra\n")
    a, b = read_observations(plain), read_observations(ragged)
    key = pl.col("period") == pl.date(2024, 10, 1)
    assert a.observations.filter(key).rows() == b.observations.filter(key).rows()
    line = len(ROWS) + 2
    ra = a.rejected.filter(pl.col("line") == line).select("code", "value").rows()
    rb = b.rejected.filter(pl.col("line") == line).select("code", "value").rows()
    assert ra == rb
    assert b.rejected.filter(pl.col("line") == line + 1)["code"].to_list() == ["wrong_field_count"]
    assert a.rows_read == len(ROWS) + 1 and b.rows_read == len(ROWS) + 2
