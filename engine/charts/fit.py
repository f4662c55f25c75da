"""A chart that fits each series: rare events are charted where their limits mean something.

Weekly rates of rare events are mostly zero, so an XmR chart of them has collapsed limits (a
mean moving range near 0) and calls every quiet week "special cause". :func:`fit_charts` tries, per
series and in this order (:class:`engine.charts.settings.ChartChoiceSettings` says when a chart is
acceptable):

1. ``"xmr"``: XmR of the rate at the series' own cadence (the Making Data Count default);
2. ``"xmr_month"``: XmR of the rate over calendar months (numerators and denominators summed; a
   week belongs to the month of its Thursday, as ISO weeks do); weekly series only;
3. ``"t"``: T chart of the days between events (counts only; qicharts2 ``chart = "t"``; NHS
   guidance for rare events). Events known only as counts per period are spread evenly across
   their period (:func:`engine.charts.rare.event_intervals`); a longer gap is an improvement when a
   rise of the count is the concern;
4. ``"run"``: run chart of the monthly rate (median centre, Anhoej rules): no process limits, so
   none can collapse and no variation icon is claimed;
5. ``"none"``: no observed value.

Everything is computed for many series at once (``(S, T)`` arrays); each later candidate only for
the series the earlier ones rejected. Retrospective display charts (the whole history).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from engine.charts import codes
from engine.charts.anhoej import run_chart
from engine.charts.layout import as_2d_groups
from engine.charts.rare import event_intervals, t_chart_with_runs
from engine.charts.settings import ChartChoiceSettings, XmRSettings
from engine.charts.xmr import xmr_chart_of

#: Chart kinds in the order they are tried.
CHART_KINDS: tuple[str, ...] = ("xmr", "xmr_month", "t", "run", "none")
CHART_KIND_LABELS: dict[str, str] = {
    "xmr": "XmR chart",
    "xmr_month": "XmR chart of monthly rates",
    "t": "T chart of days between events",
    "run": "run chart of monthly rates",
    "none": "no chart",
}


@dataclass(frozen=True)
class CandidateChart:
    """One kind of chart for the series ``rows`` of the input (``(R, K)`` arrays, NaN padded).

    ``x`` holds the date of each point (period start, or the estimated date of the event for a T
    chart); ``limits`` is False for a run chart. ``acceptable`` says whether the chart passed the
    checks (collapsed limits, too few points, too many zero periods).
    """

    kind: str
    rows: np.ndarray
    x: np.ndarray
    value: np.ndarray
    mean: np.ndarray
    lpl: np.ndarray
    upl: np.ndarray
    point_type: np.ndarray
    rule: np.ndarray
    runs_signal: np.ndarray
    variation_icon: np.ndarray
    n_points: np.ndarray
    zero_share: np.ndarray
    collapsed: np.ndarray
    acceptable: np.ndarray
    limits: bool = True
    #: (R,) days from the last event to the end of the data (T charts; NaN otherwise).
    open_interval: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass(frozen=True)
class FittedCharts:
    """The chosen chart of every series.

    Attributes
    ----------
    kind:
        ``(S,)`` chosen kind (:data:`CHART_KINDS`).
    candidates:
        Every candidate computed, by kind (a candidate holds only the rows it was tried on).
    """

    kind: np.ndarray
    candidates: dict[str, CandidateChart]

    def chosen(self, i: int) -> tuple[CandidateChart, int] | None:
        """The candidate chart series ``i`` uses and its row within it (None for ``"none"``)."""
        kind = str(self.kind[i])
        cand = self.candidates.get(kind)
        if cand is None:
            return None
        pos = np.flatnonzero(cand.rows == i)
        return (cand, int(pos[0])) if pos.size else None

    def per_series(self, attr: str, fill: object) -> np.ndarray:
        """``(S,)`` value of a per-row candidate attribute (``variation_icon``, ``collapsed``...) for the
        chosen chart of each series; ``fill`` for ``"none"``."""
        out = np.full(self.kind.shape, fill)
        for kind, cand in self.candidates.items():
            use = self.kind[cand.rows] == kind
            vals = np.asarray(getattr(cand, attr))
            out[cand.rows[use]] = vals[use]
        return out

    @property
    def variation_icon(self) -> np.ndarray:
        """``(S,)`` variation icon codes of the chosen charts (``NO_ICON`` for run charts / none)."""
        return self.per_series("variation_icon", np.int8(codes.NO_ICON)).astype(np.int8)

    @property
    def collapsed(self) -> np.ndarray:
        """``(S,)`` bool: the chosen chart shows collapsed limits (never True by construction)."""
        return self.per_series("collapsed", False).astype(bool)


def month_index(periods: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(months (M,) datetime64[M], index (T,))``: the calendar month of each week's Thursday."""
    days = np.asarray(periods).astype("datetime64[D]")
    month = (days + np.timedelta64(3, "D")).astype("datetime64[M]")
    months, idx = np.unique(month, return_inverse=True)
    return months, idx.reshape(-1)


