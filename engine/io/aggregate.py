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

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from engine.io.aggregate_mapping import Mapping, load_mapping, period_start
from engine.io.aggregate_readers import coverage_frame, read_events, read_exposure
from engine.io.errors import FatalInputError
from engine.io.outputs import output_paths
from engine.io.rejections import empty_rejections
from signals import CATALOGUE, Catalogue

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

__all__ = ["AggregateResult", "Mapping", "aggregate", "load_mapping", "write_aggregate"]


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
            kind: Then | ChainedThen = pl.when(pl.col("numerator") == "").then(
                pl.lit("unknown (outside declared coverage)")
            )
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
            by_code = self.rejected.group_by("code").len().sort(["len", "code"], descending=[True, False])
            lines.extend(f"  {r['code']:<24} {r['len']:>7,}" for r in by_code.iter_rows(named=True))
        return "\n".join(lines)


@dataclass(frozen=True)
class _ExportRead:
    """One event export read and mapped: its event rows per indicator and its accounting."""

    events: pl.DataFrame  # source, ward_id, period, indicator, line (one row per event and indicator)
    rejected: pl.DataFrame
    unmapped: pl.DataFrame | None  # file, category, rows (None: every category mapped)
    accounting: pl.DataFrame  # file, outcome, rows
    unused_columns: list[str]


def _read_export(path: str | Path, source: str, m: Mapping) -> _ExportRead:
    """Read one event export and map its categories to indicators (one row per event and indicator)."""
    ok, rej, cols = read_events(path, m)
    key = ok.with_columns(pl.col("category").str.to_lowercase().alias("_key"))
    mapped_keys = pl.DataFrame(
        {"_key": list(m.categories), "indicators": [list(v) for v in m.categories.values()]},
        schema={"_key": pl.String, "indicators": pl.List(pl.String)},
    )
    joined = key.join(mapped_keys, on="_key", how="left")
    um = joined.filter(pl.col("indicators").is_null())
    unmapped = None
    if um.height:
        unmapped = (
            um.group_by("category")
            .len("rows")
            .sort(["rows", "category"], descending=[True, False])
            .select(pl.lit(str(path)).alias("file"), "category", "rows")
        )
    mapped = (
        joined.filter(pl.col("indicators").is_not_null())
        .explode("indicators")
        .rename({"indicators": "indicator"})
    )
    events = mapped.select(
        pl.lit(source).alias("source"),
        "ward_id",
        period_start(pl.col("day"), m.cadence, m.week_start).alias("period"),
        "indicator",
        "line",
    )
    outcomes = {
        "rows read": ok.height + rej.height,
        "rows rejected (see aggregate_rejected.csv)": rej.height,
        "rows with an unmapped category (listed below)": um.height,
        "rows mapped to indicators": ok.height - um.height,
    }
    return _ExportRead(events, rej, unmapped, _accounting(path, outcomes), cols)


def _accounting(path: str | Path, outcomes: dict[str, int]) -> pl.DataFrame:
    """The accounting rows of one file: outcome -> rows."""
    return pl.DataFrame(
        {"file": [str(path)] * len(outcomes), "outcome": list(outcomes), "rows": list(outcomes.values())}
    )


def _cells(
    m: Mapping, cat: Catalogue, ev: pl.DataFrame, exp: pl.DataFrame, cov: pl.DataFrame, sources: list[str]
) -> pl.DataFrame:
    """Every ward-period (with exposure or events) x mapped indicator: ``events`` counted,
    ``complete`` (every source feeding the indicator covers the cell), ``needs`` (the indicator has
    exposure) and its ``denominator`` (the indicator's own exposure, else the ward-period's)."""
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
    return (
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


def _event_outcomes(
    ev: pl.DataFrame, written: pl.DataFrame, sources: list[str], events: list[str | Path]
) -> pl.DataFrame:
    """Accounting of the event rows by outcome, per file (an event mapped to two indicators counts
    once per indicator)."""
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
    return per_file.join(src_to_file, on="source").select("file", "outcome", pl.col("rows").cast(pl.Int64))


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
    exports = [_read_export(path, source, m) for path, source in zip(events, sources, strict=True)]
    exp, exp_rej = read_exposure(exposure, m.cadence, cat, m.week_start)
    ev = pl.concat([x.events for x in exports])
    wards = sorted(set(exp["ward_id"].to_list()) | set(ev["ward_id"].to_list()))
    obs = _cells(m, cat, ev, exp, coverage_frame(m, coverage, sources, wards), sources)
    no_den = obs.filter(pl.col("needs") & pl.col("denominator").is_null())
    written = obs.filter(~(pl.col("needs") & pl.col("denominator").is_null()))
    written = written.with_columns(
        pl.when(pl.col("complete"))
        .then(pl.col("events").cast(pl.String))
        .otherwise(pl.lit(""))
        .alias("numerator")
    )
    exposure_outcomes = {
        "rows read": exp.height + exp_rej.height,
        "rows rejected (see aggregate_rejected.csv)": exp_rej.height,
        "rows accepted as exposure": exp.height,
        "ward-periods with events but no exposure row (not written)": no_den.filter(pl.col("events") > 0)
        .select("ward_id", "period")
        .n_unique(),
    }
    accounting = [
        *(x.accounting for x in exports),
        _event_outcomes(ev, written, sources, events),
        _accounting(exposure, exposure_outcomes),
    ]
    rejected = [*(x.rejected for x in exports), exp_rej]
    unmapped = [x.unmapped for x in exports if x.unmapped is not None]
    return AggregateResult(
        observations=written.select(
            "ward_id", "period", "indicator", "numerator", pl.col("denominator").cast(pl.Float64)
        ).sort("ward_id", "indicator", "period"),
        rejected=pl.concat([r for r in rejected if r.height])
        if any(r.height for r in rejected)
        else empty_rejections(),
        unmapped=pl.concat(unmapped)
        if unmapped
        else pl.DataFrame(schema={"file": pl.String, "category": pl.String, "rows": pl.UInt32}),
        accounting=pl.concat([a.with_columns(pl.col("rows").cast(pl.Int64)) for a in accounting]),
        unused_columns={str(path): x.unused_columns for path, x in zip(events, exports, strict=True)},
        wards_without_exposure=ev.join(exp.select("ward_id").unique(), on="ward_id", how="anti")
        .group_by("ward_id")
        .agg(pl.len().alias("events"))
        .sort("ward_id"),
        cadence=m.cadence,
    )


def write_aggregate(result: AggregateResult, out: str | Path) -> dict[str, Path]:
    """Write observations.csv (contract long layout), aggregate_rejected.csv and aggregate_report.txt."""
    paths = output_paths(
        out,
        {
            "observations": "observations.csv",
            "rejected": "aggregate_rejected.csv",
            "report": "aggregate_report.txt",
        },
    )
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
