"""Import NHS Digital MHSDS provider-level monthly files into the wardwatch data contract.

Input: a folder of headerless CSV files ``{measure}{NN}_{Mon}_{YYYY}.csv`` with four columns (period
start, provider name, measure label, value), as in ``shared/data/mhsds-restrictive-interventions-
2021-22`` (see its README). Measures: ``rstr`` (MHS76, people subject to restrictive intervention),
``beds`` (occupied bed days in the reporting period) and ``sect`` (people detained at month end; its
label and definition change part-way through the year).

Output (the data contract, provider as the unit):

* ``observations.csv``: monthly rows for ``people_restrained`` (MHS76 / bed days) and
  ``people_detained`` (detentions / bed days);
* ``wards.csv``: one "ward" per provider: ``ward_id`` a stable slug of the name, ``ward_name`` and
  ``provider`` the name, ``ward_type`` ``other``;
* ``events.csv``: a ``note`` per provider at each month where the detention measure's label (and
  definition) changes;
* ``import_skipped.csv``: every input row that could not become an observation, with its reason.

Decisions (documented in docs/data-contract.md):

* ``*`` (a count below 5, suppressed) stays ``*``: unknown and small, never zero. Other counts are
  rounded to the nearest 5 by NHS Digital; they are written as published.
* A provider-month with usable bed days but no row for a measure is written with an **empty
  numerator** (status ``unknown``): an explicit missing value, never zero, visible in the gap report.
* A measure row whose bed days are suppressed, zero or absent has no denominator, so it cannot be a
  rate: it is **not written** and is listed in ``import_skipped.csv`` and counted in the report.
  ``wardwatch validate`` on the output therefore accepts every row.
* A provider-month with more than one row for the same measure is ambiguous: all copies are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from engine.io import parse
from engine.io.errors import FatalInputError
from engine.io.outputs import output_paths

#: File prefix -> (accepted measure labels, indicator key or None for the exposure).
MEASURES: dict[str, tuple[tuple[str, ...], str | None]] = {
    "rstr": (("MHS76",), "people_restrained"),
    "sect": (
        (
            "People subject to detention at the end of the reporting period",
            "People subject to the Mental Health Act at the end of the reporting period",
        ),
        "people_detained",
    ),
    "beds": (("Bed days in RP",), None),
}
_FILE_RE = re.compile(r"^(rstr|beds|sect)(\d{2})_([A-Za-z]{3})_(\d{4})\.csv$")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1
    )
}
SKIP_SCHEMA = {
    "file": pl.String,
    "line": pl.Int64,
    "provider": pl.String,
    "month": pl.Date,
    "measure": pl.String,
    "value": pl.String,
    "reason": pl.String,
}


@dataclass(frozen=True)
class MhsdsImport:
    """Result of :func:`import_mhsds` (frames ready to write, plus the accounting)."""

    observations: pl.DataFrame  # ward_id, period (Date), indicator, numerator (text: n, * or ""), denominator
    wards: pl.DataFrame  # ward_id, ward_name, provider, ward_type
    events: pl.DataFrame  # ward_id, date, kind, note
    skipped: pl.DataFrame  # SKIP_SCHEMA: input rows that did not become observations
    rows_read: dict[str, int]  # measure prefix -> input rows
    label_changes: list[tuple[str, str, str]]  # (month ISO, old label, new label) of the sect measure
    providers_without_data: int  # providers seen only in rows that could not be used

    def report(self) -> str:
        """Printable import report: every input row accounted for."""
        obs = self.observations
        lines = ["MHSDS import"]
        for m, n in self.rows_read.items():
            lines.append(f"  {m}: {n:,} input rows")
        months = obs["period"].unique().sort() if obs.height else pl.Series([], dtype=pl.Date)
        if len(months):
            lines.append(f"  months: {months.min()!s} to {months.max()!s} ({len(months)} months)")
        lines.append(f"  providers written as units: {self.wards.height:,}")
        if self.providers_without_data:
            lines.append(
                f"  providers with no usable month (bed days suppressed or absent): {self.providers_without_data:,}"
            )
        lines.append("Observations written")
        if obs.height:
            tab = (
                obs.with_columns(
                    pl.when(pl.col("numerator") == "*")
                    .then(pl.lit("suppressed"))
                    .when(pl.col("numerator") == "")
                    .then(pl.lit("missing (no row, bed days known)"))
                    .otherwise(pl.lit("observed"))
                    .alias("kind")
                )
                .group_by("indicator", "kind")
                .len()
                .sort("indicator", "kind")
            )
            lines.extend(
                f"  {r['indicator']:<20} {r['kind']:<34} {r['len']:>6,}" for r in tab.iter_rows(named=True)
            )
        lines.append(f"Input rows not written: {self.skipped.height:,} (listed in import_skipped.csv)")
        if self.skipped.height:
            tab = (
                self.skipped.group_by("measure", "reason")
                .len()
                .sort(["measure", "len", "reason"], descending=[False, True, False])
            )
            lines.extend(
                f"  {r['measure']:<5} {r['len']:>6,}  {r['reason']}" for r in tab.iter_rows(named=True)
            )
        beds_used = self.rows_read.get("beds", 0) - self.skipped.filter(pl.col("measure") == "beds").height
        lines.append(f"  beds rows used as denominators: {beds_used:,}")
        for month, old, new in self.label_changes:
            lines.append(
                f"Definition change: from {month} the detention measure reads '{new}' (was '{old}'); "
                "a note event is written for each provider"
            )
        lines.append(
            "Counts are rounded to the nearest 5 and counts below 5 are suppressed ('*') at source: "
            "treat month-to-month differences of 5 as noise."
        )
        return "\n".join(lines)


def slug(name: str) -> str:
    """Stable identifier from a provider name: lower case, runs of other characters as ``-``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _read_file(path: Path) -> pl.DataFrame:
    m = _FILE_RE.match(path.name)
    assert m is not None
    prefix, _, mon, year = m.groups()
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise FatalInputError(path, "not UTF-8") from None
    names = ["period", "provider", "label", "value"]
    try:
        frame = pl.read_csv(
            data, has_header=False, infer_schema=False, new_columns=names, empty_string_is_null=False
        )
    except pl.exceptions.NoDataError:
        frame = pl.DataFrame(schema=dict.fromkeys(names, pl.String))
    except pl.exceptions.PolarsError as exc:
        raise FatalInputError(path, f"not a 4-column MHSDS CSV ({type(exc).__name__})") from None
    if frame.width != 4:
        raise FatalInputError(
            path, f"expected 4 columns (date, provider, measure, value), found {frame.width}"
        )
    month = pl.date(int(year), _MONTHS[mon.lower()], 1)
    return frame.with_columns(
        pl.lit(path.name).alias("file"),
        pl.int_range(1, frame.height + 1, dtype=pl.Int64).alias("line"),
        pl.lit(prefix).alias("measure"),
        month.alias("file_month"),
        parse.date("period", pl.String()).alias("month"),
        pl.col("provider").str.strip_chars(),
        pl.col("label").str.strip_chars(),
        pl.col("value").str.strip_chars(),
    )


