"""synth -> score -> evaluate / sweep on a small trust: consistency with scoring, reproducibility."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from engine.cli import main
from engine.config import Config
from engine.evaluate.benchmark import BenchmarkSettings, make_data, score_folder
from engine.evaluate.grid import grid_from_status
from engine.evaluate.metrics import openings
from engine.evaluate.run import evaluate
from engine.evaluate.settings import EvaluationSettings
from engine.evaluate.sweep import parse_grid, run_sweep

pytestmark = pytest.mark.slow

SMALL = BenchmarkSettings(
    wards=40,
    weeks=104,
    seed=3,
    scenarios="closed_culture=4,concealment=1,acute_patient=2,staffing_crisis=1,definition_change=1,reporting_migration=1",
)
ST = EvaluationSettings(bootstrap_replicates=200)


@pytest.fixture(scope="module")
def trust(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    make_data(SMALL, root / "data")
    score_folder(root / "data", root / "results", Config())
    return root


def test_wardwatch_openings_are_the_scored_ward_alerts(trust):
    grid = grid_from_status(pl.read_csv(trust / "results" / "ward_status.csv", infer_schema=False))
    opened = openings(grid.monitored & (grid.level >= 2), Config().combination.close_after)
    alerts = pl.read_csv(trust / "results" / "alerts.csv", infer_schema=False).filter(
        pl.col("scope") == "ward"
    )
    w, t = np.nonzero(opened)
    ours = sorted(zip(grid.ward_id[w].tolist(), [str(grid.periods[i]) for i in t], strict=True))
    assert ours == sorted(zip(alerts["ward_id"].to_list(), alerts["opened"].to_list(), strict=True))


def test_methods_and_oracle(trust):
    ev = evaluate(trust / "data" / "truth.csv", trust / "results", ST)
    methods = set(ev.summary["method"])
    assert {"wardwatch", "cusum", "ewma", "silence", "mdc", "oracle"} <= methods
    s = {r["method"]: r for r in ev.summary.iter_rows(named=True)}
    assert s["wardwatch"]["episodes"] == 5
    # the oracle is calibrated to no more false alerts than wardwatch raised
    assert s["oracle"]["false_alerts"] <= s["wardwatch"]["false_alerts"]
    assert ev.episodes["oracle_indicators"].str.len_chars().min() > 0
    # every method counts false alerts on the same ward-time
    assert ev.summary["ward_years"].n_unique() == 1


def test_cli_outputs_and_check(trust, tmp_path, capsys):
    out = tmp_path / "ev"
    args = ["evaluate", "--truth", str(trust / "data" / "truth.csv"), "--results", str(trust / "results")]
    assert main([*args, "--out", str(out), "--bootstrap", "200"]) == 0
    for name in (
        "episodes.csv",
        "summary.csv",
        "decoys.csv",
        "evaluation.json",
        "tradeoff.png",
        "detection_curve.svg",
    ):
        assert (out / name).exists()
    rec = json.loads((out / "evaluation.json").read_text())
    assert rec["truth"]["sha256"] and rec["scoring"]["config"] and rec["seeds"]["bootstrap"] == 20261122
    assert main(["evaluate", "--check", str(out)]) == 0
    # tampering with a number is detected
    summary = (out / "summary.csv").read_text().replace("wardwatch,", "wardwatch,", 1)
    (out / "summary.csv").write_text(summary)
    rec["outputs"]["summary.csv"] = "0" * 64
    (out / "evaluation.json").write_text(json.dumps(rec))
    assert main(["evaluate", "--check", str(out)]) == 1
    assert main(["evaluate", "--truth", str(tmp_path / "nope.csv"), "--results", str(trust / "results")]) == 2


def test_sweep_runs_and_resumes(trust, tmp_path):
    points = parse_grid("combination.concern_threshold=4,6")
    table = run_sweep(trust / "data", tmp_path / "sw", points, Config(), ST, jobs=1, progress=False)
    assert table.filter(pl.col("method") == "wardwatch").height == 2
    assert (tmp_path / "sw" / "sweep.csv").exists()
    stamp = {
        p.id: (tmp_path / "sw" / "points" / p.id / "evaluation" / "evaluation.json").stat().st_mtime_ns
        for p in points
    }
    again = run_sweep(trust / "data", tmp_path / "sw", points, Config(), ST, jobs=1, progress=False)
    assert again.equals(table)
    for p in points:
        assert (
            tmp_path / "sw" / "points" / p.id / "evaluation" / "evaluation.json"
        ).stat().st_mtime_ns == stamp[p.id]
    ww = table.filter(pl.col("method") == "wardwatch").sort("combination.concern_threshold")
    # a higher concern threshold never raises more false alerts on the same data
    assert ww["false_alerts"][0] >= ww["false_alerts"][1]
