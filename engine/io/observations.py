"""Reading and validating an observations file (long or wide layout, CSV or Parquet).

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

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from engine.coded import CodedObservations
from engine.io import _rules_kernel as rk
from engine.io import parse
from engine.io.encode import Encoded, encode
from engine.io.errors import FatalInputError
from engine.io.files import BAD_FIELDS, LINE, RawTable, check_columns, read_table
from engine.io.ordering import stable_order
from engine.io.rejections import CODE, COLUMN, REASON, REASONS, RULE, empty_rejections, rejected_frame
from engine.io.settings import InputSettings
from signals import CATALOGUE, Catalogue

if TYPE_CHECKING:
    from polars.expr.whenthen import ChainedThen, Then

DENOMINATOR_SUFFIX = "__denominator"
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


#: Validation rules in priority order, as (reason code, column blamed); a rejected row gets its first
#: failing rule. The first ``_N_KEY_RULES`` make a row unusable as a key (no cadence, no duplicates).
_RULES: tuple[tuple[str, str], ...] = (
    ("wrong_field_count", "(row)"),
    ("missing_value", "ward_id"),
    ("missing_value", "period"),
    ("unparseable_date", "period"),
    ("date_out_of_window", "period"),
    ("missing_value", "indicator"),
    ("unknown_indicator", "indicator"),
    ("unknown_ward", "ward_id"),
    ("unknown_status", "status"),
    ("unparseable_number", "numerator"),
    ("unparseable_number", "denominator"),
    ("negative_count", "numerator"),
    ("implausible_value", "numerator"),
    ("missing_denominator", "denominator"),
    ("bad_denominator", "denominator"),
    ("implausible_value", "denominator"),
    ("numerator_exceeds_denominator", "numerator"),
    ("non_integer_count", "numerator"),
    ("not_aligned", "period"),
    ("duplicate", "(row)"),
)
_N_KEY_RULES = 8
#: Status codes of accepted rows (indices into _STATUS).
_OBSERVED, _SUPPRESSED, _UNKNOWN = 0, 1, 2
_STATUS = ("observed", "suppressed", "unknown")


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
    w = encode(long["ward_id"])
    k = encode(long["indicator"], lower=True)
    known_t = np.array([v in catalogue for v in k.values], dtype=bool)
    ind_bits = _indicator_bits(k.values, catalogue)
    ward_bits = np.where(np.array([v == "" for v in w.values], dtype=bool), rk.EMPTY, 0).astype(np.uint8)
    if ward_ids is not None:
        ward_bits |= np.where(w.table(frozenset(ward_ids)), 0, rk.UNKNOWN).astype(np.uint8)
    per = parse.dates(long["period"])
    lo, hi = limits.window()
    period_out = per.valid & ((per.days < _days(lo)) | (per.days > _days(hi)))
    max_num = _numerator_limits(k.values, catalogue, limits)
    num = parse.numbers(long["numerator"])
    if "denominator" in long.columns:
        den = parse.numbers(long["denominator"])
    else:
        none = np.zeros(n, dtype=bool)
        den = parse.Numbers(np.full(n, np.nan), np.ones(n, dtype=bool), none, none)
    # Numerator status: '*' suppressed, empty unknown (a status column may say 'suppressed').
    status = np.zeros(n, dtype=np.int8)
    status[num.empty] = _UNKNOWN
    status[num.star] = _SUPPRESSED
    status_bad = _apply_status_column(long, status)
    x, y = num.values, den.values
    del num

    # Rules 0-13 in one compiled pass; rule < 0 or >= _N_KEY_RULES: the row is usable as a key.
    rule = np.empty(n, dtype=np.int8)
    bad_fields = (
        long[BAD_FIELDS].is_not_null().to_numpy() if BAD_FIELDS in long.columns else np.zeros(0, bool)
    )
    rk.first_failures(
        rule,
        bad_fields,
        w.codes,
        ward_bits,
        per.empty,
        per.valid,
        period_out,
        k.codes,
        ind_bits,
        status,
        status_bad,
        x,
        y,
        den.unparseable,
        max_num,
        float(limits.max_denominator),
    )
    del period_out, status_bad
    del bad_fields
    key_ok = rule.view(np.uint8) >= _N_KEY_RULES  # -1 is 255
    usable = None if key_ok.all() else np.flatnonzero(key_ok)  # None: every row
    del key_ok
    cadence, weekday, misaligned = _cadence(k, per, usable, catalogue)
    ordered, dup = _order(w, k, per, usable, known_t)
    del usable
    bad = rule >= 0
    bad |= misaligned
    bad |= dup
    bad_idx = np.flatnonzero(bad)
    rule_bad = rule[bad_idx].astype(np.int32)
    del rule
    late = rule_bad < 0  # only the last two rules (alignment, duplicates) fail
    rule_bad[late] = np.where(misaligned[bad_idx[late]], len(_RULES) - 2, len(_RULES) - 1)
    del misaligned
    rejected = _rejections(
        long,
        bad_idx,
        rule_bad,
        w,
        k,
        per,
        dup,
        known_t,
        catalogue,
        cadence,
        weekday,
        file,
        layout,
        rejected_ward_ids,
        limits,
        max_num,
    )
    # Accepted rows, sorted by (ward, indicator, period); None: all rows, already in that order.
    if bad_idx.size:
        rows = np.flatnonzero(~bad) if ordered is None else ordered[~bad[ordered]]
    else:
        rows = ordered
    del bad, ordered, long, dup, den  # the raw texts are no longer needed
    if rows is None:  # every row accepted, in order: the parsed arrays become the output in place
        ward_out, ind_out, days_out, status_out = (
            w.codes,
            k.codes,
            per.days.astype(np.int32, copy=False),
            status,
        )
        numerator = x if x.flags.writeable else x.copy()
        denominator = y if y.flags.writeable else y.copy()
        numerator[status != _OBSERVED] = np.nan
        no_exposure = (ind_bits & rk.EXPOSURE) == 0
        if no_exposure.any():
            drop = no_exposure[ind_out]
            n_ignored = int(np.count_nonzero(drop & ~np.isnan(denominator)))
            denominator[drop] = np.nan
            del drop
        else:
            n_ignored = 0
    else:
        ward_out, ind_out, days_out, status_out, numerator, denominator, n_ignored = _gather_accepted(
            rows, w, k, ind_bits, per, status, x, y
        )
    ward_values, ind_values = w.values, k.values
    del status, x, y, rows, w, k, per
    coded = CodedObservations(
        ward_values, ward_out, ind_values, ind_out, days_out, numerator, denominator, _STATUS, status_out
    )
    notes = []
    if n_ignored:
        notes.append(
            f"{n_ignored} denominator(s) ignored: given for indicators without exposure (e.g. manager_changes)"
        )
    used_t = np.bincount(ind_out, minlength=len(ind_values)) > 0
    used = {v for v, u in zip(ind_values, used_t, strict=True) if u}
    return ObservationsRead(
        coded=coded,
        rejected=rejected,
        rows_read=n,
        layout=layout,
        cadence={key: v for key, v in cadence.items() if key in used},
        notes=tuple(notes),
    )


def _gather_accepted(
    rows: np.ndarray,
    w: Encoded,
    k: Encoded,
    ind_bits: np.ndarray,
    per: parse.Dates,
    status: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    """The accepted rows ``rows`` gathered into new output arrays (one compiled pass)."""
    m = rows.size
    ward_out, ind_out = np.empty(m, w.codes.dtype), np.empty(m, k.codes.dtype)
    days_out, status_out = np.empty(m, np.int32), np.empty(m, np.int8)
    numerator, denominator = np.empty(m, np.float64), np.empty(m, np.float64)
    n_ignored = rk.accepted_columns(
        numerator,
        rows,
        False,
        w.codes,
        k.codes,
        ind_bits,
        per.days,
        status,
        x,
        y,
        ward_out,
        ind_out,
        days_out,
        status_out,
        denominator,
    )
    return ward_out, ind_out, days_out, status_out, numerator, denominator, int(n_ignored)


def _indicator_bits(values: list[str], catalogue: Catalogue) -> np.ndarray:
    """Per indicator key: the ``engine.io._rules_kernel`` bits (empty, unknown, exposure, ...)."""
    bits = np.zeros(len(values), dtype=np.uint8)
    for j, v in enumerate(values):
        if v == "":
            bits[j] |= rk.EMPTY
        if v not in catalogue:
            bits[j] |= rk.UNKNOWN
            continue
        ind = catalogue[v]
        bits[j] |= (
            (rk.EXPOSURE if ind.exposure else 0)
            | (rk.PROPORTION if ind.is_proportion else 0)
            | (rk.INTEGER if not ind.fractional else 0)
        )
    return bits


def _days(d: dt.date) -> int:
    """Days since 1970-01-01."""
    return (d - dt.date(1970, 1, 1)).days


def _numerator_limits(values: list[str], catalogue: Catalogue, limits: InputSettings) -> np.ndarray:
    """Plausibility limit of the numerator of each indicator code (by the indicator's family)."""
    out = np.full(len(values), np.inf)
    for j, v in enumerate(values):
        if v in catalogue:
            family = catalogue[v].family
            out[j] = limits.max_measure if family == "measure" else limits.max_count
            if family == "proportion":
                out[j] = limits.max_denominator
    return out


def _apply_status_column(long: pl.DataFrame, status: np.ndarray) -> np.ndarray:
    """Let a ``status`` column override the numerator's own status; return its invalid values.

    ``observed``, ``suppressed`` or ``unknown`` (any case) set the row's status; an empty status
    keeps the numerator's (``*`` suppressed, empty unknown, else observed). Returns ``(N,)`` bool:
    the status is something else (the row is rejected), or an empty array without a status column.
    """
    if "status" not in long.columns or long.schema["status"] == pl.Null:
        return np.zeros(0, dtype=bool)
    col = long["status"]
    if col.dtype == pl.Categorical:
        values, codes = parse.distinct_codes(col)
        texts = pl.DataFrame({"s": values}).select(parse.text("s", pl.String(), lower=True)).to_series()
        if (texts == "").all():
            return np.zeros(0, dtype=bool)
        said = np.append(texts.to_numpy(), "")[codes]
    else:
        distinct = col.unique()
        texts = pl.DataFrame({"s": distinct}).select(parse.text("s", distinct.dtype, lower=True)).to_series()
        if (texts == "").all():
            return np.zeros(0, dtype=bool)
        said = pl.DataFrame({"s": col}).select(parse.text("s", col.dtype, lower=True)).to_series().to_numpy()
    status[said == "observed"] = _OBSERVED
    status[said == "suppressed"] = _SUPPRESSED
    status[said == "unknown"] = _UNKNOWN
    return ~np.isin(said, ["", "observed", "suppressed", "unknown"])


def _order(
    w: Encoded, k: Encoded, per: parse.Dates, usable: np.ndarray | None, known_t: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray]:
    """Usable rows in (ward, indicator, period) order, and ``dup``: several usable rows share a key.

    One integer key ``(ward code, indicator code, day)`` per usable row (``usable``: their indices,
    ``None`` for every row) gives both (codes are ranks of the sorted texts; indicator codes are
    compacted to the known keys so the key stays small). Returns ``order`` (row indices of the usable
    rows, sorted stably; ``None`` when every row is usable and already in order) and ``dup``
    (``(N,)`` bool).
    """
    n = len(per.days)
    if n == 0 or (usable is not None and usable.size == 0):
        return np.zeros(0, dtype=np.int64), np.zeros(n, dtype=bool)
    day0, span = _day_span(per, usable)
    known_rank = np.where(known_t, np.cumsum(known_t) - 1, 0)
    n_ind = max(int(known_t.sum()), 1)
    rows = np.zeros(0, dtype=np.int64) if usable is None else usable
    key = np.empty(n if usable is None else usable.size, dtype=np.int64)
    rk.sort_keys(key, rows, usable is None, w.codes, known_rank, k.codes, per.days, n_ind, span, day0)
    order, dup_u = stable_order(key, span)
    del key
    if usable is None:
        return order, dup_u
    dup = np.zeros(n, dtype=bool)
    dup[usable] = dup_u
    return (usable if order is None else usable[order]), dup


def _day_span(per: parse.Dates, usable: np.ndarray | None) -> tuple[int, int]:
    """First day and number of days spanned by the usable rows (at least one)."""
    day = per.days if usable is None else per.days[usable]
    day0 = int(day.min())
    return day0, int(day.max()) - day0 + 1


def _rejections(
    long: pl.DataFrame,
    bad_idx: np.ndarray,
    rule_bad: np.ndarray,
    w: Encoded,
    k: Encoded,
    per: parse.Dates,
    dup: np.ndarray,
    known_t: np.ndarray,
    catalogue: Catalogue,
    cadence: dict[str, str],
    weekday: dict[str, int],
    file: str,
    layout: str,
    rejected_ward_ids: Collection[str],
    limits: InputSettings,
    max_num: np.ndarray,
) -> pl.DataFrame:
    """Build the rejected-rows frame, computing reason texts on the rejected rows only."""
    if bad_idx.size == 0:
        return empty_rejections()
    sub = long[bad_idx]
    for c in ("denominator", "status", BAD_FIELDS):
        if c not in sub.columns:
            sub = sub.with_columns(pl.lit(None, pl.String).alias(c))
    kb = k.codes[bad_idx]
    period = pl.Series("_period", per.days[bad_idx], dtype=pl.Int32).cast(pl.Date)
    invalid = np.flatnonzero(~per.valid[bad_idx])
    if invalid.size:
        period = period.scatter(invalid, None)
    sub = sub.with_columns(
        pl.Series("_w", w.codes[bad_idx]),
        pl.Series("_k", kb),
        period,
        pl.Series("_ind_known", known_t[kb]),
        pl.Series("_ind_empty", np.array([v == "" for v in k.values], dtype=bool)[kb]),
        pl.Series("_dup", dup[bad_idx]),
        pl.Series("_limit", [f"{v:g}" for v in max_num[kb]], dtype=pl.String),
        pl.Series(RULE, rule_bad),
        w.text(bad_idx).alias("_ward"),
        k.text(bad_idx).alias("_ind"),
    ).with_columns(
        pl.col(RULE)
        .replace_strict(dict(enumerate(c for c, _ in _RULES)), return_dtype=pl.String)
        .alias(CODE),
        pl.col(RULE)
        .replace_strict(dict(enumerate(c for _, c in _RULES)), return_dtype=pl.String)
        .alias(COLUMN),
    )
    unknown = sorted(set(sub.filter(~pl.col("_ind_known") & ~pl.col("_ind_empty"))["_ind"].to_list()))
    suggest = {
        key: (f" (did you mean '{n}'?)" if (n := catalogue.nearest(key)) else " (not in the catalogue)")
        for key in unknown
    }
    sub = sub.with_columns(
        pl.col("_ind").replace_strict(suggest, default="", return_dtype=pl.String).alias("_suggest")
        if suggest
        else pl.lit("").alias("_suggest")
    )
    # Misalignment reasons.
    wd_name = pl.col("_ind").replace_strict(
        {key: _DAYS[v] for key, v in weekday.items()}, default="?", return_dtype=pl.String
    )
    monthly = [key for key, v in cadence.items() if v == "monthly"]
    sub = sub.with_columns(
        pl.when(pl.col("_ind").is_in(monthly))
        .then(
            pl.format(
                "period {} is not the first of a month ('{}' is monthly)", pl.col("_period"), pl.col("_ind")
            )
        )
        .otherwise(
            pl.format(
                "period {} is a {} but '{}' is weekly with periods starting on {}",
                pl.col("_period"),
                pl.col("_period").dt.strftime("%A"),
                pl.col("_ind"),
                wd_name,
            )
        )
        .alias("_aligned_reason")
    )
    # Duplicate groups: every copy is rejected, so all copies are in ``sub``.
    dups = (
        sub.filter(pl.col("_dup"))
        .group_by("_w", "_k", "_period")
        .agg(pl.len().alias("_n"), pl.col(LINE).sort().head(5).cast(pl.String).str.join(", ").alias("_lines"))
    )
    sub = sub.join(dups, on=["_w", "_k", "_period"], how="left", maintain_order="left")
    chain: Then | ChainedThen | None = None
    for i, reason in enumerate(_reasons(rejected_ward_ids, limits)):
        value = pl.lit(reason, pl.String) if isinstance(reason, str) else reason
        cond = pl.col(RULE) == i
        chain = pl.when(cond).then(value) if chain is None else chain.when(cond).then(value)
    sub = sub.with_columns(chain.otherwise(None).alias(REASON))  # type: ignore[union-attr]
    if layout == "wide":  # the wide layout blames the indicator's own column
        sub = sub.with_columns(
            pl.when(pl.col(COLUMN).is_in(["numerator", "indicator"]))
            .then(pl.col("indicator").cast(pl.String))
            .when(pl.col(COLUMN) == "denominator")
            .then(pl.col("indicator").cast(pl.String) + DENOMINATOR_SUFFIX)
            .otherwise(pl.col(COLUMN))
            .alias("_column_label")
        )
    cols = ["ward_id", "period", "indicator", "numerator", "denominator"]
    raw_cols = [*cols, "status"] if "status" in long.columns else cols
    return rejected_frame(sub, file, value_columns=[*cols, "status"], raw_columns=raw_cols)


def _reasons(rejected_ward_ids: Collection[str], limits: InputSettings) -> list[str | pl.Expr]:
    """The reason text of each rule in :data:`_RULES` (expressions over the rejected rows)."""
    lo, hi = limits.window()
    window_txt = f"{lo} to {hi} (set [input] earliest_period / latest_period to change it)"
    max_den = limits.max_denominator
    num_txt, den_txt, ward_txt, ind_txt = (
        _txt("numerator"),
        _txt("denominator"),
        pl.col("_ward"),
        pl.col("_ind"),
    )
    return [
        pl.format(
            "the row has more fields than the header (extra: '{}'): an unquoted comma?", pl.col(BAD_FIELDS)
        ),
        "ward_id is empty",
        "period is empty",
        pl.format(
            "period '{}' is not a date (use YYYY-MM-DD or dd/mm/yyyy with a four-digit year)", _txt("period")
        ),
        pl.format("period {} is outside the accepted window {}", pl.col("_period"), pl.lit(window_txt)),
        "indicator is empty",
        pl.format("unknown indicator '{}'", ind_txt) + pl.col("_suggest"),
        pl.when(ward_txt.is_in(list(rejected_ward_ids)))
        .then(pl.format("ward '{}' was rejected in the ward register", ward_txt))
        .otherwise(pl.format("ward '{}' is not in the ward register", ward_txt)),
        pl.format("status '{}' is not observed, suppressed or unknown", _txt("status")),
        pl.format("numerator '{}' is not a number ('*' = suppressed, empty = unknown)", num_txt),
        pl.format("denominator '{}' is not a number", den_txt),
        pl.format("numerator {} is negative", num_txt),
        pl.format(
            "numerator {} is above the plausible limit {} for indicator '{}' (a typing error? limits: [input])",
            num_txt,
            pl.col("_limit"),
            ind_txt,
        ),
        pl.format("indicator '{}' needs a denominator and it is empty or suppressed", ind_txt),
        pl.format("denominator {} must be greater than zero", den_txt),
        pl.format(
            "denominator {} is above the plausible limit {} (a typing error? limits: [input])",
            den_txt,
            pl.lit(f"{max_den:g}"),
        ),
        pl.format("numerator {} is larger than denominator {} for a proportion", num_txt, den_txt),
        pl.format("numerator {} is not a whole number (indicator '{}' counts events)", num_txt, ind_txt),
        pl.col("_aligned_reason"),
        pl.format(
            "{} rows for ward '{}', period {}, indicator '{}' (lines {}): all copies rejected, never summed",
            pl.col("_n"),
            ward_txt,
            pl.col("_period"),
            ind_txt,
            pl.col("_lines"),
        ),
    ]


def _txt(name: str) -> pl.Expr:
    """A raw column as trimmed text, for reasons (evaluated on rejected rows only)."""
    return pl.col(name).cast(pl.String).fill_null("").str.strip_chars()


_DAYS = ("", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
#: Largest (indicator x day) count table for the tabulated cadence inference (else row by row).
_MAX_TABLE = 1 << 22


def _cadence(
    k: Encoded, per: parse.Dates, usable: np.ndarray | None, catalogue: Catalogue
) -> tuple[dict[str, str], dict[str, int], np.ndarray]:
    """Cadence per indicator, the period weekday (1 = Monday) of each weekly one, and ``misaligned``.

    Counted over the usable rows (``usable``: their indices, ``None`` for every row). Monthly when
    more usable rows fall on the first of a month than on the commonest weekday; weekly otherwise; a
    tie (e.g. a single period) goes to the catalogue's declared cadence. ``misaligned`` (``(N,)``
    bool) marks usable rows off their indicator's grid (monthly: not the first of a month; weekly:
    not on the weekday). Rows are counted per (indicator, day) when that table is small (a few years
    of days), else row by row.
    """
    n, values = len(per.days), k.values
    m = n if usable is None else usable.size
    misaligned = np.zeros(n, dtype=bool)
    if m == 0:
        return {}, {}, misaligned
    day0, span = _day_span(per, usable)
    n_codes = len(values)
    rows = np.zeros(0, dtype=np.int64) if usable is None else usable
    tabulate = n_codes * span <= _MAX_TABLE
    if tabulate:
        by_day = np.zeros(n_codes * span, dtype=np.int64)
        rk.count_cells(by_day, rows, usable is None, m, k.codes, per.days, span, day0)
        first_d, wd_d = _first_and_weekday(np.arange(day0, day0 + span, dtype=np.int64))
        counts = np.zeros((n_codes, 2, 8), dtype=np.int64)
        cells = (
            np.repeat(np.arange(n_codes), span),
            np.tile(first_d.astype(np.int64), n_codes),
            np.tile(wd_d, n_codes),
        )
        np.add.at(counts, cells, by_day)
    else:
        kc, day = (k.codes, per.days) if usable is None else (k.codes[usable], per.days[usable])
        first_r, wd_r = _first_and_weekday(day.astype(np.int64))
        counts = np.bincount((kc.astype(np.int64) * 2 + first_r) * 8 + wd_r, minlength=n_codes * 16).reshape(
            n_codes, 2, 8
        )
    cadence: dict[str, str] = {}
    weekday: dict[str, int] = {}
    for code in np.flatnonzero(counts.sum(axis=(1, 2))):
        key = values[int(code)]
        firsts = int(counts[code, 1].sum())
        by_wd = counts[code].sum(axis=0)
        wd_best = int(np.argmax(by_wd))  # lowest weekday wins a tie
        wd_n = int(by_wd[wd_best])
        if firsts > wd_n or (firsts == wd_n and catalogue[key].cadence == "monthly"):
            cadence[key] = "monthly"
        else:
            cadence[key] = "weekly"
            weekday[key] = wd_best
    monthly = np.array([cadence.get(v) == "monthly" for v in values], dtype=bool)
    wd_k = np.array([weekday.get(v, 0) for v in values], dtype=np.int8)
    if tabulate:
        off = np.where(monthly[:, None], ~first_d[None, :], wd_d[None, :] != wd_k[:, None]).ravel()
        rk.lookup_cells(misaligned, rows, usable is None, m, off, k.codes, per.days, span, day0)
    else:
        mis_u = np.where(monthly[kc], ~first_r, wd_r != wd_k[kc])
        if usable is None:
            return cadence, weekday, mis_u
        misaligned[usable] = mis_u
    return cadence, weekday, misaligned


def _first_and_weekday(days: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For days since 1970-01-01: is it the first of a month (bool), and its ISO weekday (1 = Monday)."""
    d = days.astype("datetime64[D]")
    first = d.astype("datetime64[M]").astype("datetime64[D]") == d
    return first, ((days + 3) % 7 + 1).astype(np.int64)  # 1970-01-01 was a Thursday (4)
