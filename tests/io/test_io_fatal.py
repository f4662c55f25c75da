"""Every fatal error refuses the whole file with one clear line naming it."""

from pathlib import Path

import pytest

from engine.io import FatalInputError, load_dataset, read_events

BAD = Path(__file__).parents[1] / "data" / "bad"


@pytest.mark.parametrize(
    ("file", "words"),
    [
        ("fatal_missing_column.csv", "missing required column(s) period"),
        ("fatal_no_indicator_columns.csv", "missing required column 'indicator'"),
        ("fatal_semicolon.csv", "must be comma-separated"),
        ("fatal_nhs_number.csv", "column 'ref' holds values that look like NHS numbers"),
        ("fatal_patient_column.csv", "column 'Date of Birth' looks like a patient identifier"),
        ("fatal_duplicate_column.csv", "appears twice"),
        ("fatal_latin1.csv", "not UTF-8 (first bad byte on line 3)"),
        ("fatal_spreadsheet.xlsx", "not a CSV or Parquet file"),
        ("fatal_binary.csv", "not a CSV or Parquet file"),
        ("does_not_exist.csv", "file not found"),
    ],
)
def test_fatal_observation_files(file: str, words: str) -> None:
    with pytest.raises(FatalInputError) as info:
        load_dataset(BAD / file, BAD / "wards.csv")
    err = info.value
    assert err.file == str(BAD / file)
    assert words in str(err)
    assert "\n" not in str(err)


def test_nhs_number_in_event_note_is_refused() -> None:
    with pytest.raises(FatalInputError, match="contains an NHS number"):
        read_events(BAD / "fatal_events_nhs_in_note.csv")


def test_ward_register_missing_column_is_fatal() -> None:
    with pytest.raises(FatalInputError, match="missing required column") as info:
        load_dataset(BAD / "obs_ok.csv", BAD / "events.csv")
    assert info.value.file == str(BAD / "events.csv")


def test_ten_digit_numbers_failing_the_check_are_not_refused(tmp_path) -> None:
    # 9434765918 has the wrong check digit: an ordinary number, not an NHS number.
    f = tmp_path / "w.csv"
    f.write_text("ward_id,ward_name,provider,ward_type,cost_centre\nW1,A,P,picu,9434765918\n")
    from engine.io import read_wards

    assert read_wards(f).wards.height == 1
