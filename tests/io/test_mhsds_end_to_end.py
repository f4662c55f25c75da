"""The real MHSDS sample end to end: import, validate, score, retrospective, dashboard (AppTest).

Done-when of issue 21: every provider with at least 1,000 bed days in every month that reports
restraint in only some months (the PROD-ALERT partial reporters: 23 of 52) is listed as data silence,
every partial reporter of any size is listed in the reporting-completeness listing with its status,
and reporting discontinuities are described.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from engine.cli import main

_SAMPLE = Path("shared") / "data" / "mhsds-restrictive-interventions-2021-22"
# the repository's neighbour folder (also from a git worktree one level deeper)
MHSDS_DIR = next(
    (p / _SAMPLE for p in Path(__file__).resolve().parents if (p / _SAMPLE).is_dir()),
    Path(__file__).parents[2].parent / _SAMPLE,
)
APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py")

pytestmark = pytest.mark.skipif(not MHSDS_DIR.is_dir(), reason="the shared MHSDS sample is not present")


@pytest.fixture(scope="module")
def mhsds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("mhsds")
    assert main(["import-mhsds", str(MHSDS_DIR), "--out", str(d)]) == 0
    files = ["--observations", str(d / "observations.csv"), "--wards", str(d / "wards.csv")]
    files += ["--events", str(d / "events.csv")]
    assert (
        main(
            [
                "validate",
                str(d / "observations.csv"),
                "--wards",
                str(d / "wards.csv"),
                "--events",
                str(d / "events.csv"),
            ]
        )
        == 0
    )
    (d / ".wardwatch").mkdir()
    assert (
        main(["score", *files, "--out", str(d / "results"), "--store", str(d / ".wardwatch" / "triage.db")])
        == 0
    )
    assert main(["score", "--retrospective", *files, "--out", str(d / "retrospective")]) == 0
    return d


def _partial_reporters(d: Path, min_beds: float) -> set[str]:
    o = pl.read_csv(d / "observations.csv", schema_overrides={"numerator": pl.String})
    r = o.filter(pl.col("indicator") == "people_restrained")
    months = r["period"].n_unique()
    per = r.group_by("ward_id").agg(
        pl.len().alias("months"),
        pl.col("denominator").min().alias("beds"),
        pl.col("numerator").str.contains(r"^\d+$").sum().alias("reported"),
    )
    part = per.filter(
        (pl.col("months") == months) & (pl.col("beds") >= min_beds)
        & (pl.col("reported") > 0) & (pl.col("reported") < months)
    )  # fmt: skip
    return set(part["ward_id"].to_list())


def test_prod_alert_partial_reporters_are_data_silence(mhsds: Path) -> None:
    partial = _partial_reporters(mhsds, 1000)
    assert len(partial) == 23  # PROD-ALERT: 23 of the 52 providers with >= 1,000 bed days every month
    alerts = pl.read_csv(mhsds / "results" / "alerts.csv")
    monitoring = set(
        alerts.filter((pl.col("method") == "data_silence") & (pl.col("indicator") == "people_restrained"))[
            "ward_id"
        ].to_list()
    )
    retro = pl.read_csv(mhsds / "retrospective" / "reporting.csv")
    retrospective = set(retro.filter(pl.col("kind") == "data_silence")["ward_id"].to_list())
    # monitoring (causal) lists all but one; the one (a single silent first month, ~10 expected
    # at its peers' rate) is listed once its later months are known, by the retrospective analysis
    assert len(partial - monitoring) <= 1
    assert partial <= retrospective
    # and the explanation says what was expected
    text = alerts.filter(pl.col("method") == "data_silence")["explanation"].to_list()
    assert any("would be usual" in t and "Check the recording" in t for t in text)


def test_every_partial_reporter_is_listed_with_its_status(mhsds: Path) -> None:
    """Every provider with bed days in all months but restraint in only some, of any size, is listed
    in reporting.csv (``incomplete_reporting``); alerted exactly when monitoring raised data silence,
    and otherwise with the reason (too small to be informative, or suppressed counts)."""
    partial = _partial_reporters(mhsds, 0)
    assert len(partial) == 27
    rep = pl.read_csv(mhsds / "results" / "reporting.csv")
    listing = rep.filter(
        (pl.col("kind") == "incomplete_reporting") & (pl.col("indicator") == "people_restrained")
    )
    assert partial <= set(listing["ward_id"].to_list())
    assert listing["ward_id"].is_unique().all()
    alerts = pl.read_csv(mhsds / "results" / "alerts.csv")
    silent = alerts.filter(
        (pl.col("method") == "data_silence") & (pl.col("indicator") == "people_restrained")
    )
    alerted = set(listing.filter(pl.col("alarm_from").is_not_null())["ward_id"].to_list())
    assert alerted == set(listing["ward_id"].to_list()) & set(silent["ward_id"].to_list())
    text = dict(zip(listing["ward_id"], listing["explanation"], strict=True))
    # the three small partial reporters silence cannot speak for: listed, not alerted, and why
    assert "newbridge-care-systems" not in alerted
    assert "incomplete reporting, not alerted" in text["newbridge-care-systems"]
    for small in (
        "sheffield-children-s-nhs-foundation-trust",
        "leeds-and-york-partnership-nhs-foundation-trust",
    ):
        assert small not in alerted
        assert "a figure published in 11 of 12 months with occupied bed days reported in all" in text[small]
        assert "suppressed counts (fewer than 5 each)" in text[small] and "expected" in text[small]
    gmmh = text["greater-manchester-mental-health-nhs-foundation-trust"]
    assert "published in 7 of 12 months" in gmmh and "listed as data silence (alert)" in gmmh


def test_discontinuities_are_described(mhsds: Path) -> None:
    rep = pl.read_csv(mhsds / "results" / "reporting.csv")
    disc = rep.filter(pl.col("discontinuity") == True)  # noqa: E712
    gmmh = disc.filter(pl.col("ward_id") == "greater-manchester-mental-health-nhs-foundation-trust")
    assert gmmh.height == 1
    assert "reporting resumed in March 2022 at 3.1 times its earlier level" in gmmh["explanation"][0]
    assert "check the recording before reading it as a change in practice" in gmmh["explanation"][0]


def test_retrospective_is_labelled_and_apart(mhsds: Path) -> None:
    run = json.loads((mhsds / "retrospective" / "retrospective.json").read_text())
    assert run["mode"] == "retrospective" and "looking ahead by design" in run["label"]
    assert not (mhsds / "retrospective" / "alerts.csv").exists()
    assert not (mhsds / "results" / "retrospective.json").exists()
    changes = pl.read_csv(mhsds / "retrospective" / "changes.csv")
    assert (changes["mode"] == "retrospective").all()
    # the detention definition change (Jan and Jun 2022) is attributed to the recorded event
    det = changes.filter(pl.col("indicator") == "people_detained")
    assert det.filter(pl.col("event").is_not_null()).height >= det.height // 2
    # refusing to mix: a retrospective run into a monitoring folder is a fatal error
    args = ["score", "--retrospective", "--observations", str(mhsds / "observations.csv")]
    args += ["--wards", str(mhsds / "wards.csv"), "--out", str(mhsds / "results")]
    assert main(args) == 2


def test_dashboard_loads_the_real_data(mhsds: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("WARDWATCH_DATA", str(mhsds))
    monkeypatch.setenv("WARDWATCH_RESULTS", str(mhsds / "results"))
    monkeypatch.setenv("WARDWATCH_STORE", str(mhsds / ".wardwatch" / "triage.db"))
    monkeypatch.setenv("WARDWATCH_TRUST_HEADERS", "0")
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["demo_user"] = "demo-quality-director"
    at.run()
    assert not at.exception
    ranked = next(d.value for d in at.dataframe if "rank" in d.value.columns)  # the "All wards" table
    assert len(ranked) == 87  # every provider with usable bed days
    metrics = {m.label: m.value for m in at.metric}
    # data silence is an indicator alert: listed in the triage inbox (it no longer raises a ward to
    # watch on its own: watch needs evidence in two culture domains)
    assert int(metrics["Open alerts"]) > 0
    # the data-quality view lists the incomplete reporters (alerted or not)
    labels = [e.label for e in at.expander]
    assert any(
        lab.startswith("Data quality: 46 series reported incompletely (35 alerted") for lab in labels
    ), labels


def test_data_quality_listing_names_every_partial_reporter(mhsds: Path) -> None:
    from dashboard.services.completeness import completeness_listing

    listing = completeness_listing(mhsds / "results", pl.read_csv(mhsds / "wards.csv"))
    assert set(_partial_reporters(mhsds, 0)) <= set(listing["ward_id"].to_list())
    row = listing.filter(pl.col("ward_id") == "sheffield-children-s-nhs-foundation-trust").row(0, named=True)
    assert row["Ward"] == "SHEFFIELD CHILDREN'S NHS FOUNDATION TRUST" and row["Reported"] == "11 of 12 months"
    assert row["Status"] == "Listed, not alerted" and row["Why"].startswith(
        "not alerted: the gaps are suppressed"
    )
    # alerted first
    assert listing["Status"].to_list() == sorted(listing["Status"].to_list())
