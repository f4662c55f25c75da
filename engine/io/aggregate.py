"""Aggregate event-level exports (one row per incident) into the observations contract.

Inputs (see docs/aggregate.md):

* one or more **event exports** (CSV or Parquet; Datix, Ulysses, InPhase...), one row per event:
  a ward column, a date or datetime column and a category column (names set in the mapping);
* a **mapping** (TOML): ``[columns]`` (ward, date, category names in the exports), ``cadence``
  (``weekly``: periods start on Monday; ``monthly``: the 1st), ``[categories]`` source category ->
  indicator key or list of keys (several categories to one indicator; one to several), and
  ``[[coverage]]`` tables ``{source, ward, complete_from, complete_to}`` (``*`` = every source / ward)
  declaring where each source is complete; and/or a per-period coverage CSV
  (``ward_id, period[, source]``);
* the **exposure** (bed days, shifts) in the contract's long layout: ``ward_id, period,
  denominator[, indicator]`` (rows without an indicator apply to every indicator with exposure).

Decisions:

* **Zero only where declared complete.** A ward-period-indicator inside the coverage of every source
  that maps to the indicator and with no event is written ``0``; outside coverage the count is
  **unknown** (empty numerator, never zero), even when some events are present (they are a lower
  bound: reported in ``aggregate_report``).
* **Every event row accounted for**: rejected with the same reasons and columns as ``validate``
  (file, line, column, value, code, reason), unmapped (listed by category), outside coverage, or
  counted. Nothing is dropped silently.
* **Privacy**: only the ward, date and category columns are read (other columns, free-text
  descriptions included, never enter memory and are listed as not read); a file with any column
  *named* like a patient identifier, or with NHS-number-like values in a column read, is refused
  whole (:mod:`engine.io.privacy` via :func:`engine.io.files.read_table`).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from engine.io import parse
from engine.io.errors import FatalInputError
from engine.io.files import LINE, read_table
from engine.io.rejections import (
    CODE,
    REASON,
    Rule,
    apply_rules,
    empty_rejections,
    rejected_frame,
)
from signals import CATALOGUE, Catalogue

CADENCES = ("weekly", "monthly")
#: Other accepted names of the exposure file's value column (``denominator`` is the contract's).
EXPOSURE_ALIASES = ("bed_days", "occupied_bed_days", "shifts", "value")


@dataclass(frozen=True)
class Coverage:
    """A declared complete span: ``source`` (file name or ``*``), ``ward`` (id or ``*``), dates inclusive."""

    source: str
    ward: str
    complete_from: dt.date
    complete_to: dt.date


@dataclass(frozen=True)
class Mapping:
    """The aggregation mapping (parsed from TOML)."""

    cadence: str
    ward_column: str
    date_column: str
    category_column: str
    categories: dict[str, tuple[str, ...]]
    coverage: tuple[Coverage, ...] = field(default=())
    week_start: int = 1  # ISO weekday weekly periods start on (1 = Monday ... 7 = Sunday)


def _norm(name: str) -> str:
    return "_".join(name.strip().lower().split())


def load_mapping(path: str | Path, catalogue: Catalogue | None = None) -> Mapping:
    """Read and check the mapping TOML; a fatal error names the file and the key at fault."""
    cat = catalogue or CATALOGUE
    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FatalInputError(p, "mapping file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise FatalInputError(p, f"not a valid TOML mapping: {exc}") from None
    cadence = doc.get("cadence", "weekly")
    if cadence not in CADENCES:
        raise FatalInputError(p, f"cadence must be weekly or monthly, got {cadence!r}")
    cols = doc.get("columns", {})
    cats_raw = doc.get("categories")
    if not isinstance(cats_raw, dict) or not cats_raw:
        raise FatalInputError(p, "[categories] is missing or empty: map each source category to indicators")
    categories: dict[str, tuple[str, ...]] = {}
    for src, target in cats_raw.items():
        keys = (target,) if isinstance(target, str) else tuple(target)
        for k in keys:
            if k not in cat:
                hint = cat.nearest(k)
                raise FatalInputError(
                    p,
                    f"categories.{src!r}: unknown indicator {k!r}"
                    + (f" (did you mean {hint!r}?)" if hint else ""),
                )
            if cat[k].family != "count":
                raise FatalInputError(p, f"categories.{src!r}: {k!r} is not a count indicator")
        categories[src.strip().casefold()] = keys
    coverage = []
    for i, c in enumerate(doc.get("coverage", [])):
        try:
            lo, hi = c["complete_from"], c["complete_to"]
            lo = lo if isinstance(lo, dt.date) else dt.date.fromisoformat(str(lo))
            hi = hi if isinstance(hi, dt.date) else dt.date.fromisoformat(str(hi))
        except (KeyError, ValueError):
            raise FatalInputError(
                p, f"coverage[{i}]: needs complete_from and complete_to as dates YYYY-MM-DD"
            ) from None
        if hi < lo:
            raise FatalInputError(p, f"coverage[{i}]: complete_to {hi} is before complete_from {lo}")
        coverage.append(Coverage(str(c.get("source", "*")), str(c.get("ward", "*")), lo, hi))
    start = str(doc.get("week_start", "monday")).strip().lower()
    if start not in WEEKDAYS:
        raise FatalInputError(p, f"week_start must be a day of the week (monday ... sunday), got {start!r}")
    return Mapping(
        week_start=WEEKDAYS.index(start) + 1,
        cadence=cadence,
        ward_column=_norm(cols.get("ward", "ward_id")),
        date_column=_norm(cols.get("date", "date")),
        category_column=_norm(cols.get("category", "category")),
        categories=categories,
        coverage=tuple(coverage),
    )


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def period_start(day: pl.Expr, cadence: str, week_start: int = 1) -> pl.Expr:
    """The contract's period of a date: the first day of its week (``week_start``, ISO weekday), or
    the 1st of its month."""
    if cadence != "weekly":
        return day.dt.truncate("1mo")
    back = (day.dt.weekday().cast(pl.Int32) - week_start) % 7
    return day.dt.offset_by(pl.format("-{}d", back))


@dataclass(frozen=True)
class AggregateResult:
    """Observations in the contract's long layout plus the accounting of every input row."""

    observations: pl.DataFrame  # ward_id, period, indicator, numerator (text: n or ""), denominator
    rejected: pl.DataFrame  # REJECT_SCHEMA rows of events and exposure files
    unmapped: pl.DataFrame  # file, category, rows
    accounting: pl.DataFrame  # file, outcome, rows
    unused_columns: dict[str, list[str]]
    cadence: str
    wards_without_exposure: pl.DataFrame = field(  # ward_id, events: wards in the exports only
        default_factory=lambda: pl.DataFrame(schema={"ward_id": pl.String, "events": pl.UInt32})
    )

    def report(self) -> str:
        """Printable report: every row of every file accounted for."""
        lines = [f"wardwatch aggregate ({self.cadence} periods)"]
        for (file,), g in self.accounting.group_by(["file"], maintain_order=True):
            lines.append(f"  {file}:")
            lines.extend(f"    {r['outcome']:<58} {r['rows']:>8,}" for r in g.iter_rows(named=True))
            if self.unused_columns.get(str(file)):
                lines.append(f"    columns not read: {', '.join(self.unused_columns[str(file)])}")
        if self.unmapped.height:
            lines.append("Unmapped categories (add them to [categories] if they should count):")
            lines.extend(
                f"  {r['file']}: {r['category']!r}: {r['rows']:,} rows"
                for r in self.unmapped.iter_rows(named=True)
            )
        if self.wards_without_exposure.height:
            lines.append("Wards in the exports with no exposure row at all (a misspelt ward id?):")
            lines.extend(
                f"  {r['ward_id']!r}: {r['events']:,} events (not written)"
                for r in self.wards_without_exposure.iter_rows(named=True)
            )
        obs = self.observations
        if obs.height:
            kind = pl.when(pl.col("numerator") == "").then(pl.lit("unknown (outside declared coverage)"))
            kind = kind.when(pl.col("numerator") == "0").then(pl.lit("zero (covered, no event)"))
            tab = (
                obs.with_columns(kind.otherwise(pl.lit("counted")).alias("k"))
                .group_by("indicator", "k")
                .len()
            )
            lines.append("Observations written")
            lines.extend(
                f"  {r['indicator']:<24} {r['k']:<38} {r['len']:>7,}"
                for r in tab.sort("indicator", "k").iter_rows(named=True)
            )
        if self.rejected.height:
            lines.append(f"Rejected rows: {self.rejected.height:,} (written to aggregate_rejected.csv)")
            by_code = self.rejected.group_by("code").len().sort("len", descending=True)
            lines.extend(f"  {r['code']:<24} {r['len']:>7,}" for r in by_code.iter_rows(named=True))
        return "\n".join(lines)


