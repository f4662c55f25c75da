"""Readers of ``wardwatch aggregate``: event exports, the exposure file and the coverage.

Each returns accepted rows and rejections in the same form as ``validate`` (engine.io.rejections).
Event exports are read with :func:`engine.io.files.read_table` ``only=`` the three needed columns.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from engine.contract.dates import UK_DATE_FORMAT
from engine.io import parse
from engine.io.aggregate_mapping import EXPOSURE_ALIASES, WEEKDAYS, Mapping, period_start
from engine.io.errors import FatalInputError
from engine.io.files import LINE, read_table
from engine.io.rejections import CODE, Rule, apply_rules, rejected_frame, set_failure
from signals import Catalogue


def read_events(path: str | Path, m: Mapping) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """Events of one export: (accepted rows with ward, day, category, line), rejections, unused columns."""
    needed = [m.ward_column, m.date_column, m.category_column]
    # only the needed columns are read; every column name is checked for patient identifiers and
    # the values read for NHS numbers (engine.io.privacy); other columns never enter memory
    table = read_table(path, required=needed, only=needed)
    unused = [orig for norm, orig in table.original_names.items() if norm not in needed]
    frame = table.frame.select(LINE, *needed, *[c for c in ("_bad_fields",) if c in table.frame.columns])
    dtypes = frame.schema
    ward = parse.text(m.ward_column, dtypes[m.ward_column])
    cat = parse.text(m.category_column, dtypes[m.category_column])
    day = parse.date(m.date_column, dtypes[m.date_column])
    if dtypes[m.date_column] == pl.String:  # a datetime written as text: keep its date part
        txt = parse.text(m.date_column, dtypes[m.date_column])
        day = pl.coalesce(
            day,
            txt.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False),
            txt.str.slice(0, 10).str.to_date(UK_DATE_FORMAT, strict=False),
        )
    frame = frame.with_columns(ward.alias("_ward"), cat.alias("_cat"), day.alias("_day"))
    rules = []
    if "_bad_fields" in frame.columns:
        rules.append(
            Rule(
                "wrong_field_count",
                m.ward_column,
                pl.col("_bad_fields").is_not_null(),
                "the row has more fields than the header (an unquoted comma?)",
            )
        )
    rules += [
        Rule("missing_value", m.ward_column, pl.col("_ward") == "", f"{m.ward_column} is empty"),
        Rule(
            "missing_value",
            m.date_column,
            parse.text(m.date_column, dtypes[m.date_column]) == "",
            f"{m.date_column} is empty",
        ),
        Rule("missing_value", m.category_column, pl.col("_cat") == "", f"{m.category_column} is empty"),
        Rule(
            "unparseable_date",
            m.date_column,
            pl.col("_day").is_null(),
            pl.format(
                "'{}' is not a date (YYYY-MM-DD or dd/mm/yyyy, optionally with a time)",
                pl.col(m.date_column).cast(pl.String),
            ),
        ),
    ]
    checked = apply_rules(frame, rules)
    rejected = rejected_frame(checked, str(path), needed, needed)
    ok = checked.filter(pl.col(CODE).is_null()).select(
        pl.col(LINE).alias("line"),
        pl.col("_ward").alias("ward_id"),
        pl.col("_day").alias("day"),
        pl.col("_cat").alias("category"),
    )
    return ok, rejected, unused


def read_exposure(
    path: str | Path, cadence: str, catalogue: Catalogue, week_start: int = 1
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Exposure rows (ward_id, period, indicator or null, denominator) and their rejections.

    The value column is ``denominator`` (the contract's name) or one of :data:`EXPOSURE_ALIASES`.
    """
    table = read_table(path, required=["ward_id", "period"])
    value = next((c for c in ("denominator", *EXPOSURE_ALIASES) if c in table.frame.columns), None)
    if value is None:
        raise FatalInputError(
            path,
            "missing the exposure column: name it denominator (or "
            + ", ".join(EXPOSURE_ALIASES)
            + f"); found: {', '.join(c for c in table.frame.columns if not c.startswith('_'))}",
        )
    f = table.frame.rename({value: "denominator"}) if value != "denominator" else table.frame
    dtypes = f.schema
    has_ind = "indicator" in f.columns
    f = f.with_columns(
        parse.text("ward_id", dtypes["ward_id"]).alias("_ward"),
        parse.date("period", dtypes["period"]).alias("_period"),
        parse.number("denominator", dtypes["denominator"]).alias("_den"),
        (parse.text("indicator", dtypes["indicator"]) if has_ind else pl.lit("")).alias("_ind"),
    )
    checked = apply_rules(f, _exposure_rules(cadence, catalogue, week_start))
    checked = set_failure(
        checked,
        pl.len().over("_ward", "_period", "_ind") > 1,
        "duplicate",
        "period",
        pl.lit("more than one exposure row for this ward, period (and indicator): all copies rejected"),
    )
    cols = ["ward_id", "period", "denominator"] + (["indicator"] if has_ind else [])
    rejected = rejected_frame(checked, table.file, cols, cols)
    ok = checked.filter(pl.col(CODE).is_null()).select(
        pl.col("_ward").alias("ward_id"),
        pl.col("_period").alias("period"),
        pl.col("_ind").alias("indicator"),
        pl.col("_den").alias("denominator"),
    )
    return ok, rejected


