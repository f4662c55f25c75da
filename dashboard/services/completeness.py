"""The data-quality listing: series reported incompletely (``reporting.csv``, ``incomplete_reporting``).

Reads the reporting table of a results folder (``docs/results-contract.md``) and shapes, for display,
one row per series whose exposure was reported in every period but whose numerator was published in
only some: who, which indicator, how many periods reported, whether it raised a data-silence alert,
and the engine's sentence saying why or why not. An older results folder without ``reporting.csv``
(or without such rows) gives an empty frame.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from engine.scoring.completeness import INCOMPLETE_REPORTING
from signals import CATALOGUE

#: Columns of :func:`completeness_listing` (display names).
LISTING_COLUMNS: tuple[str, ...] = ("Ward", "Indicator", "Reported", "Status", "Why", "ward_id")


def completeness_listing(results_dir: Path, wards: pl.DataFrame) -> pl.DataFrame:
    """Incomplete reporters of the monitoring run, alerted first, then by ward name."""
    path = Path(results_dir) / "reporting.csv"
    if not path.is_file():
        return pl.DataFrame(schema=dict.fromkeys(LISTING_COLUMNS, pl.String))
    rep = pl.read_csv(path, try_parse_dates=True, infer_schema_length=10_000)
    if "kind" not in rep.columns:
        return pl.DataFrame(schema=dict.fromkeys(LISTING_COLUMNS, pl.String))
    rep = rep.filter(pl.col("kind") == INCOMPLETE_REPORTING)
    if rep.is_empty():
        return pl.DataFrame(schema=dict.fromkeys(LISTING_COLUMNS, pl.String))
    names = (
        wards.select("ward_id", pl.col("ward_name").cast(pl.String)) if "ward_name" in wards.columns else None
    )
    if names is not None:
        rep = rep.join(names, on="ward_id", how="left")
    else:
        rep = rep.with_columns(pl.lit(None, dtype=pl.String).alias("ward_name"))
    start, end = pl.col("start").cast(pl.Date), pl.col("end").cast(pl.Date)
    months = (end.dt.year() - start.dt.year()) * 12 + end.dt.month() - start.dt.month() + 1
    weeks = (end - start).dt.total_days() // 7 + 1
    total = pl.when(pl.col("cadence") == "monthly").then(months).otherwise(weeks)
    unit = pl.when(pl.col("cadence") == "monthly").then(pl.lit("months")).otherwise(pl.lit("weeks"))
    labels = {k: CATALOGUE[k].label for k in CATALOGUE}
    alerted = pl.col("alarm_from").is_not_null()
    out = rep.select(
        pl.coalesce("ward_name", "ward_id").alias("Ward"),
        pl.col("indicator").replace_strict(labels, default=pl.col("indicator")).alias("Indicator"),
        pl.format(
            "{} of {} {}", (total - pl.col("periods")).cast(pl.Int64), total.cast(pl.Int64), unit
        ).alias("Reported"),
        pl.when(alerted)
        .then(pl.lit("Data silence alert"))
        .otherwise(pl.lit("Listed, not alerted"))
        .alias("Status"),
        pl.col("explanation").str.splitn("; ", 2).struct.field("field_1").str.strip_suffix(".").alias("Why"),
        pl.col("ward_id"),
        alerted.alias("_alerted"),
    )
    return out.sort(["_alerted", "Ward"], descending=[True, False]).drop("_alerted")
