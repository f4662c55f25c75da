"""Alert episodes from per-period conditions: causal opening and closing, stable identifiers.

An alert opens in the first period its condition holds, carries on while it holds, and closes once
the condition has been absent for ``close_after`` consecutive periods (hysteresis, so a statistic
hovering at its threshold does not open a new alert every other week). Everything is decided with
data up to the period itself, so an ``--as-of`` run reproduces the same episodes up to that date.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from numba import njit


@dataclass(frozen=True)
class Episodes:
    """Alert episodes for ``(R, T)`` conditions.

    Attributes
    ----------
    open:
        ``(R, T)`` bool: an alert is open at t (condition holds, or held within the last
        ``close_after - 1`` periods).
    opened:
        ``(R, T)`` int: index of the opening period of the alert open at t (-1 when none open).
    row, start, last_seen, closed:
        ``(E,)`` per episode: row index, opening period, last period the condition held, and the
        period at which closure was declared (-1 while still open at the end of the data).
    """

    open: np.ndarray
    opened: np.ndarray
    row: np.ndarray
    start: np.ndarray
    last_seen: np.ndarray
    closed: np.ndarray


def alert_episodes(condition: np.ndarray, close_after: int = 4) -> Episodes:
    """Causal episodes of ``(R, T)`` boolean ``condition`` (one compiled pass per row)."""
    if close_after < 1:
        raise ValueError("close_after must be at least 1")
    cond = np.ascontiguousarray(condition, dtype=np.bool_)
    is_open, opened, n_episodes = _open_cells(cond, int(close_after))
    row, start, last_seen, closed = _episode_table(cond, is_open, opened, n_episodes)
    return Episodes(is_open, opened, row, start, last_seen, closed)


@njit(cache=True, nogil=True)
def _open_cells(condition: np.ndarray, close_after: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Open flag and opening period of every cell, walking each row forward; and the episode count.

    An alert opens when the condition holds and none is open; the count of periods without the
    condition restarts at 0 whenever it holds and closes the alert once it reaches ``close_after``.
    """
    r_count, t_count = condition.shape
    is_open = np.zeros((r_count, t_count), dtype=np.bool_)
    opened = np.full((r_count, t_count), -1, dtype=np.int64)
    n_episodes = 0
    for r in range(r_count):
        cur_open = False
        cur_start = -1
        absent = 0
        for t in range(t_count):
            cond = condition[r, t]
            if cond and not cur_open:
                cur_start = t
                n_episodes += 1
            cur_open = cur_open or cond
            absent = 0 if cond else absent + (1 if cur_open else 0)
            if cur_open and absent >= close_after:
                cur_open = False
            is_open[r, t] = cur_open
            if cur_open:
                opened[r, t] = cur_start
    return is_open, opened, n_episodes


@njit(cache=True, nogil=True)
def _episode_table(
    condition: np.ndarray, is_open: np.ndarray, opened: np.ndarray, n_episodes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Row, opening, last period with the condition and closing period of each episode (row-major)."""
    r_count, t_count = condition.shape
    row = np.empty(n_episodes, dtype=np.int64)
    start = np.empty(n_episodes, dtype=np.int64)
    last_seen = np.full(n_episodes, -1, dtype=np.int64)
    closed = np.full(n_episodes, -1, dtype=np.int64)
    e = -1
    for r in range(r_count):
        for t in range(t_count):
            if not is_open[r, t]:
                continue
            if t == 0 or not is_open[r, t - 1] or opened[r, t] != opened[r, t - 1]:
                e += 1
                row[e] = r
                start[e] = t
            if condition[r, t]:
                last_seen[e] = t
            closed[e] = t + 1 if t + 1 < t_count else -1
    return row, start, last_seen, closed


def openings(condition: np.ndarray, close_after: int = 4) -> np.ndarray:
    """``(R,)`` number of alerts opened per row (the quantity false-alarm budgets count)."""
    ep = alert_episodes(condition, close_after)
    return np.bincount(ep.row, minlength=condition.shape[0])


def stable_alert_id(ward_id: str, scope: str, indicator: str, method: str, opened: str) -> str:
    """Identifier that is the same on every rerun: a hash of what defines the alert."""
    key = "\x1f".join((ward_id, scope, indicator, method, opened))
    return "A" + hashlib.sha256(key.encode()).hexdigest()[:11].upper()
