"""Known truth on screen: injected episodes of a synthetic trust, and what the served results did with them.

When a ``truth.csv`` (synthetic/README.md) sits beside the data, every closed-culture episode is
classed with ``engine.evaluate``'s own counting rules (:func:`engine.evaluate.run.evaluate`, without
bootstrap or oracle): *detected* when a ward concern alert opened within the horizon
(``horizon_weeks``, 16 by default) of onset, *late* when it opened later, *missed* when none opened
after onset, and *not evaluable* when the ward is not in the results or the onset is outside them.
Decoys (look-alike changes that are not closed cultures) are listed with whether the ward reached
concern during their window.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from engine.contract.levels import Level

TRUTH_FILE = "truth.csv"
OUTCOME_WORDS: dict[str, str] = {
    "detected": "Detected",
    "late": "Detected late",
    "missed": "Missed",
    "not_evaluable": "Not evaluable",
}


@dataclass(frozen=True)
class KnownTruth:
    """Injected episodes with their outcome in the served results.

    ``episodes``: ``episode_id, ward_id, kind, onset, full_effect, end, outcome`` (one of
    :data:`OUTCOME_WORDS`), ``concern_week`` (first concern alert at or after onset),
    ``delay_weeks``, ``watch_week``, ``watch_delay_weeks``. ``decoys``: ``episode_id, ward_id, kind,
    onset, end`` and ``escalated`` (concern during the decoy's window). ``horizon``: weeks.
    """

    episodes: pl.DataFrame
    decoys: pl.DataFrame
    horizon: int
    path: Path

    def counts(self) -> dict[str, int]:
        """Episodes per outcome."""
        got = dict(self.episodes.group_by("outcome").len().iter_rows())
        return {k: int(got.get(k, 0)) for k in OUTCOME_WORDS}

    def ward(self, ward_id: str) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(episodes, decoys) of one ward."""
        return (
            self.episodes.filter(pl.col("ward_id") == ward_id),
            self.decoys.filter(pl.col("ward_id") == ward_id),
        )


def truth_path(data_dir: Path) -> Path | None:
    """``truth.csv`` beside the data, or ``None``."""
    p = data_dir / TRUTH_FILE
    return p if p.exists() else None


def known_truth(truth: Path, results_dir: Path, horizon_weeks: int = 16) -> KnownTruth:
    """Class every injected episode by the evaluation's rules (see the module docstring).

    Raises
    ------
    engine.evaluate.truth.TruthError, engine.evaluate.run.EvaluationError
        A malformed truth file or results folder (messages name the file).
    """
    from engine.evaluate.grid import grid_from_status, window_end
    from engine.evaluate.metrics import openings, window_any
    from engine.evaluate.run import evaluate, read_results
    from engine.evaluate.settings import EvaluationSettings
    from engine.evaluate.truth import read_truth

    settings = EvaluationSettings(horizon_weeks=horizon_weeks, bootstrap_replicates=0, oracle=False)
    ev = evaluate(truth, results_dir, settings)
    ep = ev.episodes.with_columns(
        pl.when(~pl.col("evaluable"))
        .then(pl.lit("not_evaluable"))
        .when(pl.col("concern_detected"))
        .then(pl.lit("detected"))
        .when(pl.col("concern_delay_weeks").is_not_null())
        .then(pl.lit("late"))
        .otherwise(pl.lit("missed"))
        .alias("outcome")
    ).select(
        "episode_id", "ward_id", "kind", "onset", "full_effect", "end", "outcome",
        pl.col("concern_week"), pl.col("concern_delay_weeks").alias("delay_weeks"),
        "watch_week", "watch_delay_weeks",
    )  # fmt: skip
    # decoys: the same opening and window rules as the evaluation's decoy escalation
    rows = read_truth(truth).filter(pl.col("role") == "decoy")
    res = read_results(results_dir)
    grid = grid_from_status(res.ward_status)
    ends = window_end(rows, grid.periods[-1].astype("datetime64[D]").item(), settings)
    opened = openings(grid.level >= Level.CONCERN.rank, res.config.combination.close_after)
    esc = window_any(
        opened,
        grid.ward_index(rows["ward_id"].to_numpy()),
        grid.week_index(rows["onset"].to_numpy().astype("datetime64[D]")),
        grid.week_index(ends.to_numpy().astype("datetime64[D]")),
    )
    decoys = rows.select("episode_id", "ward_id", "kind", "onset", "end").with_columns(
        pl.Series("escalated", esc)
    )
    return KnownTruth(ep.sort("onset", "episode_id"), decoys, horizon_weeks, truth)


def cached_known_truth(data_dir: Path, results_key: str, results_dir: Path) -> KnownTruth | None:
    """:func:`known_truth` cached on (results content, truth file digest); ``None`` without truth."""
    path = truth_path(data_dir)
    if path is None:
        return None
    from dashboard.services.results import file_digest

    return _cached(results_key, file_digest(path), str(path), str(results_dir))


@functools.cache
def _cached_impl():
    import streamlit as st

    @st.cache_resource(max_entries=4, show_spinner=False)
    def load(results_key: str, truth_digest: str, path: str, results_dir: str) -> KnownTruth:
        return known_truth(Path(path), Path(results_dir))

    return load


def _cached(results_key: str, truth_digest: str, path: str, results_dir: str) -> KnownTruth:
    return _cached_impl()(results_key, truth_digest, path, results_dir)
