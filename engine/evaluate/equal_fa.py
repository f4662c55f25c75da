"""Variants compared at equal false-alarm rates (``wardwatch equal-fa``, issue 26).

Two detection methods can only be compared at the same false-alarm rate: a variant that detects more
at its shipped threshold may simply alarm more. For each trust (a folder with the data files and
``truth.csv``, as ``wardwatch synth`` and ``evaluate --benchmark`` write them) and each settings
variant, the trust is scored once (:func:`engine.scoring.run.evidence_frames`), the constellation
strength of the configured concern rule is taken (:func:`engine.combine.levels.constellation_strength`:
the statistic ``concern_threshold`` is compared with), and the concern threshold is set to the
**lowest value on a grid whose measured false concern alerts stay within the budget** on that trust
(the evaluation's counting rules, :mod:`engine.evaluate.metrics`: alert openings outside every
episode and decoy window, per monitored ward-year). The table gives, at that threshold, the share of
culture episodes detected at ``concern`` within the horizon, the median delay and the share of
ward-level decoys (an acutely unwell patient, a staffing crisis) escalated.

This is how the variant tables of docs/combination.md are measured. It uses the truth (the
threshold is chosen knowing which weeks are in control), so it is an analysis of methods, not a
way to set a trust's thresholds: that is ``wardwatch calibrate-alerts``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from engine.combine.levels import constellation_strength
from engine.config import Config
from engine.evaluate.grid import WEEKS_PER_YEAR, WardGrid, windows_mask
from engine.evaluate.metrics import outcome
from engine.evaluate.oracle import false_alerts_by_threshold
from engine.evaluate.robustness import WARD_DECOY_KINDS
from engine.evaluate.run import _decoy_table, _episode_table
from engine.evaluate.settings import EvaluationSettings
from engine.evaluate.truth import read_truth
from engine.scoring.wards import level_thresholds

#: Columns of the per-trust table (one row per variant and trust).
EQUAL_FA_COLUMNS: tuple[str, ...] = (
    "variant",
    "baselines",
    "trust",
    "threshold",
    "false_concern_per_ward_year",
    "episodes",
    "detected",
    "detected_share",
    "median_delay",
    "ward_decoys",
    "ward_decoys_escalated",
)


@dataclass(frozen=True)
class EqualFASettings:
    """How the equal-false-alarm threshold is searched.

    Attributes
    ----------
    target:
        False concern alerts per monitored ward-year the threshold must not exceed.
    step, max_threshold:
        Threshold grid ``step, 2 step, ..., max_threshold`` (nats, on the concern rule's scale).
    """

    target: float = 0.1
    step: float = 0.125
    max_threshold: float = 30.0

    def __post_init__(self) -> None:
        if self.target <= 0 or self.step <= 0 or self.max_threshold < self.step:
            raise ValueError("target and step must be positive and max_threshold at least step")


@dataclass(frozen=True)
class TrustTruth:
    """A trust's evaluation frame: monitored weeks, in-control weeks, episodes and ward decoys."""

    monitored: np.ndarray
    outside: np.ndarray
    episodes: tuple[np.ndarray, np.ndarray]
    decoys: tuple[np.ndarray, np.ndarray, np.ndarray]
    ward_decoy: np.ndarray


def trust_truth(
    ward_id: np.ndarray,
    periods: np.ndarray,
    first_period: np.ndarray,
    truth_path: Path,
    st: EvaluationSettings,
) -> TrustTruth:
    """The evaluation frame of one scored trust (ward grid from the scoring's ward evidence)."""
    t_count = len(periods)
    monitored = np.arange(t_count)[None, :] >= first_period[:, None]
    grid = WardGrid(
        np.asarray(ward_id).astype(str),
        np.asarray(periods).astype("datetime64[D]"),
        monitored,
        np.zeros(monitored.shape, np.int8),
    )
    truth = read_truth(truth_path)
    episodes = _episode_table(truth, grid, st).filter(pl.col("evaluable"))
    decoys = _decoy_table(truth, grid, st)
    return TrustTruth(
        monitored=monitored,
        outside=monitored & ~windows_mask(grid, truth, st),
        episodes=(episodes["w"].to_numpy(), episodes["onset_t"].to_numpy()),
        decoys=(decoys["w"].to_numpy(), decoys["t0"].to_numpy(), decoys["t1"].to_numpy()),
        ward_decoy=decoys["kind"].is_in(list(WARD_DECOY_KINDS)).to_numpy(),
    )


def concern_strength(
    folder: Path, config: Config, true_baselines: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Score the trust in ``folder`` with ``config``: ``(strength (W, T), ward ids, periods, first
    period)``. ``true_baselines``: the generator's true in-control rates (``latent.parquet`` beside
    the data) replace the estimated baselines (:mod:`engine.scoring.known_rates`)."""
    from engine.evaluate.benchmark import data_files
    from engine.evaluate.run import LATENT_FILE
    from engine.io import load_dataset
    from engine.scoring.known_rates import KnownRates
    from engine.scoring.run import evidence_frames

    obs, wards, events = data_files(folder)
    load = load_dataset(obs, wards, events, catalogue=config.build_catalogue())
    known = KnownRates.read(folder / LATENT_FILE) if true_baselines else None
    _, ev, _, _ = evidence_frames(
        load.observations, load.wards, load.events, load.cadence, config, known_rates=known
    )
    th = level_thresholds(config.combination)
    strength = constellation_strength(ev.domain_stat, th.rule, th.parameter, ev.culture_total)
    return strength, ev.ward_id, ev.periods, ev.first_period


def at_equal_false_alarms(
    strength: np.ndarray, frame: TrustTruth, close_after: int, horizon: int, s: EqualFASettings
) -> dict[str, float | int]:
    """Detection at the lowest grid threshold whose measured false concern alerts meet ``s.target``.

    The false alerts of every grid threshold come from one compiled pass
    (:func:`engine.evaluate.oracle.false_alerts_by_threshold`, the same openings and counting as
    :func:`engine.evaluate.metrics.outcome`); the lowest that meets the budget is taken (not made
    monotone first) and scored in full (NaN threshold when none on the grid does).
    """
    n_ep = len(frame.episodes[0])
    grid = np.arange(1, round(s.max_threshold / s.step) + 1) * s.step
    stat = np.where(frame.monitored, strength, -np.inf)
    years = frame.outside.sum() / WEEKS_PER_YEAR
    fa = (
        false_alerts_by_threshold(stat, frame.outside, grid, close_after) / years
        if years > 0
        else np.zeros(grid.size)
    )
    meets = np.nonzero(fa <= s.target)[0]
    if meets.size == 0:
        return {"threshold": float("nan"), "false_concern_per_ward_year": float("nan"), "episodes": n_ep,
                "detected": 0, "detected_share": float("nan"), "median_delay": float("nan"),
                "ward_decoys": int(frame.ward_decoy.sum()), "ward_decoys_escalated": 0}  # fmt: skip
    h = float(grid[meets[0]])
    o = outcome(frame.monitored & (strength >= h), frame.outside, close_after, frame.episodes, frame.decoys)
    detected = int((o.delay < horizon).sum())
    esc = o.decoy_escalated[frame.ward_decoy]
    return {
        "threshold": h,
        "false_concern_per_ward_year": float(fa[meets[0]]),
        "episodes": n_ep,
        "detected": detected,
        "detected_share": detected / n_ep if n_ep else float("nan"),
        "median_delay": float(np.median(np.minimum(o.delay, horizon))) if n_ep else float("nan"),
        "ward_decoys": int(esc.size),
        "ward_decoys_escalated": int(esc.sum()),
    }


def equal_fa_table(
    folders: list[Path],
    variants: dict[str, Config],
    settings: EqualFASettings | None = None,
    evaluation: EvaluationSettings | None = None,
    true_baselines: bool = False,
) -> pl.DataFrame:
    """One row per variant and trust (:data:`EQUAL_FA_COLUMNS`); ``median_delay`` is capped at the
    horizon (``horizon`` = not detected within it). ``true_baselines``: each variant is also scored
    with the generator's true in-control rates (rows with ``baselines = "true"``)."""
    s = settings or EqualFASettings()
    st = evaluation or EvaluationSettings(bootstrap_replicates=0)
    kinds = (False, True) if true_baselines else (False,)
    rows: list[dict[str, object]] = []
    for folder in folders:
        frame: TrustTruth | None = None
        for name, config in variants.items():
            for known in kinds:
                strength, ward_id, periods, first = concern_strength(folder, config, known)
                if frame is None:
                    frame = trust_truth(ward_id, periods, first, folder / "truth.csv", st)
                row = at_equal_false_alarms(
                    strength, frame, config.combination.close_after, st.horizon_weeks, s
                )
                base = "true" if known else "estimated"
                rows.append({"variant": name, "baselines": base, "trust": str(folder), **row})
    return pl.DataFrame(rows, schema_overrides={"threshold": pl.Float64}).select(EQUAL_FA_COLUMNS)


def summary_by_variant(table: pl.DataFrame) -> pl.DataFrame:
    """Per variant and baselines: mean, median and lowest detected share over the trusts, the trust
    with the lowest, the pooled ward-decoy share escalated and the range of equal-FA thresholds."""
    return table.group_by(["variant", "baselines"], maintain_order=True).agg(
        pl.len().alias("trusts"),
        pl.col("detected_share").mean().alias("mean_detected"),
        pl.col("detected_share").median().alias("median_detected"),
        pl.col("detected_share").min().alias("lowest_detected"),
        pl.col("trust").sort_by("detected_share").first().alias("lowest_trust"),
        (pl.col("ward_decoys_escalated").sum() / pl.col("ward_decoys").sum()).alias("ward_decoys_escalated"),
        pl.col("threshold").min().alias("threshold_min"),
        pl.col("threshold").max().alias("threshold_max"),
    )