def aggregate_months(
    numerator: np.ndarray,
    denominator: np.ndarray,
    observed: np.ndarray,
    periods: np.ndarray,
    covered: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sum observed weeks into calendar months.

    Returns ``(months (M,), numerator (S, M), denominator (S, M), observed (S, M), index (T,))``; a
    month is observed when any of its weeks is (its rate is then over the observed weeks only) and
    the series covers the whole month: ``covered`` (``(S, T)`` bool, default all True) marks the
    weeks the series reports at all (observed, missing or suppressed), so a month before a ward
    opened or after the latest data is a part-month.
    """
    months, idx = month_index(periods)
    onehot = np.zeros((idx.size, months.size))
    onehot[np.arange(idx.size), idx] = 1.0
    obs = np.asarray(observed, dtype=bool)
    num = np.where(obs, np.nan_to_num(numerator), 0.0) @ onehot
    den = np.where(obs, np.nan_to_num(denominator), 0.0) @ onehot
    # a month at either end of the data that the weekly grid does not cover in full (fewer of its
    # weeks than it has Thursdays) is left out: a part-month would be charted as if it were a month
    cov = np.ones(obs.shape, dtype=bool) if covered is None else np.broadcast_to(covered, obs.shape)
    complete = (cov.astype(float) @ onehot) >= thursdays(months)[None, :]
    obs_m = ((obs.astype(float) @ onehot) > 0) & complete
    return months, num, den, obs_m, idx


def thursdays(months: np.ndarray) -> np.ndarray:
    """``(M,)`` number of Thursdays in each calendar month (4 or 5): the ISO weeks that belong to it."""
    first = np.asarray(months).astype("datetime64[M]").astype("datetime64[D]")
    length = ((np.asarray(months).astype("datetime64[M]") + 1).astype("datetime64[D]") - first).astype(int)
    weekday = (first.astype(np.int64) + 3) % 7  # Monday = 0 (1970-01-01 was a Thursday)
    to_thursday = (3 - weekday) % 7
    return (length - to_thursday - 1) // 7 + 1


def _month_groups(groups: np.ndarray | None, idx: np.ndarray, n_months: int) -> np.ndarray | None:
    """Rebase groups of months: a month belongs to the latest group of its weeks."""
    if groups is None:
        return None
    out = np.zeros((groups.shape[0], n_months), dtype=np.int64)
    np.maximum.at(out.T, idx, np.asarray(groups, dtype=np.int64).T)
    return np.maximum.accumulate(out, axis=1)


def _collapsed(
    value: np.ndarray, mean: np.ndarray, lpl: np.ndarray, upl: np.ndarray, ratio: float
) -> np.ndarray:
    """``(R,)`` bool: some charted point has limits narrower than ``ratio * |mean|`` (or none at all)."""
    shown = ~np.isnan(value)
    with np.errstate(invalid="ignore"):
        width = upl - lpl
        bad = ~np.isfinite(width) | (width <= 0) | (width < ratio * np.abs(mean))
    return (shown & bad).any(axis=1)


def _xmr_candidate(
    kind: str,
    rows: np.ndarray,
    x: np.ndarray,
    num: np.ndarray,
    den: np.ndarray,
    obs: np.ndarray,
    improvement: np.ndarray,
    groups: np.ndarray | None,
    xmr: XmRSettings,
    choice: ChartChoiceSettings,
    zero_rule: np.ndarray,
) -> CandidateChart:
    res = xmr_chart_of(num, improvement, denominator=den, observed=obs, groups=groups, settings=xmr)
    n_obs = obs.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        zero_share = np.where(n_obs > 0, (obs & (num == 0)).sum(axis=1) / n_obs, np.nan)
    collapsed = _collapsed(res.value, res.mean, res.lpl, res.upl, choice.collapse_ratio)
    too_many_zeros = zero_rule & (zero_share > choice.max_zero_share)
    acceptable = (res.n_points >= choice.min_points) & ~collapsed & ~too_many_zeros
    return CandidateChart(
        kind, rows, np.broadcast_to(x, num.shape), res.value, res.mean, res.lpl, res.upl,
        res.point_type, res.rule, np.zeros(rows.size, dtype=bool), res.variation_icon, res.n_points,
        zero_share, collapsed, acceptable,
    )  # fmt: skip


def _flip(improvement: np.ndarray) -> np.ndarray:
    """Improvement direction of the time between events: the reverse of that of their rate."""
    return (-np.asarray(improvement, dtype=np.int8)).astype(np.int8)


def fit_charts(
    numerator: np.ndarray,
    denominator: np.ndarray,
    observed: np.ndarray,
    periods: np.ndarray,
    improvement: object,
    family: np.ndarray | Sequence[str],
    *,
    cadence: str = "weekly",
    groups: np.ndarray | None = None,
    covered: np.ndarray | None = None,
    xmr: XmRSettings | None = None,
    settings: ChartChoiceSettings | None = None,
) -> FittedCharts:
    """Choose and compute the chart of every series (see the module docstring for the order).

    Parameters
    ----------
    numerator, denominator:
        ``(S, T)`` numerators and denominators (denominator 1 for counts without exposure).
    observed:
        ``(S, T)`` bool, True where the value was observed (missing or suppressed are not zero).
    periods:
        ``(T,)`` period starts (``datetime64[D]``).
    improvement:
        Improvement direction(s) of the rate, as :func:`engine.charts.xmr.xmr_chart`.
    family:
        ``(S,)`` ``"count"``, ``"proportion"`` or ``"measure"``: T charts are for counts only.
    cadence:
        ``"weekly"`` (monthly charts are tried) or ``"monthly"`` (the series is already monthly).
    groups:
        Optional ``(S, T)`` rebase-group ids.
    covered:
        Optional ``(S, T)`` bool: the periods each series reports at all (default: every period);
        months not wholly covered are left out of monthly charts.
    """
    choice = settings or ChartChoiceSettings()
    xmr = xmr or XmRSettings()
    num, den, obs = _panel_arrays(numerator, denominator, observed)
    s_count = num.shape[0]
    is_count = np.broadcast_to(np.asarray(family, dtype=object), (s_count,)) == "count"
    direction = codes.direction_codes(improvement, s_count)
    days = np.asarray(periods).astype("datetime64[D]")
    groups = as_2d_groups(groups)
    xmr = XmRSettings(**{**xmr.__dict__, "min_points": choice.min_points})

    kind = np.full(s_count, "none", dtype=object)
    todo = np.asarray(obs.any(axis=1))
    candidates: dict[str, CandidateChart] = {}
    all_rows = np.arange(s_count)
    candidates["xmr"] = _xmr_candidate(
        "xmr", all_rows, days, num, den, obs, direction, groups, xmr, choice, np.ones(s_count, dtype=bool)
    )
    _adopt(kind, todo, candidates["xmr"])

    months, num_m, den_m, obs_m, idx = aggregate_months(num, den, obs, days, covered)
    month_days = months.astype("datetime64[D]")
    groups_m = _month_groups(groups, idx, months.size)
    if cadence == "weekly" and todo.any():
        rows = np.flatnonzero(todo)
        candidates["xmr_month"] = _xmr_candidate(
            "xmr_month", rows, month_days, num_m[rows], den_m[rows], obs_m[rows], direction[rows],
            None if groups_m is None else groups_m[rows], xmr, choice, np.ones(rows.size, dtype=bool),
        )  # fmt: skip
        _adopt(kind, todo, candidates["xmr_month"])

    if (todo & is_count).any():
        rows = np.flatnonzero(todo & is_count)
        candidates["t"] = _t_candidate(rows, days, num, obs, direction, groups, cadence, xmr, choice)
        _adopt(kind, todo, candidates["t"])

    if todo.any():
        rows = np.flatnonzero(todo)
        monthly = (month_days, num_m, den_m, obs_m) if cadence == "weekly" else (days, num, den, obs)
        candidates["run"] = _run_candidate(rows, *monthly)
        _adopt(kind, todo, candidates["run"])
    return FittedCharts(kind, candidates)


def _adopt(kind: np.ndarray, todo: np.ndarray, cand: CandidateChart) -> None:
    """Series still without a chart (``todo``, (S,) bool) whose candidate passed its checks take it
    (``kind`` and ``todo`` updated in place)."""
    take = cand.rows[todo[cand.rows] & cand.acceptable]
    kind[take] = cand.kind
    todo[take] = False


def _panel_arrays(
    numerator: np.ndarray, denominator: np.ndarray, observed: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(S, T)`` float numerator and denominator, and bool ``observed`` (only with a value and a
    positive finite denominator); a 1-D numerator is one series."""
    num = np.asarray(numerator, dtype=float)
    num = num[None, :] if num.ndim == 1 else num
    den = np.broadcast_to(np.asarray(denominator, dtype=float), num.shape)
    obs = np.broadcast_to(np.asarray(observed, dtype=bool), num.shape) & ~np.isnan(num)
    obs = obs & np.isfinite(den) & (den > 0)
    return num, den, obs


def _t_candidate(
    rows: np.ndarray,
    days: np.ndarray,
    num: np.ndarray,
    obs: np.ndarray,
    direction: np.ndarray,
    groups: np.ndarray | None,
    cadence: str,
    xmr: XmRSettings,
    choice: ChartChoiceSettings,
) -> CandidateChart:
    """T chart of the days between events of the count series ``rows`` (``(S, T)`` inputs)."""
    t_count = num.shape[1]
    period_start = days.astype(np.int64).astype(float)
    if cadence == "weekly":
        length = np.full(t_count, 7.0)
    else:
        nxt = (days.astype("datetime64[M]") + 1).astype("datetime64[D]")
        length = (nxt - days).astype(float)
    gaps = event_intervals(np.where(obs[rows], num[rows], np.nan), period_start, length)
    t_groups = None
    if groups is not None:
        # the rebase group of each event is that of its period
        cell = np.clip(
            np.searchsorted(period_start, np.nan_to_num(gaps.at), side="right") - 1, 0, t_count - 1
        )
        t_groups = np.take_along_axis(groups[rows], cell, axis=1)
    res = t_chart_with_runs(gaps.interval, _flip(direction[rows]), groups=t_groups, settings=xmr)
    at_days = np.where(np.isnan(gaps.at), 0, np.floor(gaps.at)).astype(np.int64).astype("datetime64[D]")
    collapsed = _collapsed(res.value, res.mean, res.lpl, res.upl, choice.collapse_ratio)
    acceptable = (gaps.n_events >= choice.min_events) & (res.n_points >= choice.min_points - 1) & ~collapsed
    last = np.maximum(res.last_index, 0)
    return CandidateChart(
        "t", rows, at_days, res.value, res.mean, res.lpl, res.upl, res.point_type, res.rule,
        res.runs.runs_signal[np.arange(rows.size), last] & (res.last_index >= 0),
        res.variation_icon, res.n_points, np.full(rows.size, np.nan), collapsed, acceptable,
        open_interval=gaps.open_interval,
    )  # fmt: skip


def _run_candidate(
    rows: np.ndarray, x: np.ndarray, num: np.ndarray, den: np.ndarray, obs: np.ndarray
) -> CandidateChart:
    """Run chart of the rate of the series ``rows`` (``x`` the dates of the columns of ``num``);
    acceptable wherever a series has a point."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(obs[rows], num[rows] / den[rows], np.nan)
    centre, runs = run_chart(rate)
    last = np.where(~np.isnan(rate), np.arange(rate.shape[1]), -1).max(axis=1)
    n_pts = (~np.isnan(rate)).sum(axis=1)
    pt = np.where(np.isnan(rate), codes.MISSING_POINT, codes.COMMON_CAUSE).astype(np.int8)
    nan = np.full(rate.shape, np.nan)
    return CandidateChart(
        "run", rows, np.broadcast_to(x, rate.shape), rate, centre, nan, nan, pt,
        np.zeros(rate.shape, dtype=np.int8),
        runs.runs_signal[np.arange(rows.size), np.maximum(last, 0)] & (last >= 0),
        np.full(rows.size, codes.NO_ICON, dtype=np.int8), n_pts.astype(np.int64),
        np.full(rows.size, np.nan), np.zeros(rows.size, dtype=bool), n_pts > 0, limits=False,
    )  # fmt: skip


def improvement_contradicts(variation_icon: np.ndarray, concern_open: np.ndarray) -> np.ndarray:
    """``(S,)`` bool: the chart's variation icon says improvement while a concern alert is open.

    ``concern_open`` is ``(S,)`` bool: the indicator is under an open alert of concern (an indicator
    alert, or a contributing indicator of an open ward alert).
    """
    icon = np.asarray(variation_icon)
    improving = (icon == codes.V_IMPROVEMENT_HIGH) | (icon == codes.V_IMPROVEMENT_LOW)
    return improving & np.asarray(concern_open, dtype=bool)
