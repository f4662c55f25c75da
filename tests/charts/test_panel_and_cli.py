"""The Panel wrapper and the ``wardwatch spc`` command."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from engine.charts import AttributeSettings, chart_panel, xmr_chart
from engine.charts import codes as C
from engine.cli import main
from engine.panel import OBSERVATION_SCHEMA, build_panel


def observations() -> pl.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    start = dt.date(2024, 1, 1)
    for ward in ("W1", "W2"):
        for ind in ("restraint", "seclusion"):
            for k in range(30):
                num = float(rng.poisson(5))
                status = "observed"
                if ward == "W2" and k == 7:
                    num, status = None, "suppressed"
                rows.append((ward, start + dt.timedelta(weeks=k), ind, num, 100.0 + k, status))
    return pl.DataFrame(rows, schema=OBSERVATION_SCHEMA, orient="row")


def test_chart_panel_xmr_of_rates_matches_direct_call():
    panel = build_panel(observations(), "weekly")
    out = chart_panel(panel, "decrease")
    expected = xmr_chart(np.where(panel.observed, panel.y / panel.n, np.nan), "decrease")
    np.testing.assert_array_equal(out.chart.upl, expected.upl)
    assert out.chart.point_type.shape == panel.shape
    assert out.ward_id.tolist() == panel.ward_id.tolist()
    # the suppressed week is missing, never zero
    s = int(np.flatnonzero((panel.ward_id == "W2") & (panel.indicator == "restraint"))[0])
    assert out.chart.point_type[s, 7] == C.MISSING_POINT


def test_chart_panel_attribute_chart_and_mapping_directions():
    panel = build_panel(observations(), "weekly")
    out = chart_panel(
        panel,
        {"restraint": "decrease", "seclusion": "neutral"},
        settings=AttributeSettings(kind="u"),
    )
    assert out.chart.direction.tolist() == [-1, 0, -1, 0]
    ok = panel.observed
    np.testing.assert_allclose(out.chart.value[ok], (panel.y / panel.n)[ok])
    assert hasattr(out.chart, "runs")


def write_csv(tmp_path, text: str):
    p = tmp_path / "in.csv"
    p.write_text(text)
    return p


CSV = """ward,week,rate,rb
A,01/01/2024,1,0
A,08/01/2024,2,0
A,15/01/2024,1,0
A,22/01/2024,2,0
A,29/01/2024,10,0
A,05/02/2024,1,0
A,12/02/2024,2,0
A,19/02/2024,1,0
A,26/02/2024,2,0
A,04/03/2024,1,0
A,11/03/2024,2,0
A,18/03/2024,1,0
A,25/03/2024,2,0
A,01/04/2024,1,0
A,08/04/2024,2,0
A,15/04/2024,1,0
A,22/04/2024,2,0
A,29/04/2024,1,0
B,2024-01-01,3,0
B,2024-01-08,,0
B,2024-01-15,4,1
B,2024-01-22,5,0
"""


def test_cli_writes_points_and_summary(tmp_path, capsys):
    src = write_csv(tmp_path, CSV)
    out = tmp_path / "chart.csv"
    code = main(
        ["spc", str(src), "--date", "week", "--value", "rate", "--group", "ward", "--rebase-col", "rb",
         "--target", "0.5", "--out", str(out)]
    )  # fmt: skip
    assert code == 0
    points = pl.read_csv(out)
    assert points.height == 22
    assert {"group", "date", "value", "mean", "lpl", "upl", "point_type", "rule"} <= set(points.columns)
    a = points.filter(pl.col("group") == "A").sort("date")
    # the PTD deviations vignette case (P4): point 5 is improvement, limits 1.94 +/- 2.66
    assert a["point_type"][4] == "special_cause_improvement"
    assert a["rule"][4] == "outside_limits"
    assert a["upl"][0] == pytest.approx(4.604444, abs=1e-6)
    b = points.filter(pl.col("group") == "B").sort("date")
    assert b["point_type"][1] is None or b["point_type"][1] == ""
    assert b["rebase_group"].to_list() == [0, 0, 1, 1]
    summary = pl.read_csv(tmp_path / "chart_summary.csv")
    assert summary["group"].to_list() == ["A", "B"]
    assert summary["variation_icon"].to_list() == ["common_cause", "common_cause"]
    # A: target 0.5 inside (-0.72, 4.60) -> hit and miss; B (rebased, 4 and 5): 0.5 < LPL 1.84 -> pass
    assert summary["assurance_icon"].to_list() == ["hit_and_miss", "pass"]
    assert summary["n_rebase_groups"].to_list() == [1, 2]
    printed = capsys.readouterr().out
    assert "variation_icon" in printed and "chart_summary.csv" in printed


def test_cli_stdout_parquet_and_settings(tmp_path, capsys):
    src = write_csv(tmp_path, CSV)
    code = main(
        ["spc", str(src), "--date", "week", "--value", "rate", "--group", "ward", "--no-screen-outliers"]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("group,date,value")
    assert "6.9515" in captured.out  # unscreened UPL of group A
    assert "assurance_icon" in captured.err
    pq = tmp_path / "in.parquet"
    pl.read_csv(src).with_columns(pl.col("week").str.to_date("%d/%m/%Y", strict=False)).drop_nulls(
        "week"
    ).write_parquet(pq)
    out = tmp_path / "o.parquet"
    assert main(["spc", str(pq), "--date", "week", "--value", "rate", "--out", str(out)]) == 0
    assert pl.read_parquet(out).height == 18
    assert (tmp_path / "o_summary.parquet").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--value", "nope"], "not found"),
        (["--value", "rate", "--fix-after", "5"], "at least 12"),
        (["--value", "rate", "--multiplier", "abc"], "multiplier"),
    ],
)
def test_cli_fatal_errors_exit_2(tmp_path, capsys, args, message):
    src = write_csv(tmp_path, CSV)
    assert main(["spc", str(src), "--date", "week", *args]) == 2
    assert message in capsys.readouterr().err


def test_cli_bad_dates_and_duplicates(tmp_path, capsys):
    src = write_csv(tmp_path, "d,v\n2024-13-45,1\n")
    assert main(["spc", str(src), "--date", "d", "--value", "v"]) == 2
    src = write_csv(tmp_path, "d,v\n2024-01-01,1\n01/01/2024,2\n")
    assert main(["spc", str(src), "--date", "d", "--value", "v"]) == 2
    assert "duplicate" in capsys.readouterr().err


def test_cli_non_numeric_values_exit_1(tmp_path, capsys):
    src = write_csv(tmp_path, "d,v\n2024-01-01,1\n2024-01-08,x\n2024-01-15,3\n")
    assert main(["spc", str(src), "--date", "d", "--value", "v"]) == 1
    assert "non-numeric" in capsys.readouterr().err