def _read_events(path: str | Path, m: Mapping) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
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
            txt.str.slice(0, 10).str.to_date("%d/%m/%Y", strict=False),
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


def _read_exposure(
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
    aligned = (
        pl.col("_period").dt.weekday() == week_start
        if cadence == "weekly"
        else pl.col("_period").dt.day() == 1
    )
    rules = [
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
    checked = apply_rules(f, rules)
    dup = pl.len().over("_ward", "_period", "_ind") > 1
    checked = checked.with_columns(
        pl.when(pl.col(CODE).is_null() & dup).then(pl.lit("duplicate")).otherwise(pl.col(CODE)).alias(CODE),
        pl.when(pl.col(CODE).is_null() & dup)
        .then(pl.lit("period"))
        .otherwise(pl.col("_column"))
        .alias("_column"),
        pl.when(pl.col(CODE).is_null() & dup)
        .then(pl.lit("more than one exposure row for this ward, period (and indicator): all copies rejected"))
        .otherwise(pl.col(REASON))
        .alias(REASON),
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


def _coverage_frame(
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


def aggregate(
    events: list[str | Path],
    mapping: str | Path | Mapping,
    exposure: str | Path,
    coverage: str | Path | None = None,
    catalogue: Catalogue | None = None,
) -> AggregateResult:
    """Aggregate event exports into observations (see the module docstring)."""
    cat = catalogue or CATALOGUE
    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping, cat)
    if not events:
        raise FatalInputError("events", "no event export given")
    sources = [Path(e).name for e in events]
    rows, rejected, unmapped, accounting, unused = [], [], [], [], {}
    for path, source in zip(events, sources, strict=True):
        ok, rej, cols = _read_events(path, m)
        unused[str(path)] = cols
        rejected.append(rej)
        key = ok.with_columns(pl.col("category").str.to_lowercase().alias("_key"))
        mapped_keys = pl.DataFrame(
            {"_key": list(m.categories), "indicators": [list(v) for v in m.categories.values()]},
            schema={"_key": pl.String, "indicators": pl.List(pl.String)},
        )
        joined = key.join(mapped_keys, on="_key", how="left")
        um = joined.filter(pl.col("indicators").is_null())
        if um.height:
            unmapped.append(
                um.group_by("category")
                .len("rows")
                .sort("rows", descending=True)
                .select(pl.lit(str(path)).alias("file"), "category", "rows")
            )
        mapped = (
            joined.filter(pl.col("indicators").is_not_null())
            .explode("indicators")
            .rename({"indicators": "indicator"})
        )
        rows.append(
            mapped.select(
                pl.lit(source).alias("source"),
                "ward_id",
                period_start(pl.col("day"), m.cadence, m.week_start).alias("period"),
                "indicator",
                "line",
            )
        )
        accounting.append(
            pl.DataFrame(
                {
                    "file": [str(path)] * 4,
                    "outcome": [
                        "rows read",
                        "rows rejected (see aggregate_rejected.csv)",
                        "rows with an unmapped category (listed below)",
                        "rows mapped to indicators",
                    ],
                    "rows": [ok.height + rej.height, rej.height, um.height, ok.height - um.height],
                }
            )
        )
    exp, exp_rej = _read_exposure(exposure, m.cadence, cat, m.week_start)
    rejected.append(exp_rej)
    ev = pl.concat(rows)
    wards = sorted(set(exp["ward_id"].to_list()) | set(ev["ward_id"].to_list()))
    cov = _coverage_frame(m, coverage, sources, wards)
    # which sources feed each indicator: a cell is complete only if every such source covers it
    feeds = (
        pl.DataFrame({"indicator": [k for v in m.categories.values() for k in v]})
        .unique()
        .join(pl.DataFrame({"source": sources}), how="cross")
    )
    inds = sorted(feeds["indicator"].unique().to_list())
    # the grid: every ward-period with exposure (or with events), per mapped indicator
    exp_any = exp.filter(pl.col("indicator") == "").drop("indicator")
    exp_ind = exp.filter(pl.col("indicator") != "")
    grid_wp = pl.concat([exp.select("ward_id", "period"), ev.select("ward_id", "period")]).unique()
    grid = grid_wp.join(pl.DataFrame({"indicator": inds}), how="cross")
    counts = ev.group_by("ward_id", "period", "indicator").agg(pl.len().alias("events"))
    covered = (
        grid.join(feeds, on="indicator")
        .join(cov.with_columns(pl.lit(True).alias("c")), on=["source", "ward_id", "period"], how="left")
        .group_by("ward_id", "period", "indicator")
        .agg(pl.col("c").fill_null(False).all().alias("complete"))
    )
    needs_exp = pl.DataFrame({"indicator": inds, "needs": [cat[k].exposure for k in inds]})
    obs = (
        grid.join(counts, on=["ward_id", "period", "indicator"], how="left")
        .join(covered, on=["ward_id", "period", "indicator"], how="left")
        .join(exp_ind.rename({"denominator": "d_ind"}), on=["ward_id", "period", "indicator"], how="left")
        .join(exp_any.rename({"denominator": "d_any"}), on=["ward_id", "period"], how="left")
        .join(needs_exp, on="indicator")
        .with_columns(
            pl.when(pl.col("needs")).then(pl.coalesce("d_ind", "d_any")).otherwise(None).alias("denominator"),
            pl.col("events").fill_null(0),
        )
    )
    no_den = obs.filter(pl.col("needs") & pl.col("denominator").is_null())
    written = obs.filter(~(pl.col("needs") & pl.col("denominator").is_null()))
    written = written.with_columns(
        pl.when(pl.col("complete"))
        .then(pl.col("events").cast(pl.String))
        .otherwise(pl.lit(""))
        .alias("numerator")
    )
    # event rows by outcome (an event mapped to two indicators counts once per indicator)
    ev_cells = ev.join(
        written.select("ward_id", "period", "indicator", "complete"),
        on=["ward_id", "period", "indicator"],
        how="left",
    )
    per_file = (
        ev_cells.with_columns(
            pl.when(pl.col("complete").is_null())
            .then(pl.lit("  indicator counts with no exposure row for their ward-period (not written)"))
            .when(pl.col("complete"))
            .then(pl.lit("  indicator counts made (source declared complete)"))
            .otherwise(pl.lit("  indicator counts outside declared coverage (written unknown)"))
            .alias("outcome")
        )
        .group_by("source", "outcome")
        .len("rows")
        .sort("source", "outcome")
    )
    src_to_file = pl.DataFrame({"source": sources, "file": [str(e) for e in events]})
    accounting.append(
        per_file.join(src_to_file, on="source").select("file", "outcome", pl.col("rows").cast(pl.Int64))
    )
    accounting.append(
        pl.DataFrame(
            {
                "file": [str(exposure)] * 4,
                "outcome": [
                    "rows read",
                    "rows rejected (see aggregate_rejected.csv)",
                    "rows accepted as exposure",
                    "ward-periods with events but no exposure row (not written)",
                ],
                "rows": [
                    exp.height + exp_rej.height,
                    exp_rej.height,
                    exp.height,
                    no_den.filter(pl.col("events") > 0).select("ward_id", "period").n_unique(),
                ],
            }
        )
    )
    out = written.select(
        "ward_id", "period", "indicator", "numerator", pl.col("denominator").cast(pl.Float64)
    ).sort("ward_id", "indicator", "period")
    rej = (
        pl.concat([r for r in rejected if r.height])
        if any(r.height for r in rejected)
        else empty_rejections()
    )
    return AggregateResult(
        observations=out,
        rejected=rej,
        unmapped=pl.concat(unmapped)
        if unmapped
        else pl.DataFrame(schema={"file": pl.String, "category": pl.String, "rows": pl.UInt32}),
        accounting=pl.concat([a.with_columns(pl.col("rows").cast(pl.Int64)) for a in accounting]),
        unused_columns=unused,
        wards_without_exposure=ev.join(exp.select("ward_id").unique(), on="ward_id", how="anti")
        .group_by("ward_id")
        .agg(pl.len().alias("events"))
        .sort("ward_id"),
        cadence=m.cadence,
    )


def write_aggregate(result: AggregateResult, out: str | Path) -> dict[str, Path]:
    """Write observations.csv (contract long layout), aggregate_rejected.csv and aggregate_report.txt."""
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    paths = {
        "observations": d / "observations.csv",
        "rejected": d / "aggregate_rejected.csv",
        "report": d / "aggregate_report.txt",
    }
    obs = result.observations.with_columns(
        pl.when(pl.col("denominator") == pl.col("denominator").round(0))
        .then(pl.col("denominator").cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(pl.col("denominator").cast(pl.String))
        .fill_null("")
        .alias("denominator")
    )
    obs.write_csv(paths["observations"], date_format="%Y-%m-%d")
    result.rejected.write_csv(paths["rejected"])
    unmapped_lines = result.report()
    paths["report"].write_text(unmapped_lines + "\n", encoding="utf-8")
    return paths
