"""Slowly updating baselines: causal (as-of exact) and never absorbing a ward's constellation."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import polars as pl

from engine.config import Config
from engine.scoring.run import constellation_exclusion, score


def _updating() -> Config:
    cfg = Config()
    return dataclasses.replace(
        cfg,
        baselines=dataclasses.replace(cfg.baselines, mode="updating"),
        baselines_monthly=dataclasses.replace(cfg.baselines_monthly, mode="updating"),
    )


def test_updating_mode_is_as_of_exact(loaded):
    cfg = _updating()
    full = score(loaded, cfg)
    last = full.ward_status["period"].max()
    for weeks in (5, 40):
        cut = last - dt.timedelta(weeks=weeks)
        part = score(loaded, cfg, as_of=cut)
        assert part.ward_status.equals(full.ward_status.filter(pl.col("period") <= cut))


def test_updating_baselines_move_but_skip_constellation_periods(loaded, scored):
    upd = score(loaded, _updating())
    weekly = upd.parts["weekly"]
    frozen = scored.parts["weekly"]
    # the baseline follows the data after the warm-up (it is not constant within a segment) ...
    moved = np.nanmax(np.abs(weekly.baseline_rate - frozen.baseline_rate))
    assert moved > 0
    # ... and the exclusion marks exactly the weeks the frozen pass put the ward at concern or above
    excl = constellation_exclusion(scored.wards, scored.parts)["weekly"]
    ward = scored.wards.series_ward["weekly"]
    np.testing.assert_array_equal(excl, scored.wards.level[ward] >= 2)
