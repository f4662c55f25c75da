"""Trust overview data, computed once per (results content, filters) and reused by every session.

The overview is the page a board member opens first, so its script run must stay light at
national scale (2,500 wards). Everything derived from the results (the filtered ranking, the
"wards to visit" list with its one-line reasons and month-on-month changes, the board and analyst
tables, the Excel-safe CSV, the heatmap rows and the evidence history of the small multiples) is
built by :func:`build_overview` and cached on the results' content key (:func:`cached_overview`).
Only the triage counts are read per run, because triage changes them.

Board-facing columns never carry nats: current evidence is ``evidence_strength`` (a bounded 0-1
number shown as a bar and a word). The cumulative score and per-domain nats are in the analyst
table only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from dashboard.components.icons import assurance_icon, variation_icon
from dashboard.services.caching import cached_on_results
from dashboard.services.formatting import (
    DOMAIN_LABELS,
    LEVEL_ORDER,
    LEVEL_WORDS,
    VISIT_LEVELS,
    WARD_TYPE_LABELS,
    display_scale,
    domain_label,
    indicator,
    indicator_label,
    level_word,
    safe_csv,
    split_list,
    strength_word,
)
from dashboard.services.results import DOMAIN_KEYS, Results
from engine.contract.results import domain_score_column
from engine.store import OPEN_STATUSES, TriageStore

#: "since last month": the ward's status this many weeks before the as-of week.
MONTH_WEEKS = 4
#: indicators named in a ward's one-line reason.
REASON_INDICATORS = 3
#: a change of ``evidence_strength`` smaller than this over a month reads as "steady".
STEADY_STRENGTH = 0.05


@dataclass(frozen=True)
class OverviewData:
    """What the overview shows for one set of filters.

    Attributes
    ----------
    view : pl.DataFrame
        Rows of ``Results.latest`` passing the filters, in rank order.
    visit : pl.DataFrame
        Wards to visit (levels in ``VISIT_LEVELS``) in rank order: ``ward_id, ward_name, level,
        ward_type_label, provider, rank, reason, change, onset, evidence_strength, strength_word``.
    watch : pl.DataFrame
        Wards on watch (``ward_id, ward_name, reason``), rank order.
    table : pl.DataFrame
        The board's ranked table (``rank, Ward, Level, Current evidence, Evidence, Type, Provider,
        Domains with evidence, ward_id``); ``Current evidence`` is 0-100, no nats.
    analyst_table : pl.DataFrame
        The same wards with the technical figures (nats, thresholds' dates).
    csv : bytes
        ``analyst_table`` without ``ward_id`` as Excel-safe CSV (UK dates).
    level_counts : dict[str, int]
        Wards per current level (``urgent``, ``concern``, ``watch``, ``none``).
    domains : list[str]
        Domain keys with a ``score_<domain>`` column in the results.
    heat : pl.DataFrame
        ``heatmap_wards`` highest-ranked rows of ``view`` (input of the heatmap).
    history : pl.DataFrame
        ``ward, period, evidence_strength, score, level`` of the ``small_multiples`` highest-ranked
        wards over the last ``history_weeks`` weeks (``ward`` = "rank. name").
    filtered : bool
        Whether a provider or ward-type filter is active.
    """

    view: pl.DataFrame
    visit: pl.DataFrame
    watch: pl.DataFrame
    table: pl.DataFrame
    analyst_table: pl.DataFrame
    csv: bytes
    level_counts: dict[str, int]
    domains: list[str]
    heat: pl.DataFrame
    history: pl.DataFrame
    filtered: bool

    @property
    def ward_ids(self) -> list[str]:
        """Ward ids of the view, in rank order."""
        return self.view["ward_id"].to_list()


def domain_words(col: str = "domains") -> pl.Expr:
    """``;``-separated domain keys -> ``", "``-joined display labels (vectorised, nulls -> '')."""
    items = pl.col(col).fill_null("").str.split(";").list.eval(pl.element().str.strip_chars())
    labelled = items.list.eval(
        pl.element()
        .filter(pl.element() != "")
        .replace_strict(
            DOMAIN_LABELS,
            default=pl.element().str.slice(0, 1).str.to_uppercase()
            + pl.element().str.slice(1).str.replace_all("_", " "),
            return_dtype=pl.String,
        )
    )
    return labelled.list.join(", ")


def type_words(col: str = "ward_type") -> pl.Expr:
    """Ward-type codes -> labels ("ld_autism" -> "Learning disability and autism")."""
    return pl.col(col).replace_strict(WARD_TYPE_LABELS, default=pl.col(col), return_dtype=pl.String)


def ranked_table(view: pl.DataFrame) -> pl.DataFrame:
    """The board's ranking of ``view`` (rows of ``Results.latest``): no nats, types in words."""
    return view.select(
        "rank",
        pl.col("ward_name").alias("Ward"),
        pl.col("level").replace_strict(LEVEL_WORDS, default="No concern").alias("Level"),
        (pl.col("evidence_strength") * 100).round(0).alias("Current evidence"),
        pl.col("evidence_strength")
        .map_elements(strength_word, return_dtype=pl.String, skip_nulls=False)
        .alias("Evidence"),
        type_words().alias("Type"),
        pl.col("provider").alias("Provider"),
        domain_words().alias("Domains with evidence"),
        "ward_id",
    )


def analyst_table(view: pl.DataFrame, domains: Sequence[str]) -> pl.DataFrame:
    """The ranking with its technical figures: scores in nats and the level's start."""
    return view.select(
        "rank",
        pl.col("ward_name").alias("Ward"),
        pl.col("level").replace_strict(LEVEL_WORDS, default="No concern").alias("Level"),
        pl.col("recent_evidence").round(2).alias("Recent evidence (nats, 13 weeks)"),
        pl.col("evidence_strength").round(3).alias("Strength (0-1)"),
        pl.col("score").round(1).alias("Cumulative score (nats)"),
        *[pl.col(domain_score_column(d)).round(2).alias(f"{domain_label(d)} (nats)") for d in domains],
        pl.col("since").alias("At this level since"),
        type_words().alias("Type"),
        pl.col("provider").alias("Provider"),
        "ward_id",
    )


# ---------------------------------------------------------------------------------- reasons
def _directions(results: Results) -> dict[tuple[str, str], str]:
    """(ward, indicator) -> ``up``/``down`` of the ward's open indicator alerts (latest first)."""
    a = results.alerts.filter((pl.col("scope") == "indicator") & pl.col("closed").is_null())
    out: dict[tuple[str, str], str] = {}
    for w, k, d in a.select("ward_id", "indicator", "direction").iter_rows():
        out.setdefault((w, k), d or "")
    return out


def _moved(key: str, direction: str | None) -> str:
    """ "physical restraint up" / "family and carer visits down" / "... changed"."""
    ind = indicator(key)
    d = direction or (ind.direction if ind else "both")
    word = {"up": "up", "down": "down"}.get(d, "changed")
    label = indicator_label(key)
    return f"{label[:1].lower() + label[1:] if not label[:2].isupper() else label} {word}"


def reason_line(indicators: Sequence[str], domains: Sequence[str], directions: dict[str, str]) -> str:
    """One plain-English line: the strongest indicators and how they moved, and the domains."""
    moves = [_moved(k, directions.get(k)) for k in indicators[:REASON_INDICATORS]]
    doms = [domain_label(d).lower() for d in domains if d != "data_silence"]
    if not moves and not doms:
        return "No indicator is contributing evidence this week."
    head = (moves[0][:1].upper() + moves[0][1:]) if moves else ""
    text = ", ".join([head, *moves[1:-1]]) + (f" and {moves[-1]}" if len(moves) > 1 else "")
    if doms:
        span = f"{len(doms)} of 4 culture domains" if len(doms) > 1 else f"the {doms[0]} domain"
        text = (text + f", across {span}") if text else f"Evidence in {span}"
    return text + "."


def change_line(
    level_now: str,
    level_then: str | None,
    strength_now: float,
    strength_then: float | None,
    new_indicators: Sequence[str],
) -> str:
    """What changed since last month, in one line ("Up from watch; evidence growing")."""
    if level_then is None:
        head = "New to monitoring this month"
    elif LEVEL_ORDER.get(level_now, 0) > LEVEL_ORDER.get(level_then, 0):
        head = f"Up from {level_word(level_then).lower()} a month ago"
    elif LEVEL_ORDER.get(level_now, 0) < LEVEL_ORDER.get(level_then, 0):
        head = f"Down from {level_word(level_then).lower()} a month ago"
    else:
        head = f"{level_word(level_now)} a month ago too"
    if strength_then is not None:
        delta = strength_now - strength_then
        trend = "steady" if abs(delta) < STEADY_STRENGTH else ("growing" if delta > 0 else "easing")
        head += f"; evidence {trend}"
    if new_indicators:
        names = [indicator_label(k) for k in new_indicators[:2]]
        head += "; newly involved: " + ", ".join(
            n[:1].lower() + n[1:] if not n[:2].isupper() else n for n in names
        )
    return head + "."


def month_ago(results: Results) -> pl.DataFrame:
    """Each ward's ``ward_status`` row ``MONTH_WEEKS`` weeks before the as-of week (latest at or before)."""
    if results.as_of is None:
        return pl.DataFrame(schema={"ward_id": pl.String})
    cut = results.as_of - dt.timedelta(weeks=MONTH_WEEKS)
    return (
        results.ward_status.filter(pl.col("period") <= cut)
        .group_by("ward_id")
        .agg(pl.all().sort_by("period").last())
        .select(
            "ward_id",
            pl.col("level").alias("level_then"),
            pl.col("evidence_strength").alias("strength_then"),
            pl.col("indicators").alias("indicators_then"),
        )
    )


def ward_onsets(results: Results) -> pl.DataFrame:
    """``ward_id, onset_estimate`` of each ward's current ward alert (open one first, then latest)."""
    return (
        results.alerts.filter(pl.col("scope") == "ward")
        .with_columns(pl.col("closed").is_null().alias("_open"))
        .sort(["_open", "opened"], descending=[True, True], nulls_last=True)
        .group_by("ward_id", maintain_order=True)
        .agg(pl.col("onset_estimate").first())
    )


def visit_list(results: Results, view: pl.DataFrame, levels: Sequence[str] = VISIT_LEVELS) -> pl.DataFrame:
    """The wards to visit (``levels``) of ``view`` with their reason, change and single date."""
    rows = view.filter(pl.col("level").is_in(list(levels)))
    schema = {
        "ward_id": pl.String,
        "ward_name": pl.String,
        "level": pl.String,
        "ward_type_label": pl.String,
        "provider": pl.String,
        "rank": pl.UInt32,
        "reason": pl.String,
        "change": pl.String,
        "onset": pl.Date,
        "evidence_strength": pl.Float64,
        "strength_word": pl.String,
    }
    if rows.is_empty():
        return pl.DataFrame(schema=schema)
    then = month_ago(results)
    rows = rows.join(then, on="ward_id", how="left") if then.width > 1 else rows
    rows = rows.join(ward_onsets(results), on="ward_id", how="left")
    dirs = _directions(results)
    out: dict[str, list] = {k: [] for k in schema}
    for r in rows.iter_rows(named=True):
        w = r["ward_id"]
        inds = split_list(r.get("indicators"))
        before = set(split_list(r.get("indicators_then")))
        out["ward_id"].append(w)
        out["ward_name"].append(r["ward_name"])
        out["level"].append(r["level"])
        out["ward_type_label"].append(WARD_TYPE_LABELS.get(r.get("ward_type") or "", r.get("ward_type")))
        out["provider"].append(r.get("provider"))
        out["rank"].append(r["rank"])
        out["reason"].append(
            reason_line(inds, split_list(r.get("domains")), {k: dirs.get((w, k), "") for k in inds})
        )
        out["change"].append(
            change_line(
                r["level"],
                r.get("level_then"),
                float(r.get("evidence_strength") or 0.0),
                r.get("strength_then"),
                [k for k in inds if k not in before] if r.get("level_then") is not None else [],
            )
        )
        out["onset"].append(r.get("onset_estimate") or r.get("since"))
        out["evidence_strength"].append(float(r.get("evidence_strength") or 0.0))
        out["strength_word"].append(strength_word(r.get("evidence_strength")))
    return pl.DataFrame(out, schema=schema)


def evidence_history(results: Results, top: pl.DataFrame, weeks: int) -> pl.DataFrame:
    """Weekly evidence of the wards in ``top`` over the last ``weeks`` weeks (``ward`` = "rank. name")."""
    schema = {
        "ward": pl.String,
        "period": pl.Date,
        "evidence_strength": pl.Float64,
        "score": pl.Float64,
        "level": pl.String,
    }
    if results.as_of is None or top.is_empty():
        return pl.DataFrame(schema=schema)
    start = results.as_of - dt.timedelta(weeks=weeks)
    return (
        results.ward_status.filter(
            pl.col("ward_id").is_in(top["ward_id"].implode()) & (pl.col("period") > start)
        )
        .join(top.select("ward_id", "rank", "ward_name"), on="ward_id")
        .with_columns((pl.col("rank").cast(pl.String) + ". " + pl.col("ward_name")).alias("ward"))
        .sort("rank", "period")
        .select("ward", "period", "evidence_strength", "score", "level")
    )


#: kept for callers of the earlier name (the score history of the small multiples).
score_history = evidence_history


def build_overview(
    results: Results,
    providers: Sequence[str] = (),
    ward_types: Sequence[str] = (),
    heatmap_wards: int = 40,
    small_multiples: int = 12,
    history_weeks: int = 52,
) -> OverviewData:
    """Everything the overview shows for these filters (no caching; see :func:`cached_overview`)."""
    view = results.latest
    if providers:
        view = view.filter(pl.col("provider").is_in(list(providers)))
    if ward_types:
        view = view.filter(pl.col("ward_type").is_in(list(ward_types)))
    domains = [d for d in DOMAIN_KEYS if domain_score_column(d) in view.columns]
    table = ranked_table(view)
    analysts = analyst_table(view, domains)
    counts = view.group_by("level").len()
    level_counts = dict(zip(counts["level"].to_list(), counts["len"].to_list(), strict=True))
    return OverviewData(
        view=view,
        visit=visit_list(results, view),
        watch=visit_list(results, view, ("watch",)).select("ward_id", "ward_name", "reason"),
        table=table,
        analyst_table=analysts,
        csv=safe_csv(analysts.drop("ward_id")),
        level_counts=level_counts,
        domains=domains,
        heat=view.head(heatmap_wards),
        history=evidence_history(results, view.head(small_multiples), history_weeks),
        filtered=bool(providers or ward_types),
    )


_cached_build_overview = cached_on_results(build_overview, 16)


def cached_overview(
    results: Results, providers: Sequence[str] = (), ward_types: Sequence[str] = (), *sizes: int
) -> OverviewData:
    """:func:`build_overview` (``sizes``: its heatmap_wards, small_multiples, history_weeks) through
    Streamlit's resource cache, keyed on the results' content key and the filters in sorted order."""
    return _cached_build_overview(results, tuple(sorted(providers)), tuple(sorted(ward_types)), *sizes)


# ---------------------------------------------------------------------------------- indicator summary
def _number(key: str, rate: float | None) -> str:
    """A raw rate in display units without its unit words ("9.1", "12.5%")."""
    if rate is None or rate != rate:
        return "no data"
    mult, unit = display_scale(key)
    return f"{rate * mult:,.1f}%" if unit == "%" else f"{rate * mult:,.1f}"


#: columns of :func:`indicator_summary`, in order.
_SUMMARY_COLUMNS: dict[str, type[pl.DataType]] = {
    "key": pl.String,
    "Indicator": pl.String,
    "Latest": pl.String,
    "Mean": pl.String,
    "Variation": pl.String,
    "Assurance": pl.String,
    "Unit": pl.String,
    "Behind the level": pl.Boolean,
    "What the icons say": pl.String,
    "Domain": pl.String,
    "Latest period": pl.Date,
}


def indicator_summary(
    series: pl.DataFrame, contributing: Sequence[str] = (), fitted: Mapping[str, Any] | None = None
) -> pl.DataFrame:
    """Integrated-performance-report table of one ward: one row per indicator it reports.

    Columns: ``key, Indicator, Latest, Mean, Variation (data-URI icon), Assurance (icon or None),
    Unit, Behind the level, What the icons say, Domain, Latest period``. Latest is the last observed
    value in display units; Mean the chart's current centre line; the variation icon is the latest
    point's Making Data Count type; assurance needs a target (catalogue ``target``), otherwise "no
    target set". Indicators behind the current level come first (in ``contributing`` order), then
    by domain. ``fitted``: the ward's fitted charts (:func:`dashboard.components.charts.ward_charts`);
    where given, the variation icon and the mean are those of the chart that fits each series (monthly
    XmR, T or run chart for rare events), so the table agrees with the ward page and the briefing.
    """
    if series.is_empty():
        return pl.DataFrame(schema=_SUMMARY_COLUMNS)
    last = (
        series.filter(pl.col("rate").is_not_null() & pl.col("rate").is_not_nan())
        .sort("period")
        .group_by("indicator")
        .agg(pl.all().last())
    )
    rows = [
        _summary_row(r, contributing, (fitted or {}).get(r["indicator"])) for r in last.iter_rows(named=True)
    ]
    order = {k: i for i, k in enumerate(contributing)}
    frame = (
        pl.DataFrame(rows, schema=_SUMMARY_COLUMNS, orient="row")
        if rows
        else pl.DataFrame(schema=_SUMMARY_COLUMNS)
    )
    return (
        frame.with_columns(
            pl.col("key").replace_strict(order, default=len(order), return_dtype=pl.Int64).alias("_o")
        )
        .sort("_o", "Domain", "Indicator")
        .drop("_o")
    )


def _summary_row(r: dict[str, Any], contributing: Sequence[str], fc: Any) -> tuple:
    """One indicator's row of :func:`indicator_summary` from its last observed series row ``r``;
    ``fc`` the chart that fits the series (None: the weekly chart's icon and mean)."""
    key = r["indicator"]
    ind = indicator(key)
    direction = ind.direction if ind else "both"
    icon = fc.icon if fc is not None else variation_icon(r.get("point_type") or None, direction)
    target = getattr(ind, "target", None) if ind else None
    mean, lpl, upl = r.get("chart_mean"), r.get("chart_lpl"), r.get("chart_upl")
    limits_ok = all(v is not None and v == v for v in (mean, lpl, upl))
    assure = (
        assurance_icon(target, float(lpl), float(upl), direction)
        if (target is not None and lpl is not None and upl is not None and limits_ok)
        else None
    )
    meaning = icon.meaning
    if key in contributing and icon.key.startswith("improvement"):
        meaning += (
            ". The open alert disagrees: it weighs every week since the change began, this icon "
            "only the latest points (see the ward page)"
        )
    meaning += ". " + (assure.meaning if assure else "No target set, so no assurance icon") + "."
    return (
        key,
        indicator_label(key),
        _number(key, r["rate"]),
        _mean_text(key, mean, limits_ok, fc),
        icon.data_uri(28),
        assure.data_uri(28) if assure else None,
        display_scale(key)[1] or "count",
        key in contributing,
        meaning,
        domain_label(ind.domain) if ind else "",
        r["period"],
    )


def _mean_text(key: str, mean: float | None, limits_ok: bool, fc: Any) -> str:
    """The chart's current centre line in display units: the fitted chart's when there is one."""
    if fc is None:
        return _number(key, mean) if limits_ok else "too few points"
    from dashboard.components.charts import short_unit

    fmean = fc.frame["mean"].drop_nulls().drop_nans() if fc.has_limits else None
    if fmean is not None and fmean.len():
        return f"{fmean[-1]:,.3g} ({short_unit(fc.unit) or fc.kind})"
    return "no limits (run chart)"


def summary_for_display(summary: pl.DataFrame) -> pl.DataFrame:
    """The summary as shown: without its key, and without the assurance column when no indicator
    has a target (the icon is shown only where a target exists; the text column says so)."""
    shown = summary.drop("key")
    if shown["Assurance"].null_count() == shown.height:
        shown = shown.drop("Assurance")
    return shown


def summary_column_config() -> dict:
    """``st.dataframe`` column configuration of the indicator summary (icons as images)."""
    import streamlit as st

    return {
        "Variation": st.column_config.ImageColumn("Variation", width="small"),
        "Assurance": st.column_config.ImageColumn("Assurance", width="small"),
        "Behind the level": st.column_config.CheckboxColumn("Behind the level", width="small"),
        "Latest period": st.column_config.DateColumn("Latest period", format="DD/MM/YYYY"),
        "Unit": st.column_config.TextColumn("Unit", width="medium"),
        "What the icons say": st.column_config.TextColumn("What the icons say", width="large"),
    }


def display_unit(key: str) -> str:
    """Unit words of an indicator's display values ("per 1,000 occupied bed days", "%")."""
    return display_scale(key)[1]


def alert_counts(store: TriageStore, ward_ids: Sequence[str] | None = None) -> tuple[int, int]:
    """(new, open) ward and indicator alerts in the triage store; ``ward_ids=None`` counts every ward.

    Open = new, acknowledged or investigating (historical and closed alerts are not in the inbox);
    the same figures as the inbox (``TriageStore.inbox_counts``). Provider-wide alerts are counted
    in their own section. The unfiltered count is one query in SQLite; a filtered one reads only
    the filtered wards' alerts.
    """
    if ward_ids is None:
        counts = store.inbox_counts()
        return counts.new, counts.open
    if not ward_ids:
        return 0, 0
    alerts = store.list_alerts(ward=list(ward_ids))
    new = sum(a.status == "new" for a in alerts)
    return new, sum(a.status in OPEN_STATUSES for a in alerts)
