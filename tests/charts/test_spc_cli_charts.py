"""``wardwatch spc --chart``: every chart type from the command line, checked against qicharts2 cases."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from engine.cli import main

EX_7_4 = [2, 3, 8, 1, 1, 4, 1, 4, 5, 1, 8, 2, 4, 3, 4, 1, 8, 3, 7, 4]
EX_7_6 = [286, 948, 536, 124, 816, 729, 4, 143, 431, 8, 2837, 596, 81, 227, 603, 492, 1199, 1214, 2831, 96]


def _csv(tmp_path, **cols) -> str:
    n = len(next(iter(cols.values())))
    dates = np.datetime64("2024-01-01") + 7 * np.arange(n)
    frame = pl.DataFrame({"week": dates.astype(str), **cols})
    path = tmp_path / "in.csv"
    frame.write_csv(path)
    return str(path)


def _run(tmp_path, src, *args):
    out = tmp_path / "chart.csv"
    code = main(["spc", src, "--date", "week", *args, "--out", str(out)])
    return code, pl.read_csv(out) if out.exists() else None, tmp_path / "chart_summary.csv"


def test_default_is_still_the_xmr_chart_with_a_runs_column(tmp_path):
    src = _csv(tmp_path, v=[float(x) for x in EX_7_4])
    code, points, summary = _run(tmp_path, src, "--value", "v")
    assert code == 0
    assert points.columns[:12] == [
        "group", "date", "value", "mean", "lpl", "upl", "lower_2sigma", "upper_2sigma", "point_type", "rule",
        "rebase_group", "short_group",
    ]  # fmt: skip
    assert points.columns[12] == "runs_signal"
    assert points["upl"][0] == pytest.approx(
        np.mean(EX_7_4) + 2.66 * np.mean(np.abs(np.diff(EX_7_4))), abs=1e-6
    )
    s = pl.read_csv(summary)
    assert s["chart"][0] == "xmr"
    assert (s["longest_run"][0], s["crossings"][0]) == (2, 15)


def test_u_chart_from_numerator_and_denominator_matches_montgomery_7_4(tmp_path):
    src = _csv(tmp_path, d=EX_7_4, n=[50] * 20)
    code, points, summary = _run(tmp_path, src, "--chart", "u", "--numerator", "d", "--denominator", "n")
    assert code == 0
    assert points["mean"][0] == pytest.approx(0.074, abs=1e-6)
    assert points["upl"][0] == pytest.approx(0.189412, abs=1e-6)
    assert points["lpl"][0] == 0.0
    s = pl.read_csv(summary)
    assert (s["longest_run"][0], s["longest_run_max"][0], s["crossings"][0], s["crossings_min"][0]) == (
        2,
        7,
        15,
        6,
    )
    assert not s["runs_signal"][0]


def test_t_chart_matches_qicharts2_montgomery_7_6(tmp_path):
    src = _csv(tmp_path, hours=EX_7_6)
    code, points, summary = _run(tmp_path, src, "--chart", "t", "--value", "hours")
    assert code == 0
    assert points["mean"][0] == pytest.approx(430.040952, abs=1e-6)  # qicharts2 multiplier by default
    assert points["upl"][0] == pytest.approx(6937.933488, abs=1e-6)
    s = pl.read_csv(summary)
    assert (s["longest_run"][0], s["crossings"][0]) == (5, 10)


def test_g_c_p_run_and_laney_charts(tmp_path):
    gaps = [12, 3, 7, 30, 1, 9, 14, 2, 5, 22, 8, 4, 17, 6, 11, 0, 19, 3, 10, 26, 7, 2, 13, 5, 160]
    src = _csv(tmp_path, gap=gaps)
    code, points, _ = _run(tmp_path, src, "--chart", "g", "--value", "gap")
    assert code == 0
    m = np.mean(gaps)
    assert points["mean"][0] == pytest.approx(np.median(gaps))
    assert points["upl"][0] == pytest.approx(m + 3 * np.sqrt(m * (m + 1)))
    assert points["point_type"][24] == "special_cause_improvement"
    code, points, summary = _run(tmp_path, src, "--chart", "run", "--value", "gap")
    assert code == 0
    assert points["mean"][0] == pytest.approx(np.median(gaps))
    assert points["upl"].null_count() == points.height
    assert pl.read_csv(summary)["variation_icon"].null_count() == 1
    src = _csv(tmp_path, d=EX_7_4, n=[50] * 20)
    for chart in ("c", "p", "up", "pp"):
        code, points, _ = _run(tmp_path, src, "--chart", chart, "--numerator", "d", "--denominator", "n")
        assert code == 0, chart
    assert points["mean"][0] == pytest.approx(74 / 1000)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--chart", "u", "--numerator", "d"], "--denominator"),
        (["--chart", "p"], "--numerator"),
        (["--chart", "xmr", "--value", "d", "--numerator", "d"], "not both"),
        (["--chart", "t", "--value", "neg"], "non-negative"),
    ],
)
def test_missing_or_conflicting_columns_are_clear_errors(tmp_path, capsys, args, message):
    src = _csv(tmp_path, d=EX_7_4, n=[50] * 20, neg=[-1] * 20)
    assert main(["spc", src, "--date", "week", *args]) == 2
    assert message in capsys.readouterr().err
