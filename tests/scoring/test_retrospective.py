"""score --retrospective on a short synthetic history; monitoring's peer silence has no look-ahead."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from engine.cli import main
from engine.config import Config
from engine.io import load_dataset
from engine.scoring.reporting import scores_reporting
from engine.scoring.retrospective import retrospective
from engine.scoring.run import score

MONTHS = [dt.date(2022 + (m // 12), m % 12 + 1, 1) for m in range(18)]


@pytest.fixture(scope="module")
def short_history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """18 months, 12 providers; P00 triples its rate from month 9; P01 is silent months 4-9 and
    resumes at three times its earlier level; P02 never reports restraint (bed days every month)."""
    d = tmp_path_factory.mktemp("short")
    rng = np.random.default_rng(21)
    rows = []
    for p in range(12):
        for m, day in enumerate(MONTHS):
            beds = 3000
            rate = 0.01 * (3 if (p == 0 and m >= 9) or (p == 1 and m >= 10) else 1)
            y = str(rng.poisson(rate * beds))
            if (p == 1 and 4 <= m < 10) or p == 2:
                y = ""
            rows.append((f"P{p:02d}", day.isoformat(), "people_restrained", y, beds))
    pl.DataFrame(
        rows, schema=["ward_id", "period", "indicator", "numerator", "denominator"], orient="row"
    ).write_csv(d / "observations.csv")
    pl.DataFrame(
        {"ward_id": [f"P{p:02d}" for p in range(12)], "ward_name": [f"Provider {p}" for p in range(12)],
         "provider": [f"Provider {p}" for p in range(12)], "ward_type": ["other"] * 12}
    ).write_csv(d / "wards.csv")  # fmt: skip
    return d


def test_retrospective_finds_the_change_and_when(short_history: Path) -> None:
    load = load_dataset(short_history / "observations.csv", short_history / "wards.csv")
    res = retrospective(load.observations, load.cadence, load.wards, Config().build_catalogue())
    p0 = res.changes.filter(pl.col("ward_id") == "P00")
    assert p0.height == 1 and p0["change_period"][0] == MONTHS[9] and 2.0 < p0["ratio"][0] < 4.5
    assert not res.changes.filter(pl.col("ward_id").is_in([f"P{p:02d}" for p in range(3, 12)])).height
    silent = res.reporting.filter(pl.col("kind") == "data_silence")
    assert set(silent["ward_id"]) == {"P01", "P02"}
    disc = res.reporting.filter(pl.col("discontinuity"))
    assert disc["ward_id"].to_list() == ["P01"]
    assert "at 3." in disc["explanation"][0] or "at 2." in disc["explanation"][0]
    assert (res.series["loo_rate"].drop_nans().drop_nulls() > 0).all()


def test_retrospective_cli_writes_apart(short_history: Path, tmp_path: Path) -> None:
    files = [
        "--observations",
        str(short_history / "observations.csv"),
        "--wards",
        str(short_history / "wards.csv"),
    ]
    assert main(["score", "--retrospective", *files, "--out", str(tmp_path / "retro")]) == 0
    assert json.loads((tmp_path / "retro" / "retrospective.json").read_text())["mode"] == "retrospective"
    assert not (tmp_path / "retro" / "alerts.csv").exists()
    # monitoring refuses the retrospective folder, the retrospective refuses a monitoring one
    assert main(["score", *files, "--out", str(tmp_path / "retro")]) == 2
    assert main(["score", *files, "--out", str(tmp_path / "mon"), "--no-charts"]) == 0
    assert main(["score", "--retrospective", *files, "--out", str(tmp_path / "mon")]) == 2
    assert (
        main(["score", "--retrospective", *files, "--out", str(tmp_path / "x"), "--as-of", "2022-06-01"]) == 2
    )


def test_monitoring_peer_silence_has_no_look_ahead(short_history: Path) -> None:
    load = load_dataset(short_history / "observations.csv", short_history / "wards.csv")
    full = score(load)
    sc = full.parts["monthly"]
    assert sc.peer_silence is not None
    rows = sc.peer_silence_rows
    for cut in (MONTHS[5], MONTHS[9], MONTHS[10]):
        part = score(load, as_of=cut).parts["monthly"]
        t = part.panel.shape[1]
        for name in ("alarm", "run_length", "log_probability", "resumed", "discontinuity"):
            np.testing.assert_array_equal(
                getattr(part.peer_silence, name), getattr(sc.peer_silence, name)[:, :t], err_msg=name
            )
        np.testing.assert_array_equal(part.data_silence_alarm[rows], sc.data_silence_alarm[rows][:, :t])
    rep = scores_reporting(full.parts)
    assert {"P01", "P02"} <= set(rep.filter(pl.col("kind") == "data_silence")["ward_id"])