def _read_folder(directory: str | Path) -> pl.DataFrame:
    """Every MHSDS file of ``directory``, one frame (``_read_file``'s columns)."""
    d = Path(directory)
    if not d.is_dir():
        raise FatalInputError(d, "folder not found")
    files = sorted(p for p in d.iterdir() if _FILE_RE.match(p.name))
    if not files:
        raise FatalInputError(d, "no MHSDS files named like rstr01_Sep_2021.csv, beds01_..., sect01_...")
    return pl.concat([_read_file(p) for p in files], how="vertical")


def _skip_reason() -> pl.Expr:
    """Why an input row cannot be used at all (null: it can), first failing check first."""
    labels_ok = pl.lit(False)
    for prefix, (labels, _) in MEASURES.items():
        labels_ok = labels_ok | ((pl.col("measure") == prefix) & pl.col("label").is_in(list(labels)))
    dup = pl.len().over("measure", "provider", "month") > 1
    return (
        pl.when(pl.col("month").is_null())
        .then(pl.format("unparseable date '{}'", pl.col("period")))
        .when(pl.col("month") != pl.col("file_month"))
        .then(pl.format("date {} does not match the file's month {}", pl.col("month"), pl.col("file_month")))
        .when(pl.col("month").dt.day() != 1)
        .then(pl.lit("date is not the first of a month"))
        .when(pl.col("provider") == "")
        .then(pl.lit("provider name is empty"))
        .when(~labels_ok)
        .then(pl.format("unexpected measure label '{}'", pl.col("label")))
        .when((pl.col("value") != "*") & (pl.col("num").is_null() | (pl.col("num") < 0)))
        .then(pl.format("value '{}' is not a count", pl.col("value")))
        .when(dup)
        .then(pl.lit("more than one row for this provider, month and measure: all copies skipped"))
        .otherwise(None)
    )


