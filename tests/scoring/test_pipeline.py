"""The scoring pipeline end to end on a small synthetic trust."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest

from engine.cli import main
from engine.scoring.alerts import ALERT_COLUMNS
from engine.scoring.run import score
from engine.store import TriageStore

STATUS_COLUMNS = ["ward_id", "period", "level", "score", "domains", "indicators", "alert_id"]


def test_ward_status_contract(scored, loaded):
    st = scored.ward_status
    assert st.columns[:7] == STATUS_COLUMNS
    assert set(st["level"].unique()) <= {"none", "watch", "concern", "urgent"}
    # one row per ward and week from the ward's first week with data, no gaps or duplicates
    assert st.select("ward_id", "period").is_duplicated().sum() == 0
    first = loaded.observations.group_by("ward_id").agg(pl.col("period").min().alias("first"))
    span = st.group_by("ward_id").agg(pl.col("period").min().alias("start"), pl.len().alias("rows"))
    joined = span.join(first, on="ward_id")
    assert (joined["start"] >= joined["first"]).all()
    assert (joined["start"] - joined["first"]).dt.total_days().max() < 7
    weeks = (st["period"].max() - joined["start"]).dt.total_days() // 7 + 1
    assert (weeks == joined["rows"]).all()
    # an open ward alert is named on every week it is open, only at concern or in hysteresis
    with_alert = st.filter(pl.col("alert_id") != "")
    assert set(with_alert["alert_id"]) <= set(scored.alerts.filter(pl.col("scope") == "ward")["alert_id"])


def test_alerts_contract_and_explanations(scored):
    al = scored.alerts
    assert list(al.columns) == list(ALERT_COLUMNS)
    assert al["alert_id"].is_unique().all()
    ward = al.filter(pl.col("scope") == "ward")
    assert ward.height > 0
    for row in ward.iter_rows(named=True):
        assert row["level"] in {"concern", "urgent"}
        assert row["explanation"].startswith(("Concern", "Urgent concern"))
        assert any(ch.isdigit() for ch in row["explanation"])  # numbers and dates, not just words
        assert row["onset_estimate"] <= row["opened"] <= row["last_seen"]
        assert row["statistic"] >= row["threshold"]
        assert row["questions"]


def test_alert_ids_are_stable_across_reruns(loaded, scored):
    again = score(loaded)
    assert again.alerts["alert_id"].to_list() == scored.alerts["alert_id"].to_list()


@pytest.mark.parametrize("weeks_from_end", [1, 20, 45, 70])
def test_as_of_reproduces_the_full_run_up_to_that_date(loaded, scored, weeks_from_end):
    last = scored.ward_status["period"].max()
    as_of = last - dt.timedelta(weeks=weeks_from_end)
    part = score(loaded, as_of=as_of)
    full = scored.ward_status.filter(pl.col("period") <= as_of)
    assert part.ward_status.height == full.height
    assert part.ward_status.equals(full)


def test_no_look_ahead_in_series_statistics(loaded, scored):
    as_of = scored.ward_status["period"].max() - dt.timedelta(weeks=30)
    part = score(loaded, as_of=as_of)
    for cadence, sc in part.parts.items():
        full = scored.parts[cadence]
        t = sc.panel.shape[1]
        np.testing.assert_array_equal(full.panel.ward_id, sc.panel.ward_id)
        for name in ("expected_rate", "cusum_up", "cusum_down", "z_closure", "silence_prob"):
            np.testing.assert_array_equal(getattr(full, name)[:, :t], getattr(sc, name), err_msg=name)


def test_score_cli_writes_results_and_store_keeps_triage_across_rescoring(trust_files, tmp_path, capsys):
    _, paths = trust_files
    out, db = tmp_path / "results", tmp_path / "triage.db"
    args = [
        "score",
        "--observations",
        str(paths["observations"]),
        "--wards",
        str(paths["wards"]),
        "--events",
        str(paths["events"]),
        "--out",
        str(out),
        "--store",
        str(db),
    ]
    assert main(args) == 0
    for name in ("ward_status.csv", "alerts.csv", "series.parquet", "run.json"):
        assert (out / name).exists()
    run = json.loads((out / "run.json").read_text())
    assert run["inputs"]["observations"]["sha256"]
    series = pl.read_parquet(out / "series.parquet")
    for col in (
        "rate",
        "expected_rate",
        "chart_mean",
        "chart_lpl",
        "chart_upl",
        "point_type",
        "cusum_up",
        "segment",
    ):
        assert col in series.columns
    store = TriageStore(db)
    ward_alert = store.list_alerts(scope="ward")[0]
    store.acknowledge(ward_alert.alert_id, "Quality Director", ward_alert.version)
    store.add_note(ward_alert.alert_id, "Quality Director", "Visited; restraint log reviewed.")
    assert main(args) == 0  # re-score
    detail = TriageStore(db).get(ward_alert.alert_id)
    assert detail.alert.status == "acknowledged"
    assert [n.text for n in detail.notes] == ["Visited; restraint log reviewed."]


def test_score_cli_reports_rejected_rows_by_reason_and_scores_the_rest(trust_files, tmp_path, capsys):
    _, paths = trust_files
    obs = tmp_path / "obs.csv"
    lines = paths["observations"].read_text().splitlines()
    ward, period, indicator = lines[1].split(",")[:3]
    bad = [f"W_UNKNOWN,{period},{indicator},1,100", f"{ward},{period},{indicator},lots,100"]
    obs.write_text("\n".join([*lines, *bad]) + "\n")
    out = tmp_path / "o"
    args = ["score", "--observations", str(obs), "--wards", str(paths["wards"]), "--out", str(out)]
    assert main(args) == 1  # scored, but rows were rejected (issue 20: exit 1, documented)
    err = capsys.readouterr().err
    assert "3 input rows rejected (see rejected.csv):" in err  # the bad number also duplicates line 2
    for code in ("unknown_ward", "unparseable_number", "duplicate"):
        assert f"  {code}" in err and "obs.csv: " in err
    rejected = pl.read_csv(out / "rejected.csv")
    assert sorted(rejected["line"].to_list()) == [2, len(lines) + 1, len(lines) + 2]


def test_score_cli_fatal_input_exits_2(tmp_path, capsys):
    bad = tmp_path / "obs.csv"
    bad.write_text("ward_id,period\nW1,2024-01-01\n")
    wards = tmp_path / "wards.csv"
    wards.write_text("ward_id,ward_name,provider,ward_type\nW1,A,P,picu\n")
    assert (
        main(["score", "--observations", str(bad), "--wards", str(wards), "--out", str(tmp_path / "o")]) == 2
    )
    err = capsys.readouterr().err
    assert "obs.csv" in err
    assert "Traceback" not in err


def test_score_cli_set_overrides_a_setting_and_records_it_in_run_json(trust_files, tmp_path, capsys):
    from engine.config import Config

    _, paths = trust_files
    out = tmp_path / "results"
    common = ["--observations", str(paths["observations"]), "--wards", str(paths["wards"]), "--out", str(out)]
    setting = "combination.concern_threshold=5.5"
    assert main(["score", *common, "--no-charts", "--set", setting]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["config"]["combination"]["concern_threshold"] == 5.5
    expected = Config().replace("combination.concern_threshold", 5.5)
    assert run["config_sha256"] == expected.digest()
    capsys.readouterr()
    assert main(["score", *common, "--set", "combination.concern_threshold=abc"]) == 2
    assert "--set: combination.concern_threshold: expected a number" in capsys.readouterr().err
