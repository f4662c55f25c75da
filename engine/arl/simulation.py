"""Vectorised Monte Carlo run lengths for any causal detector.

A *detector run* maps an (R, T) block of in-control (or shifted) data — R independent replicate
series of T periods — to an (R, T) boolean alarm array. A *sampler* draws such a block:
``sampler(rng, R, T) -> (R, T) array``. The run length of a replicate is the 1-based period of its
first alarm.

Replicates that have not signalled are extended by doubling their length and re-running the
detector on the whole (longer) series. This relies on the detector being causal (its output at t
does not depend on data after t — the project's truncation property), and costs at most twice a
single pass. Replicates are processed in batches (``batch`` rows), each batch with its own child
seed, so results are reproducible and — with ``common_random_numbers=True`` — the data of every
replicate depend only on the seed, not on when other replicates signalled. Threshold searches use
that to compare thresholds on identical data (common random numbers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from engine.arl.results import ArlResult

DetectorRun = Callable[[NDArray[np.float64]], NDArray[np.bool_]]
Sampler = Callable[[np.random.Generator, int, int], NDArray[np.float64]]


@dataclass(frozen=True)
class RunLengthSample:
    """Simulated run lengths.

    Attributes
    ----------
    run_lengths : (R,) int array
        First-alarm period (1-based) of each replicate; ``max_periods`` where censored.
    censored : (R,) bool array
        True where the replicate had not signalled by ``max_periods``.
    max_periods : int
        The simulation cap (periods).
    """

    run_lengths: NDArray[np.int64]
    censored: NDArray[np.bool_]
    max_periods: int

    @property
    def arl(self) -> float:
        """Mean run length (periods); a lower bound when any replicate is censored."""
        return float(self.run_lengths.mean())

    @property
    def se(self) -> float:
        """Monte Carlo standard error of :attr:`arl`."""
        r = self.run_lengths
        return float(r.std(ddof=1) / np.sqrt(len(r))) if len(r) > 1 else float("nan")

    def false_alarm_probability(self, periods: int = 52) -> tuple[float, float]:
        """``P(RL <= periods)`` and its binomial standard error (valid if ``periods <= max_periods``)."""
        if periods > self.max_periods:
            raise ValueError("periods exceeds the simulation cap")
        p = float(np.mean(self.run_lengths <= periods))
        return p, float(np.sqrt(p * (1.0 - p) / len(self.run_lengths)))

    def result(self) -> ArlResult:
        """As an :class:`ArlResult` (``method="simulation"``)."""
        return ArlResult(
            arl=self.arl,
            method="simulation",
            se=self.se,
            replicates=len(self.run_lengths),
            censored=int(self.censored.sum()),
        )


def first_alarm(alarm: NDArray[np.bool_]) -> NDArray[np.int64]:
    """1-based period of the first True in each row; 0 where the row has none."""
    alarm = np.asarray(alarm, dtype=bool)
    hit = alarm.any(axis=1)
    return np.where(hit, alarm.argmax(axis=1) + 1, 0)


def _batch_run_lengths(
    detector_run: DetectorRun,
    sampler: Sampler,
    rng: np.random.Generator,
    rows: int,
    initial_periods: int,
    max_periods: int,
    common_random_numbers: bool,
) -> tuple[NDArray[np.int64], NDArray[np.bool_]]:
    rl = np.zeros(rows, dtype=np.int64)
    active = np.arange(rows)
    T = min(initial_periods, max_periods)
    data = sampler(rng, rows, T)
    while True:
        alarm = np.asarray(detector_run(data))
        if alarm.shape != data.shape:
            raise ValueError(f"detector returned shape {alarm.shape}, expected {data.shape}")
        fa = first_alarm(alarm)
        done = fa > 0
        rl[active[done]] = fa[done]
        active, data = active[~done], data[~done]
        if len(active) == 0 or max_periods <= T:
            break
        extra = min(T, max_periods - T)
        if common_random_numbers:
            new = sampler(rng, rows, extra)[active]
        else:
            new = sampler(rng, len(active), extra)
        data = np.concatenate((data, new), axis=1)
        T += extra
    censored = np.zeros(rows, dtype=bool)
    censored[active] = True
    rl[active] = max_periods
    return rl, censored


def simulate_run_length(
    detector_run: DetectorRun,
    sampler: Sampler,
    replicates: int = 20_000,
    seed: int = 20_240_501,
    initial_periods: int = 512,
    max_periods: int = 1_000_000,
    batch: int = 2_000,
    common_random_numbers: bool = False,
) -> RunLengthSample:
    """Simulate run lengths of a causal detector on data from ``sampler``.

    Parameters
    ----------
    detector_run : callable
        ``(R, T) data -> (R, T) bool alarms``; must be causal and treat rows independently.
    sampler : callable
        ``(rng, R, T) -> (R, T) data``; draws R independent series of T periods (in control for
        ARL0, shifted for ARL1). Must draw row-major (row i of ``sampler(rng, R, T)`` is replicate i).
    replicates : int
        Number of run lengths.
    seed : int
        Seed of ``numpy.random.SeedSequence``; each batch gets a spawned child.
    initial_periods : int
        Length of the first block (set it near the expected ARL).
    max_periods : int
        Cap; replicates still silent there are censored at ``max_periods``.
    batch : int
        Replicates per batch (bounds memory: about ``batch × 2·max run length`` values).
    common_random_numbers : bool
        Draw data for every row of a batch even after it signalled, so each replicate's data depend
        only on ``seed`` (use when comparing thresholds); costs extra sampling.
    """
    if replicates < 2:
        raise ValueError("need at least 2 replicates")
    seeds = np.random.SeedSequence(seed).spawn(-(-replicates // batch))
    rls, cens = [], []
    for b, ss in enumerate(seeds):
        rows = min(batch, replicates - b * batch)
        rl, c = _batch_run_lengths(
            detector_run,
            sampler,
            np.random.default_rng(ss),
            rows,
            initial_periods,
            max_periods,
            common_random_numbers,
        )
        rls.append(rl)
        cens.append(c)
    return RunLengthSample(np.concatenate(rls), np.concatenate(cens), max_periods)


def simulate_false_alarm_probability(
    detector_run: DetectorRun,
    sampler: Sampler,
    periods: int = 52,
    replicates: int = 20_000,
    seed: int = 20_240_501,
    batch: int = 20_000,
) -> tuple[float, float]:
    """``P(at least one alarm within periods)`` under ``sampler`` and its standard error.

    With weekly in-control data and ``periods = 52`` this is the per-chart yearly false-alarm
    probability a trust-wide budget needs. Only ``periods`` columns are ever simulated.
    """
    seeds = np.random.SeedSequence(seed).spawn(-(-replicates // batch))
    hits = 0
    for b, ss in enumerate(seeds):
        rows = min(batch, replicates - b * batch)
        data = sampler(np.random.default_rng(ss), rows, periods)
        hits += int(np.asarray(detector_run(data)).any(axis=1).sum())
    p = hits / replicates
    return p, float(np.sqrt(p * (1.0 - p) / replicates))
