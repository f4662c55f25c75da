"""Reading and validating the optional events file (CSV or Parquet).

Columns: ``ward_id, date, kind`` (required), ``note`` (optional free text). ``kind`` is one of
:data:`EVENT_KINDS`; a ``rebase`` or ``reconfiguration`` starts a new baseline for the ward. Notes are
searched for NHS numbers (the whole file is refused if one is found).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from engine.io import parse
from engine.io.files import read_table
from engine.io.rejections import CODE, Rule, apply_rules, field_count_rule, rejected_frame, with_bad_fields
from engine.io.settings import InputSettings

EVENT_KINDS: tuple[str, ...] = ("reconfiguration", "manager_change", "rebase", "note")
#: Event kinds after which baselines restart.
REBASE_KINDS: tuple[str, ...] = ("reconfiguration", "rebase")
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "ward_id": pl.String(),
    "date": pl.Date(),
    "kind": pl.String(),
    "note": pl.String(),
}


@dataclass(frozen=True)
class EventsRead:
    """Accepted events (``EVENT_SCHEMA``, sorted by ward_id, date), rejections and rows read."""

    events: pl.DataFrame
    rejected: pl.DataFrame
    rows_read: int


def empty_events() -> pl.DataFrame:
    """An events frame with no rows."""
    return pl.DataFrame(schema=EVENT_SCHEMA)


def read_events(
    path: str | Path,
    wards: pl.DataFrame | Collection[str] | None = None,
    rejected_ward_ids: Collection[str] = (),
    limits: InputSettings | None = None,
) -> EventsRead:
    """Read, parse and validate an events file.

    Parameters
    ----------
    path:
        The events file.
    wards:
        The accepted ward register (a frame with ``ward_id``) or a collection of ward ids; events
        for other wards are rejected. ``None``: no ward check.
    rejected_ward_ids:
        Ward ids whose register rows were rejected (named as such in the reason).
    limits:
        The accepted date window (defaults: :class:`engine.io.settings.InputSettings`).
    """
    lo, hi = (limits or InputSettings()).window()
    table = read_table(path, required=("ward_id", "date", "kind"), free_text=("note",))
    frame = with_bad_fields(table.frame)
    if isinstance(wards, pl.DataFrame):
        ward_ids: list[str] | None = wards["ward_id"].to_list()
    else:
        ward_ids = None if wards is None else list(wards)
    df = frame.with_columns(_parsed(table.frame.schema))
    rules = [
        field_count_rule(),
        *_ward_and_date_rules(lo, hi),
        *_kind_and_register_rules(ward_ids, rejected_ward_ids),
    ]
    df = apply_rules(df, rules)
    raw_cols = [c for c in ("ward_id", "date", "kind", "note") if c in frame.columns]
    rejected = rejected_frame(df, table.file, value_columns=raw_cols, raw_columns=raw_cols)
    events = (
        df.filter(pl.col(CODE).is_null())
        .select(
            pl.col("_ward").alias("ward_id"),
            pl.col("_date").alias("date"),
            pl.col("_kind").alias("kind"),
            pl.col("_note").alias("note"),
        )
        .sort("ward_id", "date", maintain_order=True)
    )
    return EventsRead(events, rejected, frame.height)


def _parsed(sch: pl.Schema) -> list[pl.Expr]:
    """The parsed columns: ``_ward``, ``_date_text``, ``_date``, ``_kind`` (lower case, runs of
    spaces and hyphens as ``_``) and ``_note`` (empty without a ``note`` column)."""
    return [
        parse.text("ward_id", sch["ward_id"]).alias("_ward"),
        parse.text("date", sch["date"]).alias("_date_text"),
        parse.date("date", sch["date"]).alias("_date"),
        parse.text("kind", sch["kind"], lower=True).str.replace_all(r"[\s\-]+", "_").alias("_kind"),
        (parse.text("note", sch["note"]) if "note" in sch else pl.lit("")).alias("_note"),
    ]


def _ward_and_date_rules(lo: dt.date, hi: dt.date) -> list[Rule]:
    """The rules of the ``ward_id`` and ``date`` cells (in priority order)."""
    return [
        Rule("missing_value", "ward_id", pl.col("_ward") == "", "ward_id is empty"),
        Rule("missing_value", "date", pl.col("_date_text") == "", "date is empty"),
        Rule(
            "unparseable_date",
            "date",
            pl.col("_date").is_null(),
            pl.format(
                "date '{}' is not a date (use YYYY-MM-DD or dd/mm/yyyy with a four-digit year)",
                pl.col("_date_text"),
            ),
        ),
        Rule(
            "date_out_of_window",
            "date",
            (pl.col("_date") < lo) | (pl.col("_date") > hi),
            pl.format(
                "date {} is outside the accepted window {} to {}",
                pl.col("_date"),
                pl.lit(str(lo)),
                pl.lit(str(hi)),
            ),
        ),
    ]


def _kind_and_register_rules(ward_ids: list[str] | None, rejected_ward_ids: Collection[str]) -> list[Rule]:
    """The rules of the ``kind`` cell and of the ward's place in the register (in priority order)."""
    known = pl.lit(True) if ward_ids is None else pl.col("_ward").is_in(ward_ids)
    return [
        Rule("missing_value", "kind", pl.col("_kind") == "", "kind is empty"),
        Rule(
            "unknown_kind",
            "kind",
            ~pl.col("_kind").is_in(EVENT_KINDS),
            pl.format("kind '{}' is not one of {}", pl.col("_kind"), pl.lit(", ".join(EVENT_KINDS))),
        ),
        Rule(
            "unknown_ward",
            "ward_id",
            ~known,
            pl.when(pl.col("_ward").is_in(list(rejected_ward_ids)))
            .then(pl.format("ward '{}' was rejected in the ward register", pl.col("_ward")))
            .otherwise(pl.format("ward '{}' is not in the ward register", pl.col("_ward"))),
        ),
    ]