def _measure_rows(
    good: pl.DataFrame, beds: pl.DataFrame, prefix: str, indicator: str, columns: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """One measure's observations (rows with usable bed days), its explicit missing values (bed days
    known, no row: empty numerator, never zero) and its rows skipped for want of a denominator."""
    usable_beds = beds.filter(pl.col("beds").is_not_null() & (pl.col("beds") > 0))
    meas = good.filter(pl.col("measure") == prefix)
    joined = meas.join(usable_beds, on=["provider", "month"], how="left", maintain_order="left")
    no_den = joined.filter(pl.col("beds").is_null()).join(
        beds.select("provider", "month", pl.col("beds").alias("beds_any")),
        on=["provider", "month"],
        how="left",
        maintain_order="left",
    )
    skipped = no_den.with_columns(
        pl.when(pl.col("beds_any").is_null() & pl.col("beds_line").is_null())
        .then(pl.lit("no usable bed days for this provider and month (suppressed or no row): no denominator"))
        .otherwise(pl.lit("bed days are zero: no denominator"))
        .alias("reason")
    ).select(columns)
    written = joined.filter(pl.col("beds").is_not_null()).select(
        "provider",
        "month",
        pl.lit(indicator).alias("indicator"),
        pl.when(pl.col("value") == "*")
        .then(pl.lit("*"))
        .otherwise(pl.col("num").cast(pl.Int64).cast(pl.String))
        .alias("numerator"),
        pl.col("beds").alias("denominator"),
    )
    missing = usable_beds.join(meas.select("provider", "month"), on=["provider", "month"], how="anti").select(
        "provider",
        "month",
        pl.lit(indicator).alias("indicator"),
        pl.lit("").alias("numerator"),
        pl.col("beds").alias("denominator"),
    )
    return written, missing, skipped


def _unusable_beds(good: pl.DataFrame) -> pl.DataFrame:
    """Beds rows that cannot be a denominator (suppressed ``*`` or zero), with their reason."""
    return good.filter(
        (pl.col("measure") == "beds") & ~(pl.col("num").is_not_null() & (pl.col("num") > 0))
    ).with_columns(
        pl.when(pl.col("value") == "*")
        .then(pl.lit("bed days suppressed ('*'): cannot be a denominator"))
        .otherwise(pl.lit("bed days are zero: cannot be a denominator"))
        .alias("reason")
    )


def _provider_units(obs: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The ward register (one unit per provider with observations, ``ward_id`` its slug) and the
    observations keyed by ``ward_id``."""
    providers = sorted(set(obs["provider"].to_list()))
    ids = _unique_slugs(providers)
    wards = pl.DataFrame(
        {
            "ward_id": [ids[p] for p in providers],
            "ward_name": providers,
            "provider": providers,
            "ward_type": ["other"] * len(providers),
        },
        schema={"ward_id": pl.String, "ward_name": pl.String, "provider": pl.String, "ward_type": pl.String},
    ).sort("ward_id")
    slug_map = pl.DataFrame(
        {"provider": providers, "ward_id": [ids[p] for p in providers]},
        schema={"provider": pl.String, "ward_id": pl.String},
    )
    keyed = (
        obs.join(slug_map, on="provider", how="left", maintain_order="left")
        .select("ward_id", pl.col("month").alias("period"), "indicator", "numerator", "denominator")
        .sort("ward_id", "indicator", "period")
    )
    return wards, keyed


def _definition_notes(changes: list[tuple[str, str, str]], ward_ids: list[str]) -> pl.DataFrame:
    """A ``note`` event per unit at each change of the detention measure's definition."""
    return pl.DataFrame(
        [
            {
                "ward_id": w,
                "date": pl.Series([month]).str.to_date()[0],
                "kind": "note",
                "note": f"MHSDS detention measure changed definition: now '{new}' (was '{old}'); "
                "a change in definition, not in practice",
            }
            for month, old, new in changes
            for w in ward_ids
        ],
        schema={"ward_id": pl.String, "date": pl.Date, "kind": pl.String, "note": pl.String},
    ).sort("ward_id", "date")


def import_mhsds(directory: str | Path) -> MhsdsImport:
    """Read every MHSDS file in ``directory`` and convert it to the data contract."""
    raw = _read_folder(directory)
    rows_read = {m: raw.filter(pl.col("measure") == m).height for m in MEASURES}
    raw = raw.with_columns(pl.col("value").cast(pl.Float64, strict=False).alias("num"))
    raw = raw.with_columns(_skip_reason().alias("reason"))
    skipped = [raw.filter(pl.col("reason").is_not_null())]
    good = raw.filter(pl.col("reason").is_null())
    beds = good.filter(pl.col("measure") == "beds").select(
        "provider",
        "month",
        pl.col("num").alias("beds"),
        pl.col("file").alias("beds_file"),
        pl.col("line").alias("beds_line"),
    )
    out = []
    for prefix, (_, indicator) in MEASURES.items():
        if indicator is not None:
            written, missing, no_denominator = _measure_rows(good, beds, prefix, indicator, raw.columns)
            skipped.append(no_denominator)
            out.extend([written, missing])
    skipped.append(_unusable_beds(good))
    wards, obs = _provider_units(pl.concat(out, how="vertical"))
    changes = _label_changes(good.filter(pl.col("measure") == "sect"))
    detained = obs.filter(pl.col("indicator") == "people_detained")["ward_id"].unique().sort().to_list()
    skipped_frame = pl.concat(
        [s.select("file", "line", "provider", "month", "measure", "value", "reason") for s in skipped],
        how="vertical",
    ).sort("file", "line")
    all_providers = set(raw["provider"].to_list()) - {""}
    return MhsdsImport(
        observations=obs,
        wards=wards,
        events=_definition_notes(changes, detained),
        skipped=skipped_frame.cast(SKIP_SCHEMA),  # type: ignore[arg-type]
        rows_read=rows_read,
        label_changes=changes,
        providers_without_data=len(all_providers - set(wards["provider"].to_list())),
    )


def _unique_slugs(names: list[str]) -> dict[str, str]:
    """Slug per name; a clash (two names, one slug) gets ``-2``, ``-3`` in sorted-name order."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for name in sorted(names):
        base = slug(name) or "provider"
        s, i = base, 2
        while s in used:
            s, i = f"{base}-{i}", i + 1
        used.add(s)
        out[name] = s
    return out


def _label_changes(sect: pl.DataFrame) -> list[tuple[str, str, str]]:
    """Months (ISO) where the commonest sect label differs from the previous month's."""
    if sect.height == 0:
        return []
    by_month = (
        sect.group_by("month", "label")
        .len()
        .sort(["month", "len", "label"], descending=[False, True, False])
        .group_by("month", maintain_order=True)
        .first()
        .sort("month")
    )
    changes = []
    prev = None
    for month, label in zip(by_month["month"].to_list(), by_month["label"].to_list(), strict=True):
        if prev is not None and label != prev:
            changes.append((month.isoformat(), prev, label))
        prev = label
    return changes


def write_mhsds(result: MhsdsImport, out_dir: str | Path) -> dict[str, Path]:
    """Write observations.csv, wards.csv, events.csv and import_skipped.csv into ``out_dir``."""
    names = {"observations": "observations.csv", "wards": "wards.csv", "events": "events.csv"}
    paths = output_paths(out_dir, {**names, "skipped": "import_skipped.csv"})
    result.observations.with_columns(pl.col("denominator").cast(pl.Int64)).write_csv(
        paths["observations"], date_format="%Y-%m-%d"
    )
    result.wards.write_csv(paths["wards"])
    result.events.write_csv(paths["events"], date_format="%Y-%m-%d")
    result.skipped.write_csv(paths["skipped"], date_format="%Y-%m-%d")
    return paths
