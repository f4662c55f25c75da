"""Load a whole dataset (observations + ward register + optional events) and summarise it.

:func:`load_dataset` is the one entry point the rest of wardwatch uses: it reads the ward register
first (so observations for unknown wards can be rejected), then the events and the observations, and
returns a :class:`LoadResult` holding the accepted frames, every rejected row with its reason, the
cadence of each indicator and the row counts that prove nothing vanished:
``rows_read[f] == accepted[f] + rejected rows of f`` for every file ``f``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import polars as pl

from engine.coded import CodedObservations
from engine.io.events import empty_events, read_events
from engine.io.observations import read_observations
from engine.io.rejections import REASONS, empty_rejections
from engine.io.settings import InputSettings
from engine.io.wards import read_wards
from signals import CATALOGUE, Catalogue


@dataclass(frozen=True)
class LoadResult:
    """Everything the loader accepted and rejected.

    Attributes
    ----------
    coded:
        Accepted observations as codes and arrays, sorted by ward_id, indicator, period: what the
        panels are built from.
    observations:
        The same rows as a frame in ``engine.panel.OBSERVATION_SCHEMA`` (a property: built on first
        use, then kept).
    wards:
        Accepted ward register: ward_id, ward_name, provider, ward_type, beds (Int64, nullable), then
        any extra columns as text.
    events:
        Accepted events: ward_id, date (Date), kind, note.
    rejected:
        Rejected rows of all files (``engine.io.rejections.REJECT_SCHEMA``: file, line, column,
        value, code, reason, raw), in file then line order.
    cadence:
        Indicator key -> ``weekly`` or ``monthly``, inferred from the data.
    rows_read:
        File (as given) -> rows read (observations in the wide layout: non-empty cell pairs).
    accepted:
        File -> rows accepted.
    layout:
        Layout of the observations file, ``long`` or ``wide``.
    notes:
        Remarks that are not rejections.
    """

    coded: CodedObservations
    wards: pl.DataFrame
    events: pl.DataFrame
    rejected: pl.DataFrame
    cadence: dict[str, str]
    rows_read: dict[str, int]
    accepted: dict[str, int]
    layout: str = "long"
    notes: tuple[str, ...] = field(default_factory=tuple)

    @cached_property
    def observations(self) -> pl.DataFrame:
        """Accepted observations in ``engine.panel.OBSERVATION_SCHEMA`` (built from :attr:`coded` once)."""
        return self.coded.frame()

    @property
    def total_read(self) -> int:
        """Rows read over all files."""
        return sum(self.rows_read.values())

    @property
    def n_rejected(self) -> int:
        """Rows rejected over all files."""
        return self.rejected.height

    @property
    def ok(self) -> bool:
        """True when every row of every file was accepted."""
        return self.rejected.height == 0

    def rejected_by_reason(self) -> pl.DataFrame:
        """Counts of rejected rows by file and reason code (largest first)."""
        return (
            self.rejected.group_by("file", "code")
            .len("rows")
            .sort(["rows", "file", "code"], descending=[True, False, False])
        )

    def rejected_by_reason_lines(self) -> list[str]:
        """:meth:`rejected_by_reason` as printable lines: count, reason code, file name, description."""
        return [
            f"  {rows:>9,}  {code:<30} {Path(file).name}: {REASONS.get(code, '')}"
            for file, code, rows in self.rejected_by_reason().iter_rows()
        ]

    def _compact(self) -> pl.DataFrame:
        """The accepted rows as integer codes (ward ``w``, indicator ``k``, status ``s``) and dates:
        the summary's group-bys run on these, never on a frame of strings (national files)."""
        c = self.coded
        return pl.DataFrame(
            {
                "w": c.ward_codes,
                "k": c.indicator_codes,
                "period": pl.Series(c.days, dtype=pl.Int32).cast(pl.Date),
                "s": c.status_codes,
            }
        )

    def _names(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Replace the codes ``w`` and ``k`` of a (small) grouped frame by ward ids and indicator keys."""
        c = self.coded
        wards = pl.Series(c.ward_values, dtype=pl.String)
        inds = pl.Series(c.indicator_values, dtype=pl.String)
        out = frame
        if "w" in frame.columns:
            out = out.with_columns(wards.gather(frame["w"].cast(pl.Int64)).alias("ward_id")).drop("w")
        if "k" in frame.columns:
            out = out.with_columns(inds.gather(frame["k"].cast(pl.Int64)).alias("indicator")).drop("k")
        return out

    def _status_code(self, name: str) -> int:
        values = list(self.coded.status_values)
        return values.index(name) if name in values else -1

    def gaps(self) -> pl.DataFrame:
        """One row per series (ward, indicator) describing its holes.

        Columns: ward_id, indicator, cadence, first, last (Date), expected (periods from first to
        last on the cadence grid), present (rows), missing (= expected - present: periods with no
        row), suppressed, unknown (rows with a suppressed or unknown numerator), ends_early (the
        series stops before the indicator's latest period: possible data silence).
        """
        if self.coded.height == 0:
            return pl.DataFrame(
                schema={
                    "ward_id": pl.String,
                    "indicator": pl.String,
                    "cadence": pl.String,
                    "first": pl.Date,
                    "last": pl.Date,
                    "expected": pl.Int64,
                    "present": pl.Int64,
                    "missing": pl.Int64,
                    "suppressed": pl.Int64,
                    "unknown": pl.Int64,
                    "ends_early": pl.Boolean,
                }
            )
        sup, unk = self._status_code("suppressed"), self._status_code("unknown")
        obs = self._names(
            self._compact()
            .group_by("w", "k")
            .agg(
                pl.col("period").min().alias("first"),
                pl.col("period").max().alias("last"),
                pl.len().cast(pl.Int64).alias("present"),
                (pl.col("s") == sup).sum().cast(pl.Int64).alias("suppressed"),
                (pl.col("s") == unk).sum().cast(pl.Int64).alias("unknown"),
            )
        )
        cad = pl.col("indicator").replace_strict(self.cadence, default="weekly", return_dtype=pl.String)
        g = obs.with_columns(cad.alias("cadence"))
        months = (pl.col("last").dt.year() - pl.col("first").dt.year()) * 12 + (
            pl.col("last").dt.month() - pl.col("first").dt.month()
        )
        weeks = (pl.col("last") - pl.col("first")).dt.total_days() // 7
        g = g.with_columns(
            (pl.when(pl.col("cadence") == "monthly").then(months).otherwise(weeks) + 1)
            .cast(pl.Int64)
            .alias("expected"),
            (pl.col("last") < pl.col("last").max().over("indicator")).alias("ends_early"),
        ).with_columns((pl.col("expected") - pl.col("present")).alias("missing"))
        return g.select(
            "ward_id",
            "indicator",
            "cadence",
            "first",
            "last",
            "expected",
            "present",
            "missing",
            "suppressed",
            "unknown",
            "ends_early",
        ).sort("ward_id", "indicator")

    def summary(self, max_lines: int = 10) -> str:
        """A printable report: rows, rejections by reason, cadence, wards, period span and gaps."""
        out: list[str] = []
        add = out.append
        add("Files")
        for f, n in self.rows_read.items():
            rej = n - self.accepted.get(f, 0)
            add(f"  {f}: {n:,} rows read, {self.accepted.get(f, 0):,} accepted, {rej:,} rejected")
        add(
            f"  total: {self.total_read:,} read, {sum(self.accepted.values()):,} accepted, "
            f"{self.n_rejected:,} rejected"
        )
        if self.n_rejected:
            add("Rejected rows by reason")
            out.extend(self.rejected_by_reason_lines())
            add("  first rejections:")
            for row in self.rejected.head(max_lines).iter_rows(named=True):
                add(f"    {Path(row['file']).name}:{row['line']} [{row['column']}] {_visible(row['reason'])}")
        obs = self._compact()
        add(f"Observations ({self.layout} layout): {obs.height:,} accepted")
        if obs.height:
            sup, unk = self._status_code("suppressed"), self._status_code("unknown")
            per = self._names(
                obs.group_by("k").agg(
                    pl.len().alias("rows"),
                    pl.col("w").n_unique().alias("wards"),
                    pl.col("period").min().alias("first"),
                    pl.col("period").max().alias("last"),
                    (pl.col("s") == sup).sum().alias("suppressed"),
                    (pl.col("s") == unk).sum().alias("unknown"),
                )
            ).sort("indicator")
            add(
                f"  {'indicator':<26}{'cadence':<9}{'rows':>10}{'wards':>7}  {'period span':<25}{'suppr.':>8}{'unknown':>8}"
            )
            for r in per.iter_rows(named=True):
                add(
                    f"  {r['indicator']:<26}{self.cadence.get(r['indicator'], '?'):<9}{r['rows']:>10,}"
                    f"{r['wards']:>7,}  {r['first']} to {r['last']}  {r['suppressed']:>8,}{r['unknown']:>8,}"
                )
        reg = self.wards.height
        present = (
            self._names(obs.select(pl.col("w").unique()))["ward_id"]
            if obs.height
            else pl.Series([], dtype=pl.String)
        )
        with_data = present.len()
        add(f"Wards: {reg:,} in the register, {with_data:,} with accepted observations")
        if reg and obs.height:
            silent = self.wards.filter(~pl.col("ward_id").is_in(present.to_list()))
            if silent.height:
                names = ", ".join(silent["ward_id"].head(max_lines).to_list())
                add(
                    f"  no observations at all for {silent.height:,} ward(s): {names}{' ...' if silent.height > max_lines else ''}"
                )
        if obs.height:
            add(f"Period span: {obs['period'].min()!s} to {obs['period'].max()!s}")
        add(f"Events: {self.events.height:,}")
        gaps = self.gaps()
        if gaps.height:
            holes = gaps.filter(pl.col("missing") > 0)
            early = gaps.filter(pl.col("ends_early"))
            add(
                f"Gaps: {gaps.height:,} series (ward x indicator); {holes.height:,} with missing periods "
                f"({int(holes['missing'].sum() or 0):,} periods without a row); {early.height:,} stop before "
                f"their indicator's latest period; {int(gaps['suppressed'].sum()):,} suppressed and "
                f"{int(gaps['unknown'].sum()):,} unknown values"
            )
            worst = (
                gaps.with_columns(
                    (pl.col("missing") + pl.col("suppressed") + pl.col("unknown")).alias("_holes")
                )
                .filter(pl.col("_holes") > 0)
                .sort(["_holes", "ward_id", "indicator"], descending=[True, False, False])
                .head(max_lines)
            )
            if worst.height:
                add("  series with the most holes (missing / suppressed / unknown of expected periods):")
                for r in worst.iter_rows(named=True):
                    add(
                        f"    {r['ward_id']} {r['indicator']}: {r['missing']} / {r['suppressed']} / "
                        f"{r['unknown']} of {r['expected']} ({r['first']} to {r['last']})"
                    )
        for note in self.notes:
            add(f"Note: {note}")
        return "\n".join(out)


#: Control characters shown escaped in printed reasons (a CR would overwrite the terminal line).
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0, 32), 127)} | {13: "\\r", 10: "\\n", 9: "\\t"}


def _visible(text: str | None) -> str:
    """``text`` with control characters written as escapes (``13\\r9``)."""
    return (text or "").translate(_CONTROL)


def _check_accounting(
    rows_read: dict[str, int], accepted: dict[str, int], rejected: list[pl.DataFrame]
) -> None:
    """Every row read is accepted or rejected, never both or neither (an internal error otherwise)."""
    n_rejected: dict[str, int] = {}
    for r in rejected:
        for f, n in r.group_by("file").len().iter_rows():
            n_rejected[f] = n_rejected.get(f, 0) + n
    for f, n in rows_read.items():
        if accepted.get(f, 0) + n_rejected.get(f, 0) != n:
            raise RuntimeError(
                f"{f}: {n:,} rows read but {accepted.get(f, 0):,} accepted and {n_rejected.get(f, 0):,} "
                "rejected; please report this with the file"
            )


def load_dataset(
    observations: str | Path,
    wards: str | Path,
    events: str | Path | None = None,
    catalogue: Catalogue = CATALOGUE,
    limits: InputSettings | None = None,
) -> LoadResult:
    """Read and validate a dataset.

    Parameters
    ----------
    observations:
        Observations file (CSV or Parquet; long or wide layout).
    wards:
        Ward register (CSV or Parquet).
    events:
        Optional events file.
    catalogue:
        Indicator catalogue (the built-in one by default; pass ``CATALOGUE.extended(...)`` for a
        trust's own indicators).
    limits:
        Date window and plausibility limits (``[input]`` of the configuration; defaults if None).

    Raises
    ------
    FatalInputError
        When a file cannot be used at all (missing required column, not UTF-8, not CSV or Parquet,
        patient-identifiable column).
    """
    w = read_wards(wards)
    ward_ids = w.wards["ward_id"].to_list()
    rows_read = {str(wards): w.rows_read}
    accepted = {str(wards): w.wards.height}
    rejected = [w.rejected]
    ev = empty_events()
    if events is not None:
        e = read_events(events, ward_ids, w.rejected_ids, limits=limits)
        ev = e.events
        rows_read[str(events)] = e.rows_read
        accepted[str(events)] = e.events.height
        rejected.append(e.rejected)
    o = read_observations(observations, catalogue, ward_ids, w.rejected_ids, limits=limits)
    rows_read[str(observations)] = o.rows_read
    accepted[str(observations)] = o.coded.height
    rejected.append(o.rejected)
    if len(rows_read) == 2 + (events is not None):  # one file given for two roles: counts are merged
        _check_accounting(rows_read, accepted, rejected)
    return LoadResult(
        coded=o.coded,
        wards=w.wards,
        events=ev,
        rejected=pl.concat([r for r in rejected if r.height] or [empty_rejections()]),
        cadence=o.cadence,
        rows_read=rows_read,
        accepted=accepted,
        layout=o.layout,
        notes=o.notes,
    )
