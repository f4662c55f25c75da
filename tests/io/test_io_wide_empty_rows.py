"""A wide-layout record with every indicator cell empty is reported as rejected, never dropped."""

from __future__ import annotations

from pathlib import Path

from engine.io import load_dataset

WARDS = "ward_id,ward_name,provider,ward_type\nW01,Ash,P1,acute_adult\nW02,Elm,P1,acute_adult\n"


def test_wide_rows_without_any_value_are_rejected_and_counted(tmp_path: Path) -> None:
    obs = tmp_path / "wide.csv"
    obs.write_text(
        "ward_id,period,restraint,restraint__denominator,manager_changes\n"
        "W01,2024-01-01,3,182,0\n"
        "W01,2024-01-08,,,\n"  # nothing reported on this row: line 3
        "W02,2024-01-01,1,150,\n"
        "W99,2024-01-08,,,\n",  # an unknown ward with nothing reported: line 5, still accounted for
        encoding="utf-8",
    )
    wards = tmp_path / "wards.csv"
    wards.write_text(WARDS, encoding="utf-8")
    result = load_dataset(obs, wards)
    rejected = result.rejected.filter(result.rejected["code"] == "empty_row")
    assert rejected["line"].to_list() == [3, 5]
    assert set(rejected["column"]) == {"(row)"}
    assert rejected["raw"][0].startswith("W01,2024-01-08")
    # every physical record is accepted (as cell pairs) or rejected: 3 cell pairs + 2 empty rows
    f = str(obs)
    rows_of_file = result.rejected.filter(result.rejected["file"] == f).height
    assert result.rows_read[f] == result.accepted[f] + rows_of_file
    assert result.accepted[f] == 3
