"""``evidence_strength`` of ``ward_status.csv``: recent evidence (nats) mapped into [0, 1).

Defined once here for the engine (numpy arrays) and the dashboard (polars expressions, for results
folders written before the column existed); imports nothing heavy.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import polars as pl

Recent = TypeVar("Recent", np.ndarray, pl.Expr)


def evidence_strength(recent: Recent, urgent_threshold: float) -> Recent:
    """Bounded strength in [0, 1): ``recent / (recent + urgent_threshold)`` (0.5 = one urgent threshold).

    ``recent`` is the evidence gained over the recent window (nats, ``recent_evidence``): an array,
    or a polars expression of that column.
    """
    scale = max(float(urgent_threshold), 1e-9)
    return recent / (recent + scale)
