"""wardwatch aggregate: synthetic export -> aggregate -> validate -> score, zeros only where covered."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType

import polars as pl
import pytest

from engine.cli import main
from engine.io import FatalInputError
from engine.io.aggregate import aggregate
from synthetic.events_level import MAPPED, write_events_level
from synthetic.generator import generate
from synthetic.spec import TrustSpec


@pytest.fixture(scope="module")
def trust_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("synth")
    assert (
        main(
            [
                "synth",
                "--out",
                str(d),
                "--wards",
                "4",
                "--weeks",
                "40",
                "--scenarios",
                "none",
                "--events-level",
            ]
        )
        == 0
    )
    return d


def test_aggregate_reproduces_counts_and_unknowns(trust_dir: Path, tmp_path: Path) -> None:
    ev = trust_dir / "events_level"
    res = aggregate([ev / "incidents.csv"], ev / "mapping.toml", ev / "bed_days.csv", ev / "coverage.csv")
    orig = pl.read_csv(
        trust_dir / "observations.csv", schema_overrides={"numerator": pl.String, "denominator": pl.String}
    )
    orig = orig.filter(pl.col("indicator").is_in(MAPPED)).with_columns(pl.col("period").str.to_date())
    cov = pl.read_csv(ev / "coverage.csv").with_columns(pl.col("period").str.to_date())
    got = res.observations.join(
        cov.with_columns(pl.lit(True).alias("cov")), on=["ward_id", "period"], how="left"
    )
    # covered: exactly the generator's counts (zeros included); uncovered: unknown, never zero
    covered = got.filter(pl.col("cov")).join(orig, on=["ward_id", "period", "indicator"], suffix="_orig")
    assert covered.height > 0
    assert (covered["numerator"] == covered["numerator_orig"]).all()
    assert (covered["numerator"] == "0").any()
    uncovered = got.filter(pl.col("cov").is_null())
    assert uncovered.height > 0 and (uncovered["numerator"] == "").all()
    # every row accounted for: unmapped rows listed, none rejected
    assert res.unmapped["rows"].sum() == 5 and res.rejected.height == 0
    assert "Description" in res.unused_columns[str(ev / "incidents.csv")]


def test_aggregate_validate_score_end_to_end(
    trust_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ev = trust_dir / "events_level"
    out = tmp_path / "agg"
    args = ["aggregate", str(ev / "incidents.csv"), "--mapping", str(ev / "mapping.toml")]
    args += [
        "--exposure",
        str(ev / "bed_days.csv"),
        "--coverage",
        str(ev / "coverage.csv"),
        "--out",
        str(out),
    ]
    assert main(args) == 0
    wards = str(trust_dir / "wards.csv")
    assert main(["validate", str(out / "observations.csv"), "--wards", wards]) == 0
    res = tmp_path / "res"
    assert (
        main(
            [
                "score",
                "--observations",
                str(out / "observations.csv"),
                "--wards",
                wards,
                "--out",
                str(res),
                "--no-charts",
            ]
        )
        == 0
    )
    assert (res / "ward_status.csv").exists() and (res / "reporting.csv").exists()
    series = pl.read_parquet(res / "series.parquet")
    assert {"unknown", "observed"} <= set(series["status"].unique().to_list())
    # and the dashboard loads it (AppTest): every ward of the register ranked
    from streamlit.testing.v1 import AppTest

    app = str(Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py")
    monkeypatch.setenv("WARDWATCH_DATA", str(trust_dir))
    monkeypatch.setenv("WARDWATCH_RESULTS", str(res))
    monkeypatch.setenv("WARDWATCH_STORE", str(tmp_path / "triage.db"))
    monkeypatch.setenv("WARDWATCH_TRUST_HEADERS", "0")
    at = AppTest.from_file(app, default_timeout=120)
    at.session_state["demo_user"] = "demo-quality-director"
    at.run()
    assert not at.exception
    ranked = next(d.value for d in at.dataframe if "rank" in d.value.columns)  # the "All wards" table
    assert len(ranked) == pl.read_csv(wards).height


def _mapping(tmp: Path, extra: str = "") -> Path:
    p = tmp / "map.toml"
    p.write_text(
        'cadence = "monthly"\n[categories]\n"Restraint" = "restraint"\n"Prone" = ["restraint", "prone_restraint"]\n'
        '[[coverage]]\nward = "A"\ncomplete_from = 2024-01-01\ncomplete_to = 2024-02-29\n' + extra
    )
    return p


def test_rejections_unmapped_and_coverage_spans(tmp_path: Path) -> None:
    ev = tmp_path / "ev.csv"
    ev.write_text(
        "ward_id,date,category,notes\n"
        "A,2024-01-03,Restraint,fine\n"
        "A,05/01/2024 10:30,Prone,x\n"
        "A,2024-02-30,Restraint,bad date\n"
        ",2024-01-09,Restraint,no ward\n"
        "A,2024-01-10,Fall,unmapped\n"
        "A,2024-03-10,Restraint,outside coverage\n"
    )
    exp = tmp_path / "beds.csv"
    exp.write_text(
        "ward_id,period,denominator\nA,2024-01-01,300\nA,2024-02-01,280\nA,2024-03-01,310\nA,2024-03-15,9\n"
    )
    res = aggregate([ev], _mapping(tmp_path), exp)
    rows = {(str(p), i): n for _, p, i, n, _ in res.observations.iter_rows()}
    assert rows[("2024-01-01", "restraint")] == "2"  # many-to-one and one-to-many
    assert rows[("2024-01-01", "prone_restraint")] == "1"
    assert rows[("2024-02-01", "restraint")] == "0"  # covered, no event: zero
    assert rows[("2024-03-01", "restraint")] == ""  # an event, but outside coverage: unknown
    rej = res.rejected.sort("line")
    assert rej.select("file", "line", "column", "code").rows() == [
        (str(ev), 4, "date", "unparseable_date"),
        (str(ev), 5, "ward_id", "missing_value"),
        (str(exp), 5, "period", "not_aligned"),
    ]
    assert res.unmapped.select("category", "rows").rows() == [("Fall", 1)]
    # a row with a stray unquoted comma: rejected with its line, not truncated
    ev.write_text("ward_id,date,category,notes\nA,2024-01-03,Restraint,fine\nA,2024-01-04,Restraint,a, b\n\n")
    res = aggregate([ev], _mapping(tmp_path), exp)
    assert res.rejected.filter(pl.col("file") == str(ev)).select("line", "code").rows() == [
        (3, "wrong_field_count")
    ]
    # a misspelt ward (no exposure anywhere) is named in the report, its events not written
    ev.write_text("ward_id,date,category\nA,2024-01-03,Restraint\nA1,2024-01-04,Restraint\n")
    res = aggregate([ev], _mapping(tmp_path), exp)
    assert res.wards_without_exposure.rows() == [("A1", 1)]
    assert "'A1': 1 events (not written)" in res.report()
    assert "A1" not in res.observations["ward_id"].to_list()


def test_identifier_columns_refused(tmp_path: Path) -> None:
    ev = tmp_path / "ev.csv"
    ev.write_text("ward_id,date,category,nhs_number\nA,2024-01-03,Restraint,4010232137\n")
    exp = tmp_path / "beds.csv"
    exp.write_text("ward_id,period,denominator\nA,2024-01-01,300\n")
    with pytest.raises(FatalInputError, match="patient identifier"):
        aggregate([ev], _mapping(tmp_path), exp)
    ev.write_text("ward_id,date,category,Date of Birth\nA,2024-01-03,Restraint,\n")
    with pytest.raises(FatalInputError, match="Date of Birth"):  # refused by name, even unread
        aggregate([ev], _mapping(tmp_path), exp)
    ev.write_text("ward_id,date,category\nA,2024-01-03,4010232137\n")  # in a column that is read
    with pytest.raises(FatalInputError, match="NHS numbers"):
        aggregate([ev], _mapping(tmp_path), exp)
    # free text is never read: nothing of it reaches memory or any output
    ev.write_text("ward_id,date,category,description\nA,2024-01-03,Restraint,patient 401 023 2137 held\n")
    res = aggregate([ev], _mapping(tmp_path), exp)
    assert res.unused_columns[str(ev)] == ["description"]
    assert "2137" not in res.observations.write_csv() + res.report()


def test_unknown_indicator_in_mapping(tmp_path: Path) -> None:
    p = tmp_path / "m.toml"
    p.write_text('[categories]\n"R" = "restrant"\n')
    with pytest.raises(FatalInputError, match="unknown indicator"):
        aggregate([tmp_path / "x.csv"], p, tmp_path / "y.csv")


def test_events_level_writer_deterministic(tmp_path: Path) -> None:
    spec = TrustSpec(
        n_wards=3,
        n_weeks=20,
        scenarios=dataclasses.replace(TrustSpec().scenarios, counts=MappingProxyType({})),
    )
    obs = generate(spec, seed=1).observations
    a = write_events_level(obs, tmp_path / "a", seed=1)
    b = write_events_level(obs, tmp_path / "b", seed=1)
    assert a["incidents"].read_bytes() == b["incidents"].read_bytes()


def test_parquet_export_datetimes_and_per_indicator_exposure(tmp_path: Path) -> None:
    import datetime as dt

    ev = tmp_path / "ev.parquet"
    pl.DataFrame(
        {
            "Ward": ["A", "A", "B"],
            "When": [
                dt.datetime(2024, 1, 3, 23, 59),
                dt.datetime(2024, 1, 31, 0, 1),
                dt.datetime(2024, 1, 9),
            ],
            "Kind": ["restraint", "Seclusion ", "restraint"],
        }
    ).write_parquet(ev)
    m = tmp_path / "m.toml"
    m.write_text(
        'cadence = "monthly"\n[columns]\nward = "Ward"\ndate = "When"\ncategory = "Kind"\n'
        '[categories]\n"Restraint" = "restraint"\n"seclusion" = "seclusion"\n'
        '[[coverage]]\nward = "*"\ncomplete_from = 2024-01-01\ncomplete_to = 2024-01-31\n'
    )
    exp = tmp_path / "beds.csv"
    exp.write_text(
        "ward_id,period,Bed days,indicator\nA,2024-01-01,300,\nB,2024-01-01,200,\nB,2024-01-01,150,seclusion\n"
    )
    res = aggregate([ev], m, exp)
    got = {(w, i): (num, den) for w, _, i, num, den in res.observations.iter_rows()}
    assert got[("A", "restraint")] == ("1", 300.0) and got[("A", "seclusion")] == ("1", 300.0)
    assert got[("B", "restraint")] == ("1", 200.0)
    assert got[("B", "seclusion")] == ("0", 150.0)  # the indicator's own exposure row wins
    assert res.rejected.height == 0 and res.unmapped.height == 0


def test_coverage_needs_every_day_of_the_period_and_every_source(tmp_path: Path) -> None:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("ward_id,date,category\nA,2024-01-02,Restraint\n")
    b.write_text("ward_id,date,category\nA,2024-02-02,Restraint\n")
    m = tmp_path / "m.toml"
    m.write_text(
        'cadence = "monthly"\n[categories]\n"Restraint" = "restraint"\n'
        '[[coverage]]\nsource = "a.csv"\nward = "A"\ncomplete_from = 2024-01-01\ncomplete_to = 2024-02-29\n'
        '[[coverage]]\nsource = "b.csv"\nward = "A"\ncomplete_from = 2024-01-02\ncomplete_to = 2024-02-29\n'
    )
    exp = tmp_path / "beds.csv"
    exp.write_text("ward_id,period,denominator\nA,2024-01-01,300\nA,2024-02-01,280\n")
    res = aggregate([a, b], m, exp)
    got = {str(p): num for _, p, _, num, _ in res.observations.iter_rows()}
    assert got == {"2024-01-01": "", "2024-02-01": "1"}  # January: b.csv misses the 1st


def test_weeks_starting_on_sunday(tmp_path: Path) -> None:
    ev = tmp_path / "ev.csv"
    ev.write_text(
        "ward_id,date,category\nA,2024-01-06,Restraint\nA,2024-01-07,Restraint\nA,2024-01-13,Restraint\n"
    )
    m = tmp_path / "m.toml"
    m.write_text(
        'week_start = "Sunday"\n[categories]\n"Restraint" = "restraint"\n'
        '[[coverage]]\nward = "A"\ncomplete_from = 2023-12-31\ncomplete_to = 2024-01-13\n'
    )
    exp = tmp_path / "beds.csv"
    exp.write_text("ward_id,period,denominator\nA,2023-12-31,100\nA,2024-01-07,100\nA,2024-01-08,100\n")
    res = aggregate([ev], m, exp)
    got = {str(p): num for _, p, _, num, _ in res.observations.iter_rows()}
    assert got == {"2023-12-31": "1", "2024-01-07": "2"}  # Saturday 6th in the first week
    assert res.rejected.select("line", "code").rows() == [(4, "not_aligned")]
    assert "Sunday" in res.rejected["reason"][0]


def test_report_orders_tied_counts_by_name_so_it_is_the_same_on_every_run() -> None:
    from engine.io.aggregate import AggregateResult
    from engine.io.rejections import empty_rejections

    codes = ["wrong_field_count", "unparseable_date", "wrong_field_count", "unparseable_date", "duplicate"]
    rejected = pl.concat(
        [empty_rejections(), pl.DataFrame({"code": codes}).with_columns(file=pl.lit("e.csv"))], how="diagonal"
    ).select(empty_rejections().columns)
    res = AggregateResult(
        observations=pl.DataFrame(
            schema={"ward_id": pl.String, "numerator": pl.String, "indicator": pl.String}
        ),
        rejected=rejected,
        unmapped=pl.DataFrame(schema={"file": pl.String, "category": pl.String, "rows": pl.UInt32}),
        accounting=pl.DataFrame(schema={"file": pl.String, "outcome": pl.String, "rows": pl.Int64}),
        unused_columns={},
        cadence="weekly",
    )
    for _ in range(5):
        lines = res.report().splitlines()
        assert [ln.split()[0] for ln in lines[-3:]] == ["unparseable_date", "wrong_field_count", "duplicate"]
