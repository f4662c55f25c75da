"""From domain evidence to a ward level and score (see docs/combination.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.contract.levels import LEVEL_NAMES, Level

#: level names indexed by level code (alias of ``engine.contract.LEVEL_NAMES``).
LEVELS: tuple[str, ...] = LEVEL_NAMES
#: level codes of the ``(W, T)`` level arrays (the contract's ranks).
NONE, WATCH, CONCERN, URGENT = (lv.rank for lv in (Level.NONE, Level.WATCH, Level.CONCERN, Level.URGENT))


@dataclass(frozen=True)
class LevelThresholds:
    """Thresholds in nats on the domain statistics."""

    domain: float  # one domain at or above this: watch (inf: off)
    concern: float  # two or more culture domains at or above this: concern
    urgent: float  # concern and restrictive practice or harm at or above this: urgent
    watch: float = np.inf  # two or more culture domains at or above this: watch (the constellation forming)


def second_largest(stat: np.ndarray, axis: int = 1) -> np.ndarray:
    """The second-largest value along ``axis`` (the constellation strength)."""
    part = np.partition(stat, -2, axis=axis)
    return np.take(part, -2, axis=axis)


def ward_levels(
    culture: np.ndarray,
    single_alarm: np.ndarray,
    thresholds: LevelThresholds,
    severe_domains: tuple[int, ...] = (0, 1),
) -> tuple[np.ndarray, np.ndarray]:
    """Level codes and scores per ward and week.

    Parameters
    ----------
    culture:
        ``(W, 4, T)`` culture-domain statistics (nats), domains in ``signals.CULTURE_DOMAINS`` order.
    single_alarm:
        ``(W, T)`` bool: single-indicator alarms that raise ``watch`` (all False when indicator
        alerts stay indicator alerts, the default; see ``combination.watch_on_indicator_alerts``).
    severe_domains:
        Indices of the domains whose strong evidence makes a concern urgent (restrictive practice,
        harm and reporting).

    Returns
    -------
    level:
        ``(W, T)`` int8 index into :data:`LEVELS`.
    score:
        ``(W, T)`` sum of the culture-domain statistics (nats).
    """
    score = culture.sum(axis=1)
    d2 = second_largest(culture)
    watch = (culture >= thresholds.domain).any(axis=1) | single_alarm | (d2 >= thresholds.watch)
    concern = d2 >= thresholds.concern
    severe = (culture[:, list(severe_domains), :] >= thresholds.urgent).any(axis=1)
    level = np.full(score.shape, NONE, dtype=np.int8)
    level[watch] = WATCH
    level[concern] = CONCERN
    level[concern & severe] = URGENT
    return level, score


def upcrossings(x: np.ndarray, threshold: float) -> np.ndarray:
    """``(W,)`` number of times each row of ``(W, T)`` ``x`` rises from below to at/above ``threshold``.

    A row starting at/above the threshold counts one opening at t = 0.
    """
    above = x >= threshold
    opened = above[:, 1:] & ~above[:, :-1]
    return opened.sum(axis=1) + above[:, 0]
