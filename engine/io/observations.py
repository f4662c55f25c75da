"""Reading and validating an observations file (long or wide layout, CSV or Parquet).

This module reads the layouts and assembles the result; the rules are in
``engine.io.observation_rules``, the rejected rows' reasons in ``engine.io.observation_rejections``.

Output: the accepted rows as codes (:class:`engine.coded.CodedObservations`, from which the canonical
observation frame of :data:`engine.panel.OBSERVATION_SCHEMA` is built on demand), and the rejected
rows with file, line, column and reason. Every row read is one or the other.

Layouts
-------
*Long*: columns ``ward_id, period, indicator, numerator[, denominator][, status]``.
*Wide*: columns ``ward_id, period`` then one column per indicator key, with ``<key>__denominator``
beside it when the indicator has exposure (register columns such as ``ward_name`` are ignored; any
other column is taken as an indicator, so a misspelt one is rejected, not lost). Each non-empty (numerator or denominator) cell pair is one
observation (one "row read"); a pair with both cells empty is no observation.

Numerators: ``*`` = suppressed (status ``suppressed``), empty = unknown (status ``unknown``); both are
kept with a null numerator, never zero. An optional ``status`` column saying ``suppressed`` marks an
empty numerator as suppressed (for typed Parquet, where ``*`` cannot be written).

Cadence: inferred per indicator from the accepted rows' periods. Monthly when more rows fall on the
first of a month than on the commonest weekday, weekly otherwise (ties: the catalogue's declared
cadence). Rows off the first of the month (monthly) or off the commonest weekday (weekly) are
rejected as ``not_aligned``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path

import numpy as np
import polars as pl

from engine.coded import CodedObservations
from engine.contract.observations import ROW_STATUS_LABELS
from engine.io import _rules_kernel as rk
from engine.io import parse
from engine.io.errors import FatalInputError
from engine.io.files import BAD_FIELDS, LINE, RawTable, check_columns, read_table
from engine.io.observation_rejections import DENOMINATOR_SUFFIX, observation_rejections
from engine.io.observation_rules import (
    OBSERVED,
    ParsedRows,
    Verdict,
    first_failures,
    judge,
    parse_rows,
)
from engine.io.rejections import REASONS, empty_rejections
from engine.io.settings import InputSettings
from signals import CATALOGUE, Catalogue

#: Ward-register columns a wide export may repeat on every row; they are not indicators.
WIDE_IGNORED = ("ward_name", "provider", "ward_type", "beds")
_KEY_COLUMNS = ("ward_id", "period")


@dataclass(frozen=True)
class ObservationsRead:
    """What :func:`read_observations` found in one file.

    Attributes
    ----------
    coded:
        Accepted rows as codes, sorted by ward_id, indicator, period (:attr:`observations` is the
        same rows as a frame).
    rejected:
        Rejected rows (``engine.io.rejections.REJECT_SCHEMA``).
    rows_read:
        Observations read (long: data rows; wide: non-empty indicator cell pairs).
    layout:
        ``long`` or ``wide``.
    cadence:
        Indicator key -> ``weekly`` or ``monthly`` (indicators with at least one usable period).
    notes:
        Things the user should know that are not rejections (e.g. ignored denominators).
    """

    coded: CodedObservations
    rejected: pl.DataFrame
    rows_read: int
    layout: str
    cadence: dict[str, str]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @cached_property
    def observations(self) -> pl.DataFrame:
        """Accepted rows in ``OBSERVATION_SCHEMA``, sorted by ward_id, indicator, period (built once,
        on first use)."""
        return self.coded.frame()


def read_observations(
    path: str | Path,
    catalogue: Catalogue = CATALOGUE,
    ward_ids: Collection[str] | None = None,
    rejected_ward_ids: Collection[str] = (),
    limits: InputSettings | None = None,
) -> ObservationsRead:
    """Read, parse and validate an observations file.

    Parameters
    ----------
    path:
        CSV or Parquet file, long or wide layout.
    catalogue:
        Known indicators (keys, families, exposure, fractional flags, declared cadence).
    ward_ids:
        Wards in the register; rows for other wards are rejected (``None``: no ward check).
    rejected_ward_ids:
        Ward ids whose register rows were rejected (named as such in the reason).
    limits:
        Date window and plausibility limits (defaults: :class:`engine.io.settings.InputSettings`).

    Raises
    ------
    FatalInputError
        The file cannot be used at all (see :func:`engine.io.files.read_table`).
    """
    table = read_table(path, required=_KEY_COLUMNS, categorical=True)
    file = table.file
    empty = empty_rejections()
    if "indicator" in table.frame.columns or {"numerator", "denominator"} & set(table.frame.columns):
        # A numerator or denominator column means the long layout, whatever else is missing.
        check_columns(table, ("indicator", "numerator"))
        raw, layout = [_long(table.frame)], "long"
    else:
        if not any(
            c not in (*_KEY_COLUMNS, *WIDE_IGNORED, LINE, BAD_FIELDS, "status") for c in table.frame.columns
        ):
            raise FatalInputError(
                table.file,
                "missing required column 'indicator' (long layout: ward_id, period, indicator, numerator, "
                "denominator) and no indicator columns for the wide layout",
            )
        raw, layout = [_wide(table, catalogue)], "wide"
        empty = _empty_wide_rows(table, raw[0])
    del table  # _validate holds the only reference to the raw values (freed early)
    result = _validate(raw, file, layout, catalogue, ward_ids, rejected_ward_ids, limits or InputSettings())
    if layout == "wide" and empty.height:  # a record with no value at all is reported, never dropped
        rejected = pl.concat([result.rejected, empty]).sort("line", maintain_order=True)
        result = replace(result, rejected=rejected, rows_read=result.rows_read + empty.height)
    return result


def _empty_wide_rows(table: RawTable, cells: pl.DataFrame) -> pl.DataFrame:
    """Rejections for the wide layout's records none of whose indicator cells holds a value.

    A wide row is read as one observation per non-empty (numerator, denominator) cell pair; a record
    with every pair empty would otherwise yield nothing and vanish from the accounting.
    """
    lines = table.frame[LINE]
    empty = table.frame.filter(~lines.is_in(cells[LINE].unique().implode()))
    if empty.is_empty():
        return empty_rejections()
    keys = [c for c in empty.columns if not c.startswith("_")]
    return empty.select(
        pl.lit(table.file, pl.String).alias("file"),
        pl.col(LINE).cast(pl.Int64).alias("line"),
        pl.lit("(row)", pl.String).alias("column"),
        pl.lit("", pl.String).alias("value"),
        pl.lit("empty_row", pl.String).alias("code"),
        pl.lit(REASONS["empty_row"], pl.String).alias("reason"),
        pl.concat_str([pl.col(c).cast(pl.String).fill_null("") for c in keys], separator=",").alias("raw"),
    )


def _long(frame: pl.DataFrame) -> pl.DataFrame:
    """The long layout's columns (absent optional columns stay absent: no full-length null columns)."""
    optional = [c for c in ("denominator", "status", BAD_FIELDS) if c in frame.columns]
    # Built from the columns themselves: ``select`` would rechunk (copy) every column to one layout.
    return pl.DataFrame([frame[c] for c in (LINE, "ward_id", "period", "indicator", "numerator", *optional)])


