"""Every rejection reason, on hand-written bad files: the right row, line, column and reason."""

from pathlib import Path

import polars as pl
import pytest

from engine.io import REASONS, load_dataset, read_events, read_wards
from engine.panel import OBSERVATION_SCHEMA

BAD = Path(__file__).parents[1] / "data" / "bad"

# file -> [(line, column, code, words in the reason)]
OBSERVATION_CASES = {
    "obs_unknown_indicator.csv": [(3, "indicator", "unknown_indicator", "did you mean 'restraint'")],
    "obs_unknown_ward.csv": [(3, "ward_id", "unknown_ward", "'W9' is not in the ward register")],
    "obs_unparseable_date.csv": [(3, "period", "unparseable_date", "'2024-02-30' is not a date")],
    "obs_unparseable_number.csv": [(3, "numerator", "unparseable_number", "'two' is not a number")],
    "obs_negative_count.csv": [(3, "numerator", "negative_count", "-3 is negative")],
    "obs_missing_denominator.csv": [(3, "denominator", "missing_denominator", "needs a denominator")],
    "obs_bad_denominator.csv": [(3, "denominator", "bad_denominator", "greater than zero")],
    "obs_numerator_exceeds_denominator.csv": [
        (3, "numerator", "numerator_exceeds_denominator", "150 is larger than denominator 140")
    ],
    "obs_non_integer_count.csv": [(3, "numerator", "non_integer_count", "2.5 is not a whole number")],
    "obs_duplicate.csv": [
        (3, "(row)", "duplicate", "lines 3, 5"),
        (5, "(row)", "duplicate", "never summed"),
    ],
    "obs_not_aligned.csv": [(4, "period", "not_aligned", "is a Tuesday but 'restraint' is weekly")],
    "obs_not_aligned_monthly.csv": [(4, "period", "not_aligned", "not the first of a month")],
    "obs_missing_value.csv": [(3, "ward_id", "missing_value", "ward_id is empty")],
    "obs_wrong_field_count.csv": [(3, "(row)", "wrong_field_count", "more fields than the header")],
    "obs_date_out_of_window.csv": [(3, "period", "date_out_of_window", "2204-01-04 is outside the accepted")],
    "obs_unknown_status.csv": [(3, "status", "unknown_status", "'banana' is not observed")],
    "obs_implausible_value.csv": [(3, "numerator", "implausible_value", "above the plausible limit 100000")],
}


def _check(rejected: pl.DataFrame, expected: list[tuple[int, str, str, str]], file: str) -> None:
    got = rejected.filter(pl.col("file").str.ends_with(file)).sort("line")
    assert got.height == len(expected), got
    for row, (line, column, code, words) in zip(got.iter_rows(named=True), expected, strict=True):
        assert (row["line"], row["column"], row["code"]) == (line, column, code)
        assert words in row["reason"], row["reason"]
        assert row["raw"]  # the original fields travel with the rejection


@pytest.mark.parametrize(("file", "expected"), OBSERVATION_CASES.items(), ids=list(OBSERVATION_CASES))
def test_observation_rejections(file: str, expected: list) -> None:
    result = load_dataset(BAD / file, BAD / "wards.csv")
    _check(result.rejected, expected, file)
    n_lines = len((BAD / file).read_text().splitlines()) - 1
    assert result.rows_read[str(BAD / file)] == n_lines
    assert result.observations.height + len(expected) == n_lines
    assert result.observations.schema == pl.Schema(OBSERVATION_SCHEMA)
    assert not result.ok


def test_duplicates_are_never_summed() -> None:
    result = load_dataset(BAD / "obs_duplicate.csv", BAD / "wards.csv")
    week2 = result.observations.filter(pl.col("period") == pl.date(2024, 1, 8))
    assert week2.height == 0  # both copies rejected, neither kept nor added


@pytest.mark.parametrize(
    ("file", "line", "column", "code", "words"),
    [
        ("wards_duplicate_ward.csv", 2, "ward_id", "duplicate_ward", "lines 2, 4"),
        ("wards_duplicate_ward.csv", 4, "ward_id", "duplicate_ward", "all copies rejected"),
        ("wards_unknown_ward_type.csv", 3, "ward_type", "unknown_ward_type", "'learning_disability'"),
        ("wards_bad_beds.csv", 3, "beds", "bad_beds", "'12.5' is not a positive whole number"),
        ("wards_missing_value.csv", 3, "provider", "missing_value", "provider is empty"),
    ],
)
def test_ward_register_rejections(file: str, line: int, column: str, code: str, words: str) -> None:
    result = read_wards(BAD / file)
    row = result.rejected.filter(pl.col("line") == line).row(0, named=True)
    assert (row["column"], row["code"]) == (column, code)
    assert words in row["reason"]
    assert result.wards.height + result.rejected.height == result.rows_read


@pytest.mark.parametrize(
    ("file", "line", "column", "code", "words"),
    [
        ("events_unknown_kind.csv", 3, "kind", "unknown_kind", "'holiday'"),
        ("events_unknown_ward.csv", 3, "ward_id", "unknown_ward", "'W7' is not in the ward register"),
        ("events_unparseable_date.csv", 3, "date", "unparseable_date", "'2024/01/15'"),
    ],
)
def test_event_rejections(file: str, line: int, column: str, code: str, words: str) -> None:
    wards = read_wards(BAD / "wards.csv").wards
    result = read_events(BAD / file, wards)
    assert result.rejected.height == 1
    row = result.rejected.row(0, named=True)
    assert (row["line"], row["column"], row["code"]) == (line, column, code)
    assert words in row["reason"]
    assert result.events.height == 1


def test_rejected_ward_is_named_in_observation_reasons(tmp_path: Path) -> None:
    obs = tmp_path / "obs.csv"
    obs.write_text("ward_id,period,indicator,numerator,denominator\nW1,2024-01-01,restraint,2,120\n")
    result = load_dataset(obs, BAD / "wards_duplicate_ward.csv")
    row = result.rejected.filter(pl.col("file") == str(obs)).row(0, named=True)
    assert row["code"] == "unknown_ward"
    assert "rejected in the ward register" in row["reason"]


def test_every_reason_is_documented_and_exercised() -> None:
    exercised = {c for cases in OBSERVATION_CASES.values() for _, _, c, _ in cases}
    exercised |= {"duplicate_ward", "unknown_ward_type", "bad_beds", "unknown_kind"}
    exercised |= {"empty_row"}  # the wide layout's own case: tests/io/test_io_wide_empty_rows.py
    assert exercised == set(REASONS)
    doc = (Path(__file__).parents[2] / "docs" / "data-contract.md").read_text()
    for code in REASONS:
        assert f"`{code}`" in doc, code


def test_good_files_are_accepted_whole() -> None:
    result = load_dataset(BAD / "obs_ok.csv", BAD / "wards.csv", events=BAD / "events.csv")
    assert result.ok
    assert result.observations.height == 2
    assert result.wards["ward_type"].to_list() == ["acute_adult", "ld_autism", "picu"]  # 'PICU' normalised
    assert result.wards["beds"].to_list() == [18, None, 10]
    assert result.wards["site"].to_list() == ["Main site", "Main site", "Annexe, east wing"]  # extras kept
    assert result.events["date"].to_list()[1].isoformat() == "2024-01-15"  # UK date
    assert result.cadence == {"restraint": "weekly"}
