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
    """Causal episodes of ``(R, T)`` boolean ``condition`` (loop over periods, vectorised over rows)."""
    if close_after < 1:
        raise ValueError("close_after must be at least 1")
    r_count, t_count = condition.shape
    is_open = np.zeros((r_count, t_count), dtype=bool)
    opened = np.full((r_count, t_count), -1, dtype=np.int64)
    cur_open = np.zeros(r_count, dtype=bool)
    cur_start = np.full(r_count, -1, dtype=np.int64)
    absent = np.zeros(r_count, dtype=np.int64)
    for t in range(t_count):
        cond = condition[:, t]
        new = cond & ~cur_open
        cur_start = np.where(new, t, cur_start)
        cur_open = cur_open | cond
        absent = np.where(cond, 0, absent + cur_open)
        closing = cur_open & (absent >= close_after)
        cur_open = cur_open & ~closing
        is_open[:, t] = cur_open
        opened[:, t] = np.where(cur_open, cur_start, -1)
    # episode table, vectorised: label every open cell with its episode number
    starts = is_open & (opened != np.roll(opened, 1, axis=1))
    starts[:, 0] = is_open[:, 0]
    row, start = np.nonzero(starts)
    label = np.cumsum(starts.ravel()).reshape(starts.shape) - 1
    t_index = np.broadcast_to(np.arange(t_count), (r_count, t_count))
    end = np.full(len(row), -1, dtype=np.int64)
    np.maximum.at(end, label[is_open], t_index[is_open])
    last_seen = np.full(len(row), -1, dtype=np.int64)
    held = is_open & condition
    np.maximum.at(last_seen, label[held], t_index[held])
    closed = np.where(end + 1 < t_count, end + 1, -1)
    return Episodes(is_open, opened, row, start, last_seen, closed)


def openings(condition: np.ndarray, close_after: int = 4) -> np.ndarray:
    """``(R,)`` number of alerts opened per row (the quantity false-alarm budgets count)."""
    ep = alert_episodes(condition, close_after)
    return np.bincount(ep.row, minlength=condition.shape[0])


def stable_alert_id(ward_id: str, scope: str, indicator: str, method: str, opened: str) -> str:
    """Identifier that is the same on every rerun: a hash of what defines the alert."""
    key = "\x1f".join((ward_id, scope, indicator, method, opened))
    return "A" + hashlib.sha256(key.encode()).hexdigest()[:11].upper()
