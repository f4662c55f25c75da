"""Vectorised parsing of raw values: dates, numbers, text. Parse failures become nulls.

A parse error is found by comparing before and after: a value that was present (non-empty) before
parsing and is null after is unparseable. Typed Parquet columns pass straight through.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from engine.contract.dates import UK_DATE_FORMAT
from engine.io._number_kernel import POW10, parse_views
from engine.io.views import string_views

_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"
#: Date texts accepted: four-digit years only (``01/12/22`` is not read as the year 22). ASCII digits.
_ISO_DATE = r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$"
_UK_DATE = r"^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}$"


def text(name: str, dtype: pl.DataType, *, lower: bool = False) -> pl.Expr:
    """A column as stripped text; empty and null both become ``""``."""
    expr = pl.col(name) if dtype == pl.String else pl.col(name).cast(pl.String)
    expr = expr.fill_null("").str.strip_chars()
    return expr.str.to_lowercase() if lower else expr


def date(name: str, dtype: pl.DataType) -> pl.Expr:
    """Parse a date column: ISO ``YYYY-MM-DD`` or UK ``dd/mm/yyyy`` (four-digit years); null when
    neither matches.

    A ``Date`` column is used as is; a ``Datetime`` column keeps its date part.
    """
    if dtype == pl.Date:
        return pl.col(name)
    if isinstance(dtype, pl.Datetime):
        return pl.col(name).dt.date()
    s = text(name, dtype)
    return pl.coalesce(
        pl.when(s.str.contains(_ISO_DATE)).then(s.str.to_date("%Y-%m-%d", strict=False)),
        pl.when(s.str.contains(_UK_DATE)).then(s.str.to_date(UK_DATE_FORMAT, strict=False)),
    )


def number(name: str, dtype: pl.DataType) -> pl.Expr:
    """Parse a number (``1234``, ``1,234``, ``12.5``, ``1e3``); null when empty, unparseable or
    not finite (``nan``, ``inf`` are not numbers a ward can report)."""
    if dtype.is_numeric():
        v = pl.col(name).cast(pl.Float64)
    else:
        s = text(name, dtype)
        s = pl.when(s.str.contains(_THOUSANDS)).then(s.str.replace_all(",", "", literal=True)).otherwise(s)
        v = s.cast(pl.Float64, strict=False)
    return pl.when(v.is_finite()).then(v).otherwise(None)


@dataclass(frozen=True)
class Numbers:
    """A numerator or denominator column parsed row by row into numpy arrays.

    Attributes
    ----------
    values:
        ``(N,)`` float64, the value of :func:`number`; ``NaN`` where that is null (empty, ``*``,
        unparseable or not finite), so every non-NaN value is finite.
    empty:
        ``(N,)`` bool: no value. Text: null or blank; numeric: null or NaN; other types: null.
    star:
        ``(N,)`` bool: the text is ``*`` (suppressed); always false for typed columns.
    unparseable:
        ``(N,)`` bool: text that is neither blank nor ``*`` and is not a (finite) number; always false
        for typed columns.
    """

    values: np.ndarray
    empty: np.ndarray
    star: np.ndarray
    unparseable: np.ndarray


#: Category ids below this are mapped through a lookup table (4 bytes per id).
_LUT_MAX = 1 << 26


def load_number_kernel() -> None:
    """Load (compile or read from cache) the numerator parser's kernel: one tiny call, for warm-up."""
    parse_views(np.zeros((1, 16), dtype=np.uint8), POW10, np.empty(1), np.ones(1, dtype=bool))


def distinct_codes(col: pl.Series) -> tuple[pl.Series, np.ndarray]:
    """A Categorical column as its distinct values (String, no nulls) and each row's index into them.

    Null rows get index ``len(values)``, so per-value arrays with one extra trailing element (the
    null case) can be gathered with the codes. Observation files are read as Categorical (4 bytes a
    row instead of a string view of 16), and every per-value parse then runs once per distinct value.
    """
    phys = col.to_physical()
    distinct = col.unique().drop_nulls()
    ids = distinct.to_physical().to_numpy().astype(np.int64)
    order = np.argsort(ids)
    ids = ids[order]
    values = distinct.cast(pl.String).gather(pl.Series(order))
    k = len(values)
    raw = phys.to_numpy()  # the category ids (uint32; a float array with NaN when there are nulls)
    nulls = phys.null_count() > 0
    top = int(ids[-1]) if k else 0
    if top < _LUT_MAX:  # ids are small: one int32 lookup table, no 8-byte temporaries per row
        lut = np.full(top + 2, k, dtype=np.int32)
        lut[ids] = np.arange(k, dtype=np.int32)
        idx = np.where(np.isnan(raw), top + 1, raw).astype(np.int64) if nulls else raw
        return values, lut[idx]
    codes = np.searchsorted(ids, np.nan_to_num(raw, nan=0).astype(np.int64) if nulls else raw)
    if nulls:
        codes[np.isnan(raw)] = k
    return values, codes


