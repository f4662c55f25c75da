"""Settings of an evaluation run (``wardwatch evaluate``): windows, horizon, bootstrap."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EvaluationSettings:
    """How detections, false alerts and decoy escalations are counted (units: weeks).

    The exact rules are in docs/evaluation.md; in short: an episode is *detected* at level X in the
    first week ``t >= onset`` at which the ward's level is at least X, and counts as detected
    within the horizon when ``t - onset < horizon_weeks``. False alerts are alert openings in
    monitored ward-weeks outside every episode and decoy window.
    """

    horizon_weeks: int = field(
        default=16,
        metadata={"doc": "an episode counts as detected when flagged within this many weeks of onset"},
    )
    grace_weeks: int = field(
        default=8,
        metadata={"doc": "weeks after an episode or decoy ends that still belong to its window"},
    )
    step_window_weeks: int = field(
        default=26,
        metadata={"doc": "window of a decoy with no end (a permanent step): weeks after its full effect"},
    )
    min_history_weeks: int = field(
        default=0,
        metadata={"doc": "episodes with fewer monitored weeks before onset are listed but not scored"},
    )
    bootstrap_replicates: int = field(
        default=2000, metadata={"doc": "bootstrap replicates for the confidence intervals"}
    )
    ci_level: float = field(default=0.95, metadata={"doc": "confidence level of the bootstrap intervals"})
    seed: int = field(default=20261122, metadata={"doc": "seed of the bootstrap resampling"})
    oracle: bool = field(
        default=True, metadata={"doc": "compute the oracle (needs series.parquet with expected rates)"}
    )

    def __post_init__(self) -> None:
        if self.horizon_weeks < 1:
            raise ValueError("horizon_weeks must be at least 1")
        if min(self.grace_weeks, self.step_window_weeks, self.min_history_weeks) < 0:
            raise ValueError("grace_weeks, step_window_weeks and min_history_weeks must not be negative")
        if self.bootstrap_replicates < 0:
            raise ValueError("bootstrap_replicates must not be negative")
        if not 0 < self.ci_level < 1:
            raise ValueError("ci_level must be between 0 and 1")
