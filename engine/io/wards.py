"""Reading and validating the ward register (CSV or Parquet).

Columns: ``ward_id, ward_name, provider, ward_type`` (required, non-empty), ``beds`` (optional,
positive whole number). Any other column is kept as text. ``ward_type`` must be one of
:data:`signals.WARD_TYPES` (case and spaces forgiven: ``Acute Adult`` is ``acute_adult``). A ward_id
that appears twice is ambiguous, so every copy is rejected.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from engine.io import parse
from engine.io.files import BAD_FIELDS, LINE, read_table
from engine.io.rejections import (
    CODE,
    Rule,
    apply_rules,
    field_count_rule,
    rejected_frame,
    set_failure,
    with_bad_fields,
)
from signals import WARD_TYPES

WARD_COLUMNS = ("ward_id", "ward_name", "provider", "ward_type")
WARD_SCHEMA: dict[str, pl.DataType] = {
    "ward_id": pl.String(),
    "ward_name": pl.String(),
    "provider": pl.String(),
    "ward_type": pl.String(),
    "beds": pl.Int64(),
}


@dataclass(frozen=True)
class WardsRead:
    """Accepted wards (``WARD_SCHEMA`` columns first, extras after), rejections and rows read."""

    wards: pl.DataFrame
    rejected: pl.DataFrame
    rows_read: int
    rejected_ids: frozenset[str]


def read_wards(path: str | Path) -> WardsRead:
    """Read, parse and validate a ward register; see the module docstring for the rules."""
    table = read_table(path, required=WARD_COLUMNS)
    frame = with_bad_fields(table.frame)
    sch = table.frame.schema
    has_beds = "beds" in frame.columns
    extras = [c for c in frame.columns if c not in (*WARD_SCHEMA, LINE, BAD_FIELDS)]
    wt = parse.text("ward_type", sch["ward_type"], lower=True).str.replace_all(r"[\s\-]+", "_")
    df = frame.with_columns(
        *[parse.text(c, sch[c]).alias(f"_{c}") for c in WARD_COLUMNS if c != "ward_type"],
        wt.alias("_ward_type"),
        (parse.number("beds", sch["beds"]) if has_beds else pl.lit(None, pl.Float64)).alias("_beds"),
        (parse.text("beds", sch["beds"]) if has_beds else pl.lit("")).alias("_beds_text"),
    )
    bad_types = df.filter((pl.col("_ward_type") != "") & ~pl.col("_ward_type").is_in(WARD_TYPES))
    hint = {
        t: (f" (did you mean '{m[0]}'?)" if (m := difflib.get_close_matches(t, WARD_TYPES, n=1)) else "")
        for t in bad_types["_ward_type"].unique().to_list()
    }
    allowed = ", ".join(WARD_TYPES)
    beds = pl.col("_beds")
    rules = [
        field_count_rule(),
        *[Rule("missing_value", c, pl.col(f"_{c}") == "", f"{c} is empty") for c in WARD_COLUMNS],
        Rule(
            "unknown_ward_type",
            "ward_type",
            ~pl.col("_ward_type").is_in(WARD_TYPES),
            pl.format("ward_type '{}' is not one of {}", pl.col("_ward_type"), pl.lit(allowed))
            + pl.col("_ward_type").replace_strict(hint, default="", return_dtype=pl.String)
            if hint
            else pl.format("ward_type '{}' is not one of {}", pl.col("_ward_type"), pl.lit(allowed)),
        ),
        Rule(
            "bad_beds",
            "beds",
            (pl.col("_beds_text") != "") & (beds.is_null() | (beds <= 0) | (beds != beds.floor())),
            pl.format("beds '{}' is not a positive whole number", pl.col("_beds_text")),
        ),
    ]
    df = apply_rules(df, rules)
    dup = (pl.col("_ward_id") != "") & pl.col("_ward_id").is_duplicated()
    df = df.with_columns(pl.col(LINE).cast(pl.String).str.join(", ").over("_ward_id").alias("_dup_lines"))
    reason = pl.format(
        "ward_id '{}' appears on lines {}: all copies rejected", pl.col("_ward_id"), pl.col("_dup_lines")
    )
    df = set_failure(df, dup, "duplicate_ward", "ward_id", reason)
    rejected = rejected_frame(
        df, table.file, value_columns=[*WARD_SCHEMA], raw_columns=[*WARD_SCHEMA, *extras]
    )
    good = df.filter(pl.col(CODE).is_null())
    wards = good.select(
        pl.col("_ward_id").alias("ward_id"),
        pl.col("_ward_name").alias("ward_name"),
        pl.col("_provider").alias("provider"),
        pl.col("_ward_type").alias("ward_type"),
        pl.col("_beds").cast(pl.Int64).alias("beds"),
        *[pl.col(c).cast(pl.String) for c in extras],
    ).sort("ward_id")
    accepted = set(wards["ward_id"].to_list())
    rejected_ids = (
        frozenset(df.filter(pl.col(CODE).is_not_null() & (pl.col("_ward_id") != ""))["_ward_id"].to_list())
        - accepted
    )
    return WardsRead(wards, rejected, frame.height, rejected_ids)
