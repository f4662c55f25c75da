"""The inbox by ward: one row per ward, its indicator alerts under it, provider alerts apart.

Input is the store's alerts joined to the results (``services.triage.inbox_frame``). Every alert
gets a ``state``: its triage status, or ``ended_before_triage`` (``new``, condition ended more
than ``days`` before the data end) or ``superseded``. A ward's row is led by its **lead alert**:
the ward alert (else an indicator alert) whose condition still holds, latest opened first; the
row shows the lead's status and owner and the date its condition began (onset estimate, else
opening), and counts the ward's open alerts. Pure polars: no Streamlit here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from dashboard.services.audit_words import ALL_STATUS_WORDS
from dashboard.services.formatting import LEVEL_ORDER, LEVEL_WORDS
from engine.contract.dates import UK_DATE_FORMAT
from engine.store import OPEN_STATUSES

#: "show" choices of the inbox: every ward, wards assigned to me, wards nobody owns.
SHOW_CHOICES: dict[str, str] = {"all": "All wards", "mine": "Assigned to me", "unassigned": "Unassigned"}
STATE_WORDS: dict[str, str] = {
    **ALL_STATUS_WORDS,
    "ended_before_triage": "Ended before triage",
    "superseded": "Superseded",
}
_STATUS_ORDER = {"new": 0, "acknowledged": 1, "investigating": 2, "historical": 3, "closed": 4}


@dataclass(frozen=True)
class InboxFilters:
    """What the person chose to see. ``statuses`` are triage statuses; an alert that ended before
    triage counts as ``new`` but is shown only with ``include_ended``."""

    show: str = "all"
    user: str = ""
    statuses: tuple[str, ...] = OPEN_STATUSES
    levels: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    search: str = ""
    include_ended: bool = False
    #: wards whose only alerts are indicator alerts and whose level is none (an indicator alert does
    #: not raise a ward's level): folded away by default so the inbox opens on the flagged wards; a
    #: search, the "none" level filter or "mine"/"unassigned" shows them anyway.
    include_unflagged: bool = False


def with_states(frame: pl.DataFrame, data_end: dt.date | None, days: int) -> pl.DataFrame:
    """``frame`` plus ``state``, ``holds`` (condition still holds) and ``began`` columns."""
    cutoff = (data_end - dt.timedelta(days=days)) if data_end else None
    ended = (
        (pl.col("status") == "new") & pl.col("closed").is_not_null() & (pl.col("closed") < pl.lit(cutoff))
        if cutoff
        else pl.lit(False)
    )
    return frame.with_columns(
        pl.when(pl.col("outcome") == "superseded")
        .then(pl.lit("superseded"))
        .when(ended)
        .then(pl.lit("ended_before_triage"))
        .otherwise(pl.col("status"))
        .alias("state"),
        pl.col("closed").is_null().alias("holds"),
        pl.coalesce("onset_estimate", "opened").alias("began"),
    )


def _visible(frame: pl.DataFrame, f: InboxFilters) -> pl.DataFrame:
    keep = pl.col("status").is_in(list(f.statuses))  # superseded alerts are closed ones
    if not f.include_ended:
        keep = keep & (pl.col("state") != "ended_before_triage")
    return frame.filter(keep)


def condition_words() -> pl.Expr:
    """Display words of an alert's condition (on a frame from :func:`with_states`)."""
    return (
        pl.when(pl.col("state") == "ended_before_triage")
        .then(pl.lit("Ended ") + pl.col("closed").dt.strftime(UK_DATE_FORMAT) + pl.lit(", before triage"))
        .when(pl.col("holds"))
        .then(pl.lit("Still holds"))
        .otherwise(pl.lit("Ended ") + pl.col("closed").dt.strftime(UK_DATE_FORMAT))
    )


