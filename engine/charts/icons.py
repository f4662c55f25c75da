"""Making Data Count variation and assurance icons, one per series (NHSRplotthedots 0.2.x)."""

from __future__ import annotations

import numpy as np

from engine.charts import codes


def variation_icon(last_point_type: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """``(S,)`` variation icon codes (``codes.VARIATION_LABELS``) from each series' last point.

    Improvement is "high" when the improvement direction is increase, else "low"; concern is
    "low" when the direction is increase, else "high" (NHSRplotthedots ``ptd_get_icons``). A series
    with no points (``MISSING_POINT``) gets ``NO_ICON``.
    """
    pt = np.asarray(last_point_type)
    inc = np.asarray(direction) > 0
    return np.select(
        [
            pt == codes.COMMON_CAUSE,
            (pt == codes.IMPROVEMENT) & inc,
            pt == codes.IMPROVEMENT,
            (pt == codes.CONCERN) & inc,
            pt == codes.CONCERN,
            pt == codes.NEUTRAL_HIGH,
            pt == codes.NEUTRAL_LOW,
        ],
        [
            codes.V_COMMON,
            codes.V_IMPROVEMENT_HIGH,
            codes.V_IMPROVEMENT_LOW,
            codes.V_CONCERN_LOW,
            codes.V_CONCERN_HIGH,
            codes.V_NEUTRAL_HIGH,
            codes.V_NEUTRAL_LOW,
        ],
        codes.NO_ICON,
    ).astype(np.int8)


def assurance_icon(
    lpl: np.ndarray, upl: np.ndarray, target: np.ndarray | float | None, direction: np.ndarray
) -> np.ndarray:
    """``(S,)`` assurance icon codes (``codes.ASSURANCE_LABELS``) from the current limits.

    Parameters
    ----------
    lpl, upl:
        ``(S,)`` process limits of each series' last point (its current rebase group).
    target:
        Scalar or ``(S,)`` target in the units of the chart; ``NaN`` / None = no target.
    direction:
        ``(S,)`` improvement direction (+1, -1, 0).

    Notes
    -----
    Target above the upper limit: fail when increase is better, pass when decrease is better;
    target below the lower limit: the reverse; otherwise (including a target exactly on a limit)
    hit and miss. No icon without a target, for neutral measures, or when the limits are unknown.
    """
    lpl = np.asarray(lpl, dtype=float)
    upl = np.asarray(upl, dtype=float)
    d = np.asarray(direction)
    tgt = np.broadcast_to(np.asarray(np.nan if target is None else target, dtype=float), lpl.shape)
    known = ~np.isnan(tgt) & (d != 0) & ~np.isnan(lpl) & ~np.isnan(upl)
    above, below = tgt > upl, tgt < lpl
    inc = d > 0
    code = np.select(
        [above & inc, above, below & inc, below],
        [codes.A_FAIL, codes.A_PASS, codes.A_PASS, codes.A_FAIL],
        codes.A_HIT_AND_MISS,
    )
    return np.where(known, code, codes.NO_ICON).astype(np.int8)
