"""The change-point result: segments of every series as dense ``(S, T)`` arrays and flat lists."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ChangePointResult:
    """Optimal segmentation of ``S`` series of ``T`` periods (retrospective).

    Dense arrays follow the panel layout (series x periods). Flat arrays list the segments of all
    series one after the other: series ``i`` owns entries ``indptr[i]:indptr[i + 1]``.

    Attributes
    ----------
    starts:
        ``(S, T)`` bool: a new segment starts at this period (a change point). The first observed
        period after a change; missing periods between the last observation of a segment and the
        first of the next belong to the earlier segment.
    segment_id:
        ``(S, T)`` int32: 0-based index of the segment each period belongs to.
    segment_rate:
        ``(S, T)`` float: fitted level of that segment: events per unit exposure (``poisson``),
        proportion (``binomial``) or mean of ``y / n`` (``normal``); ``NaN`` for a series with no
        observation.
    effect:
        ``(S, T)`` float at change points, ``NaN`` elsewhere: rate ratio after / before (``poisson``,
        ``binomial``; ``inf`` from a zero rate) or mean shift in units of ``sigma`` (``normal``).
    rebase:
        ``(S, T)`` bool: proposed rebase points, changes whose effect is clinically relevant
        (``|log ratio| >= log rebase_ratio`` or ``|shift| >= rebase_shift_sd``).
    n_changes:
        ``(S,)`` int: number of change points.
    objective:
        ``(S,)`` float: optimal penalised objective (scaled costs + penalties).
    model:
        ``(S,)`` str: cost used (``poisson``, ``binomial``, ``normal``).
    n_obs:
        ``(S,)`` int: observed periods (the ``m`` in the penalties).
    beta, lam:
        ``(S,)`` float: penalty per change and weight of the ``log(segment length)`` term.
    phi:
        ``(S,)`` float: dispersion dividing the cost (``1`` when not estimated; ``NaN`` for
        ``normal``).
    sigma:
        ``(S,)`` float: noise standard deviation for the ``normal`` cost (``NaN`` otherwise).
    indptr:
        ``(S + 1,)`` int: offsets into the flat segment arrays.
    ends:
        ``(K,)`` int: exclusive end of each segment in period indices, ``ruptures`` convention (the
        last segment of a series ends at ``T``).
    rates:
        ``(K,)`` float: fitted level of each segment.
    last_period:
        Index of the last period used (data after it were ignored): ``T - 1`` unless ``upto`` was given.
    """

    starts: np.ndarray
    segment_id: np.ndarray
    segment_rate: np.ndarray
    effect: np.ndarray
    rebase: np.ndarray
    n_changes: np.ndarray
    objective: np.ndarray
    model: np.ndarray
    n_obs: np.ndarray
    beta: np.ndarray
    lam: np.ndarray
    phi: np.ndarray
    sigma: np.ndarray
    indptr: np.ndarray
    ends: np.ndarray
    rates: np.ndarray
    last_period: int

    def bkps(self, i: int) -> list[int]:
        """Segment ends of series ``i`` in the ``ruptures`` convention (last element ``T``)."""
        return [int(e) for e in self.ends[self.indptr[i] : self.indptr[i + 1]]]

    def change_points(self, i: int) -> list[int]:
        """Period indices where series ``i`` starts a new segment."""
        return self.bkps(i)[:-1]
