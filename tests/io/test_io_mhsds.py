"""MHSDS importer: decisions on hand-made quirk files, then end-to-end on the real public data."""

from pathlib import Path

import polars as pl
import pytest

from engine.cli import main
from engine.io import load_dataset
from engine.io.mhsds import import_mhsds, slug, write_mhsds

_SAMPLE = Path("shared") / "data" / "mhsds-restrictive-interventions-2021-22"
# the repository's neighbour folder (also from a git worktree one level deeper)
MHSDS_DIR = next(
    (p / _SAMPLE for p in Path(__file__).resolve().parents if (p / _SAMPLE).is_dir()),
    Path(__file__).parents[2].parent / _SAMPLE,
)
OLD = "People subject to detention at the end of the reporting period"
NEW = "People subject to the Mental Health Act at the end of the reporting period"


def _write(d: Path, name: str, lines: list[str]) -> None:
    (d / name).write_text("\n".join(lines) + "\n")


@pytest.fixture
def quirky(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    a, b, c = "ALPHA TRUST", '"BETA, GAMMA AND DELTA NHS TRUST"', "TINY CARE LTD"
    _write(
        d,
        "beds01_Sep_2021.csv",
        [
            f"01/09/2021,{a},Bed days in RP,1000",
            f"01/09/2021,{b},Bed days in RP,2000",
            f"01/09/2021,{c},Bed days in RP,*",
        ],
    )
    _write(
        d,
        "beds02_Oct_2021.csv",
        [f"2021-10-01,{a},Bed days in RP,1005", f"2021-10-01,{b},Bed days in RP,1995"],
    )
    _write(
        d,
        "rstr01_Sep_2021.csv",
        [f"01/09/2021,{a},MHS76,15", f"01/09/2021,{b},MHS76,*", f"01/09/2021,{c},MHS76,5"],
    )
    _write(d, "rstr02_Oct_2021.csv", [f"2021-10-01,{a},MHS76,20"])  # BETA missing in October
    _write(d, "sect01_Sep_2021.csv", [f"01/09/2021,{a},{OLD},30", f"01/09/2021,{b},{OLD},40"])
    _write(d, "sect02_Oct_2021.csv", [f"01/10/2021,{a},{NEW},30", f"01/10/2021,{b},{NEW},*"])
    return d


def test_import_decisions(quirky: Path) -> None:
    res = import_mhsds(quirky)
    obs = res.observations
    beta = slug("BETA, GAMMA AND DELTA NHS TRUST")
    assert beta == "beta-gamma-and-delta-nhs-trust"
    r = obs.filter(pl.col("indicator") == "people_restrained").sort("ward_id", "period")
    rows = {(w, str(p)): (n, d) for w, p, _, n, d in r.iter_rows()}
    assert rows[("alpha-trust", "2021-09-01")] == ("15", 1000.0)
    assert rows[(beta, "2021-09-01")] == ("*", 2000.0)  # suppressed stays '*'
    assert rows[(beta, "2021-10-01")] == ("", 1995.0)  # bed days but no row: explicit missing, not 0
    assert "tiny-care-ltd" not in set(obs["ward_id"])  # bed days suppressed: no denominator
    skipped = res.skipped
    tiny = skipped.filter(pl.col("provider") == "TINY CARE LTD")
    assert set(tiny["measure"]) == {"beds", "rstr"}
    assert tiny.filter(pl.col("measure") == "rstr")["reason"].str.contains("no denominator").all()
    # every input row accounted for: written or skipped
    n_in = sum(res.rows_read.values())
    written_inputs = obs.filter(pl.col("numerator") != "").height  # rstr/sect rows written
    beds_used = res.rows_read["beds"] - skipped.filter(pl.col("measure") == "beds").height
    assert written_inputs + skipped.filter(pl.col("measure") != "beds").height + res.rows_read["beds"] == n_in
    assert beds_used == 4
    assert res.label_changes == [("2021-10-01", OLD, NEW)]
    assert res.events.height == 2 and set(res.events["kind"]) == {"note"}
    assert res.wards["ward_type"].unique().to_list() == ["other"]
    assert "BETA, GAMMA AND DELTA NHS TRUST" in res.wards["ward_name"].to_list()


def test_imported_quirks_validate_cleanly(quirky: Path, tmp_path: Path) -> None:
    paths = write_mhsds(import_mhsds(quirky), tmp_path / "out")
    result = load_dataset(paths["observations"], paths["wards"], events=paths["events"])
    assert result.ok, result.rejected
    assert result.cadence == {"people_detained": "monthly", "people_restrained": "monthly"}
    statuses = result.observations.group_by("status").len().sort("status").rows()
    assert statuses == [("observed", 5), ("suppressed", 2), ("unknown", 1)]


def test_duplicate_provider_month_is_skipped_entirely(quirky: Path) -> None:
    with (quirky / "rstr02_Oct_2021.csv").open("a") as fh:
        fh.write("2021-10-01,ALPHA TRUST,MHS76,25\n")
    res = import_mhsds(quirky)
    alpha_oct = res.observations.filter(
        (pl.col("ward_id") == "alpha-trust")
        & (pl.col("indicator") == "people_restrained")
        & (pl.col("period") == pl.date(2021, 10, 1))
    )
    assert alpha_oct["numerator"].to_list() == [""]  # neither 20 nor 25 nor 45
    assert res.skipped.filter(pl.col("reason").str.contains("more than one row")).height == 2


@pytest.mark.skipif(not MHSDS_DIR.is_dir(), reason=f"real MHSDS data folder not present at {MHSDS_DIR}")
def test_real_mhsds_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mhsds"
    assert main(["import-mhsds", str(MHSDS_DIR), "--out", str(out)]) == 0
    report = capsys.readouterr().out
    assert "Definition change: from 2022-01-01" in report
    res = import_mhsds(MHSDS_DIR)
    # every input row is written or listed as skipped
    assert res.rows_read == {"rstr": 568, "sect": 3817, "beds": 3799}
    written = res.observations.filter(pl.col("numerator") != "")
    by_measure = res.skipped.group_by("measure").len().sort("measure").rows()
    skipped = dict(by_measure)
    assert written.filter(pl.col("indicator") == "people_restrained").height + skipped.get("rstr", 0) == 568
    assert written.filter(pl.col("indicator") == "people_detained").height + skipped.get("sect", 0) == 3817
    # suppressed values are never zero; quoted names with commas survive
    assert (res.observations["numerator"] == "0").sum() == 0
    assert "BARNET, ENFIELD AND HARINGEY MENTAL HEALTH NHS TRUST" in res.wards["ward_name"].to_list()
    # validate runs cleanly and reports gaps
    code = main(
        [
            "validate",
            str(out / "observations.csv"),
            "--wards",
            str(out / "wards.csv"),
            "--events",
            str(out / "events.csv"),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0, text
    assert "Gaps:" in text and "with missing periods" in text
    assert "people_restrained         monthly" in text
    loaded = load_dataset(out / "observations.csv", out / "wards.csv", events=out / "events.csv")
    assert loaded.ok
    assert loaded.observations.filter(pl.col("status") == "suppressed").height > 0
    assert loaded.observations.filter(pl.col("status") == "unknown").height > 0
    assert loaded.gaps()["missing"].sum() > 0
