"""Result dataclasses shared by the detectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SideResult:
    """One one-sided chart over ``(S, T)`` series x periods, oriented so that *larger is worse*.

    Attributes
    ----------
    direction : str
        ``"up"`` (watching for a rise) or ``"down"`` (watching for a fall).
    statistic : (S, T) float64
        Chart statistic after period t (carried unchanged over missing periods; reported *before*
        any restart, so the value at an alarm period exceeds the threshold).
    threshold : (S,) or (S, T) float64
        Signal limit: alarm when ``statistic > threshold`` (``>=`` for the GLR, as in Höhle–Paul).
    alarm : (S, T) bool
        The chart signals at period t.
    onset : (S, T) int64
        Estimated start of the current excursion: the first period of the current run in which the
        statistic is above its resting value (the period after it last *left* zero), ``-1`` at rest.
    """

    direction: str
    statistic: np.ndarray
    threshold: np.ndarray
    alarm: np.ndarray
    onset: np.ndarray


@dataclass(frozen=True)
class DetectorResult:
    """Output of a detector: one or two one-sided charts (``both`` = up and down).

    Attributes
    ----------
    detector : str
        Registry name of the detector that produced it.
    sides : tuple of SideResult
        ``(up,)``, ``(down,)`` or ``(up, down)``.
    """

    detector: str
    sides: tuple[SideResult, ...]

    @property
    def alarm(self) -> np.ndarray:
        """``(S, T)`` bool: any side signals at t."""
        out = self.sides[0].alarm.copy()
        for side in self.sides[1:]:
            out |= side.alarm
        return out

    def side(self, direction: str) -> SideResult:
        """The one-sided chart for ``"up"`` or ``"down"``."""
        for s in self.sides:
            if s.direction == direction:
                return s
        raise KeyError(f"no {direction!r} side in this result")

    @property
    def up(self) -> SideResult | None:
        return next((s for s in self.sides if s.direction == "up"), None)

    @property
    def down(self) -> SideResult | None:
        return next((s for s in self.sides if s.direction == "down"), None)


def first_alarm(alarm: np.ndarray) -> np.ndarray:
    """``(S,)`` index of each series' first alarm, ``-1`` if none."""
    hit = alarm.any(axis=1)
    return np.where(hit, np.argmax(alarm, axis=1), -1)


def excursion_mask(result: DetectorResult, fraction: float = 0.5) -> np.ndarray:
    """``(S, T)`` bool periods in which any side is in alarm or above ``fraction`` of its threshold.

    Known at each period from data up to it, so it can be passed as ``exclude`` to
    :func:`engine.baselines.fit_baselines` (updating mode) without look-ahead: the updated baseline then
    never absorbs a developing or ongoing alarm.
    """
    out = result.alarm.copy()
    for s in result.sides:
        thr = s.threshold if s.threshold.ndim == 2 else s.threshold[:, None]
        with np.errstate(invalid="ignore"):
            out |= s.statistic > fraction * thr
    return out
