"""Settings for the charts: every point on which SPC tools disagree is a named field.

Defaults reproduce NHSRplotthedots 0.2.x (the R implementation of NHS England's Making Data Count)
for XmR charts and qicharts2 0.8 for attribute (c, u, p, Laney u', p') charts. See
``../shared/reference/spc-methods.md`` section 5 for the disagreements.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

#: NHSRplotthedots (and, as reported, the MDC Excel tool) use the rounded constant 2.66.
PTD_MULTIPLIER = 2.66
#: qicharts2, PowerBI-SPC and most textbooks: 3 / d2 with d2 = 1.128 for moving ranges of 2.
QIC_MULTIPLIER = 3.0 / 1.128
#: Nelson's (1982) screening constant: the upper limit of a moving-range chart, D4 = 3.267.
SCREEN_MULTIPLIER = 3.267

Multiplier = Literal["ptd", "qic"] | float
ShortGroupMode = Literal["flag", "suppress"]


def resolve_multiplier(multiplier: Multiplier) -> float:
    """Numeric limit multiplier on the mean moving range (``"ptd"`` 2.66, ``"qic"`` 3/1.128)."""
    if multiplier == "ptd":
        return PTD_MULTIPLIER
    if multiplier == "qic":
        return QIC_MULTIPLIER
    value = float(multiplier)
    if not value > 0:
        raise ValueError("multiplier must be 'ptd', 'qic' or a positive number")
    return value


def _check_limits(sigma_multiplier: float, fix_after_n_points: int | None) -> None:
    """The limit settings shared by the attribute and g charts."""
    if not sigma_multiplier > 0:
        raise ValueError("sigma_multiplier must be positive")
    if fix_after_n_points is not None and fix_after_n_points < 2:
        raise ValueError("fix_after_n_points must be None or at least 2")


def _check_rules(run_length: int, trend_length: int, min_points: int, short_group_mode: str) -> None:
    if run_length < 2:
        raise ValueError("run_length must be at least 2")
    if trend_length < 3:
        raise ValueError("trend_length must be at least 3")
    if min_points < 1:
        raise ValueError("min_points must be at least 1")
    if short_group_mode not in ("flag", "suppress"):
        raise ValueError("short_group_mode must be 'flag' or 'suppress'")


@dataclass(frozen=True)
class XmRSettings:
    """Individuals (XmR) chart with Making Data Count rules.

    Attributes
    ----------
    screen_outliers:
        Drop moving ranges ``>= screen_multiplier * mean moving range`` once and recompute the mean
        moving range (the mean is not recomputed). Default True (NHSRplotthedots); False reproduces
        the MDC Excel tool.
    multiplier:
        Limit distance in mean moving ranges: ``"ptd"`` = 2.66 (default, NHSRplotthedots),
        ``"qic"`` = 3/1.128 (qicharts2), or a positive float. The 2-sigma lines sit at 2/3 of it.
    screen_multiplier:
        Screening threshold in mean moving ranges (default 3.267, strict ``<`` keeps a range).
    run_length:
        Points in a row strictly on one side of the mean for the run ("shift") rule; default 7
        (MDC also offers 6; IHI uses 8). A point exactly on the mean breaks the run.
    trend_length:
        Points in a row strictly increasing or strictly decreasing for the trend rule; default 7
        (MDC also offers 6). Equal consecutive values break the trend.
    two_in_three_beyond_3sigma:
        False (default, NHSRplotthedots 0.2.x): the 2-of-3 rule counts points *between* the
        2-sigma and 3-sigma lines. True (MDC Excel tool since late 2023): points beyond 3 sigma
        count too. Either way all three points must be strictly on one side of the mean and only
        the points beyond 2 sigma are flagged.
    fix_after_n_points:
        None (default): limits from every point of the group. An integer ``>= 12``: the mean and
        mean moving range come from the first ``n`` non-missing points of each rebase group only
        (rules still run on every point against those limits).
    min_points:
        Groups with fewer non-missing points than this are "short" (MDC shows limits and icons from
        13 points; NHSRplotthedots warns below 13). Default 13.
    short_group_mode:
        ``"flag"`` (default, NHSRplotthedots): compute everything and set ``short_group``;
        ``"suppress"`` (MDC Excel): limits are NaN, points are common cause, no icons.
    """

    screen_outliers: bool = field(
        default=True, metadata={"doc": "screen large moving ranges once (False: the MDC Excel tool)"}
    )
    multiplier: Multiplier = field(
        default="ptd",
        metadata={"doc": "limit multiplier on the mean moving range: ptd (2.66), qic (3/1.128) or a number"},
    )
    screen_multiplier: float = field(
        default=SCREEN_MULTIPLIER,
        metadata={"doc": "moving ranges at or above this many mean moving ranges are screened out"},
    )
    run_length: int = field(default=7, metadata={"doc": "points on one side of the mean for a run"})
    trend_length: int = field(default=7, metadata={"doc": "points rising (or falling) in a row for a trend"})
    two_in_three_beyond_3sigma: bool = field(
        default=False,
        metadata={"doc": "count points beyond 3 sigma in the 2-of-3 rule (MDC Excel since 2023)"},
    )
    fix_after_n_points: int | None = field(
        default=None,
        metadata={"doc": "fix limits on the first N points of each rebase group (none: every point)"},
    )
    min_points: int = field(default=13, metadata={"doc": "groups with fewer points are flagged short"})
    short_group_mode: ShortGroupMode = field(
        default="flag", metadata={"doc": "short groups: flag (NHSRplotthedots) or suppress (MDC Excel)"}
    )

    def __post_init__(self) -> None:
        resolve_multiplier(self.multiplier)
        _check_rules(self.run_length, self.trend_length, self.min_points, self.short_group_mode)
        if self.fix_after_n_points is not None and self.fix_after_n_points < 12:
            raise ValueError("fix_after_n_points must be None or at least 12 (as NHSRplotthedots)")
        if not self.screen_multiplier > 0:
            raise ValueError("screen_multiplier must be positive")

    @property
    def limit_multiplier(self) -> float:
        """Numeric multiplier on the mean moving range for the 3-sigma limits."""
        return resolve_multiplier(self.multiplier)


AttributeKind = Literal["c", "u", "p", "up", "pp"]


@dataclass(frozen=True)
class AttributeSettings:
    """c, u, p charts and Laney's u' and p' (qicharts2 formulas), with MDC rules on top.

    Attributes
    ----------
    kind:
        ``"c"`` counts (equal opportunity), ``"u"`` rate per unit exposure, ``"p"`` proportion,
        ``"up"`` Laney u', ``"pp"`` Laney p'. Default ``"u"`` (counts with exposure).
    screen_outliers:
        Laney charts only: screen the moving ranges of the standardised values (keep
        ``mR < 3.267 mR-bar``, once) before estimating sigma_z. Default True (qicharts2 when the
        package is attached, ``qic.screenedmr = TRUE``).
    sigma_multiplier:
        Limits at ``centre +/- sigma_multiplier * sigma_i``; default 3. 2-sigma lines at 2/3 of it.
    fix_after_n_points:
        None (default): baseline is every included point of the group; an integer ``n``: the first
        ``n`` non-missing points of each group (qicharts2 ``freeze``; excluded points inside the
        window do not count towards the centre line).
    run_length, trend_length, two_in_three_beyond_3sigma, min_points, short_group_mode:
        Making Data Count rules applied on the per-point limits, as in :class:`XmRSettings`.
    """

    kind: AttributeKind = "u"
    screen_outliers: bool = True
    sigma_multiplier: float = 3.0
    fix_after_n_points: int | None = None
    run_length: int = 7
    trend_length: int = 7
    two_in_three_beyond_3sigma: bool = False
    min_points: int = 13
    short_group_mode: ShortGroupMode = "flag"

    def __post_init__(self) -> None:
        if self.kind not in ("c", "u", "p", "up", "pp"):
            raise ValueError("kind must be one of c, u, p, up, pp")
        _check_limits(self.sigma_multiplier, self.fix_after_n_points)
        _check_rules(self.run_length, self.trend_length, self.min_points, self.short_group_mode)


@dataclass(frozen=True)
class MonitorSettings:
    """Prospective (monitoring) mode: the state at period t uses data up to t only.

    Attributes
    ----------
    baseline:
        ``"fixed"`` (default): limits come from the first ``warm_up`` non-missing points of each
        group and are then frozen (limits grow with the data during the warm-up);
        ``"expanding"``: limits always use every point so far.
    warm_up:
        Number of points in a fixed baseline (default 20; MDC guidance 12-20).
    min_points:
        A point is evaluated (gets a point type) only when its limits rest on at least this many
        points (default 12). Earlier points have point type ``MISSING_POINT`` (-1).
    include_current:
        True (default): the limits at t include the point at t itself (a chart drawn at t);
        False: limits from points before t only (a prediction interval for t).
    """

    baseline: Literal["fixed", "expanding"] = "fixed"
    warm_up: int = 20
    min_points: int = 12
    include_current: bool = True

    def __post_init__(self) -> None:
        if self.baseline not in ("fixed", "expanding"):
            raise ValueError("baseline must be 'fixed' or 'expanding'")
        if self.warm_up < 2:
            raise ValueError("warm_up must be at least 2")
        if self.min_points < 2:
            raise ValueError("min_points must be at least 2")


@dataclass(frozen=True)
class GSettings:
    """g charts of opportunities between rare events (qicharts2 ``qic.g``), with MDC rules on top.

    Attributes
    ----------
    sigma_multiplier:
        Limits at ``mean +/- sigma_multiplier * sqrt(mean (mean + 1))``; default 3.
    fix_after_n_points:
        None (default): baseline is every included point of the group; an integer ``n``: the first
        ``n`` observed points of each group (qicharts2 ``freeze``).
    run_length, trend_length, min_points, short_group_mode:
        Making Data Count rules on the limits (runs around the median centre line).
    """

    sigma_multiplier: float = 3.0
    fix_after_n_points: int | None = None
    run_length: int = 7
    trend_length: int = 7
    min_points: int = 13
    short_group_mode: ShortGroupMode = "flag"

    def __post_init__(self) -> None:
        _check_limits(self.sigma_multiplier, self.fix_after_n_points)
        _check_rules(self.run_length, self.trend_length, self.min_points, self.short_group_mode)


@dataclass(frozen=True)
class ChartChoiceSettings:
    """Which chart fits a series (:func:`engine.charts.fit.fit_charts`): when limits mean something.

    A candidate chart is *acceptable* when it has at least ``min_points`` points, its current process
    limits are not collapsed (``upl - lpl >= collapse_ratio * |mean|`` and ``upl > lpl``) and, for
    counts, no more than ``max_zero_share`` of its periods have no event (Poisson counts averaging
    fewer than ~1.4 events a period are too "chunky" for XmR limits: most periods are 0 and every
    event looks special). Candidates are tried in order: weekly XmR of the rate, XmR of the rate
    over calendar months, a T chart of the days between events (counts only, at least
    ``min_events`` events), and finally a run chart of monthly counts (no limits, so none can
    collapse).

    Attributes
    ----------
    collapse_ratio:
        Limits narrower than this share of the centre line count as collapsed (default 0.05).
    max_zero_share:
        Largest share of zero-count periods for an XmR chart of a count (default 0.25).
    min_points:
        Fewest points for a chart with limits (default 13, as Making Data Count).
    min_events:
        Fewest events for a T chart (default 14: 13 intervals).
    """

    collapse_ratio: float = 0.05
    max_zero_share: float = 0.25
    min_points: int = 13
    min_events: int = 14

    def __post_init__(self) -> None:
        if not 0 <= self.collapse_ratio < 1:
            raise ValueError("collapse_ratio must be in [0, 1)")
        if not 0 <= self.max_zero_share <= 1:
            raise ValueError("max_zero_share must be in [0, 1]")
        if self.min_points < 2:
            raise ValueError("min_points must be at least 2")
        if self.min_events < 3:
            raise ValueError("min_events must be at least 3")