def ward_rows(frame: pl.DataFrame, latest: pl.DataFrame, f: InboxFilters) -> pl.DataFrame:
    """One row per ward with a visible ward or indicator alert (``frame`` from :func:`with_states`).

    Columns: ``Ward, Level, Open alerts, Owner, Status, Began, Condition, Provider, ward_id,
    lead_id, level`` (``level`` the ward's current level key from ``latest``), most severe first.
    """
    wards = frame.filter(pl.col("scope") != "provider")
    visible = _visible(wards, f)
    empty = {
        "Ward": pl.String, "Level": pl.String, "Open alerts": pl.UInt32, "Owner": pl.String,
        "Status": pl.String, "Began": pl.Date, "Condition": pl.String, "Provider": pl.String,
        "ward_id": pl.String, "lead_id": pl.String, "level": pl.String,
    }  # fmt: skip
    if visible.is_empty():
        return pl.DataFrame(schema=empty)
    lead = (
        visible.sort(
            [pl.col("scope") == "ward", "holds", "opened", "alert_id"],
            descending=[True, True, True, False],
        )
        .group_by("ward_id", maintain_order=True)
        .first()
    )
    open_alerts = wards.filter(
        pl.col("status").is_in(list(OPEN_STATUSES))
        & (pl.lit(f.include_ended) | (pl.col("state") != "ended_before_triage"))
    )
    counts = open_alerts.group_by("ward_id").agg(
        pl.len().alias("Open alerts"), pl.col("assignee").drop_nulls().first().alias("any_owner")
    )
    levels = latest.select(
        "ward_id", pl.col("level").alias("ward_level"), pl.col("provider").alias("ward_provider")
    )
    rows = (
        lead.join(counts, on="ward_id", how="left")
        .join(levels, on="ward_id", how="left")
        .with_columns(
            pl.col("Open alerts").fill_null(0).cast(pl.UInt32),
            pl.coalesce("assignee", "any_owner").alias("Owner"),
            pl.coalesce("ward_level", pl.lit("none")).alias("level"),
            pl.coalesce("ward_provider", "provider").fill_null("").alias("Provider"),
        )
    )
    if not (f.include_unflagged or f.show != "all" or f.search.strip() or "none" in f.levels):
        rows = rows.filter((pl.col("level") != "none") | (pl.col("scope") == "ward"))
    if f.show == "mine":
        rows = rows.filter(pl.col("Owner") == f.user)
    elif f.show == "unassigned":
        rows = rows.filter(pl.col("Owner").is_null())
    if f.levels:
        rows = rows.filter(pl.col("level").is_in(list(f.levels)))
    if f.providers:
        rows = rows.filter(pl.col("Provider").is_in(list(f.providers)))
    if f.search.strip():
        needle = f.search.strip().lower()
        rows = rows.filter(
            pl.col("ward_name").str.to_lowercase().str.contains(needle, literal=True)
            | pl.col("ward_id").str.to_lowercase().str.contains(needle, literal=True)
        )
    return rows.sort(
        [
            pl.col("level").replace_strict(LEVEL_ORDER, default=0, return_dtype=pl.Int8),
            pl.col("status").replace_strict(_STATUS_ORDER, default=9, return_dtype=pl.Int8),
            "Open alerts",
            "ward_name",
        ],
        descending=[True, False, True, False],
    ).select(
        pl.col("ward_name").alias("Ward"),
        pl.col("level").replace_strict(LEVEL_WORDS, default=pl.col("level")).alias("Level"),
        "Open alerts",
        "Owner",
        pl.col("state").replace_strict(STATE_WORDS, default=pl.col("state")).alias("Status"),
        pl.col("began").alias("Began"),
        condition_words().alias("Condition"),
        "Provider",
        "ward_id",
        pl.col("alert_id").alias("lead_id"),
        "level",
    )


def indicator_rows(frame: pl.DataFrame, ward_id: str, f: InboxFilters) -> pl.DataFrame:
    """The ward's visible indicator alerts, those still holding first (``frame`` with states)."""
    rows = _visible(frame.filter((pl.col("ward_id") == ward_id) & (pl.col("scope") == "indicator")), f)
    return rows.sort(["holds", "opened"], descending=[True, True])


def provider_rows(frame: pl.DataFrame, f: InboxFilters) -> pl.DataFrame:
    """Visible provider-wide alerts (provider filter applied), those still holding first."""
    rows = _visible(frame.filter(pl.col("scope") == "provider"), f)
    if f.providers:
        rows = rows.filter(pl.col("provider").is_in(list(f.providers)))
    if f.show == "mine":
        rows = rows.filter(pl.col("assignee") == f.user)
    elif f.show == "unassigned":
        rows = rows.filter(pl.col("assignee").is_null())
    return rows.sort(["holds", "opened"], descending=[True, True])
