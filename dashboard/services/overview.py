"""Trust overview data, computed once per (results content, filters) and reused by every session.

The overview is the page a board member opens first, so its script run must stay light at
national scale (2,500 wards). Everything derived from the results (the filtered ranking, its
display table with domain labels, the Excel-safe CSV, the heatmap rows and the score history of
the small multiples) is built by :func:`build_overview` and cached on the results' content key
(:func:`cached_overview`). Only the triage counts are read per run, because triage changes them:
an unfiltered view uses one ``GROUP BY`` in the store, a filtered one the filtered wards' alerts.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from dashboard.services.formatting import DOMAIN_LABELS, LEVEL_WORDS, safe_csv
from dashboard.services.results import DOMAIN_KEYS, Results
from engine.store import OPEN_STATUSES, TriageStore


@dataclass(frozen=True)
class OverviewData:
    """What the overview shows for one set of filters.

    Attributes
    ----------
    view : pl.DataFrame
        Rows of ``Results.latest`` passing the filters, in rank order.
    table : pl.DataFrame
        The ranked table as displayed (``rank, Ward, Provider, Type, Level, Score, Since, Domains
        with evidence, ward_id``); ``Score`` in nats rounded to 0.1.
    csv : bytes
        ``table`` without ``ward_id`` as Excel-safe CSV (UK dates).
    level_counts : dict[str, int]
        Wards per current level (``urgent``, ``concern``, ``watch``, ``none``).
    domains : list[str]
        Domain keys with a ``score_<domain>`` column in the results.
    heat : pl.DataFrame
        ``heatmap_wards`` highest-ranked rows of ``view`` (input of the heatmap).
    history : pl.DataFrame
        ``ward, period, score, level`` of the ``small_multiples`` highest-ranked wards over the last
        ``history_weeks`` weeks (``ward`` = "rank. name").
    filtered : bool
        Whether a provider or ward-type filter is active.
    """

    view: pl.DataFrame
    table: pl.DataFrame
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


def ranked_table(view: pl.DataFrame) -> pl.DataFrame:
    """The displayed ranking of ``view`` (rows of ``Results.latest``)."""
    return view.select(
        "rank",
        pl.col("ward_name").alias("Ward"),
        pl.col("provider").alias("Provider"),
        pl.col("ward_type").alias("Type"),
        pl.col("level").replace_strict(LEVEL_WORDS, default="No concern").alias("Level"),
        pl.col("score").round(1).alias("Score"),
        pl.col("since").alias("Since"),
        domain_words().alias("Domains with evidence"),
        "ward_id",
    )


def score_history(results: Results, top: pl.DataFrame, weeks: int) -> pl.DataFrame:
    """Weekly score of the wards in ``top`` over the last ``weeks`` weeks (``ward`` = "rank. name")."""
    schema = {"ward": pl.String, "period": pl.Date, "score": pl.Float64, "level": pl.String}
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
        .select("ward", "period", "score", "level")
    )


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
    table = ranked_table(view)
    counts = view.group_by("level").len()
    level_counts = dict(zip(counts["level"].to_list(), counts["len"].to_list(), strict=True))
    domains = [d for d in DOMAIN_KEYS if f"score_{d}" in view.columns]
    return OverviewData(
        view=view,
        table=table,
        csv=safe_csv(table.drop("ward_id")),
        level_counts=level_counts,
        domains=domains,
        heat=view.head(heatmap_wards),
        history=score_history(results, view.head(small_multiples), history_weeks),
        filtered=bool(providers or ward_types),
    )


@functools.cache
def _cached_impl():  # type: ignore[no-untyped-def]
    import streamlit as st

    @st.cache_resource(max_entries=16, show_spinner=False)
    def load(
        key: str,
        providers: tuple[str, ...],
        ward_types: tuple[str, ...],
        sizes: tuple[int, int, int],
        _results: Results,
    ) -> OverviewData:
        return build_overview(_results, providers, ward_types, *sizes)

    return load


def cached_overview(
    results: Results,
    providers: Sequence[str] = (),
    ward_types: Sequence[str] = (),
    heatmap_wards: int = 40,
    small_multiples: int = 12,
    history_weeks: int = 52,
) -> OverviewData:
    """:func:`build_overview` through Streamlit's resource cache, keyed on the results' content key.

    ``cache_resource`` hands every session the same immutable object (no copy of the frames).
    """
    sizes = (heatmap_wards, small_multiples, history_weeks)
    return _cached_impl()(results.key, tuple(sorted(providers)), tuple(sorted(ward_types)), sizes, results)


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