def _wide(table: RawTable, catalogue: Catalogue) -> pl.DataFrame:
    frame = table.frame
    value_cols = [
        c for c in frame.columns if c not in (*_KEY_COLUMNS, *WIDE_IGNORED, LINE, BAD_FIELDS, "status")
    ]
    keys: list[str] = []
    for c in value_cols:
        k = c.removesuffix(DENOMINATOR_SUFFIX)
        if k not in keys:
            keys.append(k)
    # Wide columns share one dtype per key pair; cast to String when the two differ.
    parts = []
    for k in keys:
        den = f"{k}{DENOMINATOR_SUFFIX}"
        num_e = pl.col(k) if k in frame.columns else pl.lit(None, pl.String)
        den_e = pl.col(den) if den in frame.columns else pl.lit(None, pl.String)
        num_dtype = frame.schema[k] if k in frame.columns else pl.String()
        den_dtype = frame.schema[den] if den in frame.columns else pl.String()
        if num_dtype != den_dtype or not (num_dtype.is_numeric() or num_dtype == pl.String):
            num_e, den_e = num_e.cast(pl.String), den_e.cast(pl.String)
        part = frame.select(
            pl.col(LINE),
            pl.col("ward_id").cast(pl.String),
            pl.col("period"),
            pl.lit(k, pl.String).alias("indicator"),
            num_e.alias("numerator"),
            den_e.alias("denominator"),
            pl.lit(None, pl.String).alias("status"),
            pl.col(BAD_FIELDS) if BAD_FIELDS in frame.columns else pl.lit(None, pl.String).alias(BAD_FIELDS),
        )
        empty_num = parse.text("numerator", part.schema["numerator"]) == ""
        empty_den = parse.text("denominator", part.schema["denominator"]) == ""
        parts.append(part.filter(~(empty_num & empty_den)))
    if not parts:
        return pl.DataFrame(
            schema={
                LINE: pl.Int64,
                "ward_id": pl.String,
                "period": pl.String,
                "indicator": pl.String,
                "numerator": pl.String,
                "denominator": pl.String,
                "status": pl.String,
                BAD_FIELDS: pl.String,
            }
        )
    return pl.concat(parts, how="vertical_relaxed")