def numbers(col: pl.Series) -> Numbers:
    """Parse a column like :func:`number`, with the emptiness and ``*`` flags of its raw values.

    Text: short plain decimals are parsed from the Arrow string views by a compiled pass
    (:mod:`engine.io._number_kernel`), else by a plain ``Float64`` cast of the whole column; both give
    :func:`number`'s value for every text they accept (such a text has no surrounding blanks and no
    thousands separator, the only things :func:`number` rewrites first). The few texts they reject
    (``*``, blanks, ``1,234``, words) are parsed by :func:`number` itself.
    """
    n = len(col)
    no = np.zeros(n, dtype=bool)
    if col.dtype == pl.Categorical:
        distinct, codes = distinct_codes(col)
        parsed = numbers(distinct)
        return Numbers(
            np.append(parsed.values, np.nan)[codes],
            np.append(parsed.empty, True)[codes],
            np.append(parsed.star, False)[codes],
            np.append(parsed.unparseable, False)[codes],
        )
    if col.dtype.is_numeric():
        raw = col.cast(pl.Float64).to_numpy()  # null -> NaN
        empty = np.isnan(raw)
        return Numbers(np.where(np.isfinite(raw), raw, np.nan), empty, no, no)
    if col.dtype != pl.String:
        values = pl.DataFrame({"v": col}).select(number("v", col.dtype)).to_series().to_numpy()
        return Numbers(values.astype(np.float64, copy=False), col.is_null().to_numpy(), no, no)
    empty = col.is_null().to_numpy()
    star = np.zeros(n, dtype=bool)
    from_views = _parse_views(col)
    if from_views is not None:
        values, slow = from_views
        slow &= ~empty
        values[empty] = np.nan
        miss = pl.Series(np.flatnonzero(slow))
    else:
        fast = col.cast(pl.Float64, strict=False)
        values = fast.to_numpy()  # null -> NaN
        values = values if values.flags.writeable else values.copy()
        values[~np.isfinite(values)] = np.nan
        miss = (fast.is_null() & col.is_not_null()).arg_true()
    if len(miss):
        idx = miss.to_numpy()
        rest = pl.DataFrame({"v": col.gather(miss)}).select(
            number("v", pl.String()).alias("num"), text("v", pl.String()).alias("t")
        )
        values[idx] = rest["num"].to_numpy()
        empty[idx] = (rest["t"] == "").to_numpy()
        star[idx] = (rest["t"] == "*").to_numpy()
    return Numbers(values, empty, star, np.isnan(values) & ~empty & ~star)


def _parse_views(col: pl.Series) -> tuple[np.ndarray, np.ndarray] | None:
    """Values and "needs the general parser" flags of a String column, from its Arrow string views.

    ``None`` when the column's chunks are not exported as string views (then nothing is parsed).
    """
    chunks = string_views(col)
    if chunks is None:
        return None
    values = np.empty(len(col), dtype=np.float64)
    slow = np.ones(len(col), dtype=bool)
    start = 0
    for views in chunks:
        m = views.shape[0]
        parse_views(views, POW10, values[start : start + m], slow[start : start + m])
        start += m
    return values, slow


@dataclass(frozen=True)
class Dates:
    """A period column parsed like :func:`date`, as numpy arrays.

    Attributes
    ----------
    days:
        ``(N,)`` int32 days since 1970-01-01 (0 where ``valid`` is false).
    valid:
        ``(N,)`` bool: the value is a date.
    empty:
        ``(N,)`` bool: no value (text: null or blank; other types: null).
    """

    days: np.ndarray
    valid: np.ndarray
    empty: np.ndarray


def dates(col: pl.Series) -> Dates:
    """Parse a period column; text is parsed once per distinct value and gathered back by code."""
    if col.dtype == pl.Categorical:
        values, codes = distinct_codes(col)
        sub = dates(values)
        return Dates(
            np.append(sub.days, 0).astype(np.int32)[codes],
            np.append(sub.valid, False)[codes],
            np.append(sub.empty, True)[codes],
        )
    if col.dtype == pl.String and len(col):
        distinct = col.unique().drop_nulls()
        if distinct.len() * 4 <= len(col):
            parsed = pl.DataFrame({"v": distinct}).select(
                date("v", pl.String()).alias("d"), (text("v", pl.String()) == "").alias("e")
            )
            k = distinct.len()
            codes = col.cast(pl.Enum(distinct.to_list())).to_physical().fill_null(k).to_numpy()
            day_tab = np.append(parsed["d"].to_physical().fill_null(0).to_numpy().astype(np.int32), 0)
            ok_tab = np.append(parsed["d"].is_not_null().to_numpy(), False)
            empty_tab = np.append(parsed["e"].to_numpy(), True)
            return Dates(day_tab[codes], ok_tab[codes], empty_tab[codes])
    frame = pl.DataFrame({"v": col}).select(
        date("v", col.dtype).alias("d"),
        (text("v", pl.String()) == "" if col.dtype == pl.String else pl.col("v").is_null()).alias("e"),
    )
    d = frame["d"]
    return Dates(
        d.to_physical().fill_null(0).to_numpy().astype(np.int32, copy=False),
        d.is_not_null().to_numpy(),
        frame["e"].to_numpy(),
    )