def _exposure_rules(cadence: str, catalogue: Catalogue, week_start: int) -> list[Rule]:
    """The rules of an exposure row, in priority order (periods aligned to the mapping's cadence)."""
    aligned = (
        pl.col("_period").dt.weekday() == week_start
        if cadence == "weekly"
        else pl.col("_period").dt.day() == 1
    )
    return [
        Rule("missing_value", "ward_id", pl.col("_ward") == "", "ward_id is empty"),
        Rule(
            "unparseable_date",
            "period",
            pl.col("_period").is_null(),
            pl.format("'{}' is not a date", pl.col("period").cast(pl.String)),
        ),
        Rule(
            "not_aligned",
            "period",
            ~aligned,
            f"the period is not a {WEEKDAYS[week_start - 1].capitalize()} (the mapping's week_start)"
            if cadence == "weekly"
            else "the period is not the 1st of a month",
        ),
        Rule(
            "unknown_indicator",
            "indicator",
            (pl.col("_ind") != "") & ~pl.col("_ind").is_in(list(catalogue)),
            pl.format("unknown indicator '{}'", pl.col("_ind")),
        ),
        Rule(
            "unparseable_number",
            "denominator",
            pl.col("_den").is_null(),
            pl.format("'{}' is not a number", pl.col("denominator").cast(pl.String)),
        ),
        Rule("bad_denominator", "denominator", pl.col("_den") <= 0, "the denominator is zero or negative"),
    ]


def coverage_frame(
    m: Mapping, coverage_file: str | Path | None, sources: list[str], wards: list[str]
) -> pl.DataFrame:
    """Declared-complete (source, ward_id, period) cells from the mapping spans and the coverage file."""
    parts = []
    for c in m.coverage:
        srcs = sources if c.source == "*" else [s for s in sources if s == c.source]
        ws = wards if c.ward == "*" else [c.ward]
        start = c.complete_from
        periods = pl.date_range(start, c.complete_to, "1d", eager=True)
        per = periods.to_frame("day").select(
            period_start(pl.col("day"), m.cadence, m.week_start).alias("period")
        )
        # a period is covered only when all of its days are
        full = (
            per.group_by("period")
            .len()
            .filter(
                pl.col("len")
                == (7 if m.cadence == "weekly" else pl.col("period").dt.month_end().dt.day().cast(pl.UInt32))
            )
        )
        grid = (
            full.select("period")
            .join(pl.DataFrame({"ward_id": ws}), how="cross")
            .join(pl.DataFrame({"source": srcs}), how="cross")
        )
        parts.append(grid.select("source", "ward_id", "period"))
    if coverage_file is not None:
        table = read_table(coverage_file, required=["ward_id", "period"])
        f = table.frame
        src = parse.text("source", f.schema["source"]) if "source" in f.columns else pl.lit("*")
        cf = f.select(
            src.alias("source"),
            parse.text("ward_id", f.schema["ward_id"]).alias("ward_id"),
            period_start(parse.date("period", f.schema["period"]), m.cadence, m.week_start).alias("period"),
        ).drop_nulls()
        star = (
            cf.filter(pl.col("source") == "*")
            .drop("source")
            .join(pl.DataFrame({"source": sources}), how="cross")
        )
        parts.append(
            pl.concat([cf.filter(pl.col("source") != "*"), star.select("source", "ward_id", "period")])
        )
    if not parts:
        return pl.DataFrame(schema={"source": pl.String, "ward_id": pl.String, "period": pl.Date})
    return pl.concat(parts).unique()
