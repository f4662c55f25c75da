"""Integer codes for point types, rules and icons, and their Making Data Count labels.

Charts return small integer arrays (``int8``) rather than strings so that 50,000 series x 260
periods stay cheap; the ``*_LABELS`` tuples map a code to its NHSRplotthedots / MDC label with
``LABELS[code]`` (``MISSING_POINT`` is ``-1`` and maps to ``""`` via :func:`labels`).
"""

from __future__ import annotations

import numpy as np

# ---- point types (NHSRplotthedots ``point_type``) -------------------------------------------
MISSING_POINT = -1  # no observation at this period (or not evaluated, e.g. monitoring warm-up)
COMMON_CAUSE = 0
IMPROVEMENT = 1
CONCERN = 2
NEUTRAL_HIGH = 3
NEUTRAL_LOW = 4
POINT_TYPE_LABELS: tuple[str, ...] = (
    "common_cause",
    "special_cause_improvement",
    "special_cause_concern",
    "special_cause_neutral_high",
    "special_cause_neutral_low",
)

# ---- rule that labels a point, in NHSRplotthedots precedence order ----------------------------
NO_RULE = 0
OUTSIDE_LIMITS = 1
TREND = 2
TWO_IN_THREE = 3
RUN = 4
RULE_LABELS: tuple[str, ...] = ("", "outside_limits", "trend", "two_in_three", "run")

#: Bits of ``rule_flags``: every pattern a point belongs to, whatever the precedence.
FLAG_OUTSIDE, FLAG_TREND, FLAG_TWO_IN_THREE, FLAG_RUN = 1, 2, 4, 8

# ---- improvement direction -------------------------------------------------------------------
DIRECTION_CODES: dict[str, int] = {"increase": 1, "decrease": -1, "neutral": 0}

# ---- variation icon (from the last point) -----------------------------------------------------
NO_ICON = 0
VARIATION_LABELS: tuple[str | None, ...] = (
    None,
    "common_cause",
    "improvement_high",
    "improvement_low",
    "concern_high",
    "concern_low",
    "neutral_high",
    "neutral_low",
)
V_COMMON, V_IMPROVEMENT_HIGH, V_IMPROVEMENT_LOW, V_CONCERN_HIGH, V_CONCERN_LOW = 1, 2, 3, 4, 5
V_NEUTRAL_HIGH, V_NEUTRAL_LOW = 6, 7

# ---- assurance icon (target against the process limits) ---------------------------------------
ASSURANCE_LABELS: tuple[str | None, ...] = (None, "pass", "fail", "hit_and_miss")
A_PASS, A_FAIL, A_HIT_AND_MISS = 1, 2, 3


def labels(codes: np.ndarray, table: tuple[str | None, ...], missing: str | None = "") -> np.ndarray:
    """Map an integer code array to an object array of labels (``-1`` -> ``missing``)."""
    codes = np.asarray(codes)
    lookup = np.array([*table, missing], dtype=object)
    return lookup[np.where(codes < 0, len(table), codes)]


def direction_codes(direction: object, n_series: int) -> np.ndarray:
    """``(S,)`` int8 improvement directions (+1 increase, -1 decrease, 0 neutral).

    ``direction`` is one label (applied to every series), a sequence of labels, or already a
    sequence of integer codes.
    """
    if isinstance(direction, str):
        direction = [direction] * n_series
    arr = np.asarray(direction)
    if arr.ndim == 0:
        arr = np.full(n_series, arr.item())
    if arr.shape != (n_series,):
        raise ValueError(f"expected {n_series} improvement directions, got shape {arr.shape}")
    if arr.dtype.kind in "USO":
        try:
            return np.array([DIRECTION_CODES[str(d)] for d in arr], dtype=np.int8)
        except KeyError as exc:
            raise ValueError(f"improvement direction must be increase, decrease or neutral: {exc}") from None
    out = arr.astype(np.int8)
    if not np.isin(out, (-1, 0, 1)).all():
        raise ValueError("integer improvement directions must be -1, 0 or +1")
    return out
