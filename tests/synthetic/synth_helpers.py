"""Helpers shared by the synthetic tests: rebuilding injected multipliers from truth.csv alone."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np


def week_index(trust, date: dt.date) -> int:
    """Index of a Monday in the trust's weekly calendar."""
    return int(np.searchsorted(trust.calendar.weeks, np.datetime64(date, "D")))


def row_profile(trust, row, key: str) -> np.ndarray:
    """``(Tw,)`` multiplier of one truth row on one indicator, rebuilt from truth.csv alone.

    Log-linear ramp from 1 before ``onset`` to the stated effect at ``full_effect``, held until
    ``end`` (inclusive), 1 afterwards.
    """
    T = trust.calendar.weeks.size
    onset, full = week_index(trust, row["onset"]), week_index(trust, row["full_effect"])
    end = T - 1 if row["end"] is None else week_index(trust, row["end"])
    t = np.arange(T)
    frac = np.clip((t - onset + 1) / (full - onset + 1), 0.0, 1.0)
    frac[t > end] = 0.0
    return np.exp(frac * np.log(json.loads(row["effects"])[key]))


def truth_multiplier(trust, key: str) -> np.ndarray:
    """``(W, Tw)`` product of every truth row's multiplier on ``key``."""
    out = np.ones((trust.ward_ids.size, trust.calendar.weeks.size))
    index = {w: i for i, w in enumerate(trust.ward_ids)}
    for row in trust.truth.iter_rows(named=True):
        if key in json.loads(row["effects"]):
            out[index[row["ward_id"]]] *= row_profile(trust, row, key)
    return out
