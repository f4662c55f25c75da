"""CSV cells a spreadsheet would run as formulas, made inert (CSV / formula injection).

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a
leading ``'`` (OWASP advice), so a rejected row's ``raw`` text or a user's note cannot become a live
formula when the file is opened in Excel. Only text columns are touched; numbers stay numbers.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

FORMULA_START = r"^[=+\-@\t\r]"


def escape_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every text cell that starts like a formula prefixed with ``'``."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    if not text:
        return frame
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(FORMULA_START))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text
    )


def write_safe_csv(frame: pl.DataFrame, path: str | Path) -> None:
    """Write ``frame`` as CSV with formula-like text cells escaped (see the module docstring)."""
    escape_formulas(frame).write_csv(path)
