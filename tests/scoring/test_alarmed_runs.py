"""The alarmed silent runs of the reporting table equal their reference formulation over every row."""

from __future__ import annotations

import numpy as np
import polars as pl

from engine.detectors.silence import PeerSilenceResult
from engine.scoring.reporting import _alarmed_runs
from tests.scoring.silence_fixtures import peer_result, run_lengths


def _reference(result: PeerSilenceResult) -> pl.DataFrame:
    """The formulation before the rows without an alarm were skipped: every silent cell of every row."""
    run, t_count = result.run_length, result.run_length.shape[1]
    onset = result.onset
    nxt = np.concatenate([run[:, 1:], np.zeros((run.shape[0], 1), dtype=run.dtype)], axis=1)
    ends = (run > 0) & ((nxt == 0) | (np.arange(t_count) == t_count - 1)[None, :])
    alarm_first = np.where(result.alarm, np.arange(t_count)[None, :], t_count)
    silent_r, silent_t = np.nonzero(run > 0)
    silent = pl.DataFrame(
        {"row": silent_r, "t": silent_t, "onset": onset[run > 0], "alarm_t": alarm_first[run > 0]}
    )
    first_alarm = silent.group_by("row", "onset").agg(pl.col("alarm_t").min())
    end_r, end_t = np.nonzero(ends)
    runs = pl.DataFrame(
        {
            "row": end_r,
            "t": end_t,
            "onset": onset[end_r, end_t],
            "periods": run[end_r, end_t].astype(np.int64),
            "expected_count": result.expected_count[end_r, end_t],
            "probability": np.exp(result.log_probability[end_r, end_t]),
        }
    ).join(first_alarm, on=["row", "onset"], how="inner")
    return runs.filter(pl.col("alarm_t") < t_count)


def _result(seed: int, s: int = 40, t: int = 30) -> PeerSilenceResult:
    rng = np.random.default_rng(seed)
    run = run_lengths(rng.random((s, t)) < 0.35, np.int32)
    alarm = (run >= 2) & (rng.random((s, t)) < 0.3) & (np.arange(s) % 3 == 0)[:, None]
    return peer_result(
        run_length=run,
        alarm=alarm,
        expected_count=rng.uniform(0, 9, (s, t)),
        log_probability=-rng.uniform(0, 6, (s, t)),
    )


def test_alarmed_runs_match_the_reference():
    for seed in (0, 1, 2):
        result = _result(seed)
        got, want = _alarmed_runs(result), _reference(result)
        assert want.height > 0
        key = ["row", "t"]
        assert got.sort(key).equals(want.select(got.columns).sort(key))
    quiet = _result(3)
    quiet = PeerSilenceResult(**{**quiet.__dict__, "alarm": np.zeros_like(quiet.alarm)})
    assert _alarmed_runs(quiet).height == 0 == _reference(quiet).height
