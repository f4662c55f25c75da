"""Shared check: scoring as of T reproduces the rows up to T of a full run, for chosen cut-offs."""

from __future__ import annotations

import datetime as dt

import polars as pl

from engine.io import LoadResult
from engine.scoring.run import ScoreResult, score


def as_of_mismatches(load: LoadResult, full: ScoreResult, cuts: list[dt.date]) -> list[str]:
    """Cut-offs whose truncated run differs from the full run's rows up to the cut-off."""
    bad = []
    for cut in cuts:
        part = score(load, as_of=cut).ward_status
        expected = full.ward_status.filter(pl.col("period") <= cut)
        if not part.equals(expected):
            bad.append(cut.isoformat())
    return bad


def weekly_cuts(full: ScoreResult, step: int) -> list[dt.date]:
    """Every ``step``-th week of the full run's grid (the last week included)."""
    weeks = sorted(full.ward_status["period"].unique().to_list())
    cuts = weeks[step - 1 :: step]
    if weeks[-1] not in cuts:
        cuts.append(weeks[-1])
    return cuts
