"""Making Data Count special-cause rules, vectorised over compacted ``(S, T)`` arrays.

Every function works on arrays in the compacted order of :class:`engine.charts.layout.Layout`
(observed values packed left, one or more segments per row) and takes ``rank`` (position within
the segment, -1 for empty cells) so that no window crosses a segment. The logic follows
NHSRplotthedots 0.2.x (``R/ptd_calculate_point_type.R``), generalised to run/trend lengths other
than 7 (the XmR display chart applies the same rules, per series, in
:mod:`engine.charts._xmr_kernel`; these array functions serve the attribute charts):

* *outside limits*: ``x > upl`` or ``x < lpl`` (strict);
* *trend*: ``trend_length`` points whose ``trend_length - 1`` successive differences are all
  strictly positive or all strictly negative (a tie breaks the trend); every point of the window
  is flagged;
* *two in three*: a window of 3 consecutive points with at least 2 "close to limits" and all 3
  strictly on one side of the centre; only the close points of the window are flagged;
* *run*: ``run_length`` consecutive points strictly on the same side of the centre (a point on
  the centre breaks it); every point is flagged.

Precedence for the label of a point: outside limits > trend > two in three > run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.charts import codes
from engine.charts.windows import leading_any, trailing_sum


def steps(x: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """``(S, T)`` int8 sign of ``x[t] - x[t-1]`` within a segment (0 at a segment's first point)."""
    d = np.zeros(x.shape, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        d[:, 1:] = np.sign(x[:, 1:] - x[:, :-1]).astype(np.int8, casting="unsafe")
    d[rank < 1] = 0
    return d


def trend_ends(x: np.ndarray, rank: np.ndarray, length: int) -> np.ndarray:
    """+1 / -1 at the last point of each increasing / decreasing window of ``length`` points."""
    d = steps(x, rank)
    full = rank >= length - 1
    up = full & (trailing_sum(d == 1, length - 1) == length - 1)
    down = full & (trailing_sum(d == -1, length - 1) == length - 1)
    return up.astype(np.int8) - down.astype(np.int8)


def run_ends(rel: np.ndarray, rank: np.ndarray, length: int) -> np.ndarray:
    """+1 / -1 at the last point of each window of ``length`` points all above / below the centre."""
    full = rank >= length - 1
    above = full & (trailing_sum(rel == 1, length) == length)
    below = full & (trailing_sum(rel == -1, length) == length)
    return above.astype(np.int8) - below.astype(np.int8)


def part_of(ends: np.ndarray, length: int) -> np.ndarray:
    """True for every point of a window of ``length`` points whose last point is marked in ``ends``."""
    return leading_any(ends != 0, length)


def two_in_three_windows(close: np.ndarray, rel: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """True at the last point of each 3-point window with >= 2 close points all on one side."""
    full = rank >= 2
    n_close = trailing_sum(close, 3)
    side = trailing_sum(rel.astype(np.int32), 3)
    return full & (n_close >= 2) & (np.abs(side) == 3)


def two_in_three_points(close: np.ndarray, rel: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Close-to-limit points that belong to a qualifying 2-in-3 window."""
    return close & leading_any(two_in_three_windows(close, rel, rank), 3)


def trend_direction(x: np.ndarray, part: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """+1 / -1 direction of each trend point, from its own step (NHSRplotthedots 0.2.x).

    The step to the right (``x[t+1] - x[t]``) when the next point is also part of a trend, else the
    step from the left; "increasing" only when that step is strictly positive.
    """
    d = steps(x, rank)
    right = np.zeros_like(d)
    right[:, :-1] = d[:, 1:]
    nxt = np.zeros_like(part)
    nxt[:, :-1] = part[:, 1:] & (rank[:, 1:] >= 1)
    own = np.where(part & nxt, right, d)
    return np.where(own == 1, 1, -1).astype(np.int8)


@dataclass(frozen=True)
class RuleOutput:
    """Compacted ``(S, T)`` rule results for every point (see :func:`evaluate`)."""

    relative_to_mean: np.ndarray  # int8 sign(x - centre), 0 on the centre or empty
    rule: np.ndarray  # int8 codes.OUTSIDE_LIMITS ... codes.RUN, NO_RULE
    flags: np.ndarray  # int8 bitmask of every pattern the point is part of
    side: np.ndarray  # int8 +1 high / -1 low / 0 for the labelling rule
    point_type: np.ndarray  # int8 codes.COMMON_CAUSE ... NEUTRAL_LOW, MISSING_POINT when empty


def evaluate(
    x: np.ndarray,
    centre: np.ndarray,
    lpl: np.ndarray,
    upl: np.ndarray,
    lower_2s: np.ndarray,
    upper_2s: np.ndarray,
    rank: np.ndarray,
    direction: np.ndarray,
    *,
    run_length: int,
    trend_length: int,
    two_in_three_beyond_3sigma: bool,
) -> RuleOutput:
    """Apply the four MDC rules and classify every point.

    Parameters
    ----------
    x, centre, lpl, upl, lower_2s, upper_2s:
        Compacted ``(S, T)`` values, centre line, 3-sigma and 2-sigma lines (per point, so charts
        with varying exposure work too). ``NaN`` limits never flag a point.
    rank:
        Compacted ``(S, T)`` position within the segment (-1 for empty cells).
    direction:
        ``(S,)`` improvement direction: +1 increase, -1 decrease, 0 neutral.
    """
    valid = rank >= 0
    with np.errstate(invalid="ignore"):
        diff = x - centre
        rel = (diff > 0).view(np.int8) - (diff < 0).view(np.int8)  # NaN -> 0
        rel[~valid] = 0
        outside = valid & ((x > upl) | (x < lpl))
        beyond_2s = valid & ((x > upper_2s) | (x < lower_2s))
    close = beyond_2s if two_in_three_beyond_3sigma else beyond_2s & ~outside

    trend_part = part_of(trend_ends(x, rank, trend_length), trend_length)
    two3_part = two_in_three_points(close, rel, rank)
    run_part = part_of(run_ends(rel, rank, run_length), run_length)

    i8 = np.int8
    rule = np.where(
        outside,
        i8(codes.OUTSIDE_LIMITS),
        np.where(
            trend_part,
            i8(codes.TREND),
            np.where(two3_part, i8(codes.TWO_IN_THREE), np.where(run_part, i8(codes.RUN), i8(codes.NO_RULE))),
        ),
    )
    flags = outside.view(i8) * i8(codes.FLAG_OUTSIDE)
    flags += trend_part.view(i8) * i8(codes.FLAG_TREND)
    flags += two3_part.view(i8) * i8(codes.FLAG_TWO_IN_THREE)
    flags += run_part.view(i8) * i8(codes.FLAG_RUN)
    high_low = np.where(rel > 0, i8(1), i8(-1))  # PTD: "Above" only when rel > 0
    side = np.where(
        rule == codes.TREND,
        trend_direction(x, trend_part, rank),
        np.where(rule == codes.NO_RULE, i8(0), high_low),
    )
    point_type = classify(side, direction)
    point_type[~valid] = codes.MISSING_POINT
    return RuleOutput(rel, rule, flags, side, point_type)


def classify(side: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """Point type codes from the side of the labelling rule and the improvement direction."""
    d = np.asarray(direction, dtype=np.int8)[:, None]
    w = side * d
    directed = np.where(w > 0, codes.IMPROVEMENT, np.where(w < 0, codes.CONCERN, codes.COMMON_CAUSE))
    neutral = np.where(
        side > 0, codes.NEUTRAL_HIGH, np.where(side < 0, codes.NEUTRAL_LOW, codes.COMMON_CAUSE)
    )
    return np.where(d == 0, neutral, directed).astype(np.int8)
