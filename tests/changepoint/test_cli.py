"""``wardwatch changepoints`` end to end on a small observations file."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl

from engine.cli import main


def _write(path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(4)
    rows = []
    for ward in ("W1", "W2"):
        for k in range(104):
            period = dt.date(2023, 1, 2) + dt.timedelta(weeks=k)
            obd = float(rng.integers(80, 120))
            rate = 0.06 if (ward == "W1" and k >= 60) else 0.02
            rows.append(
                {
                    "ward_id": ward,
                    "period": period.isoformat(),
                    "indicator": "restraint",
                    "numerator": int(rng.poisson(rate * obd)),
                    "denominator": obd,
                }
            )
    pl.DataFrame(rows).write_csv(path)


def test_cli_lists_change_points(tmp_path, capsys) -> None:
    path = tmp_path / "obs.csv"
    _write(path)
    assert main(["changepoints", str(path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    cps = doc["change_points"]
    assert len(cps) == 1
    assert cps[0]["ward_id"] == "W1" and cps[0]["indicator"] == "restraint"
    week = (dt.date.fromisoformat(cps[0]["period"]) - dt.date(2023, 1, 2)).days // 7
    assert abs(week - 60) <= 3
    assert cps[0]["rebase"] and cps[0]["effect"] > 2
    # as of week 50 (before the change) nothing is found: nothing after --upto is read
    assert main(["changepoints", str(path), "--json", "--upto", "2023-12-18"]) == 0
    assert json.loads(capsys.readouterr().out)["change_points"] == []
    out = tmp_path / "cp.csv"
    assert main(["changepoints", str(path), "--out", str(out)]) == 0
    assert pl.read_csv(out).height == 1


def test_cli_errors(tmp_path, capsys) -> None:
    path = tmp_path / "obs.csv"
    _write(path)
    assert main(["changepoints", str(path), "--min-size", "0"]) == 2
    assert main(["changepoints", str(path), "--upto", "soon"]) == 2
    assert main(["changepoints", str(tmp_path / "missing.csv")]) == 2
    assert "error" in capsys.readouterr().err