def _validate(
    raw: list[pl.DataFrame],
    file: str,
    layout: str,
    catalogue: Catalogue,
    ward_ids: Collection[str] | None,
    rejected_ward_ids: Collection[str],
    limits: InputSettings,
) -> ObservationsRead:
    """Parse, check and split the long frame.

    ``raw`` holds the only reference to the long frame (it is popped), so its text columns are freed
    as soon as the rejected rows have been taken from it. Rules are checked in compiled passes over
    integer codes (per-value work is done once per distinct ward id or indicator); reason texts are
    only built for the rejected rows, and the output columns are gathered once.
    """
    long = raw.pop()
    n = long.height
    rows, den_unparseable, status_bad = parse_rows(long, catalogue, limits)
    rule = first_failures(long, rows, den_unparseable, status_bad, ward_ids, limits)
    del den_unparseable, status_bad
    verdict = judge(rows, rule, catalogue)
    del rule
    rejected = observation_rejections(long, rows, verdict, catalogue, file, layout, rejected_ward_ids, limits)
    del long  # the raw texts are no longer needed
    order, cadence = _accepted_order(verdict), verdict.cadence
    del verdict
    coded, n_ignored = _accepted(rows, order)
    del rows, order
    notes = []
    if n_ignored:
        notes.append(
            f"{n_ignored} denominator(s) ignored: given for indicators without exposure (e.g. manager_changes)"
        )
    used_t = np.bincount(coded.indicator_codes, minlength=len(coded.indicator_values)) > 0
    used = {v for v, u in zip(coded.indicator_values, used_t, strict=True) if u}
    return ObservationsRead(
        coded=coded,
        rejected=rejected,
        rows_read=n,
        layout=layout,
        cadence={key: v for key, v in cadence.items() if key in used},
        notes=tuple(notes),
    )


def _accepted_order(verdict: Verdict) -> np.ndarray | None:
    """The accepted rows' indices sorted by (ward, indicator, period); ``None``: every row, in order."""
    if not verdict.bad_idx.size:
        return verdict.ordered
    bad, ordered = verdict.bad, verdict.ordered
    return np.flatnonzero(~bad) if ordered is None else ordered[~bad[ordered]]


def _accepted(rows: ParsedRows, order: np.ndarray | None) -> tuple[CodedObservations, int]:
    """The accepted rows (``order``, see ``_accepted_order``) as codes, and the number of
    denominators ignored (given for indicators without exposure)."""
    if order is None:  # every row accepted, in order: the parsed arrays become the output in place
        columns, n_ignored = _accepted_in_place(rows)
    else:
        columns, n_ignored = _gather_accepted(order, rows)
    ward_out, ind_out, days_out, status_out, numerator, denominator = columns
    coded = CodedObservations(
        rows.wards.values,
        ward_out,
        rows.indicators.values,
        ind_out,
        days_out,
        numerator,
        denominator,
        ROW_STATUS_LABELS,
        status_out,
    )
    return coded, n_ignored


_Columns = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _accepted_in_place(rows: ParsedRows) -> tuple[_Columns, int]:
    """Every row accepted and in order: the parsed arrays are the output columns (numerator NaN
    unless observed; denominators of indicators without exposure dropped and counted)."""
    x, y, status = rows.numerator, rows.denominator, rows.status
    numerator = x if x.flags.writeable else x.copy()
    denominator = y if y.flags.writeable else y.copy()
    numerator[status != OBSERVED] = np.nan
    ind_out = rows.indicators.codes
    no_exposure = (rows.bits & rk.EXPOSURE) == 0
    n_ignored = 0
    if no_exposure.any():
        drop = no_exposure[ind_out]
        n_ignored = int(np.count_nonzero(drop & ~np.isnan(denominator)))
        denominator[drop] = np.nan
    days = rows.periods.days.astype(np.int32, copy=False)
    return (rows.wards.codes, ind_out, days, status, numerator, denominator), n_ignored


def _gather_accepted(order: np.ndarray, rows: ParsedRows) -> tuple[_Columns, int]:
    """The accepted rows ``order`` gathered into new output arrays (one compiled pass)."""
    w, k = rows.wards, rows.indicators
    m = order.size
    ward_out, ind_out = np.empty(m, w.codes.dtype), np.empty(m, k.codes.dtype)
    days_out, status_out = np.empty(m, np.int32), np.empty(m, np.int8)
    numerator, denominator = np.empty(m, np.float64), np.empty(m, np.float64)
    n_ignored = rk.accepted_columns(
        numerator,
        order,
        False,
        w.codes,
        k.codes,
        rows.bits,
        rows.periods.days,
        rows.status,
        rows.numerator,
        rows.denominator,
        ward_out,
        ind_out,
        days_out,
        status_out,
        denominator,
    )
    return (ward_out, ind_out, days_out, status_out, numerator, denominator), int(n_ignored)
