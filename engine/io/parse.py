"""Vectorised parsing of raw values: dates, numbers, text. Parse failures become nulls.

A parse error is found by comparing before and after: a value that was present (non-empty) before
parsing and is null after is unparseable. Typed Parquet columns pass straight through.
"""

from __future__ import annotations

import polars as pl

_THOUSANDS = r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$"


def text(name: str, dtype: pl.DataType, *, lower: bool = False) -> pl.Expr:
    """A column as stripped text; empty and null both become ``""``."""
    expr = pl.col(name) if dtype == pl.String else pl.col(name).cast(pl.String)
    expr = expr.fill_null("").str.strip_chars()
    return expr.str.to_lowercase() if lower else expr


def date(name: str, dtype: pl.DataType) -> pl.Expr:
    """Parse a date column: ISO ``YYYY-MM-DD`` or UK ``dd/mm/yyyy``; null when neither matches.

    A ``Date`` column is used as is; a ``Datetime`` column keeps its date part.
    """
    if dtype == pl.Date:
        return pl.col(name)
    if isinstance(dtype, pl.Datetime):
        return pl.col(name).dt.date()
    s = text(name, dtype)
    return pl.coalesce(
        s.str.to_date("%Y-%m-%d", strict=False),
        s.str.to_date("%d/%m/%Y", strict=False),
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


def number_column(frame: pl.DataFrame, name: str) -> pl.Series:
    """:func:`number` applied to ``frame[name]``, parsing each distinct text once.

    National files repeat a few thousand distinct numerator and denominator texts millions of times,
    so the text rules run on the distinct values and the results are gathered back by code: the same
    values as ``frame.select(number(name, dtype))``, about 3x faster. Columns with many distinct
    values (more than a quarter of the rows) and typed columns use the expression directly.
    """
    col = frame[name]
    if col.dtype != pl.String or frame.height == 0:
        return frame.select(number(name, col.dtype)).to_series()
    distinct = col.unique().drop_nulls()
    if distinct.len() * 4 > frame.height:
        return frame.select(number(name, col.dtype)).to_series()
    parsed = pl.DataFrame({name: distinct}).select(number(name, pl.String())).to_series()
    codes = col.cast(pl.Enum(distinct.to_list())).to_physical()  # null stays null
    return parsed.gather(codes).alias(name)
